package io.reviver.kernel.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The Llama-family architectures this engine runs, by their GGUF {@code general.architecture} name. They share
 * one decoder (RMSNorm, GQA attention with RoPE, SwiGLU FFN) and differ in RoPE layout and optional biases.
 */
public enum Architecture {
    /** Llama 1/2/3; GGUF q/k weights are permuted by llama.cpp's converter so RoPE pairs are adjacent. */
    LLAMA("llama", RopeLayout.NORMAL),
    /** Qwen2: q/k/v biases, rotary pairs are the two halves of each head (NEOX). */
    QWEN2("qwen2", RopeLayout.NEOX),
    /** Mistral under its own architecture name; same tensors and RoPE layout as llama. */
    MISTRAL("mistral", RopeLayout.NORMAL);

    private final String ggufName;
    private final RopeLayout ropeLayout;

    Architecture(String ggufName, RopeLayout ropeLayout) {
        this.ggufName = ggufName;
        this.ropeLayout = ropeLayout;
    }

    /** The name used in {@code general.architecture} and as the metadata key prefix. */
    public String ggufName() {
        return ggufName;
    }

    /** How rotary pairs are laid out within a head for this architecture's GGUF weights. */
    public RopeLayout ropeLayout() {
        return ropeLayout;
    }

    /**
     * The architecture named {@code name}.
     *
     * @throws ModelConfigException naming the value and the supported ones
     */
    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name.toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        throw new ModelConfigException("metadata key 'general.architecture' = '" + name + "' is not supported; "
            + "supported: " + Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", ")));
    }
}
