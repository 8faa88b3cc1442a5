package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * softmax and swiGlu on both paths against float64 with {@link Math#exp}: relative error at most 4e-7 per
     * element (a few float roundings plus the vector exponential's 1 ulp); −∞ entries give exactly 0, an offset
     * leaves the neighbours untouched, and lengths around the lane counts cover the scalar tails.
     */
    @Test
    void softmaxAndSwiGluMatchDoubleReference() {
        SplittableRandom r = new SplittableRandom(12);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            for (int n : new int[] {1, 3, 7, 8, 15, 16, 17, 31, 64, 100, 257, 2048}) {
                float[] x = new float[n + 4];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (r.nextGaussian() * 6);
                }
                if (n > 2) {
                    x[2 + n / 2] = Float.NEGATIVE_INFINITY; // a masked entry
                }
                float[] in = x.clone();
                ops.softmax(x, 2, n);
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    max = Math.max(max, in[2 + i]);
                }
                double sum = 0; // the contract subtracts the max in float; the rest is exact here
                for (int i = 0; i < n; i++) {
                    sum += Math.exp(in[2 + i] - max);
                }
                for (int i = 0; i < x.length; i++) {
                    if (i < 2 || i >= 2 + n) {
                        assertEquals(in[i], x[i], ops.describe() + " softmax touched index " + i);
                    } else if (in[i] == Float.NEGATIVE_INFINITY) {
                        assertEquals(0f, x[i], ops.describe() + " softmax of -inf");
                    } else {
                        double expected = Math.exp(in[i] - max) / sum;
                        assertEquals(expected, x[i], 4e-7 * expected + 1e-30, ops.describe() + " softmax n=" + n);
                    }
                }
                float[] gate = new float[n];
                float[] up = new float[n];
                for (int i = 0; i < n; i++) {
                    gate[i] = (float) (r.nextGaussian() * 4);
                    up[i] = (float) r.nextGaussian();
                }
                float[] g0 = gate.clone();
                ops.swiGlu(gate, up, n);
                for (int i = 0; i < n; i++) {
                    double expected = g0[i] / (1 + Math.exp(-g0[i])) * up[i];
                    assertEquals(expected, gate[i], 4e-7 * Math.abs(expected) + 1e-30,
                        ops.describe() + " swiGlu n=" + n + " gate " + g0[i]);
                }
            }
        }
    }

    /**
     * The attention kernels on both paths against float64: transposed dots for lengths around the position blocks
     * (4 vectors, 1 vector, scalar tail), weighted rows for widths that are whole 8-vector chunks (64, 128), a
     * partial chunk (72, 48) and not a lane multiple (7), with zero weights among the others. Tolerance: the float
     * summation bound {@code terms · 6e-8 · Σ|term|}.
     */
    @Test
    void attentionKernelsMatchDoubleReference() {
        SplittableRandom r = new SplittableRandom(13);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            for (int rows : new int[] {7, 64, 128}) {
                for (int len : new int[] {1, 5, 8, 31, 32, 33, 70, 257}) {
                    int stride = len + 3;
                    float[] q = new float[rows + 2];
                    float[] kT = new float[rows * stride];
                    for (int i = 0; i < q.length; i++) {
                        q[i] = (float) r.nextGaussian();
                    }
                    for (int i = 0; i < kT.length; i++) {
                        kT[i] = (float) r.nextGaussian();
                    }
                    float[] out = new float[len + 2];
                    out[len + 1] = 42f;
                    ops.transposedDots(q, 2, 0.125f, kT, stride, rows, out, 1, len);
                    for (int j = 0; j < len; j++) {
                        double e = 0;
                        double abs = 0;
                        for (int c = 0; c < rows; c++) {
                            double term = (double) (q[2 + c] * 0.125f) * kT[c * stride + j];
                            e += term;
                            abs += Math.abs(term);
                        }
                        assertEquals(e, out[1 + j], rows * 6e-8 * abs + 1e-7,
                            ops.describe() + " transposedDots rows=" + rows + " len=" + len + " j=" + j);
                    }
                    assertEquals(42f, out[len + 1], "transposedDots wrote past len");
                }
            }
            for (int width : new int[] {7, 32, 40, 48, 64, 72, 96, 128}) {
                for (int len : new int[] {1, 2, 9, 100}) {
                    float[] p = new float[len + 1];
                    for (int j = 0; j < p.length; j++) {
                        p[j] = j % 3 == 1 ? 0f : (float) r.nextDouble();
                    }
                    float[] v = new float[len * width];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) r.nextGaussian();
                    }
                    float[] out = new float[width + 2];
                    java.util.Arrays.fill(out, 9f);
                    ops.weightedRows(p, 1, len, v, width, out, 1);
                    for (int i = 0; i < width; i++) {
                        double e = 0;
                        double abs = 0;
                        for (int j = 0; j < len; j++) {
                            double term = (double) p[1 + j] * v[j * width + i];
                            e += term;
                            abs += Math.abs(term);
                        }
                        assertEquals(e, out[1 + i], len * 6e-8 * abs + 1e-7,
                            ops.describe() + " weightedRows width=" + width + " len=" + len + " i=" + i);
                    }
                    assertEquals(9f, out[0], "weightedRows wrote before its offset");
                    assertEquals(9f, out[width + 1], "weightedRows wrote past its width");
                    // the same rows in place in a wider array: bit for bit the same
                    int stride = width + 11;
                    float[] wide = new float[5 + len * stride];
                    for (int j = 0; j < len; j++) {
                        System.arraycopy(v, j * width, wide, 5 + j * stride, width);
                    }
                    float[] strided = new float[width + 2];
                    java.util.Arrays.fill(strided, 9f);
                    ops.weightedRows(p, 1, len, wide, 5, stride, width, strided, 1);
                    assertArrayEquals(out, strided, ops.describe() + " strided weightedRows width=" + width
                        + " len=" + len);
                }
            }
        }
    }

    /** SwiGLU over a range split at multiples of 16 gives the bits of one call over all of it, on both paths. */
    @Test
    void swiGluRangesGiveTheWholeCallsBits() {
        SplittableRandom r = new SplittableRandom(16);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            int len = 16 * 37 + 5;
            float[] gate = new float[len];
            float[] up = new float[len];
            for (int i = 0; i < len; i++) {
                gate[i] = (float) (4 * r.nextGaussian());
                up[i] = (float) r.nextGaussian();
            }
            float[] whole = gate.clone();
            ops.swiGlu(whole, up, len);
            float[] parts = gate.clone();
            ops.swiGlu(parts, up, 0, 16 * 11);
            ops.swiGlu(parts, up, 16 * 11, 16 * 20);
            ops.swiGlu(parts, up, 16 * 31, len - 16 * 31);
            assertArrayEquals(whole, parts, 0f, ops.describe());
        }
    }

    /**
     * headDots equals {@link ElementOps#dot} times the scale bit for bit, for every head count (4 is the vector
     * path's shared-key kernel), widths on and off the lane count, and strided keys.
     */
    @Test
    void headDotsEqualOneDotAtATime() {
        SplittableRandom r = new SplittableRandom(15);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            for (int heads = 1; heads <= 5; heads++) {
                for (int width : new int[] {7, 64, 128}) {
                    for (int len : new int[] {1, 3, 33}) {
                        int kStride = width + 3;
                        float[] q = new float[2 + heads * width];
                        float[] k = new float[4 + len * kStride];
                        for (int i = 0; i < q.length; i++) {
                            q[i] = (float) r.nextGaussian();
                        }
                        for (int i = 0; i < k.length; i++) {
                            k[i] = (float) r.nextGaussian();
                        }
                        int outStride = len + 2;
                        float[] out = new float[1 + heads * outStride];
                        java.util.Arrays.fill(out, 42f);
                        ops.headDots(q, 2, heads, width, 0.125f, k, 4, kStride, len, out, 1, outStride);
                        for (int h = 0; h < heads; h++) {
                            for (int j = 0; j < len; j++) {
                                float expected = ops.dot(q, 2 + h * width, k, 4 + j * kStride, width) * 0.125f;
                                assertEquals(expected, out[1 + h * outStride + j], 0f, ops.describe() + " heads="
                                    + heads + " width=" + width + " len=" + len + " h=" + h + " j=" + j);
                            }
                            assertEquals(42f, out[1 + h * outStride + len], "headDots wrote past len");
                        }
                        assertEquals(42f, out[0], "headDots wrote before its offset");
                    }
                }
            }
        }
    }

    /**
     * The several-heads form gives every head's scores bit for bit as the one-head form does, on both paths, and
     * writes nothing past {@code len}; on the vector path each score is the fused multiply-add chain over the rows
     * (lengths below, at and past whole blocks of 4 vectors, where the last block overlaps the one before).
     */
    @Test
    void transposedDotsOfSeveralHeadsEqualOneHeadAtATime() {
        SplittableRandom r = new SplittableRandom(14);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            for (int heads = 1; heads <= 5; heads++) {
                for (int len : new int[] {3, 32, 45, 64, 100, 130, 200}) {
                    int rows = 64;
                    int stride = len + 1;
                    float[] q = new float[1 + heads * rows];
                    float[] kT = new float[rows * stride];
                    for (int i = 0; i < q.length; i++) {
                        q[i] = (float) r.nextGaussian();
                    }
                    for (int i = 0; i < kT.length; i++) {
                        kT[i] = (float) r.nextGaussian();
                    }
                    int outStride = len + 2;
                    float[] together = new float[heads * outStride];
                    java.util.Arrays.fill(together, 42f);
                    ops.transposedDots(q, 1, rows, heads, 0.125f, kT, stride, rows, together, 0, outStride, len);
                    for (int h = 0; h < heads; h++) {
                        float[] alone = new float[len];
                        ops.transposedDots(q, 1 + h * rows, 0.125f, kT, stride, rows, alone, 0, len);
                        for (int j = 0; j < len; j++) {
                            assertEquals(alone[j], together[h * outStride + j],
                                ops.describe() + " heads=" + heads + " h=" + h + " len=" + len + " j=" + j);
                            if (ops == ElementOps.vector()) {
                                float chain = 0f;
                                for (int c = 0; c < rows; c++) {
                                    chain = Math.fma(kT[c * stride + j], q[1 + h * rows + c] * 0.125f, chain);
                                }
                                assertEquals(Float.floatToIntBits(chain), Float.floatToIntBits(alone[j]),
                                    "fused chain, h=" + h + " len=" + len + " j=" + j);
                            }
                        }
                        assertEquals(42f, together[h * outStride + len], "wrote past len, h=" + h);
                        assertEquals(42f, together[h * outStride + len + 1], "wrote past len, h=" + h);
                    }
                }
            }
        }
    }

    /**
     * The vector path's weighted rows, chunked 8, 4 and 1 vectors wide, and its two-head form equal the plain chain
     * of {@link ElementOps#axpy} over the rows bit for bit, whatever the width (each column gets the same FMA
     * sequence).
     */
    @Test
    void weightedRowsEqualTheAxpyChainBitForBit() {
        ElementOps ops = ElementOps.vector();
        java.util.SplittableRandom r = new java.util.SplittableRandom(8);
        for (int width : new int[] {7, 8, 24, 32, 40, 64, 72, 96, 100, 128}) {
            for (int len : new int[] {0, 1, 5, 33}) {
                int stride = width + 3;
                float[] p = new float[1 + len];
                float[] v = new float[2 + len * stride];
                for (int i = 0; i < p.length; i++) {
                    p[i] = (float) r.nextDouble();
                }
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian();
                }
                float[] chain = new float[width];
                for (int j = 0; j < len; j++) {
                    ops.axpy(p[1 + j], v, 2 + j * stride, chain, 0, width);
                }
                float[] got = new float[width];
                java.util.Arrays.fill(got, Float.NaN); // overwritten, not accumulated
                ops.weightedRows(p, 1, len, v, 2, stride, width, got, 0);
                for (int i = 0; i < width; i++) {
                    assertEquals(Float.floatToIntBits(chain[i]), Float.floatToIntBits(got[i]), "width=" + width
                        + " len=" + len + " column " + i);
                }
                // the pair form: the same head twice, beside a second head with other weights
                float[] p2 = new float[1 + 2 * len];
                for (int j = 0; j < len; j++) {
                    p2[1 + j] = p[1 + j];
                    p2[1 + len + j] = (float) r.nextDouble();
                }
                float[] second = new float[width];
                ops.weightedRows(p2, 1 + len, len, v, 2, stride, width, second, 0);
                float[] pair = new float[3 + 2 * width];
                java.util.Arrays.fill(pair, Float.NaN);
                ops.weightedRowsPair(p2, 1, 1 + len, len, v, 2, stride, width, pair, 3, 3 + width);
                for (int i = 0; i < width; i++) {
                    assertEquals(Float.floatToIntBits(chain[i]), Float.floatToIntBits(pair[3 + i]), "pair, first head, "
                        + "width=" + width + " len=" + len + " column " + i);
                    assertEquals(Float.floatToIntBits(second[i]), Float.floatToIntBits(pair[3 + width + i]), "pair, "
                        + "second head, width=" + width + " len=" + len + " column " + i);
                }
            }
        }
    }

    /**
     * The several-heads form of the weighted rows equals one call per head bit for bit on both paths (4 heads
     * share each row's loads on the vector path where vectors have 16 lanes, when the width is a multiple of 4
     * vectors), and writes nothing outside each head's width.
     */
    @Test
    void weightedRowsOfSeveralHeadsEqualOneHeadAtATime() {
        SplittableRandom r = new SplittableRandom(15);
        for (ElementOps ops : new ElementOps[] {ElementOps.vector(), ElementOps.scalar()}) {
            for (int heads = 1; heads <= 5; heads++) {
                for (int width : new int[] {40, 64, 72, 128}) {
                    for (int len : new int[] {0, 1, 33}) {
                        int vStride = width + 5;
                        int pStride = len + 3;
                        float[] p = new float[2 + heads * pStride];
                        float[] v = new float[3 + len * vStride];
                        for (int i = 0; i < p.length; i++) {
                            p[i] = i % 5 == 2 ? 0f : (float) r.nextDouble();
                        }
                        for (int i = 0; i < v.length; i++) {
                            v[i] = (float) r.nextGaussian();
                        }
                        int outStride = width + 2;
                        float[] together = new float[1 + heads * outStride];
                        java.util.Arrays.fill(together, Float.NaN);
                        ops.weightedRowsHeads(p, 2, pStride, heads, len, v, 3, vStride, width, together, 1, outStride);
                        for (int h = 0; h < heads; h++) {
                            float[] alone = new float[width];
                            ops.weightedRows(p, 2 + h * pStride, len, v, 3, vStride, width, alone, 0);
                            for (int i = 0; i < width; i++) {
                                assertEquals(Float.floatToIntBits(alone[i]),
                                    Float.floatToIntBits(together[1 + h * outStride + i]), ops.describe() + " heads="
                                    + heads + " h=" + h + " width=" + width + " len=" + len + " column " + i);
                            }
                            assertTrue(Float.isNaN(together[1 + h * outStride + width]), "wrote past the width");
                        }
                        assertTrue(Float.isNaN(together[0]), "wrote before the first head");
                    }
                }
            }
        }
    }
}
