package io.reviver.kernel.press;

import io.reviver.kernel.cache.DenseKvCache;
import io.reviver.kernel.cache.FloatArrayPool;
import io.reviver.kernel.cache.KvCache;

/**
 * A press: the policy deciding which KV entries of each (layer, KV head) stay exact when a sequence's cache is
 * compressed to a budget. The mechanism lives in the framework ({@link PressedKvCache}): prefill into a full
 * cache while recording the attention statistic the press asks for, one {@link #compress} call after prefill
 * that keeps the top entries per head by the press's score (sinks and a recent window protected), and during
 * decode the eviction of the lowest-scoring entry whenever a head outgrows its share of the budget. A reversible
 * press ({@link KvReviverPress}) additionally keeps evicted entries in a {@link VagueStore} from which they are
 * reconstructed inside attention.
 *
 * <p><b>Budget.</b> {@link #budget()} is the fraction of the full float32 cache's bytes at the sequence's
 * capacity (prompt + new tokens) that the press may hold, counting everything it keeps: key and value floats,
 * each entry's position and score (4 + 4 bytes), sketches and bitmaps. Each (layer, KV head) gets an equal
 * share. A budget of 1 (or more) means no eviction at all: the press is then identical to {@link FullPress}.
 * Between the end of prefill and {@link #compress} the cache briefly holds the whole prompt.
 *
 * <p>A subclass says only how it scores; see each press's Javadoc for the paper and its defaults. Instances are
 * immutable and thread-safe; all per-sequence state lives in the caches they make.
 */
public abstract class KvPress {

    /** Bytes of metadata per exact entry: its absolute position (int) and its score (float). */
    public static final int ENTRY_METADATA_BYTES = 8;

    /** How the cache accumulates the attention weights it observes into each entry's score. */
    public enum Accumulation {
        /** Scores are not fed by attention. */
        NONE,
        /** score += mean over the group's query heads of the weight, for every query (H2O). */
        SUM,
        /** Like SUM, but only for prompt queries in the last {@link #observationWindow()} positions (SnapKV). */
        WINDOW_SUM,
        /** score = mean weight given by the latest query (TOVA). */
        LAST,
        /** score = max over query heads and queries, only during a scoring pass (KVzip). */
        MAX
    }

    private final double budget;

    /** @throws IllegalArgumentException unless 0 < budget ≤ 1 */
    protected KvPress(double budget) {
        if (!(budget > 0 && budget <= 1)) {
            throw new IllegalArgumentException("budget must be in (0, 1] (the fraction of the full cache's bytes kept), "
                + "got " + budget);
        }
        this.budget = budget;
    }

    /** Registry name, e.g. {@code snapkv}. */
    public abstract String name();

    /** The kept fraction of the full cache's bytes, in (0, 1]. */
    public final double budget() {
        return budget;
    }

    /** Name, budget and parameters, for logs and reports. */
    public String describe() {
        return name() + "@" + budget;
    }

    /** Whether nothing is ever evicted (budget 1 or the full press). */
    public boolean isLossless() {
        return budget >= 1.0;
    }

    /**
     * The bytes a cache made by this press for {@code ctx} may take after compression: the full cache's bytes
     * when lossless, otherwise (the budget per head + one entry) × heads: {@link PressedKvCache#budgetBytes} bounds
     * the entries and sketches it holds ({@link KvCache#bytes()}), and its arrays keep one more slot
     * ({@link KvCache#allocatedBytes()}).
     */
    public long reservedBytes(PressContext ctx) {
        if (isLossless()) {
            return ctx.fullBytes();
        }
        // the budget of every head, plus the one entry a head holds beyond its exact capacity while a decode step
        // appends before it evicts
        return ((long) Math.floor(budget * ctx.fullBytesPerHead()) + entryBytes(ctx)) * ctx.nLayers()
            * ctx.nKvHeads();
    }

    /**
     * Bytes a cache under this press holds beyond {@link #reservedBytes} until {@link #compress} shrinks it: a
     * lossy press's cache keeps the whole prompt (and a scoring pass's entries, {@link #scoringEntries}) exact
     * until then; 0 for a lossless press.
     */
    public long transientBytes(PressContext ctx) {
        if (isLossless()) {
            return 0;
        }
        return (ctx.promptLength() + 1L + scoringEntries(ctx)) * entryBytes(ctx) * ctx.nLayers() * ctx.nKvHeads();
    }

    /** Bytes of one exact entry of one head: its key and value plus {@link #ENTRY_METADATA_BYTES}. */
    static long entryBytes(PressContext ctx) {
        return ctx.entryFloatBytes() + ENTRY_METADATA_BYTES;
    }

