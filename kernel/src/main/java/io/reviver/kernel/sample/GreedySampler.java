package io.reviver.kernel.sample;

/**
 * Argmax: the index of the largest logit, the lowest such index on ties; NaN logits are never chosen unless all
 * are NaN (then 0). Deterministic and stateless.
 */
public final class GreedySampler implements Sampler {

    @Override
    public int sample(float[] logits) {
        return argmax(logits);
    }

    /** The index of the largest element, lowest index on ties, NaNs skipped. */
    public static int argmax(float[] logits) {
        int best = -1;
        float bestValue = 0f;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (!Float.isNaN(v) && (best < 0 || v > bestValue)) { // strict: the lowest index wins ties
                best = i;
                bestValue = v;
            }
        }
        return Math.max(best, 0);
    }
}
