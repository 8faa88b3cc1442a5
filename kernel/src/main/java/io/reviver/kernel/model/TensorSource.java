package io.reviver.kernel.model;

import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.gguf.GgufTensorInfo;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * Named raw tensors of a model file: the seam between the file format and {@link LlamaWeights}. The GGUF
 * implementation is {@link #of(GgufFile)}.
 */
public interface TensorSource {

    /** Where the tensors come from (a path), for messages. */
    String description();

    /** The tensor named {@code name}, if present. */
    Optional<GgufTensorInfo> find(String name);

    /** The tensor's bytes: read-only, little-endian, exactly {@code info.byteSize()} long. */
    ByteBuffer data(GgufTensorInfo info);

    /** The tensors of an open GGUF file (which must stay open while they are used). */
    static TensorSource of(GgufFile file) {
        Objects.requireNonNull(file, "file");
        return new TensorSource() {
            @Override
            public String description() {
                return String.valueOf(file.path());
            }

            @Override
            public Optional<GgufTensorInfo> find(String name) {
                return file.findTensor(name);
            }

            @Override
            public ByteBuffer data(GgufTensorInfo info) {
                return file.data(info);
            }
        };
    }
}
