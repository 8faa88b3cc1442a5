package io.reviver.spark.engine;

/**
 * Splits a token sequence into contiguous chunks of at most {@code capacity} tokens, in order, with sizes
 * differing by at most one (so the last chunk is never a tiny remainder).
 */
public final class Chunker {

    private Chunker() {
    }

    /**
     * @param length   tokens to split, ≥ 0
     * @param capacity maximum chunk size, ≥ 1
     * @return chunk boundaries: chunk {@code i} is {@code [bounds[i], bounds[i + 1])}; {@code bounds.length - 1}
     *         chunks, at least one (an empty sequence gives one empty chunk)
     */
    public static int[] bounds(int length, int capacity) {
        if (length < 0 || capacity < 1) {
            throw new IllegalArgumentException("length " + length + " must be ≥ 0 and capacity " + capacity
                + " ≥ 1");
        }
        int chunks = Math.max(1, (int) (((long) length + capacity - 1) / capacity));
        int[] bounds = new int[chunks + 1];
        int base = length / chunks;
        int extra = length % chunks;
        for (int i = 0; i < chunks; i++) {
            bounds[i + 1] = bounds[i] + base + (i < extra ? 1 : 0);
        }
        return bounds;
    }
}
