package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Rope#rotate} (vector forms where the rotary width allows) against its scalar loop, bit for bit: both
 * layouts, full and partial rotary widths (including widths the vector forms leave to the scalar loop), several
 * heads, forward and inverse angles, far positions.
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
                        rope.rotateScalar(b, 5, heads, headSize, cos, s);
                        for (int i = 0; i < a.length; i++) {
                            assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), layout + " hs="
                                + headSize + " ropeDim=" + ropeDim + " position=" + position + " element " + i);
                        }
                    }
                }
            }
        }
    }
}
