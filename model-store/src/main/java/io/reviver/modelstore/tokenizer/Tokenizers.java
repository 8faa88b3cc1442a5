package io.reviver.modelstore.tokenizer;

import io.reviver.modelstore.gguf.GgufMetadata;

/** Builds the {@link Tokenizer} a GGUF file's metadata describes. */
public final class Tokenizers {

    private Tokenizers() {
    }

    /**
     * The tokenizer for {@code tokenizer.ggml.model}: {@code llama} (SentencePiece BPE with scores and byte
     * fallback) or {@code gpt2} (byte-level BPE with merges and the pre-tokenizer named by
     * {@code tokenizer.ggml.pre}: llama-bpe, qwen2, gpt2/default).
     *
     * @throws TokenizerException naming the key and value when the metadata is missing, inconsistent or unsupported
     */
    public static Tokenizer fromGguf(GgufMetadata m) {
        if (!m.contains("tokenizer.ggml.model")) {
            throw new TokenizerException("missing required metadata key 'tokenizer.ggml.model'");
        }
        String model = m.getString("tokenizer.ggml.model");
        Vocabulary vocab = new Vocabulary(m);
        return switch (model) {
            case "llama" -> new SentencePieceBpeTokenizer(vocab, m.getBoolean("tokenizer.ggml.add_space_prefix", true));
            case "gpt2" -> {
                if (!m.contains("tokenizer.ggml.merges")) {
                    throw new TokenizerException("missing required metadata key 'tokenizer.ggml.merges' for tokenizer model 'gpt2'");
                }
                yield new ByteLevelBpeTokenizer(vocab, m.getStringArray("tokenizer.ggml.merges"),
                    m.findString("tokenizer.ggml.pre").orElse("default"));
            }
            default -> throw new TokenizerException("metadata key 'tokenizer.ggml.model' = '" + model
                + "' is not supported (supported: llama, gpt2)");
        };
    }
}
