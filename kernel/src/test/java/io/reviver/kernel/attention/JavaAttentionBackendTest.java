package io.reviver.kernel.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The reference backend against independent double-precision oracles written here (tiny shapes), and the
 * Count-Sketch identities: a lone token reconstructs exactly, inserts are additive, the fused op equals attention
 * over the explicitly reconstructed vectors. Tolerance vs the double oracle: 2e-6 absolute on outputs of values
 * bounded by 2 and on weights (float32 dot products of ≤ 64 terms).
 */
class JavaAttentionBackendTest {

    private final JavaAttentionBackend ref = new JavaAttentionBackend();

    @Test
    void attendMatchesDoubleOracleWithGqaAndMask() {
        AttentionBatch b = AttentionFixtures.batch(11, 16, 3, new int[] {1, 5, 40}, 4);
        int[] wOff = b.weightOffsets();
        float[] out = new float[b.outputLength()];
        float[] w = new float[wOff[b.pairs()]];
        ref.attend(b, out, w);
        for (int p = 0; p < b.pairs(); p++) {
            for (int r = 0; r < b.kvMul(); r++) {
                int n = b.blockLength()[p];
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    int e = b.blockStart()[p] + j;
                    s[j] = Double.NEGATIVE_INFINITY;
                    if (b.valid()[e] != 0) {
                        double dot = 0;
                        for (int c = 0; c < 16; c++) {
                            dot += (double) b.queries()[(p * 3 + r) * 16 + c] * b.keys()[e * 16 + c];
                        }
                        s[j] = dot * b.scale();
                    }
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Double.isInfinite(s[j]) ? 0 : Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < n; j++) {
                    assertEquals(s[j] / sum, w[wOff[p] + r * n + j], 2e-6, "weight p=" + p + " r=" + r + " j=" + j);
                }
                for (int c = 0; c < 16; c++) {
                    double o = 0;
                    for (int j = 0; j < n; j++) {
                        o += s[j] / sum * b.values()[(b.blockStart()[p] + j) * 16 + c];
                    }
                    assertEquals(o, out[(p * 3 + r) * 16 + c], 2e-6, "out p=" + p + " r=" + r + " c=" + c);
                }
            }
        }
        // Masked entries (every 4th) have weight exactly 0.
        assertEquals(0f, w[wOff[2] + 1]); // entry 6 + 1 = 7: every 4th entry (e % 4 == 3) is masked
    }

    @Test
    void emptyOrFullyMaskedBlockGivesZeros() {
        AttentionBatch b = new AttentionBatch(2, 1, 4, 1f, new float[] {1, 2, 3, 4, 1, 1, 1, 1}, new float[] {1, 1, 1, 1},
            new float[] {5, 5, 5, 5}, new int[] {0, 0}, new int[] {0, 1}, new int[] {0});
        float[] out = new float[8];
        java.util.Arrays.fill(out, 9f);
        float[] w = new float[1];
        ref.attend(b, out, w);
        assertArrayEquals(new float[8], out);
        assertArrayEquals(new float[1], w);
    }

    @Test
    void loneTokenReconstructsExactly() {
        for (int d = 1; d <= 5; d++) {
            CountSketchShape shape = new CountSketchShape(d, 8, 6);
            float[] tables = new float[2 * shape.tableLength()];
            float[] x = {1.5f, -2f, 0f, 3.25f, 7f, -0.5f};
            ref.sketchInsert(shape, tables, new int[] {9, 10}, new int[] {0, 0}, new int[] {0, 1}, new int[] {77}, x);
            float[] out = new float[6];
            ref.sketchReconstruct(shape, tables, new int[] {9, 10}, new int[] {1}, new int[] {77}, 1, out);
            assertArrayEquals(x, out, "depth " + d);
        }
    }

    @Test
    void rowsCombineByMedianOrMean() {
        assertEquals(2f, JavaAttentionBackend.combineRows(new float[] {3, 1, 2}, 3));
        assertEquals(2.5f, JavaAttentionBackend.combineRows(new float[] {4, 1, 3, 2}, 4));
        assertEquals(2f, JavaAttentionBackend.combineRows(new float[] {1, 3}, 2));
        assertEquals(-1f, JavaAttentionBackend.combineRows(new float[] {9, -1, -5, -1, 100}, 5));
    }

    @Test
    void insertIsAdditiveAcrossCalls() {
        CountSketchShape shape = new CountSketchShape(3, 5, 4);
        Random rnd = new Random(3);
        float[] x = AttentionFixtures.randomFloats(rnd, 10 * 4, 1f);
        int[] pos = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] once = new float[shape.tableLength()];
        ref.sketchInsert(shape, once, new int[] {1}, new int[] {0}, new int[] {10}, pos, x);
        float[] twice = new float[shape.tableLength()];
        ref.sketchInsert(shape, twice, new int[] {1}, new int[] {0}, new int[] {4}, pos, x);
        ref.sketchInsert(shape, twice, new int[] {1}, new int[] {4}, new int[] {6}, pos, x);
        assertArrayEquals(once, twice);
    }

    @Test
    void fusedEqualsAttentionOverReconstructedTokens() {
        AttentionBatch exact = AttentionFixtures.batch(5, 8, 2, new int[] {3, 0}, 0);
        CountSketchShape shape = new CountSketchShape(3, 4, 8);
        SketchedTokens sk = AttentionFixtures.sketched(6, exact, shape, new int[] {5, 2}, ref);
        float[] fused = new float[exact.outputLength()];
        float[] fusedW = new float[exact.weightOffsets(sk.vagueLength())[2]];
        ref.attendWithSketch(exact, sk, fused, fusedW);

        // Build the same problem explicitly: exact entries followed by reconstructed ones, per pair.
        int hs = 8;
        int[] len = {3 + 5, 0 + 2};
        float[] keys = new float[10 * hs];
        float[] values = new float[10 * hs];
        int[] start = {0, 8};
        for (int p = 0; p < 2; p++) {
            System.arraycopy(exact.keys(), exact.blockStart()[p] * hs, keys, start[p] * hs, exact.blockLength()[p] * hs);
            System.arraycopy(exact.values(), exact.blockStart()[p] * hs, values, start[p] * hs,
                exact.blockLength()[p] * hs);
            int m = sk.vagueLength()[p];
            int[] pos = java.util.Arrays.copyOfRange(sk.positions(), sk.vagueStart()[p], sk.vagueStart()[p] + m);
            int[] which = new int[m];
            java.util.Arrays.fill(which, p);
            float[] k = new float[m * hs];
            float[] v = new float[m * hs];
            ref.sketchReconstruct(shape, sk.keyTables(), sk.seeds(), which, pos, m, k);
            ref.sketchReconstruct(shape, sk.valueTables(), sk.seeds(), which, pos, m, v);
            System.arraycopy(k, 0, keys, (start[p] + exact.blockLength()[p]) * hs, m * hs);
            System.arraycopy(v, 0, values, (start[p] + exact.blockLength()[p]) * hs, m * hs);
        }
        AttentionBatch explicit = new AttentionBatch(2, 2, hs, exact.scale(), exact.queries(), keys, values, start, len,
            null);
        float[] out = new float[explicit.outputLength()];
        float[] w = new float[explicit.weightOffsets()[2]];
        ref.attend(explicit, out, w);
        assertArrayEquals(out, fused);
        assertArrayEquals(w, fusedW);
    }

    @Test
    void validationNamesTheProblem() {
        assertThrows(IllegalArgumentException.class, () -> new AttentionBatch(1, 1, 4, 1f, new float[4], new float[8],
            new float[8], new int[] {1}, new int[] {2}, null));
        assertThrows(IllegalArgumentException.class, () -> new CountSketchShape(0, 4, 4));
        CountSketchShape shape = new CountSketchShape(1, 4, 4);
        assertThrows(IllegalArgumentException.class, () -> ref.sketchReconstruct(shape, new float[16], new int[] {1},
            new int[] {1}, new int[] {0}, 1, new float[4]));
    }
}