    /**
     * Entries a head appends beyond the prompt before compression, e.g. a scoring pass's re-read tokens (they are
     * dropped afterwards); the cache makes room for them up front. 0 unless the press has a scoring pass.
     */
    protected int scoringEntries(PressContext ctx) {
        return 0;
    }

    /** A cache for one sequence: dense when lossless, otherwise a {@link PressedKvCache} under this press. */
    public KvCache newCache(PressContext ctx) {
        return newCache(ctx, null);
    }

    /**
     * A cache for one sequence whose large float arrays (a dense cache's two, or each head's keys and values of a
     * lossy one) come from {@code pool} (null: allocated); the owner calls {@link KvCache#release()} when the
     * sequence ends. A lossy cache also gives its prompt-sized arrays back at compression.
     */
    public KvCache newCache(PressContext ctx, FloatArrayPool pool) {
        if (isLossless()) {
            return new DenseKvCache(ctx.nLayers(), ctx.nKvHeads(), ctx.headSize(), ctx.capacity(), pool);
        }
        return new PressedKvCache(this, ctx, pool);
    }

    /**
     * The one named compression point, called after prefill: runs the press's scoring pass if it has one, then
     * compresses {@code cache} to the budget. A dense cache (lossless press) is left as it is.
     *
     * @param prompt the prompt's token ids (for presses that re-read the context)
     * @param runner runs extra tokens through the model against the cache (for scoring passes)
     */
    public final void compress(KvCache cache, int[] prompt, TokenRunner runner) {
        Compression c = compression(cache, prompt, runner);
        while (!c.step()) {
            // each step is one chunk of the scoring pass; the last compresses
        }
    }

    /**
     * {@link #compress(KvCache, int[], TokenRunner)} in steps, so a caller can interleave other work (an engine's
     * decode steps) with a long scoring pass: each {@link Compression#step} runs one step of the press's scoring
     * pass (KVzip: one chunk of its re-read), and the last one compresses. The same result as {@code compress}.
     */
    public final Compression compression(KvCache cache, int[] prompt, TokenRunner runner) {
        if (cache instanceof PressedKvCache pressed) {
            if (pressed.press() != this) {
                throw new IllegalArgumentException("cache was made by press " + pressed.press().describe()
                    + ", not " + describe());
            }
            return new Compression(pressed, prompt, runner, scoringSteps(pressed, prompt, runner));
        }
        return new Compression(null, prompt, runner, 0);
    }

    /** A compression under way (see {@link #compression}). Not thread-safe. */
    public final class Compression {
        private final PressedKvCache cache; // null: nothing to compress (a dense cache)
        private final int[] prompt;
        private final TokenRunner runner;
        private final int steps;
        private int next;
        private boolean done;

        private Compression(PressedKvCache cache, int[] prompt, TokenRunner runner, int steps) {
            this.cache = cache;
            this.prompt = prompt;
            this.runner = runner;
            this.steps = steps;
        }

        /** Scoring steps before the compression itself. */
        public int scoringSteps() {
            return steps;
        }

        /**
         * Runs the next scoring step, or, after the last, the compression; returns true once the cache is
         * compressed (then further calls do nothing).
         */
        public boolean step() {
            if (done) {
                return true;
            }
            if (cache != null && next < steps) {
                scoringStep(cache, prompt, runner, next++);
                return false;
            }
            if (cache != null) {
                cache.compressNow();
            }
            done = true;
            return true;
        }
    }

    /**
     * Compresses a recorded prefill under this press, exactly as {@link #compress(KvCache, int[], TokenRunner)}
     * would have after this press observed the prefill itself (for presses with a scoring pass, run it on the
     * record first with {@link PrefillRecord#runScoringPass}). The record is not modified.
     *
     * @param ctx the sequence (its prompt length must be the record's)
     * @return a new cache ready for decode: dense for a lossless press
     */
    public final KvCache compress(PrefillRecord record, PressContext ctx) {
        if (isLossless()) {
            DenseKvCache d = new DenseKvCache(ctx.nLayers(), ctx.nKvHeads(), ctx.headSize(), ctx.capacity());
            int n = record.recorded();
            float[] k = new float[n * ctx.headSize()];
            float[] v = new float[n * ctx.headSize()];
            float[] rowK = new float[ctx.nKvHeads() * ctx.headSize()];
            float[] rowV = new float[ctx.nKvHeads() * ctx.headSize()];
            float[][] ks = new float[ctx.nKvHeads()][];
            float[][] vs = new float[ctx.nKvHeads()][];
            for (int l = 0; l < ctx.nLayers(); l++) {
                for (int g = 0; g < ctx.nKvHeads(); g++) {
                    record.readHead(l, g, k, v);
                    ks[g] = k.clone();
                    vs[g] = v.clone();
                }
                for (int p = 0; p < n; p++) {
                    for (int g = 0; g < ctx.nKvHeads(); g++) {
                        System.arraycopy(ks[g], p * ctx.headSize(), rowK, g * ctx.headSize(), ctx.headSize());
                        System.arraycopy(vs[g], p * ctx.headSize(), rowV, g * ctx.headSize(), ctx.headSize());
                    }
                    d.append(l, p, rowK, 0, rowV, 0);
                }
            }
            return d;
        }
        PressedKvCache cache = new PressedKvCache(this, ctx, record);
        cache.compressNow();
        return cache;
    }

