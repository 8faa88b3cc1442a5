package io.reviver.kernel.press;

import java.util.Arrays;

/**
 * KVzip (Kim et al., "KVzip: Query-Agnostic KV Cache Compression with Context Reconstruction", arXiv 2505.23416):
 * after prefill the model re-reads the context, teacher-forced, after a "repeat the previous context" prompt; a KV
 * entry's score is the largest attention weight any repeat query (any head of its GQA group) gives it; the
 * top entries are kept. The context is re-read in chunks of at most {@code chunkSize} tokens (the original uses
 * 2,000; the default here is {@value #DEFAULT_CHUNK}, see below), each after the repeat prompt (later chunks: the
 * "continue" prompt followed by the previous chunk's last 8 tokens), scoring only its own positions; the repeat
 * tokens are dropped afterwards, so memory stays bounded by context + one chunk. The repeat tokens take positions
 * after the context, so a chunk is also limited by the model's context length. Differences from the original:
 * the softmax is over the whole cache rather than the [sinks | chunk | repeat] subset, and BOS (position 0) is the
 * only protected "system prompt" position.
 *
 * <p>Until compression the cache holds the whole prompt plus one pass's chunk and instruction exactly, so the chunk
 * sets how far a sequence's KV bytes rise above the prompt's while it is scored ({@link #scoringEntries}): with
 * 2,000-token chunks a 1,792-token prompt peaks at twice its own size, with 512 at 1.3 times. The smaller chunk costs
 * one instruction's tokens per extra pass (about 3% more rows for a 2,048-token prompt; the attention over the
 * context is the same in total) and lets an engine interleave decode steps more finely. Its quality effect was
 * measured on the bundled model (passkey at 512 tokens, 200 examples, budgets 25% and 10%): re-reading the
 * context in chunks of 64, 128 or 256 tokens scored within the sampling error of re-reading it whole
 * (docs/results/eval-kvzip-chunk.md, discussed in docs/engine-bench.md).
 *
 * @see <a href="https://arxiv.org/abs/2505.23416">arXiv 2505.23416</a>
 */
public final class KvzipPress extends KvPress {

    /** Tokens of the previous chunk repeated after the "continue" prompt (the original's prev_postfix_size). */
    static final int OVERLAP = 8;
    /** Context tokens re-read per pass unless configured ({@code chunk=}). */
    public static final int DEFAULT_CHUNK = 512;
    /** Smallest chunk worth a pass; a context leaving less room in the model's window is an error. */
    static final int MIN_CHUNK = 16;

    private final int[] repeatPrompt;
    private final int[] continuePrompt;
    private final int chunkSize;

    /**
     * @param repeatPrompt   token ids of the first chunk's instruction, e.g. "\n\nRepeat the previous context
     *                       exactly.\n" (non-empty)
     * @param continuePrompt token ids of later chunks' instruction, e.g. "\n\nRepeat the part of the previous
     *                       context exactly, starting with" (non-empty)
     * @param chunkSize      context tokens re-read per pass, ≥ 16
     */
    public KvzipPress(double budget, int[] repeatPrompt, int[] continuePrompt, int chunkSize) {
        super(budget);
        if (repeatPrompt.length == 0 || continuePrompt.length == 0) {
            throw new IllegalArgumentException("kvzip needs non-empty repeat and continue prompts");
        }
        if (chunkSize < MIN_CHUNK) {
            throw new IllegalArgumentException("kvzip chunk size must be ≥ " + MIN_CHUNK + ", got " + chunkSize);
        }
        this.repeatPrompt = repeatPrompt.clone();
        this.continuePrompt = continuePrompt.clone();
        this.chunkSize = chunkSize;
    }

    @Override
    public String name() {
        return "kvzip";
    }

    @Override
    public String describe() {
        return super.describe() + "(chunk=" + chunkSize + ")";
    }

    @Override
    protected Accumulation accumulation() {
        return Accumulation.MAX;
    }

    @Override
    protected int sinks() {
        return 1;
    }

    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return promptScoreRank(h, i, promptLength);
    }

    /** The instructions and the chunk size: the budget does not change the pass. */
    @Override
    protected Object scoringPassKey() {
        return "kvzip(chunk=" + chunkSize + ", repeat=" + Arrays.toString(repeatPrompt) + ", continue="
            + Arrays.toString(continuePrompt) + ")";
    }

    /** A pass appends one chunk (at most the context, at most {@code chunkSize}) after its longest instruction. */
    @Override
    protected int scoringEntries(PressContext ctx) {
        return Math.min(chunkSize, ctx.promptLength()) + Math.max(repeatPrompt.length, continuePrompt.length + OVERLAP);
    }

    /**
     * One step per chunk of the context.
     *
     * @throws IllegalArgumentException when the model's context leaves fewer than 16 positions for a chunk after
     *                                  the context and the instruction
     */
    @Override
    protected int scoringSteps(ScoringTarget cache, int[] prompt, TokenRunner runner) {
        int ctxLen = cache.context().promptLength();
        int chunk = chunk(ctxLen, runner);
        return (ctxLen + chunk - 1) / chunk;
    }

    /** Re-reads chunk {@code step} of the context after its instruction, scoring the chunk's own positions. */
    @Override
    protected void scoringStep(ScoringTarget cache, int[] prompt, TokenRunner runner, int step) {
        int ctxLen = cache.context().promptLength();
        int chunk = chunk(ctxLen, runner);
        int a = step * chunk;
        int b = Math.min(ctxLen, a + chunk);
        int[] tokens;
        if (a == 0) {
            tokens = concat(repeatPrompt, Arrays.copyOfRange(prompt, a, b));
        } else {
            int[] prefix = concat(continuePrompt, Arrays.copyOfRange(prompt, Math.max(0, a - OVERLAP), a));
            tokens = concat(prefix, Arrays.copyOfRange(prompt, a, b));
        }
        cache.beginScoringPass(a, b, runner.contextLength());
        try {
            runner.run((io.reviver.kernel.cache.KvCache) cache, tokens, ctxLen);
        } finally {
            cache.endScoringPass();
        }
    }

    /** Context tokens per pass: {@code chunkSize}, or less when the model's window leaves less room. */
    private int chunk(int ctxLen, TokenRunner runner) {
        int longestPrefix = Math.max(repeatPrompt.length, continuePrompt.length + OVERLAP);
        int room = runner.contextLength() - ctxLen - longestPrefix;
        int chunk = Math.min(chunkSize, room);
        if (chunk < MIN_CHUNK) {
            throw new IllegalArgumentException("kvzip: a " + ctxLen + "-token context leaves " + Math.max(0, room)
                + " positions of the model's " + runner.contextLength() + "-token window for re-reading it (needs ≥ "
                + MIN_CHUNK + "); use a shorter document chunk");
        }
        return chunk;
    }

    private static int[] concat(int[] x, int[] y) {
        int[] r = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }
}
