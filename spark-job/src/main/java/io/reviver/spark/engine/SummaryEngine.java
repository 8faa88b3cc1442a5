package io.reviver.spark.engine;

import io.reviver.kernel.engine.BatchEngine;
import io.reviver.kernel.engine.GenerationRequest;
import io.reviver.kernel.engine.GenerationResult;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressRegistry;
import java.util.concurrent.ExecutionException;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.sample.Sampler;
import io.reviver.modelstore.tokenizer.Tokenizer;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Summarises documents with one model replica; Spark-free, one instance per task (not thread-safe only in the
 * sense that it is cheap to create; it holds no mutable state besides per-call locals).
 *
 * <p>Prompt: the configured template with the document's tokens in place of {@code {text}}; the template's two
 * halves are tokenised once (the first with BOS). A document whose prompt would not fit is split
 * ({@link Chunker}) into in-order chunks of at most {@link #chunkCapacity()} tokens, each summarised separately
 * (map); the chunk summaries are joined in chunk order, one per line, and summarised again (reduce), repeatedly
 * if the joined summaries still do not fit. The capacity is the smaller of the model's context and what the KV
 * memory of one task holds, minus the template and the generated tokens, and at most {@code chunk-tokens} when
 * that is set.
 *
 * <p>Every call into the kernel goes through {@link #generate}: each pass, greedy or sampled, is submitted to the
 * executor's shared {@link BatchEngine} (continuous batching: the sequences of all tasks of the JVM decode
 * together, admitted by their compressed KV bytes within {@code kv-memory}), with the job's KV-cache press and
 * budget and its own sampler.
 *
 * <p>Sampling is greedy unless {@code temperature > 0}; then each pass's sampler is seeded from the job seed, the
 * document's content hash and the pass number, so a retried task reproduces its output.
 */
public final class SummaryEngine {

    private final ModelReplica replica;
    private final Tokenizer tokenizer;
    private final JobConfig config;
    private final int[] prefix; // BOS + template text before {text}
    private final int[] suffix; // template text after {text}
    private final int chunkCapacity;
    private final int eos;
    private final KvPress press;
    private final String configHash;
    /** Sequences the executor's engine decodes together at most. */
    static final int MAX_BATCH = 16;

    /**
     * @param replica        loaded model
     * @param config         the job's configuration
     * @param kvBytesPerTask KV-cache bytes one task may use (the executor's {@code kv-memory} divided by its
     *                       concurrent tasks)
     * @throws IllegalStateException if the context or KV memory leaves too little room for a chunk (message
     *                               names the keys to change)
     */
    public SummaryEngine(ModelReplica replica, JobConfig config, long kvBytesPerTask) {
        this.replica = Objects.requireNonNull(replica, "replica");
        this.config = Objects.requireNonNull(config, "config");
        this.tokenizer = replica.tokenizer();
        String template = config.promptTemplate();
        int at = template.indexOf(JobConfigKeys.TEXT_PLACEHOLDER);
        this.prefix = tokenizer.encode(template.substring(0, at), true);
        this.suffix = tokenizer.encode(template.substring(at + JobConfigKeys.TEXT_PLACEHOLDER.length()));
        this.eos = tokenizer.eosId().orElse(-1);
        this.press = PressRegistry.create(config.press(), config.budget(), tokenizer::encode);
        this.configHash = config.configHash(kvBytesPerTask);

        LlamaConfig c = replica.model().config();
        long bytesPerPosition = 2L * c.nLayers() * c.kvDim() * Float.BYTES;
        long fit = Math.min(c.contextLength(), kvBytesPerTask / bytesPerPosition);
        long capacity = fit - prefix.length - suffix.length - config.maxNewTokens();
        if (config.chunkTokens() > 0) {
            capacity = Math.min(capacity, config.chunkTokens());
        }
        if (capacity <= 2L * config.maxNewTokens()) {
            throw new IllegalStateException("no room for document chunks: the model's context is "
                + c.contextLength() + " tokens and " + JobConfigKeys.KV_MEMORY.property() + " gives each task "
                + kvBytesPerTask + " bytes = " + kvBytesPerTask / bytesPerPosition + " positions; after the "
                + "template (" + (prefix.length + suffix.length) + " tokens) and "
                + JobConfigKeys.MAX_NEW_TOKENS.property() + " = " + config.maxNewTokens() + " a chunk would hold "
                + capacity + " tokens, which must exceed twice " + JobConfigKeys.MAX_NEW_TOKENS.property()
                + "; raise " + JobConfigKeys.KV_MEMORY.property() + " or lower "
                + JobConfigKeys.MAX_NEW_TOKENS.property());
        }
        this.chunkCapacity = (int) capacity;
    }

    /** Document tokens per chunk at most. */
    public int chunkCapacity() {
        return chunkCapacity;
    }

    /** Tokens of {@code text} without BOS (0 for null). */
    public int countTokens(String text) {
        return text == null ? 0 : tokenizer.encode(text).length;
    }

    /**
     * The work a document of {@code tokens} tokens costs, in tokens: prompt tokens of every pass plus generated
     * tokens, counting the reduce pass of a chunked document. Used to balance partitions.
     */
    public long cost(int tokens) {
        int chunks = Chunker.bounds(tokens, chunkCapacity).length - 1;
        int overhead = prefix.length + suffix.length;
        long cost = tokens + (long) chunks * (overhead + config.maxNewTokens());
        if (chunks > 1) {
            cost += (long) chunks * config.maxNewTokens() + overhead + config.maxNewTokens();
        }
        return Math.max(1, cost);
    }

    /**
     * Summarises one document. Never throws for a bad document: a null id or text, a reader's {@code problem}, an
     * empty, binary or too large text (see {@link DocumentChecks}, {@code max-document-bytes},
     * {@code max-document-tokens}) or a failure inside the model gives a result with {@code error} set and
     * {@code summary} null.
     *
     * @param problem why the reader could not read the document, or null
     */
    public DocumentSummary summarize(long index, String id, String text, String problem) {
        long t0 = System.nanoTime();
        String rowId = id == null ? "#" + index : id;
        String sha = text == null ? null : ContentHash.sha256(text);
        if (id == null || id.isBlank()) {
            return failed(index, rowId, sha, 0, 0, t0, "missing id");
        }
        if (problem != null) {
            return failed(index, rowId, sha, 0, 0, t0, problem);
        }
        if (text == null) {
            return failed(index, rowId, sha, 0, 0, t0, "missing text");
        }
        if (text.isBlank()) {
            return failed(index, rowId, sha, 0, 0, t0, "empty document");
        }
        long bytes = DocumentChecks.utf8Length(text);
        if (bytes > config.maxDocumentBytes()) {
            return failed(index, rowId, sha, 0, 0, t0, DocumentChecks.tooLarge(bytes, config.maxDocumentBytes()));
        }
        String binary = DocumentChecks.binary(text);
        if (binary != null) {
            return failed(index, rowId, sha, 0, 0, t0, binary);
        }
        int inputTokens = 0;
        int chunks = 0;
        try {
            int[] tokens = tokenizer.encode(text);
            inputTokens = tokens.length;
            if (config.maxDocumentTokens() > 0 && tokens.length > config.maxDocumentTokens()) {
                return failed(index, rowId, sha, inputTokens, 0, t0, "document too long: " + tokens.length
                    + " tokens, over " + JobConfigKeys.MAX_DOCUMENT_TOKENS.property() + " = "
                    + config.maxDocumentTokens());
            }
            Timings timings = new Timings();
            long seed = config.seed() ^ Long.parseUnsignedLong(sha.substring(0, 16), 16);
            int[] bounds = Chunker.bounds(tokens.length, chunkCapacity);
            chunks = bounds.length - 1;
            int[] summary;
            int pass = 0;
            if (chunks == 1) {
                summary = generate(tokens, seed + pass, timings);
            } else {
                int[] body = tokens;
                int[] b = bounds;
                // Map: summarise each chunk in order; reduce: summarise the joined summaries, until one pass fits.
                while (true) {
                    List<int[]> bodies = new ArrayList<>();
                    for (int i = 0; i + 1 < b.length; i++) {
                        bodies.add(Arrays.copyOfRange(body, b[i], b[i + 1]));
                    }
                    List<String> parts = new ArrayList<>();
                    for (int[] part : generateAll(bodies, seed + pass, timings)) {
                        parts.add(tokenizer.decode(part).strip());
                    }
                    pass += bodies.size();
                    int previous = b.length - 1;
                    body = tokenizer.encode(String.join("\n", parts));
                    b = Chunker.bounds(body.length, chunkCapacity);
                    if (b.length == 2 || b.length - 1 >= previous) {
                        // Fits, or would not shrink (summaries re-tokenised a little longer than generated):
                        // the final pass reads what fits, in order.
                        summary = generate(Arrays.copyOf(body, Math.min(body.length, chunkCapacity)), seed + pass,
                            timings);
                        break;
                    }
                }
            }
            String out = tokenizer.decode(summary).strip();
            return new DocumentSummary(index, rowId, sha, configHash, out, inputTokens, summary.length, chunks, config.press(),
                config.budget(), timings.prefillNanos, timings.decodeNanos, System.nanoTime() - t0, null);
        } catch (GenerationInterruptedException e) {
            throw e; // the task is being killed (e.g. a losing speculative attempt): no error row
        } catch (RuntimeException e) {
            return failed(index, rowId, sha, inputTokens, chunks, t0, e.getClass().getSimpleName() + ": "
                + e.getMessage());
        }
    }

    /**
     * The calling thread was interrupted while its passes were generating (Spark kills a task this way); the
     * passes were cancelled, which frees their KV memory in the executor's engine.
     */
    public static final class GenerationInterruptedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        GenerationInterruptedException(InterruptedException cause) {
            super("interrupted while generating", cause);
        }
    }

    /**
     * The one call into the kernel: prompt = template prefix + {@code body} + template suffix; returns the
     * generated tokens without a final stop token. A KV-cache press plugs in here.
     */
    /**
     * The map step: every chunk's pass at once (they run concurrently in the executor's engine), results in chunk
     * order; pass i uses seed {@code firstSeed + i}. The timings add up each pass's own prefill and decode time, so
     * they exceed the wall time when passes overlap.
     */
    private List<int[]> generateAll(List<int[]> bodies, long firstSeed, Timings timings) {
        List<int[]> out = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            futures.add(submit(bodies.get(i), firstSeed + i));
        }
        try {
            for (java.util.concurrent.CompletableFuture<GenerationResult> f : futures) {
                out.add(tokensOf(await(f), timings));
            }
        } catch (RuntimeException e) {
            for (java.util.concurrent.CompletableFuture<GenerationResult> f : futures) {
                f.cancel(false); // no-op for finished passes; frees the engine of the others
            }
            throw e;
        }
        return out;
    }

    /** The executor's shared continuous-batching engine that greedy passes go to (created on first use). */
    public BatchEngine batchEngine() {
        return replica.engine(config.kvMemoryBytes(), MAX_BATCH, config.prefillBatch());
    }

    private java.util.concurrent.CompletableFuture<GenerationResult> submit(int[] body, long seed) {
        BatchEngine engine = batchEngine();
        // sampled or greedy, every request goes through the executor's engine, so its KV memory is admitted against
        // the executor's budget
        return engine.submit(new GenerationRequest("pass-" + seed, prompt(body), config.maxNewTokens(),
            t -> t == eos, press, seed, Sampler.of(config.temperature(), config.topP(), seed)));
    }

    private static GenerationResult await(java.util.concurrent.CompletableFuture<GenerationResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new GenerationInterruptedException(e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re
                : new IllegalStateException(e.getCause().toString(), e.getCause());
        }
    }

    private static int[] tokensOf(GenerationResult r, Timings timings) {
        timings.prefillNanos += r.prefillNanos();
        timings.decodeNanos += r.decodeNanos();
        int[] tokens = r.tokens();
        return r.stoppedByToken() ? Arrays.copyOf(tokens, tokens.length - 1) : tokens;
    }

    /** Template prefix + {@code body} + template suffix. */
    private int[] prompt(int[] body) {
        int[] prompt = new int[prefix.length + body.length + suffix.length];
        System.arraycopy(prefix, 0, prompt, 0, prefix.length);
        System.arraycopy(body, 0, prompt, prefix.length, body.length);
        System.arraycopy(suffix, 0, prompt, prefix.length + body.length, suffix.length);
        return prompt;
    }

    private int[] generate(int[] body, long seed, Timings timings) {
        return tokensOf(await(submit(body, seed)), timings);
    }

    private DocumentSummary failed(long index, String id, String sha, int inputTokens, int chunks, long t0,
                                   String error) {
        return new DocumentSummary(index, id, sha, configHash, null, inputTokens, 0, chunks, config.press(), config.budget(), 0,
            0, System.nanoTime() - t0, error);
    }

    /** Accumulated wall times of the passes of one document. */
    private static final class Timings {
        long prefillNanos;
        long decodeNanos;
    }
}
