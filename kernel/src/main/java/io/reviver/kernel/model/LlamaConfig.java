package io.reviver.kernel.model;

import io.reviver.modelstore.gguf.GgufFormatException;
import io.reviver.modelstore.gguf.GgufMetadata;
import io.reviver.modelstore.gguf.GgufTensorInfo;
import java.util.Locale;

/**
 * Hyper-parameters of a Llama-family decoder, parsed once from GGUF metadata by {@link #fromGguf} and
 * validated; nothing else reads metadata keys. All components are validated in the compact constructor, whose
 * messages name the component (and {@link #fromGguf} names the key).
 *
 * @param architecture  model family ({@code general.architecture})
 * @param dim           residual stream width ({@code <arch>.embedding_length})
 * @param nLayers       decoder blocks ({@code <arch>.block_count})
 * @param hiddenDim     FFN inner width ({@code <arch>.feed_forward_length})
 * @param nHeads        query heads ({@code <arch>.attention.head_count})
 * @param nKvHeads      key/value heads, divides nHeads ({@code <arch>.attention.head_count_kv}, default nHeads)
 * @param headSize      per-head width of q, k and v ({@code <arch>.attention.key_length}, default dim / nHeads;
 *                      {@code value_length} must equal it)
 * @param vocabSize     rows of {@code token_embd.weight}
 * @param contextLength trained context ({@code <arch>.context_length}); the largest position the engine allows
 * @param rmsEps        RMSNorm epsilon ({@code <arch>.attention.layer_norm_rms_epsilon})
 * @param ropeTheta     RoPE base ({@code <arch>.rope.freq_base}, default 10000)
 * @param ropeDim       leading elements of each head that are rotated, even, ≤ headSize
 *                      ({@code <arch>.rope.dimension_count}, default headSize)
 * @param ropeLayout    rotary pair layout (from the architecture)
 * @param ropeScaling   frequency scaling ({@code <arch>.rope.scaling.*})
 */
