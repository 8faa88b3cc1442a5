package io.reviver.kernel.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding for one model: the per-pair inverse frequencies, and the rotation of q/k heads.
 * Pair {@code i} of a head (elements {@code (2i, 2i+1)} for {@link RopeLayout#NORMAL}, {@code (i, i + ropeDim/2)}
 * for {@link RopeLayout#NEOX}) is rotated by angle {@code position · invFreq[i]}; elements at and beyond
 * {@code ropeDim} are left unchanged. Angles are computed in double, rotations in float. Immutable.
 */
public final class Rope {

    private final RopeLayout layout;
    private final int ropeDim;
    private final double[] invFreq; // (ropeDim / 2)

    /**
     * @param config    model configuration (theta, ropeDim, layout, scaling)
     * @param ropeFreqs divisors from the {@code rope_freqs.weight} tensor (ropeDim / 2), or null to derive them
     *                  from {@code config.ropeScaling()}
     */
    public Rope(LlamaConfig config, float[] ropeFreqs) {
        this.layout = config.ropeLayout();
        this.ropeDim = config.ropeDim();
        double[] base = baseInverseFrequencies(config.ropeTheta(), ropeDim);
        double[] divisors;
        if (ropeFreqs != null) {
            if (ropeFreqs.length != ropeDim / 2) {
                throw new ModelConfigException("tensor 'rope_freqs.weight' has " + ropeFreqs.length
                    + " elements, expected ropeDim / 2 = " + ropeDim / 2);
            }
            divisors = new double[ropeFreqs.length];
            for (int i = 0; i < divisors.length; i++) {
                if (!(ropeFreqs[i] > 0) || Float.isInfinite(ropeFreqs[i])) {
                    throw new ModelConfigException("tensor 'rope_freqs.weight' element " + i + " = " + ropeFreqs[i]
                        + " must be a finite positive number");
                }
                divisors[i] = ropeFreqs[i];
            }
        } else {
            divisors = config.ropeScaling().divisors(base);
        }
        invFreq = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            invFreq[i] = base[i] / divisors[i];
        }
    }

    /** {@code theta^(−2i / ropeDim)} for {@code i < ropeDim / 2}. */
    public static double[] baseInverseFrequencies(double theta, int ropeDim) {
        double[] f = new double[ropeDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, (2.0 * i) / ropeDim);
        }
        return f;
    }

    /** A copy of the effective inverse frequencies (ropeDim / 2). */
    public double[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** Fills {@code cos} and {@code sin} (each ropeDim / 2) with the rotation for {@code position}. */
    public void angles(int position, float[] cos, float[] sin) {
        for (int i = 0; i < invFreq.length; i++) {
            double a = position * invFreq[i];
            cos[i] = (float) Math.cos(a);
            sin[i] = (float) Math.sin(a);
        }
    }

    /**
     * Rotates {@code nHeads} consecutive heads of width {@code headSize} stored in {@code vec} from {@code off},
     * using tables from {@link #angles}.
     */
    public void rotate(float[] vec, int off, int nHeads, int headSize, float[] cos, float[] sin) {
        rotate(vec, off, nHeads, headSize, cos, 0, sin, 0);
    }

    /**
     * {@link #rotate(float[], int, int, int, float[], float[])} with the ropeDim / 2 cosines from
     * {@code cos[cosOff]} and sines from {@code sin[sinOff]} (e.g. both halves of a {@link #features} row).
     */
    public void rotate(float[] vec, int off, int nHeads, int headSize, float[] cos, int cosOff, float[] sin,
                       int sinOff) {
        int half = ropeDim / 2;
        if (VECTOR && half % S.length() == 0) {
            for (int h = 0; h < nHeads; h++) {
                if (layout == RopeLayout.NORMAL) {
                    rotateNormal(vec, off + h * headSize, half, cos, cosOff, sin, sinOff);
                } else {
                    rotateNeox(vec, off + h * headSize, half, cos, cosOff, sin, sinOff);
                }
            }
            return;
        }
        rotateScalar(vec, off, nHeads, headSize, cos, cosOff, sin, sinOff);
    }

    /** The plain loop {@link #rotate} computes, pair by pair; the reference for the vector forms. */
    void rotateScalar(float[] vec, int off, int nHeads, int headSize, float[] cos, int cosOff, float[] sin,
                      int sinOff) {
        int half = ropeDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headSize;
            for (int i = 0; i < half; i++) {
                // the two elements of pair i, by layout
                int a = layout == RopeLayout.NORMAL ? base + 2 * i : base + i;
                int b = layout == RopeLayout.NORMAL ? a + 1 : a + half;
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = x0 * cos[cosOff + i] - x1 * sin[sinOff + i];
                vec[b] = x0 * sin[sinOff + i] + x1 * cos[cosOff + i];
            }
        }
    }

    /**
     * The position features of RoPE's dot form ({@code KeyRotation.DotForm}): {@code out} (headSize) gets the
     * cosines of the ropeDim / 2 pairs, then their sines, then 1 for each element RoPE leaves alone.
     */
    public void features(float[] cos, float[] sin, int headSize, float[] out) {
        int half = ropeDim / 2;
        System.arraycopy(cos, 0, out, 0, half);
        System.arraycopy(sin, 0, out, half, half);
        java.util.Arrays.fill(out, ropeDim, headSize, 1f);
    }

    /**
     * The pair products of RoPE's dot form, scaled: for pair i with elements (a, b) of this layout,
     * {@code out[i] = scale·(q_a x_a + q_b x_b)} and {@code out[ropeDim/2 + i] = scale·(q_b x_a − q_a x_b)}; for
     * each element c at and beyond ropeDim, {@code out[c] = scale·q_c x_c}. Then
     * {@code q · rotate(x, p) = out · features(p) / scale}.
     */
    public void pairProducts(float[] q, int qOff, float[] x, int xOff, int headSize, float scale, float[] out,
                             int outOff) {
        int half = ropeDim / 2;
        for (int i = 0; i < half; i++) {
            int a = layout == RopeLayout.NORMAL ? 2 * i : i;
            int b = layout == RopeLayout.NORMAL ? a + 1 : a + half;
            float qa = q[qOff + a];
            float qb = q[qOff + b];
            float xa = x[xOff + a];
            float xb = x[xOff + b];
            out[outOff + i] = scale * (qa * xa + qb * xb);
            out[outOff + half + i] = scale * (qb * xa - qa * xb);
        }
        for (int c = ropeDim; c < headSize; c++) {
            out[outOff + c] = scale * (q[qOff + c] * x[xOff + c]);
        }
    }

    /** Whether the vector forms run (a float vector of at least 4 lanes); results never depend on it. */
    private static final boolean VECTOR = FloatVector.SPECIES_PREFERRED.length() >= 4;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lane i takes lane i / 2, and lane lanes/2 + i / 2: the cos or sin of each lane's pair, low and high half. */
    private static final VectorShuffle<Float> PAIRS_LOW = VectorShuffle.fromOp(S, i -> i / 2);
    private static final VectorShuffle<Float> PAIRS_HIGH = VectorShuffle.fromOp(S, i -> S.length() / 2 + i / 2);
    /** Lane i takes lane i ^ 1: each pair's other element. */
    private static final VectorShuffle<Float> SWAP = VectorShuffle.fromOp(S, i -> i ^ 1);
    /** −1 on the first element of a pair, +1 on the second. */
    private static final FloatVector SIGNS = FloatVector.fromArray(S, signs(S.length()), 0);

    private static float[] signs(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (i & 1) == 0 ? -1f : 1f;
        }
        return f;
    }

    /**
     * NORMAL layout, vectorised: {@code out = x·cos + swap(x)·(±sin)}, per element the same two products and one
     * sum as the scalar loop ({@code x0·c − x1·s} as {@code x0·c + x1·(−s)}, and {@code x0·s + x1·c} added in the
     * other order), so bit-identical to it. Multiplying by ±1 is exact.
     */
    private static void rotateNormal(float[] vec, int base, int half, float[] cos, int cosOff, float[] sin,
                                     int sinOff) {
        int lanes = S.length();
        for (int i = 0; i < half; i += lanes) { // pairs [i, i + lanes): elements [2i, 2i + 2·lanes)
            FloatVector c = FloatVector.fromArray(S, cos, cosOff + i);
            FloatVector sn = FloatVector.fromArray(S, sin, sinOff + i);
            int e = base + 2 * i;
            FloatVector x = FloatVector.fromArray(S, vec, e);
            x.mul(c.rearrange(PAIRS_LOW)).add(x.rearrange(SWAP).mul(sn.rearrange(PAIRS_LOW).mul(SIGNS)))
                .intoArray(vec, e);
            FloatVector y = FloatVector.fromArray(S, vec, e + lanes);
            y.mul(c.rearrange(PAIRS_HIGH)).add(y.rearrange(SWAP).mul(sn.rearrange(PAIRS_HIGH).mul(SIGNS)))
                .intoArray(vec, e + lanes);
        }
    }

    /** NEOX layout, vectorised: the halves as vectors, the scalar loop's products and sums in its order. */
    private static void rotateNeox(float[] vec, int base, int half, float[] cos, int cosOff, float[] sin,
                                   int sinOff) {
        int lanes = S.length();
        for (int i = 0; i < half; i += lanes) {
            FloatVector c = FloatVector.fromArray(S, cos, cosOff + i);
            FloatVector sn = FloatVector.fromArray(S, sin, sinOff + i);
            FloatVector x0 = FloatVector.fromArray(S, vec, base + i);
            FloatVector x1 = FloatVector.fromArray(S, vec, base + half + i);
            x0.mul(c).sub(x1.mul(sn)).intoArray(vec, base + i);
            x0.mul(sn).add(x1.mul(c)).intoArray(vec, base + half + i);
        }
    }
}
