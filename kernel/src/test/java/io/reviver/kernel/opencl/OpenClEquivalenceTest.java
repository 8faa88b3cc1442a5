package io.reviver.kernel.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.AttentionBatch;
import io.reviver.kernel.attention.AttentionFixtures;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.BackendStatus;
import io.reviver.kernel.attention.CountSketchShape;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.attention.SketchHash;
import io.reviver.kernel.attention.SketchedTokens;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every OpenCL kernel against {@link JavaAttentionBackend} over one table of shapes per op: head sizes 64 and
 * 128, GQA ratios 1/2/4/8, block lengths 0..4096 (one 4096 case), masks, causal prefill blocks, sketch depths
 * 1, 2, 3, 4, 5. The backend is opened with {@link BackendChoice#OPENCL}: with no OpenCL platform these tests fail
 * (they are not skipped) — CI runs them on PoCL.
 *
 * <p>Tolerances (the contract of {@link AttentionBackend}):
 * <ul>
 *   <li>hash, insert, reconstruct: exact (the same integer hashes and the same float additions in the same order;
 *       the median is a selection);</li>
 *   <li>attention (exact and fused): outputs {@code |Δ| ≤ 2e-6 · max(1, max|v|)}, weights {@code |Δ| ≤ 1e-6}:
 *       OpenCL's {@code exp} (≤ 3 ulp), a float tree-sum vs the reference's double sum, and FMA contraction in
 *       the dot products each move results by a few float ulps relative to 1 (worst measured on PoCL: 2.7e-7
 *       and 2.4e-7; a 1e-5 relative error injected into every other exponential fails the attention cases).</li>
 * </ul>
 */
class OpenClEquivalenceTest {

    static final float OUT_TOL = 2e-6f;
    static final float WEIGHT_TOL = 1e-6f;

    private static OpenClAttentionBackend cl;
    private static final JavaAttentionBackend REF = new JavaAttentionBackend();
    private static double worstOut;
    private static double worstWeight;

    @BeforeAll
    static void open() {
        cl = (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL);
    }

    @AfterAll
    static void close() {
        BackendStatus st = cl.status();
        System.out.printf("OpenCL equivalence: worst |Δout| %.3g, worst |Δweight| %.3g on %s%n", worstOut,
            worstWeight, st.device());
        cl.close();
    }

    static Stream<Arguments> attentionCases() {
        // headSize, kvMul, block lengths per pair, maskEvery (0 = no mask)
        return Stream.of(
            Arguments.of(64, 1, new int[] {1}, 0),
            Arguments.of(64, 2, new int[] {0, 0}, 0),
            Arguments.of(64, 2, new int[] {1, 2, 3, 17}, 0),
            Arguments.of(128, 4, new int[] {63, 64, 65, 0}, 3),
            Arguments.of(64, 8, new int[] {257, 5}, 0),
            Arguments.of(128, 1, new int[] {1000, 31, 7}, 5),
            Arguments.of(128, 8, new int[] {4096}, 0),
            Arguments.of(64, 4, new int[] {4096}, 7));
    }

    @ParameterizedTest(name = "headSize={0} kvMul={1} lengths={2} maskEvery={3}")
    @MethodSource("attentionCases")
    void attention(int headSize, int kvMul, int[] lengths, int maskEvery) {
        AttentionBatch b = AttentionFixtures.batch(headSize * 31L + kvMul, headSize, kvMul, lengths, maskEvery);
        compareAttention(b, null);
    }

    @Test
    void causalPrefillSharesOneBlock() {
        compareAttention(AttentionFixtures.causal(4, 64, 4, 100, 24), null);
        compareAttention(AttentionFixtures.causal(5, 128, 1, 0, 33), null);
    }

    static Stream<Arguments> sketchCases() {
        // depth, width, headSize, per-sketch token counts
        return Stream.of(
            Arguments.of(1, 64, 64, new int[] {300, 0, 5}),
            Arguments.of(2, 16, 128, new int[] {50}),
            Arguments.of(3, 128, 128, new int[] {1000}),
            Arguments.of(4, 8, 64, new int[] {40, 41}),
            Arguments.of(5, 32, 64, new int[] {200, 1, 90}),
            Arguments.of(5, 256, 128, new int[] {4096}));
    }

    @ParameterizedTest(name = "depth={0} width={1} headSize={2} tokens={3}")
    @MethodSource("sketchCases")
    void sketchInsertAndReconstructAreExact(int depth, int width, int headSize, int[] tokens) {
        CountSketchShape shape = new CountSketchShape(depth, width, headSize);
        Random rnd = new Random(depth * 1000L + width);
        int s = tokens.length;
        int[] start = new int[s];
        int m = 0;
        for (int k = 0; k < s; k++) {
            start[k] = m;
            m += tokens[k];
        }
        int[] seeds = new int[s];
        for (int k = 0; k < s; k++) {
            seeds[k] = rnd.nextInt();
        }
        int[] positions = new int[m];
        int[] sketchOf = new int[m];
        for (int k = 0; k < s; k++) {
            for (int t = start[k]; t < start[k] + tokens[k]; t++) {
                positions[t] = rnd.nextInt(1 << 20);
                sketchOf[t] = k;
            }
        }
        float[] x = AttentionFixtures.randomFloats(rnd, m * headSize, 1f);
        // Start from non-zero tables so in-place accumulation is checked too.
        float[] tablesCl = AttentionFixtures.randomFloats(rnd, s * shape.tableLength(), 0.5f);
        float[] tablesRef = tablesCl.clone();
        cl.sketchInsert(shape, tablesCl, seeds, start, tokens, positions, x);
        REF.sketchInsert(shape, tablesRef, seeds, start, tokens, positions, x);
        assertExact(tablesRef, tablesCl, "insert");

        float[] outCl = new float[m * headSize];
        float[] outRef = new float[m * headSize];
        cl.sketchReconstruct(shape, tablesRef, seeds, sketchOf, positions, m, outCl);
        REF.sketchReconstruct(shape, tablesRef, seeds, sketchOf, positions, m, outRef);
        assertExact(outRef, outCl, "reconstruct");
        assertTrue(cl.status().openCl(), cl.status().toString());
    }

    static Stream<Arguments> fusedCases() {
        // headSize, kvMul, exact lengths, sketched lengths, depth, width
        return Stream.of(
            Arguments.of(64, 1, new int[] {1}, new int[] {1}, 1, 16),
            Arguments.of(64, 4, new int[] {50, 0, 7}, new int[] {200, 3, 0}, 3, 64),
            Arguments.of(128, 2, new int[] {300}, new int[] {700}, 5, 128),
            Arguments.of(128, 8, new int[] {3500}, new int[] {596}, 2, 256),
            Arguments.of(64, 2, new int[] {10, 20}, new int[] {30, 40}, 4, 8),
            Arguments.of(64, 2, new int[] {0, 0}, new int[] {5, 9}, 3, 16));
    }

    @ParameterizedTest(name = "headSize={0} kvMul={1} exact={2} sketched={3} depth={4} width={5}")
    @MethodSource("fusedCases")
    void attentionOverExactAndSketchedTokens(int headSize, int kvMul, int[] exact, int[] vague, int depth, int width) {
        AttentionBatch b = AttentionFixtures.batch(headSize + 7L * depth, headSize, kvMul, exact, 0);
        SketchedTokens sk = AttentionFixtures.sketched(depth, b, new CountSketchShape(depth, width, headSize), vague,
            REF);
        compareAttention(b, sk);
    }

    @Test
    void reusedBuffersSeeNewDataAndSizes() {
        // Small, then larger (buffers grow), then the small batch again after editing its arrays in place (the
        // same Java arrays: Aparapi may reuse their device buffers, so every call must transfer them again).
        AttentionBatch small = AttentionFixtures.batch(71, 64, 2, new int[] {5, 9}, 0);
        AttentionBatch large = AttentionFixtures.batch(72, 64, 2, new int[] {300, 1, 77}, 2);
        compareAttention(small, null);
        compareAttention(large, null);
        for (int i = 0; i < small.keys().length; i++) {
            small.keys()[i] *= -1.5f;
            small.values()[i] += 0.25f;
        }
        small.queries()[0] = 3f;
        compareAttention(small, null);
        // Insert into the same table array twice: the second call must start from the first call's result.
        CountSketchShape shape = new CountSketchShape(3, 16, 64);
        float[] tablesCl = new float[shape.tableLength()];
        float[] tablesRef = new float[shape.tableLength()];
        float[] x = AttentionFixtures.randomFloats(new Random(73), 10 * 64, 1f);
        int[] pos = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        for (int round = 0; round < 2; round++) {
            cl.sketchInsert(shape, tablesCl, new int[] {4}, new int[] {0}, new int[] {10}, pos, x);
            REF.sketchInsert(shape, tablesRef, new int[] {4}, new int[] {0}, new int[] {10}, pos, x);
        }
        assertExact(tablesRef, tablesCl, "insert twice");
    }

    @Test
    void resultsHoldWhileTheCollectorMovesArrays() throws Exception {
        // A second thread allocates and forces collections while this one runs the ops, so arrays move between
        // and around calls: every result must still equal the reference's. (A stress test: it also passed with
        // the explicit put/get transfers the backend used before.)
        AttentionBatch b = AttentionFixtures.batch(81, 64, 4, new int[] {200, 37, 512}, 3);
        SketchedTokens sk = AttentionFixtures.sketched(82, b, new CountSketchShape(3, 64, 64), new int[] {90, 0, 300},
            REF);
        CountSketchShape shape = new CountSketchShape(2, 32, 64);
        float[] x = AttentionFixtures.randomFloats(new Random(83), 40 * 64, 1f);
        int[] pos = new int[40];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = 3 * i + 1;
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> {
            List<byte[]> keep = new ArrayList<>();
            while (!stop.get()) {
                keep.add(new byte[1 << 16]);
                if (keep.size() > 64) {
                    keep.clear();
                    System.gc();
                }
            }
        }, "gc-churn");
        churn.setDaemon(true);
        churn.start();
        try {
            for (int round = 0; round < 150; round++) {
                compareAttention(b, round % 2 == 0 ? null : sk);
                float[] tablesCl = new float[shape.tableLength()];
                float[] tablesRef = new float[shape.tableLength()];
                cl.sketchInsert(shape, tablesCl, new int[] {round}, new int[] {0}, new int[] {40}, pos, x);
                REF.sketchInsert(shape, tablesRef, new int[] {round}, new int[] {0}, new int[] {40}, pos, x);
                assertExact(tablesRef, tablesCl, "insert, round " + round);
            }
        } finally {
            stop.set(true);
            churn.join();
        }
        assertTrue(cl.status().openCl(), cl.status().toString());
    }

    @Test
    void oneBackendPerThreadRunsConcurrently() throws Exception {
        // The contract is one backend per thread: check that two threads, each with its own backend, get correct
        // results while running at the same time.
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Double>> results = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                final long seed = 80 + t;
                results.add(pool.submit(() -> {
                    double worst = 0;
                    try (OpenClAttentionBackend own = (OpenClAttentionBackend) OpenClAttentionBackend.open(
                        BackendChoice.OPENCL); JavaAttentionBackend ref = new JavaAttentionBackend()) {
                        for (int round = 0; round < 5; round++) {
                            AttentionBatch b = AttentionFixtures.batch(seed * 10 + round, 64, 4, new int[] {200, 33},
                                0);
                            float[] o1 = new float[b.outputLength()];
                            float[] o2 = new float[b.outputLength()];
                            own.attend(b, o1, null);
                            ref.attend(b, o2, null);
                            worst = Math.max(worst, maxDiff(o2, o1));
                        }
                        assertTrue(own.status().openCl(), own.status().toString());
                    }
                    return worst;
                }));
            }
            for (Future<Double> f : results) {
                double d = f.get(120, TimeUnit.SECONDS);
                assertTrue(d <= OUT_TOL * 2, "max |Δout| " + d);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void deviceHashEqualsJavaHashBitForBit() {
        Random rnd = new Random(99);
        int n = 20_000;
        int[] seeds = new int[n];
        int[] rows = new int[n];
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            seeds[i] = i < 4 ? new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}[i] : rnd.nextInt();
            rows[i] = rnd.nextInt(8);
            positions[i] = i % 3 == 0 ? i : rnd.nextInt();
        }
        long[] device = cl.deviceHashes(seeds, rows, positions);
        for (int i = 0; i < n; i++) {
            assertEquals(SketchHash.mix(seeds[i], rows[i], positions[i]), device[i], "triple " + i);
        }
    }

    /** Runs op 1 (sketch == null) or op 4 on both backends and checks outputs and weights. */
    private static void compareAttention(AttentionBatch b, SketchedTokens sk) {
        int nWeights = sk == null ? b.weightOffsets()[b.pairs()] : b.weightOffsets(sk.vagueLength())[b.pairs()];
        float[] outCl = new float[b.outputLength()];
        float[] wCl = new float[nWeights];
        float[] outRef = new float[b.outputLength()];
        float[] wRef = new float[nWeights];
        if (sk == null) {
            cl.attend(b, outCl, wCl);
            REF.attend(b, outRef, wRef);
        } else {
            cl.attendWithSketch(b, sk, outCl, wCl);
            REF.attendWithSketch(b, sk, outRef, wRef);
        }
        float vMax = 1f;
        for (float v : b.values()) {
            vMax = Math.max(vMax, Math.abs(v));
        }
        if (sk != null) {
            vMax = Math.max(vMax, maxAbs(sk.valueTables()) * 2);
        }
        double dOut = maxDiff(outRef, outCl);
        double dW = maxDiff(wRef, wCl);
        worstOut = Math.max(worstOut, dOut / vMax);
        worstWeight = Math.max(worstWeight, dW);
        assertTrue(dOut <= OUT_TOL * vMax, "max |Δout| " + dOut + " > " + OUT_TOL * vMax);
        assertTrue(dW <= WEIGHT_TOL, "max |Δweight| " + dW + " > " + WEIGHT_TOL);
        assertTrue(cl.status().openCl(), cl.status().toString());
    }

    private static float maxAbs(float[] a) {
        float m = 0f;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    private static void assertExact(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != actual[i]) { // −0 == +0 is accepted (the median may pick either zero)
                throw new AssertionError(what + " differs at " + i + ": expected " + expected[i] + " but was "
                    + actual[i]);
            }
        }
    }
}