public record LlamaConfig(Architecture architecture, int dim, int nLayers, int hiddenDim, int nHeads, int nKvHeads,
                          int headSize, int vocabSize, int contextLength, float rmsEps, float ropeTheta, int ropeDim,
                          RopeLayout ropeLayout, RopeScaling ropeScaling) {

    /** Sanity maxima: far above any real model, low enough that products of them fit in an int or long. */
    static final int MAX_DIM = 1 << 16;
    static final int MAX_LAYERS = 1024;
    static final int MAX_HIDDEN = 1 << 20;
    static final int MAX_HEADS = 1024;
    static final int MAX_HEAD_SIZE = 1024;
    static final int MAX_VOCAB = 1 << 22;
    static final int MAX_CONTEXT = 1 << 24;

    public LlamaConfig {
        check("dim", dim, 1, MAX_DIM);
        check("nLayers", nLayers, 1, MAX_LAYERS);
        check("hiddenDim", hiddenDim, 1, MAX_HIDDEN);
        check("nHeads", nHeads, 1, MAX_HEADS);
        check("nKvHeads", nKvHeads, 1, nHeads);
        check("headSize", headSize, 1, MAX_HEAD_SIZE);
        check("vocabSize", vocabSize, 1, MAX_VOCAB);
        check("contextLength", contextLength, 1, MAX_CONTEXT);
        check("ropeDim", ropeDim, 2, headSize);
        if (nHeads % nKvHeads != 0) {
            throw new ModelConfigException("nHeads = " + nHeads + " is not a multiple of nKvHeads = " + nKvHeads);
        }
        if (ropeDim % 2 != 0) {
            throw new ModelConfigException("ropeDim = " + ropeDim + " must be even");
        }
        if (!(rmsEps > 0 && rmsEps < 1)) {
            throw new ModelConfigException("rmsEps = " + rmsEps + " must lie in (0, 1)");
        }
        if (!(ropeTheta > 1) || Float.isInfinite(ropeTheta)) {
            throw new ModelConfigException("ropeTheta = " + ropeTheta + " must be a finite number > 1");
        }
        if (architecture == null || ropeLayout == null || ropeScaling == null) {
            throw new ModelConfigException("architecture, ropeLayout and ropeScaling are required");
        }
    }

    /** Width of all key (or value) heads together: {@code nKvHeads · headSize}. */
    public int kvDim() {
        return nKvHeads * headSize;
    }

    /** Width of all query heads together: {@code nHeads · headSize} (equals dim for most models). */
    public int qDim() {
        return nHeads * headSize;
    }

    /** Query heads per key/value head (GQA group size); head {@code h} reads KV head {@code h / kvMul()}. */
    public int kvMul() {
        return nHeads / nKvHeads;
    }

    /**
     * Parses and validates the configuration.
     *
     * @param metadata       the file's metadata
     * @param tokenEmbedding the {@code token_embd.weight} tensor info (shape {dim, vocabSize}), source of the vocab
     *                       size
     * @throws ModelConfigException   for an unsupported architecture or inconsistent values, naming key and value
     * @throws GgufFormatException    for a missing key or a key of the wrong type
     */
    public static LlamaConfig fromGguf(GgufMetadata metadata, GgufTensorInfo tokenEmbedding) {
        Architecture arch = Architecture.fromGguf(metadata.getString("general.architecture"));
        String p = arch.ggufName() + ".";
        int dim = metadata.getInt(p + "embedding_length", 1, MAX_DIM);
        int nLayers = metadata.getInt(p + "block_count", 1, MAX_LAYERS);
        int hiddenDim = metadata.getInt(p + "feed_forward_length", 1, MAX_HIDDEN);
        int nHeads = metadata.getInt(p + "attention.head_count", 1, MAX_HEADS);
        int nKvHeads = metadata.getInt(p + "attention.head_count_kv", 1, MAX_HEADS, nHeads);
        if (nHeads % nKvHeads != 0) {
            throw new ModelConfigException("metadata key '" + p + "attention.head_count' = " + nHeads
                + " is not a multiple of '" + p + "attention.head_count_kv' = " + nKvHeads);
        }
        String keyLength = p + "attention.key_length";
        int headSize;
        if (metadata.contains(keyLength)) {
            headSize = metadata.getInt(keyLength, 1, MAX_HEAD_SIZE);
        } else {
            if (dim % nHeads != 0) {
                throw new ModelConfigException("metadata key '" + p + "embedding_length' = " + dim
                    + " is not a multiple of '" + p + "attention.head_count' = " + nHeads
                    + " (and '" + keyLength + "' is absent)");
            }
            headSize = dim / nHeads;
        }
        int valueLength = metadata.getInt(p + "attention.value_length", 1, MAX_HEAD_SIZE, headSize);
        if (valueLength != headSize) {
            throw new ModelConfigException("metadata key '" + p + "attention.value_length' = " + valueLength
                + " differs from the key length " + headSize + "; unequal key/value head sizes are not supported");
        }
        int contextLength = metadata.getInt(p + "context_length", 1, MAX_CONTEXT);
        String epsKey = p + "attention.layer_norm_rms_epsilon";
        float eps = (float) metadata.getDouble(epsKey);
        if (!(eps > 0 && eps < 1)) {
            throw new ModelConfigException("metadata key '" + epsKey + "' = " + eps + " must lie in (0, 1)");
        }
        String thetaKey = p + "rope.freq_base";
        float theta = (float) metadata.getDouble(thetaKey, 10000.0);
        if (!(theta > 1) || Float.isInfinite(theta)) {
            throw new ModelConfigException("metadata key '" + thetaKey + "' = " + theta + " must be a finite number > 1");
        }
        String ropeDimKey = p + "rope.dimension_count";
        int ropeDim = metadata.getInt(ropeDimKey, 2, headSize, headSize);
        if (ropeDim % 2 != 0) {
            throw new ModelConfigException("metadata key '" + ropeDimKey + "' = " + ropeDim + " must be even");
        }
        RopeScaling scaling = parseScaling(metadata, p);

        if (tokenEmbedding.rank() != 2 || tokenEmbedding.dim(0) != dim) {
            throw new ModelConfigException("tensor '" + tokenEmbedding.name() + "' has shape "
                + java.util.Arrays.toString(tokenEmbedding.shape()) + ", expected {" + dim + ", vocabSize}");
        }
        long vocab = tokenEmbedding.dim(1);
        if (vocab < 1 || vocab > MAX_VOCAB) {
            throw new ModelConfigException("tensor '" + tokenEmbedding.name() + "' implies vocabulary size " + vocab
                + ", outside [1, " + MAX_VOCAB + "]");
        }
        return new LlamaConfig(arch, dim, nLayers, hiddenDim, nHeads, nKvHeads, headSize, (int) vocab,
            contextLength, eps, theta, ropeDim, arch.ropeLayout(), scaling);
    }

    private static RopeScaling parseScaling(GgufMetadata metadata, String p) {
        String typeKey = p + "rope.scaling.type";
        String type = metadata.findString(typeKey).orElse("none").toLowerCase(Locale.ROOT);
        String factorKey = p + "rope.scaling.factor";
        double factor = metadata.getDouble(factorKey, 1.0);
        switch (type) {
            case "none":
                return RopeScaling.NONE;
            case "linear":
            case "llama3":
                if (!(factor >= 1) || Double.isInfinite(factor)) {
                    throw new ModelConfigException("metadata key '" + factorKey + "' = " + factor
                        + " must be a finite number ≥ 1 for rope scaling type '" + type + "'");
                }
                if (type.equals("linear")) {
                    return new RopeScaling(RopeScaling.Type.LINEAR, factor, 1, 4, 8192);
                }
                String lowKey = p + "rope.scaling.low_freq_factor";
                String highKey = p + "rope.scaling.high_freq_factor";
                String origKey = p + "rope.scaling.original_context_length";
                double low = metadata.getDouble(lowKey, 1.0);
                double high = metadata.getDouble(highKey, 4.0);
                int orig = metadata.getInt(origKey, 1, MAX_CONTEXT, 8192);
                if (!(low > 0 && high > low)) {
                    throw new ModelConfigException("metadata keys '" + lowKey + "' = " + low + " and '" + highKey
                        + "' = " + high + " must satisfy 0 < low < high");
                }
                return new RopeScaling(RopeScaling.Type.LLAMA3, factor, low, high, orig);
            default:
                throw new ModelConfigException("metadata key '" + typeKey + "' = '" + type
                    + "' is not supported; supported: none, linear, llama3");
        }
    }

    private static void check(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ModelConfigException(name + " = " + value + " is out of range [" + min + ", " + max + "]");
        }
    }
}
