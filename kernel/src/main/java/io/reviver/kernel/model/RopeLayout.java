package io.reviver.kernel.model;

/**
 * Which elements of a head form a rotary pair (ggml's {@code rope_type}). Pair {@code i} (for
 * {@code i < ropeDim / 2}) rotates by angle {@code position · invFreq[i]}.
 */
public enum RopeLayout {
    /** Adjacent elements {@code (2i, 2i + 1)}: GGUF llama after llama.cpp's q/k permutation. */
    NORMAL,
    /** Halves {@code (i, i + ropeDim / 2)}: GPT-NeoX style, Hugging Face {@code rotate_half}; Qwen2. */
    NEOX
}
