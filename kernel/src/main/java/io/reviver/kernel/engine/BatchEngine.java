package io.reviver.kernel.engine;

import io.reviver.kernel.cache.FloatArrayPool;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
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
 * chunks (one pass of at most {@code prefillChunk} prompt rows per iteration, so prefill and decode interleave and
 * neither starves; when one sequence's prompt ends inside a pass, the next sequences' prompts fill it, all rows in
 * one product per weight matrix, see {@link LlamaModel#forwardChunks}), compresses each with its press after its
 * prefill (a scoring pass, such as KVzip's re-read, one step per iteration, alternating with prompt passes), and
 * advances every decoding sequence by one token per iteration with {@link LlamaModel#decodeBatch} (weights read
 * once for all of them). Finished, failed and cancelled sequences
 * leave and release their bytes between iterations; a request that could never fit fails at once with
 * {@link RequestTooLargeException}.
 *
 * <p><b>Admission in bytes.</b> A sequence reserves its press's budget at its capacity (prompt + max tokens):
 * {@link KvPress#reservedBytes}; the cache never takes more after compression (the presses' contract). During its
 * prefill, a lossy press's cache holds the whole prompt (and a scoring pass's entries) uncompressed; that
 * transient, {@link KvPress#transientBytes}, is reserved too until the compression. A request is admitted to
 * prefill only while the prompts already prefilling leave rows of the next pass unused, so several sequences hold
 * their transient at once only when their prompts are short, or when sequences wait for or run a scoring pass
 * (those do not take rows of prompt passes: with KVzip's long re-reads several may hold their transient while
 * the next prompts are prefilled, each charged for it). The arrays pooled for reuse count against the same
 * budget, so the KV memory of live caches and the pool together stays within it ({@link Stats#peakAllocatedBytes}
 * measures it). Thread-safe; {@link #close} finishes the queued work first.
 *
 * <p><b>Failures.</b> A request fails alone when its prompt is bad, its cache cannot be allocated (out of memory
 * included) or its stop condition throws; a failure inside a batched forward pass fails the sequences of that
 * iteration, and the engine goes on. Each sequence releases its bytes exactly once. Should the engine thread itself
 * end, every queued request fails and {@link #submit} refuses new ones, so no caller waits forever.
 *
 * <p><b>Memory.</b> Caches take their large float arrays from the engine's {@link FloatArrayPool}: a dense cache
 * its two, a lossy cache each head's keys and values, sized to the prompt for its prefill and to the budget after
 * compression (which gives the prompt-sized ones back). They return to the pool when the sequence leaves, so a
 * stream of documents reuses the same KV memory; the pool keeps only what the budget leaves free of live
 * reservations, and a reused array is at most a quarter longer than asked (the sequence is charged for the
 * excess). A decode step allocates no KV memory (a revival copies one entry).
 */
public final class BatchEngine implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(BatchEngine.class);

    /**
     * Engine settings.
     *
     * @param kvBudgetBytes bytes of KV cache all sequences of this executor may hold at once, ≥ 1
     * @param maxBatch      sequences decoded together at most, in [1, 4096]
     * @param prefillChunk  prompt tokens per prefill pass (of one sequence or several), in [1, 4096]
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
     * @param peakAllocatedBytes the most KV memory measured at once: the arrays of every live cache at their
     *                        allocated sizes (resizes' transient copies included) plus the pool's arrays; an upper
     *                        bound, sampled after every admission, prefill chunk and decode step
     * @param compressionSteps iterations spent compressing prompts: one per sequence, plus one per step of a
     *                        scoring pass (KVzip's re-read runs one chunk per iteration, between decode steps)
     * @param promptPasses    forward passes over prompt chunks
     * @param packedPromptPasses those of them that carried the chunks of several sequences
     */
    public record Stats(long admitted, long completed, long failed, long cancelled, long decodeSteps,
                        long decodedTokens, int maxConcurrent, double meanConcurrent, long peakReservedBytes,
                        long peakHeldBytes, long prefilledTokens, long prefillNanos, long decodeNanos,
                        long peakAllocatedBytes, long compressionSteps, long promptPasses,
                        long packedPromptPasses) {
    }

    private final LlamaModel model;
    private final Config config;
    private final FloatArrayPool kvPool; // KV arrays recycled between sequences, at most the KV budget
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Sequence> queue = new ArrayDeque<>(); // guarded by lock
    private boolean closing;                                       // guarded by lock
    private Throwable stoppedBy;                                   // guarded by lock: why the engine thread ended
    private final Thread thread;
    // engine-thread state
    private final List<Sequence> prefilling = new ArrayList<>();
    private final List<Sequence> decoding = new ArrayList<>();
    private final LlamaModel.State prefillState;
    private boolean lastWorkWasPrompt;   // the last prefill work was a prompt pass (not a compression step)
    private final Sequence[] packSeqs;   // (min(prefillChunk, maxBatch)) the sequences of the current prompt pass
    private final KvCache[] packCaches;  // (min(prefillChunk, maxBatch)) their caches
    private final int[][] packTokens;    // (min(prefillChunk, maxBatch)) their prompts
    private final int[] packOffs;        // (min(prefillChunk, maxBatch)) first prompt token of each one's chunk
    private final int[] packCounts;      // (min(prefillChunk, maxBatch)) rows of each one's chunk
    private final float[][] packLogits;  // (min(prefillChunk, maxBatch)) where each one's last logits go, or null
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
    private long peakAllocated;
    private long compressionSteps;
    private long promptPasses;
    private long packedPromptPasses;

    /** Starts the engine thread. The model is shared, not closed by the engine. */
    public BatchEngine(LlamaModel model, Config config) {
        this.model = model;
        this.config = config;
        this.kvPool = new FloatArrayPool(config.kvBudgetBytes());
        LlamaConfig c = model.config();
        this.prefillState = model.newState(config.prefillChunk());
        int pack = Math.min(config.prefillChunk(), config.maxBatch()); // sequences in one prompt pass at most
        this.packSeqs = new Sequence[pack];
        this.packCaches = new KvCache[pack];
        this.packTokens = new int[pack][];
        this.packOffs = new int[pack];
        this.packCounts = new int[pack];
        this.packLogits = new float[pack][];
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
        long transientBytes = request.press().transientBytes(ctx);
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
            if (stoppedBy != null) {
                future.completeExceptionally(new IllegalStateException("the batch engine stopped: " + stoppedBy,
                    stoppedBy));
                return future;
            }
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
                prefillNanosTotal, decodeNanosTotal, peakAllocated, compressionSteps, promptPasses,
                packedPromptPasses);
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
        try {
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
                        prefillWork();
                        noteAllocated();
                    }
                    if (!decoding.isEmpty()) {
                        decodeStep();
                        noteAllocated();
                    }
                } catch (Throwable e) { // out of memory included: failing the live sequences frees their caches
                    LOG.error("batch engine iteration failed; failing its " + (prefilling.size() + decoding.size())
                        + " live sequences", e);
                    failAll(e);
                }
            }
        } catch (Throwable e) {
            LOG.error("batch engine stopped", e);
            stop(e);
        }
    }

    /**
     * The engine thread cannot go on: every queued and live request fails with {@code cause}, and {@link #submit}
     * refuses new ones, so no caller waits for an engine that is gone.
     */
    private void stop(Throwable cause) {
        List<Sequence> queued;
        lock.lock();
        try {
            stoppedBy = cause;
            queued = new ArrayList<>(queue);
            queue.clear();
        } finally {
            lock.unlock();
        }
        IllegalStateException e = new IllegalStateException("the batch engine stopped: " + cause, cause);
        for (Sequence s : queued) {
            s.future.completeExceptionally(e);
        }
        failAll(e);
    }

    /**
     * Admits queued requests in order while their bytes fit (under lock; the head blocks those behind it). The
     * pool's arrays count against the budget too: it keeps only what the live reservations and the newcomer leave
     * free. A pooled array may be up to a quarter longer than asked; the newcomer is charged what its cache really
     * took (the excess came out of the pool, so live + pooled bytes stay within the budget).
     */
    private void admit() {
        while (!queue.isEmpty() && promptRowsPending() < config.prefillChunk()
            && decoding.size() + prefilling.size() < config.maxBatch()) {
            Sequence s = queue.peekFirst();
            long need = s.budget + s.transientBytes;
            if (reserved + need > config.kvBudgetBytes()) {
                return;
            }
            queue.pollFirst();
            charge(s, need); // (which trims the pool to what the live reservations and the newcomer leave free)
            admitted++;
            s.admittedAt = System.nanoTime();
            prefilling.add(s); // from here on, whatever happens to the engine completes s
            try {
                s.cache = s.request.press().newCache(s.ctx, kvPool);
            } catch (Throwable e) { // e.g. out of memory: this request fails, the engine goes on
                LOG.warn("request " + s.request.id() + ": no KV cache: " + e);
                prefilling.remove(s);
                finishFailed(s, e);
                continue;
            }
            long extra = s.cache.allocatedBytes() - need;
            if (extra > 0) {
                charge(s, extra);
            }
            noteAllocated();
        }
    }

    /** Prompt rows the sequences in their prompt phase have left to prefill. */
    private long promptRowsPending() {
        long rows = 0;
        for (Sequence s : prefilling) {
            if (s.compression == null) {
                rows += s.request.promptLength() - s.prefilled;
            }
        }
        return rows;
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
                if (retire(s)) {
                    cancelled++;
                }
            }
        }
    }

    /**
     * One iteration's prefill work: a pass over prompt chunks, or one step of a compression (a scoring pass's
     * chunk, or the compression itself), alternating when both wait so that neither starves.
     */
    private void prefillWork() {
        long t0 = System.nanoTime();
        try {
            Sequence compressing = null;
            boolean prompts = false;
            for (Sequence s : prefilling) {
                if (s.compression != null) {
                    compressing = compressing == null ? s : compressing;
                } else {
                    prompts = true;
                }
            }
            if (compressing != null && (!prompts || lastWorkWasPrompt)) {
                lastWorkWasPrompt = false;
                compressionStep(compressing, t0);
            } else if (prompts) {
                lastWorkWasPrompt = true;
                promptPass(t0);
            }
        } finally {
            lock.lock();
            try {
                prefillNanosTotal += System.nanoTime() - t0;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * One forward pass over the next prompt chunks of the sequences in their prompt phase, in admission order, up
     * to {@code prefillChunk} rows in all ({@link LlamaModel#forwardChunks}: a sequence gets the same bits as
     * prefilled alone). Each sequence is charged a share of the pass's time by its rows. A sequence whose prompt is
     * done starts its compression (at once when the press has no scoring pass).
     */
    private void promptPass(long t0) {
        int k = 0;
        int rows = 0;
        for (int i = 0; i < prefilling.size() && rows < config.prefillChunk(); i++) {
            Sequence s = prefilling.get(i);
            if (s.compression != null) {
                continue;
            }
            if (s.prefilled == 0) {
                IllegalArgumentException bad = badToken(s);
                if (bad != null) { // this request fails alone, before it shares a pass
                    prefilling.remove(i--);
                    finishFailed(s, bad);
                    continue;
                }
            }
            int n = Math.min(config.prefillChunk() - rows, s.request.promptLength() - s.prefilled);
            packSeqs[k] = s;
            packCaches[k] = s.cache;
            packTokens[k] = s.request.promptArray();
            packOffs[k] = s.prefilled;
            packCounts[k] = n;
            packLogits[k] = s.prefilled + n == s.request.promptLength() ? s.logits : null;
            rows += n;
            k++;
        }
        if (k == 0) {
            return;
        }
        int seqs = k;
        try {
            model.forwardChunks(prefillState, packCaches, packTokens, packOffs, packCounts, seqs, packLogits);
        } catch (RuntimeException e) { // not a request's bad input (checked above): the pass's sequences fail
            for (int i = 0; i < seqs; i++) {
                prefilling.remove(packSeqs[i]);
                finishFailed(packSeqs[i], e);
                packSeqs[i] = null;
            }
            return;
        } finally {
            Arrays.fill(packCaches, 0, seqs, null);
            Arrays.fill(packTokens, 0, seqs, null);
            Arrays.fill(packLogits, 0, seqs, null);
        }
        Sequence[] pass = Arrays.copyOf(packSeqs, seqs); // the pass's sequences, by position in it
        Arrays.fill(packSeqs, 0, seqs, null);
        long nanos = System.nanoTime() - t0;
        int total = rows;
        underLock(() -> {
            prefilledTokens += total;
            promptPasses++;
            if (seqs > 1) {
                packedPromptPasses++;
            }
        });
        for (int i = 0; i < seqs; i++) {
            Sequence s = pass[i];
            s.prefilled += packCounts[i];
            s.prefillNanos += nanos * packCounts[i] / total;
            if (s.prefilled < s.request.promptLength()) {
                continue;
            }
            long t1 = System.nanoTime();
            try {
                s.compression = s.request.press().compression(s.cache, s.request.promptArray(),
                    model.tokenRunner(prefillState));
            } catch (RuntimeException e) {
                prefilling.remove(s);
                finishFailed(s, e);
                continue;
            }
            if (s.compression.scoringSteps() == 0) { // no scoring pass: compress now
                compressionStep(s, t1);
            }
        }
    }

    /** The request's first token id outside the model's vocabulary, as the error that fails it; else null. */
    private IllegalArgumentException badToken(Sequence s) {
        try {
            model.checkTokens(s.request.promptArray(), 0, s.request.promptLength(), 0);
            return null;
        } catch (IllegalArgumentException e) {
            return new IllegalArgumentException("request " + s.request.id() + ": " + e.getMessage(), e);
        }
    }

    /** One step of s's compression: a step of its scoring pass, or (after the last) the compression itself. */
    private void compressionStep(Sequence s, long t0) {
        try {
            boolean done = s.compression.step();
            underLock(() -> compressionSteps++);
            if (done) {
                prefillDone(s, t0);
            } else {
                s.prefillNanos += System.nanoTime() - t0;
            }
        } catch (RuntimeException e) {
            prefilling.remove(s);
            finishFailed(s, e);
        }
    }

    /** s is compressed: its prompt's transient is released, and it emits its first token and starts decoding. */
    private void prefillDone(Sequence s, long t0) {
        s.compression = null;
        noteAllocated(); // now, while the pool holds what the compression gave back (within its ceiling)
        lock.lock();
        try {
            // keep charging what the compressed cache's arrays take, at least its reservation
            uncharge(s, Math.max(s.budget, s.cache.allocatedBytes())); // (which also resets the pool's ceiling)
            prefilling.remove(s);
        } finally {
            lock.unlock();
        }
        s.prefillNanos += System.nanoTime() - t0;
        s.decodeStart = System.nanoTime();
        boolean finished;
        try {
            finished = emit(s);
        } catch (Throwable e) { // s is in no list now: fail it here, or nothing would (out of memory included)
            finishFailed(s, e);
            return;
        }
        if (!finished) {
            lock.lock();
            try {
                decoding.add(s);
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Picks the next token of s from s.logits (its request's sampler); returns true (and completes s) when s is
     * finished.
     */
    private boolean emit(Sequence s) {
        if (s.request.maxTokens() == 0) {
            finish(s, false);
            return true;
        }
        int next = s.request.sampler().sample(s.logits);
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
        try {
            model.decodeBatch(decodeState, batchCaches, batchTokens, batchPositions, b, decodeLogits);
        } finally {
            Arrays.fill(batchCaches, 0, b, null);
        }
        long held = 0;
        int vocab = model.config().vocabSize();
        int finished = 0;
        for (int i = 0; i < b; i++) {
            Sequence s = decoding.get(i);
            System.arraycopy(decodeLogits, i * vocab, s.logits, 0, vocab);
            held += s.cache.bytes();
            boolean done;
            try {
                done = emit(s);
            } catch (RuntimeException e) { // e.g. the request's stop condition threw: only this request fails
                finishFailed(s, e);
                done = true;
            }
            if (done) {
                finishedScratch[finished++] = s;
            }
        }
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

    /** Completes s with its tokens (once; later calls do nothing). */
    private void finish(Sequence s, boolean stoppedByToken) {
        if (s.done) {
            return;
        }
        long kvBytes = s.cache.bytes();
        retire(s);
        GenerationResult r;
        try {
            r = new GenerationResult(s.request.id(), Arrays.copyOf(s.out, s.count), s.request.promptLength(),
                stoppedByToken, kvBytes, s.budget, s.admittedAt - s.submittedAt, s.prefillNanos,
                System.nanoTime() - s.decodeStart);
        } catch (Throwable e) { // not even the result fits in memory: the request fails rather than hangs
            countFailed();
            s.future.completeExceptionally(e);
            return;
        }
        lock.lock();
        try { // counted before the caller can see the result, so its stats() include it
            if (s.future.isCancelled()) {
                cancelled++;
            } else {
                completed++;
            }
        } finally {
            lock.unlock();
        }
        s.future.complete(r);
    }

    /** Fails s with e (once; later calls, or a call after {@link #finish}, do nothing). */
    private void finishFailed(Sequence s, Throwable e) {
        if (retire(s)) {
            countFailed();
            s.future.completeExceptionally(e);
        }
    }

    private void countFailed() {
        underLock(() -> failed++);
    }

    /** Runs {@code update} (of the counters) holding the engine's lock. */
    private void underLock(Runnable update) {
        lock.lock();
        try {
            update.run();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends s's life in the engine once: releases every byte charged to it and gives its KV memory back to the
     * pool. Returns false when s had already ended.
     */
    private boolean retire(Sequence s) {
        if (s.done) {
            return false;
        }
        s.done = true;
        uncharge(s, 0);
        if (s.cache != null) {
            s.cache.release(); // the pool keeps only what its ceiling (budget minus live reservations) allows
            s.cache = null;
        }
        return true;
    }

    /** The pool that recycles the sequences' KV arrays (for tests and metrics). */
    public FloatArrayPool kvPool() {
        return kvPool;
    }

    private void failAll(Throwable e) {
        List<Sequence> all = new ArrayList<>(prefilling);
        all.addAll(decoding);
        lock.lock();
        try {
            prefilling.clear();
            decoding.clear();
            Arrays.fill(finishedScratch, null);
        } finally {
            lock.unlock();
        }
        for (Sequence s : all) {
            try {
                finishFailed(s, e);
            } catch (Throwable again) { // the others must still be failed
                LOG.error("failing request " + s.request.id() + " failed", again);
            }
        }
    }

    /**
     * Adds bytes to s's charge and to the reserved total, and lowers the pool's ceiling to what the budget leaves
     * free (so an array a cache gives back by itself mid-sequence cannot take pool and live arrays past the budget).
     */
    private void charge(Sequence s, long bytes) {
        lock.lock();
        try {
            s.charge += bytes;
            reserved += bytes;
            peakReserved = Math.max(peakReserved, reserved);
            kvPool.ceiling(config.kvBudgetBytes() - reserved);
        } finally {
            lock.unlock();
        }
    }

    /** Lowers s's charge to {@code to} bytes (never raises it), and the reserved total with it; raises the ceiling. */
    private void uncharge(Sequence s, long to) {
        lock.lock();
        try {
            long drop = Math.max(0, s.charge - to);
            s.charge -= drop;
            reserved -= drop;
            kvPool.ceiling(config.kvBudgetBytes() - reserved);
        } finally {
            lock.unlock();
        }
    }

    /** Engine thread: samples the KV memory held now (live caches' arrays at their peaks, plus the pool). */
    private void noteAllocated() {
        long total = kvPool.pooledBytes();
        for (Sequence s : prefilling) {
            total += s.cache == null ? 0 : s.cache.takeAllocatedPeak();
        }
        for (Sequence s : decoding) {
            total += s.cache == null ? 0 : s.cache.takeAllocatedPeak();
        }
        lock.lock();
        try {
            peakAllocated = Math.max(peakAllocated, total);
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
        KvPress.Compression compression; // after the prompt's last chunk, until compressed
        long charge;           // bytes of `reserved` this sequence holds now (guarded by lock)
        boolean done;          // completed, failed or cancelled; its bytes are released (engine thread)
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
