package io.reviver.kernel.press;

import io.reviver.kernel.cache.KvCache;

/**
 * Keeps the entries a reversible press evicted from the exact set, in less memory than the entries themselves,
 * and reconstructs them for attention. One store per (sequence, layer, KV head); not thread-safe.
 */
public interface VagueStore {

    /**
     * Adds the entry at {@code position}.
     *
     * @param key   headSize floats from {@code keyOff}
     * @param value headSize floats from {@code valueOff}
     */
    void insert(int position, float[] key, int keyOff, float[] value, int valueOff);

    /**
     * Adds {@code n} entries, as {@code n} calls of {@link #insert} in order (a store may do it in one bulk
     * operation): entry i is at {@code positions[i]}, its key and value at row {@code rows[i]} of {@code keys} and
     * {@code values}, each (rows, headSize).
     */
    void insertAll(int[] positions, float[] keys, float[] values, int[] rows, int n);

    /**
     * Removes the entry at {@code position}, whose best known key and value are given (for a sketch, its
     * reconstruction: removal then also subtracts that reconstruction's noise).
     */
    void remove(int position, float[] key, int keyOff, float[] value, int valueOff);

    /** Entries held. */
    int size();

    /**
     * Reconstructs every held entry in ascending position order.
     *
     * @param keys      receives (size, headSize) from row {@code row}
     * @param values    receives (size, headSize) from row {@code row}
     * @param positions receives (size) from index {@code row}
     */
    void reconstructAll(float[] keys, float[] values, int[] positions, int row);

    /**
     * The held entries for attention without {@link #reconstructAll} (see {@link KvCache.Folded}), or null (the
     * default) when this store cannot offer them.
     */
    default KvCache.Folded folded() {
        return null;
    }

    /** Bytes held (tables, counters, the set of positions). */
    long bytes();
}
