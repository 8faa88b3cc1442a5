package io.reviver.kernel.press;

import io.reviver.kernel.cache.DenseKvCache;
import io.reviver.kernel.cache.KvCache;
import java.util.Arrays;

/**
 * A dense prefill cache that records every attention statistic the presses score with, so that one prefill can
 * be compressed by many presses and budgets ({@link KvPress#compress(PrefillRecord, PressContext)}), exactly as if
 * each had observed the prefill itself: per (layer, KV head) and position, the SUM, the WINDOW_SUM for each
 * window asked for, the LAST and, after {@link #runScoringPass}, the KVzip MAX statistic, each computed with the
 * same arithmetic as {@link PressedKvCache}. Used by the quality harness; one per sequence; not thread-safe
 * across heads' writes (like every cache).
 */
public final class PrefillRecord implements KvCache, ScoringTarget {

    private final PressContext ctx;
    private final DenseKvCache dense;
    private final int[] windows;     // observation windows recorded (e.g. 32 and 64)
    private final float[][] sum;     // per head (layer · nKvHeads + kvHead): (positions)
    private final float[][] last;    // per head: (positions)
    private final float[][] max;     // per head: (positions); the KVzip statistic
    private final float[][][] window; // per window, per head: (positions)
    private int scoringFrom = -1;
    private int scoringTo = -1;
    private int scoringCapacity;
    private Object scoredBy;         // the scoring pass whose MAX statistic max holds (KvPress.scoringPassKey)

    /**
     * @param ctx     the sequence (its capacity must hold the prompt; a scoring pass may go up to the model's
     *                context length)
     * @param windows observation windows to record
     * @param modelContextLength the model's context length (room for a scoring pass)
     */
    public PrefillRecord(PressContext ctx, int[] windows, int modelContextLength) {
        this.ctx = ctx;
        this.dense = new DenseKvCache(ctx.nLayers(), ctx.nKvHeads(), ctx.headSize(),
            Math.max(ctx.capacity(), modelContextLength));
        this.windows = windows.clone();
        int heads = ctx.nLayers() * ctx.nKvHeads();
        int n = dense.capacity();
        sum = new float[heads][n];
        last = new float[heads][n];
        max = new float[heads][n];
        window = new float[windows.length][heads][n];
    }

    @Override
    public PressContext context() {
        return ctx;
    }

    @Override
    public int nLayers() {
        return ctx.nLayers();
    }

    @Override
    public int nKvHeads() {
        return ctx.nKvHeads();
    }

    @Override
    public int headSize() {
        return ctx.headSize();
    }

    @Override
    public int capacity() {
        return scoringFrom >= 0 ? scoringCapacity : ctx.promptLength();
    }

    @Override
    public int length(int layer) {
        return dense.length(layer);
    }

    @Override
    public void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff) {
        dense.append(layer, position, key, keyOff, value, valueOff);
    }

    @Override
    public int entryCount(int layer, int kvHead) {
        return dense.entryCount(layer, kvHead);
    }

    @Override
    public int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions) {
        return dense.gather(layer, kvHead, keys, values, positions);
    }

    @Override
    public boolean observesAttention() {
        return true;
    }

    @Override
    public void observeAttention(int layer, int kvHead, int queryPosition, float[] weights, int count) {
        int head = layer * ctx.nKvHeads() + kvHead;
        int kvMul = ctx.kvMul();
        if (scoringFrom >= 0) {
            float[] m = max[head];
            for (int i = scoringFrom; i < Math.min(scoringTo, count); i++) {
                float v = m[i];
                for (int g = 0; g < kvMul; g++) {
                    v = Math.max(v, weights[g * count + i]);
                }
                m[i] = v;
            }
            return;
        }
        float[] l = last[head];
        int promptLength = ctx.promptLength();
        GroupWeights.setMeans(weights, count, kvMul, count, l); // the group's mean weight per entry
        GroupWeights.add(l, count, sum[head]);
        for (int w = 0; w < windows.length; w++) {
            if (queryPosition >= promptLength - windows[w] && queryPosition < promptLength) {
                GroupWeights.add(l, count, window[w][head]);
            }
        }
    }

    @Override
    public void beginScoringPass(int from, int to, int capacity) {
        scoringFrom = from;
        scoringTo = to;
        scoringCapacity = capacity;
    }

    @Override
    public void endScoringPass() {
        scoringFrom = -1;
        scoringTo = -1;
        scoringCapacity = 0;
        // drop the scoring pass's positions: rebuild the dense cache's lengths
        dense.truncate(ctx.promptLength());
    }

    /**
     * Runs a press's scoring pass (KVzip's context reconstruction) on this record, filling the MAX statistic that
     * press compresses from. A second press with the same pass (e.g. KVzip at another budget) finds it done; a press
     * whose pass differs (another chunk size) replaces it, so presses compressed from this record afterwards need
     * their own pass run first. Does nothing for a press without a scoring pass.
     */
    public void runScoringPass(KvPress press, int[] prompt, KvPress.TokenRunner runner) {
        Object key = press.scoringPassKey();
        if (key == null || key.equals(scoredBy)) {
            return;
        }
        scoredBy = null;
        for (float[] m : max) {
            Arrays.fill(m, 0f);
        }
        press.scoringPass(this, prompt, runner);
        scoredBy = key;
    }

    @Override
    public long bytes() {
        return dense.bytes();
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException("a prefill record belongs to one sequence");
    }

    /** Positions recorded (the prompt length once prefill is done). */
    int recorded() {
        return dense.length(0);
    }

    /**
     * The true key and value of one recorded position of one head (headSize floats each).
     *
     * @return false if {@code position} was not recorded
     */
    public boolean readEntry(int layer, int kvHead, int position, float[] key, float[] value) {
        if (position < 0 || position >= recorded()) {
            return false;
        }
        dense.readKeys(layer, kvHead, position, position + 1, key, 0);
        dense.readValues(layer, kvHead, position, position + 1, value, 0);
        return true;
    }

    void readHead(int layer, int kvHead, float[] keys, float[] values) {
        int n = recorded();
        dense.readKeys(layer, kvHead, 0, n, keys, 0);
        dense.readValues(layer, kvHead, 0, n, values, 0);
    }

    /**
     * The recorded statistic a press's scores start from, for one head.
     *
     * @throws IllegalStateException for MAX before a scoring pass, or a window that was not recorded
     */
    float[] statistic(KvPress press, int layer, int kvHead) {
        int head = layer * ctx.nKvHeads() + kvHead;
        return switch (press.accumulation()) {
            case SUM -> sum[head];
            case LAST -> last[head];
            case MAX -> {
                if (scoredBy == null || !scoredBy.equals(press.scoringPassKey())) {
                    throw new IllegalStateException("press " + press.describe() + " needs its own scoring pass run on"
                        + " the record first" + (scoredBy == null ? "" : " (it holds another press's: " + scoredBy
                        + ")"));
                }
                yield max[head];
            }
            case WINDOW_SUM -> {
                int w = Arrays.stream(windows).boxed().toList().indexOf(press.observationWindow());
                if (w < 0) {
                    throw new IllegalStateException("window " + press.observationWindow() + " was not recorded (have "
                        + Arrays.toString(windows) + ")");
                }
                yield window[w][head];
            }
            case NONE -> null;
        };
    }
}
