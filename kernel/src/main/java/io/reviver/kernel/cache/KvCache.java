package io.reviver.kernel.cache;

/**
 * Per-sequence store of attention keys and values, one entry per (layer, position). Keys are stored after
 * RoPE. The forward pass, for each layer, first {@link #append}s the K/V rows of the new positions and then
 * {@link #readKeys reads} ranges {@code [from, to)} per KV head to attend over them.
 *
 * <p>Contract: positions of a layer are appended in order {@code 0, 1, 2, …} ({@code position ==
 * length(layer)}); {@link #length} reports how many are held; reads may name any range inside
 * {@code [0, length(layer))}. Implementations are not thread-safe for writes; concurrent reads of distinct
 * or equal ranges after the writes of a layer are allowed (the forward pass reads heads in parallel).
 * Violations throw {@link IllegalArgumentException} or {@link IllegalStateException} naming layer and
 * position.
 */
public interface KvCache {

    /** Decoder layers. */
    int nLayers();

    /** Key/value heads per layer. */
    int nKvHeads();

    /** Elements per head. */
    int headSize();

    /** Positions this cache can hold per layer. */
    int capacity();

    /** Positions currently held for {@code layer}. */
    int length(int layer);

    /**
     * Stores the key and value rows of {@code position} for {@code layer}.
     *
     * @param key   kvDim = nKvHeads · headSize floats from {@code keyOff}, heads consecutive
     * @param value kvDim floats from {@code valueOff}
     */
    void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff);

    /**
     * Copies the keys of {@code kvHead} at positions {@code [from, to)} of {@code layer} into {@code out} as
     * (to − from, headSize) row-major from {@code outOff}.
     */
    void readKeys(int layer, int kvHead, int from, int to, float[] out, int outOff);

    /** Like {@link #readKeys} for values. */
    void readValues(int layer, int kvHead, int from, int to, float[] out, int outOff);

    /** Forgets every position of every layer (the cache can be reused for a new sequence). */
    void clear();
}
