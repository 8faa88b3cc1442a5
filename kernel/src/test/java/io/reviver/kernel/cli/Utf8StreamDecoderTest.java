package io.reviver.kernel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {

    @Test
    void holdsBackSplitCharactersUntilComplete() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // 3 bytes
        byte[] smile = "😀".getBytes(StandardCharsets.UTF_8); // 4 bytes
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("a", d.feed(new byte[] {'a', euro[0]}));
        assertEquals("", d.feed(new byte[] {euro[1]}));
        assertEquals("€b", d.feed(new byte[] {euro[2], 'b', smile[0], smile[1]}));
        assertEquals("😀", d.feed(new byte[] {smile[2], smile[3]}));
        assertEquals("", d.finish());
    }

    @Test
    void malformedAndTruncatedBytesBecomeReplacementCharacters() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        assertEquals("x\uFFFDy", d.feed(new byte[] {'x', (byte) 0x80, 'y'}));
        assertEquals("", d.feed(new byte[] {(byte) 0xE2, (byte) 0x82}));
        assertEquals("\uFFFD", d.finish());
    }
}
