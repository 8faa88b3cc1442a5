package io.reviver.kernel.model;

import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.modelstore.gguf.GgufTensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The weights of a Llama-family model, bound to a {@link TensorSource} such as an open GGUF file (matrices stay
 * in their file encoding and memory mapping; the file must stay open while the weights are used). Norm weights and biases are
 * dequantised to float[]. Every shape is checked against the {@link LlamaConfig} at load time.
 *
 * <p>The ONE mapping from GGUF tensor names to weights is {@link TensorName}.
 *
 * @param tokenEmbedding (vocabSize, dim)
 * @param layers         (nLayers)
 * @param outputNorm     (dim)
 * @param output         (vocabSize, dim); the same object as tokenEmbedding when the file has no
 *                       {@code output.weight} (tied embeddings)
 * @param ropeFreqs      (ropeDim / 2) frequency divisors from {@code rope_freqs.weight}, or null when absent
 */
public record LlamaWeights(QuantizedMatrix tokenEmbedding, Layer[] layers, float[] outputNorm, QuantizedMatrix output,
                           float[] ropeFreqs) {

    /** Every matrix the forward pass multiplies by (each layer's seven, then the output), in that order. */
    public List<QuantizedMatrix> productMatrices() {
        List<QuantizedMatrix> all = new ArrayList<>();
        for (Layer l : layers) {
            all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.w1(), l.w2(), l.w3()));
        }
        all.add(output);
        return all;
    }

    /**
     * One decoder block. Llama names: wq/wk/wv/wo attention projections, w1 = gate, w3 = up, w2 = down.
     *
     * @param attnNorm (dim)
     * @param wq       (qDim, dim)
     * @param wk       (kvDim, dim)
     * @param wv       (kvDim, dim)
     * @param bq       (qDim) or null
     * @param bk       (kvDim) or null
     * @param bv       (kvDim) or null
     * @param wo       (dim, qDim)
     * @param ffnNorm  (dim)
     * @param w1       (hiddenDim, dim) gate
     * @param w2       (dim, hiddenDim) down
     * @param w3       (hiddenDim, dim) up
     */
    public record Layer(float[] attnNorm, QuantizedMatrix wq, QuantizedMatrix wk, QuantizedMatrix wv,
                        float[] bq, float[] bk, float[] bv, QuantizedMatrix wo, float[] ffnNorm,
                        QuantizedMatrix w1, QuantizedMatrix w2, QuantizedMatrix w3) {
    }

    /** GGUF tensor names (llama.cpp's), with {@code %d} for the block index. */
    public enum TensorName {
        TOKEN_EMBD("token_embd.weight"),
        ROPE_FREQS("rope_freqs.weight"),
        ATTN_NORM("blk.%d.attn_norm.weight"),
        ATTN_Q("blk.%d.attn_q.weight"),
        ATTN_K("blk.%d.attn_k.weight"),
        ATTN_V("blk.%d.attn_v.weight"),
        ATTN_Q_BIAS("blk.%d.attn_q.bias"),
        ATTN_K_BIAS("blk.%d.attn_k.bias"),
        ATTN_V_BIAS("blk.%d.attn_v.bias"),
        ATTN_OUTPUT("blk.%d.attn_output.weight"),
        FFN_NORM("blk.%d.ffn_norm.weight"),
        FFN_GATE("blk.%d.ffn_gate.weight"),
        FFN_UP("blk.%d.ffn_up.weight"),
        FFN_DOWN("blk.%d.ffn_down.weight"),
        OUTPUT_NORM("output_norm.weight"),
        OUTPUT("output.weight");

        private final String pattern;

        TensorName(String pattern) {
            this.pattern = pattern;
        }

        /** The tensor name of a global tensor. */
        public String global() {
            return pattern;
        }

        /** The tensor name in block {@code layer}. */
        public String of(int layer) {
            return String.format(java.util.Locale.ROOT, pattern, layer);
        }
    }

    /**
     * Binds and checks all weights.
     *
     * @param source tensors of the model file (kept open by the caller)
     * @param config configuration parsed from the same file
     * @param ops    used only to dequantise the vector tensors
     * @throws ModelConfigException naming the tensor for a missing tensor or a shape mismatch
     */
    public static LlamaWeights load(TensorSource source, LlamaConfig config, TensorOps ops) {
        int dim = config.dim();
        QuantizedMatrix tokenEmbedding = matrix(source, TensorName.TOKEN_EMBD.global(), config.vocabSize(), dim);
        Layer[] layers = new Layer[config.nLayers()];
        boolean biases = source.find(TensorName.ATTN_Q_BIAS.of(0)).isPresent();
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new Layer(
                vector(source, ops, TensorName.ATTN_NORM.of(l), dim),
                matrix(source, TensorName.ATTN_Q.of(l), config.qDim(), dim),
                matrix(source, TensorName.ATTN_K.of(l), config.kvDim(), dim),
                matrix(source, TensorName.ATTN_V.of(l), config.kvDim(), dim),
                biases ? vector(source, ops, TensorName.ATTN_Q_BIAS.of(l), config.qDim()) : null,
                biases ? vector(source, ops, TensorName.ATTN_K_BIAS.of(l), config.kvDim()) : null,
                biases ? vector(source, ops, TensorName.ATTN_V_BIAS.of(l), config.kvDim()) : null,
                matrix(source, TensorName.ATTN_OUTPUT.of(l), dim, config.qDim()),
                vector(source, ops, TensorName.FFN_NORM.of(l), dim),
                matrix(source, TensorName.FFN_GATE.of(l), config.hiddenDim(), dim),
                matrix(source, TensorName.FFN_DOWN.of(l), dim, config.hiddenDim()),
                matrix(source, TensorName.FFN_UP.of(l), config.hiddenDim(), dim));
        }
        float[] outputNorm = vector(source, ops, TensorName.OUTPUT_NORM.global(), dim);
        QuantizedMatrix output = source.find(TensorName.OUTPUT.global()).isPresent()
            ? matrix(source, TensorName.OUTPUT.global(), config.vocabSize(), dim)
            : tokenEmbedding;
        float[] ropeFreqs = source.find(TensorName.ROPE_FREQS.global()).isPresent()
            ? vector(source, ops, TensorName.ROPE_FREQS.global(), config.ropeDim() / 2)
            : null;
        return new LlamaWeights(tokenEmbedding, layers, outputNorm, output, ropeFreqs);
    }

    /** True when the output projection shares the token embedding. */
    public boolean tiedOutput() {
        return output == tokenEmbedding;
    }

    private static GgufTensorInfo require(TensorSource source, String name) {
        Optional<GgufTensorInfo> info = source.find(name);
        if (info.isEmpty()) {
            throw new ModelConfigException("model file " + source.description() + " lacks tensor '" + name + "'");
        }
        return info.get();
    }

    /** A (rows, cols) matrix: GGUF shape {cols, rows}. */
    private static QuantizedMatrix matrix(TensorSource source, String name, int rows, int cols) {
        GgufTensorInfo info = require(source, name);
        if (info.rank() != 2 || info.dim(0) != cols || info.dim(1) != rows) {
            throw new ModelConfigException("tensor '" + name + "' has GGUF shape " + Arrays.toString(info.shape())
                + ", expected {" + cols + ", " + rows + "}");
        }
        return new QuantizedMatrix(name, info.type(), source.data(info), rows, cols);
    }

    /** A vector of n elements (GGUF shape {n}), dequantised. */
    private static float[] vector(TensorSource source, TensorOps ops, String name, int n) {
        GgufTensorInfo info = require(source, name);
        if (info.rank() != 1 || info.dim(0) != n) {
            throw new ModelConfigException("tensor '" + name + "' has GGUF shape " + Arrays.toString(info.shape())
                + ", expected {" + n + "}");
        }
        float[] out = new float[n];
        ops.dequantizeRow(new QuantizedMatrix(name, info.type(), source.data(info), 1, n), 0, out, 0);
        return out;
    }
}
