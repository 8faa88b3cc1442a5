package io.reviver.kernel.attention;

/**
 * One batch of grouped-query attention problems over exact keys and values, as flat arrays.
 *
 * <p>A <em>pair</em> {@code p ∈ [0, pairs)} is one (sequence, KV head) — or, in prefill, one (token, KV head)
 * — with {@code kvMul} query heads that share its KV block. Pair {@code p} attends to the entries
 * {@code [blockStart[p], blockStart[p] + blockLength[p])} of {@code keys}/{@code values}; several pairs may share
 * entries (prefill: every token of a sequence points at the same block with its causal length
 * {@code startPos + t + 1}). An entry {@code e} with {@code valid[e] == 0} takes no part in any softmax (weight 0).
 *
 * @param pairs       number of pairs P ≥ 1
 * @param kvMul       query heads per KV head (GQA ratio nHeads / nKvHeads) ≥ 1
 * @param headSize    head dimension ≥ 1
 * @param scale       score scale, usually {@code 1 / sqrt(headSize)}; finite
 * @param queries     (P, kvMul, headSize): query of head {@code r} of pair {@code p} at {@code (p·kvMul + r)·headSize}
 * @param keys        (E, headSize) row-major, E = {@code keys.length / headSize} entries
 * @param values      (E, headSize) row-major, same length as keys
 * @param blockStart  (P) first entry of each pair's block
 * @param blockLength (P) number of entries of each pair's block, ≥ 0
 * @param valid       (E) 1 = entry takes part, 0 = masked; null = all entries valid
 */
public record AttentionBatch(int pairs, int kvMul, int headSize, float scale, float[] queries, float[] keys,
                             float[] values, int[] blockStart, int[] blockLength, int[] valid) {

    public AttentionBatch {
        if (pairs < 1 || kvMul < 1 || headSize < 1) {
            throw new IllegalArgumentException("pairs, kvMul and headSize must be ≥ 1, got " + pairs + ", " + kvMul
                + ", " + headSize);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be finite, got " + scale);
        }
        if (queries == null || keys == null || values == null || blockStart == null || blockLength == null) {
            throw new IllegalArgumentException("queries, keys, values, blockStart and blockLength must not be null");
        }
        if (queries.length < (long) pairs * kvMul * headSize) {
            throw new IllegalArgumentException("queries has " + queries.length + " floats, need (pairs, kvMul, "
                + "headSize) = " + (long) pairs * kvMul * headSize);
        }
        if (keys.length % headSize != 0 || values.length != keys.length) {
            throw new IllegalArgumentException("keys (" + keys.length + ") and values (" + values.length
                + ") must both be (entries, headSize = " + headSize + ")");
        }
        int entries = keys.length / headSize;
        if (blockStart.length < pairs || blockLength.length < pairs) {
            throw new IllegalArgumentException("blockStart and blockLength need one value per pair (" + pairs + ")");
        }
        for (int p = 0; p < pairs; p++) {
            if (blockStart[p] < 0 || blockLength[p] < 0 || (long) blockStart[p] + blockLength[p] > entries) {
                throw new IllegalArgumentException("pair " + p + ": block [" + blockStart[p] + ", +" + blockLength[p]
                    + ") outside the " + entries + " entries");
            }
        }
        if (valid != null && valid.length < entries) {
            throw new IllegalArgumentException("valid has " + valid.length + " flags for " + entries + " entries");
        }
    }

    /** Number of (key, value) entries E. */
    public int entries() {
        return keys.length / headSize;
    }

    /** Length of the output {@code (P, kvMul, headSize)}. */
    public int outputLength() {
        return pairs * kvMul * headSize;
    }

    /**
     * Offsets of each pair's segment in the weights output of {@link AttentionBackend#attend}: (P + 1) values,
     * pair {@code p}'s weights are (kvMul, blockLength[p]) from {@code offsets[p]}; {@code offsets[P]} is the total.
     */
    public int[] weightOffsets() {
        return weightOffsets(null);
    }

    /**
     * Like {@link #weightOffsets()} with {@code extra[p]} more entries per pair (the sketch-reconstructed tokens of
     * {@link AttentionBackend#attendWithSketch}); segment of pair {@code p} is (kvMul, blockLength[p] + extra[p]).
     */
    public int[] weightOffsets(int[] extra) {
        int[] off = new int[pairs + 1];
        long total = 0;
        for (int p = 0; p < pairs; p++) {
            off[p] = (int) total;
            total += (long) kvMul * (blockLength[p] + (extra == null ? 0 : extra[p]));
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("attention weights exceed 2³¹ floats; split the batch");
            }
        }
        off[pairs] = (int) total;
        return off;
    }

    /** Checks an output array {@code out} (P, kvMul, headSize) and an optional weights array of {@code need} floats. */
    public void checkOutputs(float[] out, float[] weights, int need) {
        if (out == null || out.length < outputLength()) {
            throw new IllegalArgumentException("out must hold (pairs, kvMul, headSize) = " + outputLength()
                + " floats, got " + (out == null ? "null" : out.length));
        }
        if (weights != null && weights.length < need) {
            throw new IllegalArgumentException("weights must hold " + need + " floats, got " + weights.length);
        }
    }
}
