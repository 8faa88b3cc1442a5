package io.reviver.kernel.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Temperature + top-p (nucleus) sampling with an explicit seed. Probabilities are
 * {@code softmax(logits / temperature)} computed in double; the nucleus is the smallest set of most probable
 * tokens (ties broken by lower id) whose probability mass reaches {@code topP}; a token is drawn from it in
 * proportion to its probability with one {@link SplittableRandom#nextDouble()} per call. The same seed and the
 * same logits give the same sequence of tokens. Not thread-safe.
 */
public final class TopPSampler implements Sampler {

    private final double temperature;
    private final double topP;
    private final SplittableRandom random;
    private double[] probs = new double[0];  // (vocabSize) scratch
    private Integer[] order = new Integer[0]; // candidate ids, scratch

    /**
     * @param temperature &gt; 0
     * @param topP        in (0, 1]; 1 samples from the whole distribution
     * @param seed        PRNG seed
     */
    public TopPSampler(double temperature, double topP, long seed) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must lie in (0, 1], got " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public int sample(float[] logits) {
        int n = logits.length;
        if (probs.length != n) {
            probs = new double[n];
            order = new Integer[n];
        }
        // softmax(logits / T) with max subtraction
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double p = Double.isNaN(logits[i]) ? 0 : Math.exp((logits[i] - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= sum;
        }
        double u = random.nextDouble();
        if (topP >= 1) {
            return draw(u, n);
        }
        // Candidates: any token outside the nucleus has p < (1 - topP) / (n - 1), so those can be dropped before
        // sorting (llama2.c's trick) without changing the nucleus.
        double cutoff = n > 1 ? (1 - topP) / (n - 1) : 0;
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= cutoff) {
                order[m++] = i;
            }
        }
        Arrays.sort(order, 0, m, (a, b) -> probs[a] != probs[b] ? Double.compare(probs[b], probs[a]) : a - b);
        double mass = 0;
        int last = m - 1;
        for (int j = 0; j < m; j++) {
            mass += probs[order[j]];
            if (mass >= topP) {
                last = j;
                break;
            }
        }
        double target = u * mass;
        double acc = 0;
        for (int j = 0; j <= last; j++) {
            acc += probs[order[j]];
            if (target < acc) {
                return order[j];
            }
        }
        return order[last];
    }

    /** Inverse-CDF draw over all ids in id order. */
    private int draw(double u, int n) {
        double acc = 0;
        int lastNonZero = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] > 0) {
                lastNonZero = i;
            }
            acc += probs[i];
            if (u < acc) {
                return i;
            }
        }
        return lastNonZero;
    }
}
