package io.reviver.kernel.press;

import java.util.SplittableRandom;

/**
 * Compactor (Chari and Van Durme, "Compactor: Calibrated Query-Agnostic KV Cache Compression with Approximate
 * Leverage Scores", arXiv 2507.08143): each entry's score blends the z-scored attention it receives from the
 * last {@code window} prompt queries with the z-scored approximate leverage score of its key,
 * {@code z_attn + blend · z_lev} (compactor-vllm's default blend 0.5).
 *
 * <p>Leverage of key i among the head's n keys: {@code ℓ_i = y_iᵀ (YᵀY + λI)⁻¹ y_i} where {@code Y = K·Ω}, Ω a
 * seeded Gaussian (headSize × {@code sketchDim}) projection (when headSize ≤ sketchDim the keys are used as they
 * are: exact leverage is then as cheap), λ = {@code jitter} · trace(YᵀY) / sketchDim; solved by Cholesky in
 * double. Keys are post-RoPE (the reference implementations recompute pre-RoPE keys; RoPE is a rotation per
 * position, so leverage changes slightly). Protected: 4 sinks and a recent window of min(64, capacity/4) entries
 * (compactor-vllm protects 16 and 64; capped here so small budgets are still decided by the scores).
 *
 * <p><b>Calibration</b> ({@code calibrate = τ > 0}): the paper infers per document how much compression it
 * supports; its procedure is not public. This stand-in keeps, per head, the fewest top-ranked entries whose share of
 * the head's observed attention mass (the window queries' weights) reaches τ, never more than the budget allows:
 * the budget is then a ceiling, and easy documents hold less.
 *
 * @see <a href="https://arxiv.org/abs/2507.08143">arXiv 2507.08143</a>
 */
public final class CompactorPress extends KvPress {

    private final int window;
    private final int sketchDim;
    private final double blend;
    private final double jitter;
    private final double calibrate;

    /**
     * @param window    prompt queries whose attention is observed, ≥ 1 (default 64)
     * @param sketchDim projection width, ≥ 1 (default 48)
     * @param blend     weight of the leverage z-score, ≥ 0 (default 0.5)
     */
    public CompactorPress(double budget, int window, int sketchDim, double blend) {
        this(budget, window, sketchDim, blend, 0);
    }

    /** @param calibrate attention-mass share τ in (0, 1] kept per head, or 0 for the budget as is */
    public CompactorPress(double budget, int window, int sketchDim, double blend, double calibrate) {
        super(budget);
        if (!(calibrate >= 0 && calibrate <= 1)) {
            throw new IllegalArgumentException("compactor calibrate must be in [0, 1], got " + calibrate);
        }
        this.calibrate = calibrate;
        if (window < 1 || sketchDim < 1 || !(blend >= 0)) {
            throw new IllegalArgumentException("compactor needs window ≥ 1, sketchDim ≥ 1, blend ≥ 0; got window="
                + window + " sketchDim=" + sketchDim + " blend=" + blend);
        }
        this.window = window;
        this.sketchDim = sketchDim;
        this.blend = blend;
        this.jitter = 5e-3;
    }

    @Override
    public String name() {
        return "compactor";
    }

