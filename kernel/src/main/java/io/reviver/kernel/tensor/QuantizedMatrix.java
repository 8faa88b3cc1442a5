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

    @Override
    public String toString() {
        return "QuantizedMatrix[" + name + ", " + type + ", " + rows + " x " + cols + "]";
    }
}
