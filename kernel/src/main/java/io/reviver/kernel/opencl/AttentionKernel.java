package io.reviver.kernel.opencl;

/**
 * Device body of batched GQA attention over an exact KV block plus optional sketch-reconstructed tokens — ops 1
 * and 4 of {@link io.reviver.kernel.attention.AttentionBackend} (op 1 is op 4 with no sketched tokens). Executed
 * in two passes over the same device buffers:
 *
 * <p><b>Pass 0</b> ({@code pass == 0}, only when there are sketched tokens; one work-group per sketched
 * <em>slot</em>, i.e. sketched token j of pair p at {@code slot = slotOffset[p] + j}): hash the token's position
 * into its {@code depth} row codes, then reconstruct its key and value ({@link #combine}) into
 * {@code reconKeys}/{@code reconValues} — once per slot, shared by the pair's kvMul query heads.
 *
 * <p><b>Pass 1</b> (one work-group per (pair p, query head r), {@code g = p·kvMul + r}; L = local size, a power
 * of two), steps separated by barriers:
 * <ol>
 *   <li>scores {@code scale·q·k_j} of entries strided over the group (exact keys, then reconstructed keys), written
 *       to {@code weights}; the group's max by a tree reduction in local memory;</li>
 *   <li>{@code e_j = exp(score_j − max)} and their sum (tree reduction); {@code weights = e / sum};</li>
 *   <li>items stride over coordinates c: {@code out[g, c] = Σ_j w_j·v_j[c]} (exact entries, then reconstructed
 *       ones).</li>
 * </ol>
 * Dot products and weighted sums use four partial sums ({@link #dot}, {@link #weightedColumn}).
 * Masked entries get the score {@link #MASKED} and weight 0.
 */
final class AttentionKernel extends SketchKernelBase {

    /** Score marking a masked entry (−Float.MAX_VALUE); any real score is larger. */
    static final float MASKED = -3.4028235e38f;

    /** 0 = reconstruct sketched slots, 1 = attention. */
    int pass;
    int kvMul;
    int headSize;
    float scale;
    /** 1 when {@link #valid} holds a mask, 0 when all entries are valid. */
    int useMask;
    int depth;
    int width;
    /** (P, kvMul, headSize) queries. */
    float[] queries = new float[1];
    /** (E, headSize) exact keys and values. */
    float[] keys = new float[1];
    float[] values = new float[1];
    /** (E) 1 = valid entry; read only when useMask == 1. */
    int[] valid = new int[1];
    /** (P) exact block start and length of each pair. */
    int[] blockStart = new int[1];
    int[] blockLength = new int[1];
    /** (P) start of each pair's weight segment (kvMul, blockLength + vagueLength). */
    int[] weightOffset = new int[1];
    /** (S, depth, width, headSize) key and value sketches. */
    float[] keyTables = new float[1];
    float[] valueTables = new float[1];
    /** (S) seeds. */
    int[] seeds = new int[1];
    /** (P) sketch index, first position index and count of sketched tokens of each pair. */
    int[] sketchOf = new int[1];
    int[] vagueStart = new int[1];
    int[] vagueLength = new int[1];
    /** (P) first slot of each pair: prefix sums of vagueLength. */
    int[] slotOffset = new int[1];
    /** (slots) pair of each slot. */
    int[] slotPair = new int[1];
    /** (V) absolute positions of sketched tokens. */
    int[] positions = new int[1];
    /** (slots, depth) scratch: row codes of each slot. */
    int[] codes = new int[1];
    /** (slots, headSize) scratch: reconstructed keys and values of each slot. */
    float[] reconKeys = new float[1];
    float[] reconValues = new float[1];
    /** (total weights) scores, then softmax weights. */
    float[] weights = new float[1];
    /** (P, kvMul, headSize) result. */
    float[] out = new float[1];
    /** (L) per-group reduction scratch. */
    @Local
    float[] partial = new float[1];

    @Override
    public void run() {
        if (pass == 0) {
            reconstructSlot();
        } else {
            attendHead();
        }
    }

    /** Pass 0: row codes, then key and value reconstruction of slot {@code getGroupId(0)}. */
    private void reconstructSlot() {
        int slot = getGroupId(0);
        int lid = getLocalId(0);
        int localSize = getLocalSize(0);
        int p = slotPair[slot];
        int pos = positions[vagueStart[p] + slot - slotOffset[p]];
        int sk = sketchOf[p];
        for (int row = lid; row < depth; row += localSize) {
            codes[slot * depth + row] = rowCode(seeds[sk], sk, row, pos, depth, width, headSize);
        }
        globalBarrier();
        for (int c = lid; c < headSize; c += localSize) {
            reconKeys[slot * headSize + c] = combine(keyTables, codes, slot * depth, depth, c);
            reconValues[slot * headSize + c] = combine(valueTables, codes, slot * depth, depth, c);
        }
    }

    /** Pass 1: attention of query head {@code getGroupId(0)} over exact then reconstructed entries. */
    private void attendHead() {
        int g = getGroupId(0);
        int lid = getLocalId(0);
        int localSize = getLocalSize(0);
        int p = g / kvMul;
        int r = g - p * kvMul;
        int start = blockStart[p];
        int nExact = blockLength[p];
        int n = nExact + vagueLength[p];
        int slot0 = slotOffset[p] - nExact; // entry j ≥ nExact is slot slot0 + j
        int wBase = weightOffset[p] + r * n;
        int qOff = g * headSize;

        // 1. Scores and their max.
        float localMax = MASKED;
        for (int j = lid; j < n; j += localSize) {
            float score = MASKED;
            if (j < nExact) {
                int e = start + j;
                if (useMask == 0 || valid[e] != 0) {
                    score = dot(queries, qOff, keys, e * headSize, headSize) * scale;
                }
            } else {
                score = dot(queries, qOff, reconKeys, (slot0 + j) * headSize, headSize) * scale;
            }
            weights[wBase + j] = score;
            localMax = max(localMax, score);
        }
        partial[lid] = localMax;
        localBarrier();
        for (int stride = localSize / 2; stride > 0; stride = stride / 2) {
            if (lid < stride) {
                partial[lid] = max(partial[lid], partial[lid + stride]);
            }
            localBarrier();
        }
        float groupMax = partial[0];
        localBarrier();

        // 2. exp(score − max), sum, normalise.
        float localSum = 0f;
        for (int j = lid; j < n; j += localSize) {
            float score = weights[wBase + j];
            float e = 0f;
            if (score != MASKED) {
                e = exp(score - groupMax);
            }
            weights[wBase + j] = e;
            localSum += e;
        }
        partial[lid] = localSum;
        localBarrier();
        for (int stride = localSize / 2; stride > 0; stride = stride / 2) {
            if (lid < stride) {
                partial[lid] = partial[lid] + partial[lid + stride];
            }
            localBarrier();
        }
        float sum = partial[0];
        float inv = 0f;
        if (sum > 0f) {
            inv = 1f / sum;
        }
        for (int j = lid; j < n; j += localSize) {
            weights[wBase + j] = weights[wBase + j] * inv;
        }
        globalBarrier();

        // 3. out = Σ_j w_j v_j per coordinate: exact entries, then reconstructed ones.
        for (int c = lid; c < headSize; c += localSize) {
            out[qOff + c] = weightedColumn(weights, wBase, values, start, headSize, c, nExact)
                + weightedColumn(weights, wBase + nExact, reconValues, slot0 + nExact, headSize, c, n - nExact);
        }
    }
}
