package io.reviver.modelstore.gguf;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes GGUF v3 (or v2) files: metadata plus tensors given as already-encoded bytes. Used by tests and
 * tools; the reader ({@link GgufFile}) validates what it writes. Tensor data is aligned to
 * {@code general.alignment} when the metadata has it, else 32.
 */
public final class GgufWriter {

    /** One tensor to write: shape innermost first (GGUF order), bytes exactly {@code type.byteSize(elements)}. */
    public record Tensor(String name, long[] shape, GgmlType type, byte[] data) {
    }

    private final GgufMetadata metadata;
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int version = 3;

    public GgufWriter(GgufMetadata metadata) {
        this.metadata = metadata;
    }

    /** Writes version 2 instead of 3 (same layout for little-endian files). */
    public GgufWriter version(int v) {
        if (v != 2 && v != 3) {
            throw new IllegalArgumentException("GGUF version must be 2 or 3, got " + v);
        }
        this.version = v;
        return this;
    }

    /**
     * Adds a tensor.
     *
     * @throws IllegalArgumentException on a duplicate name or a byte length that does not match shape and type
     */
    public GgufWriter add(String name, long[] shape, GgmlType type, byte[] data) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        if (shape.length == 0 || shape[0] % type.blockSize() != 0 || type.byteSize(n) != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.length + " bytes do not match shape "
                + java.util.Arrays.toString(shape) + " of " + type);
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        }
        tensors.add(new Tensor(name, shape.clone(), type, data));
        return this;
    }

    /** Adds an F32 tensor; {@code values} has the shape's element count, innermost dimension fastest. */
    public GgufWriter addF32(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return add(name, shape, GgmlType.F32, b.array());
    }

    private int alignment() {
        return metadata.contains("general.alignment") ? (int) metadata.getLong("general.alignment") : GgufFile.DEFAULT_ALIGNMENT;
    }

    /** Writes the file. */
    public void write(Path path) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            write(out);
        }
    }

    /** Writes the file to a stream. */
    public void write(OutputStream out) throws IOException {
        int alignment = alignment();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        putI32(head, GgufFile.MAGIC);
        putI32(head, version);
        putI64(head, tensors.size());
        putI64(head, metadata.size());
        for (var e : metadata.entries().entrySet()) {
            putString(head, e.getKey());
            putI32(head, e.getValue().type().id());
            putValue(head, e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            offset = GgufFile.alignUp(offset, alignment);
            offsets.add(offset);
            putString(head, t.name());
            putI32(head, t.shape().length);
            for (long d : t.shape()) {
                putI64(head, d);
            }
            putI32(head, t.type().id());
            putI64(head, offset);
            offset += t.data().length;
        }
        long pos = head.size();
        head.writeTo(out);
        long dataStart = GgufFile.alignUp(pos, alignment);
        pad(out, dataStart - pos);
        pos = 0;
        for (int i = 0; i < tensors.size(); i++) {
            pad(out, offsets.get(i) - pos);
            out.write(tensors.get(i).data());
            pos = offsets.get(i) + tensors.get(i).data().length;
        }
    }

    private static void pad(OutputStream out, long n) throws IOException {
        for (long i = 0; i < n; i++) {
            out.write(0);
        }
    }

    private static void putValue(ByteArrayOutputStream out, GgufMetadata.Value v) {
        Object x = v.value();
        switch (v.type()) {
            case UINT8, INT8, BOOL -> out.write(x instanceof Boolean bo ? (bo ? 1 : 0) : (int) (long) (Long) x);
            case UINT16, INT16 -> {
                long l = (Long) x;
                out.write((int) l);
                out.write((int) (l >>> 8));
            }
            case UINT32, INT32 -> putI32(out, (int) (long) (Long) x);
            case UINT64, INT64 -> putI64(out, (Long) x);
            case FLOAT32 -> putI32(out, Float.floatToRawIntBits((float) (double) (Double) x));
            case FLOAT64 -> putI64(out, Double.doubleToRawLongBits((Double) x));
            case STRING -> putString(out, (String) x);
            case ARRAY -> {
                GgufValueType e = v.elementType();
                putI32(out, e.id());
                putI64(out, v.length());
                for (int i = 0; i < v.length(); i++) {
                    putValue(out, element(v, i));
                }
            }
            default -> throw new AssertionError(v.type());
        }
    }

    private static GgufMetadata.Value element(GgufMetadata.Value array, int i) {
        GgufValueType e = array.elementType();
        Object a = array.value();
        Object x;
        if (a instanceof long[] l) {
            x = l[i];
        } else if (a instanceof double[] d) {
            x = d[i];
        } else if (a instanceof boolean[] b) {
            x = b[i];
        } else if (a instanceof String[] s) {
            x = s[i];
        } else {
            return ((GgufMetadata.Value[]) a)[i];
        }
        return new GgufMetadata.Value(e, null, x);
    }

    private static void putString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        putI64(out, b.length);
        out.write(b, 0, b.length);
    }

    private static void putI32(ByteArrayOutputStream out, int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
    }

    private static void putI64(ByteArrayOutputStream out, long v) {
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
    }
}
