package io.reviver.kernel.press;

/**
 * KNorm (Devoto et al., "A Simple and Effective L2 Norm-Based Strategy for KV Cache Compression", arXiv
 * 2406.11430): keys with a low L2 norm attract attention, so the entries with the highest key norm are evicted
 * (score = −‖k‖₂, computed once per entry on the post-RoPE key; RoPE preserves the norm). No parameter beyond the
 * budget.
 *
 * @see <a href="https://arxiv.org/abs/2406.11430">arXiv 2406.11430</a>
 */
public final class KnormPress extends KvPress {

    public KnormPress(double budget) {
        super(budget);
    }

    @Override
    public String name() {
        return "knorm";
    }

    @Override
    protected float appendScore(float[] key, int off, int headSize) {
        double s = 0;
        for (int c = 0; c < headSize; c++) {
            s += (double) key[off + c] * key[off + c];
        }
        return (float) -Math.sqrt(s);
    }
}
