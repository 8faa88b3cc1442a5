package io.reviver.kernel.press;

/**
 * SnapKV (Li et al., "SnapKV: LLM Knows What You Are Looking for Before Generation", arXiv 2404.14469): the last
 * {@code window} prompt tokens form an observation window; each earlier entry's score is the attention the
 * window's queries give it (summed over the window, mean over the GQA group), smoothed by 1-D average pooling of
 * width {@code kernel} along the positions; the top entries are kept and the window itself always is. Defaults
 * from the original code's {@code init_snapkv}: window 32, kernel 5, average pooling. During decode, entries
 * appended after the prompt are kept over prompt entries (SnapKV scores only the prompt).
 *
 * @see <a href="https://arxiv.org/abs/2404.14469">arXiv 2404.14469</a>
 */
public final class SnapKvPress extends KvPress {

    private final int window;
    private final int kernel;

    /**
     * @param window observation window in prompt tokens, ≥ 1
     * @param kernel pooling width, odd, ≥ 1
     */
    public SnapKvPress(double budget, int window, int kernel) {
        super(budget);
        if (window < 1) {
            throw new IllegalArgumentException("snapkv window must be ≥ 1, got " + window);
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("snapkv kernel must be odd and ≥ 1, got " + kernel);
        }
        this.window = window;
        this.kernel = kernel;
    }

    @Override
    public String name() {
        return "snapkv";
    }

    @Override
    public String describe() {
        return super.describe() + "(window=" + window + ",kernel=" + kernel + ")";
    }

    @Override
    protected Accumulation accumulation() {
        return Accumulation.WINDOW_SUM;
    }

    @Override
    protected int observationWindow() {
        return window;
    }

    @Override
    protected int recentWindow(int exactCapacity) {
        return window;
    }

    @Override
    protected void beforeCompress(PressedKvCache.HeadStore h, int layer, int kvHead, PressContext ctx) {
        avgPool(h, kernel);
    }

    /** Replaces each entry's score by the mean of the scores within {@code kernel} entries around it. */
    static void avgPool(PressedKvCache.HeadStore h, int kernel) {
        int n = h.count();
        int half = kernel / 2;
        float[] pooled = new float[n];
        for (int i = 0; i < n; i++) {
            float s = 0;
            int from = Math.max(0, i - half);
            int to = Math.min(n - 1, i + half);
            for (int j = from; j <= to; j++) {
                s += h.score(j);
            }
            pooled[i] = s / (to - from + 1);
        }
        for (int i = 0; i < n; i++) {
            h.setScore(i, pooled[i]);
        }
    }

    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return promptScoreRank(h, i, promptLength);
    }
}
