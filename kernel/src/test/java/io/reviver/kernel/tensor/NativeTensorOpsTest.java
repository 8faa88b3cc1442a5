package io.reviver.kernel.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.reviver.modelstore.gguf.Dequantizer;
import io.reviver.modelstore.gguf.GgmlType;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native int8 backend against its Java reference ({@link Int8Products}): every instruction set must give the
 * reference's bits exactly (the arithmetic is defined operation by operation, integer sums are exact), the
 * reference must stay within the activations' quantisation error of the exact product, and rows must not depend on
 * the batch or the threads. Where the library was built (the build's {@code native-int8} profile sets
 * {@code reviver.native.required}) it must load; elsewhere these tests are skipped. An instruction set this CPU
 * lacks is skipped (the scalar kernel runs everywhere).
 */
class NativeTensorOpsTest {

    @BeforeAll
    static void library() {
        if (Boolean.getBoolean("reviver.native.required")) {
            assertTrue(NativeQ8.available(), "the build made the native library, but " + NativeQ8.status());
        }
        assumeTrue(NativeQ8.available(), NativeQ8.status());
    }

    @Test
    void quantizeUsesEachBlocksOwnScaleAndRoundsToNearest() {
        float[] x = new float[64];
        x[0] = 2.54f; // the block's largest magnitude: 127
        x[1] = -1.27f; // half of it: -63.5 rounds to even, -64
        x[2] = 0.01f; // 0.5 rounds to even, 0
        x[3] = 0.03f; // 1.5 → 2
        // second block all zeros: scale 0, quants 0
        byte[] xq = new byte[64];
        float[] xd = new float[2];
        int[] xc = new int[2];
        Int8Products.quantize(x, 1, 64, xq, xd, xc);
        assertEquals(2.54f / 127f, xd[0]);
        assertEquals(127, xq[0]);
        assertEquals((int) Math.rint(-1.27f * (1f / (2.54f / 127f))), xq[1]);
        assertEquals(0f, xd[1]);
        for (int c = 32; c < 64; c++) {
            assertEquals(0, xq[c]);
        }
        int sum = 0;
        for (int c = 0; c < 32; c++) {
            sum += xq[c];
        }
        assertEquals(-128 * sum, xc[0]);
        assertEquals(0, xc[1]);
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void everyKernelQuantizesLikeTheReference(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        int n = 3;
        int cols = 32 * 40;
        float[] x = JavaTensorOpsTest.randomActivations(n, cols, 5);
        java.util.Random rnd = new java.util.Random(6);
        for (int b = 0; b < n * 40; b++) {
            int o = 32 * b;
            switch (b % 10) {
                case 1 -> Arrays.fill(x, o, o + 32, 0f); // scale 0
                case 2 -> x[o + rnd.nextInt(32)] = Float.NaN;
                case 3 -> x[o + rnd.nextInt(32)] = Float.POSITIVE_INFINITY;
                case 4 -> x[o + rnd.nextInt(32)] = -Float.MAX_VALUE; // finite, but its scale's inverse is tiny
                case 5 -> { // exact ties: amax 127 gives scale 1, and k + 0.5 must round to even
                    for (int c = 0; c < 32; c++) {
                        x[o + c] = c == 0 ? 127f : (c - 16) + 0.5f;
                    }
                }
                case 6 -> x[o + rnd.nextInt(32)] = 1e-40f; // subnormal
                case 7 -> { // a whole block of tiny values: its scale is subnormal, the inverse infinite
                    for (int c = 0; c < 32; c++) {
                        x[o + c] = c % 3 == 0 ? 0f : c % 3 == 1 ? -0f : (c - 16) * 1e-39f;
                    }
                }
                default -> {
                }
            }
        }
        byte[] wantQ = new byte[n * cols];
        float[] wantD = new float[n * 40];
        int[] wantC = new int[n * 40];
        Int8Products.quantize(x, n, cols, wantQ, wantD, wantC);
        byte[] q = new byte[n * cols];
        float[] d = new float[n * 40];
        int[] c = new int[n * 40];
        NativeQ8.quantize(isa, x, n, cols, q, d, c);
        assertArrayEquals(wantQ, q, isa + " quants");
        assertArrayEquals(wantD, d, isa + " scales");
        assertArrayEquals(wantC, c, isa + " block sums");
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void everyKernelGivesTheReferenceBits(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        int[][] shapes = {{1, 32}, {15, 64}, {16, 96}, {17, 32}, {37, 2048}, {300, 256}};
        int[] ns = {1, 2, 3, 4, 5, 6, 7, 8, 9, 20}; // up to 8 rows: four row groups a pass; more: two, 8 rows a pass
        long seed = 1;
        for (int[] shape : shapes) {
            QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, shape[0], shape[1], seed++);
            NativeWeights q = w.q8Native();
            for (int n : ns) {
                int cols = shape[1];
                Quantised a = quantised(n, cols, seed++);
                float[] want = a.reference(w);
                float[] got = new float[n * shape[0] + 5];
                Arrays.fill(got, Float.NaN);
                NativeQ8.product(isa, q, 0, q.groups(), a.xq, a.xd, a.xc, n, got);
                String what = isa + " " + shape[0] + " x " + cols + ", n = " + n;
                assertArrayEquals(want, Arrays.copyOf(got, want.length), what); // compares bits (floatToIntBits)
                for (int i = want.length; i < got.length; i++) {
                    assertTrue(Float.isNaN(got[i]), what + ": wrote past the output at " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void everyKernelWidensEveryKindOfFp16ScaleExactly(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        java.nio.ByteBuffer b = littleEndianCopy(JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 33, 96, 71));
        short[] halves = {0x0001, 0x03FF, (short) 0x8001, 0x0000, (short) 0x8000, 0x0400, (short) 0xFBFF, 0x7BFF,
            0x3C00, (short) 0xBC00};
        for (int k = 0; k < 33 * 3; k++) { // subnormal, ±0, smallest normal, ±largest finite and ±1 among the scales
            b.putShort(34 * k, halves[k % halves.length]);
        }
        QuantizedMatrix w = new QuantizedMatrix("fp16-scales", GgmlType.Q8_0, b.rewind(), 33, 96);
        int n = 3;
        Quantised a = quantised(n, 96, 72);
        assertArrayEquals(a.reference(w), a.product(isa, w.q8Native()), isa + ": scales of every fp16 kind");
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void everyKernelIsExactAtTheExtremeQuants(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        // weights of -128 and ±127 against activations of ±127: the largest byte products there are (AVX2 adds
        // them in int16 pairs, which must not saturate), in every sign combination
        int rows = 24;
        int cols = 96;
        java.nio.ByteBuffer b = littleEndianCopy(JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, rows, cols, 81));
        byte[] extremes = {-128, 127, -127};
        for (int k = 0; k < rows * cols / 32; k++) {
            b.putShort(34 * k, (short) 0x3C00); // scale 1
            for (int c = 0; c < 32; c++) {
                int row = k / (cols / 32);
                b.put(34 * k + 2 + c, row % 4 == 0 ? -128 : extremes[(row + c + k) % 3]);
            }
        }
        QuantizedMatrix w = new QuantizedMatrix("extreme-quants", GgmlType.Q8_0, b.rewind(), rows, cols);
        int n = 3;
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) { // every block's largest magnitude is 1: its quants are ±127
            x[i] = i < cols ? -1f : (i * 7 % 5) < 2 ? 1f : -1f;
        }
        Quantised a = new Quantised(n, new byte[n * cols], new float[n * cols / 32], new int[n * cols / 32]);
        Int8Products.quantize(x, n, cols, a.xq, a.xd, a.xc);
        float[] want = a.reference(w);
        assertEquals(3 * 128 * 127 * 32 * a.xd[0], want[0], "row 0 (all -128) against all -127");
        assertArrayEquals(want, a.product(isa, w.q8Native()), isa + ": extreme quants");
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void manyRowsSweepTheActivationsInBlocksWithTheSameBits(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        // 2,048 columns: the kernel takes the activation rows 128 at a time (256 KiB), so 130 rows make two blocks
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 19, 2048, 61);
        int n = 130;
        Quantised a = quantised(n, 2048, 62);
        assertArrayEquals(a.reference(w), a.product(isa, w.q8Native()), isa + ", 130 rows");
    }

    @ParameterizedTest
    @EnumSource(NativeQ8.Isa.class)
    void aRangeOfRowGroupsWritesOnlyItsRows(NativeQ8.Isa isa) {
        assumeTrue(NativeQ8.supports(isa), isa + " does not run on this CPU");
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 50, 64, 7);
        NativeWeights q = w.q8Native();
        assertEquals(4, q.groups());
        Quantised a = quantised(2, 64, 8);
        float[] want = a.reference(w);
        // the AVX-512 kernel computes row groups two at a time: ranges starting on either parity, ending in a pair or
        // a single group, the partial last group (rows 48, 49) alone or second in a pair
        int[][] ranges = {{1, 3}, {1, 4}, {2, 4}, {0, 1}, {3, 4}, {0, 4}};
        for (int[] range : ranges) {
            float[] got = new float[100];
            Arrays.fill(got, Float.NaN);
            NativeQ8.product(isa, q, range[0], range[1], a.xq, a.xd, a.xc, 2, got);
            for (int t = 0; t < 2; t++) {
                for (int r = 0; r < 50; r++) {
                    float g = got[t * 50 + r];
                    String what = isa + " groups [" + range[0] + ", " + range[1] + "), row " + r;
                    if (r >= 16 * range[0] && r < 16 * range[1]) {
                        assertEquals(Float.floatToIntBits(want[t * 50 + r]), Float.floatToIntBits(g), what);
                    } else {
                        assertTrue(Float.isNaN(g), what + " is outside the range but was written");
                    }
                }
            }
        }
    }

    @Test
    void aKernelCanBeChosenByNameAndABadNameIsRefused() {
        assertEquals(NativeQ8.Isa.AVX2, NativeQ8.Isa.parse(" AVX2 "));
        assertEquals(NativeQ8.Isa.AVX512_VNNI, NativeQ8.Isa.parse("avx512-vnni"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> NativeQ8.Isa.parse("sse4"));
        assertTrue(bad.getMessage().contains("'sse4'") && bad.getMessage().contains("scalar, avx2, avx512-vnni"),
            bad.getMessage());
        String before = System.getProperty(NativeQ8.ISA_PROPERTY);
        try {
            System.setProperty(NativeQ8.ISA_PROPERTY, "scalar");
            assertEquals(NativeQ8.Isa.SCALAR, NativeQ8.selected());
            try (NativeTensorOps ops = new NativeTensorOps(1, null)) {
                assertEquals(NativeQ8.Isa.SCALAR, ops.isa());
            }
            System.setProperty(NativeQ8.ISA_PROPERTY, "avx-9000");
            assertThrows(IllegalArgumentException.class, () -> new NativeTensorOps(1, null));
            System.clearProperty(NativeQ8.ISA_PROPERTY);
            assertEquals(NativeQ8.best(), NativeQ8.selected());
        } finally {
            if (before == null) {
                System.clearProperty(NativeQ8.ISA_PROPERTY);
            } else {
                System.setProperty(NativeQ8.ISA_PROPERTY, before);
            }
        }
    }

    @Test
    void nativeMemoryIsWholeHugePagesZeroedCheckedAndFreedOnce() {
        for (NativeQ8.Isa isa : NativeQ8.Isa.values()) {
            if (NativeQ8.supports(isa)) {
                nativeMemory(isa);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> NativeMemory.allocate(0));
    }

    private static void nativeMemory(NativeQ8.Isa isa) {
        try (NativeMemory m = NativeMemory.allocate(3 * 1000 * 1000)) {
            assertEquals(2 * NativeMemory.HUGE_PAGE, m.bytes());
            assertEquals(0, NativeQ8.read(isa, m, 0, m.bytes()), "zeroed");
            byte[] b = new byte[1000];
            long want = 0;
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (i * 7); // every byte value, read back unsigned
                want += b[i] & 0xFF;
            }
            m.put(12_345, b);
            m.put(m.bytes() - 4, new short[] {1, 2}); // the last 4 bytes: 1 and 2 as little-endian shorts
            assertEquals(want + 3, NativeQ8.read(isa, m, 0, m.bytes()), "a checksum of everything written");
            assertEquals(want, NativeQ8.read(isa, m, 12_345, 13_345));
            assertEquals(want - (b[0] & 0xFF) - (b[999] & 0xFF), NativeQ8.read(isa, m, 12_346, 13_344)); // odd ends
            assertThrows(IndexOutOfBoundsException.class, () -> m.put(m.bytes() - 999, b));
            assertThrows(IndexOutOfBoundsException.class, () -> m.put(-1, b));
            assertThrows(IndexOutOfBoundsException.class, () -> m.put(m.bytes() - 2, new short[2]));
            assertThrows(IllegalArgumentException.class, () -> NativeQ8.read(isa, m, 0, m.bytes() + 1));
            m.close();
            m.close(); // a second close does nothing
            assertThrows(IllegalStateException.class, () -> m.put(0, b));
            assertThrows(IllegalStateException.class, () -> NativeQ8.read(isa, m, 0, 64));
        }
    }

    /** q8Native writes its layout in batches of row groups: across batch ends, and a last partial group, bits hold. */
    @Test
    void aNativeCopyWrittenInBatchesGivesTheReferenceBits() {
        int rows = 16 * (2 * QuantizedMatrix.NATIVE_BATCH_GROUPS + 5) + 11; // two whole batches, a short one, 11 rows
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, rows, 96, 81);
        int n = 3;
        Quantised a = quantised(n, 96, 82);
        float[] want = a.reference(w);
        NativeWeights batched = w.q8Native();
        NativeWeights whole = NativeWeights.copyOf(w.q8Interleaved());
        assertEquals(whole.bytes(), batched.bytes());
        for (NativeQ8.Isa isa : NativeQ8.Isa.values()) {
            if (NativeQ8.supports(isa)) {
                for (NativeWeights q : new NativeWeights[] {batched, whole}) {
                    assertArrayEquals(want, a.product(isa, q), isa + (q == batched ? " batched" : " whole"));
                }
            }
        }
        // 96 columns: a row group is 3 blocks, 3 × 512 quant bytes and 3 × 16 scales
        assertThrows(IllegalArgumentException.class, () -> whole.putGroups(0, new byte[3 * 512], new short[6 * 16]));
        assertThrows(IllegalArgumentException.class, () -> whole.putGroups(0, new byte[100], new short[0]));
        assertThrows(IndexOutOfBoundsException.class,
            () -> whole.putGroups(whole.groups(), new byte[3 * 512], new short[3 * 16]));
        whole.putGroups(whole.groups() - 1, new byte[3 * 512], new short[3 * 16]); // the last group: allowed
    }

    @Test
    void aNativeCopyIsMadeOnceAndHoldsTheFilesBytes() {
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 40, 512, 13);
        NativeWeights q = w.q8Native();
        assertSame(q, w.q8Native());
        assertEquals(40, q.rows());
        assertEquals(512, q.cols());
        assertEquals(3, q.groups());
        assertEquals(NativeMemory.HUGE_PAGE, q.bytes()); // 3 groups x 16 blocks x 544 bytes, rounded up
        assertNull(JavaTensorOpsTest.randomMatrix(GgmlType.F32, 4, 32, 14).q8Native());
        w.releaseNative(); // freed now: the old copy refuses products, a new one is made on the next request
        byte[] xq = new byte[512];
        float[] xd = new float[16];
        int[] xc = new int[16];
        assertThrows(IllegalStateException.class,
            () -> NativeQ8.product(NativeQ8.best(), q, 0, 1, xq, xd, xc, 1, new float[40]));
        NativeWeights again = w.q8Native();
        assertTrue(again != q);
        NativeQ8.product(NativeQ8.best(), again, 0, again.groups(), xq, xd, xc, 1, new float[40]);
        w.releaseNative();
        w.releaseNative(); // nothing left to free
        try (NativeTensorOps ops = new NativeTensorOps(1, null)) {
            assertEquals(new TensorOps.CopyBytes(0, NativeMemory.HUGE_PAGE), ops.prepare(w)); // made anew
            assertEquals(0, ops.prepare(JavaTensorOpsTest.randomMatrix(GgmlType.F32, 4, 32, 14)).offHeap());
        }
    }

    @Test
    void productsStayWithinTheActivationsQuantisationError() {
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 40, 512, 11);
        int n = 4;
        float[] x = JavaTensorOpsTest.randomActivations(n, 512, 12);
        x[5] = 40f; // an outlier: its block's other values lose precision, the bound must follow
        byte[] xq = new byte[n * 512];
        float[] xd = new float[n * 16];
        int[] xc = new int[n * 16];
        Int8Products.quantize(x, n, 512, xq, xd, xc);
        float[] got = new float[n * 40];
        Int8Products.reference(w, xq, xd, n, got);
        float[] dense = Dequantizer.dequantize(GgmlType.Q8_0, w.data(), 40 * 512);
        double worstShare = 0;
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < 40; r++) {
                double exact = 0;
                for (int c = 0; c < 512; c++) {
                    exact += (double) dense[r * 512 + c] * x[t * 512 + c];
                }
                double err = Math.abs(got[t * 40 + r] - exact);
                double bound = Int8Products.errorBound(w, x, xd, t, r);
                assertTrue(err <= bound, "out[" + t + ", " + r + "] = " + got[t * 40 + r] + ", exact " + exact
                    + ", |error| " + err + " > bound " + bound);
                worstShare = Math.max(worstShare, err / bound);
            }
        }
        assertTrue(worstShare > 0, "no quantisation error at all: the test does not exercise the bound");
    }

    @Test
    void rowsDoNotDependOnTheBatchTheThreadsOrTheirKind() {
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 700, 256, 21);
        int n = 13;
        float[] x = JavaTensorOpsTest.randomActivations(n, 256, 22);
        try (NativeTensorOps one = new NativeTensorOps(1, null); NativeTensorOps two = new NativeTensorOps(2, null)) {
            float[] batch = new float[n * 700];
            two.matmul(w, x, n, batch);
            float[] prompt = new float[n * 700];
            one.matmul(w, x, n, prompt, TensorOps.Rows.PROMPT);
            assertArrayEquals(batch, prompt, "13 rows on 2 threads vs as a prompt on 1");
            for (int t = 0; t < n; t++) {
                float[] alone = new float[700];
                two.matmul(w, Arrays.copyOfRange(x, t * 256, (t + 1) * 256), 1, alone);
                assertArrayEquals(alone, Arrays.copyOfRange(batch, t * 700, (t + 1) * 700), "row " + t + " alone");
            }
        }
    }

    @Test
    void sharedInputProductsGiveEachProductsBits() {
        QuantizedMatrix a = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 70, 128, 51);
        QuantizedMatrix b = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 9, 128, 52);
        QuantizedMatrix c = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 300, 128, 53);
        QuantizedMatrix f32 = JavaTensorOpsTest.randomMatrix(GgmlType.F32, 20, 128, 54);
        int n = 5;
        float[] x = JavaTensorOpsTest.randomActivations(n, 128, 55);
        for (int threads : new int[] {1, 2}) {
            try (NativeTensorOps ops = new NativeTensorOps(threads, null)) {
                for (QuantizedMatrix[] ws : new QuantizedMatrix[][] {{a, b, c}, {c, f32, a}, {b}}) {
                    float[][] shared = new float[ws.length][];
                    for (int i = 0; i < ws.length; i++) {
                        shared[i] = new float[n * ws[i].rows() + 3];
                        Arrays.fill(shared[i], Float.NaN);
                    }
                    ops.matmulShared(ws, x, n, shared, TensorOps.Rows.INDEPENDENT);
                    for (int i = 0; i < ws.length; i++) {
                        float[] alone = new float[n * ws[i].rows()];
                        ops.matmul(ws[i], x, n, alone);
                        String what = threads + " threads, matrix " + i + " of " + ws.length;
                        assertArrayEquals(alone, Arrays.copyOf(shared[i], alone.length), what);
                        for (int j = alone.length; j < shared[i].length; j++) {
                            assertTrue(Float.isNaN(shared[i][j]), what + ": wrote past its output");
                        }
                    }
                }
            }
        }
    }

    @Test
    void otherTypesAndLookUpsGoToTheJavaBackend() {
        QuantizedMatrix f32 = JavaTensorOpsTest.randomMatrix(GgmlType.F32, 33, 64, 31);
        float[] x = JavaTensorOpsTest.randomActivations(3, 64, 32);
        try (NativeTensorOps nat = new NativeTensorOps(2, null);
             JavaTensorOps java = new JavaTensorOps(2, JavaTensorOps.Path.VECTOR)) {
            float[] a = new float[99];
            float[] b = new float[99];
            nat.matmul(f32, x, 3, a);
            java.matmul(f32, x, 3, b);
            assertArrayEquals(b, a);
            QuantizedMatrix q8 = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 5, 64, 33);
            float[] ra = new float[64];
            float[] rb = new float[64];
            nat.dequantizeRow(q8, 3, ra, 0);
            java.dequantizeRow(q8, 3, rb, 0);
            assertArrayEquals(rb, ra);
        }
    }

    @Test
    void badArgumentsAreRefusedWithTheirShapes() {
        QuantizedMatrix w = JavaTensorOpsTest.randomMatrix(GgmlType.Q8_0, 20, 64, 41);
        NativeWeights q = w.q8Native();
        byte[] xq = new byte[64];
        float[] xd = new float[2];
        int[] xc = new int[2];
        NativeQ8.Isa isa = NativeQ8.best();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> NativeQ8.product(isa, q, 0, 3, xq, xd, xc, 1, new float[20]));
        assertTrue(e.getMessage().contains("of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NativeQ8.product(isa, q, 0, 2, xq, xd, xc, 1,
            new float[19]));
        assertTrue(e.getMessage().contains("out 19"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuantizedMatrix.Q8Interleaved(20, 64, 2,
            new byte[2 * 2 * 512 - 1], new short[2 * 2 * 16]));
        assertTrue(e.getMessage().contains("needs 2048"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuantizedMatrix.Q8Interleaved(20, 64, 1,
            new byte[512], new short[16]));
        assertTrue(e.getMessage().contains("ceil(rows / 16)"), e.getMessage());
        try (NativeTensorOps ops = new NativeTensorOps(1, null)) {
            e = assertThrows(IllegalArgumentException.class, () -> ops.matmul(w, new float[63], 1, new float[20]));
            assertTrue(e.getMessage().contains("x has 63"), e.getMessage());
        }
    }

    /** Activations quantised by {@link Int8Products#quantize}: quants (n, cols), scales and sums (n, cols / 32). */
    private record Quantised(int n, byte[] xq, float[] xd, int[] xc) {
        /** {@link Int8Products#reference}'s products of {@code w} with these activations, (n, w.rows()). */
        float[] reference(QuantizedMatrix w) {
            float[] want = new float[n * w.rows()];
            Int8Products.reference(w, xq, xd, n, want);
            return want;
        }

        /** {@code isa}'s products of all of {@code q}'s row groups with these activations, (n, q.rows()). */
        float[] product(NativeQ8.Isa isa, NativeWeights q) {
            float[] got = new float[n * q.rows()];
            NativeQ8.product(isa, q, 0, q.groups(), xq, xd, xc, n, got);
            return got;
        }
    }

    /** n rows of {@link JavaTensorOpsTest#randomActivations} (seeded) with cols columns, quantised. */
    /** A writable little-endian copy of {@code r}'s bytes, positioned at its end. */
    private static java.nio.ByteBuffer littleEndianCopy(QuantizedMatrix r) {
        return java.nio.ByteBuffer.allocate(r.data().capacity()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .put(r.data().duplicate());
    }

    private static Quantised quantised(int n, int cols, long seed) {
        float[] x = JavaTensorOpsTest.randomActivations(n, cols, seed);
        Quantised a = new Quantised(n, new byte[n * cols], new float[n * cols / 32], new int[n * cols / 32]);
        Int8Products.quantize(x, n, cols, a.xq, a.xd, a.xc);
        return a;
    }
}
