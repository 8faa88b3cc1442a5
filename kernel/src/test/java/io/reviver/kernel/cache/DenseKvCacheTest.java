package io.reviver.kernel.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DenseKvCacheTest {

    /** Key element (layer, position, kvHead, i) encoded as a distinct number; values are its negation. */
    private static float code(int layer, int position, int kvHead, int i) {
        return layer * 10000 + position * 100 + kvHead * 10 + i;
    }

    @Test
    void appendThenReadRangesPerHead() {
        int nLayers = 2, nKvHeads = 3, headSize = 4, cap = 5;
        DenseKvCache cache = new DenseKvCache(nLayers, nKvHeads, headSize, cap);
        for (int l = 0; l < nLayers; l++) {
            for (int p = 0; p < cap; p++) {
                float[] k = new float[1 + nKvHeads * headSize]; // offset 1 to check keyOff handling
                float[] v = new float[nKvHeads * headSize];
                for (int g = 0; g < nKvHeads; g++) {
                    for (int i = 0; i < headSize; i++) {
                        k[1 + g * headSize + i] = code(l, p, g, i);
                        v[g * headSize + i] = -code(l, p, g, i);
                    }
                }
                cache.append(l, p, k, 1, v, 0);
            }
            assertEquals(cap, cache.length(l));
        }
        float[] out = new float[2 + 3 * headSize];
        cache.readKeys(1, 2, 1, 4, out, 2);
        float[] outV = new float[3 * headSize];
        cache.readValues(1, 2, 1, 4, outV, 0);
        for (int p = 1; p < 4; p++) {
            for (int i = 0; i < headSize; i++) {
                assertEquals(code(1, p, 2, i), out[2 + (p - 1) * headSize + i]);
                assertEquals(-code(1, p, 2, i), outV[(p - 1) * headSize + i]);
            }
        }
    }

    @Test
    void rejectsOutOfOrderOverflowAndBadRanges() {
        DenseKvCache cache = new DenseKvCache(1, 1, 2, 2);
        float[] kv = {1, 2};
        IllegalStateException gap = assertThrows(IllegalStateException.class, () -> cache.append(0, 1, kv, 0, kv, 0));
        assertTrue(gap.getMessage().contains("position 1"), gap.getMessage());
        cache.append(0, 0, kv, 0, kv, 0);
        cache.append(0, 1, kv, 0, kv, 0);
        assertThrows(IllegalStateException.class, () -> cache.append(0, 2, kv, 0, kv, 0));
        assertThrows(IllegalArgumentException.class, () -> cache.readKeys(0, 0, 1, 3, new float[8], 0));
        assertThrows(IllegalArgumentException.class, () -> cache.readKeys(0, 1, 0, 1, new float[8], 0));
        assertThrows(IllegalArgumentException.class, () -> cache.length(1));
        assertThrows(IllegalArgumentException.class, () -> new DenseKvCache(1, 1, 0, 2));
    }

    @Test
    void clearAllowsReuse() {
        DenseKvCache cache = new DenseKvCache(1, 1, 2, 2);
        cache.append(0, 0, new float[] {1, 2}, 0, new float[] {3, 4}, 0);
        cache.clear();
        assertEquals(0, cache.length(0));
        cache.append(0, 0, new float[] {5, 6}, 0, new float[] {7, 8}, 0);
        float[] k = new float[2];
        cache.readKeys(0, 0, 0, 1, k, 0);
        assertArrayEquals(new float[] {5, 6}, k);
    }
}
