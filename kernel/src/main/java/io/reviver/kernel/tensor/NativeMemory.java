package io.reviver.kernel.tensor;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;

/**
 * A block of native (off-heap) memory for the native int8 kernels ({@link NativeQ8}): its length rounded up to a
 * whole number of 2 MiB huge pages, aligned to one, advised to the OS as huge pages ({@code madvise}; whether the
 * advice was taken is {@link #hugePagesAdvised()}, whether the kernel then backs it with huge pages is the OS's
 * choice) and zeroed at allocation, so its pages are placed before any product runs.
 *
 * <p>Weights stream through 1.3 GB per decode step on a 1B model; on 4 KiB pages of the JVM heap every 4 KiB costs a
 * page walk (two levels of them in a virtual machine), which a C harness measured as about a quarter of the
 * bandwidth at one sequence (see {@code reviver_int8.c}). Off the heap the weights also need no JNI critical
 * region (the activations and the output still do, for the length of one product).
 *
 * <p>The memory is freed by {@link #close()} or, failing that, once this object is unreachable (a
 * {@link Cleaner}). Contents are written with the {@code put} methods; reading is for the kernels. Closing while
 * another thread reads or writes this block is a caller's error; everything else is thread-safe (writes to disjoint
 * ranges may run concurrently).
 */
public final class NativeMemory implements AutoCloseable {

    /** Alignment and size granule: a 2 MiB huge page. */
    public static final long HUGE_PAGE = 2L << 20;

    private static final Cleaner CLEANER = Cleaner.create();

    private final Block block;
    private final Cleaner.Cleanable cleanable;
    private final long bytes;
    private final boolean hugePagesAdvised;

    /** The address to free; the cleaner's action, which must not reach the NativeMemory itself. */
    private static final class Block implements Runnable {
        private long address;

        Block(long address) {
            this.address = address;
        }

        synchronized long address() {
            if (address == 0) {
                throw new IllegalStateException("native memory already freed");
            }
            return address;
        }

        @Override
        public synchronized void run() {
            if (address != 0) {
                NativeQ8.free(address);
                address = 0;
            }
        }
    }

    private NativeMemory(long address, long bytes, boolean hugePagesAdvised) {
        this.block = new Block(address);
        this.cleanable = CLEANER.register(this, block);
        this.bytes = bytes;
        this.hugePagesAdvised = hugePagesAdvised;
    }

    /**
     * Allocates at least {@code bytes} bytes (rounded up to whole huge pages), zeroed.
     *
     * @throws IllegalArgumentException   if {@code bytes < 1}
     * @throws NativeUnavailableException if the native library did not load
     * @throws OutOfMemoryError           if the OS has not that much memory to give
     */
    public static NativeMemory allocate(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("native memory of " + bytes + " bytes");
        }
        if (!NativeQ8.available()) {
            throw new NativeUnavailableException("native memory requested, but " + NativeQ8.status());
        }
        long rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        boolean[] advised = new boolean[1];
        long address = NativeQ8.allocate(rounded, advised);
        if (address == 0) {
            throw new OutOfMemoryError("native memory: could not allocate " + rounded + " bytes (" + (rounded >> 20)
                + " MiB) for the native int8 weights");
        }
        return new NativeMemory(address, rounded, advised[0]);
    }

    /** Length in bytes, a multiple of {@link #HUGE_PAGE}. */
    public long bytes() {
        return bytes;
    }

    /** Whether the OS accepted the huge-page advice for this block. */
    public boolean hugePagesAdvised() {
        return hugePagesAdvised;
    }

    /**
     * The block's address, for a native call; the caller keeps this object reachable until the call returns.
     *
     * @throws IllegalStateException if the block has been closed
     */
    long address() {
        return block.address();
    }

    /**
     * Copies all of {@code src} to bytes {@code [offset, offset + src.length)}.
     *
     * @throws IndexOutOfBoundsException if that range is not inside the block
     * @throws IllegalStateException     if the block has been closed
     */
    public void put(long offset, byte[] src) {
        check(offset, src.length);
        try {
            NativeQ8.putBytes(address() + offset, src);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Copies all of {@code src} (native byte order) to bytes {@code [offset, offset + 2·src.length)}.
     *
     * @throws IndexOutOfBoundsException if that range is not inside the block
     * @throws IllegalStateException     if the block has been closed
     */
    public void put(long offset, short[] src) {
        check(offset, 2L * src.length);
        try {
            NativeQ8.putShorts(address() + offset, src);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private void check(long offset, long length) {
        if (offset < 0 || offset > bytes - length) {
            throw new IndexOutOfBoundsException("bytes [" + offset + ", " + offset + " + " + length + ") of a block of "
                + bytes);
        }
    }

    /** Frees the block now; later calls do nothing. No native call may be using it. */
    @Override
    public void close() {
        cleanable.clean();
    }
}
