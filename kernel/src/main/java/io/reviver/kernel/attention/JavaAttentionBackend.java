package io.reviver.kernel.attention;

import java.util.Arrays;

/**
 * Pure-Java reference of every {@link AttentionBackend} op: scalar loops in the order the Javadoc of each op
 * states, softmax with max subtraction and a double-precision denominator (as {@code LlamaModel}'s attention).
 * It is the oracle of the OpenCL equivalence tests and the fall-back of {@link BackendChoice#OPENCL_OR_JAVA}.
 * Single-threaded; not thread-safe (scratch buffers are reused).
 */
public final class JavaAttentionBackend implements AttentionBackend {

    private static final BackendStatus STATUS = new BackendStatus(BackendChoice.JAVA, false, "java", 0, "");

    private float[] scores = new float[0];     // (n) scores then weights of one query head
    private float[] rowValues = new float[0];  // (depth) one coordinate's signed row values
    private int[] rowOffsets = new int[0];     // (depth) bucket start of each row for one position
    private float[] rowScales = new float[0];  // (depth) sign (SIGNED) or bucket count (MEAN) of each row
    private float[] vagueKeys = new float[0];  // (m_p, headSize) reconstructed keys of one pair
    private float[] vagueValues = new float[0]; // (m_p, headSize) reconstructed values of one pair
    private float[] bucketMeans = new float[0]; // like the tables: one MEAN d = 1 reconstruction per bucket
    private int[] bucketStamps = new int[0];    // (buckets) the reconstruction call that filled bucketMeans there
    private int stamp;                          // the current reconstruction call

    @Override
    public BackendStatus status() {
        return STATUS;
    }

    @Override
    public void attend(AttentionBatch batch, float[] out, float[] weights) {
        int[] wOff = batch.weightOffsets();
        batch.checkOutputs(out, weights, wOff[batch.pairs()]);
        for (int p = 0; p < batch.pairs(); p++) {
            attendPair(batch, p, null, null, 0, out, weights, wOff[p]);
        }
    }

    @Override
    public void attendWithSketch(AttentionBatch batch, SketchedTokens sketch, float[] out, float[] weights) {
        sketch.checkFor(batch);
        int[] wOff = batch.weightOffsets(sketch.vagueLength());
        batch.checkOutputs(out, weights, wOff[batch.pairs()]);
        CountSketchShape shape = sketch.shape();
        int hs = batch.headSize();
        for (int p = 0; p < batch.pairs(); p++) {
            int m = sketch.vagueLength()[p];
            vagueKeys = grow(vagueKeys, m * hs);
            vagueValues = grow(vagueValues, m * hs);
            int s = sketch.sketchOf()[p];
            int seed = sketch.seeds()[s];
            for (int i = 0; i < m; i++) {
                int pos = sketch.positions()[sketch.vagueStart()[p] + i];
                reconstructOne(shape, sketch.keyTables(), null, s, seed, pos, vagueKeys, i * hs);
                reconstructOne(shape, sketch.valueTables(), null, s, seed, pos, vagueValues, i * hs);
            }
            attendPair(batch, p, vagueKeys, vagueValues, m, out, weights, wOff[p]);
        }
    }

