package io.reviver.kernel.attention;

/**
 * Attention and KVReviver Count-Sketch operations on flat float arrays: the seam between the decoder / KV
 * compression and a compute backend. {@link JavaAttentionBackend} is the reference (and test oracle);
 * {@code io.reviver.kernel.opencl.OpenClAttentionBackend} runs the same ops as OpenCL kernels.
 *
 * <p>Instances are <b>not thread-safe</b>: use one per thread (or a pool), or hold the instance's monitor around
 * each call, as {@code LlamaModel} and {@code CountSketch} do (one instance per KV head serves every sequence of a
 * model, and sequences may run forward passes concurrently). They reuse internal buffers across calls and release
 * device resources in {@link #close()}. Every op validates its arguments and throws
 * {@link IllegalArgumentException} naming the bad one.
 *
 * <p>Tolerances of a backend against the reference (what the equivalence tests assert):
 * <ul>
 *   <li>{@link #sketchInsert} (both modes), {@link #sketchReconstruct} SIGNED: bit-for-bit equal tables, counts
 *       and values (integer hashes; the same additions in the same order; the median is a selection);</li>
 *   <li>{@link #sketchReconstruct} MEAN: {@code |out − ref| ≤ (depth + 3) · 2⁻²⁴ · max_j |T_j[c] / n_j|} per
 *       coordinate, relative to the largest bucket mean the rows combine: the kernel divides and sums
 *       {@code depth} float quotients in row order (partial sums of at most k·max for k rows, each add rounded),
 *       divides by depth and rounds, the reference accumulates in double and rounds once. Depth 1 is bit-equal (a
 *       correctly rounded float division equals the double quotient rounded to float). Measured on PoCL (heads of
 *       64/128 floats, depth 1/3/5, 1..4096 tokens, see {@code SketchModeEquivalenceTest}): worst 2.1e-7 · max
 *       (3.5 · 2⁻²⁴) at depth 5, a quarter of the coordinates not bit-equal;</li>
 *   <li>{@link #attend}, {@link #attendWithSketch}: {@code |out − ref| ≤ 2e-6 · max(1, max|v|)} per coordinate and
 *       {@code |weight − ref| ≤ 1e-6} per weight (float exp and sum order differ from the reference, which sums
 *       the softmax denominator in double; measured on PoCL: 2.7e-7 and 2.4e-7).</li>
 * </ul>
 */
public interface AttentionBackend extends AutoCloseable {

    /** What this backend runs on and how often it fell back; a metric source. */
    BackendStatus status();

    /**
     * Op 1, batched GQA attention. For pair {@code p}, query head {@code r ∈ [0, kvMul)} and the n valid entries
     * {@code e} of its block: {@code score_e = scale · q·k_e}, {@code w = softmax(score)} (max-subtracted), and
     * {@code out[p, r, :] = Σ_e w_e · v_e}. A pair with no valid entry gets a zero output.
     *
     * @param batch   queries, KV blocks and mask
     * @param out     (P, kvMul, headSize) result
     * @param weights null, or the softmax weights laid out by {@link AttentionBatch#weightOffsets()}: for pair p
     *                a (kvMul, blockLength[p]) segment; masked entries get 0
     */
    void attend(AttentionBatch batch, float[] out, float[] weights);

    /**
     * Op 2, Count-Sketch insert ({@link SketchMode#SIGNED} shape; counts absent). See
     * {@link #sketchInsert(CountSketchShape, float[], int[], int[], int[], int[], int[], float[])}.
     */
    default void sketchInsert(CountSketchShape shape, float[] tables, int[] seeds, int[] tokenStart, int[] tokenCount,
                              int[] positions, float[] x) {
        sketchInsert(shape, tables, null, seeds, tokenStart, tokenCount, positions, x);
    }

