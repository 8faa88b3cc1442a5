package io.reviver.kernel.press;

import io.reviver.kernel.attention.SketchHash;
import io.reviver.kernel.attention.SketchMode;
import io.reviver.kernel.cache.KvCache;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A {@link CountSketch}'s entries as {@link KvCache.Folded} entries: attention over every held position without
 * reconstructing each. Whenever the reconstruction is linear in the buckets (MEAN, any depth d: the mean of the
 * rows' bucket means; SIGNED with d ≤ 2: the mean of the rows' signed buckets), with row j's bucket vector
 * {@code m_j(p)} (its mean or its signed sum), the reconstructed key and value of position p are
 * {@code (1/d)·Σ_j m_j(p)}, so
 * <ul>
 *   <li>a score is {@code scale·q·R(p)·(1/d)Σ_j m_j(p) = Σ_j P(q, m_j(p))·F(p)}, with the pair products P of
 *       every non-empty bucket computed once per query head ({@link KeyRotation.DotForm}, scale and 1/d folded
 *       in) and the position's features F(p) a table row: one dot product per position, row and query head
 *       instead of a rebuilt, re-rotated key; with post-RoPE keys, P is one scalar per bucket and head and a
 *       score is a sum of d lookups;</li>
 *   <li>a weighted value sum is {@code Σ_p w_p (1/d)Σ_j m_j(p) = (1/d)Σ_j Σ_b W_j[b]·m_j[b]}, with
 *       {@code W_j[b]} the weight (signed for SIGNED) of the positions in bucket b of row j: one scalar addition
 *       per position and row, then one row per used bucket.</li>
 * </ul>
 * In real arithmetic these equal attention over {@link CountSketch#reconstructAll}'s entries; in floats they
 * differ by rounding (the sums are associated differently; the tests state the tolerance).
 *
 * <p>Scratch (the caller's): floats (d, w, heads, P) with P = headSize (pre-RoPE keys) or 1, then the bucket
 * weights (d, w, heads), then one bucket mean (headSize); ints (count, d): each entry's bucket per row, the
 * sign in bit 31 for SIGNED. Not thread-safe; one per sketch, used by the thread attending its head.
 */
final class FoldedSketch implements KvCache.Folded {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int NEGATIVE = 1 << 31;

    private final CountSketch sketch;
    private final KeyRotation.DotForm dotForm; // null: keys are stored after RoPE
    private final int rows;
    private final int width;
    private final int headSize;
    private final boolean mean;
    private final int[] rowKeys; // (rows) SketchHash.rowKey of the sketch's seed per row

    /** Only for sketches {@link #supports} accepts. */
    FoldedSketch(CountSketch sketch, KeyRotation.DotForm dotForm) {
        this.sketch = sketch;
        this.dotForm = dotForm;
        this.rows = sketch.rows();
        this.width = sketch.width();
        this.headSize = sketch.headSize();
        this.mean = sketch.mode() == SketchMode.MEAN;
        this.rowKeys = new int[rows];
        for (int j = 0; j < rows; j++) {
            rowKeys[j] = SketchHash.rowKey(sketch.hashSeed(), j);
        }
    }

    /**
     * Whether a sketch's reconstruction is linear in its buckets (MEAN, or SIGNED with d ≤ 2; a median is not)
     * and, for pre-RoPE keys, its rotation has a {@link KeyRotation.DotForm}.
     */
    static boolean supports(SketchMode mode, int rows, KeyRotation rotation) {
        return (mode == SketchMode.MEAN || rows <= 2) && (rotation == null || rotation.dotForm() != null);
    }

    @Override
    public int count() {
        return sketch.size();
    }

    @Override
    public int lastPosition() {
        long[] present = sketch.present();
        for (int w = present.length - 1; w >= 0; w--) {
            if (present[w] != 0) {
                return (w << 6) + 63 - Long.numberOfLeadingZeros(present[w]);
            }
        }
        return -1;
    }

    private int termWidth() {
        return dotForm != null ? headSize : 1;
    }

    @Override
    public int scratchFloats(int heads) {
        return rows * width * heads * (termWidth() + 1) + headSize;
    }

    @Override
    public int entryInts() {
        return sketch.size() * rows;
    }

    @Override
    public void scores(float[] q, int qOff, int heads, float scale, float[] scores, int scoreOff, int scoreStride,
                       float[] scratch, int[] entries) {
        final int hs = headSize;
        final int tw = termWidth();
        final float[] table = sketch.table();
        final int[] counts = sketch.counts();
        final int meanAt = rows * width * heads * (tw + 1); // one bucket mean (headSize)
        final float rowScale = scale / rows;
        // Key terms of every bucket: (d, w, heads, tw); empty MEAN buckets hold no entry and are skipped.
        for (int j = 0; j < rows; j++) {
            for (int b = 0; b < width; b++) {
                int n = mean ? counts[j * width + b] : 1;
                if (n == 0) {
                    continue;
                }
                bucketMean(table, (j * width + b) * 2 * hs, n, scratch, meanAt); // the bucket's key half
                int term = (j * width + b) * heads * tw;
                for (int h = 0; h < heads; h++) {
                    if (dotForm != null) {
                        dotForm.pairProducts(q, qOff + h * hs, scratch, meanAt, rowScale, scratch, term + h * tw);
                    } else {
                        float dot = 0;
                        for (int c = 0; c < hs; c++) {
                            dot += q[qOff + h * hs + c] * scratch[meanAt + c];
                        }
                        scratch[term + h] = rowScale * dot;
                    }
                }
            }
        }
        // Per held position (ascending, from the bitmap): its bucket and sign per row, then its scores (row 0
        // writes them, later rows add).
        long[] present = sketch.present();
        int i = 0;
        for (int word = 0; word < present.length; word++) {
            for (long bits = present[word]; bits != 0; bits &= bits - 1, i++) {
                int position = (word << 6) + Long.numberOfTrailingZeros(bits);
                float[] features = dotForm != null ? dotForm.features(position) : null;
                for (int j = 0; j < rows; j++) {
                    int mix = SketchHash.mixOf(rowKeys[j], position);
                    int b = Integer.remainderUnsigned(mix, width);
                    boolean negative = !mean && mix < 0;
                    entries[i * rows + j] = negative ? b | NEGATIVE : b;
                    float sign = negative ? -1f : 1f;
                    int term = (j * width + b) * heads * tw;
                    if (features == null) {
                        for (int h = 0; h < heads; h++) {
                            float s = sign * scratch[term + h];
                            int o = scoreOff + h * scoreStride + i;
                            scores[o] = j == 0 ? s : scores[o] + s;
                        }
                    } else {
                        termDots(scratch, term, heads, features, sign, j > 0, scores, scoreOff + i, scoreStride);
                    }
                }
            }
        }
    }

    /**
     * {@code out[outOff + h·outStride] = sign · terms[term + h·hs, + hs) · features} (or {@code +=} when
     * {@code add}) for {@code h < heads}, in vectors; four heads at a time share each load of the features.
     */
    private void termDots(float[] terms, int term, int heads, float[] features, float sign, boolean add, float[] out,
                          int outOff, int outStride) {
        final int hs = headSize;
        final int lanes = S.length();
        final int bound = hs - hs % lanes;
        int h = 0;
        for (; h + 4 <= heads; h += 4) {
            int t0 = term + h * hs;
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int c = 0; c < bound; c += lanes) {
                FloatVector f = FloatVector.fromArray(S, features, c);
                a0 = FloatVector.fromArray(S, terms, t0 + c).fma(f, a0);
                a1 = FloatVector.fromArray(S, terms, t0 + hs + c).fma(f, a1);
                a2 = FloatVector.fromArray(S, terms, t0 + 2 * hs + c).fma(f, a2);
                a3 = FloatVector.fromArray(S, terms, t0 + 3 * hs + c).fma(f, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (int c = bound; c < hs; c++) {
                float f = features[c];
                s0 += terms[t0 + c] * f;
                s1 += terms[t0 + hs + c] * f;
                s2 += terms[t0 + 2 * hs + c] * f;
                s3 += terms[t0 + 3 * hs + c] * f;
            }
            put(out, outOff + h * outStride, sign * s0, add);
            put(out, outOff + (h + 1) * outStride, sign * s1, add);
            put(out, outOff + (h + 2) * outStride, sign * s2, add);
            put(out, outOff + (h + 3) * outStride, sign * s3, add);
        }
        for (; h < heads; h++) { // the rest one at a time (e.g. 3 heads per group: 6 query heads over 2 KV heads)
            int t = term + h * hs;
            FloatVector a = FloatVector.zero(S);
            for (int c = 0; c < bound; c += lanes) {
                a = FloatVector.fromArray(S, terms, t + c).fma(FloatVector.fromArray(S, features, c), a);
            }
            float s = a.reduceLanes(VectorOperators.ADD);
            for (int c = bound; c < hs; c++) {
                s += terms[t + c] * features[c];
            }
            put(out, outOff + h * outStride, sign * s, add);
        }
    }

    /** {@code out[i] = x}, or {@code += x} when adding. */
    private static void put(float[] out, int i, float x, boolean add) {
        out[i] = add ? out[i] + x : x;
    }

    @Override
    public void addWeightedValues(float[] weights, int wOff, int wStride, int heads, float[] out, int outOff,
                                  float[] scratch, int[] entries) {
        final int m = sketch.size();
        final int hs = headSize;
        final float[] table = sketch.table();
        final int[] counts = sketch.counts();
        final int weightAt = rows * width * heads * termWidth(); // (d, w, heads) bucket weights
        final int meanAt = weightAt + rows * width * heads;
        Arrays.fill(scratch, weightAt, meanAt, 0f);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < rows; j++) {
                int e = entries[i * rows + j];
                float sign = e < 0 ? -1f : 1f;
                int at = weightAt + (j * width + (e & ~NEGATIVE)) * heads;
                for (int h = 0; h < heads; h++) {
                    scratch[at + h] += sign * weights[wOff + h * wStride + i];
                }
            }
        }
        final float inv = 1f / rows;
        for (int j = 0; j < rows; j++) {
            for (int b = 0; b < width; b++) {
                int n = mean ? counts[j * width + b] : 1;
                if (n == 0) {
                    continue;
                }
                int at = weightAt + (j * width + b) * heads;
                boolean used = false;
                for (int h = 0; h < heads && !used; h++) {
                    used = scratch[at + h] != 0f;
                }
                if (!used) {
                    continue;
                }
                bucketMean(table, (j * width + b) * 2 * hs + hs, n, scratch, meanAt); // the bucket's value half
                for (int h = 0; h < heads; h++) {
                    float coef = scratch[at + h] * inv;
                    int o = outOff + h * hs;
                    for (int c = 0; c < hs; c++) {
                        out[o + c] += coef * scratch[meanAt + c];
                    }
                }
            }
        }
    }

    /**
     * One half of a bucket as its row reconstructs it, into {@code out[outOff, + headSize)}: its sum over its
     * {@code n} entries (MEAN; {@code n ≥ 1}) or as held (SIGNED).
     */
    private void bucketMean(float[] table, int at, int n, float[] out, int outOff) {
        for (int c = 0; c < headSize; c++) {
            out[outOff + c] = mean ? table[at + c] / n : table[at + c];
        }
    }
}
