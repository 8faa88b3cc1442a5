package io.reviver.kernel.tensor;

import io.reviver.modelstore.gguf.GgmlType;
import io.reviver.modelstore.gguf.GgufFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * An immutable weight matrix W of shape (rows, cols), row-major, stored in its file encoding (any
 * {@link GgmlType}): row r occupies bytes {@code [r * rowBytes, (r + 1) * rowBytes)} of {@link #data()}.
 * In GGUF terms a tensor with {@code shape = {cols, rows}} (innermost first). Nothing is dequantised up
 * front; {@link TensorOps} computes on the encoded bytes.
 *
 * @param name  tensor name for messages
 * @param type  element encoding
 * @param data  read-only little-endian bytes, exactly {@code rows * rowBytes} long, position 0
 * @param rows  output features
 * @param cols  input features; a multiple of {@code type.blockSize()}
 */
public record QuantizedMatrix(String name, GgmlType type, ByteBuffer data, int rows, int cols) {

    public QuantizedMatrix {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
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
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }
}
