package io.reviver.modelstore.tokenizer;

import io.reviver.modelstore.gguf.GgufMetadata;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The validated vocabulary part of a GGUF tokenizer: token strings, optional scores and types, special ids.
 * Shared by both tokenizer kinds.
 */
final class Vocabulary {
    static final int TYPE_NORMAL = 1;
    static final int TYPE_UNKNOWN = 2;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;
    static final int TYPE_BYTE = 6;

    final String[] tokens;
    /** (vocabSize) SentencePiece scores, or null. */
    final float[] scores;
    /** (vocabSize) GGUF token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
    final int[] types;
    final Map<String, Integer> ids;
    final OptionalInt bos;
    final OptionalInt eos;
    final OptionalInt unknown;
    final Boolean addBos;

    Vocabulary(GgufMetadata m) {
        if (!m.contains("tokenizer.ggml.tokens")) {
            throw new TokenizerException("missing required metadata key 'tokenizer.ggml.tokens'");
        }
        tokens = m.getStringArray("tokenizer.ggml.tokens");
        int n = tokens.length;
        if (n == 0) {
            throw new TokenizerException("metadata key 'tokenizer.ggml.tokens' is empty");
        }
        scores = m.contains("tokenizer.ggml.scores") ? m.getFloatArray("tokenizer.ggml.scores") : null;
        if (scores != null && scores.length != n) {
            throw new TokenizerException("metadata key 'tokenizer.ggml.scores' has " + scores.length
                + " entries but 'tokenizer.ggml.tokens' has " + n);
        }
        types = new int[n];
        if (m.contains("tokenizer.ggml.token_type")) {
            long[] t = m.getLongArray("tokenizer.ggml.token_type");
            if (t.length != n) {
                throw new TokenizerException("metadata key 'tokenizer.ggml.token_type' has " + t.length
                    + " entries but 'tokenizer.ggml.tokens' has " + n);
            }
            for (int i = 0; i < n; i++) {
                types[i] = (int) t[i];
            }
        } else {
            java.util.Arrays.fill(types, TYPE_NORMAL);
        }
        ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            ids.putIfAbsent(tokens[i], i); // first occurrence wins, as in llama.cpp
        }
        bos = optionalId(m, "tokenizer.ggml.bos_token_id", n);
        eos = optionalId(m, "tokenizer.ggml.eos_token_id", n);
        unknown = optionalId(m, "tokenizer.ggml.unknown_token_id", n);
        addBos = m.contains("tokenizer.ggml.add_bos_token") ? m.getBoolean("tokenizer.ggml.add_bos_token", false) : null;
    }

    private static OptionalInt optionalId(GgufMetadata m, String key, int n) {
        if (!m.contains(key)) {
            return OptionalInt.empty();
        }
        long v = m.getLong(key);
        if (v < 0 || v >= n) {
            throw new TokenizerException("metadata key '" + key + "' = " + v + " is outside the vocabulary [0, " + n + ")");
        }
        return OptionalInt.of((int) v);
    }

    String token(int id) {
        if (id < 0 || id >= tokens.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + tokens.length + ")");
        }
        return tokens[id];
    }

    boolean isControl(int id) {
        return types[id] == TYPE_CONTROL;
    }

    int[] withBos(int[] ids, boolean wanted, boolean defaultAddBos) {
        boolean add = wanted && (addBos != null ? addBos : defaultAddBos) && bos.isPresent();
        if (!add) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = bos.getAsInt();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
