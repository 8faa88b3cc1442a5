package io.reviver.kernel.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.modelstore.gguf.Dequantizer;
import io.reviver.modelstore.gguf.GgmlType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link JavaTensorOps} against an independent oracle: a double-precision dot over
 * {@link Dequantizer#dequantize}'s output, for every supported type × {SCALAR, VECTOR} × n ∈ {1, 3, 17} on seeded
 * random matrices (37 rows, so the row split over 3 threads and the 4-row tiles leave remainders; cols 256, 512
 * and 2304 = more than one 1024-column panel; float types also 261, not a multiple of the vector length).
 * Quantised matrices are random bytes whose fp16 scale fields are overwritten with sane scales, which covers
 * every quant bit pattern; {@link #pythonQuantisedWeightsMatchNumpyProducts} adds realistic Q8_0/Q4_0/Q4_K/Q6_K
 * weights from the repository's numpy quantisers, checked against numpy's own float64 products.
 *
 * <p>Tolerance: {@code |got − exact| ≤ 1e-5 · Σ_c |w_c · x_c| + 1e-6}; float32 accumulation over ≤ 2304 terms has
 * a typical relative error (w.r.t. Σ|w·x|) of about √cols · 2⁻²⁴ ≈ 3e-6, so 1e-5 leaves a margin of ~3 while a
 * wrong element, block or scale (an error of order |w_c·x_c| ≈ Σ|w·x| / cols ≥ 4e-4 · Σ|w·x|) fails by 40×.
 */
class JavaTensorOpsTest {

    private static final int ROWS = 37;
    private static JavaTensorOps scalar;
    private static JavaTensorOps vector;

    @BeforeAll
    static void open() {
        scalar = new JavaTensorOps(3, JavaTensorOps.Path.SCALAR);
        vector = new JavaTensorOps(3, JavaTensorOps.Path.VECTOR);
    }

    @AfterAll
    static void close() {
        scalar.close();
        vector.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (GgmlType type : GgmlType.values()) {
            List<Integer> colsList = new ArrayList<>(List.of(256, 512, 2304));
            if (type.blockSize() == 1) {
                colsList.add(261);
            }
            for (int cols : colsList) {
                for (int n : new int[] {1, 3, 17}) {
                    for (JavaTensorOps.Path path : JavaTensorOps.Path.values()) {
                        a.add(Arguments.of(type, cols, n, path));
                    }
                }
            }
        }
        return a.stream();
    }

    /** A random fp16 bit pattern of magnitude in [2^-7, 2^-3), sign random if {@code signed}. */
    static short saneHalf(Random rnd, boolean signed) {
        int exp = 8 + rnd.nextInt(4); // biased exponent 8..11 → 2^-7 .. 2^-4 · (1 + mantissa)
        int sign = signed && rnd.nextBoolean() ? 0x8000 : 0;
        return (short) (sign | exp << 10 | rnd.nextInt(1024));
    }

    /** Seeded random valid encoding of a (rows, cols) matrix of the given type. */
    static QuantizedMatrix randomMatrix(GgmlType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int bytes = (int) (rows * type.byteSize(cols));
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (int i = 0; i < rows * cols; i++) {
                    b.putFloat(4 * i, (float) rnd.nextGaussian());
                }
            }
            case F16 -> {
                // random sign and mantissa, biased exponent 10..17 (magnitudes 2^-5 .. 8)
                for (int i = 0; i < rows * cols; i++) {
                    int sign = rnd.nextBoolean() ? 0x8000 : 0;
                    b.putShort(2 * i, (short) (sign | (10 + rnd.nextInt(8)) << 10 | rnd.nextInt(1024)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < rows * cols; i++) {
                    b.putShort(2 * i, (short) (Float.floatToIntBits((float) rnd.nextGaussian()) >>> 16));
                }
            }
            default -> {
                byte[] raw = new byte[bytes];
                rnd.nextBytes(raw);
                b.put(0, raw);
                int blocks = bytes / type.typeSize();
                for (int k = 0; k < blocks; k++) {
                    int p = k * type.typeSize();
                    switch (type) {
                        case Q8_0, Q4_0 -> b.putShort(p, saneHalf(rnd, true));
                        case Q4_K -> {
                            b.putShort(p, saneHalf(rnd, false));
                            b.putShort(p + 2, saneHalf(rnd, false));
                        }
                        case Q6_K -> b.putShort(p + 208, saneHalf(rnd, true));
                        default -> throw new AssertionError(type);
                    }
                }
            }
        }
        return new QuantizedMatrix(type + "-test", type, b, rows, cols);
    }

    static float[] randomActivations(int n, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    /** Asserts got (n, rows) matches the double-precision product over Dequantizer's decoding. */
    static void assertMatchesOracle(QuantizedMatrix w, float[] x, int n, float[] got, String what) {
        int rows = w.rows();
        int cols = w.cols();
        float[] dense = Dequantizer.dequantize(w.type(), w.data(), rows * cols); // (rows, cols)
        double worst = 0;
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double mag = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) dense[r * cols + c] * x[t * cols + c];
                    exact += p;
                    mag += Math.abs(p);
                }
                assertTrue(mag > 0, what + ": degenerate test row");
                double err = Math.abs(got[t * rows + r] - exact);
                double bound = 1e-5 * mag + 1e-6;
                assertTrue(err <= bound, what + " out[" + t + ", " + r + "] = " + got[t * rows + r] + ", exact "
                    + exact + ", |Δ| " + err + " > " + bound);
                worst = Math.max(worst, err / mag);
            }
        }
        assertTrue(worst < 1e-5, what + ": worst relative error " + worst);
    }

    private static JavaTensorOps ops(JavaTensorOps.Path path) {
        return path == JavaTensorOps.Path.VECTOR ? vector : scalar;
    }

    @ParameterizedTest(name = "{0} cols={1} n={2} {3}")
    @MethodSource("cases")
    void matmulMatchesDoublePrecisionOracle(GgmlType type, int cols, int n, JavaTensorOps.Path path) {
        long seed = 1000L * type.id() + 7L * cols + n;
        QuantizedMatrix w = randomMatrix(type, ROWS, cols, seed);
        float[] x = randomActivations(n, cols, seed + 1);
        float[] out = new float[n * ROWS];
        ops(path).matmul(w, x, n, out);
        assertMatchesOracle(w, x, n, out, type + " " + path + " cols=" + cols + " n=" + n);
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void vectorAgreesWithScalarAndThreadCountDoesNotMatter(GgmlType type) {
        int cols = 2304;
        int n = 5;
        QuantizedMatrix w = randomMatrix(type, ROWS, cols, 42 + type.id());
        float[] x = randomActivations(n, cols, 43);
        float[] s = new float[n * ROWS];
        float[] v = new float[n * ROWS];
        scalar.matmul(w, x, n, s);
        vector.matmul(w, x, n, v);
        for (int i = 0; i < s.length; i++) {
            double mag = 0;
            int t = i / ROWS;
            int r = i % ROWS;
            float[] dense = new float[cols];
            vector.dequantizeRow(w, r, dense, 0);
            for (int c = 0; c < cols; c++) {
                mag += Math.abs((double) dense[c] * x[t * cols + c]);
            }
            assertTrue(Math.abs(s[i] - v[i]) <= 2e-5 * mag + 2e-6, type + " element " + i + ": scalar " + s[i]
                + " vector " + v[i]);
        }
        // each output element is accumulated by the same loop whatever the split: bit-identical across threads
        for (JavaTensorOps.Path path : JavaTensorOps.Path.values()) {
            try (JavaTensorOps one = new JavaTensorOps(1, path); JavaTensorOps two = new JavaTensorOps(2, path)) {
                float[] a = new float[n * ROWS];
                float[] b = new float[n * ROWS];
                one.matmul(w, x, n, a);
                two.matmul(w, x, n, b);
                assertArrayEquals(a, b, type + " " + path + ": 1 vs 2 threads");
                assertArrayEquals(path == JavaTensorOps.Path.VECTOR ? v : s, a, type + " " + path + ": 1 vs 3 threads");
            }
        }
    }

    /**
     * The prompt route (packed Q8_0, VECTOR, any n): within the oracle's tolerance; bit-identical over 1, 2 and 3
     * threads and for a row whatever the other rows and however many (n = 1, 3, 31 and 32 against the first rows
     * of 263: 263 crosses a token block and ends in a partial group; 37 weight rows leave an odd last pair); and
     * actually a different route (its rounding differs somewhere from the INDEPENDENT product, which it equals for
     * every other type or path).
     */
    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void promptRowsMatchOracleAndDependOnNothingElse(GgmlType type) {
        int cols = 2304;
        QuantizedMatrix w = randomMatrix(type, ROWS, cols, 91 + type.id());
        float[] x = randomActivations(263, cols, 92);
        for (JavaTensorOps.Path path : JavaTensorOps.Path.values()) {
            try (JavaTensorOps one = new JavaTensorOps(1, path); JavaTensorOps two = new JavaTensorOps(2, path)) {
                float[] big = new float[263 * ROWS];
                ops(path).matmul(w, x, 263, big, TensorOps.Rows.PROMPT);
                assertMatchesOracle(w, x, 263, big, type + " " + path + " prompt n=263");
                for (JavaTensorOps other : List.of(one, two)) {
                    float[] again = new float[263 * ROWS];
                    other.matmul(w, x, 263, again, TensorOps.Rows.PROMPT);
                    assertArrayEquals(big, again, type + " " + path + ": " + other.describe() + " vs 3 threads");
                }
                for (int n : new int[] {1, 3, 31, 32}) {
                    float[] small = new float[n * ROWS];
                    ops(path).matmul(w, x, n, small, TensorOps.Rows.PROMPT);
                    assertArrayEquals(java.util.Arrays.copyOf(big, n * ROWS), small, type + " " + path + ": n=" + n);
                }
                int n = 32;
                float[] independent = new float[n * ROWS];
                ops(path).matmul(w, x, n, independent);
                boolean promptRoute = type == GgmlType.Q8_0 && path == JavaTensorOps.Path.VECTOR
                    && jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 8; // the packed Q8_0 path
                assertEquals(!promptRoute, java.util.Arrays.equals(java.util.Arrays.copyOf(big, n * ROWS), independent),
                    type + " " + path + ": prompt route taken " + promptRoute);
            }
        }
    }

    /**
     * The prompt route's two tilings, 4 weight rows at a time (AVX-512's choice) and 2 (AVX2's), give the same bits
     * on any machine (each output element is the same chain in the same order), on 1 and 2 threads. 70 weight rows
     * end in a partial quad; 263 activation rows cross a token block and end in a partial group; with 4,160 columns
     * the quad route decodes 28 rows at a time (so the rows cross two row blocks on either thread count), with
     * 1,024 columns 128 (one block).
     */
    @ParameterizedTest
    @ValueSource(ints = {4160, 1024})
    void promptRowQuadsGiveTheBitsOfRowPairs(int cols) {
        int rows = 70;
        int n = 263;
        assertEquals(cols == 4160 ? 28 : 128, JavaTensorOps.quadBlockRows(cols));
        QuantizedMatrix w = randomMatrix(GgmlType.Q8_0, rows, cols, 95);
        float[] x = randomActivations(n, cols, 96);
        float[] pairs = new float[n * rows];
        float[] quads = new float[n * rows];
        float[] quadsOneThread = new float[n * rows];
        try (JavaTensorOps p = new JavaTensorOps(2, JavaTensorOps.Path.VECTOR, false);
             JavaTensorOps q = new JavaTensorOps(2, JavaTensorOps.Path.VECTOR, true);
             JavaTensorOps q1 = new JavaTensorOps(1, JavaTensorOps.Path.VECTOR, true)) {
            p.matmul(w, x, n, pairs, TensorOps.Rows.PROMPT);
            q.matmul(w, x, n, quads, TensorOps.Rows.PROMPT);
            q1.matmul(w, x, n, quadsOneThread, TensorOps.Rows.PROMPT);
        }
        assertMatchesOracle(w, x, n, pairs, "row pairs, " + cols + " columns");
        assertArrayEquals(pairs, quads, "row quads vs row pairs, " + cols + " columns");
        assertArrayEquals(quads, quadsOneThread, "row quads: 1 vs 2 threads, " + cols + " columns");
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void prefillRowsEqualSeparateMatVecs(GgmlType type) {
        int cols = 2304;
        int n = 19; // Q8_0: two activation blocks (16 + 3), groups of 4 and single rows, a partial column panel
        QuantizedMatrix w = randomMatrix(type, ROWS, cols, 77 + type.id());
        float[] x = randomActivations(n, cols, 78);
        for (JavaTensorOps ops : List.of(scalar, vector)) {
            float[] batch = new float[n * ROWS];
            ops.matmul(w, x, n, batch);
            for (int t = 0; t < n; t++) {
                float[] one = new float[ROWS];
                float[] xt = new float[cols];
                System.arraycopy(x, t * cols, xt, 0, cols);
                ops.matmul(w, xt, 1, one);
                for (int r = 0; r < ROWS; r++) {
                    assertEquals(one[r], batch[t * ROWS + r], 0f, type + " " + ops.describe() + " t=" + t + " r=" + r);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void dequantizeRowIsBitIdenticalToDequantizer(GgmlType type) {
        int cols = 512;
        QuantizedMatrix w = randomMatrix(type, ROWS, cols, 5 + type.id());
        float[] dense = Dequantizer.dequantize(type, w.data(), ROWS * cols);
        for (JavaTensorOps ops : List.of(scalar, vector)) {
            for (int r : new int[] {0, 17, ROWS - 1}) {
                float[] row = new float[cols + 3];
                ops.dequantizeRow(w, r, row, 3);
                for (int c = 0; c < cols; c++) {
                    assertEquals(Float.floatToRawIntBits(dense[r * cols + c]), Float.floatToRawIntBits(row[3 + c]),
                        type + " " + ops.describe() + " row " + r + " col " + c);
                }
            }
        }
    }

    @Test
    void prepareReportsTheHeapCopyOfQ8OnTheVectorPath() {
        QuantizedMatrix q8 = randomMatrix(GgmlType.Q8_0, ROWS, 256, 3);
        // int8 quants plus one float scale per 32 columns, when the vector path packs Q8_0 (8 or 16 float lanes)
        long packed = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() >= 8
            ? (long) ROWS * 256 + 4L * ROWS * (256 / 32) : 0;
        assertEquals(new TensorOps.CopyBytes(packed, 0), vector.prepare(q8));
        assertEquals(new TensorOps.CopyBytes(packed, 0), vector.prepare(q8), "a second call finds the same copy");
        assertEquals(TensorOps.CopyBytes.NONE, scalar.prepare(q8));
        assertEquals(TensorOps.CopyBytes.NONE, vector.prepare(randomMatrix(GgmlType.F32, ROWS, 256, 4)));
    }

    @Test
    void badShapesAreRejected() {
        QuantizedMatrix w = randomMatrix(GgmlType.Q8_0, ROWS, 64, 1);
        for (JavaTensorOps ops : List.of(scalar, vector)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.matmul(w, new float[2 * 64 - 1], 2, new float[2 * ROWS]));
            assertTrue(e.getMessage().contains("Q8_0-test") && e.getMessage().contains("127"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                () -> ops.matmul(w, new float[2 * 64], 2, new float[2 * ROWS - 1]));
            assertTrue(e.getMessage().contains("out has " + (2 * ROWS - 1)), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.matmul(w, new float[64], 0, new float[ROWS]));
            assertTrue(e.getMessage().contains("n must be >= 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.dequantizeRow(w, ROWS, new float[64], 0));
            assertTrue(e.getMessage().contains("row " + ROWS), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ops.dequantizeRow(w, 0, new float[64], 1));
            assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new JavaTensorOps(0, JavaTensorOps.Path.SCALAR));
    }

    @Test
    void describeNamesPathWidthAndThreads() {
        assertEquals("java-scalar, 3 threads", scalar.describe());
        assertTrue(vector.describe().matches("java-vector \\d+-bit \\(\\d+ float lanes\\), 3 threads"),
            vector.describe());
    }

    @Test
    void halfToFloatIsExactForEveryBitPattern() {
        for (int h = 0; h < 65536; h++) {
            assertEquals(Float.floatToRawIntBits(Dequantizer.f16ToF32((short) h)),
                Float.floatToRawIntBits(JavaTensorOps.halfToFloat(h)), "fp16 bits 0x" + Integer.toHexString(h));
        }
    }

    /** Every fp16 and bf16 bit pattern (zeros, subnormals, infinities, NaNs) through both decoders. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16"})
    void halfDecodersAreExactForEveryBitPattern(GgmlType type) {
        int cols = 65536 + 5; // 5 more than all patterns: the scalar tail after the vector body is covered too
        ByteBuffer b = ByteBuffer.allocate(2 * cols).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < cols; i++) {
            b.putShort(2 * i, (short) (i * 40503)); // 40503 is odd: a permutation of all 65536 patterns
        }
        QuantizedMatrix w = new QuantizedMatrix("all-" + type, type, b, 1, cols);
        float[] expected = Dequantizer.dequantize(type, w.data(), cols);
        for (JavaTensorOps ops : List.of(scalar, vector)) {
            float[] got = new float[cols];
            ops.dequantizeRow(w, 0, got, 0);
            for (int c = 0; c < cols; c++) {
                assertEquals(Float.floatToRawIntBits(expected[c]), Float.floatToRawIntBits(got[c]),
                    type + " " + ops.describe() + " bits 0x" + Integer.toHexString(b.getShort(2 * c) & 0xFFFF));
            }
        }
    }

    @TempDir
    static Path tmp;

    /**
     * Realistic weights: seeded Gaussian matrices (29 × 512, 5 activation rows) quantised by
     * python/gguf_writer.py (Q8_0, Q4_0) and python/gguf_kquants.py (Q4_K, Q6_K); numpy decodes them with its own
     * decoders and computes the products and Σ|w·x| in float64. Tolerance as in the random-block tests.
     */
    @Test
    void pythonQuantisedWeightsMatchNumpyProducts() throws IOException, InterruptedException {
        int rows = 29;
        int cols = 512;
        int n = 5;
        String script = String.join("\n",
            "import sys, numpy as np",
            "sys.path.insert(0, sys.argv[1] + '/python')",
            "import gguf_writer as gw, gguf_kquants as gk",
            "out = sys.argv[2]; rows, cols, n = 29, 512, 5",
            "rng = np.random.default_rng(20240611)",
            "x = rng.standard_normal((n, cols)).astype(np.float32)",
            "x.astype('<f4').tofile(out + '/x.bin')",
            "for name, t in [('Q8_0', gw.Q8_0), ('Q4_0', gw.Q4_0), ('Q4_K', gw.Q4_K), ('Q6_K', gw.Q6_K)]:",
            "    w = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)",
            "    raw = gw.encode_tensor(w, t)",
            "    dec = {'Q8_0': gw.dequantize_q8_0, 'Q4_0': gw.dequantize_q4_0}.get(name)",
            "    dense = (dec(raw) if dec else gk.decode(raw, t)).astype(np.float64).reshape(rows, cols)",
            "    open(out + '/' + name + '.w', 'wb').write(raw)",
            "    (x.astype(np.float64) @ dense.T).astype('<f8').tofile(out + '/' + name + '.exact')",
            "    (np.abs(x.astype(np.float64)) @ np.abs(dense).T).astype('<f8').tofile(out + '/' + name + '.mag')");
        Process p = new ProcessBuilder(python(), "-c", script, repoRoot().toString(), tmp.toString())
            .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python timed out");
        assertEquals(0, p.exitValue(), log);
        float[] x = new float[n * cols];
        ByteBuffer.wrap(Files.readAllBytes(tmp.resolve("x.bin"))).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        for (GgmlType type : List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K)) {
            ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(tmp.resolve(type + ".w")));
            QuantizedMatrix w = new QuantizedMatrix("numpy-" + type, type, raw, rows, cols);
            double[] exact = new double[n * rows];
            double[] mag = new double[n * rows];
            ByteBuffer.wrap(Files.readAllBytes(tmp.resolve(type + ".exact"))).order(ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer().get(exact);
            ByteBuffer.wrap(Files.readAllBytes(tmp.resolve(type + ".mag"))).order(ByteOrder.LITTLE_ENDIAN)
                .asDoubleBuffer().get(mag);
            for (JavaTensorOps ops : List.of(scalar, vector)) {
                for (int m : new int[] {1, n}) {
                    float[] out = new float[m * rows];
                    ops.matmul(w, x, m, out);
                    for (int i = 0; i < m * rows; i++) {
                        double err = Math.abs(out[i] - exact[i]);
                        assertTrue(mag[i] > 0 && err <= 1e-5 * mag[i] + 1e-6, type + " " + ops.describe() + " n=" + m
                            + " element " + i + ": " + out[i] + " vs numpy " + exact[i] + " (Σ|w·x| " + mag[i] + ")");
                    }
                }
            }
        }
    }

    private static Path repoRoot() {
        String prop = System.getProperty("reviver.repo.root");
        if (prop != null && Files.isDirectory(Paths.get(prop, ".ci"))) {
            return Paths.get(prop);
        }
        for (Path d = Paths.get(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve(".ci"))) {
                return d;
            }
        }
        throw new IllegalStateException("no repository root (a directory containing .ci/) above "
            + System.getProperty("user.dir"));
    }

    private static String python() {
        return System.getProperty("reviver.python", "/usr/bin/python3");
    }
}
