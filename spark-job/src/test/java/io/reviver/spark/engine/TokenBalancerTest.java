package io.reviver.spark.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenBalancerTest {

    @Test
    void balancesByTokensNotRows() {
        // One long document and many short ones: row-count partitioning would give one partition ~all the work.
        long[] costs = new long[41];
        costs[0] = 4000;
        Arrays.fill(costs, 1, costs.length, 100);
        int[] a = TokenBalancer.assign(costs, 2);
        long[] loads = TokenBalancer.loads(costs, a, 2);
        assertEquals(8000, loads[0] + loads[1]);
        assertEquals(4000, loads[0]);
        assertEquals(4000, loads[1]);
    }

    @Test
    void withinOneDocumentOfTheMeanOnRandomCorpora() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            int n = 50 + rnd.nextInt(500);
            int p = 1 + rnd.nextInt(16);
            long[] costs = new long[n];
            long max = 0;
            for (int i = 0; i < n; i++) {
                costs[i] = 1 + rnd.nextInt(5000);
                max = Math.max(max, costs[i]);
            }
            int[] a = TokenBalancer.assign(costs, p);
            long[] loads = TokenBalancer.loads(costs, a, p);
            double mean = Arrays.stream(costs).sum() / (double) p;
            for (long l : loads) {
                assertTrue(l <= mean + max, "load " + l + " mean " + mean + " max doc " + max);
            }
            assertArrayEquals(a, TokenBalancer.assign(costs, p), "deterministic");
        }
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> TokenBalancer.assign(new long[] {1}, 0));
        assertThrows(IllegalArgumentException.class, () -> TokenBalancer.assign(new long[] {-1}, 1));
        assertEquals(0, TokenBalancer.assign(new long[0], 3).length);
    }
}
