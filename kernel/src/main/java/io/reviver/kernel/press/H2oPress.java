package io.reviver.kernel.press;

/**
 * H2O, heavy hitters (Zhang et al., arXiv 2306.14048): the exact capacity is split between the most recent
 * tokens and the "heavy hitters" with the largest accumulated attention. Each entry's score is the attention it
 * received from every query so far (mean over the GQA group); it is ranked by that sum divided by the number of
 * queries that could see it (kvpress's ObservedAttention normalisation, which keeps early tokens from winning by
 * age alone). During decode one entry is evicted per step once the head is full (the paper's greedy rule).
 * Defaults from the paper's scripts: heavy ratio = recent ratio, so half the capacity is the recent window.
 *
 * @see <a href="https://arxiv.org/abs/2306.14048">arXiv 2306.14048</a>
 */
public final class H2oPress extends KvPress {

    private final double recentShare;

    /** @param recentShare fraction of the exact capacity kept as the recent window, in [0, 1) (default 0.5) */
    public H2oPress(double budget, double recentShare) {
        super(budget);
        if (!(recentShare >= 0 && recentShare < 1)) {
            throw new IllegalArgumentException("h2o recent share must be in [0, 1), got " + recentShare);
        }
        this.recentShare = recentShare;
    }

    @Override
    public String name() {
        return "h2o";
    }

    @Override
    public String describe() {
        return super.describe() + "(recent=" + recentShare + ")";
    }

    @Override
    protected Accumulation accumulation() {
        return Accumulation.SUM;
    }

    @Override
    protected int recentWindow(int exactCapacity) {
        return (int) (exactCapacity * recentShare);
    }

    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return h.score(i) / (newest - h.position(i) + 1);
    }
}
