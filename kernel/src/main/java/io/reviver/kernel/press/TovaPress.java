package io.reviver.kernel.press;

/**
 * TOVA, token omission via attention (Oren et al., "Transformers are Multi-State RNNs", arXiv 2401.06104): a
 * fixed-size cache from which, at each step, the entry with the lowest attention weight from the current query
 * is dropped. This implementation decides per KV head with the weight averaged over the head's GQA group (the
 * paper averages over all heads of the layer and drops the same token everywhere; per-head decisions keep heads
 * independent, so they can be attended in parallel). At compression the scores are the last prompt token's
 * weights, as in kvpress. No parameter beyond the budget.
 *
 * @see <a href="https://arxiv.org/abs/2401.06104">arXiv 2401.06104</a>
 */
public final class TovaPress extends KvPress {

    public TovaPress(double budget) {
        super(budget);
    }

    @Override
    public String name() {
        return "tova";
    }

    @Override
    protected Accumulation accumulation() {
        return Accumulation.LAST;
    }

    /** The newest entry has not been scored by a query other than its own yet: keep it. */
    @Override
    protected int recentWindow(int exactCapacity) {
        return 1;
    }
}
