package io.reviver.kernel.eval;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Minimal JSON for the harness: parses one object's top-level members (the sample corpus's JSONL lines): strings
 * are unescaped, other values (numbers, literals, nested arrays and objects) are returned as their raw text; and
 * quotes strings for the JSON the harness writes.
 */
public final class FlatJson {

    private FlatJson() {
    }

    /**
     * Parses {@code {"k": "v", ...}}; non-string values are returned as their literal text.
     *
     * @throws IllegalArgumentException naming the offset of malformed input
     */
    public static Map<String, String> parseObject(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        int[] i = {skip(s, 0)};
        expect(s, i, '{');
        i[0] = skip(s, i[0]);
        if (peek(s, i[0]) == '}') {
            return out;
        }
        while (true) {
            i[0] = skip(s, i[0]);
            String key = string(s, i);
            i[0] = skip(s, i[0]);
            expect(s, i, ':');
            i[0] = skip(s, i[0]);
            String value;
            if (peek(s, i[0]) == '"') {
                value = string(s, i);
            } else if (peek(s, i[0]) == '[' || peek(s, i[0]) == '{') {
                int start = i[0];
                skipNested(s, i);
                value = s.substring(start, i[0]); // nested values are returned as their raw JSON text
            } else {
                int start = i[0];
                while (i[0] < s.length() && ",} \t\r\n".indexOf(s.charAt(i[0])) < 0) {
                    i[0]++;
                }
                value = s.substring(start, i[0]);
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("unsupported JSON value at offset " + start);
                }
            }
            out.put(key, value);
            i[0] = skip(s, i[0]);
            char c = peek(s, i[0]);
            i[0]++;
            if (c == '}') {
                return out;
            }
            if (c != ',') {
                throw new IllegalArgumentException("expected ',' or '}' at offset " + (i[0] - 1));
            }
        }
    }

    /** Skips a nested array or object (strings inside may hold brackets). */
    private static void skipNested(String s, int[] i) {
        int depth = 0;
        do {
            char c = peek(s, i[0]);
            if (c == '"') {
                string(s, i);
                continue;
            }
            if (c == '[' || c == '{') {
                depth++;
            } else if (c == ']' || c == '}') {
                depth--;
            }
            i[0]++;
        } while (depth > 0);
    }

    /** The JSON string literal of {@code s}. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static char peek(String s, int i) {
        if (i >= s.length()) {
            throw new IllegalArgumentException("unexpected end of JSON at offset " + i);
        }
        return s.charAt(i);
    }

    private static int skip(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static void expect(String s, int[] i, char c) {
        if (peek(s, i[0]) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at offset " + i[0]);
        }
        i[0]++;
    }

    private static String string(String s, int[] i) {
        expect(s, i, '"');
        StringBuilder b = new StringBuilder();
        while (true) {
            char c = peek(s, i[0]++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = peek(s, i[0]++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (i[0] + 4 > s.length()) {
                        throw new IllegalArgumentException("truncated \\u escape at offset " + i[0]);
                    }
                    b.append((char) Integer.parseInt(s.substring(i[0], i[0] + 4), 16));
                    i[0] += 4;
                }
                default -> throw new IllegalArgumentException("bad escape \\" + e + " at offset " + (i[0] - 1));
            }
        }
    }
}