    /** Runs extra tokens through the model on a cache, for a press's scoring pass. */
    public interface TokenRunner {
        /** Runs {@code tokens} at positions {@code [startPos, startPos + tokens.length)}, appending to the cache. */
        void run(KvCache cache, int[] tokens, int startPos);

        /** The model's context length: the largest position + 1 a scoring pass may use. */
        int contextLength();
    }

    // ---- what a press says about itself (defaults: nothing) ----

    /** The attention statistic this press's scores need. */
    protected Accumulation accumulation() {
        return Accumulation.NONE;
    }

    /** Prompt queries whose attention {@link Accumulation#WINDOW_SUM} accumulates. */
    protected int observationWindow() {
        return 0;
    }

    /** First positions never evicted (attention sinks). */
    protected int sinks() {
        return 0;
    }

    /** Most recent entries never evicted, given the head's exact capacity. */
    protected int recentWindow(int exactCapacity) {
        return 0;
    }

    /** Score of an entry when it is appended, from its key (headSize floats at {@code off}). */
    protected float appendScore(float[] key, int off, int headSize) {
        return 0f;
    }

    /**
     * The ranking score of exact entry {@code i} of a head (higher = keep), when the newest position is
     * {@code newest}. Default: the stored score.
     */
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return h.score[i];
    }

    /**
     * For presses that score only the prompt: the stored score of a prompt entry, and +∞ for an entry appended
     * after the prompt (kept over every prompt entry until the head must evict one of them).
     */
    protected static float promptScoreRank(PressedKvCache.HeadStore h, int i, int promptLength) {
        return h.position(i) >= promptLength ? Float.POSITIVE_INFINITY : h.score(i);
    }

    /** Hook before a head is compressed, e.g. to replace its scores by a computed importance. */
    protected void beforeCompress(PressedKvCache.HeadStore h, int layer, int kvHead, PressContext ctx) {
    }

    /**
     * Exact entries a head keeps at compression, at most {@code exactCapacity} (the budget's); a calibrated press
     * may keep fewer for a document that needs fewer. Called after {@link #beforeCompress}.
     */
    protected int keepCount(PressedKvCache.HeadStore h, int exactCapacity) {
        return exactCapacity;
    }

    /**
     * Steps of the extra scoring pass over the context before compression (KVzip re-reads it, one chunk per step);
     * {@link #scoringStep} runs each, in order. Default: none.
     */
    protected int scoringSteps(ScoringTarget cache, int[] prompt, TokenRunner runner) {
        return 0;
    }

    /** Runs step {@code step} of the scoring pass (see {@link #scoringSteps}). */
    protected void scoringStep(ScoringTarget cache, int[] prompt, TokenRunner runner, int step) {
    }

    /**
     * What this press's scoring pass depends on (its statistic is the same for two presses with equal keys, whatever
     * their budgets), or null when it has none. Default: null.
     */
    protected Object scoringPassKey() {
        return null;
    }

    /** The whole scoring pass: every {@link #scoringStep} in order. */
    final void scoringPass(ScoringTarget cache, int[] prompt, TokenRunner runner) {
        int steps = scoringSteps(cache, prompt, runner);
        for (int i = 0; i < steps; i++) {
            scoringStep(cache, prompt, runner, i);
        }
    }

    /**
     * Bytes of the store that keeps evicted entries of one head, out of {@code headBudget} (0 = evicted entries
     * are dropped).
     */
    protected long vagueBytes(PressContext ctx, long headBudget) {
        return 0;
    }

    /** The store of evicted entries for one head, sized by {@link #vagueBytes}; null when entries are dropped. */
    protected VagueStore newVagueStore(PressContext ctx, int layer, int kvHead) {
        return null;
    }

    /** Whether a vague entry may be revived into the exact set (reversible presses). */
    protected boolean revives() {
        return false;
    }
}