    @Override
    public String describe() {
        return super.describe() + "(window=" + window + ",k=" + sketchDim + ",blend=" + blend
            + (calibrate > 0 ? ",calibrate=" + calibrate : "") + ")";
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
    protected int sinks() {
        return 4;
    }

    @Override
    protected int recentWindow(int exactCapacity) {
        return Math.min(64, exactCapacity / 4);
    }

    @Override
    protected void beforeCompress(PressedKvCache.HeadStore h, int layer, int kvHead, PressContext ctx) {
        int n = h.count();
        if (n < 2) {
            return;
        }
        double[] lev = leverage(h.keys(), n, ctx.headSize(), sketchDim, jitter, ctx.headSeed(layer, kvHead));
        double[] attn = new double[n];
        for (int i = 0; i < n; i++) {
            attn[i] = h.score(i);
        }
        if (calibrate > 0) {
            h.scratchMass = attn.clone(); // the raw attention mass, for keepCount
        }
        zScore(lev);
        zScore(attn);
        for (int i = 0; i < n; i++) {
            h.setScore(i, (float) (attn[i] + blend * lev[i]));
        }
    }

    @Override
    protected int keepCount(PressedKvCache.HeadStore h, int exactCapacity) {
        double[] mass = h.scratchMass;
        h.scratchMass = null;
        if (calibrate <= 0 || mass == null) {
            return exactCapacity;
        }
        Integer[] order = new Integer[mass.length];
        double total = 0;
        for (int i = 0; i < mass.length; i++) {
            order[i] = i;
            total += mass[i];
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(h.score(b), h.score(a)));
        double kept = 0;
        int k = 0;
        while (k < mass.length && k < exactCapacity && kept < calibrate * total) {
            kept += mass[order[k++]];
        }
        return Math.max(k, sinks() + recentWindow(exactCapacity));
    }

    @Override
    protected float rank(PressedKvCache.HeadStore h, int i, int newest, int promptLength) {
        return promptScoreRank(h, i, promptLength);
    }

    /**
     * Approximate leverage scores of the rows of keys (n, headSize).
     *
     * @return (n) leverage per row
     */
    static double[] leverage(float[] keys, int n, int headSize, int sketchDim, double jitter, long seed) {
        int m = Math.min(headSize, sketchDim);
        double[] y = new double[n * m]; // (n, m)
        if (headSize <= sketchDim) {
            for (int i = 0; i < n * m; i++) {
                y[i] = keys[i];
            }
        } else {
            SplittableRandom rnd = new SplittableRandom(seed);
            double[] omega = new double[headSize * m]; // (headSize, m) N(0, 1/m)
            for (int i = 0; i < omega.length; i++) {
                omega[i] = gaussian(rnd) / Math.sqrt(m);
            }
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < headSize; c++) {
                    double k = keys[i * headSize + c];
                    for (int j = 0; j < m; j++) {
                        y[i * m + j] += k * omega[c * m + j];
                    }
                }
            }
        }
        double[] g = new double[m * m]; // (m, m) YᵀY
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < m; a++) {
                double ya = y[i * m + a];
                for (int b = 0; b <= a; b++) {
                    g[a * m + b] += ya * y[i * m + b];
                }
            }
        }
        double trace = 0;
        for (int a = 0; a < m; a++) {
            trace += g[a * m + a];
        }
        double lambda = jitter * trace / m + 1e-12;
        for (int a = 0; a < m; a++) {
            g[a * m + a] += lambda;
        }
        // Cholesky: g = L Lᵀ (lower triangle in place)
        for (int a = 0; a < m; a++) {
            for (int b = 0; b <= a; b++) {
                double s = g[a * m + b];
                for (int c = 0; c < b; c++) {
                    s -= g[a * m + c] * g[b * m + c];
                }
                g[a * m + b] = a == b ? Math.sqrt(Math.max(s, 1e-300)) : s / g[b * m + b];
            }
        }
        double[] lev = new double[n];
        double[] z = new double[m];
        for (int i = 0; i < n; i++) { // ℓ_i = ‖L⁻¹ y_i‖²
            double sum = 0;
            for (int a = 0; a < m; a++) {
                double s = y[i * m + a];
                for (int c = 0; c < a; c++) {
                    s -= g[a * m + c] * z[c];
                }
                z[a] = s / g[a * m + a];
                sum += z[a] * z[a];
            }
            lev[i] = sum;
        }
        return lev;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /** In place: (x − mean) / std (std of 0 leaves zeros). */
    static void zScore(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(var / x.length);
        for (int i = 0; i < x.length; i++) {
            x[i] = std > 0 ? (x[i] - mean) / std : 0;
        }
    }
}
