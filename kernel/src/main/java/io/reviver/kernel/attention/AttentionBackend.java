package io.reviver.kernel.attention;

/**
 * Attention and KVReviver Count-Sketch operations on flat float arrays: the seam between the decoder / KV
 * compression and a compute backend. {@link JavaAttentionBackend} is the reference (and test oracle);
 * {@code io.reviver.kernel.opencl.OpenClAttentionBackend} runs the same ops as OpenCL kernels.
 *
 * <p>Instances are <b>not thread-safe</b>: use one per thread (or a pool). They reuse internal buffers across
 * calls and release device resources in {@link #close()}. Every op validates its arguments and throws
 * {@link IllegalArgumentException} naming the bad one.
 *
 * <p>Tolerances of a backend against the reference (what the equivalence tests assert):
 * <ul>
 *   <li>{@link #sketchInsert}, {@link #sketchReconstruct}: bit-for-bit equal values (integer hashes; the same
 *       additions in the same order; median is a selection);</li>
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
     * Op 2, Count-Sketch insert. For each sketch {@code s}, each of its tokens {@code t ∈ [tokenStart[s],
     * tokenStart[s] + tokenCount[s])} in order, and each row {@code j}:
     * {@code tables[s, j, h_j(positions[t]), :] += s_j(positions[t]) · x[t, :]} with hashes from
     * {@link SketchHash} seeded by {@code seeds[s]}.
     *
     * @param shape      sketch shape
     * @param tables     (S, depth, width, headSize), updated in place
     * @param seeds      (S) hash seed per sketch
     * @param tokenStart (S) first token of each sketch
     * @param tokenCount (S) tokens of each sketch
     * @param positions  (m) absolute position of each token
     * @param x          (m, headSize) vectors to insert
     */
    void sketchInsert(CountSketchShape shape, float[] tables, int[] seeds, int[] tokenStart, int[] tokenCount,
                      int[] positions, float[] x);

    /**
     * Op 3, Count-Sketch reconstruction: for {@code i ∈ [0, m)}, with {@code s = sketchOf[i]} and
     * {@code pos = positions[i]}, {@code out[i, c] = median_j( s_j(pos) · tables[s, j, h_j(pos), c] )}
     * coordinate-wise (for an even depth ≥ 4 the mean of the two middle values; for depth ≤ 2 the mean).
     *
     * @param tables    (S, depth, width, headSize)
     * @param seeds     (S) hash seed per sketch
     * @param sketchOf  (m) sketch of each position
     * @param positions (m) absolute token positions
     * @param m         number of positions ≥ 0
     * @param out       (m, headSize) reconstructed vectors
     */
    void sketchReconstruct(CountSketchShape shape, float[] tables, int[] seeds, int[] sketchOf, int[] positions, int m,
                           float[] out);

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
