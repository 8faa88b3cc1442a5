package io.reviver.spark.engine;

import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.engine.BatchEngine;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.opencl.OpenClAttentionBackend;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.kernel.tensor.WeightsBackend;
import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.tokenizer.Tokenizer;
import io.reviver.modelstore.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One loaded model in one JVM: the mapped GGUF file, the weight-product backend (with its heap copies of the Q8_0
 * weights, built at load, see {@link TensorOps#prepare}), the decoder and the tokenizer.
 * Immutable and thread-safe (every task brings its own state and KV cache); shared by all tasks of an executor
 * through {@link ReplicaCache}. {@link #close()} releases the backend's threads and the file mapping.
 */
public final class ModelReplica implements AutoCloseable {

    private static final org.apache.logging.log4j.Logger LOG =
        org.apache.logging.log4j.LogManager.getLogger(ModelReplica.class);

    private final Path file;
    private final GgufFile gguf;
    private final TensorOps ops;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final long heapWeights; // bytes of heap the weight products' copies hold

    private ModelReplica(Path file, GgufFile gguf, TensorOps ops, LlamaModel model, Tokenizer tokenizer,
                         long heapWeights) {
        this.heapWeights = heapWeights;
        this.file = file;
        this.gguf = gguf;
        this.ops = ops;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Loads a local GGUF file with the pure-Java vector backend for the weight products and the model's built-in
     * attention.
     *
     * @param threads compute threads of the weight products (≥ 1; 1 = the calling task's thread only)
     */
    public static ModelReplica load(Path file, int threads) {
        return load(file, threads, BackendChoice.JAVA);
    }

    /**
     * Loads a local GGUF file with the pure-Java vector backend for the weight products; with {@code opencl} or
     * {@code opencl-or-java}, attention and KVReviver's sketch operations run on one OpenCL backend per KV head
     * (owned by the model; used by the one thread that drives it, the executor's batch engine), and the choice
     * and device are logged.
     *
     * @param threads   compute threads of the weight products (≥ 1; 1 = the calling task's thread only)
     * @param attention attention backend choice
     * @throws io.reviver.kernel.attention.BackendUnavailableException if {@code opencl} is required but does not
     *                                                                 run
     */
    public static ModelReplica load(Path file, int threads, BackendChoice attention) {
        return load(file, threads, attention, WeightsBackend.JAVA);
    }

    /**
     * Loads a local GGUF file as {@link #load(Path, int, BackendChoice)} does, with the weight products on the
     * given backend (logged).
     *
     * @throws io.reviver.kernel.tensor.NativeUnavailableException if {@code native} is asked for but its library
     *                                                              does not run here
     */
    public static ModelReplica load(Path file, int threads, BackendChoice attention, WeightsBackend weightsBackend) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(weightsBackend, "weightsBackend");
        GgufFile gguf = GgufFile.open(file);
        TensorOps ops = null;
        List<AttentionBackend> backends = null;
        try {
            ops = weightsBackend.create(threads);
            LlamaConfig config = LlamaConfig.fromGguf(gguf.metadata(), gguf.tensor("token_embd.weight"));
            LlamaWeights weights = LlamaWeights.load(TensorSource.of(gguf), config, ops);
            long heapWeights = prepareWeights(file, weights, ops);
            Tokenizer tokenizer = Tokenizers.fromGguf(gguf.metadata());
            if (attention != BackendChoice.JAVA) {
                backends = new ArrayList<>();
                for (int g = 0; g < config.nKvHeads(); g++) {
                    backends.add(OpenClAttentionBackend.open(attention));
                }
                LOG.info("attention backend {}: {}", attention.configName(), backends.get(0).status());
            }
            LlamaModel model = new LlamaModel(config, weights, ops, ElementOps.forProducts(ops), 1, backends);
            return new ModelReplica(file, gguf, ops, model, tokenizer, heapWeights);
        } catch (RuntimeException e) {
            if (backends != null) {
                backends.forEach(AttentionBackend::close);
            }
            if (ops != null) {
                ops.close();
            }
            gguf.close();
            throw e;
        }
    }

    /** Heap the JVM must leave for everything but the weight copies (Spark, scratch, the KV memory's first use). */
    static final long HEAP_RESERVE = 256L << 20;

    /**
     * Builds the weight products' copies now (the Java backend's packed Q8_0 on the heap, about 1.06 × the file's
     * Q8_0 bytes, or the native backend's copy in native memory, as many bytes as the file's rounded up to 2 MiB per
     * matrix), so the first document's time does not include them, and checks the heap can hold the heap ones.
     *
     * @return bytes of heap the copies hold
     * @throws IllegalStateException if the JVM's maximum heap is below the heap copies plus {@link #HEAP_RESERVE}
     */
    private static long prepareWeights(Path file, LlamaWeights weights, TensorOps ops) {
        TensorOps.CopyBytes needed = TensorOps.CopyBytes.NONE;
        for (QuantizedMatrix m : weights.productMatrices()) {
            needed = needed.plus(ops.prepare(m));
        }
        long max = Runtime.getRuntime().maxMemory();
        requireHeap(file.getFileName().toString(), needed.heap(), max);
        LOG.info("model {}: weight products keep {} MiB on the heap and {} MiB of native memory outside it ({}), "
            + "maximum heap {} MiB{}", file.getFileName(), needed.heap() >> 20, needed.offHeap() >> 20,
            ops.describe(), max >> 20, needed.offHeap() == 0 ? "" : "; in a container, native memory counts against "
                + "spark.executor.memoryOverhead");
        return needed.heap();
    }

    /**
     * Checks that a JVM whose maximum heap is {@code maxHeap} bytes can hold {@code weightCopies} bytes of weight
     * copies plus {@link #HEAP_RESERVE}.
     *
     * @throws IllegalStateException naming the model, both figures and the heap to give executors, if it cannot
     */
    static void requireHeap(String model, long weightCopies, long maxHeap) {
        if (weightCopies + HEAP_RESERVE > maxHeap) {
            throw new IllegalStateException("model " + model + ": the weight products keep " + (weightCopies >> 20)
                + " MiB of its Q8_0 weights on the heap, but this JVM's maximum heap is " + (maxHeap >> 20)
                + " MiB; give executors at least " + ((weightCopies + HEAP_RESERVE) >> 20)
                + " MiB plus the KV memory (spark.executor.memory)");
        }
    }

    private BatchEngine engine; // created on first use, guarded by this

    /**
     * The executor's continuous-batching engine over this model, shared by every task of the JVM so their
     * sequences decode together; created on first use with these settings (later calls get the same engine).
     *
     * @param kvBudgetBytes the executor's KV memory
     * @param maxBatch      sequences decoded together at most
     * @param prefillChunk  prompt tokens per prefill iteration
     */
    public synchronized BatchEngine engine(long kvBudgetBytes, int maxBatch, int prefillChunk) {
        if (engine == null) {
            long max = Runtime.getRuntime().maxMemory();
            if (heapWeights + kvBudgetBytes + HEAP_RESERVE > max) {
                LOG.warn("the executor's maximum heap ({} MiB) is below the model's weight copies ({} MiB) plus "
                    + "kv-memory ({} MiB) plus {} MiB: a full KV memory would run out of heap; raise "
                    + "spark.executor.memory or lower kv-memory", max >> 20, heapWeights >> 20, kvBudgetBytes >> 20,
                    HEAP_RESERVE >> 20);
            }
            engine = new BatchEngine(model, new BatchEngine.Config(kvBudgetBytes, maxBatch, prefillChunk));
        }
        return engine;
    }

    /** The local file this replica was loaded from. */
    public Path file() {
        return file;
    }

    public LlamaModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Describes the model and its numeric paths, for logs. */
    public String describe() {
        return file.getFileName() + ": " + model.describe();
    }

    @Override
    public void close() {
        synchronized (this) {
            if (engine != null) {
                engine.close();
            }
        }
        model.close();
        ops.close();
        for (QuantizedMatrix m : model.weights().productMatrices()) {
            m.releaseNative(); // the native backend's copies: freed now, not when a collection finds them
        }
        gguf.close();
    }
}
