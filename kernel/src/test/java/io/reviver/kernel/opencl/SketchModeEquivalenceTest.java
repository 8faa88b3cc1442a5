package io.reviver.kernel.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.attention.AttentionFixtures;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.CountSketchShape;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.attention.SketchHash;
import io.reviver.kernel.attention.SketchMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Count-Sketch insert and reconstruction in both estimators, OpenCL (required: with no platform these tests fail,
 * they are not skipped — CI runs them on PoCL) against {@link JavaAttentionBackend}, over one parameter table:
 * head sizes 64 and 128, depth 1, 3, 5, tokens per sketch 1..4096, MEAN and SIGNED; two sketches per call (the
 * second holding a third of the tokens), and reconstruction of every inserted position plus 16 absent ones (which
 * hit empty MEAN buckets). Tolerances, as the {@code AttentionBackend} contract states:
 * <ul>
 *   <li>insert, both modes: tables and counts bit-equal;</li>
 *   <li>reconstruct SIGNED: bit-equal;</li>
 *   <li>reconstruct MEAN: {@code |Δ| ≤ (depth + 3) · 2⁻²⁴ · max_j |T_j[c] / n_j|} per coordinate, and bit-equal
 *       for depth 1 (measured worst: 3.5 · 2⁻²⁴ at depth 5).</li>
 * </ul>
 */
class SketchModeEquivalenceTest {

    /** The MEAN reconstruction bound per row, relative to the largest bucket mean combined: (depth + 3) of these. */
    static final double MEAN_REL_ULP = Math.scalb(1.0, -24);
    static final int WIDTH = 128;

    private static OpenClAttentionBackend cl;
    private static final JavaAttentionBackend REF = new JavaAttentionBackend();
    private static double worstMeanRel;
    private static long meanCoords;
    private static long meanDiffering;

    @BeforeAll
    static void open() {
        cl = (OpenClAttentionBackend) OpenClAttentionBackend.open(BackendChoice.OPENCL);
    }

    @AfterAll
    static void close() {
        System.out.printf("sketch modes: worst MEAN |Δ| / max bucket mean %.3g (%.2f · 2⁻²⁴); %d of %d MEAN coordinates "
            + "not bit-equal; on %s%n", worstMeanRel, worstMeanRel / MEAN_REL_ULP, meanDiffering, meanCoords,
            cl.status().device());
        cl.close();
    }

    static Stream<Arguments> table() {
        List<Arguments> rows = new ArrayList<>();
        for (SketchMode mode : SketchMode.values()) {
            for (int headSize : new int[] {64, 128}) {
                for (int depth : new int[] {1, 3, 5}) {
                    for (int tokens : new int[] {1, 33, 700, 4096}) {
                        rows.add(Arguments.of(mode, headSize, depth, tokens));
                    }
                }
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} headSize={1} depth={2} tokens={3}")
    @MethodSource("table")
    void insertAndReconstructMatchTheReference(SketchMode mode, int headSize, int depth, int tokens) {
        CountSketchShape shape = new CountSketchShape(depth, WIDTH, headSize, mode);
        Random rnd = new Random(headSize * 7919L + depth * 131L + tokens + mode.ordinal());
        int[] count = {tokens, tokens / 3};
        int[] start = {0, tokens};
        int m = tokens + tokens / 3;
        int[] seeds = {rnd.nextInt(), rnd.nextInt()};
        int[] positions = new int[m];
        for (int t = 0; t < m; t++) {
            positions[t] = t < tokens ? t : 5 * t + 3; // dense like an evicted prefix, then sparse
        }
        float[] x = AttentionFixtures.randomFloats(rnd, m * headSize, 1f);
        for (int i = 0; i < x.length; i++) {
            x[i] += 0.75f; // a common component, as keys have
        }
        float[] tablesCl = new float[2 * shape.tableLength()];
        float[] tablesRef = new float[2 * shape.tableLength()];
        int[] countsCl = mode == SketchMode.MEAN ? new int[2 * shape.countLength()] : null;
        int[] countsRef = mode == SketchMode.MEAN ? new int[2 * shape.countLength()] : null;
        // two inserts into the same arrays: the second starts from the first's result
        int half = Math.max(1, tokens / 2);
        int[] first = {Math.min(half, tokens), 0};
        int[] secondStart = {first[0], tokens};
        int[] second = {tokens - first[0], tokens / 3};
        for (int round = 0; round < 2; round++) {
            int[] s0 = round == 0 ? start : secondStart;
            int[] c0 = round == 0 ? first : second;
            cl.sketchInsert(shape, tablesCl, countsCl, seeds, s0, c0, positions, x);
            REF.sketchInsert(shape, tablesRef, countsRef, seeds, s0, c0, positions, x);
        }
        assertArrayEquals(tablesRef, tablesCl, 0f, "insert tables");
        if (countsRef != null) {
            assertArrayEquals(countsRef, countsCl, "insert counts");
            assertEquals(depth * (long) m, sum(countsRef));
        }

        int extra = 16;
        int[] rPositions = new int[m + extra];
        int[] sketchOf = new int[m + extra];
        for (int i = 0; i < m; i++) {
            rPositions[i] = positions[i];
            sketchOf[i] = i < tokens ? 0 : 1;
        }
        for (int i = m; i < m + extra; i++) {
            rPositions[i] = 1_000_000 + 17 * i; // never inserted
            sketchOf[i] = i & 1;
        }
        int n = m + extra;
        float[] outCl = new float[n * headSize];
        float[] outRef = new float[n * headSize];
        cl.sketchReconstruct(shape, tablesRef, countsRef, seeds, sketchOf, rPositions, n, outCl);
        REF.sketchReconstruct(shape, tablesRef, countsRef, seeds, sketchOf, rPositions, n, outRef);
        if (mode == SketchMode.SIGNED || depth == 1) {
            assertArrayEquals(outRef, outCl, 0f, "reconstruct " + mode + " depth " + depth);
        }
        if (mode == SketchMode.MEAN) {
            for (int i = 0; i < n; i++) {
                int s = sketchOf[i];
                for (int c = 0; c < headSize; c++) {
                    double maxMean = 0;
                    for (int j = 0; j < depth; j++) {
                        int b = SketchHash.bucket(seeds[s], j, rPositions[i], WIDTH);
                        int cnt = countsRef[shape.countIndex(s, j, b)];
                        if (cnt > 0) {
                            maxMean = Math.max(maxMean, Math.abs(tablesRef[shape.offset(s, j, b) + c] / (double) cnt));
                        }
                    }
                    double diff = Math.abs(outCl[i * headSize + c] - outRef[i * headSize + c]);
                    meanCoords++;
                    if (diff != 0) {
                        meanDiffering++;
                        worstMeanRel = Math.max(worstMeanRel, diff / maxMean);
                    }
                    double bound = (depth + 3) * MEAN_REL_ULP * maxMean;
                    assertTrue(diff <= bound, "position " + rPositions[i] + " coordinate " + c + ": |Δ| " + diff
                        + " > (depth + 3) · 2⁻²⁴ · " + maxMean);
                }
            }
        }
        assertTrue(cl.status().openCl(), cl.status().toString());
    }

    private static long sum(int[] a) {
        long s = 0;
        for (int v : a) {
            s += v;
        }
        return s;
    }
}
