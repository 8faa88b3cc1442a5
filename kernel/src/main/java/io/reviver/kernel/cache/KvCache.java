package io.reviver.kernel.cache;

/**
 * Per-sequence store of attention keys and values. Keys are stored after RoPE. The forward pass, for each layer,
 * first {@link #append}s the K/V rows of the new positions and then, per KV head, reads the entries to attend over
 * in place ({@link #inPlace}: every position of a dense cache, the exact entries of a compressed one) with, for a
 * reversible press, the entries its sketch holds in {@link #folded} form; or it {@link #gather}s them all, the
 * sketch's entries reconstructed one by one.
 *
 * <p>Contract: positions of a layer are appended in order {@code 0, 1, 2, …} ({@code position ==
 * length(layer)}); {@link #length} reports how many were appended (the next position), not how many are held.
 * {@link #gather} writes {@link #entryCount} entries with their absolute positions; the forward pass masks
 * causally by those positions. Implementations are not thread-safe for writes; {@link #gather}, {@link #inPlace},
 * {@link #folded} (and the folded entries' calls) and {@link #observeAttention} are called concurrently for
 * <em>distinct</em> KV heads of one layer (the forward pass attends heads in parallel), so per-head state must not
 * be shared between heads. Violations throw
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
     * This cache's entries for one KV head where it keeps them, when attention can read them without a copy:
     * every entry of a dense cache, or the exact entries of a compressed cache whose other entries (if any) come
     * from {@link #folded}. Null (the default) when entries must be {@link #gather}ed. A non-null view counts as
     * the read of this head that {@link #gather} would have been (for {@link #observeAttention}, the entries are
     * the view's in order, then the folded ones). The view is valid until the cache next changes; readers must not
     * write through it.
     */
    default InPlace inPlace(int layer, int kvHead) {
        return null;
    }

    /**
     * One KV head's entries in place: entry j (j below {@code count}) has its key at
     * {@code keys[offset + j·stride, + headSize)}, its value at {@code values[offset + j·stride, + headSize)} and
     * its absolute position at {@code positions[j]}, ascending; {@code positions} is null when entry j is position
     * j.
     */
    record InPlace(float[] keys, float[] values, int offset, int stride, int count, int[] positions) {
    }

    /**
     * The entries of one KV head that follow its {@link #inPlace} view and that attention scores and sums in
     * folded form instead of rebuilding them one by one (a sketch's buckets); null (the default) when there are
     * none. Only asked after a non-null {@link #inPlace} of the same head. {@code inPlace.count + folded.count}
     * is {@link #entryCount}.
     */
    default Folded folded(int layer, int kvHead) {
        return null;
    }

    /**
     * Entries held in a folded form, each of which attention sees as a key and a value it does not build: per
     * query, {@link #scores} writes the scaled dot product of each query head with every entry's key, then, once
     * the caller has turned the scores into weights, {@link #addWeightedValues} adds the weighted sum of the
     * entries' values. Entries are in ascending position order and all lie before the forward pass that reads
     * them (so no causal mask applies to them). Not thread-safe: one KV head's instance is used by the thread
     * attending that head.
     */
    interface Folded {

        /** Entries held. */
        int count();

        /** The largest position held, or −1 when empty. */
        int lastPosition();

        /** Floats of scratch {@link #scores} and {@link #addWeightedValues} need for {@code heads} query heads. */
        int scratchFloats(int heads);

        /** Ints of entry scratch the two calls need ({@link #count} × the rows of the fold). */
        int entryInts();

        /**
         * {@code scores[scoreOff + h·scoreStride + i] = scale · q_h · k_i} for query heads {@code h < heads} (at
         * {@code q[qOff + h·headSize]}) and entries {@code i < count}.
         *
         * @param scratch (≥ {@link #scratchFloats}) and {@code entries} (≥ {@link #entryInts}): filled here, read by
         *                the {@link #addWeightedValues} call for the same query, unchanged in between
         */
        void scores(float[] q, int qOff, int heads, float scale, float[] scores, int scoreOff, int scoreStride,
                    float[] scratch, int[] entries);

        /**
         * {@code out[outOff + h·headSize + c] += Σ_i weights[wOff + h·wStride + i] · v_i[c]} for query heads
         * {@code h < heads}, after {@link #scores} for the same query with the same scratch.
         */
        void addWeightedValues(float[] weights, int wOff, int wStride, int heads, float[] out, int outOff,
                               float[] scratch, int[] entries);
    }

    /** Whether the forward pass must report attention weights through {@link #observeAttention}. */
    default boolean observesAttention() {
        return false;
    }

    /**
     * Reports the softmax weights one query token gave the entries of the last {@link #gather} (or
     * {@link #inPlace} read, its entries then the {@link #folded} ones) of this KV head.
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

    /**
     * Bytes of memory this cache's arrays take now: their allocated lengths (room not yet used, a pooled array's
     * slack and scratch included), 0 once released. What an executor's KV budget must bound; {@link #bytes()} counts
     * what is in use. The default is {@link #bytes()}.
     */
    default long allocatedBytes() {
        return bytes();
    }

    /**
     * The most bytes this cache's arrays took at once since the previous call (or since it was made), counting a
     * resized array's old and new copies while both live; then starts a new interval. The default is
     * {@link #allocatedBytes()} (for caches whose arrays never change size).
     */
    default long takeAllocatedPeak() {
        return allocatedBytes();
    }

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
