package io.reviver.modelstore.tokenizer;

import java.util.OptionalInt;

/**
 * Text ↔ token ids for one model's vocabulary. Implementations are immutable and thread-safe.
 *
 * <p>Special tokens (GGUF token type CONTROL = 3) appearing literally in input text are encoded as plain text,
 * not as the special id; callers add BOS through {@link #encode(String, boolean)}. Decoding skips CONTROL tokens.
 */
public interface Tokenizer {

    /** Token ids of {@code text}, without BOS or EOS. */
    int[] encode(String text);

    /**
     * Token ids of {@code text}, with BOS first when {@code addBos} is true and the model asks for it: GGUF's
     * {@code tokenizer.ggml.add_bos_token} when present, otherwise true for {@code llama} (SentencePiece) and
     * false for {@code gpt2} vocabularies.
     */
    int[] encode(String text, boolean addBos);

    /** The text of {@code ids}, skipping CONTROL tokens; invalid UTF-8 becomes U+FFFD. */
    String decode(int[] ids);

    /**
     * The raw bytes token {@code id} contributes to decoded text (UTF-8, possibly a partial character), for
     * streaming output; empty for CONTROL tokens.
     */
    byte[] tokenBytes(int id);

    /** Number of tokens. */
    int vocabSize();

    OptionalInt bosId();

    OptionalInt eosId();

    /** The vocabulary string of token {@code id} as stored in the model. */
    String token(int id);

    /** True for CONTROL tokens such as BOS and EOS. */
    boolean isSpecial(int id);
}
