package io.reviver.kernel.sample;

/**
 * Picks the next token id from a logits row. Implementations do not modify {@code logits}; stateful ones
 * (seeded random) are not thread-safe and belong to one sequence.
 */
public interface Sampler {

    /**
     * @param logits (vocabSize) unnormalised log-probabilities
     * @return a token id in {@code [0, logits.length)}
     */
    int sample(float[] logits);

    /**
     * The sampler for these settings: greedy when {@code temperature == 0}, else {@link TopPSampler}.
     *
     * @throws IllegalArgumentException for a negative or non-finite temperature or topP outside (0, 1]
     */
    static Sampler of(double temperature, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number ≥ 0, got " + temperature);
        }
        if (temperature == 0) {
            return new GreedySampler();
        }
        return new TopPSampler(temperature, topP, seed);
    }
}
