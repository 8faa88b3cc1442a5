package io.reviver.modelstore.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A validated, memory-mapped GGUF v2/v3 file (little-endian).
 *
 * <p>{@link #open(Path)} reads and validates the whole header (metadata and tensor infos) through a bounded
 * reader: every count or length read from the file is checked against the bytes that remain and against fixed
 * limits before anything proportional to it is allocated, so a malformed file yields a
 * {@link GgufFormatException} naming the field, key or tensor and the bad value — never an
 * {@code OutOfMemoryError}, an index exception or a hang. Tensor data is mapped lazily, per tensor, so files
 * larger than 2 GiB work; one tensor must be smaller than 2 GiB.
 *
 * <p>Thread-safe after construction. Buffers returned by {@link #data(GgufTensorInfo)} stay valid after
 * {@link #close()} (the mapping outlives the channel).
 */
public final class GgufFile implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(GgufFile.class);

    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    /** Limits that keep a hostile header from requesting absurd allocations. */
    static final long MAX_TENSORS = 1L << 20;
    static final long MAX_KV = 1L << 20;
    static final long MAX_ARRAY_ELEMENTS = 1L << 24;
    static final long MAX_STRING_BYTES = 1L << 24;
    static final int MAX_KEY_BYTES = 1 << 16;
    static final int MAX_DIMS = 4;
    static final long MAX_DIM = 1L << 40;
    static final int MAX_NESTING = 3;

    private final Path path;
    private final FileChannel channel;
    private final int version;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;
    private final long dataStart;
    private final int alignment;
    private final Map<String, MappedByteBuffer> mapped = new ConcurrentHashMap<>();

    private GgufFile(Path path, FileChannel channel, int version, GgufMetadata metadata,
                     List<GgufTensorInfo> tensors, long dataStart, int alignment) {
        this.path = path;
        this.channel = channel;
        this.version = version;
        this.metadata = metadata;
        this.tensors = Collections.unmodifiableList(tensors);
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
        this.dataStart = dataStart;
        this.alignment = alignment;
    }

    /**
     * Opens and validates {@code path}.
     *
     * @throws GgufFormatException naming what is wrong for a missing, unreadable or malformed file
     */
    public static GgufFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new GgufFormatException("GGUF file not found: " + path);
        } catch (IOException e) {
            throw new GgufFormatException("cannot open GGUF file " + path + ": " + e.getMessage(), e);
        }
        try {
            GgufFile f = parse(path, ch);
            LOG.debug("opened {}: GGUF v{}, {} metadata keys, {} tensors, alignment {}", path, f.version,
                f.metadata.size(), f.tensors.size(), f.alignment);
            return f;
        } catch (GgufFormatException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new GgufFormatException("I/O error reading " + path + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw new GgufFormatException(path + ": malformed GGUF (" + e + ")", e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing; the original error is what the user needs
        }
    }

    private static GgufFile parse(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        GgufHeaderReader r = new GgufHeaderReader(ch, size, path.toString());
        int magic = r.i32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException(path + ": bad magic " + describeMagic(magic) + ", expected \"GGUF\"");
        }
        int version = r.i32("version");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new GgufFormatException(path + ": big-endian GGUF (version bytes " + Integer.toHexString(version)
                    + ") is not supported; convert the file to little-endian");
            }
            throw new GgufFormatException(path + ": unsupported GGUF version " + Integer.toUnsignedString(version)
                + " (supported: 2, 3)");
        }
        long nTensors = r.u64("tensor count");
        long nKv = r.u64("metadata key/value count");
        // every tensor info takes at least 8 (name length) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes,
        // every kv at least 8 (key length) + 4 (type) + 1 byte
        if (nTensors < 0 || nTensors > MAX_TENSORS || nTensors * 32 > r.remaining()) {
            throw new GgufFormatException(path + ": truncated or corrupt file: tensor count " + Long.toUnsignedString(nTensors)
                + " is impossible for a file of " + size + " bytes (limit " + MAX_TENSORS + ")");
        }
        if (nKv < 0 || nKv > MAX_KV || nKv * 13 > r.remaining()) {
            throw new GgufFormatException(path + ": truncated or corrupt file: metadata key/value count " + Long.toUnsignedString(nKv)
                + " is impossible for a file of " + size + " bytes (limit " + MAX_KV + ")");
        }

        Map<String, GgufMetadata.Value> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = r.string("metadata key #" + i, MAX_KEY_BYTES);
            if (kv.containsKey(key)) {
                throw new GgufFormatException(path + ": duplicate metadata key '" + key + "'");
            }
            int typeId = r.i32("type of metadata key '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId).orElseThrow(() -> new GgufFormatException(
                path + ": metadata key '" + key + "' has unknown value type id " + Integer.toUnsignedString(typeId)));
            kv.put(key, r.value(key, type, 0));
        }
        GgufMetadata metadata = GgufMetadata.of(kv);

        int alignment = DEFAULT_ALIGNMENT;
        if (metadata.contains("general.alignment")) {
            GgufMetadata.Value a = metadata.require("general.alignment");
            if (!a.type().isInteger()) {
                throw new GgufFormatException(path + ": metadata key 'general.alignment' has type " + a.type()
                    + ", expected an integer");
            }
            long al = (Long) a.value();
            if (al < 1 || al > (1 << 20) || Long.bitCount(al) != 1) {
                throw new GgufFormatException(path + ": metadata key 'general.alignment' = " + al
                    + " is not a power of two in [1, 1048576]");
            }
            alignment = (int) al;
        }

        List<GgufTensorInfo> infos = new ArrayList<>((int) nTensors);
        Map<String, Boolean> names = new java.util.HashMap<>();
        for (long i = 0; i < nTensors; i++) {
            String name = r.string("name of tensor #" + i, MAX_KEY_BYTES);
            if (names.put(name, Boolean.TRUE) != null) {
                throw new GgufFormatException(path + ": duplicate tensor name '" + name + "'");
            }
            int nDims = r.i32("n_dims of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException(path + ": tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                    + " dimensions (supported: 1.." + MAX_DIMS + ")");
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dim = r.u64("dimension " + d + " of tensor '" + name + "'");
                if (dim < 1 || dim > MAX_DIM) {
                    throw new GgufFormatException(path + ": tensor '" + name + "' dimension " + d + " = "
                        + Long.toUnsignedString(dim) + " is out of range [1, " + MAX_DIM + "]");
                }
                shape[d] = dim;
                try {
                    elements = Math.multiplyExact(elements, dim);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(path + ": tensor '" + name + "' element count overflows");
                }
            }
            int typeId = r.i32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.fromId(typeId).orElseThrow(() -> new GgufFormatException(path + ": tensor '"
                + name + "' has type " + GgmlType.ggmlName(typeId) + " (" + Integer.toUnsignedString(typeId)
                + "), which is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)"));
            if (shape[0] % type.blockSize() != 0) {
                throw new GgufFormatException(path + ": tensor '" + name + "' innermost dimension " + shape[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
            }
            long offset = r.u64("data offset of tensor '" + name + "'");
            if (offset < 0 || offset % alignment != 0) {
                throw new GgufFormatException(path + ": tensor '" + name + "' data offset "
                    + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            long bytes;
            try {
                bytes = type.byteSize(elements);
            } catch (ArithmeticException e) {
                throw new GgufFormatException(path + ": tensor '" + name + "' byte size overflows");
            }
            infos.add(new GgufTensorInfo(name, shape, type, offset, bytes));
        }

        long dataStart = alignUp(r.position(), alignment);
        List<GgufTensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::dataOffset));
        long prevEnd = 0;
        String prevName = null;
        for (GgufTensorInfo t : sorted) {
            if (t.dataOffset() < prevEnd) {
                throw new GgufFormatException(path + ": tensor '" + t.name() + "' data at offset " + t.dataOffset()
                    + " overlaps tensor '" + prevName + "' ending at " + prevEnd);
            }
            long end = t.dataOffset() + t.byteSize();
            if (end < 0 || dataStart + end > size || dataStart + end < 0) {
                throw new GgufFormatException(path + ": truncated file: tensor '" + t.name() + "' (" + t.byteSize()
                    + " bytes at data offset " + t.dataOffset() + ") extends to byte " + (dataStart + end)
                    + " but the file has " + size + " bytes");
            }
            prevEnd = end;
            prevName = t.name();
        }
        return new GgufFile(path, ch, version, metadata, infos, dataStart, alignment);
    }

    static long alignUp(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private static String describeMagic(int magic) {
        StringBuilder sb = new StringBuilder("0x");
        sb.append(String.format("%08x", Integer.reverseBytes(magic))).append(" (\"");
        for (int i = 0; i < 4; i++) {
            int c = (magic >>> (8 * i)) & 0xFF;
            sb.append(c >= 32 && c < 127 ? (char) c : '?');
        }
        return sb.append("\")").toString();
    }

    /** GGUF version (2 or 3). */
    public int version() {
        return version;
    }

    public Path path() {
        return path;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Alignment of tensor data (general.alignment, default 32). */
    public int alignment() {
        return alignment;
    }

    /** Absolute file offset where the tensor-data section starts. */
    public long dataStart() {
        return dataStart;
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> findTensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The tensor named {@code name}; throws naming the tensor and file if absent. */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new GgufFormatException(path + ": missing required tensor '" + name + "'");
        }
        return t;
    }

    /**
     * The tensor's raw bytes: a read-only, little-endian buffer of exactly {@code info.byteSize()} bytes,
     * position 0. Each call returns an independent buffer over one shared mapping.
     *
     * @throws GgufFormatException if the tensor is 2 GiB or larger, or not from this file
     */
    public ByteBuffer data(GgufTensorInfo info) {
        if (byName.get(info.name()) != info && !info.equals(byName.get(info.name()))) {
            throw new GgufFormatException(path + ": tensor '" + info.name() + "' does not belong to this file");
        }
        if (info.byteSize() > Integer.MAX_VALUE) {
            throw new GgufFormatException(path + ": tensor '" + info.name() + "' has " + info.byteSize()
                + " bytes; tensors of 2 GiB or more are not supported");
        }
        MappedByteBuffer m = mapped.computeIfAbsent(info.name(), n -> {
            try {
                return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + info.dataOffset(), info.byteSize());
            } catch (IOException e) {
                throw new GgufFormatException(path + ": cannot map tensor '" + n + "': " + e.getMessage(), e);
            }
        });
        return m.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + tensors.size() + " tensors]";
    }
}
