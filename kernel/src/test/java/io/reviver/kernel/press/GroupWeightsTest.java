package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link GroupWeights}: every entry (vector lanes and scalar tail alike) gets the bits of the plain loop the presses
 * used before, {@code g = 0; g += w[q][i] for q in order; mean = g · (1/kvMul)}, for group sizes 1 to 5 and entry
 * counts on and off the lane count; set and add modes, and added sums.
 */
class GroupWeightsTest {

    @Test
    void meansEqualThePlainLoopBitForBit() {
        SplittableRandom r = new SplittableRandom(4);
        for (int kvMul = 1; kvMul <= 5; kvMul++) {
            for (int n : new int[] {0, 1, 7, 8, 31, 64, 100}) {
                int count = n + 3; // weights rows are longer than the entries accumulated
                float[] w = new float[kvMul * count];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) r.nextDouble() / 50;
                }
                float[] base = new float[n + 2];
                for (int i = 0; i < base.length; i++) {
                    base[i] = (float) r.nextDouble();
                }
                float[] added = base.clone();
                float[] set = base.clone();
                float[] sum = base.clone();
                GroupWeights.addMeans(w, count, kvMul, n, added);
                GroupWeights.setMeans(w, count, kvMul, n, set);
                GroupWeights.add(set, n, sum);
                float invMul = 1f / kvMul;
                for (int i = 0; i < base.length; i++) {
                    float want = base[i];
                    float mean = Float.NaN;
                    if (i < n) {
                        float g = 0;
                        for (int q = 0; q < kvMul; q++) {
                            g += w[q * count + i];
                        }
                        mean = g * invMul;
                        want = base[i] + mean;
                    }
                    String at = "kvMul=" + kvMul + " n=" + n + " i=" + i;
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(added[i]), "add " + at);
                    assertEquals(Float.floatToIntBits(i < n ? mean : base[i]), Float.floatToIntBits(set[i]), "set " + at);
                    assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(sum[i]), "sum " + at);
                }
            }
        }
    }
}
