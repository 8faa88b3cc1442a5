package io.reviver.spark.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ChunkerTest {

    @Test
    void contiguousOrderedAndEven() {
        assertArrayEquals(new int[] {0, 10}, Chunker.bounds(10, 10));
        assertArrayEquals(new int[] {0, 6, 11}, Chunker.bounds(11, 10));
        assertArrayEquals(new int[] {0, 0}, Chunker.bounds(0, 5));
        for (int len = 0; len < 300; len++) {
            for (int cap = 1; cap < 40; cap += 3) {
                int[] b = Chunker.bounds(len, cap);
                assertEquals(0, b[0]);
                assertEquals(len, b[b.length - 1]);
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (int i = 0; i + 1 < b.length; i++) {
                    int size = b[i + 1] - b[i];
                    assertTrue(size <= cap);
                    min = Math.min(min, size);
                    max = Math.max(max, size);
                }
                assertTrue(max - min <= 1, "even sizes");
                assertEquals(Math.max(1, (len + cap - 1) / cap), b.length - 1, "fewest chunks");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Chunker.bounds(5, 0));
    }
}
