package io.reviver.kernel.model;

import io.reviver.kernel.tensor.NativeAttention;
import io.reviver.kernel.tensor.NativeTensorOps;
import io.reviver.kernel.tensor.TensorOps;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise helpers of the forward pass that run over whole rows: dot products (attention scores),
 * scaled accumulation (attention-weighted values), sums of squares (RMSNorm), the attention softmax and the
 * SwiGLU gate; and a decode step's whole attention for one KV head ({@link #attend}). Two implementations with
 * the same contract: {@link #scalar()} (plain loops with {@link Math#exp}, the reference) and {@link #vector()}
 * (Vector API, preferred species); {@link #vectorWithNativeAttention()} is the vector path with {@link #attend} in
 * C, to the vector path's bits. Results may differ
 * from the reference by float summation order and, in {@link #softmax} and {@link #swiGlu}, by the exponential:
 * the vector path uses {@link VectorExp}, built from IEEE-exact operations so that its bits never depend on
 * whether the JIT has compiled it (the Vector API's own exponential does; see there), within 1 ulp of
 * {@link Math#exp}'s float over the normal range (measured; VectorExpTest asserts 2). Stateless and thread-safe.
 */
public abstract class ElementOps {

    private static final ElementOps SCALAR = new Scalar();
    private static final ElementOps VECTOR = new Vector();

    /** The scalar reference. */
    public static ElementOps scalar() {
        return SCALAR;
    }

    /** The Vector API path. */
    public static ElementOps vector() {
        return VECTOR;
    }

    /**
     * {@link #vector()} with {@link #attend} on the native kernel ({@link NativeAttention}) where it runs and the
     * vector path has 16 float lanes (the native arithmetic is the vector path's on 16 lanes: the same bits);
     * otherwise {@link #vector()} itself. {@link #describe()} says which.
     */
    public static ElementOps vectorWithNativeAttention() {
        return NativeAttended.INSTANCE != null ? NativeAttended.INSTANCE : VECTOR;
    }

    /** Whether {@link #vector()} runs on 16 float lanes (AVX-512), where {@link #vectorWithNativeAttention()} can. */
    static boolean vectorHas16Lanes() {
        return Vector.BUTTERFLY;
    }

    /**
     * The element ops for a model whose products run on {@code ops}: {@link #vectorWithNativeAttention()} when they
     * are native ({@link NativeTensorOps}: the user asked for the native library), else {@link #vector()}.
     */
    public static ElementOps forProducts(TensorOps ops) {
        return ops instanceof NativeTensorOps ? vectorWithNativeAttention() : VECTOR;
    }

    /**
     * {@code Σ_{i<n} a[aOff + i] · b[bOff + i]}: in order on the reference; on the vector path one fused chain per
     * lane, the lanes then summed as a butterfly (halves, quarters, …), then the leftover elements in order.
     */
    public abstract float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff + i] += alpha · x[xOff + i]} for {@code i < n}. */
    public abstract void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** {@code Σ_{i<n} x[off + i]²}. */
    public abstract float sumOfSquares(float[] x, int off, int n);

    /**
     * In place, {@code x[off, off + len)} ← its softmax: {@code e^(x_i − max) / Σ_j e^(x_j − max)} (the sum in
     * double on the reference; in float lanes, then added in double, on the vector path); −∞ entries become 0.
     * Requires {@code len ≥ 1} and at least one finite entry.
     */
    public abstract void softmax(float[] x, int off, int len);

    /** In place, {@code gate[i] ← silu(gate[i]) · up[i]} for {@code i < len}, {@code silu(z) = z / (1 + e^−z)}. */
    public final void swiGlu(float[] gate, float[] up, int len) {
        swiGlu(gate, up, 0, len);
    }

    /**
     * {@link #swiGlu(float[], float[], int)} on {@code [off, off + len)}. Every element's result depends only on its
     * own inputs: a range split at multiples of 16 elements gives the bits of one call over all of it.
     */
    public abstract void swiGlu(float[] gate, float[] up, int off, int len);

    /**
     * Attention scores of one query against transposed keys: {@code out[outOff + j] = Σ_{c<rows} (q[qOff + c]·scale)
     * · kT[c·stride + j]} for {@code j < len}, accumulated over c in order from zero (one multiply-add per term;
     * on the vector path a fused one). kT is (rows, stride) row-major, {@code len ≤ stride}.
     */
    public abstract void transposedDots(float[] q, int qOff, float scale, float[] kT, int stride, int rows,
                                        float[] out, int outOff, int len);

    /**
     * {@link #transposedDots} for {@code heads} queries against the same keys: query h at
     * {@code q[qOff + h·qStride]}, its scores at {@code out[outOff + h·outStride]}; each score computed exactly as
     * {@link #transposedDots} computes it (the vector path reads each key lane group once for two heads, or for
     * four where vectors have 16 lanes or more).
     */
    public void transposedDots(float[] q, int qOff, int qStride, int heads, float scale, float[] kT, int stride,
                               int rows, float[] out, int outOff, int outStride, int len) {
        for (int h = 0; h < heads; h++) {
            transposedDots(q, qOff + h * qStride, scale, kT, stride, rows, out, outOff + h * outStride, len);
        }
    }

    /**
     * Attention-weighted values: {@code out[outOff + i] = Σ_{j<len} p[pOff + j] · v[j·width + i]} for
     * {@code i < width} (overwriting out), in order of j (one multiply-add per term; on the vector path a fused
     * one). v is (len, width) row-major. Every term is added, zero weights included (they add nothing to finite
     * values; a non-finite value poisons the sum whatever its weight).
     */
    public void weightedRows(float[] p, int pOff, int len, float[] v, int width, float[] out, int outOff) {
        weightedRows(p, pOff, len, v, 0, width, width, out, outOff);
    }

    /**
     * {@link #weightedRows(float[], int, int, float[], int, float[], int)} over rows that lie {@code vStride} floats
     * apart from {@code vOff}: row j is {@code v[vOff + j·vStride, + width)}. The same terms in the same order, so
     * the same result as over a contiguous copy of the rows.
     */
    public abstract void weightedRows(float[] p, int pOff, int len, float[] v, int vOff, int vStride, int width,
                                      float[] out, int outOff);

    /**
     * {@link #weightedRows(float[], int, int, float[], int, int, int, float[], int)} for two query heads over the
     * same rows: weights at {@code p[pOff]} and {@code p[pOff2]}, outputs at {@code out[outOff]} and
     * {@code out[outOff2]}. The same result as the two calls (a faster form may share each row's loads).
     */
    public void weightedRowsPair(float[] p, int pOff, int pOff2, int len, float[] v, int vOff, int vStride, int width,
                                 float[] out, int outOff, int outOff2) {
        weightedRows(p, pOff, len, v, vOff, vStride, width, out, outOff);
        weightedRows(p, pOff2, len, v, vOff, vStride, width, out, outOff2);
    }

    /**
     * {@link #weightedRows(float[], int, int, float[], int, int, int, float[], int)} for {@code heads} query heads
     * over the same rows: head h's weights at {@code p[pOff + h·pStride]}, its output at
     * {@code out[outOff + h·outStride]}. The same results as one call per head (a faster form may share each row's
     * loads among the heads).
     */
    public void weightedRowsHeads(float[] p, int pOff, int pStride, int heads, int len, float[] v, int vOff,
                                  int vStride, int width, float[] out, int outOff, int outStride) {
        int h = 0;
        for (; h + 1 < heads; h += 2) {
            weightedRowsPair(p, pOff + h * pStride, pOff + (h + 1) * pStride, len, v, vOff, vStride, width, out,
                outOff + h * outStride, outOff + (h + 1) * outStride);
        }
        if (h < heads) {
            weightedRows(p, pOff + h * pStride, len, v, vOff, vStride, width, out, outOff + h * outStride);
        }
    }

    /**
     * Scores of several query heads against the same keys:
     * {@code out[outOff + h·outStride + j] = dot(q[qOff + h·width, + width), k[kOff + j·kStride, + width)) · scale}
     * for {@code h < heads}, {@code j < len}, each equal bit for bit to {@link #dot} of that pair times scale (on
     * the vector path the keys are read once for all heads).
     */
    public void headDots(float[] q, int qOff, int heads, int width, float scale, float[] k, int kOff, int kStride,
                         int len, float[] out, int outOff, int outStride) {
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < len; j++) {
                out[outOff + h * outStride + j] = dot(q, qOff + h * width, k, kOff + j * kStride, width) * scale;
            }
        }
    }

    /**
     * Decode attention of {@code heads} query heads against {@code len} entries, each head on its own:
     * {@link #headDots} (query h at {@code q[qOff + h·width]}, key j at {@code k[kvOff + j·stride]}, scores at
     * {@code scores[sOff + h·sStride, + len)}), then {@link #softmax} of each head's scores, which stay there as its
     * weights, then {@link #weightedRowsHeads} of the values (value j at {@code v[kvOff + j·stride]}, head h's
     * output at {@code out[outOff + h·width, + width)}). Exactly those calls' results; a faster form may fuse them.
     */
    public void attend(float[] q, int qOff, int heads, int width, float scale, float[] k, float[] v, int kvOff,
                       int stride, int len, float[] scores, int sOff, int sStride, float[] out, int outOff) {
        headDots(q, qOff, heads, width, scale, k, kvOff, stride, len, scores, sOff, sStride);
        for (int h = 0; h < heads; h++) {
            softmax(scores, sOff + h * sStride, len);
        }
        weightedRowsHeads(scores, sOff, sStride, heads, len, v, kvOff, stride, width, out, outOff, width);
    }

    /**
     * Whether {@link #attend} is one fused call (the native kernel) that a caller should prefer to making the three
     * steps itself; false for the Java paths, whose {@link #attend} is those steps. The forward pass asks, so that
     * on the Java paths its calls (and what the JIT makes of them) stay as they were.
     */
    public boolean fusesAttention() {
        return false;
    }

    /** Short description for logs. */
    public abstract String describe();

    /**
     * {@link #vector()} with {@link #attend} on {@link NativeAttention} when its arguments suit the kernel
     * ({@link NativeAttention#suits}) and the JVM hands over its arrays; otherwise, and for
     * everything else, the vector path's own code (a subclass, not a wrapper, so its calls reach the Vector API's
     * intrinsics no deeper than the vector path's do). The same bits either way (NaN payloads aside): the native
     * arithmetic is the vector path's on 16 lanes as JDK 17 compiles it (its {@code reduceLanes(ADD)} adds the lanes
     * in order), the only case this class is made for ({@link #INSTANCE} is null elsewhere).
     */
    private static final class NativeAttended extends Vector {
        static final NativeAttended INSTANCE = Vector.BUTTERFLY && NativeAttention.available()
            ? new NativeAttended() : null;

        @Override
        public void attend(float[] q, int qOff, int heads, int width, float scale, float[] k, float[] v, int kvOff,
                           int stride, int len, float[] scores, int sOff, int sStride, float[] out, int outOff) {
            if (!NativeAttention.suits(heads, width, len, stride, sStride)
                || !NativeAttention.attend(q, qOff, heads, width, scale, k, v, kvOff, stride, len, scores, sOff,
                sStride, out, outOff)) {
                super.attend(q, qOff, heads, width, scale, k, v, kvOff, stride, len, scores, sOff, sStride, out,
                    outOff);
            }
        }

        @Override
        public boolean fusesAttention() {
            return true;
        }

        @Override
        public String describe() {
            return super.describe() + ", decode attention native (AVX-512F)";
        }
    }

    private static final class Scalar extends ElementOps {
        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        @Override
        public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
            for (int i = 0; i < n; i++) {
                y[yOff + i] += alpha * x[xOff + i];
            }
        }

        @Override
        public float sumOfSquares(float[] x, int off, int n) {
            float s = 0f;
            for (int i = 0; i < n; i++) {
                s += x[off + i] * x[off + i];
            }
            return s;
        }

        @Override
        public void softmax(float[] x, int off, int len) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < len; i++) {
                max = Math.max(max, x[off + i]);
            }
            double sum = 0;
            for (int i = 0; i < len; i++) {
                float e = (float) Math.exp(x[off + i] - max);
                x[off + i] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int i = 0; i < len; i++) {
                x[off + i] *= inv;
            }
        }

        @Override
        public void swiGlu(float[] gate, float[] up, int off, int len) {
            for (int i = off; i < off + len; i++) {
                float g = gate[i];
                gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
            }
        }

        @Override
        public void transposedDots(float[] q, int qOff, float scale, float[] kT, int stride, int rows,
                                   float[] out, int outOff, int len) {
            java.util.Arrays.fill(out, outOff, outOff + len, 0f);
            for (int c = 0; c < rows; c++) {
                axpy(q[qOff + c] * scale, kT, c * stride, out, outOff, len);
            }
        }

        @Override
        public void weightedRows(float[] p, int pOff, int len, float[] v, int vOff, int vStride, int width,
                                 float[] out, int outOff) {
            java.util.Arrays.fill(out, outOff, outOff + width, 0f);
            for (int j = 0; j < len; j++) {
                axpy(p[pOff + j], v, vOff + j * vStride, out, outOff, width);
            }
        }

        @Override
        public String describe() {
            return "scalar";
        }
    }

    private static class Vector extends ElementOps {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

        /** Whether the lane sums take {@link #sumLanes}' butterfly: on 16 lanes (AVX-512); else reduceLanes. */
        private static final boolean BUTTERFLY = S.length() == 16;
        /*
         * SWAP_k: lane i takes lane i ^ k (16 lanes). Separate static finals used directly, not an array or a helper
         * choosing among them: C2 intrinsifies a rearrange only when it sees the shuffle's exact class, and an
         * array element or a choice hid it (a harness: 4.3 and 9.4 µs for 256 keys' headDots against 2.8).
         */
        private static final VectorShuffle<Float> SWAP_1 = swap(1);
        private static final VectorShuffle<Float> SWAP_2 = swap(2);
        private static final VectorShuffle<Float> SWAP_4 = swap(4);
        private static final VectorShuffle<Float> SWAP_8 = swap(8);
        /** Lanes whose index has the bit 8, and 4, set (16 lanes). */
        private static final VectorMask<Float> HALF_HI = laneBit(8);
        private static final VectorMask<Float> QUARTER_HI = laneBit(4);

        private static VectorShuffle<Float> swap(int k) {
            int lanes = S.length();
            int[] idx = new int[lanes];
            for (int i = 0; i < lanes; i++) {
                idx[i] = (i ^ k) % lanes;
            }
            return VectorShuffle.fromArray(S, idx, 0);
        }

        private static VectorMask<Float> laneBit(int bit) {
            boolean[] set = new boolean[S.length()];
            for (int i = 0; i < set.length; i++) {
                set[i] = (i & bit) != 0;
            }
            return VectorMask.fromArray(S, set, 0);
        }

        /**
         * The sum of v's lanes. On 16 lanes a butterfly: v + (v with lanes i and i ^ 8 swapped), then the same
         * with 4, 2 and 1; lane 0's value: one fixed tree of additions, 4 dependent steps where an in-order sum
         * has 15 (JDK 17's {@code reduceLanes(ADD)} on floats adds the lanes one after the other; a decode step's
         * attention makes one such sum per key and head). Other lane counts: {@code reduceLanes(ADD)}.
         */
        static float sumLanes(FloatVector v) {
            if (!BUTTERFLY) {
                return v.reduceLanes(VectorOperators.ADD);
            }
            v = v.add(v.rearrange(SWAP_8));
            v = v.add(v.rearrange(SWAP_4));
            v = v.add(v.rearrange(SWAP_2));
            v = v.add(v.rearrange(SWAP_1));
            return v.lane(0);
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
            }
            float s = sumLanes(acc);
            for (; i < n; i++) {
                s += a[aOff + i] * b[bOff + i];
            }
            return s;
        }

        @Override
        public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            int i = 0;
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
            }
            for (; i < n; i++) {
                y[yOff + i] += alpha * x[xOff + i];
            }
        }

        @Override
        public float sumOfSquares(float[] x, int off, int n) {
            return dot(x, off, x, off, n);
        }

        @Override
        public void softmax(float[] x, int off, int len) {
            int bound = S.loopBound(len);
            FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i < bound; i += S.length()) {
                vmax = vmax.max(FloatVector.fromArray(S, x, off + i));
            }
            float max = vmax.reduceLanes(VectorOperators.MAX);
            for (; i < len; i++) {
                max = Math.max(max, x[off + i]);
            }
            double sum = VectorExp.loop(VectorExp.EXP_SHIFTED, x, off, null, 0, bound, max);
            for (i = bound; i < len; i++) {
                float e = VectorExp.exp(x[off + i] - max);
                x[off + i] = e;
                sum += e;
            }
            FloatVector inv = FloatVector.broadcast(S, (float) (1.0 / sum));
            for (i = 0; i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
            }
            float invS = (float) (1.0 / sum);
            for (; i < len; i++) {
                x[off + i] *= invS;
            }
        }

        @Override
        public void swiGlu(float[] gate, float[] up, int off, int len) {
            int bound = S.loopBound(len);
            VectorExp.loop(VectorExp.SILU_TIMES, gate, off, up, off, bound, 0f);
            for (int i = off + bound; i < off + len; i++) { // one lane's arithmetic
                float g = gate[i];
                gate[i] = g / (1f + VectorExp.exp(-g)) * up[i];
            }
        }

        /**
         * Position blocks of 4 vectors, each with its own accumulator held in registers over all rows (one load
         * and one FMA per term, no stores until the block ends); when there are at least 4 vectors of positions,
         * the last block ends exactly at {@code len} (recomputing some scores to the same bits, see the
         * several-heads form); fewer positions take single vectors, then scalar FMAs.
         */
        @Override
        public void transposedDots(float[] q, int qOff, float scale, float[] kT, int stride, int rows,
                                   float[] out, int outOff, int len) {
            int lanes = S.length();
            int block = 4 * lanes;
            if (len >= block) {
                for (int j = 0; ; j += block) {
                    int at = Math.min(j, len - block);
                    dots4(q, qOff, scale, kT, stride, rows, at, out, outOff + at);
                    if (at + block >= len) {
                        return;
                    }
                }
            }
            int j = 0;
            for (; j + lanes <= len; j += lanes) {
                FloatVector a0 = FloatVector.zero(S);
                for (int c = 0; c < rows; c++) {
                    FloatVector qc = FloatVector.broadcast(S, q[qOff + c] * scale);
                    a0 = FloatVector.fromArray(S, kT, c * stride + j).fma(qc, a0);
                }
                a0.intoArray(out, outOff + j);
            }
            for (; j < len; j++) {
                float a = 0f;
                for (int c = 0; c < rows; c++) {
                    a = Math.fma(kT[c * stride + j], q[qOff + c] * scale, a);
                }
                out[outOff + j] = a;
            }
        }

        /**
         * Columns in chunks of 8 vectors, then of 4, then single vectors, each chunk's accumulators held in
         * registers over all of p (one load and one FMA per term, no stores until the chunk ends); the columns past
         * the last whole vector go through {@link #axpy}'s scalar tail. Every column gets the FMA chain of
         * {@link #axpy} over j, so the chunking never changes a result.
         */
        @Override
        public void weightedRows(float[] p, int pOff, int len, float[] v, int vOff, int vStride, int width,
                                 float[] out, int outOff) {
            int lanes = S.length();
            int c0 = 0;
            for (; c0 + 8 * lanes <= width; c0 += 8 * lanes) {
                weightedChunk8(p, pOff, len, v, vOff + c0, vStride, out, outOff + c0);
            }
            for (; c0 + 4 * lanes <= width; c0 += 4 * lanes) { // e.g. heads of 32 floats on 8 lanes
                weightedChunk4(p, pOff, len, v, vOff + c0, vStride, out, outOff + c0);
            }
            for (; c0 + lanes <= width; c0 += lanes) {
                FloatVector a = FloatVector.zero(S);
                for (int j = 0; j < len; j++) {
                    a = FloatVector.fromArray(S, v, vOff + j * vStride + c0).fma(FloatVector.broadcast(S, p[pOff + j]),
                        a);
                }
                a.intoArray(out, outOff + c0);
            }
            if (c0 < width) {
                int rest = width - c0;
                java.util.Arrays.fill(out, outOff + c0, outOff + width, 0f);
                for (int j = 0; j < len; j++) {
                    axpy(p[pOff + j], v, vOff + j * vStride + c0, out, outOff + c0, rest);
                }
            }
        }

        /**
         * 4 heads at a time: per key row, each lane group of the key is loaded once for the 4 heads (4 accumulators,
         * each the chain {@link #dot} runs, so the same sums). Other head counts, and widths that are not a multiple
         * of the lanes, take the generic loop.
         */
        @Override
        public void headDots(float[] q, int qOff, int heads, int width, float scale, float[] k, int kOff,
                             int kStride, int len, float[] out, int outOff, int outStride) {
            if (heads != 4 || width % S.length() != 0) {
                super.headDots(q, qOff, heads, width, scale, k, kOff, kStride, len, out, outOff, outStride);
                return;
            }
            int lanes = S.length();
            if (width == 4 * lanes) { // e.g. 64-wide heads on 16 lanes: the queries stay in 16 registers
                headDots4x4(q, qOff, scale, k, kOff, kStride, len, out, outOff, outStride);
                return;
            }
            for (int j = 0; j < len; j++) {
                int b = kOff + j * kStride;
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (long lc = 0; lc < width; lc += lanes) { // long: see JavaTensorOps' promptPair
                    int c = (int) lc;
                    FloatVector kv = FloatVector.fromArray(S, k, b + c);
                    a0 = FloatVector.fromArray(S, q, qOff + c).fma(kv, a0);
                    a1 = FloatVector.fromArray(S, q, qOff + width + c).fma(kv, a1);
                    a2 = FloatVector.fromArray(S, q, qOff + 2 * width + c).fma(kv, a2);
                    a3 = FloatVector.fromArray(S, q, qOff + 3 * width + c).fma(kv, a3);
                }
                storeSums4(a0, a1, a2, a3, scale, out, outOff + j, outStride);
            }
        }

        /**
         * {@link #headDots} for 4 heads of width 4 × lanes: the 16 query vectors are loaded once (the general loop
         * reloads them per key: a write to {@code out} might alias them; {@code out} must not overlap {@code q}
         * here), each key's 4 vectors serve 16 fused
         * multiply-adds, the same chains as {@link #dot} (from zero, in order of the lane groups). A harness on
         * 256 keys: 2.8 µs against 5.4 before (the general loop, in-order lane sums).
         */
        private static void headDots4x4(float[] q, int qOff, float scale, float[] k, int kOff, int kStride, int len,
                                        float[] out, int outOff, int outStride) {
            int l = S.length();
            FloatVector z = FloatVector.zero(S);
            FloatVector q00 = FloatVector.fromArray(S, q, qOff);
            FloatVector q01 = FloatVector.fromArray(S, q, qOff + l);
            FloatVector q02 = FloatVector.fromArray(S, q, qOff + 2 * l);
            FloatVector q03 = FloatVector.fromArray(S, q, qOff + 3 * l);
            FloatVector q10 = FloatVector.fromArray(S, q, qOff + 4 * l);
            FloatVector q11 = FloatVector.fromArray(S, q, qOff + 5 * l);
            FloatVector q12 = FloatVector.fromArray(S, q, qOff + 6 * l);
            FloatVector q13 = FloatVector.fromArray(S, q, qOff + 7 * l);
            FloatVector q20 = FloatVector.fromArray(S, q, qOff + 8 * l);
            FloatVector q21 = FloatVector.fromArray(S, q, qOff + 9 * l);
            FloatVector q22 = FloatVector.fromArray(S, q, qOff + 10 * l);
            FloatVector q23 = FloatVector.fromArray(S, q, qOff + 11 * l);
            FloatVector q30 = FloatVector.fromArray(S, q, qOff + 12 * l);
            FloatVector q31 = FloatVector.fromArray(S, q, qOff + 13 * l);
            FloatVector q32 = FloatVector.fromArray(S, q, qOff + 14 * l);
            FloatVector q33 = FloatVector.fromArray(S, q, qOff + 15 * l);
            for (int j = 0; j < len; j++) {
                int b = kOff + j * kStride;
                FloatVector k0 = FloatVector.fromArray(S, k, b);
                FloatVector k1 = FloatVector.fromArray(S, k, b + l);
                FloatVector k2 = FloatVector.fromArray(S, k, b + 2 * l);
                FloatVector k3 = FloatVector.fromArray(S, k, b + 3 * l);
                FloatVector a0 = q03.fma(k3, q02.fma(k2, q01.fma(k1, q00.fma(k0, z))));
                FloatVector a1 = q13.fma(k3, q12.fma(k2, q11.fma(k1, q10.fma(k0, z))));
                FloatVector a2 = q23.fma(k3, q22.fma(k2, q21.fma(k1, q20.fma(k0, z))));
                FloatVector a3 = q33.fma(k3, q32.fma(k2, q31.fma(k1, q30.fma(k0, z))));
                storeSums4(a0, a1, a2, a3, scale, out, outOff + j, outStride);
            }
        }

        /**
         * {@code out[o + h·outStride] = sumLanes(a_h) · scale} for the 4 vectors, with {@link #sumLanes}' bits.
         */
        private static void storeSums4(FloatVector a0, FloatVector a1, FloatVector a2, FloatVector a3, float scale,
                                       float[] out, int o, int outStride) {
            if (!BUTTERFLY) {
                out[o] = sumLanes(a0) * scale;
                out[o + outStride] = sumLanes(a1) * scale;
                out[o + 2 * outStride] = sumLanes(a2) * scale;
                out[o + 3 * outStride] = sumLanes(a3) * scale;
                return;
            }
            // the four butterflies at once (each sumLanes' tree, so each equals dot's bits): the first step leaves
            // heads 0 and 1 in the two halves of one vector, heads 2 and 3 in another, the second all four in
            // quarters (heads 0, 2, 1, 3), the last two sum within the quarters
            FloatVector c01 = a0.blend(a1, HALF_HI).add(a1.blend(a0, HALF_HI).rearrange(SWAP_8));
            FloatVector c23 = a2.blend(a3, HALF_HI).add(a3.blend(a2, HALF_HI).rearrange(SWAP_8));
            FloatVector d = c01.blend(c23, QUARTER_HI).add(c23.blend(c01, QUARTER_HI).rearrange(SWAP_4));
            d = d.add(d.rearrange(SWAP_2));
            d = d.add(d.rearrange(SWAP_1));
            out[o] = d.lane(0) * scale;
            out[o + outStride] = d.lane(8) * scale;
            out[o + 2 * outStride] = d.lane(4) * scale;
            out[o + 3 * outStride] = d.lane(12) * scale;
        }

        /**
         * Whether the kernels that keep 16 accumulators are used: where vectors have 16 lanes or more (AVX-512,
         * 32 vector registers); with AVX2's 16 registers they would spill.
         */
        private static final boolean WIDE = S.length() >= 16;

        /**
         * Heads in fours ({@link #WIDE}) or pairs over blocks of 4 position vectors (16 or 8 accumulators, each key
         * vector loaded once for the heads of the group). Past the last whole block, when there are at least
         * 4 vectors of positions, one more block ends exactly at {@code len}: it recomputes some scores, to the
         * same bits (every score is its own chain over the rows), instead of leaving up to 63 positions to the
         * single-vector and scalar loops, whose one chain at a time waits on each multiply-add.
         */
        @Override
        public void transposedDots(float[] q, int qOff, int qStride, int heads, float scale, float[] kT, int stride,
                                   int rows, float[] out, int outOff, int outStride, int len) {
            int block = 4 * S.length();
            int h = 0;
            if (WIDE && len >= block) {
                for (; h + 3 < heads; h += 4) {
                    int q0 = qOff + h * qStride;
                    int o0 = outOff + h * outStride;
                    for (int j = 0; ; j += block) {
                        int at = Math.min(j, len - block);
                        fma4x4(q, q0, qStride, scale, rows, kT, at, stride, out, o0 + at, outStride);
                        if (at + block >= len) {
                            break;
                        }
                    }
                }
            }
            for (; h + 1 < heads; h += 2) {
                int q0 = qOff + h * qStride;
                int o0 = outOff + h * outStride;
                if (len >= block) {
                    for (int j = 0; ; j += block) {
                        int at = Math.min(j, len - block);
                        dots4x2(q, q0, q0 + qStride, scale, kT, stride, rows, at, out, o0 + at, o0 + outStride + at);
                        if (at + block >= len) {
                            break;
                        }
                    }
                } else { // fewer positions than one block, one head at a time
                    transposedDots(q, q0, scale, kT, stride, rows, out, o0, len);
                    transposedDots(q, q0 + qStride, scale, kT, stride, rows, out, o0 + outStride, len);
                }
            }
            if (h < heads) {
                transposedDots(q, qOff + h * qStride, scale, kT, stride, rows, out, outOff + h * outStride, len);
            }
        }

        /**
         * The 16-accumulator kernel of the four-head forms: for i < 4 and the 4 vectors k < 4 from {@code m0},
         * {@code out[o + i·outStride + k·lanes ..] = Σ_{t<count} (w[wa + i·wStride + t]·scale)
         * · m[m0 + t·mStride + k·lanes ..]}, one FMA chain per output vector in order of t, from zero. Each t's
         * 4 vector loads serve 16 FMAs. Scores: w the queries, m the transposed keys (t a head dimension); weighted
         * values: w the weights with scale 1, m the value rows (t a position).
         */
        private static void fma4x4(float[] w, int wa, int wStride, float scale, int count, float[] m, int m0,
                                   int mStride, float[] out, int o, int outStride) {
            int lanes = S.length();
            int qa = wa;
            int qb = qa + wStride;
            int qc = qb + wStride;
            int qd = qc + wStride;
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            FloatVector c0 = a0;
            FloatVector c1 = a0;
            FloatVector c2 = a0;
            FloatVector c3 = a0;
            FloatVector d0 = a0;
            FloatVector d1 = a0;
            FloatVector d2 = a0;
            FloatVector d3 = a0;
            for (int t = 0; t < count; t++) {
                FloatVector qw = FloatVector.broadcast(S, w[qa + t] * scale);
                FloatVector qx = FloatVector.broadcast(S, w[qb + t] * scale);
                FloatVector qy = FloatVector.broadcast(S, w[qc + t] * scale);
                FloatVector qz = FloatVector.broadcast(S, w[qd + t] * scale);
                int b = m0 + t * mStride;
                FloatVector k0 = FloatVector.fromArray(S, m, b);
                a0 = k0.fma(qw, a0);
                b0 = k0.fma(qx, b0);
                c0 = k0.fma(qy, c0);
                d0 = k0.fma(qz, d0);
                FloatVector k1 = FloatVector.fromArray(S, m, b + lanes);
                a1 = k1.fma(qw, a1);
                b1 = k1.fma(qx, b1);
                c1 = k1.fma(qy, c1);
                d1 = k1.fma(qz, d1);
                FloatVector k2 = FloatVector.fromArray(S, m, b + 2 * lanes);
                a2 = k2.fma(qw, a2);
                b2 = k2.fma(qx, b2);
                c2 = k2.fma(qy, c2);
                d2 = k2.fma(qz, d2);
                FloatVector k3 = FloatVector.fromArray(S, m, b + 3 * lanes);
                a3 = k3.fma(qw, a3);
                b3 = k3.fma(qx, b3);
                c3 = k3.fma(qy, c3);
                d3 = k3.fma(qz, d3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + lanes);
            a2.intoArray(out, o + 2 * lanes);
            a3.intoArray(out, o + 3 * lanes);
            int ob = o + outStride;
            b0.intoArray(out, ob);
            b1.intoArray(out, ob + lanes);
            b2.intoArray(out, ob + 2 * lanes);
            b3.intoArray(out, ob + 3 * lanes);
            int oc = ob + outStride;
            c0.intoArray(out, oc);
            c1.intoArray(out, oc + lanes);
            c2.intoArray(out, oc + 2 * lanes);
            c3.intoArray(out, oc + 3 * lanes);
            int od = oc + outStride;
            d0.intoArray(out, od);
            d1.intoArray(out, od + lanes);
            d2.intoArray(out, od + 2 * lanes);
            d3.intoArray(out, od + 3 * lanes);
        }

        /** {@link #dots4} for two queries sharing every key load. */
        private static void dots4x2(float[] q, int qa, int qb, float scale, float[] kT, int stride, int rows, int j,
                                    float[] out, int oa, int ob) {
            int lanes = S.length();
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            for (int c = 0; c < rows; c++) {
                FloatVector qx = FloatVector.broadcast(S, q[qa + c] * scale);
                FloatVector qy = FloatVector.broadcast(S, q[qb + c] * scale);
                int b = c * stride + j;
                FloatVector k0 = FloatVector.fromArray(S, kT, b);
                a0 = k0.fma(qx, a0);
                b0 = k0.fma(qy, b0);
                FloatVector k1 = FloatVector.fromArray(S, kT, b + lanes);
                a1 = k1.fma(qx, a1);
                b1 = k1.fma(qy, b1);
                FloatVector k2 = FloatVector.fromArray(S, kT, b + 2 * lanes);
                a2 = k2.fma(qx, a2);
                b2 = k2.fma(qy, b2);
                FloatVector k3 = FloatVector.fromArray(S, kT, b + 3 * lanes);
                a3 = k3.fma(qx, a3);
                b3 = k3.fma(qy, b3);
            }
            a0.intoArray(out, oa);
            a1.intoArray(out, oa + lanes);
            a2.intoArray(out, oa + 2 * lanes);
            a3.intoArray(out, oa + 3 * lanes);
            b0.intoArray(out, ob);
            b1.intoArray(out, ob + lanes);
            b2.intoArray(out, ob + 2 * lanes);
            b3.intoArray(out, ob + 3 * lanes);
        }

        /** Positions {@code [j, j + 4·lanes)} of {@link #transposedDots} into {@code out[o, …)}. */
        private static void dots4(float[] q, int qOff, float scale, float[] kT, int stride, int rows, int j,
                                  float[] out, int o) {
            int lanes = S.length();
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int c = 0; c < rows; c++) {
                FloatVector qc = FloatVector.broadcast(S, q[qOff + c] * scale);
                int b = c * stride + j;
                a0 = FloatVector.fromArray(S, kT, b).fma(qc, a0);
                a1 = FloatVector.fromArray(S, kT, b + lanes).fma(qc, a1);
                a2 = FloatVector.fromArray(S, kT, b + 2 * lanes).fma(qc, a2);
                a3 = FloatVector.fromArray(S, kT, b + 3 * lanes).fma(qc, a3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + lanes);
            a2.intoArray(out, o + 2 * lanes);
            a3.intoArray(out, o + 3 * lanes);
        }

        /**
         * 8 vectors of columns of {@link #weightedRows}, row j's from {@code v[b0 + j·vStride]}, into {@code out[o, …)}.
         * No branch in the loop:
         * with one (skipping zero weights), C2 on JDK 17 kept the accumulators boxed across the merge and the loop
         * ran 13× slower (ad-hoc harness: 37 against 2.9 µs for 1,024 positions × 64 columns).
         */
        private static void weightedChunk8(float[] p, int pOff, int len, float[] v, int b0, int vStride,
                                           float[] out, int o) {
            int lanes = S.length();
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int j = 0; j < len; j++) {
                FloatVector pw = FloatVector.broadcast(S, p[pOff + j]);
                int b = b0 + j * vStride;
                a0 = FloatVector.fromArray(S, v, b).fma(pw, a0);
                a1 = FloatVector.fromArray(S, v, b + lanes).fma(pw, a1);
                a2 = FloatVector.fromArray(S, v, b + 2 * lanes).fma(pw, a2);
                a3 = FloatVector.fromArray(S, v, b + 3 * lanes).fma(pw, a3);
                a4 = FloatVector.fromArray(S, v, b + 4 * lanes).fma(pw, a4);
                a5 = FloatVector.fromArray(S, v, b + 5 * lanes).fma(pw, a5);
                a6 = FloatVector.fromArray(S, v, b + 6 * lanes).fma(pw, a6);
                a7 = FloatVector.fromArray(S, v, b + 7 * lanes).fma(pw, a7);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + lanes);
            a2.intoArray(out, o + 2 * lanes);
            a3.intoArray(out, o + 3 * lanes);
            a4.intoArray(out, o + 4 * lanes);
            a5.intoArray(out, o + 5 * lanes);
            a6.intoArray(out, o + 6 * lanes);
            a7.intoArray(out, o + 7 * lanes);
        }

        /**
         * Columns in chunks of 4 vectors for both heads at once (8 accumulators; each row's 4 loads serve 8 FMAs),
         * the rest per head; every column gets the FMA chain of {@link #axpy} over j, as in {@link #weightedRows}.
         */
        @Override
        public void weightedRowsPair(float[] p, int pOff, int pOff2, int len, float[] v, int vOff, int vStride,
                                     int width, float[] out, int outOff, int outOff2) {
            int lanes = S.length();
            if (width >= 8 * lanes) { // whole heads of 8 vectors already keep 8 accumulators busy per head
                super.weightedRowsPair(p, pOff, pOff2, len, v, vOff, vStride, width, out, outOff, outOff2);
                return;
            }
            int c0 = 0;
            for (; c0 + 4 * lanes <= width; c0 += 4 * lanes) {
                weightedChunk4x2(p, pOff, pOff2, len, v, vOff + c0, vStride, out, outOff + c0, outOff2 + c0);
            }
            if (c0 < width) {
                weightedRows(p, pOff, len, v, vOff + c0, vStride, width - c0, out, outOff + c0);
                weightedRows(p, pOff2, len, v, vOff + c0, vStride, width - c0, out, outOff2 + c0);
            }
        }

        /**
         * Four heads at a time where {@link #WIDE}, in column chunks of 4 vectors ({@link #fma4x4}: 16
         * accumulators; each row's 4 loads serve 16 FMAs), the rest in pairs ({@link #weightedRowsPair}); every
         * column gets the FMA chain of {@link #axpy} over j, as in {@link #weightedRows}.
         */
        @Override
        public void weightedRowsHeads(float[] p, int pOff, int pStride, int heads, int len, float[] v, int vOff,
                                      int vStride, int width, float[] out, int outOff, int outStride) {
            int lanes = S.length();
            int h = 0;
            if (WIDE && width % (4 * lanes) == 0) {
                for (; h + 3 < heads; h += 4) {
                    for (int c0 = 0; c0 < width; c0 += 4 * lanes) {
                        // the weights times 1f: the same floats, so each column's chain is axpy's
                        fma4x4(p, pOff + h * pStride, pStride, 1f, len, v, vOff + c0, vStride, out,
                            outOff + h * outStride + c0, outStride);
                    }
                }
            }
            super.weightedRowsHeads(p, pOff + h * pStride, pStride, heads - h, len, v, vOff, vStride, width, out,
                outOff + h * outStride, outStride);
        }

        /** {@link #weightedChunk4} for two heads sharing the loads of v. */
        private static void weightedChunk4x2(float[] p, int pOff, int pOff2, int len, float[] v, int b0, int vStride,
                                             float[] out, int o, int o2) {
            int lanes = S.length();
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0v = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            for (int j = 0; j < len; j++) {
                FloatVector pw = FloatVector.broadcast(S, p[pOff + j]);
                FloatVector pw2 = FloatVector.broadcast(S, p[pOff2 + j]);
                int b = b0 + j * vStride;
                FloatVector v0 = FloatVector.fromArray(S, v, b);
                FloatVector v1 = FloatVector.fromArray(S, v, b + lanes);
                FloatVector v2 = FloatVector.fromArray(S, v, b + 2 * lanes);
                FloatVector v3 = FloatVector.fromArray(S, v, b + 3 * lanes);
                a0 = v0.fma(pw, a0);
                a1 = v1.fma(pw, a1);
                a2 = v2.fma(pw, a2);
                a3 = v3.fma(pw, a3);
                b0v = v0.fma(pw2, b0v);
                b1 = v1.fma(pw2, b1);
                b2 = v2.fma(pw2, b2);
                b3 = v3.fma(pw2, b3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + lanes);
            a2.intoArray(out, o + 2 * lanes);
            a3.intoArray(out, o + 3 * lanes);
            b0v.intoArray(out, o2);
            b1.intoArray(out, o2 + lanes);
            b2.intoArray(out, o2 + 2 * lanes);
            b3.intoArray(out, o2 + 3 * lanes);
        }

        /** {@link #weightedChunk8} over 4 vectors. */
        private static void weightedChunk4(float[] p, int pOff, int len, float[] v, int b0, int vStride,
                                           float[] out, int o) {
            int lanes = S.length();
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int j = 0; j < len; j++) {
                FloatVector pw = FloatVector.broadcast(S, p[pOff + j]);
                int b = b0 + j * vStride;
                a0 = FloatVector.fromArray(S, v, b).fma(pw, a0);
                a1 = FloatVector.fromArray(S, v, b + lanes).fma(pw, a1);
                a2 = FloatVector.fromArray(S, v, b + 2 * lanes).fma(pw, a2);
                a3 = FloatVector.fromArray(S, v, b + 3 * lanes).fma(pw, a3);
            }
            a0.intoArray(out, o);
            a1.intoArray(out, o + lanes);
            a2.intoArray(out, o + 2 * lanes);
            a3.intoArray(out, o + 3 * lanes);
        }

        @Override
        public String describe() {
            return "vector " + S.vectorBitSize() + "-bit";
        }
    }
}
