package io.reviver.modelstore.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}), as GPT-2, Llama 3 and Qwen2 use it: the text is split by
 * the pre-tokenizer's regex ({@code tokenizer.ggml.pre}), each piece's UTF-8 bytes are mapped to printable
 * characters with GPT-2's byte↔unicode table, and the adjacent pair with the lowest merge rank
 * ({@code tokenizer.ggml.merges} order) is merged until none applies.
 */
final class ByteLevelBpeTokenizer extends VocabularyTokenizer {

    /** Pre-tokenizer regexes by {@code tokenizer.ggml.pre} name. */
    enum PreTokenizer {
        LLAMA_BPE("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
        QWEN2("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
        GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

        final Pattern pattern;

        PreTokenizer(String regex) {
            // UNICODE_CHARACTER_CLASS: \s is Unicode whitespace, as in the Rust/JS regexes these come from
            this.pattern = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        }

        static PreTokenizer of(String name) {
            return switch (name) {
                case "llama-bpe", "llama3", "llama-v3" -> LLAMA_BPE;
                case "qwen2" -> QWEN2;
                case "gpt2", "default" -> GPT2;
                default -> throw new TokenizerException("metadata key 'tokenizer.ggml.pre' = '" + name
                    + "' is not supported (supported: llama-bpe, qwen2, gpt2, default)");
            };
        }
    }

    /** GPT-2's byte → printable character table and its inverse. */
    static final char[] BYTE_TO_CHAR = new char[256];
    static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = printable ? (char) b : (char) (256 + n++);
            CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
        }
    }

    private static final int CACHE_LIMIT = 1 << 16;

    private final PreTokenizer pre;
    /** "left right" → merge rank. */
    private final Map<String, Integer> ranks;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    ByteLevelBpeTokenizer(Vocabulary vocab, String[] merges, String pre) {
        super(vocab);
        this.pre = PreTokenizer.of(pre);
        this.ranks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            int sp = m.indexOf(' ', 1);
            if (sp < 0 || sp == m.length() - 1) {
                throw new TokenizerException("metadata key 'tokenizer.ggml.merges' entry " + i + " = '" + m
                    + "' is not two space-separated symbols");
            }
            String merged = m.substring(0, sp) + m.substring(sp + 1);
            if (!vocab.ids.containsKey(merged)) {
                throw new TokenizerException("metadata key 'tokenizer.ggml.merges' entry " + i + " = '" + m
                    + "' produces '" + merged + "', which is not in the vocabulary");
            }
            ranks.putIfAbsent(m, i);
        }
    }

    @Override
    public int[] encode(String text) {
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        Matcher mt = pre.pattern.matcher(text);
        while (mt.find()) {
            int[] ids = word(mt.group());
            parts.add(ids);
            total += ids.length;
        }
        int[] out = new int[total];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        return vocab.withBos(encode(text), addBos, false);
    }

    /** BPE of one pre-token. */
    private int[] word(String piece) {
        int[] hit = cache.get(piece);
        if (hit != null) {
            return hit;
        }
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        List<String> syms = new ArrayList<>(bytes.length);
        for (byte b : bytes) {
            syms.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        }
        while (syms.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int j = 0; j + 1 < syms.size(); j++) {
                Integer r = ranks.get(syms.get(j) + " " + syms.get(j + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = j;
                }
            }
            if (best < 0) {
                break;
            }
            syms.set(best, syms.get(best) + syms.remove(best + 1));
        }
        int[] ids = new int[bytes.length]; // never more ids than bytes
        int n = 0;
        for (String s : syms) {
            Integer id = vocab.ids.get(s);
            if (id != null) {
                ids[n++] = id;
                continue;
            }
            // a symbol without a token: fall back to its single byte-characters
            for (int k = 0; k < s.length(); k++) {
                Integer b = vocab.ids.get(String.valueOf(s.charAt(k)));
                if (b == null) {
                    throw new TokenizerException("byte symbol '" + s.charAt(k) + "' has no token in 'tokenizer.ggml.tokens'");
                }
                ids[n++] = b;
            }
        }
        ids = java.util.Arrays.copyOf(ids, n);
        if (cache.size() < CACHE_LIMIT) {
            cache.put(piece, ids);
        }
        return ids;
    }

    @Override
    public byte[] tokenBytes(int id) {
        String t = vocab.token(id);
        if (vocab.isControl(id)) {
            return new byte[0];
        }
        if (vocab.types[id] == Vocabulary.TYPE_USER_DEFINED) {
            return t.getBytes(StandardCharsets.UTF_8);
        }
        byte[] b = new byte[t.length()];
        int n = 0;
        for (int i = 0; i < t.length(); i++) {
            Integer v = CHAR_TO_BYTE.get(t.charAt(i));
            if (v == null) { // not a byte-level character: keep the text as is
                return t.getBytes(StandardCharsets.UTF_8);
            }
            b[n++] = (byte) (int) v;
        }
        return b;
    }
}
