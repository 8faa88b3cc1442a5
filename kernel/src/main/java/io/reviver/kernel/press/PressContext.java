package io.reviver.kernel.press;

import io.reviver.kernel.attention.AttentionBackend;
import java.util.List;

/**
 * What a press needs to know about one sequence to size its cache: the model's KV shape, the sequence's
 * lengths and the seed of every randomised part.
 *
 * @param nLayers      decoder layers
 * @param nKvHeads     KV heads per layer
 * @param headSize     elements per head
 * @param kvMul        query heads per KV head (GQA group size)
 * @param capacity     positions the sequence may reach: prompt + new tokens (≤ the context length); the budget
 *                     is a fraction of the full cache's bytes at this length
 * @param promptLength tokens of the prompt (compressed after prefill), in [1, capacity]
 * @param seed         seed of the sequence's randomised parts (sketch hashes, projections); a retried task with
 *                     the same seed reproduces its cache bit for bit
 * @param rotation     the model's RoPE for one key head, or null when unknown (presses that store pre-RoPE keys
 *                     then refuse to run)
 * @param backends     null, or the model's attention backends, one per KV head: a press runs the bulk operations of
 *                     KV head g's state (sketch insert at compression, sketch reconstruction when the cache gathers
 *                     head g) on {@code backends.get(g)}. Ownership: the model owns and closes them; a backend is
 *                     not thread-safe, and the press uses backend g only inside the calls the model makes for KV
 *                     head g (its gather, within that head's attention task) and in {@link KvPress#compress}
 *                     (between forward passes, on the caller's thread) — never concurrently with the model's own
 *                     use of it, as long as one thread drives the model (the engine thread)
 */
public record PressContext(int nLayers, int nKvHeads, int headSize, int kvMul, int capacity, int promptLength,
                           long seed, KeyRotation rotation, List<AttentionBackend> backends) {

    /** A context without the model's RoPE. */
    public PressContext(int nLayers, int nKvHeads, int headSize, int kvMul, int capacity, int promptLength, long seed) {
        this(nLayers, nKvHeads, headSize, kvMul, capacity, promptLength, seed, null, null);
    }

    /** A context whose presses run their sketch operations on the Java reference. */
    public PressContext(int nLayers, int nKvHeads, int headSize, int kvMul, int capacity, int promptLength, long seed,
                        KeyRotation rotation) {
        this(nLayers, nKvHeads, headSize, kvMul, capacity, promptLength, seed, rotation, null);
    }

    public PressContext {
        if (nLayers < 1 || nKvHeads < 1 || headSize < 1 || kvMul < 1) {
            throw new IllegalArgumentException("KV shape must be positive: nLayers=" + nLayers + " nKvHeads=" + nKvHeads
                + " headSize=" + headSize + " kvMul=" + kvMul);
        }
        if (promptLength < 1 || promptLength > capacity) {
            throw new IllegalArgumentException("promptLength " + promptLength + " outside [1, capacity = " + capacity
                + "]");
        }
        if (backends != null && backends.size() != nKvHeads) {
            throw new IllegalArgumentException("need one attention backend per KV head (" + nKvHeads + "), got "
                + backends.size());
        }
        backends = backends == null ? null : List.copyOf(backends);
    }

    /** The attention backend of KV head {@code kvHead}, or null for the Java reference. */
    public AttentionBackend backend(int kvHead) {
        return backends == null ? null : backends.get(kvHead);
    }

    /** Bytes of one full-precision entry of one head: key and value, float32. */
    public int entryFloatBytes() {
        return 2 * headSize * Float.BYTES;
    }

    /** Bytes the uncompressed (dense, float32) cache needs for one KV head at {@link #capacity} positions. */
    public long fullBytesPerHead() {
        return (long) capacity * entryFloatBytes();
    }

    /** Bytes the uncompressed cache needs for the whole sequence at {@link #capacity} positions. */
    public long fullBytes() {
        return fullBytesPerHead() * nLayers * nKvHeads;
    }

    /** A seed for one (layer, KV head), derived from {@link #seed} so heads hash independently. */
    public long headSeed(int layer, int kvHead) {
        long z = seed + 0x9E3779B97F4A7C15L * (1 + layer * 1_000_003L + kvHead);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
