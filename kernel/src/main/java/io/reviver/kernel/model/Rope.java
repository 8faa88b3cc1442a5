package io.reviver.kernel.model;

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
        int half = ropeDim / 2;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headSize;
            for (int i = 0; i < half; i++) {
                // the two elements of pair i, by layout
                int a = layout == RopeLayout.NORMAL ? base + 2 * i : base + i;
                int b = layout == RopeLayout.NORMAL ? a + 1 : a + half;
                float x0 = vec[a];
                float x1 = vec[b];
                vec[a] = x0 * cos[i] - x1 * sin[i];
                vec[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