    /**
     * Attention of the kvMul heads of pair p over its exact block followed by {@code m} extra rows of
     * {@code extraKeys}/{@code extraValues} (m, headSize).
     */
    private void attendPair(AttentionBatch b, int p, float[] extraKeys, float[] extraValues, int m, float[] out,
                            float[] weights, int weightOffset) {
        final int hs = b.headSize();
        final int start = b.blockStart()[p];
        final int nExact = b.blockLength()[p];
        final int n = nExact + m;
        final int[] valid = b.valid();
        scores = grow(scores, n);
        for (int r = 0; r < b.kvMul(); r++) {
            int qOff = (p * b.kvMul() + r) * hs;
            // Scores; a masked entry is marked −∞ and gets weight exactly 0.
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                float s;
                if (j < nExact) {
                    int e = start + j;
                    s = (valid != null && valid[e] == 0) ? Float.NEGATIVE_INFINITY
                        : dot(b.queries(), qOff, b.keys(), e * hs, hs) * b.scale();
                } else {
                    s = dot(b.queries(), qOff, extraKeys, (j - nExact) * hs, hs) * b.scale();
                }
                scores[j] = s;
                max = Math.max(max, s);
            }
            int oOff = (p * b.kvMul() + r) * hs;
            Arrays.fill(out, oOff, oOff + hs, 0f);
            if (max == Float.NEGATIVE_INFINITY) { // no valid entry: zero output, zero weights
                if (weights != null) {
                    Arrays.fill(weights, weightOffset + r * n, weightOffset + (r + 1) * n, 0f);
                }
                continue;
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                float e = scores[j] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < n; j++) {
                scores[j] *= inv;
            }
            // out = Σ_j w_j v_j, accumulated in entry order per coordinate.
            for (int j = 0; j < n; j++) {
                float w = scores[j];
                float[] v = j < nExact ? b.values() : extraValues;
                int vOff = j < nExact ? (start + j) * hs : (j - nExact) * hs;
                for (int c = 0; c < hs; c++) {
                    out[oOff + c] += w * v[vOff + c];
                }
            }
            if (weights != null) {
                System.arraycopy(scores, 0, weights, weightOffset + r * n, n);
            }
        }
    }

    @Override
    public void sketchInsert(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] tokenStart,
                             int[] tokenCount, int[] positions, float[] x) {
        int sketches = shape.checkInsert(tables, counts, seeds, tokenStart, tokenCount, positions, x);
        final int hs = shape.headSize();
        final boolean mean = shape.mode() == SketchMode.MEAN;
        for (int s = 0; s < sketches; s++) {
            for (int t = tokenStart[s]; t < tokenStart[s] + tokenCount[s]; t++) {
                int pos = positions[t];
                for (int j = 0; j < shape.depth(); j++) {
                    int bucket = SketchHash.bucket(seeds[s], j, pos, shape.width());
                    int base = shape.offset(s, j, bucket);
                    if (mean) {
                        for (int c = 0; c < hs; c++) {
                            tables[base + c] += x[t * hs + c];
                        }
                        counts[shape.countIndex(s, j, bucket)]++;
                    } else {
                        float sign = SketchHash.sign(seeds[s], j, pos);
                        for (int c = 0; c < hs; c++) {
                            tables[base + c] += sign * x[t * hs + c];
                        }
                    }
                }
            }
        }
    }

    @Override
    public void sketchReconstruct(CountSketchShape shape, float[] tables, int[] counts, int[] seeds, int[] sketchOf,
                                  int[] positions, int m, float[] out) {
        shape.checkReconstruct(tables, counts, seeds, sketchOf, positions, m, out);
        if (shape.mode() == SketchMode.MEAN && shape.depth() == 1) {
            reconstructMeanDepth1(shape, tables, counts, seeds, sketchOf, positions, m, out);
            return;
        }
        for (int i = 0; i < m; i++) {
            int s = sketchOf[i];
            reconstructOne(shape, tables, counts, s, seeds[s], positions[i], out, i * shape.headSize());
        }
    }

    /**
     * MEAN with one row: every position in a bucket gets the same reconstruction, so each bucket used by this call
     * is computed once (exactly as {@link #reconstructOne} computes it) and copied to its positions: the press
     * reconstructs every vague token at every decode step, many per bucket. (Calling reconstructOne for each
     * bucket's first position instead was measured 3× slower on the press's call: its general d-row path.)
     */
    private void reconstructMeanDepth1(CountSketchShape shape, float[] tables, int[] counts, int[] seeds,
                                       int[] sketchOf, int[] positions, int m, float[] out) {
        int hs = shape.headSize();
        int buckets = tables.length / hs;
        bucketMeans = grow(bucketMeans, tables.length);
        bucketStamps = growInts(bucketStamps, buckets);
        if (++stamp == 0) { // wrapped: forget every stamp
            Arrays.fill(bucketStamps, 0);
            stamp = 1;
        }
        for (int i = 0; i < m; i++) {
            int s = sketchOf[i];
            int bucket = SketchHash.bucket(seeds[s], 0, positions[i], shape.width());
            int off = shape.offset(s, 0, bucket);
            int b = off / hs;
            if (bucketStamps[b] != stamp) {
                int n = counts[shape.countIndex(s, 0, bucket)];
                for (int c = 0; c < hs; c++) {
                    double sum = 0; // the arithmetic of reconstructOne with d = 1
                    if (n != 0) {
                        sum += (double) tables[off + c] / (float) n;
                    }
                    bucketMeans[off + c] = (float) (sum / 1);
                }
                bucketStamps[b] = stamp;
            }
            System.arraycopy(bucketMeans, off, out, i * hs, hs);
        }
    }

    /**
     * Writes the reconstruction of position {@code pos} from sketch {@code s} to {@code out[off, off + headSize)}:
     * SIGNED by {@link #combineRows}, MEAN as the double-accumulated mean of the rows' bucket means.
     */
    private void reconstructOne(CountSketchShape shape, float[] tables, int[] counts, int s, int seed, int pos,
                                float[] out, int off) {
        final int d = shape.depth();
        rowValues = grow(rowValues, d);
        rowOffsets = growInts(rowOffsets, d);
        rowScales = grow(rowScales, d);
        final boolean mean = shape.mode() == SketchMode.MEAN;
        for (int j = 0; j < d; j++) { // hash once per row
            int bucket = SketchHash.bucket(seed, j, pos, shape.width());
            rowOffsets[j] = shape.offset(s, j, bucket);
            if (mean) {
                int n = counts[shape.countIndex(s, j, bucket)];
                rowScales[j] = n; // 0: empty bucket, contributes 0
            } else {
                rowScales[j] = SketchHash.sign(seed, j, pos);
            }
        }
        for (int c = 0; c < shape.headSize(); c++) {
            if (mean) {
                double sum = 0; // in double, so d rows holding one vector average back to exactly that vector
                for (int j = 0; j < d; j++) {
                    if (rowScales[j] != 0f) {
                        sum += (double) tables[rowOffsets[j] + c] / rowScales[j];
                    }
                }
                out[off + c] = (float) (sum / d);
            } else {
                for (int j = 0; j < d; j++) {
                    rowValues[j] = rowScales[j] * tables[rowOffsets[j] + c];
                }
                out[off + c] = combineRows(rowValues, d);
            }
        }
    }

    /**
     * The estimate from the d signed row values: mean (summed in row order) when d ≤ 2, else the median (mean of
     * the two middle values for even d). Reorders {@code v[0, d)}.
     */
    static float combineRows(float[] v, int d) {
        if (d <= 2) {
            float sum = 0f;
            for (int j = 0; j < d; j++) {
                sum += v[j];
            }
            return sum / d;
        }
        Arrays.sort(v, 0, d);
        int lo = (d - 1) / 2;
        int hi = d / 2;
        return lo == hi ? v[lo] : (v[lo] + v[hi]) * 0.5f;
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int len) {
        float s = 0f;
        for (int i = 0; i < len; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    private static int[] growInts(int[] a, int need) {
        return a.length >= need ? a : new int[need];
    }

    private static float[] grow(float[] a, int need) {
        return a.length >= need ? a : new float[Math.max(need, a.length + (a.length >> 1))];
    }

    @Override
    public void close() {
        scores = new float[0];
        vagueKeys = new float[0];
        vagueValues = new float[0];
    }
}
