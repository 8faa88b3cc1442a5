package io.reviver.kernel.cache;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Recycles the large float arrays of KV caches between sequences, so an executor serving a stream of documents
 * does not allocate (and the collector does not reclaim) a full cache per sequence. Pooled arrays are kept by
 * length, up to {@code maxBytes} in all (beyond that, beyond the {@link #ceiling(long)} set last, or beyond the
 * limit a caller passes to {@link #give(float[], long)}, a returned array is left to the collector); a request is
 * served by the shortest pooled array that is at least as long and at most a quarter longer (sequences'
 * capacities differ with their prompts). Thread-safe.
 *
 * <p>Arrays handed out by {@link #take} are <b>not zeroed</b> and may be longer than asked: a cache built on them
 * must only read what it wrote, within the length it asked for (as {@link DenseKvCache} and the lossy caches do).
 */
public final class FloatArrayPool {

    private final long maxBytes;
    private final TreeMap<Integer, ArrayDeque<float[]>> free = new TreeMap<>(); // length → arrays; guarded by this
    private long pooledBytes;                                              // guarded by this
    private long ceiling = Long.MAX_VALUE;                                 // see ceiling(long); guarded by this
    private long hits;
    private long misses;

    /** @param maxBytes most bytes of arrays kept for reuse, ≥ 0 */
    public FloatArrayPool(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be ≥ 0, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /**
     * An array of at least {@code length} floats: the shortest pooled one of at most {@code 1.25 · length} floats
     * if there is one, else a new one of exactly {@code length}.
     */
    public float[] take(int length) {
        synchronized (this) {
            Map.Entry<Integer, ArrayDeque<float[]>> e = free.ceilingEntry(length);
            if (e != null && e.getKey() <= length + (long) length / 4) {
                float[] a = e.getValue().pop();
                if (e.getValue().isEmpty()) {
                    free.remove(e.getKey());
                }
                hits++;
                pooledBytes -= 4L * a.length;
                return a;
            }
            misses++;
        }
        return new float[length];
    }

    /**
     * Returns an array for reuse (null is ignored); the caller must not use it afterwards. Returns whether the pool
     * kept it.
     */
    public boolean give(float[] array) {
        return give(array, maxBytes);
    }

    /**
     * Returns an array for reuse unless the pool would then hold more than {@code limitBytes} (or
     * {@code maxBytes}); e.g. an engine passes its KV budget minus what live sequences reserve, so pooled and
     * live arrays together stay near the budget. Returns whether the pool kept it.
     */
    public boolean give(float[] array, long limitBytes) {
        if (array == null) {
            return false;
        }
        synchronized (this) {
            long bytes = 4L * array.length;
            if (pooledBytes + bytes > Math.min(Math.min(maxBytes, ceiling), limitBytes)) {
                return false;
            }
            free.computeIfAbsent(array.length, k -> new ArrayDeque<>()).push(array);
            pooledBytes += bytes;
            return true;
        }
    }

    /**
     * Sets the most bytes the pool holds from now on, below {@code maxBytes}, until the next call (initially no
     * ceiling), and trims to it. An engine sets its KV budget minus what live sequences reserve whenever that
     * changes, so an array a cache gives back by itself (a head resized mid-sequence) cannot take the pool and the
     * live arrays past the budget before the engine's next trim.
     */
    public synchronized void ceiling(long bytes) {
        ceiling = Math.max(0, bytes);
        trimTo(ceiling);
    }

    /**
     * Lets the collector have pooled arrays (the longest first) until the pool holds at most {@code maxBytes};
     * e.g. an engine admitting a sequence keeps pooled and live arrays within its budget.
     */
    public synchronized void trimTo(long maxBytes) {
        while (pooledBytes > Math.max(0, maxBytes) && !free.isEmpty()) {
            Map.Entry<Integer, ArrayDeque<float[]>> e = free.lastEntry();
            e.getValue().pop();
            if (e.getValue().isEmpty()) {
                free.remove(e.getKey());
            }
            pooledBytes -= 4L * e.getKey();
        }
    }

    /** Takes served from the pool so far. */
    public synchronized long hits() {
        return hits;
    }

    /** Takes that had to allocate so far. */
    public synchronized long misses() {
        return misses;
    }

    /** Bytes of arrays waiting for reuse now. */
    public synchronized long pooledBytes() {
        return pooledBytes;
    }
}
