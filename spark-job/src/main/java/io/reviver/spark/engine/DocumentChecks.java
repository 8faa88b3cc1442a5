package io.reviver.spark.engine;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The checks that turn an unprocessable document into an error row instead of a failed task: strict UTF-8
 * decoding, the size limit and binary content. Every message names what is wrong and, for limits, the key to
 * change. Spark-free and stateless.
 */
public final class DocumentChecks {

    /** Characters inspected by {@link #binary(String)}. */
    static final int BINARY_SAMPLE = 1 << 16;

    private DocumentChecks() {
    }

    /** The error of a document of {@code bytes} bytes over the {@code max} limit. */
    public static String tooLarge(long bytes, long max) {
        return String.format(Locale.ROOT, "document too large: %d bytes, over reviver.max-document-bytes = %d",
            bytes, max);
    }

    /**
     * Decodes strict UTF-8.
     *
     * @throws CharacterCodingException with the message {@code invalid UTF-8 at byte N} (N = offset of the first
     *                                  malformed or unmappable sequence)
     */
    public static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = d.decode(in, out, true);
        if (r.isError()) {
            throw new CharacterCodingException() {
                private static final long serialVersionUID = 1L;

                @Override
                public String getMessage() {
                    return "invalid UTF-8 at byte " + in.position();
                }
            };
        }
        d.flush(out);
        return out.flip().toString();
    }

    /** Bytes of {@code text} as UTF-8, counted without encoding it. */
    public static long utf8Length(String text) {
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /**
     * Whether {@code text} looks like binary data rather than text: it contains a NUL character, or more than 10%
     * of its first {@value #BINARY_SAMPLE} characters are control characters other than tab, line feed, carriage
     * return and form feed.
     *
     * @return the error message, or null when it is text
     */
    public static String binary(String text) {
        int n = Math.min(text.length(), BINARY_SAMPLE);
        int control = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                return "binary document: NUL character at index " + i;
            }
            if (i < n && (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f)) {
                control++;
            }
        }
        if (control * 10L > n) {
            return String.format(Locale.ROOT, "binary document: %d control characters in the first %d", control,
                n);
        }
        return null;
    }
}
