package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Rope#rotate} (vector forms where the rotary width allows) against its scalar loop, bit for bit: both
 * layouts, full and partial rotary widths (including widths the vector forms leave to the scalar loop), several
 * heads, forward and inverse angles, far positions; and the dot form a folded sketch scores pre-RoPE keys with.
 */
class RopeTest {

    @Test
    void rotateEqualsTheScalarLoopBitForBit() {
        SplittableRandom r = new SplittableRandom(21);
        for (RopeLayout layout : RopeLayout.values()) {
            for (int[] dims : new int[][] {{64, 64}, {128, 128}, {64, 32}, {80, 80}, {128, 64}}) {
                int headSize = dims[0];
                int ropeDim = dims[1];
                int heads = 3;
                LlamaConfig c = new LlamaConfig(Architecture.LLAMA, headSize * heads, 1, 4 * headSize, heads, heads,
                    headSize, 32, 8192, 1e-5f, 500000f, ropeDim, layout, RopeScaling.NONE);
                Rope rope = new Rope(c, null);
                float[] cos = new float[ropeDim / 2];
                float[] sin = new float[ropeDim / 2];
                for (int position : new int[] {0, 1, 37, 2047, 8000}) {
                    rope.angles(position, cos, sin);
                    float[] negSin = new float[sin.length];
                    for (int i = 0; i < sin.length; i++) {
                        negSin[i] = -sin[i];
                    }
                    for (float[] s : new float[][] {sin, negSin}) {
                        float[] a = new float[5 + heads * headSize];
                        for (int i = 0; i < a.length; i++) {
                            a[i] = (float) (r.nextGaussian() * 3);
                        }
                        float[] b = a.clone();
                        rope.rotate(a, 5, heads, headSize, cos, s);
                        rope.rotateScalar(b, 5, heads, headSize, cos, 0, s, 0);
                        for (int i = 0; i < a.length; i++) {
                            assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), layout + " hs="
                                + headSize + " ropeDim=" + ropeDim + " position=" + position + " element " + i);
                        }
                    }
                }
            }
        }
    }

    /**
     * The dot form: {@code q · rotate(x, p) = pairProducts(q, x, scale) · features(p) / scale}, both layouts, full
     * and partial rotary widths, near and far positions; within {@code 1e-6 · Σ|q_c·x_c|}, float rounding of the two
     * 64- to 128-term sums (a pair product is two roundings, a rotated element two more).
     */
    @Test
    void dotFormEqualsTheDotWithTheRotatedKey() {
        SplittableRandom r = new SplittableRandom(22);
        for (RopeLayout layout : RopeLayout.values()) {
            for (int[] dims : new int[][] {{64, 64}, {128, 128}, {64, 32}, {80, 80}}) {
                int headSize = dims[0];
                int ropeDim = dims[1];
                LlamaConfig c = new LlamaConfig(Architecture.LLAMA, headSize, 1, 4 * headSize, 1, 1, headSize, 32,
                    8192, 1e-5f, 500000f, ropeDim, layout, RopeScaling.NONE);
                Rope rope = new Rope(c, null);
                float[] cos = new float[ropeDim / 2];
                float[] sin = new float[ropeDim / 2];
                float[] features = new float[headSize];
                float[] products = new float[2 + headSize];
                for (int position : new int[] {0, 1, 37, 2047, 8000}) {
                    rope.angles(position, cos, sin);
                    rope.features(cos, sin, headSize, features);
                    float[] q = new float[headSize];
                    float[] x = new float[3 + headSize];
                    double magnitude = 0;
                    for (int i = 0; i < headSize; i++) {
                        q[i] = (float) r.nextGaussian();
                        x[3 + i] = (float) (r.nextGaussian() + 2);
                        magnitude += Math.abs(q[i] * x[3 + i]);
                    }
                    float scale = 0.125f;
                    rope.pairProducts(q, 0, x, 3, headSize, scale, products, 2);
                    double folded = 0;
                    for (int i = 0; i < headSize; i++) {
                        folded += (double) products[2 + i] * features[i];
                    }
                    float[] rotated = java.util.Arrays.copyOfRange(x, 3, 3 + headSize);
                    rope.rotate(rotated, 0, 1, headSize, cos, sin);
                    double direct = 0;
                    for (int i = 0; i < headSize; i++) {
                        direct += (double) q[i] * rotated[i];
                    }
                    assertEquals(direct, folded / scale, 1e-6 * magnitude, layout + " hs=" + headSize + " ropeDim="
                        + ropeDim + " position=" + position);
                }
            }
        }
    }
}
