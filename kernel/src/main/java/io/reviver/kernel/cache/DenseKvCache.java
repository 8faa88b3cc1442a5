package io.reviver.kernel.cache;

import java.util.Arrays;

/**
 * Uncompressed KV cache: every position of every layer in two flat float arrays of shape
 * (nLayers, capacity, kvDim). Memory: {@code 2 · nLayers · capacity · kvDim · 4} bytes, allocated up front, or
 * taken from a {@link FloatArrayPool} and given back by {@link #release()}. Only positions below a layer's length
 * are ever read, so recycled arrays need no clearing.
 */
public final class DenseKvCache implements KvCache {

    private final int nLayers;
    private final int nKvHeads;
    private final int headSize;
    private final int kvDim;
    private final int capacity;
    private float[] keys;   // (nLayers, capacity, kvDim) row-major; null once released
    private float[] values; // (nLayers, capacity, kvDim) row-major; null once released
    private final FloatArrayPool pool; // where the arrays came from, or null
    private final int[] length;   // (nLayers): positions held per layer

    /**
     * @throws IllegalArgumentException for non-positive sizes or more than {@code Integer.MAX_VALUE - 8} floats
     */
    public DenseKvCache(int nLayers, int nKvHeads, int headSize, int capacity) {
        this(nLayers, nKvHeads, headSize, capacity, null);
    }

    /**
     * A cache whose two arrays come from {@code pool} (null: allocated) and go back to it on {@link #release()}.
     *
     * @throws IllegalArgumentException for non-positive sizes or more than {@code Integer.MAX_VALUE - 8} floats
     */
    public DenseKvCache(int nLayers, int nKvHeads, int headSize, int capacity, FloatArrayPool pool) {
        if (nLayers <= 0 || nKvHeads <= 0 || headSize <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("cache sizes must be positive: nLayers=" + nLayers + " nKvHeads="
                + nKvHeads + " headSize=" + headSize + " capacity=" + capacity);
        }
        long floats = (long) nLayers * capacity * nKvHeads * headSize;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("dense KV cache of " + floats + " floats per array is too large "
                + "(nLayers=" + nLayers + " capacity=" + capacity + " kvDim=" + nKvHeads * headSize
                + "); lower the context size");
        }
        this.nLayers = nLayers;
        this.nKvHeads = nKvHeads;
        this.headSize = headSize;
        this.kvDim = nKvHeads * headSize;
        this.capacity = capacity;
        this.pool = pool;
        this.keys = pool == null ? new float[(int) floats] : pool.take((int) floats);
        this.values = pool == null ? new float[(int) floats] : pool.take((int) floats);
        this.length = new int[nLayers];
    }

    @Override
    public int nLayers() {
        return nLayers;
    }

    @Override
    public int nKvHeads() {
        return nKvHeads;
    }

    @Override
    public int headSize() {
        return headSize;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int length(int layer) {
        checkLayer(layer);
        return length[layer];
    }

    /** Offset of (layer, position, 0) in the flat arrays. */
    private int rowOffset(int layer, int position) {
        return (layer * capacity + position) * kvDim;
    }

    @Override
    public void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff) {
        checkLayer(layer);
        if (position != length[layer]) {
            throw new IllegalStateException("layer " + layer + ": appending position " + position
                + " but the next position is " + length[layer]);
        }
        if (position >= capacity) {
            throw new IllegalStateException("layer " + layer + ": position " + position + " exceeds the cache capacity "
                + capacity);
        }
        int off = rowOffset(layer, position);
        System.arraycopy(key, keyOff, keys, off, kvDim);
        System.arraycopy(value, valueOff, values, off, kvDim);
        length[layer] = position + 1;
    }

    @Override
    public int entryCount(int layer, int kvHead) {
        checkLayer(layer);
        return length[layer];
    }

    /** Writes every held position, in ascending order. */
    @Override
    public int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions) {
        int n = length(layer);
        readKeys(layer, kvHead, 0, n, keys, 0);
        readValues(layer, kvHead, 0, n, values, 0);
        for (int p = 0; p < n; p++) {
            positions[p] = p;
        }
        return n;
    }

    /** Bytes of the keys and values held ({@code 2 · positions · kvDim · 4} summed over layers). */
    @Override
    public long bytes() {
        long sum = 0;
        for (int l = 0; l < nLayers; l++) {
            sum += (long) length[l] * kvDim * 2 * Float.BYTES;
        }
        return sum;
    }

    /**
     * Copies the keys of {@code kvHead} at positions {@code [from, to)} of {@code layer} into {@code out} as
     * (to − from, headSize) row-major from {@code outOff}.
     */
    public void readKeys(int layer, int kvHead, int from, int to, float[] out, int outOff) {
        read(keys, layer, kvHead, from, to, out, outOff);
    }

    /** Like {@link #readKeys} for values. */
    public void readValues(int layer, int kvHead, int from, int to, float[] out, int outOff) {
        read(values, layer, kvHead, from, to, out, outOff);
    }

    private void read(float[] src, int layer, int kvHead, int from, int to, float[] out, int outOff) {
        checkLayer(layer);
        if (kvHead < 0 || kvHead >= nKvHeads) {
            throw new IllegalArgumentException("kvHead " + kvHead + " outside [0, " + nKvHeads + ")");
        }
        if (from < 0 || from > to || to > length[layer]) {
            throw new IllegalArgumentException("layer " + layer + ": range [" + from + ", " + to
                + ") outside the " + length[layer] + " positions held");
        }
        int headOff = kvHead * headSize;
        for (int p = from; p < to; p++) {
            System.arraycopy(src, rowOffset(layer, p) + headOff, out, outOff + (p - from) * headSize, headSize);
        }
    }

    /** Forgets the positions ≥ {@code newLength} of every layer (a scoring pass's appended tokens). */
    public void truncate(int newLength) {
        for (int l = 0; l < nLayers; l++) {
            if (newLength < 0 || newLength > length[l]) {
                throw new IllegalArgumentException("cannot truncate layer " + l + " of length " + length[l] + " to "
                    + newLength);
            }
            length[l] = newLength;
        }
    }

    @Override
    public void clear() {
        Arrays.fill(length, 0);
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= nLayers) {
            throw new IllegalArgumentException("layer " + layer + " outside [0, " + nLayers + ")");
        }
    }

    /**
     * Gives the arrays back to the pool (if any) while it holds at most {@code poolLimitBytes}; the cache must not
     * be used afterwards. Idempotent.
     */
    @Override
    public void release(long poolLimitBytes) {
        if (pool != null) {
            pool.give(keys, poolLimitBytes);
            pool.give(values, poolLimitBytes);
        }
        keys = null;
        values = null;
        Arrays.fill(length, 0);
    }
}