    /**
     * Op 2, Count-Sketch insert, batched over sketches and tokens. For each sketch {@code s}, each of its tokens
     * {@code t ∈ [tokenStart[s], tokenStart[s] + tokenCount[s])} in order, and each row {@code j}, with
     * {@code b = h_j(positions[t])} from {@link SketchHash} seeded by {@code seeds[s]}:
     * <ul>
     *   <li>{@link SketchMode#SIGNED}: {@code tables[s, j, b, :] += s_j(positions[t]) · x[t, :]};</li>
     *   <li>{@link SketchMode#MEAN}: {@code tables[s, j, b, :] += x[t, :]} and {@code counts[s, j, b] += 1}.</li>
     * </ul>
     * Every table float receives its additions in token order, as in the reference.
     *
     * @param shape      sketch shape and estimator
     * @param tables     (S, depth, width, headSize), updated in place
     * @param counts     null for SIGNED; (S, depth, width) bucket counts for MEAN, updated in place
     * @param seeds      (S) hash seed per sketch
     * @param tokenStart (S) first token of each sketch
     * @param tokenCount (S) tokens of each sketch
     * @param positions  (m) absolute position of each token
     * @param x          (m, headSize) vectors to insert
     */
    void sketchInsert(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] tokenStart,
                      int[] tokenCount, int[] positions, float[] x);

    /**
     * Op 3, Count-Sketch reconstruction ({@link SketchMode#SIGNED} shape; counts absent). See
     * {@link #sketchReconstruct(CountSketchShape, float[], int[], int[], int[], int[], int, float[])}.
     */
    default void sketchReconstruct(CountSketchShape shape, float[] tables, int[] seeds, int[] sketchOf,
                                   int[] positions, int m, float[] out) {
        sketchReconstruct(shape, tables, null, seeds, sketchOf, positions, m, out);
    }

    /**
     * Op 3, Count-Sketch reconstruction of many positions in one call: for {@code i ∈ [0, m)}, with
     * {@code s = sketchOf[i]}, {@code pos = positions[i]} and {@code b_j = h_j(pos)}, coordinate-wise
     * <ul>
     *   <li>{@link SketchMode#SIGNED}: {@code out[i, c] = median_j( s_j(pos) · tables[s, j, b_j, c] )} (for an even
     *       depth ≥ 4 the mean of the two middle values; for depth ≤ 2 the mean, summed in row order in float);</li>
     *   <li>{@link SketchMode#MEAN}: {@code out[i, c] = (1/depth) · Σ_j tables[s, j, b_j, c] / counts[s, j, b_j]},
     *       a row whose bucket count is 0 contributing 0. The reference accumulates in double and rounds once;
     *       the OpenCL kernel divides and sums in float (see the tolerance in the interface comment).</li>
     * </ul>
     * Callers that store transformed vectors (the press keeps keys before RoPE) apply the inverse transform to
     * {@code out} on the host after this one call.
     *
     * @param tables    (S, depth, width, headSize)
     * @param counts    null for SIGNED; (S, depth, width) for MEAN
     * @param seeds     (S) hash seed per sketch
     * @param sketchOf  (m) sketch of each position
     * @param positions (m) absolute token positions
     * @param m         number of positions ≥ 0
     * @param out       (m, headSize) reconstructed vectors
     */
    void sketchReconstruct(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] sketchOf,
                           int[] positions, int m, float[] out);

    /**
     * Op 4, attention over exact plus sketch-reconstructed tokens with one softmax: pair {@code p} attends to its
     * exact block (as in {@link #attend}) followed by its {@code vagueLength[p]} sketched tokens, whose keys and
     * values are reconstructed as in {@link #sketchReconstruct} from the pair's key and value sketches.
     *
     * @param batch   queries and exact blocks
     * @param sketch  sketched tokens per pair
     * @param out     (P, kvMul, headSize) result
     * @param weights null, or the weights laid out by {@code batch.weightOffsets(sketch.vagueLength())}: for pair
     *                p a (kvMul, blockLength[p] + vagueLength[p]) segment, exact entries first
     */
    void attendWithSketch(AttentionBatch batch, SketchedTokens sketch, float[] out, float[] weights);

    /** Releases device buffers and compiled kernels; the backend is unusable afterwards. */
    @Override
    void close();
}
