package io.reviver.kernel.press;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import java.io.IOException;

/**
 * Loads the committed random-weight test model (models/test) for the press tests. {@link #shared()} is one instance
 * for the whole test JVM (read-only: every test brings its own caches and states), closed at JVM exit.
 */
final class TestModels implements AutoCloseable {
    final GgufFile file;
    final JavaTensorOps ops;
    final LlamaModel model;

    private TestModels(GgufFile file, JavaTensorOps ops, LlamaModel model) {
        this.file = file;
        this.ops = ops;
        this.model = model;
    }

    private static TestModels shared;

    /** The JVM-wide random-weight model. */
    static synchronized TestModels shared() {
        if (shared == null) {
            try {
                shared = randomWeights();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            TestModels m = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    m.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
        }
        return shared;
    }

    static TestModels randomWeights() throws IOException {
        return randomWeights(1);
    }

    /** The same model with products and attention on {@code threads} threads (the caller closes it). */
    static TestModels randomWeights(int threads) throws IOException {
        GgufFile file = GgufFile.open(TestRepo.root().resolve("models/test/tiny-llama-q8_0.gguf"));
        JavaTensorOps ops = new JavaTensorOps(threads, JavaTensorOps.Path.VECTOR);
        LlamaConfig config = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
        LlamaWeights weights = LlamaWeights.load(TensorSource.of(file), config, ops);
        return new TestModels(file, ops, new LlamaModel(config, weights, ops, ElementOps.vector(), threads));
    }

    @Override
    public void close() throws IOException {
        model.close();
        ops.close();
        file.close();
    }
}
