package io.reviver.kernel.cache;

/**
 * Per-sequence store of attention keys and values. Keys are stored after RoPE. The forward pass, for each layer,
 * first {@link #append}s the K/V rows of the new positions and then, per KV head, reads the entries to attend over
 * in place ({@link #inPlace}, a dense cache) or {@link #gather}s them: every position for a dense cache; for a
 * compressed cache the exact entries it kept plus, for a reversible press, entries reconstructed from its sketch.
 *
 * <p>Contract: positions of a layer are appended in order {@code 0, 1, 2, …} ({@code position ==
 * length(layer)}); {@link #length} reports how many were appended (the next position), not how many are held.
 * {@link #gather} writes {@link #entryCount} entries with their absolute positions; the forward pass masks
 * causally by those positions. Implementations are not thread-safe for writes; {@link #gather} and
 * {@link #observeAttention} are called concurrently for <em>distinct</em> KV heads of one layer (the forward
 * pass attends heads in parallel), so per-head state must not be shared between heads. Violations throw
 * {@link IllegalArgumentException} or {@link IllegalStateException} naming layer and position.
 */
public interface KvCache {

    /** Decoder layers. */
    int nLayers();

    /** Key/value heads per layer. */
    int nKvHeads();

    /** Elements per head. */
    int headSize();

    /** Positions this cache accepts per layer (the largest appendable position + 1). */
    int capacity();

    /** Positions appended so far for {@code layer} (the next position to append). */
    int length(int layer);

    /**
     * Stores the key and value rows of {@code position} for {@code layer}.
     *
     * @param key   kvDim = nKvHeads · headSize floats from {@code keyOff}, heads consecutive
     * @param value kvDim floats from {@code valueOff}
     */
    void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff);

    /** Entries {@link #gather} writes for ({@code layer}, {@code kvHead}) now. */
    int entryCount(int layer, int kvHead);

    /**
     * Writes the entries to attend over for one KV head.
     *
     * @param keys      receives (entryCount, headSize) row-major
     * @param values    receives (entryCount, headSize) row-major
     * @param positions receives (entryCount) absolute positions of the entries; ascending for a dense cache
     * @return the number of entries written ({@link #entryCount})
     */
    int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions);

    /**
     * This cache's entries for one KV head where it keeps them, when it holds them as positions {@code 0, 1, …,
     * count − 1} in arrays of its own (a dense cache): attention then reads them in place instead of
     * {@link #gather}ing a copy. Null (the default) when entries must be gathered. The view is valid until the
     * cache next changes; readers must not write through it.
     */
    default InPlace inPlace(int layer, int kvHead) {
        return null;
    }

    /**
     * One KV head's entries in place: entry j (position j, for j below {@code count}) has its key at
     * {@code keys[offset + j·stride, + headSize)} and its value at {@code values[offset + j·stride, + headSize)}.
     */
    record InPlace(float[] keys, float[] values, int offset, int stride, int count) {
    }

    /** Whether the forward pass must report attention weights through {@link #observeAttention}. */
    default boolean observesAttention() {
        return false;
    }

    /**
     * Reports the softmax weights one query token gave the entries of the last {@link #gather} of this KV head.
     *
     * @param queryPosition absolute position of the query token
     * @param weights       (kvMul, count) row-major: one row per query head of the group, each summing to 1
     * @param count         entries (as gathered)
     */
    default void observeAttention(int layer, int kvHead, int queryPosition, float[] weights, int count) {
    }

    /** Whether the forward pass must report each token's query vectors through {@link #observeQuery} (diagnostics). */
    default boolean observesQueries() {
        return false;
    }

    /**
     * Reports the post-RoPE queries of one token for the query heads of a KV head's group, before that head's
     * {@link #gather}; for diagnostics such as the attention-output error of a compressed cache.
     *
     * @param q    holds (kvMul, headSize) floats from {@code qOff}: the group's query heads in order
     */
    default void observeQuery(int layer, int kvHead, int queryPosition, float[] q, int qOff) {
    }

    /** Bytes this cache holds for its keys and values and all the metadata it keeps to decide evictions. */
    long bytes();

    /** Forgets every position of every layer (the cache can be reused for a new sequence). */
    void clear();

    /**
     * Gives pooled memory back (see {@link FloatArrayPool}); the cache must not be used afterwards. The default
     * does nothing (the collector reclaims the cache).
     */
    default void release() {
        release(Long.MAX_VALUE);
    }

    /** {@link #release()}, keeping pooled memory only while the pool holds at most {@code poolLimitBytes}. */
    default void release(long poolLimitBytes) {
    }
}
