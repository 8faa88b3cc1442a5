package io.reviver.modelstore.gguf;

import java.util.Arrays;

/**
 * One tensor's header entry, validated.
 *
 * @param name        tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param shape       dimensions in GGUF order, innermost (contiguous) first: a weight matrix of {@code rows}
 *                    output features × {@code cols} input features has {@code shape = {cols, rows}}
 * @param type        element type
 * @param dataOffset  byte offset of the tensor's data relative to the start of the file's tensor-data section
 *                    (a multiple of the file's alignment)
 * @param byteSize    bytes of data, {@code type.byteSize(elementCount)}
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long dataOffset, long byteSize) {

    public GgufTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i} (0 = innermost). */
    public long dim(int i) {
        return shape[i];
    }

    /** Product of all dimensions. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(shape, t.shape)
            && type == t.type && dataOffset == t.dataOffset && byteSize == t.byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + ":" + type;
    }
}
