package io.reviver.kernel.engine;

import io.reviver.kernel.cache.FloatArrayPool;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.sample.GreedySampler;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Continuous batching for one executor: requests from any number of threads enter a queue; one engine thread
 * admits a request when the KV bytes it may hold fit the executor's KV budget, prefills admitted sequences in
 * chunks (one chunk per iteration, so prefill and decode interleave and neither starves), compresses each with
 * its press after its prefill, and advances every decoding sequence by one token per iteration with
 * {@link LlamaModel#decodeBatch} (weights read once for all of them). Finished, failed and cancelled sequences
 * leave and release their bytes between iterations; a request that could never fit fails at once with
 * {@link RequestTooLargeException}.
 *
 * <p><b>Admission in bytes.</b> A sequence reserves its press's budget at its capacity (prompt + max tokens):
 * {@link KvPress#reservedBytes}; the cache never holds more after compression (the presses' contract). During its
 * prefill, a lossy press's cache holds the whole prompt uncompressed; that transient is reserved too until the
 * compression, and only one sequence prefills at a time, so the sum of all caches' bytes never exceeds the
 * budget. Thread-safe; {@link #close} finishes the queued work first.
 *
 * <p><b>Memory.</b> Lossless (dense) caches take their two arrays from the engine's {@link FloatArrayPool} and
 * give them back when the sequence leaves, so a stream of documents reuses the same KV memory; the pool keeps
 * only what the budget leaves free of live reservations, and a reused array is at most a quarter longer than
 * asked. A lossy press's cache is sized to its prompt once, shrunk once at compression, and a decode step
 * allocates nothing (a revival copies one entry). The decode loop itself allocates nothing per step.
 */
public final class BatchEngine implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(BatchEngine.class);

    /**
     * Engine settings.
     *
     * @param kvBudgetBytes bytes of KV cache all sequences of this executor may hold at once, ≥ 1
     * @param maxBatch      sequences decoded together at most, in [1, 4096]
     * @param prefillChunk  prompt tokens per prefill iteration, in [1, 4096]
     */
    public record Config(long kvBudgetBytes, int maxBatch, int prefillChunk) {
        public Config {
            if (kvBudgetBytes < 1) {
                throw new IllegalArgumentException("kvBudgetBytes must be ≥ 1, got " + kvBudgetBytes);
            }
            if (maxBatch < 1 || maxBatch > 4096) {
                throw new IllegalArgumentException("maxBatch must be in [1, 4096], got " + maxBatch);
            }
            if (prefillChunk < 1 || prefillChunk > 4096) {
                throw new IllegalArgumentException("prefillChunk must be in [1, 4096], got " + prefillChunk);
            }
        }
    }

    /**
     * Counters of the engine's life so far (a consistent snapshot).
     *
     * @param prefilledTokens prompt tokens run through prefill
     * @param prefillNanos    engine-thread time in prefill chunks (forward passes and compression)
     * @param decodeNanos     engine-thread time in batched decode steps
     */
    public record Stats(long admitted, long completed, long failed, long cancelled, long decodeSteps,
                        long decodedTokens, int maxConcurrent, double meanConcurrent, long peakReservedBytes,
                        long peakHeldBytes, long prefilledTokens, long prefillNanos, long decodeNanos) {
    }

    private final LlamaModel model;
    private final Config config;
    private final FloatArrayPool kvPool; // dense KV arrays recycled between sequences, at most the KV budget
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Sequence> queue = new ArrayDeque<>(); // guarded by lock
    private boolean closing;                                       // guarded by lock
    private final Thread thread;
    // engine-thread state
    private final List<Sequence> prefilling = new ArrayList<>();
    private final List<Sequence> decoding = new ArrayList<>();
    private final LlamaModel.State prefillState;
    private final LlamaModel.State decodeState;
    private final float[] decodeLogits;  // (maxBatch, vocabSize)
    private final KvCache[] batchCaches; // (maxBatch)
    private final int[] batchTokens;     // (maxBatch)
    private final int[] batchPositions;  // (maxBatch)
    private final Sequence[] finishedScratch; // (maxBatch) sequences finished by the current decode step
    private long reserved;               // bytes reserved by admitted sequences (engine thread; read under lock)
    // stats (guarded by lock)
    private long admitted;
    private long completed;
    private long failed;
    private long cancelled;
    private long decodeSteps;
    private long decodedTokens;
    private int maxConcurrent;
    private long concurrentSum;
    private long peakReserved;
    private long peakHeld;
    private long prefilledTokens;
    private long prefillNanosTotal;
    private long decodeNanosTotal;

    /** Starts the engine thread. The model is shared, not closed by the engine. */
    public BatchEngine(LlamaModel model, Config config) {
        this.model = model;
        this.config = config;
        this.kvPool = new FloatArrayPool(config.kvBudgetBytes());
        LlamaConfig c = model.config();
        this.prefillState = model.newState(config.prefillChunk());
        this.decodeState = model.newState(config.maxBatch());
        this.decodeLogits = new float[config.maxBatch() * c.vocabSize()];
        this.batchCaches = new KvCache[config.maxBatch()];
        this.batchTokens = new int[config.maxBatch()];
        this.batchPositions = new int[config.maxBatch()];
        this.finishedScratch = new Sequence[config.maxBatch()];
        this.thread = new Thread(this::loop, "reviver-batch-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** The settings. */
    public Config config() {
        return config;
    }

    /**
     * Queues a request. The future completes with the result, or exceptionally with
     * {@link RequestTooLargeException} (it can never fit the KV budget), {@link IllegalArgumentException} (bad
     * prompt for this model) or the failure that stopped it; cancelling it frees its memory at the next iteration.
     */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        CompletableFuture<GenerationResult> future = new CompletableFuture<>();
        LlamaConfig c = model.config();
        if (request.promptLength() > c.contextLength()) {
            future.completeExceptionally(new IllegalArgumentException("request " + request.id() + ": the prompt has "
                + request.promptLength() + " tokens, more than the context length " + c.contextLength()));
            return future;
        }
        int capacity = (int) Math.min(c.contextLength(), (long) request.promptLength() + request.maxTokens());
        PressContext ctx = model.pressContext(capacity, request.promptLength(), request.seed());
        long budget = request.press().reservedBytes(ctx);
        long transientBytes = request.press().isLossless() ? 0
            : (long) request.promptLength() * (ctx.entryFloatBytes() + KvPress.ENTRY_METADATA_BYTES) * c.nLayers()
            * c.nKvHeads();
        if (budget + transientBytes > config.kvBudgetBytes()) {
            future.completeExceptionally(new RequestTooLargeException("request " + request.id() + " needs "
                + budget + " bytes of KV cache under " + request.press().describe() + " plus " + transientBytes
                + " during its prefill, more than the executor's KV budget of " + config.kvBudgetBytes()
                + " bytes; raise the KV memory, lower the budget fraction or split the document"));
            return future;
        }
        Sequence s = new Sequence(request, ctx, budget, transientBytes, future);
        lock.lock();
        try {
            if (closing) {
                future.completeExceptionally(new IllegalStateException("the engine is closed"));
                return future;
            }
            queue.addLast(s);
            work.signalAll();
        } finally {
            lock.unlock();
        }
        return future;
    }

    /** Counters so far. */
    public Stats stats() {
        lock.lock();
        try {
            return new Stats(admitted, completed, failed, cancelled, decodeSteps, decodedTokens, maxConcurrent,
                decodeSteps == 0 ? 0 : concurrentSum / (double) decodeSteps, peakReserved, peakHeld, prefilledTokens,
                prefillNanosTotal, decodeNanosTotal);
        } finally {
            lock.unlock();
        }
    }

    /** Bytes reserved by admitted sequences now. */
    public long reservedBytes() {
        lock.lock();
        try {
            return reserved;
        } finally {
            lock.unlock();
        }
    }

    /** Finishes everything queued, then stops the engine thread. */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (true) {
            lock.lock();
            try {
                dropCancelled();
                admit();
                if (prefilling.isEmpty() && decoding.isEmpty()) {
                    if (closing && queue.isEmpty()) {
                        return;
                    }
                    work.awaitUninterruptibly();
                    continue;
                }
            } finally {
                lock.unlock();
            }
            try {
                if (!prefilling.isEmpty()) {
                    prefillChunk(prefilling.get(0));
                }
                if (!decoding.isEmpty()) {
                    decodeStep();
                }
            } catch (RuntimeException | Error e) {
                LOG.error("batch engine iteration failed", e);
                failAll(e);
            }
        }
    }

    /** Admits queued requests in order while their bytes fit (under lock; the head blocks those behind it). */
    private void admit() {
        while (!queue.isEmpty() && prefilling.isEmpty()
            && decoding.size() + prefilling.size() < config.maxBatch()) {
            Sequence s = queue.peekFirst();
            if (reserved + s.budget + s.transientBytes > config.kvBudgetBytes()) {
                return;
            }
            queue.pollFirst();
            reserved += s.budget + s.transientBytes;
            peakReserved = Math.max(peakReserved, reserved);
            admitted++;
            s.admittedAt = System.nanoTime();
            try {
                s.cache = s.request.press().newCache(s.ctx, kvPool);
            } catch (RuntimeException e) {
                release(s, s.budget + s.transientBytes);
                failed++;
                s.future.completeExceptionally(e);
                continue;
            }
            prefilling.add(s);
        }
    }

    /** Under lock: removes cancelled sequences and frees their bytes. */
    private void dropCancelled() {
        queue.removeIf(s -> {
            if (s.future.isCancelled()) {
                cancelled++;
                return true;
            }
            return false;
        });
        dropCancelled(prefilling);
        dropCancelled(decoding);
    }

    private void dropCancelled(List<Sequence> list) {
        for (int i = list.size() - 1; i >= 0; i--) {
            Sequence s = list.get(i);
            if (s.future.isCancelled()) {
                list.remove(i);
                reserved -= s.budget + (s.compressed ? 0 : s.transientBytes);
                releaseCache(s);
                cancelled++;
            }
        }
    }

    private void prefillChunk(Sequence s) {
        long t0 = System.nanoTime();
        try {
            prefillChunkTimed(s, t0);
        } finally {
            lock.lock();
            try {
                prefillNanosTotal += System.nanoTime() - t0;
            } finally {
                lock.unlock();
            }
        }
    }

    private void prefillChunkTimed(Sequence s, long t0) {
        try {
            int n = Math.min(config.prefillChunk(), s.request.promptLength() - s.prefilled);
            int[] tokens = s.request.prompt();
            boolean last = s.prefilled + n == tokens.length;
            model.forward(prefillState, s.cache, tokens, s.prefilled, n, s.prefilled, last ? s.logits : null, false);
            s.prefilled += n;
            lock.lock();
            try {
                prefilledTokens += n;
            } finally {
                lock.unlock();
            }
            if (last) {
                s.request.press().compress(s.cache, tokens, model.tokenRunner(prefillState));
                s.compressed = true;
                prefilling.remove(s);
                release(s, s.transientBytes);
                s.prefillNanos += System.nanoTime() - t0;
                s.decodeStart = System.nanoTime();
                if (!emit(s)) {
                    lock.lock();
                    try {
                        decoding.add(s);
                    } finally {
                        lock.unlock();
                    }
                }
                return;
            }
        } catch (RuntimeException e) {
            prefilling.remove(s);
            finishFailed(s, e);
            return;
        }
        s.prefillNanos += System.nanoTime() - t0;
    }

    /** Samples the next token of s from s.logits; returns true (and completes s) when s is finished. */
    private boolean emit(Sequence s) {
        if (s.request.maxTokens() == 0) {
            finish(s, false);
            return true;
        }
        int next = GreedySampler.argmax(s.logits);
        s.out[s.count++] = next;
        boolean stop = s.request.isStop().test(next);
        if (stop || s.count == s.request.maxTokens() || s.position() >= s.ctx.capacity()) {
            finish(s, stop);
            return true;
        }
        s.next = next;
        return false;
    }

    private void decodeStep() {
        long t0 = System.nanoTime();
        int b = decoding.size();
        for (int i = 0; i < b; i++) {
            Sequence s = decoding.get(i);
            batchCaches[i] = s.cache;
            batchTokens[i] = s.next;
            batchPositions[i] = s.position();
        }
        model.decodeBatch(decodeState, batchCaches, batchTokens, batchPositions, b, decodeLogits);
        long held = 0;
        int vocab = model.config().vocabSize();
        int finished = 0;
        for (int i = 0; i < b; i++) {
            Sequence s = decoding.get(i);
            System.arraycopy(decodeLogits, i * vocab, s.logits, 0, vocab);
            held += s.cache.bytes();
            if (emit(s)) {
                finishedScratch[finished++] = s;
            }
        }
        Arrays.fill(batchCaches, 0, b, null);
        lock.lock();
        try {
            for (int i = 0; i < finished; i++) {
                decoding.remove(finishedScratch[i]);
                finishedScratch[i] = null;
            }
            decodeSteps++;
            decodeNanosTotal += System.nanoTime() - t0;
            decodedTokens += b;
            concurrentSum += b;
            maxConcurrent = Math.max(maxConcurrent, b);
            peakHeld = Math.max(peakHeld, held);
        } finally {
            lock.unlock();
        }
    }

    private void finish(Sequence s, boolean stoppedByToken) {
        long now = System.nanoTime();
        GenerationResult r = new GenerationResult(s.request.id(), Arrays.copyOf(s.out, s.count),
            s.request.promptLength(), stoppedByToken, s.cache.bytes(), s.budget, s.admittedAt - s.submittedAt,
            s.prefillNanos, now - s.decodeStart);
        release(s, s.budget);
        lock.lock();
        try {
            completed++;
        } finally {
            lock.unlock();
        }
        releaseCache(s);
        s.future.complete(r);
    }

    /** Gives the sequence's KV memory back to the pool (engine thread; the cache is not in a batch any more). */
    private void releaseCache(Sequence s) {
        if (s.cache != null) {
            long live;
            lock.lock();
            try {
                live = reserved;
            } finally {
                lock.unlock();
            }
            s.cache.release(Math.max(0, config.kvBudgetBytes() - live)); // pooled + live stay near the budget
            s.cache = null;
        }
    }

    /** The pool that recycles the sequences' dense KV arrays (for tests and metrics). */
    public FloatArrayPool kvPool() {
        return kvPool;
    }

    private void finishFailed(Sequence s, Throwable e) {
        release(s, s.budget + (s.compressed ? 0 : s.transientBytes));
        lock.lock();
        try {
            failed++;
        } finally {
            lock.unlock();
        }
        releaseCache(s);
        s.future.completeExceptionally(e);
    }

    private void failAll(Throwable e) {
        List<Sequence> all = new ArrayList<>(prefilling);
        all.addAll(decoding);
        lock.lock();
        try {
            prefilling.clear();
            decoding.clear();
        } finally {
            lock.unlock();
        }
        for (Sequence s : all) {
            finishFailed(s, e);
        }
    }

    private void release(Sequence s, long bytes) {
        lock.lock();
        try {
            reserved -= bytes;
        } finally {
            lock.unlock();
        }
    }


    /** One request's state in the engine. */
    private final class Sequence {
        final GenerationRequest request;
        final PressContext ctx;
        final long budget;
        final long transientBytes;
        final CompletableFuture<GenerationResult> future;
        final long submittedAt = System.nanoTime();
        final float[] logits;  // (vocabSize) the latest next-token logits
        final int[] out;       // (maxTokens) generated ids
        KvCache cache;
        boolean compressed;
        int prefilled;
        int count;
        int next;
        long admittedAt;
        long prefillNanos;
        long decodeStart;

        Sequence(GenerationRequest request, PressContext ctx, long budget, long transientBytes,
                 CompletableFuture<GenerationResult> future) {
            this.request = request;
            this.ctx = ctx;
            this.budget = budget;
            this.transientBytes = transientBytes;
            this.future = future;
            this.logits = new float[model.config().vocabSize()];
            this.out = new int[Math.max(1, request.maxTokens())];
        }

        /** The position the next token goes to. */
        int position() {
            return request.promptLength() + count - 1;
        }
    }
}
