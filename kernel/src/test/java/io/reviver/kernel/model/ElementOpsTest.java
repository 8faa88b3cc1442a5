package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API helpers against the scalar reference and against float64 sums, for lengths around lane counts. */
class ElementOpsTest {

    @Test
    void vectorMatchesScalarAndDoubleReference() {
        SplittableRandom r = new SplittableRandom(11);
        ElementOps v = ElementOps.vector();
        ElementOps s = ElementOps.scalar();
        for (int n : new int[] {1, 3, 7, 8, 15, 16, 17, 31, 64, 100, 257}) {
            float[] a = new float[n + 5];
            float[] b = new float[n + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) r.nextGaussian();
            }
            double dot = 0;
            double sq = 0;
            double absSum = 0;
            for (int i = 0; i < n; i++) {
                dot += (double) a[5 + i] * b[3 + i];
                sq += (double) a[5 + i] * a[5 + i];
                absSum += Math.abs((double) a[5 + i] * b[3 + i]);
            }
            // float summation error bound ~ n · 2^-24 · Σ|terms|
            double tol = n * 6e-8 * absSum + 1e-6;
            assertEquals(dot, v.dot(a, 5, b, 3, n), tol, "vector dot n=" + n);
            assertEquals(dot, s.dot(a, 5, b, 3, n), tol, "scalar dot n=" + n);
            assertEquals(sq, v.sumOfSquares(a, 5, n), n * 6e-8 * sq + 1e-6, "vector sumOfSquares n=" + n);
            assertEquals(sq, s.sumOfSquares(a, 5, n), n * 6e-8 * sq + 1e-6, "scalar sumOfSquares n=" + n);

            float[] y1 = b.clone();
            float[] y2 = b.clone();
            v.axpy(0.75f, a, 5, y1, 3, n);
            s.axpy(0.75f, a, 5, y2, 3, n);
            for (int i = 0; i < b.length; i++) {
                double expected = i >= 3 && i < 3 + n ? b[i] + 0.75 * a[5 + i - 3] : b[i];
                assertEquals(expected, y1[i], 1e-6 * (1 + Math.abs(expected)), "vector axpy n=" + n + " i=" + i);
                assertEquals(expected, y2[i], 1e-6 * (1 + Math.abs(expected)), "scalar axpy n=" + n + " i=" + i);
            }
        }
    }
}
