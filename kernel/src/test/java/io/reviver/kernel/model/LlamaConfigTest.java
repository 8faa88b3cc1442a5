package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.modelstore.ModelStoreException;
import io.reviver.modelstore.gguf.GgmlType;
import io.reviver.modelstore.gguf.GgufMetadata;
import io.reviver.modelstore.gguf.GgufTensorInfo;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {

    private static GgufTensorInfo embd(long dim, long vocab) {
        return new GgufTensorInfo("token_embd.weight", new long[] {dim, vocab}, GgmlType.F32, 0, dim * vocab * 4);
    }

    /** A valid qwen2-like metadata set; {@code edit} may change it. */
    private static GgufMetadata metadata(String arch, Consumer<GgufMetadata.Builder> edit) {
        GgufMetadata.Builder b = GgufMetadata.builder()
            .putString("general.architecture", arch)
            .putUint32(arch + ".embedding_length", 64)
            .putUint32(arch + ".block_count", 2)
            .putUint32(arch + ".feed_forward_length", 160)
            .putUint32(arch + ".attention.head_count", 8)
            .putUint32(arch + ".attention.head_count_kv", 2)
            .putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f)
            .putUint32(arch + ".context_length", 4096)
            .putFloat32(arch + ".rope.freq_base", 1e6f);
        edit.accept(b);
        return b.build();
    }

    @Test
    void parsesQwen2WithDefaults() {
        LlamaConfig c = LlamaConfig.fromGguf(metadata("qwen2", b -> { }), embd(64, 300));
        assertEquals(Architecture.QWEN2, c.architecture());
        assertEquals(RopeLayout.NEOX, c.ropeLayout());
        assertEquals(64, c.dim());
        assertEquals(8, c.headSize());
        assertEquals(8, c.ropeDim());
        assertEquals(16, c.kvDim());
        assertEquals(4, c.kvMul());
        assertEquals(300, c.vocabSize());
        assertEquals(1e-6f, c.rmsEps());
        assertEquals(RopeScaling.Type.NONE, c.ropeScaling().type());
    }

    @Test
    void llamaUsesAdjacentPairsAndReadsLlama3Scaling() {
        LlamaConfig c = LlamaConfig.fromGguf(metadata("llama", b -> b
            .putString("llama.rope.scaling.type", "llama3")
            .putFloat32("llama.rope.scaling.factor", 8)
            .putUint32("llama.rope.scaling.original_context_length", 64)), embd(64, 10));
        assertEquals(RopeLayout.NORMAL, c.ropeLayout());
        assertEquals(new RopeScaling(RopeScaling.Type.LLAMA3, 8, 1, 4, 64), c.ropeScaling());
    }

    @Test
    void llama3DivisorsMatchTheThreeRegimes() {
        // theta 10000, ropeDim 8: base frequencies 1, 0.1, 0.01, 0.001 → wavelengths 2π, 62.8, 628, 6283.
        // originalContextLength 1000, low 1, high 4: keep below 250, divide by the factor above 1000, blend between.
        RopeScaling s = new RopeScaling(RopeScaling.Type.LLAMA3, 8, 1, 4, 1000);
        double[] d = s.divisors(Rope.baseInverseFrequencies(10000, 8));
        assertEquals(1.0, d[0], 1e-12);
        assertEquals(1.0, d[1], 1e-12);
        double smooth = (1000 / (2 * Math.PI / 0.01) - 1) / (4 - 1);
        assertEquals(1 / ((1 - smooth) / 8 + smooth), d[2], 1e-12);
        assertEquals(8.0, d[3], 1e-12);
    }

    private static void assertRejected(GgufMetadata md, GgufTensorInfo embd, String... fragments) {
        ModelStoreException e = assertThrows(ModelStoreException.class, () -> LlamaConfig.fromGguf(md, embd));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void rejectsBadValuesNamingKeyAndValue() {
        assertRejected(metadata("gpt2", b -> { }), embd(64, 10), "general.architecture", "gpt2", "llama");
        assertRejected(metadata("llama", b -> b.putUint32("llama.attention.head_count_kv", 3)), embd(64, 10),
            "head_count_kv", "3");
        assertRejected(metadata("llama", b -> b.putUint32("llama.attention.head_count", 7)
            .putUint32("llama.attention.head_count_kv", 7)), embd(64, 10), "embedding_length", "64", "7");
        assertRejected(metadata("llama", b -> b.putUint32("llama.block_count", 0)), embd(64, 10),
            "llama.block_count", "0");
        assertRejected(metadata("llama", b -> b.putFloat32("llama.attention.layer_norm_rms_epsilon", 0f)),
            embd(64, 10), "layer_norm_rms_epsilon");
        assertRejected(metadata("llama", b -> b.putUint32("llama.rope.dimension_count", 7)), embd(64, 10),
            "rope.dimension_count", "7");
        assertRejected(metadata("llama", b -> b.putString("llama.rope.scaling.type", "yarn")), embd(64, 10),
            "rope.scaling.type", "yarn");
        assertRejected(metadata("llama", b -> b.putUint32("llama.attention.value_length", 16)), embd(64, 10),
            "value_length", "16");
        assertRejected(metadata("llama", b -> { }), embd(32, 10), "token_embd.weight", "64");
        assertRejected(metadata("llama", b -> b.putString("llama.context_length", "long")), embd(64, 10),
            "llama.context_length");
        GgufMetadata missing = GgufMetadata.builder().putString("general.architecture", "mistral").build();
        assertRejected(missing, embd(64, 10), "mistral.embedding_length");
    }

    @Test
    void ropeRotatesTheRightPairs() {
        LlamaConfig normal = LlamaConfig.fromGguf(metadata("llama", b -> b
            .putUint32("llama.attention.head_count", 16).putUint32("llama.attention.head_count_kv", 16)
            .putUint32("llama.rope.dimension_count", 2)), embd(64, 10));
        // headSize 4, only the first pair rotates (ropeDim 2); position 1, invFreq[0] = 1 → angle 1 rad
        Rope rope = new Rope(normal, null);
        float[] cos = new float[1];
        float[] sin = new float[1];
        rope.angles(1, cos, sin);
        float[] v = {1, 0, 5, 6};
        rope.rotate(v, 0, 1, 4, cos, sin);
        assertArrayEquals(new float[] {(float) Math.cos(1), (float) Math.sin(1), 5, 6}, v, 1e-6f);

        LlamaConfig neox = LlamaConfig.fromGguf(metadata("qwen2", b -> b
            .putUint32("qwen2.attention.head_count", 16).putUint32("qwen2.attention.head_count_kv", 16)), embd(64, 10));
        Rope r2 = new Rope(neox, new float[] {1, 2}); // second pair's frequency divided by 2
        float[] c2 = new float[2];
        float[] s2 = new float[2];
        r2.angles(2, c2, s2);
        // pairs (0, 2) and (1, 3); invFreq = {1, 1e6^(-1/2) / 2}
        double a1 = 2 * Math.pow(1e6, -0.5) / 2;
        float[] w = {1, 1, 0, 0};
        r2.rotate(w, 0, 1, 4, c2, s2);
        assertArrayEquals(new float[] {(float) Math.cos(2), (float) Math.cos(a1), (float) Math.sin(2),
            (float) Math.sin(a1)}, w, 1e-6f);
    }
}
