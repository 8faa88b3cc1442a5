package io.reviver.kernel.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void greedyPicksLargestLowestIndexOnTiesAndSkipsNaN() {
        assertEquals(2, GreedySampler.argmax(new float[] {1, 2, 5, 5, -1}));
        assertEquals(1, GreedySampler.argmax(new float[] {Float.NaN, 3, Float.NaN}));
        assertEquals(0, GreedySampler.argmax(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}));
        assertInstanceOf(GreedySampler.class, Sampler.of(0, 0.9, 1));
    }

    private static int[] run(long seed, float[] logits, double t, double p, int n) {
        Sampler s = Sampler.of(t, p, seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] logits = new float[50];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) r.nextGaussian();
        }
        assertArrayEquals(run(42, logits, 1.0, 0.9, 200), run(42, logits, 1.0, 0.9, 200));
        assertFalse(java.util.Arrays.equals(run(42, logits, 1.0, 0.9, 200), run(43, logits, 1.0, 0.9, 200)));
    }

    @Test
    void frequenciesFollowSoftmaxWithTemperature() {
        // p ∝ exp(l / T): logits ln(1), ln(2), ln(3), ln(4) at T = 1 give 0.1, 0.2, 0.3, 0.4
        float[] logits = {(float) Math.log(1), (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        int n = 40000;
        int[] counts = new int[4];
        for (int tok : run(5, logits, 1.0, 1.0, n)) {
            counts[tok]++;
        }
        for (int i = 0; i < 4; i++) {
            double expected = (i + 1) / 10.0;
            // 5 standard deviations of a binomial proportion
            double sd = Math.sqrt(expected * (1 - expected) / n);
            assertEquals(expected, counts[i] / (double) n, 5 * sd, "token " + i);
        }
        // T = 0.5 squares the odds: 1:4:9:16
        counts = new int[4];
        for (int tok : run(6, logits, 0.5, 1.0, n)) {
            counts[tok]++;
        }
        assertEquals(16 / 30.0, counts[3] / (double) n, 0.02);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // probabilities 0.1, 0.2, 0.3, 0.4: top-p 0.6 keeps {3, 2} (mass 0.7); token 0 and 1 never appear
        float[] logits = {(float) Math.log(1), (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        int n = 20000;
        int[] counts = new int[4];
        for (int tok : run(9, logits, 1.0, 0.6, n)) {
            counts[tok]++;
        }
        assertEquals(0, counts[0]);
        assertEquals(0, counts[1]);
        assertEquals(4 / 7.0, counts[3] / (double) n, 0.02);
        // a tiny top-p keeps only the argmax
        for (int tok : run(10, logits, 1.0, 0.01, 100)) {
            assertEquals(3, tok);
        }
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(-1, 0.9, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(Double.NaN, 0.9, 1));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 1.5, 1));
        assertTrue(e.getMessage().contains("1.5"));
    }
}
