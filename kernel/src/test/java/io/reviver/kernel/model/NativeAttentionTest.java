package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.NativeAttention;
import io.reviver.kernel.tensor.NativeQ8;
import io.reviver.kernel.tensor.NativeTensorOps;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The native decode attention ({@link NativeAttention}) against {@link ElementOps#vector()}'s {@link
 * ElementOps#attend}: the same bits, weights and outputs, for head counts and widths on both sides of the kernel's
 * 4-head and 4-vector tiles and lengths on both sides of its 16-position blocks, entries strided and offset in
 * their arrays; both within float rounding of a float64 reference. Where the build made the native library
 * ({@code reviver.native.required}) it must load; the kernel itself is skipped on a CPU without AVX-512F, and the
 * bit comparison where the vector path does not have 16 lanes (the only case the native kernel is used for).
 */
class NativeAttentionTest {

    @BeforeAll
    static void library() {
        if (Boolean.getBoolean("reviver.native.required")) {
            assertTrue(NativeQ8.available(), "the build made the native library, but " + NativeQ8.status());
        }
        assumeTrue(NativeAttention.available(), NativeAttention.status());
    }

    /** Arrays for one call: queries, keys and values strided and offset, scores and outputs prefilled with junk. */
    private record Case(int heads, int width, int len, int stride, int qOff, int kvOff, int sStride, float[] q,
                        float[] k, float[] v, float[] scores, float[] out) {
        static Case random(int heads, int width, int len, long seed, float keyScale) {
            SplittableRandom r = new SplittableRandom(seed);
            int stride = width + 16 * (int) (seed % 2); // rows contiguous or 16 floats apart
            int qOff = 3;
            int kvOff = 5;
            int sStride = len + 7;
            float[] q = fill(r, qOff + heads * width + 2, 1f);
            float[] k = fill(r, kvOff + len * stride + 4, keyScale);
            float[] v = fill(r, kvOff + len * stride + 4, 1f);
            float[] scores = fill(r, 2 + heads * sStride, 9f);
            float[] out = fill(r, 1 + heads * width + 3, 9f);
            return new Case(heads, width, len, stride, qOff, kvOff, sStride, q, k, v, scores, out);
        }

        Case copy() {
            return new Case(heads, width, len, stride, qOff, kvOff, sStride, q.clone(), k.clone(), v.clone(),
                scores.clone(), out.clone());
        }

        void onVector() {
            ElementOps.vector().attend(q, qOff, heads, width, 0.125f, k, v, kvOff, stride, len, scores, 2, sStride,
                out, 1);
        }

        boolean onNative() {
            return NativeAttention.attend(q, qOff, heads, width, 0.125f, k, v, kvOff, stride, len, scores, 2,
                sStride, out, 1);
        }
    }

    private static float[] fill(SplittableRandom r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble(-1, 1) * scale);
        }
        return a;
    }

    @ParameterizedTest(name = "heads={0} width={1} len={2}")
    @CsvSource({"4,64,1", "4,64,15", "4,64,16", "4,64,17", "4,64,300", "1,64,40", "2,64,33", "3,64,31",
        "8,64,100", "4,128,77", "4,32,50", "5,48,18", "4,16,16", "2,256,20", "6,80,129"})
    void nativeAttentionGivesTheVectorPathsBitsAndStaysNearFloat64(int heads, int width, int len) {
        assumeTrue(ElementOps.vectorHas16Lanes(), "the vector path does not have 16 lanes here");
        for (long seed = 1; seed <= 2; seed++) {
            // keys scaled so that some weights underflow to 0 and one entry takes most of the weight
            Case want = Case.random(heads, width, len, seed * 131 + len, seed == 1 ? 1f : 40f);
            Case got = want.copy();
            want.onVector();
            assertTrue(got.onNative(), "the JVM handed over its arrays");
            assertArrayEquals(want.scores(), got.scores(), "weights (scores array, junk outside the rows kept)");
            assertArrayEquals(want.out(), got.out(), "outputs (junk outside the heads kept)");
            assertArrayEquals(want.q(), got.q());
            assertArrayEquals(want.k(), got.k());
            assertArrayEquals(want.v(), got.v());
            checkAgainstFloat64(got);
        }
    }

    /** Softmax weights and outputs within float rounding of a float64 computation from the same inputs. */
    private static void checkAgainstFloat64(Case c) {
        for (int h = 0; h < c.heads(); h++) {
            double[] s = new double[c.len()];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c.len(); j++) {
                double d = 0;
                for (int i = 0; i < c.width(); i++) {
                    d += (double) c.q()[c.qOff() + h * c.width() + i] * c.k()[c.kvOff() + j * c.stride() + i];
                }
                s[j] = d * 0.125;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < c.len(); j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < c.len(); j++) {
                s[j] /= sum;
                assertEquals(s[j], c.scores()[2 + h * c.sStride() + j], 1e-5 + 1e-4 * s[j], "weight " + h + "," + j);
            }
            for (int i = 0; i < c.width(); i++) {
                double o = 0;
                for (int j = 0; j < c.len(); j++) {
                    o += s[j] * c.v()[c.kvOff() + j * c.stride() + i];
                }
                assertEquals(o, c.out()[1 + h * c.width() + i], 1e-4, "output " + h + "," + i);
            }
        }
    }

    @Test
    void aNaNKeyMakesEveryWeightOfItsHeadsNaNAsOnTheVectorPath() {
        assumeTrue(ElementOps.vectorHas16Lanes(), "the vector path does not have 16 lanes here");
        Case want = Case.random(4, 64, 40, 3, 1f);
        want.k()[want.kvOff() + 17 * want.stride() + 3] = Float.NaN;
        Case got = want.copy();
        want.onVector();
        assertTrue(got.onNative());
        for (int h = 0; h < 4; h++) {
            assertTrue(Float.isNaN(got.scores()[2 + h * got.sStride()]), "head " + h);
        }
        assertArrayEquals(want.scores(), got.scores());
        assertArrayEquals(want.out(), got.out());
    }

    @Test
    void badArgumentsAreRefusedNamingTheProblem() {
        Case c = Case.random(4, 64, 20, 2, 1f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeAttention.attend(
            c.q(), c.qOff(), 4, 60, 0.1f, c.k(), c.v(), c.kvOff(), c.stride(), 20, c.scores(), 0, c.sStride(),
            c.out(), 0));
        assertTrue(e.getMessage().contains("width 60"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NativeAttention.attend(c.q(), c.qOff(), 4, 64, 0.1f,
            c.k(), Arrays.copyOf(c.v(), 100), c.kvOff(), c.stride(), 20, c.scores(), 0, c.sStride(), c.out(), 0));
        assertTrue(e.getMessage().contains("values 100"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NativeAttention.attend(c.q(), c.qOff(), 4, 64, 0.1f,
            c.k(), c.v(), c.kvOff(), c.stride(), 20, c.scores(), 0, 19, c.out(), 0));
        assertThrows(IllegalArgumentException.class, () -> NativeAttention.attend(c.q(), c.qOff(), 4, 64, 0.1f,
            c.k(), c.v(), c.kvOff(), c.stride(), 0, c.scores(), 0, c.sStride(), c.out(), 0));
    }

    @Test
    void nativeProductsTakeTheNativeAttentionAndJavaProductsTheVectorPath() {
        assumeTrue(ElementOps.vectorHas16Lanes(), "the vector path does not have 16 lanes here");
        try (NativeTensorOps n = new NativeTensorOps(1, null); JavaTensorOps j = new JavaTensorOps(1,
            JavaTensorOps.Path.VECTOR)) {
            ElementOps forNative = ElementOps.forProducts(n);
            assertNotSame(ElementOps.vector(), forNative);
            assertTrue(forNative.describe().contains("native"), forNative.describe());
            assertSame(ElementOps.vector(), ElementOps.forProducts(j));
            assertTrue(forNative.fusesAttention());
            assertTrue(!ElementOps.vector().fusesAttention() && !ElementOps.scalar().fusesAttention());
        }
    }

    /**
     * A model whose decode attention runs natively decodes a batch to the same logits, bit for bit, as the same
     * model on the vector path (seeded random weights of a small Llama shape: head size 64, 4 query heads per KV
     * head; two sequences of different lengths, 24 steps).
     */
    @Test
    void aBatchDecodesToTheVectorPathsLogitsBitForBit() {
        assumeTrue(ElementOps.vectorHas16Lanes(), "the vector path does not have 16 lanes here");
        try (NativeTensorOps ops = new NativeTensorOps(2, null);
             LlamaModel nat = io.reviver.kernel.bench.EngineBench.randomModel(
                 io.reviver.kernel.bench.EngineBench.Shape.QUICK, 2, ops);
             LlamaModel vec = new LlamaModel(nat.config(), nat.weights(), ops, ElementOps.vector(), 2)) {
            assertTrue(nat.describe().contains("decode attention native"), nat.describe());
            LlamaConfig c = nat.config();
            SplittableRandom r = new SplittableRandom(5);
            int[][] prompts = {new int[37], new int[70]};
            for (int[] p : prompts) {
                for (int i = 0; i < p.length; i++) {
                    p[i] = r.nextInt(c.vocabSize());
                }
            }
            LlamaModel[] models = {vec, nat};
            io.reviver.kernel.cache.KvCache[][] caches = new io.reviver.kernel.cache.KvCache[2][2];
            float[] logits = new float[c.vocabSize()];
            for (int m = 0; m < 2; m++) {
                for (int i = 0; i < 2; i++) {
                    caches[m][i] = models[m].newCache(128);
                    models[m].prefill(models[m].newState(32), caches[m][i], prompts[i], 0, null, logits);
                }
            }
            float[][] out = new float[2][2 * c.vocabSize()];
            LlamaModel.State[] states = {vec.newState(2), nat.newState(2)};
            for (int step = 0; step < 24; step++) {
                int[] tokens = {r.nextInt(c.vocabSize()), r.nextInt(c.vocabSize())};
                for (int m = 0; m < 2; m++) {
                    int[] positions = {prompts[0].length + step, prompts[1].length + step};
                    models[m].decodeBatch(states[m], caches[m], tokens, positions, 2, out[m]);
                }
                assertArrayEquals(out[0], out[1], "step " + step + ": logits");
            }
        }
    }
}
