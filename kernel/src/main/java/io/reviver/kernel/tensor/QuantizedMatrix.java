package io.reviver.kernel.tensor;

import io.reviver.modelstore.gguf.GgmlType;
import io.reviver.modelstore.gguf.GgufFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * An immutable weight matrix W of shape (rows, cols), row-major, stored in its file encoding (any
 * {@link GgmlType}): row r occupies bytes {@code [r * rowBytes, (r + 1) * rowBytes)} of {@link #data()}.
 * In GGUF terms a tensor with {@code shape = {cols, rows}} (innermost first). Nothing is dequantised up
 * front; {@link TensorOps} computes on the encoded bytes.
 *
 * <p>A Q8_0 matrix can also hand out a {@linkplain #q8Packed() repacked heap copy} of its blocks (quants and
 * scales in separate arrays), built once on first request; {@link JavaTensorOps}' vector path computes on it
 * because the JDK 17 Vector API reads heap arrays several times faster than byte buffers. Thread-safe.
 */
public final class QuantizedMatrix {

    private static final Logger LOG = LogManager.getLogger(QuantizedMatrix.class);

    private final String name;
    private final GgmlType type;
    private final ByteBuffer data;
    private final int rows;
    private final int cols;
    private volatile Q8Packed packed; // built on first q8Packed()
    private volatile NativeWeights nativeWeights; // built on first q8Native()

    /**
     * @param name  tensor name for messages
     * @param type  element encoding
     * @param data  little-endian bytes, exactly {@code rows * rowBytes} remaining from its position (a read-only
     *              view is kept)
     * @param rows  output features
     * @param cols  input features; a multiple of {@code type.blockSize()}
     * @throws GgufFormatException if the shape is not positive, cols is not a multiple of the block size or
     *                             the byte count does not match
     */
    public QuantizedMatrix(String name, GgmlType type, ByteBuffer data, int rows, int cols) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        if (rows <= 0 || cols <= 0) {
            throw new GgufFormatException("tensor '" + name + "' has non-positive shape (" + rows + ", " + cols + ")");
        }
        if (cols % type.blockSize() != 0) {
            throw new GgufFormatException("tensor '" + name + "': row length " + cols + " is not a multiple of the "
                + type + " block size " + type.blockSize());
        }
        long expected = (long) rows * type.byteSize(cols);
        if (data.remaining() != expected) {
            throw new GgufFormatException("tensor '" + name + "' (" + rows + " x " + cols + " " + type + ") needs "
                + expected + " bytes, got " + data.remaining());
        }
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        this.rows = rows;
        this.cols = cols;
    }

    /** Tensor name for messages. */
    public String name() {
        return name;
    }

    /** Element encoding. */
    public GgmlType type() {
        return type;
    }

    /** Read-only little-endian encoded bytes, position 0, {@code rows * rowBytes} long. */
    public ByteBuffer data() {
        return data;
    }

    /** Output features. */
    public int rows() {
        return rows;
    }

    /** Input features. */
    public int cols() {
        return cols;
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /**
     * The argument checks every {@link TensorOps} product makes: {@code n ≥ 1} activation rows of {@code cols}
     * floats in {@code x}, room for {@code n} rows of {@code rows} floats in {@code out}.
     *
     * @throws IllegalArgumentException naming the matrix and the sizes
     */
    void checkProduct(float[] x, int n, float[] out) {
        if (n < 1) {
            throw new IllegalArgumentException("matmul " + name + ": n must be >= 1, got " + n);
        }
        if ((long) n * cols > x.length) {
            throw new IllegalArgumentException("matmul " + name + ": x has " + x.length + " floats, needs n * cols = "
                + n + " * " + cols + " = " + (long) n * cols);
        }
        if ((long) n * rows > out.length) {
            throw new IllegalArgumentException("matmul " + name + ": out has " + out.length
                + " floats, needs n * rows = " + n + " * " + rows + " = " + (long) n * rows);
        }
    }

    /**
     * A Q8_0 matrix's blocks repacked into heap arrays, built on the first call and kept: int8 quants, 32 bytes per
     * block, blocks in row-major (row, block) order, and each block's fp16 scale widened (exactly) to float32,
     * (rows, cols / 32) row-major. Within a block the byte order is {@link JavaTensorOps#Q8_BYTE_GROUPS}' choice:
     * either the columns in order (element (r, c) is {@code quants[r·cols + c] · scales[r·cols/32 + c/32]}), or, when
     * it is true, byte {@code 4i + j} of a block holds column {@code 8j + i} (i &lt; 8, j &lt; 4), so that one 32-byte
     * load read as 8 int lanes holds columns {@code 8j .. 8j + 7} in byte j of its lanes.
     *
     * @return the packed copy, or null if the type is not Q8_0 or {@code rows · cols} does not fit one Java array
     */
    Q8Packed q8Packed() {
        Q8Packed p = packed;
        if (p != null || type != GgmlType.Q8_0 || (long) rows * cols > Integer.MAX_VALUE - 16) {
            return p;
        }
        synchronized (this) {
            if (packed == null) {
                int blocks = rows * (cols / 32);
                byte[] quants = new byte[rows * cols];
                float[] scales = new float[blocks];
                ByteBuffer b = data;
                byte[] block = new byte[32]; // one block's quants in column order
                for (int k = 0; k < blocks; k++) {
                    scales[k] = JavaTensorOps.halfToFloat(b.getShort(34 * k) & 0xFFFF);
                    if (JavaTensorOps.Q8_BYTE_GROUPS) {
                        b.get(34 * k + 2, block, 0, 32);
                        for (int c = 0; c < 32; c++) {
                            quants[32 * k + 4 * (c & 7) + (c >> 3)] = block[c];
                        }
                    } else {
                        b.get(34 * k + 2, quants, 32 * k, 32);
                    }
                }
                packed = new Q8Packed(quants, scales);
                LOG.debug("packed Q8_0 tensor {} ({} x {}) into {} MiB of heap", name, rows, cols,
                    (quants.length + 4L * scales.length) >> 20);
            }
            return packed;
        }
    }

    /**
     * A Q8_0 matrix on the heap.
     *
     * @param quants int8 quants, (rows, cols / 32, 32): 32 bytes per block in the order {@link #q8Packed} describes
     * @param scales block scales as float32, (rows, cols / 32) row-major
     */
    record Q8Packed(byte[] quants, float[] scales) {
    }

    /**
     * A Q8_0 matrix's blocks rearranged for the native int8 kernels ({@link NativeQ8}), built anew on each call (the
     * kernels run on {@link #q8Native()}, a copy of it in native memory): rows in groups of 16 (the last group
     * padded with zero rows), and for group g and block k, 512 bytes at {@code (g · blocks + k) · 512} whose byte
     * {@code 64j + 4i + b} holds row {@code 16g + i}, column {@code 32k + 4j + b} as the unsigned byte
     * {@code q + 128}; the block's 16 scales, as the file's fp16 bits (the kernels widen them exactly), at
     * {@code scales[(g · blocks + k) · 16 + i]} (0 for padding rows). So the copy holds exactly the file's 34 bytes
     * per 32 weights, and a decode step reads no more.
     *
     * @return the interleaved layout, or null if the type is not Q8_0 or it does not fit one Java array
     */
    public Q8Interleaved q8Interleaved() {
        int groups = (rows + 15) / 16;
        if (type != GgmlType.Q8_0 || (long) groups * 16 * cols > Integer.MAX_VALUE - 16) {
            return null;
        }
        byte[] quants = new byte[groups * 16 * cols];
        short[] scales = new short[groups * (cols / 32) * 16];
        interleave(0, groups, quants, scales);
        return new Q8Interleaved(rows, cols, groups, quants, scales);
    }

    /**
     * Row groups {@code [g0, g1)} of {@link #q8Interleaved()}'s layout into {@code quants} and {@code scales} from
     * index 0 (padding rows: quant 0, stored as 0x80, and scale 0).
     */
    private void interleave(int g0, int g1, byte[] quants, short[] scales) {
        int blocks = cols / 32;
        java.util.Arrays.fill(quants, 0, (g1 - g0) * 16 * cols, (byte) 0x80);
        java.util.Arrays.fill(scales, 0, (g1 - g0) * blocks * 16, (short) 0);
        ByteBuffer b = data;
        byte[] block = new byte[32];
        for (int r = 16 * g0; r < Math.min(rows, 16 * g1); r++) {
            int g = (r >> 4) - g0;
            int i = r & 15;
            for (int k = 0; k < blocks; k++) {
                long src = 34L * ((long) r * blocks + k);
                int dst = (g * blocks + k) * 512 + 4 * i;
                scales[(g * blocks + k) * 16 + i] = b.getShort((int) src);
                b.get((int) src + 2, block, 0, 32);
                for (int j = 0; j < 8; j++) {
                    int o = dst + 64 * j;
                    quants[o] = (byte) (block[4 * j] ^ 0x80);
                    quants[o + 1] = (byte) (block[4 * j + 1] ^ 0x80);
                    quants[o + 2] = (byte) (block[4 * j + 2] ^ 0x80);
                    quants[o + 3] = (byte) (block[4 * j + 3] ^ 0x80);
                }
            }
        }
    }

    /**
     * {@link #q8Interleaved()}'s layout in native memory (huge-page aligned, off the heap), built on the first call
     * and kept as long as this matrix or until {@link #releaseNative()}. It is written 64 row groups at a time
     * through small heap buffers, so loading never holds a whole matrix's layout on the heap.
     *
     * @return the native copy, or null if the type is not Q8_0
     * @throws NativeUnavailableException if the native library did not load
     * @throws OutOfMemoryError           if the OS has not the memory to give
     */
    public NativeWeights q8Native() {
        NativeWeights p = nativeWeights;
        if (p != null || type != GgmlType.Q8_0) {
            return p;
        }
        synchronized (this) {
            if (nativeWeights == null) {
                int groups = (rows + 15) / 16;
                NativeWeights w = NativeWeights.allocate(rows, cols, groups);
                byte[] quants = null;
                short[] scales = null;
                for (int g0 = 0; g0 < groups; g0 += NATIVE_BATCH_GROUPS) {
                    int g1 = Math.min(groups, g0 + NATIVE_BATCH_GROUPS);
                    if (quants == null || quants.length != (g1 - g0) * 16 * cols) { // the first, and a shorter last
                        quants = new byte[(g1 - g0) * 16 * cols];
                        scales = new short[(g1 - g0) * (cols / 32) * 16];
                    }
                    interleave(g0, g1, quants, scales);
                    w.putGroups(g0, quants, scales);
                }
                nativeWeights = w;
                LOG.debug("copied Q8_0 tensor {} ({} x {}) into {} MiB of native memory (huge pages advised: {})",
                    name, rows, cols, w.bytes() >> 20, w.hugePagesAdvised());
            }
            return nativeWeights;
        }
    }

    /** Row groups per batch written by {@link #q8Native()}: 64 × 16 rows × 2,048 columns is 2 MiB of quants. */
    static final int NATIVE_BATCH_GROUPS = 64;

    /**
     * Frees the {@linkplain #q8Native() native copy} now, if one was made (a later {@link #q8Native()} makes a new
     * one), instead of when a collection finds this matrix unreachable: 1.3 GB for a 1B model, which no heap
     * pressure would reclaim. No product may be running on the copy or start on it meanwhile.
     */
    public void releaseNative() {
        NativeWeights p;
        synchronized (this) {
            p = nativeWeights;
            nativeWeights = null;
        }
        if (p != null) {
            p.memory().close();
        }
    }

    /**
     * A Q8_0 matrix in the native kernels' layout ({@link #q8Interleaved}).
     *
     * @param rows   the matrix's rows
     * @param cols   its columns (a multiple of 32)
     * @param groups row groups of 16, {@code ceil(rows / 16)}
     * @param quants unsigned quants {@code q + 128}, (groups, cols / 32, 8, 16, 4)
     * @param scales block scales as fp16 bits, (groups, cols / 32, 16)
     */
    public record Q8Interleaved(int rows, int cols, int groups, byte[] quants, short[] scales) {
        /**
         * @throws IllegalArgumentException if the shape and the arrays disagree (the native kernels trust them: an
         *                                  inconsistent copy must never reach them)
         */
        public Q8Interleaved {
            if (rows < 1 || cols < 32 || cols % 32 != 0 || groups != (rows + 15) / 16) {
                throw new IllegalArgumentException("interleaved Q8_0 shape: rows " + rows + ", cols " + cols
                    + " (a positive multiple of 32), groups " + groups + " (must be ceil(rows / 16))");
            }
            long blocks = (long) groups * (cols / 32);
            if (quants.length != blocks * 512 || scales.length != blocks * 16) {
                throw new IllegalArgumentException("interleaved Q8_0 arrays: " + quants.length + " quants and "
                    + scales.length + " scales, the shape needs " + blocks * 512 + " and " + blocks * 16);
            }
        }
    }

    @Override
    public String toString() {
        return "QuantizedMatrix[" + name + ", " + type + ", " + rows + " x " + cols + "]";
    }
}
