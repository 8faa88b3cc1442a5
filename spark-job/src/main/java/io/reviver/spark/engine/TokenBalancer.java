package io.reviver.spark.engine;

import java.util.Arrays;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Assigns documents to partitions so that each partition carries a similar amount of work, measured in tokens
 * rather than rows: longest-processing-time-first greedy (sort by cost descending, give each document to the
 * currently lightest partition; ties to the lowest partition index). The result is deterministic for a given
 * input, and its largest partition is at most 4/3 of the optimum (Graham's bound) — in practice, with many more
 * documents than partitions, within one document's cost of the mean.
 *
 * <p>Known limit: a single document is never split across partitions (its chunks are summarised in one task, in
 * order), so one document much longer than the mean bounds the balance.
 */
public final class TokenBalancer {

    private TokenBalancer() {
    }

    /**
     * @param costs      cost of each document (e.g. prompt + generated tokens), ≥ 0
     * @param partitions number of partitions, ≥ 1
     * @return partition of each document, in {@code [0, partitions)}
     */
    public static int[] assign(long[] costs, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be ≥ 1, got " + partitions);
        }
        Integer[] order = new Integer[costs.length];
        for (int i = 0; i < order.length; i++) {
            if (costs[i] < 0) {
                throw new IllegalArgumentException("cost of document " + i + " is negative: " + costs[i]);
            }
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> costs[i]).reversed()
            .thenComparingInt(i -> i));
        // Heap of (load, partition): lightest first, lowest index on ties.
        PriorityQueue<long[]> heap = new PriorityQueue<>(partitions, (a, b) -> a[0] != b[0]
            ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (int p = 0; p < partitions; p++) {
            heap.add(new long[] {0, p});
        }
        int[] assignment = new int[costs.length];
        for (int i : order) {
            long[] lightest = heap.poll();
            assignment[i] = (int) lightest[1];
            lightest[0] += costs[i];
            heap.add(lightest);
        }
        return assignment;
    }

    /** Total cost per partition of an assignment. */
    public static long[] loads(long[] costs, int[] assignment, int partitions) {
        long[] loads = new long[partitions];
        for (int i = 0; i < costs.length; i++) {
            loads[assignment[i]] += costs[i];
        }
        return loads;
    }
}
