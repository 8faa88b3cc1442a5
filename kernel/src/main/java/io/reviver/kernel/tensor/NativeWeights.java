package io.reviver.kernel.tensor;

import java.util.Objects;

/**
 * A Q8_0 matrix in the native int8 kernels' layout ({@link QuantizedMatrix.Q8Interleaved}: quants {@code q + 128},
 * (groups, cols / 32, 8, 16, 4), then the fp16 scales, (groups, cols / 32, 16)), held in {@link NativeMemory}:
 * quants at offset 0, scales at {@link #scalesOffset()} (64-byte aligned). Immutable once built; freed with the
 * memory when this object becomes unreachable. Thread-safe.
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
        long scalesOffset = (q.quants().length + 63L) & ~63L;
        NativeMemory m = NativeMemory.allocate(scalesOffset + 2L * q.scales().length);
        m.put(0, q.quants());
        m.put(scalesOffset, q.scales());
        return new NativeWeights(q.rows(), q.cols(), q.groups(), scalesOffset, m);
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
