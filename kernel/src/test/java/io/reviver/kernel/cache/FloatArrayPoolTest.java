package io.reviver.kernel.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The KV array pool: reuse of a long-enough array (at most a quarter longer), the byte bound, the ceiling, the
 * counters.
 */
class FloatArrayPoolTest {

    @Test
    void reusesTheShortestFittingArrayWithinTheBound() {
        FloatArrayPool pool = new FloatArrayPool(4L * 300);
        float[] a = pool.take(100);
        float[] b = pool.take(120);
        assertEquals(100, a.length);
        assertEquals(0, pool.hits());
        assertEquals(2, pool.misses());
        pool.give(b);
        pool.give(a);
        assertEquals(4L * 220, pool.pooledBytes());
        assertSame(a, pool.take(90), "the shortest array that fits");
        assertSame(b, pool.take(100), "longer, within a quarter more");
        assertEquals(0, pool.pooledBytes());
        pool.give(a);
        assertNotSame(a, pool.take(79), "more than a quarter longer: a new array");
        pool.give(new float[50], 4L * 120);
        assertEquals(4L * 100, pool.pooledBytes(), "over the caller's limit: not kept");
        float[] big = new float[400];
        pool.give(big); // over the byte bound with a already pooled: left to the collector
        assertEquals(4L * 100, pool.pooledBytes());
        assertEquals(2, pool.hits());
    }

    @Test
    void aCeilingTrimsThePoolAndBoundsEveryGiveUntilRaised() {
        FloatArrayPool pool = new FloatArrayPool(4L * 1000);
        pool.give(new float[100]);
        pool.give(new float[200]);
        pool.ceiling(4L * 150);
        assertEquals(4L * 100, pool.pooledBytes(), "trimmed to the ceiling, the longest array first");
        assertFalse(pool.give(new float[60]), "a give without a limit still stops at the ceiling");
        assertTrue(pool.give(new float[50]));
        assertEquals(4L * 150, pool.pooledBytes());
        pool.ceiling(-5);
        assertEquals(0, pool.pooledBytes(), "a negative ceiling holds nothing");
        pool.ceiling(Long.MAX_VALUE);
        assertTrue(pool.give(new float[700]), "raised: up to maxBytes again");
        assertFalse(pool.give(new float[400]), "maxBytes still bounds it");
    }

    @Test
    void denseCacheOnARecycledArrayReadsOnlyWhatItWrote() {
        FloatArrayPool pool = new FloatArrayPool(1 << 20);
        DenseKvCache first = new DenseKvCache(2, 1, 4, 8, pool);
        float[] k = {1, 2, 3, 4};
        for (int p = 0; p < 8; p++) {
            first.append(0, p, k, 0, k, 0);
            first.append(1, p, k, 0, k, 0);
        }
        first.release();
        DenseKvCache second = new DenseKvCache(2, 1, 4, 7, pool); // shorter: served by the recycled arrays
        assertEquals(2, pool.hits());
        float[] z = {9, 9, 9, 9};
        second.append(0, 0, z, 0, z, 0);
        float[] keys = new float[7 * 4];
        float[] values = new float[7 * 4];
        int[] positions = new int[7];
        assertEquals(1, second.gather(0, 0, keys, values, positions));
        assertEquals(9f, keys[0]);
        assertEquals(0, second.length(1));
        assertEquals(2L * 4 * 4, second.bytes());
    }
}
