package io.reviver.kernel.cli;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token byte strings into text without ever splitting a UTF-8 character: bytes of an
 * incomplete sequence are held back until the next token completes it; malformed bytes become U+FFFD.
 * Not thread-safe.
 */
public final class Utf8StreamDecoder {

    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPLACE)
        .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(64); // bytes not yet decoded, in read mode after flip

    public Utf8StreamDecoder() {
        pending.flip();
    }

    /** Appends {@code bytes} and returns every character that is now complete. */
    public String feed(byte[] bytes) {
        ByteBuffer in = ByteBuffer.allocate(pending.remaining() + bytes.length);
        in.put(pending).put(bytes).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining() + 2);
        decoder.decode(in, out, false);
        pending = in.slice();
        return out.flip().toString();
    }

    /** Ends the stream: a trailing incomplete sequence becomes U+FFFD. */
    public String finish() {
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 4);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        decoder.reset();
        pending = ByteBuffer.allocate(0);
        return out.flip().toString();
    }
}
