package io.reviver.kernel.tensor;

import java.util.Objects;

/**
 * A Q8_0 matrix in the native int8 kernels' layout ({@link QuantizedMatrix.Q8Interleaved}: quants {@code q + 128},
 * (groups, cols / 32, 8, 16, 4), then the fp16 scales, (groups, cols / 32, 16)), held in {@link NativeMemory}:
 * quants at offset 0, scales at {@link #scalesOffset()} (64-byte aligned). Not changed once built; its memory is freed
 * when this object becomes unreachable, or earlier by {@link QuantizedMatrix#releaseNative()}. Thread-safe.
 */
public final class NativeWeights {

    private final int rows;
    private final int cols;
    private final int groups;
    private final long scalesOffset;
    private final NativeMemory memory;

    private NativeWeights(int rows, int cols, int groups, long scalesOffset, NativeMemory memory) {
        this.rows = rows;
        this.cols = cols;
        this.groups = groups;
        this.scalesOffset = scalesOffset;
        this.memory = memory;
    }

    /**
     * Copies {@code q} into new native memory.
     *
     * @throws NativeUnavailableException if the native library did not load
     * @throws OutOfMemoryError           if the OS has not the memory to give
     */
    public static NativeWeights copyOf(QuantizedMatrix.Q8Interleaved q) {
        Objects.requireNonNull(q, "q");
        NativeWeights w = allocate(q.rows(), q.cols(), q.groups());
        w.putGroups(0, q.quants(), q.scales());
        return w;
    }

    /** Native memory for a rows × cols matrix in {@code groups} row groups, zeroed (to be filled by putGroups). */
    static NativeWeights allocate(int rows, int cols, int groups) {
        long blocks = (long) groups * (cols / 32);
        long scalesOffset = (blocks * 512 + 63) & ~63L;
        return new NativeWeights(rows, cols, groups, scalesOffset, NativeMemory.allocate(scalesOffset + 32 * blocks));
    }

    /**
     * Writes whole row groups from {@code g0} on: {@code quants} (groups, cols / 32, 512 bytes) and {@code scales}
     * (groups, cols / 32, 16) in the layout's order, as many groups as they hold.
     *
     * @throws IllegalArgumentException  if the arrays do not hold the same whole number of groups
     * @throws IndexOutOfBoundsException if the groups run past the matrix's
     */
    void putGroups(int g0, byte[] quants, short[] scales) {
        long blocks = cols / 32;
        long n = quants.length / (blocks * 512);
        if (n * blocks * 512 != quants.length || n * blocks * 16 != scales.length) {
            throw new IllegalArgumentException(quants.length + " quant bytes and " + scales.length
                + " scales are not the same whole number of row groups of " + blocks + " blocks");
        }
        if (g0 < 0 || g0 + n > groups) {
            throw new IndexOutOfBoundsException("row groups [" + g0 + ", " + (g0 + n) + ") of " + groups);
        }
        memory.put(g0 * blocks * 512, quants);
        memory.put(scalesOffset + g0 * blocks * 32, scales);
    }

    /** The matrix's rows. */
    public int rows() {
        return rows;
    }

    /** Its columns (a multiple of 32). */
    public int cols() {
        return cols;
    }

    /** Row groups of 16, {@code ceil(rows / 16)}. */
    public int groups() {
        return groups;
    }

    /** Byte offset of the scales in the memory. */
    long scalesOffset() {
        return scalesOffset;
    }

    /** The native memory holding the copy (never closed but by its cleaner: products may be running on it). */
    NativeMemory memory() {
        return memory;
    }

    /** Bytes of native memory held (rounded up to whole huge pages). */
    public long bytes() {
        return memory.bytes();
    }

    /** Whether the OS accepted the huge-page advice for the memory. */
    public boolean hugePagesAdvised() {
        return memory.hugePagesAdvised();
    }
}
