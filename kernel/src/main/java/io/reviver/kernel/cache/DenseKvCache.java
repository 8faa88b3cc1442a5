package io.reviver.kernel.cache;

import java.util.Arrays;

/**
 * Uncompressed KV cache: every position of every layer in two flat float arrays of shape
 * (nLayers, nKvHeads, capacity, headSize), so that one KV head's positions lie contiguous and attention reads them
 * in place ({@link #inPlace}) as one stream. Memory: {@code 2 · nLayers · capacity · kvDim · 4} bytes (and
 * a 48-byte {@link #PAD} in each of the two arrays), allocated
 * up front, or taken from a {@link FloatArrayPool} and given back by {@link #release()}. Only positions below a
 * layer's length are ever read, so recycled arrays need no clearing.
 */
public final class DenseKvCache implements KvCache {

    /**
     * Floats before (layer 0, head 0, position 0), so that rows lie on 64-byte cache lines in the usual case:
     * HotSpot puts a float[]'s elements 16 bytes after the array's start, and G1 starts an array of half a heap
     * region or more (a real model's cache) on a region boundary, so 12 floats (48 bytes) in is a line boundary and,
     * for head sizes a multiple of 16, so is every row. Rows that straddle two lines cost their loads twice: decode
     * attention over 8 sequences' caches of the 1B model's shapes (an ad-hoc harness, 320 positions, 2 threads, the
     * native kernel) took 6.1-6.6 ms per step with this pad against 7.0-7.2 without. Elsewhere it costs 48 bytes an
     * array.
     */
    public static final int PAD = 12;

    private final int nLayers;
    private final int nKvHeads;
    private final int headSize;
    private final int kvDim;
    private final int capacity;
    private float[] keys;   // PAD floats, then (nLayers, nKvHeads, capacity, headSize) row-major; null once released
    private float[] values; // PAD floats, then (nLayers, nKvHeads, capacity, headSize) row-major; null once released
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
        long floats = PAD + (long) nLayers * capacity * nKvHeads * headSize;
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

    /** Offset of (layer, kvHead, position, 0) in the flat arrays. */
    private int headOffset(int layer, int kvHead, int position) {
        return PAD + ((layer * nKvHeads + kvHead) * capacity + position) * headSize;
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
        for (int h = 0; h < nKvHeads; h++) {
            int off = headOffset(layer, h, position);
            System.arraycopy(key, keyOff + h * headSize, keys, off, headSize);
            System.arraycopy(value, valueOff + h * headSize, values, off, headSize);
        }
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

    /** Every held position of the head, in place: contiguous rows of {@code headSize} floats. */
    @Override
    public InPlace inPlace(int layer, int kvHead) {
        checkLayer(layer);
        if (kvHead < 0 || kvHead >= nKvHeads) {
            throw new IllegalArgumentException("kvHead " + kvHead + " outside [0, " + nKvHeads + ")");
        }
        if (keys == null) {
            throw new IllegalStateException("cache released");
        }
        return new InPlace(keys, values, headOffset(layer, kvHead, 0), headSize, length[layer], null);
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
     * Bytes of the two arrays as allocated (a pooled array may be longer than the capacity needs); 0 once released.
     * The two {@link #PAD}s (96 bytes) are not counted, like the arrays' headers: a full cache's figure stays the
     * full cache's bytes, which admission and the bench's sequences per GiB compare against.
     */
    @Override
    public long allocatedBytes() {
        return keys == null ? 0 : (long) (keys.length + values.length - 2 * PAD) * Float.BYTES;
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
        System.arraycopy(src, headOffset(layer, kvHead, from), out, outOff, (to - from) * headSize);
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
