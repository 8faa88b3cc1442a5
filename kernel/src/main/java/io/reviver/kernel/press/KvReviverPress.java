package io.reviver.kernel.press;

import io.reviver.kernel.attention.SketchMode;

/**
 * KVReviver (Yuan et al., "KVReviver: Reversible KV Cache Compression with Sketch-Based Token Reconstruction",
 * arXiv 2512.17917), as this project reads it (see docs: only the abstract and third-party summaries are public,
 * so every detail below is a measured design choice, not the paper's): per (layer, KV head)
 * <ul>
 *   <li><b>Recent</b>: the last {@code recent} positions (at most a quarter of the exact capacity), exact;</li>
 *   <li><b>Candidate</b>: the other exact entries, ranked by accumulated attention (the attention each received
 *       from every query, mean over the GQA group, divided by the number of queries that could see it), plus
 *       {@code sinks} protected first positions;</li>
 *   <li><b>Vague</b>: every evicted entry, folded into a {@link CountSketch} of {@code rows} × w buckets for keys
 *       and for values (keys before RoPE by default, re-rotated at their position), and reconstructed inside
 *       attention at every step, so all tokens take part in attention. The built-in attention does it without
 *       rebuilding each token: it scores and sums the buckets in folded form ({@link FoldedSketch}, equal to
 *       attention over the reconstructions up to float rounding). On an attention backend of the KV head
 *       ({@link PressContext#backend}), e.g. OpenCL, the sketch's bulk insert and reconstruction run there.</li>
 * </ul>
 * The budget counts everything: {@code sketchShare} of each head's bytes go to the sketch (both tables, bucket
 * counts, the bitmap of evicted positions), the rest to exact entries (key, value, position, score). With
 * {@code revive}, a vague entry whose reconstructed attention this step exceeds the weakest candidate's rank is
 * brought back (its reconstruction subtracted from the sketch) and that candidate evicted in its place. Peeling,
 * the subtraction of exactly known tokens from the sketch, is built in: a token enters the sketch only when it stops
 * being exact, so the sketch never holds a token that is also kept exactly.
 *
 * @see <a href="https://arxiv.org/abs/2512.17917">arXiv 2512.17917</a>
 */
public final class KvReviverPress extends KvPress {

    /**
     * Parameters.
     *
     * @param mode        {@link SketchMode#SIGNED} (literal Count-Sketch, median) or MEAN (averaging buckets)
     * @param rows        sketch rows d ≥ 1 (odd for a median: 1, 3, 5)
     * @param sketchShare fraction of each head's budget given to the sketch, in (0, 1)
     * @param recent      recent-window positions, ≥ 1 (capped at a quarter of the exact capacity)
     * @param sinks       first positions never evicted, ≥ 0
     * @param revive      whether vague entries can return to the exact set
     * @param preRope     whether the sketch holds keys before RoPE (re-rotated at their position on reconstruction)
     */
    public record Options(SketchMode mode, int rows, double sketchShare, int recent, int sinks, boolean revive,
                          boolean preRope) {

        /**
         * The defaults, chosen from the variant sweep in docs/kv-compression-results-v2-model.md and measured on the
         * retrained model in docs/kv-compression-results.md.
         */
        public static Options defaults() {
            return new Options(SketchMode.MEAN, 1, 0.25, 32, 4, false, true);
        }

        public Options {
            if (mode == null) {
                throw new IllegalArgumentException("kvreviver mode must be signed or mean");
            }
            if (rows < 1 || rows > 15) {
                throw new IllegalArgumentException("kvreviver rows must be in [1, 15], got " + rows);
            }
            if (!(sketchShare > 0 && sketchShare < 1)) {
                throw new IllegalArgumentException("kvreviver sketch share must be in (0, 1), got " + sketchShare);
            }
            if (recent < 1 || sinks < 0) {
                throw new IllegalArgumentException("kvreviver needs recent ≥ 1 and sinks ≥ 0, got recent=" + recent
                    + " sinks=" + sinks);
            }
        }
    }

    private final Options options;

    public KvReviverPress(double budget, Options options) {
        super(budget);
        this.options = options;
    }

    public Options options() {
        return options;
    }

    @Override
    public String name() {
        return "kvreviver";
    }

    @Override
    public String describe() {
        return super.describe() + "(mode=" + options.mode().name().toLowerCase() + ",d=" + options.rows() + ",share="
            + options.sketchShare() + ",recent=" + options.recent() + ",sinks=" + options.sinks() + ",revive="
            + options.revive() + ",keys=" + (options.preRope() ? "pre" : "post") + ")";
    }

    @Override
    protected Accumulation accumulation() {
        return Accumulation.SUM;
    }

    @Override
    protected int sinks() {
        return options.sinks();
    }

    @Override
    protected int recentWindow(int exactCapacity) {
        return Math.min(options.recent(), Math.max(1, exactCapacity / 4));
    }

    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return h.score(i) / (newest - h.position(i) + 1);
    }

    @Override
    protected boolean revives() {
        return options.revive();
    }

    /** Sketch width for a head budget: the largest w whose sketch fits {@code sketchShare} of it. */
    int width(PressContext ctx, long headBudget) {
        long share = (long) Math.floor(options.sketchShare() * headBudget);
        long fixed = CountSketch.bytesFor(options.mode(), options.rows(), 0, ctx.headSize(), ctx.capacity());
        long perBucket = CountSketch.bytesFor(options.mode(), options.rows(), 1, ctx.headSize(), ctx.capacity()) - fixed;
        long w = (share - fixed) / perBucket;
        if (w < 1) {
            throw new IllegalArgumentException("kvreviver: " + share + " bytes per head for the sketch (share "
                + options.sketchShare() + " of " + headBudget + ") cannot hold one bucket per row (" + perBucket
                + " bytes each, d=" + options.rows() + "); raise the budget or the share, or lower d");
        }
        return (int) Math.min(w, Integer.MAX_VALUE / 2);
    }

    @Override
    protected long vagueBytes(PressContext ctx, long headBudget) {
        return CountSketch.bytesFor(options.mode(), options.rows(), width(ctx, headBudget), ctx.headSize(),
            ctx.capacity());
    }

    @Override
    protected VagueStore newVagueStore(PressContext ctx, int layer, int kvHead) {
        long headBudget = (long) Math.floor(budget() * ctx.fullBytesPerHead());
        if (options.preRope() && ctx.rotation() == null) {
            throw new IllegalArgumentException("kvreviver with pre-RoPE keys needs the model's RoPE in the press "
                + "context; use keys=post or give the rotation");
        }
        return new CountSketch(options.mode(), options.rows(), width(ctx, headBudget), ctx.headSize(), ctx.capacity(),
            ctx.headSeed(layer, kvHead), options.preRope() ? ctx.rotation() : null, ctx.backend(kvHead));
    }
}
