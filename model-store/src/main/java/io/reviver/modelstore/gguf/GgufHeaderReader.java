package io.reviver.modelstore.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;

/**
 * Bounded, buffered little-endian reader over a GGUF header. Every read names what it reads so that a
 * truncated file produces "truncated file: reading X at offset N needs K bytes, file has M"; every length is
 * checked against the bytes remaining before anything is allocated. Not thread-safe; used only while opening.
 */
final class GgufHeaderReader {

    private final FileChannel channel;
    private final long size;
    private final String file;
    /** Window of the file starting at absolute offset {@code bufferStart}. */
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long bufferStart;

    GgufHeaderReader(FileChannel channel, long size, String file) {
        this.channel = channel;
        this.size = size;
        this.file = file;
        buffer.limit(0);
    }

    /** Absolute offset of the next byte to read. */
    long position() {
        return bufferStart + buffer.position();
    }

    long remaining() {
        return size - position();
    }

    private void need(int n, String what) throws IOException {
        if (buffer.remaining() >= n) {
            return;
        }
        long pos = position();
        if (pos + n > size) {
            throw new GgufFormatException(file + ": truncated file: reading " + what + " at offset " + pos + " needs "
                + n + " bytes, but the file has " + size + " bytes");
        }
        buffer.compact(); // the unread bytes now start at index 0, which is absolute offset pos
        bufferStart = pos;
        long readFrom = pos + buffer.position();
        while (buffer.position() < n) {
            int r = channel.read(buffer, readFrom);
            if (r <= 0) {
                throw new GgufFormatException(file + ": truncated file: reading " + what + " at offset " + pos);
            }
            readFrom += r;
        }
        buffer.flip();
    }

    int i32(String what) throws IOException {
        need(4, what);
        return buffer.getInt();
    }

    long u64(String what) throws IOException {
        need(8, what);
        return buffer.getLong();
    }

    private byte[] bytes(long len, String what) throws IOException {
        byte[] out = new byte[(int) len];
        int done = 0;
        while (done < out.length) {
            need(1, what);
            int n = Math.min(buffer.remaining(), out.length - done);
            buffer.get(out, done, n);
            done += n;
        }
        return out;
    }

    /** A length-prefixed UTF-8 string of at most {@code maxBytes} bytes. */
    String string(String what, long maxBytes) throws IOException {
        long start = position();
        long len = u64("length of " + what);
        if (len < 0 || len > maxBytes || len > remaining()) {
            throw new GgufFormatException(file + ": " + what + " at offset " + start + " has length "
                + Long.toUnsignedString(len) + ", beyond the limit " + Math.min(maxBytes, remaining()));
        }
        byte[] b = bytes(len, what);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new GgufFormatException(file + ": " + what + " at offset " + start + " is not valid UTF-8");
        }
    }

    /** Reads one value of {@code type} for {@code key}; arrays may nest up to {@link GgufFile#MAX_NESTING}. */
    GgufMetadata.Value value(String key, GgufValueType type, int depth) throws IOException {
        String what = "value of metadata key '" + key + "'";
        switch (type) {
            case UINT8: need(1, what); return scalar(type, (long) (buffer.get() & 0xFF));
            case INT8: need(1, what); return scalar(type, (long) buffer.get());
            case UINT16: need(2, what); return scalar(type, (long) (buffer.getShort() & 0xFFFF));
            case INT16: need(2, what); return scalar(type, (long) buffer.getShort());
            case UINT32: need(4, what); return scalar(type, buffer.getInt() & 0xFFFF_FFFFL);
            case INT32: need(4, what); return scalar(type, (long) buffer.getInt());
            case UINT64:
            case INT64: need(8, what); return scalar(type, buffer.getLong());
            case FLOAT32: need(4, what); return scalar(type, (double) buffer.getFloat());
            case FLOAT64: need(8, what); return scalar(type, buffer.getDouble());
            case BOOL: {
                need(1, what);
                int b = buffer.get();
                if (b != 0 && b != 1) {
                    throw new GgufFormatException(file + ": metadata key '" + key + "' BOOL has byte value " + b);
                }
                return scalar(type, b == 1);
            }
            case STRING: return scalar(type, string(what, GgufFile.MAX_STRING_BYTES));
            case ARRAY: return array(key, depth);
            default: throw new AssertionError(type);
        }
    }

    private static GgufMetadata.Value scalar(GgufValueType type, Object v) {
        return new GgufMetadata.Value(type, null, v);
    }

    private GgufMetadata.Value array(String key, int depth) throws IOException {
        if (depth >= GgufFile.MAX_NESTING) {
            throw new GgufFormatException(file + ": metadata key '" + key + "' nests arrays deeper than "
                + GgufFile.MAX_NESTING);
        }
        int elemId = i32("element type of array '" + key + "'");
        GgufValueType elem = GgufValueType.fromId(elemId).orElseThrow(() -> new GgufFormatException(file
            + ": metadata array '" + key + "' has unknown element type id " + Integer.toUnsignedString(elemId)));
        long n = u64("length of array '" + key + "'");
        // the smallest encoding of one element: fixed size, 8 for a string length, 12 for an empty nested array
        long minBytes = elem.fixedSize() > 0 ? elem.fixedSize() : (elem == GgufValueType.STRING ? 8 : 12);
        if (n < 0 || n > GgufFile.MAX_ARRAY_ELEMENTS || n > remaining() / minBytes) {
            throw new GgufFormatException(file + ": metadata array '" + key + "' claims "
                + Long.toUnsignedString(n) + " elements of " + elem + ", impossible with " + remaining()
                + " bytes left (limit " + GgufFile.MAX_ARRAY_ELEMENTS + ")");
        }
        int len = (int) n;
        Object values;
        if (elem.isInteger()) {
            long[] a = new long[len];
            for (int i = 0; i < len; i++) {
                a[i] = (Long) value(key, elem, depth + 1).value();
            }
            values = a;
        } else if (elem.isFloat()) {
            double[] a = new double[len];
            for (int i = 0; i < len; i++) {
                a[i] = (Double) value(key, elem, depth + 1).value();
            }
            values = a;
        } else if (elem == GgufValueType.BOOL) {
            boolean[] a = new boolean[len];
            for (int i = 0; i < len; i++) {
                a[i] = (Boolean) value(key, elem, depth + 1).value();
            }
            values = a;
        } else if (elem == GgufValueType.STRING) {
            String[] a = new String[len];
            for (int i = 0; i < len; i++) {
                a[i] = string("element " + i + " of array '" + key + "'", GgufFile.MAX_STRING_BYTES);
            }
            values = a;
        } else {
            GgufMetadata.Value[] a = new GgufMetadata.Value[len];
            for (int i = 0; i < len; i++) {
                a[i] = value(key, elem, depth + 1);
            }
            values = a;
        }
        return new GgufMetadata.Value(GgufValueType.ARRAY, elem, values);
    }
}
