package io.reviver.kernel.model;

/**
 * RoPE frequency scaling read from {@code <arch>.rope.scaling.*}.
 *
 * <ul>
 *   <li>{@link Type#NONE}: {@code invFreq[i] = base^(−2i / ropeDim)}.</li>
 *   <li>{@link Type#LINEAR}: every frequency divided by {@code factor} (position interpolation).</li>
 *   <li>{@link Type#LLAMA3}: Llama 3.1's piecewise rule (Meta's reference {@code apply_scaling}): with
 *       wavelength {@code λ = 2π / f}, {@code λ < originalContextLength / highFreqFactor} keeps {@code f},
 *       {@code λ > originalContextLength / lowFreqFactor} uses {@code f / factor}, and in between
 *       {@code s = (originalContextLength / λ − lowFreqFactor) / (highFreqFactor − lowFreqFactor)} blends
 *       {@code (1 − s) · f / factor + s · f}. llama.cpp's converter stores the resulting divisors as the
 *       {@code rope_freqs.weight} tensor, which takes precedence when present.</li>
 * </ul>
 *
 * @param type                  scaling rule
 * @param factor                scale factor (≥ 1 for LINEAR/LLAMA3; 1 for NONE)
 * @param lowFreqFactor         LLAMA3 only (default 1)
 * @param highFreqFactor        LLAMA3 only (default 4); greater than lowFreqFactor
 * @param originalContextLength LLAMA3 only: the pre-training context length (default 8192)
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalContextLength) {

    /** Scaling rules. */
    public enum Type { NONE, LINEAR, LLAMA3 }

    /** No scaling. */
    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 1, 4, 8192);

    public RopeScaling {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new ModelConfigException("rope scaling factor " + factor + " must be a positive number");
        }
        if (type == Type.LLAMA3 && !(highFreqFactor > lowFreqFactor && lowFreqFactor > 0)) {
            throw new ModelConfigException("llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, got "
                + lowFreqFactor + " and " + highFreqFactor);
        }
        if (type == Type.LLAMA3 && originalContextLength <= 0) {
            throw new ModelConfigException("llama3 rope scaling original_context_length " + originalContextLength
                + " must be positive");
        }
    }

    /**
     * Per-pair divisors {@code d[i]} such that the scaled frequency is {@code f[i] / d[i]}, for unscaled
     * frequencies {@code baseInvFreq} (ropeDim / 2). Same convention as the {@code rope_freqs.weight} tensor.
     */
    public double[] divisors(double[] baseInvFreq) {
        double[] d = new double[baseInvFreq.length];
        for (int i = 0; i < d.length; i++) {
            double f = baseInvFreq[i];
            d[i] = switch (type) {
                case NONE -> 1.0;
                case LINEAR -> factor;
                case LLAMA3 -> {
                    double wavelen = 2 * Math.PI / f;
                    double highFreqWavelen = originalContextLength / highFreqFactor;
                    double lowFreqWavelen = originalContextLength / lowFreqFactor;
                    if (wavelen < highFreqWavelen) {
                        yield 1.0;
                    } else if (wavelen > lowFreqWavelen) {
                        yield factor;
                    }
                    double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    yield 1.0 / ((1 - smooth) / factor + smooth);
                }
            };
        }
        return d;
    }
}
