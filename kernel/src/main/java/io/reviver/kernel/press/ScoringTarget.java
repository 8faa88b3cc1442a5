package io.reviver.kernel.press;

/** A cache a press's scoring pass can run on: it re-reads the context and scores it, then rolls back. */
public interface ScoringTarget {

    /** The sequence's context (shape, prompt length, seed). */
    PressContext context();

    /**
     * Starts a MAX scoring pass that scores the entries at positions {@code [from, to)} and accepts appends up to
     * {@code capacity} positions (the model's context length).
     */
    void beginScoringPass(int from, int to, int capacity);

    /** Ends a scoring pass: drops what it appended (positions ≥ the prompt length). */
    void endScoringPass();
}
