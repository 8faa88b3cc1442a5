package io.reviver.modelstore.gguf;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A validated, memory-mapped GGUF v2/v3 file. CONTRACT (implementation in progress):
 * {@link #open(Path)} validates the whole header before allocating anything proportional to a count read
 * from the file; tensor data is mapped lazily per tensor so files above 2 GiB work.
 */
public final class GgufFile implements AutoCloseable {

    private GgufFile() {
    }

    /** Opens and validates {@code path}; throws {@link GgufFormatException} naming what is wrong. */
    public static GgufFile open(Path path) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** GGUF version (2 or 3). */
    public int version() {
        throw new UnsupportedOperationException();
    }

    public Path path() {
        throw new UnsupportedOperationException();
    }

    public GgufMetadata metadata() {
        throw new UnsupportedOperationException();
    }

    /** Tensor infos in file order. */
    public List<GgufTensorInfo> tensors() {
        throw new UnsupportedOperationException();
    }

    public Optional<GgufTensorInfo> findTensor(String name) {
        throw new UnsupportedOperationException();
    }

    /** The tensor named {@code name}; throws naming the tensor if absent. */
    public GgufTensorInfo tensor(String name) {
        throw new UnsupportedOperationException();
    }

    /** The tensor's raw bytes: a read-only, little-endian buffer of exactly {@code info.byteSize()} bytes. */
    public ByteBuffer data(GgufTensorInfo info) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
    }
}
