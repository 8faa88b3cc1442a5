package io.reviver.kernel.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link SketchHash}: pinned values (persisted sketches depend on them), range, balance and seeding. */
class SketchHashTest {

    @Test
    void mul32IsMultiplicationModulo2To32() {
        Random rnd = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            long a = rnd.nextInt() & SketchHash.MASK32;
            long c = rnd.nextInt() & SketchHash.MASK32;
            assertEquals((a * c) & SketchHash.MASK32, SketchHash.mul32(a, c), "a=" + a + " c=" + c);
        }
    }

    @Test
    void fmixMatchesMurmur3Finaliser() {
        // murmur3 fmix32 with Java int arithmetic (wrap-around multiplication), the textbook definition.
        Random rnd = new Random(2);
        for (int i = 0; i < 10_000; i++) {
            int h = rnd.nextInt();
            int k = h;
            k ^= k >>> 16;
            k *= 0x85EBCA6B;
            k ^= k >>> 13;
            k *= 0xC2B2AE35;
            k ^= k >>> 16;
            assertEquals(k & SketchHash.MASK32, SketchHash.fmix(h & SketchHash.MASK32));
        }
    }

    @Test
    void pinnedValues() {
        // Changing the hash silently invalidates every stored sketch: these values may only change on purpose.
        assertEquals(0xAA3E5B61L, SketchHash.mix(0, 0, 0));
        assertEquals(0xD7D10114L, SketchHash.mix(42, 1, 1000));
        assertEquals(0x2BCD9BBCL, SketchHash.mix(-7, 4, -1));
        assertEquals(0xD7D10114L % 1000, SketchHash.bucket(42, 1, 1000, 1000));
        assertEquals(-1, SketchHash.sign(42, 1, 1000)); // bit 31 of 0xD7D10114 is set
    }

    @Test
    void bucketsInRangeAndBalanced() {
        int width = 37;
        int[] counts = new int[width];
        int plus = 0;
        int n = 200_000;
        for (int p = 0; p < n; p++) {
            int b = SketchHash.bucket(123, 2, p, width);
            assertTrue(b >= 0 && b < width);
            counts[b]++;
            plus += SketchHash.sign(123, 2, p) > 0 ? 1 : 0;
        }
        double expected = (double) n / width;
        for (int c : counts) {
            assertTrue(Math.abs(c - expected) < 6 * Math.sqrt(expected), "bucket count " + c + " vs " + expected);
        }
        assertTrue(Math.abs(plus - n / 2.0) < 6 * Math.sqrt(n / 4.0), "+1 signs: " + plus + " of " + n);
    }

    @Test
    void rowsAndSeedsDecorrelate() {
        int same = 0;
        int sameSeed = 0;
        for (int p = 0; p < 10_000; p++) {
            same += SketchHash.bucket(5, 0, p, 64) == SketchHash.bucket(5, 1, p, 64) ? 1 : 0;
            sameSeed += SketchHash.bucket(5, 0, p, 64) == SketchHash.bucket(6, 0, p, 64) ? 1 : 0;
        }
        // Independent buckets agree with probability 1/64: about 156 of 10,000.
        assertTrue(same < 300 && sameSeed < 300, "rows agree " + same + ", seeds agree " + sameSeed);
        assertNotEquals(SketchHash.mix(1, 0, 7), SketchHash.mix(2, 0, 7));
    }

    /** The int form used per position (rowKey, then one finaliser) is the same hash, bit for bit. */
    @Test
    void intFormEqualsTheReferenceMix() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int k = 0; k < 100_000; k++) {
            int seed = r.nextInt();
            int row = r.nextInt(16);
            int position = k < 50_000 ? r.nextInt(1 << 20) : r.nextInt();
            int width = 1 + r.nextInt(5000);
            int mix = SketchHash.mixOf(SketchHash.rowKey(seed, row), position);
            assertEquals(SketchHash.mix(seed, row, position), mix & SketchHash.MASK32);
            assertEquals(SketchHash.bucket(seed, row, position, width), Integer.remainderUnsigned(mix, width));
            assertEquals(SketchHash.sign(seed, row, position), mix < 0 ? -1 : 1);
        }
    }
}
