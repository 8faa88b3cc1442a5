package io.reviver.kernel.bench;

import io.reviver.kernel.cache.DenseKvCache;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.engine.BatchEngine;
import io.reviver.kernel.engine.GenerationRequest;
import io.reviver.kernel.engine.GenerationResult;
import io.reviver.kernel.model.Architecture;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.RopeScaling;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressContext;
import io.reviver.kernel.press.PressRegistry;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.NativeQ8;
import io.reviver.kernel.tensor.NativeTensorOps;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.kernel.tensor.QuantizedMatrix;
import io.reviver.modelstore.gguf.GgmlType;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * {@code reviver bench}: the executor engine against this machine's limits, measured in one run. First the peaks
 * (memory read bandwidth of a vectorised sum over 128 MiB; FMA throughput of a register-resident vector loop; each
 * probed again later in the run, after the decode and after the prefill, the larger of the two being the peak),
 * then on a seeded random-weight Q8_0 model generated in memory (Llama-3.2-1B shapes by default; smaller with
 * {@code quick}):
 * <ul>
 *   <li>decode B=1: weight bytes read per token / time, as a fraction of the bandwidth peak; beside it, the Q8_0
 *       mat-vec kernel's one-thread rate on a cache-resident matrix and from memory (what bounds that ratio);</li>
 *   <li>prefill of a P-token prompt: matmul + attention FLOPs / time, as a fraction of the FMA peak;</li>
 *   <li>batched decode aggregate tokens/s at B = 1, 2, 4, 8, 16 and the ratio to B = 1;</li>
 *   <li>sequences admitted per GiB of KV budget per press and budget, vs the full cache, by the engine's rule
 *       ({@link KvPress#reservedBytes} per sequence, plus {@link KvPress#transientBytes} for the one
 *       prefilling; see {@link #admittedPerGib});</li>
 *   <li>KVReviver decode step time at B = 1 vs the full cache, after compressing a P-token prompt;</li>
 *   <li>end-to-end documents/hour through {@link BatchEngine} on given documents with a given model, full cache vs
 *       presses (see {@link #documentsPerHour}).</li>
 * </ul>
 * Random weights make the numbers a statement about the engine and the shapes, not about any model's outputs.
 */
public final class EngineBench {

    /** Model shapes for the bench. */
    public record Shape(String name, int dim, int nLayers, int hiddenDim, int nHeads, int nKvHeads, int vocab,
                        int context) {
        public static final Shape LLAMA_3_2_1B = new Shape("llama-3.2-1b", 2048, 16, 8192, 32, 8, 128256, 4096);
        public static final Shape QUICK = new Shape("quick", 512, 4, 1536, 8, 2, 8192, 2048);
    }

    private final PrintStream log;
    private final List<String[]> table = new ArrayList<>(); // (measure, result, goal) rows of the summary

    public EngineBench(PrintStream log) {
        this.log = log;
    }

    /** Builds the seeded random Q8_0 model of a shape (tied output = the embedding, as in Llama 3.2 1B). */
    public static LlamaModel randomModel(Shape s, int threads, TensorOps ops) {
        return randomModel(s, threads, ops, null);
    }

    /** Like {@link #randomModel(Shape, int, TensorOps)} with attention on the given backends (one per KV head). */
    public static LlamaModel randomModel(Shape s, int threads, TensorOps ops,
                                         List<io.reviver.kernel.attention.AttentionBackend> backends) {
        int hs = s.dim() / s.nHeads();
        LlamaConfig c = new LlamaConfig(Architecture.LLAMA, s.dim(), s.nLayers(), s.hiddenDim(), s.nHeads(),
            s.nKvHeads(), hs, s.vocab(), s.context(), 1e-5f, 500000f, hs, Architecture.LLAMA.ropeLayout(),
            RopeScaling.NONE);
        SplittableRandom r = new SplittableRandom(20261126);
        QuantizedMatrix emb = MatmulBench.randomMatrix(GgmlType.Q8_0, s.vocab(), s.dim(), r.nextLong());
        LlamaWeights.Layer[] layers = new LlamaWeights.Layer[s.nLayers()];
        int kvDim = s.nKvHeads() * hs;
        for (int l = 0; l < s.nLayers(); l++) {
            layers[l] = new LlamaWeights.Layer(ones(s.dim()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, s.dim(), s.dim(), r.nextLong()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, kvDim, s.dim(), r.nextLong()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, kvDim, s.dim(), r.nextLong()), null, null, null,
                MatmulBench.randomMatrix(GgmlType.Q8_0, s.dim(), s.dim(), r.nextLong()), ones(s.dim()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, s.hiddenDim(), s.dim(), r.nextLong()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, s.dim(), s.hiddenDim(), r.nextLong()),
                MatmulBench.randomMatrix(GgmlType.Q8_0, s.hiddenDim(), s.dim(), r.nextLong()));
        }
        LlamaWeights w = new LlamaWeights(emb, layers, ones(s.dim()), emb, null);
        return new LlamaModel(c, w, ops, ElementOps.forProducts(ops), threads, backends);
    }

    private static float[] ones(int n) {
        float[] x = new float[n];
        java.util.Arrays.fill(x, 1f);
        return x;
    }

    /**
     * Token ids for kvzip's instructions in the admission figure: one per byte, at least as many as any subword
     * tokenizer gives (so its scoring-pass transient is not understated).
     */
    static final Function<String, int[]> BYTE_TOKENS =
        t -> new int[t.getBytes(java.nio.charset.StandardCharsets.UTF_8).length];

    /**
     * Sequences of {@code ctx} one GiB of KV budget holds at once under {@code press}, by the engine's admission
     * rule when memory binds: all but one hold their reservation, one (prefilling, or in its scoring pass) also its
     * transient ({@link KvPress#transientBytes}); the pool of recycled arrays gives up memory for them. (A prompt
     * longer than a prefill pass keeps the next one waiting, and a second transient would only lower the count.)
     */
    static long admittedPerGib(KvPress press, PressContext ctx) {
        long gib = 1L << 30;
        long budget = press.reservedBytes(ctx);
        long transientBytes = press.transientBytes(ctx);
        return budget + transientBytes > gib ? 0 : 1 + (gib - budget - transientBytes) / budget;
    }

    /** Adds a row to the summary {@link #table}. */
    private void tableRow(String measure, String result, String goal) {
        synchronized (table) {
            table.add(new String[] {measure, result, goal});
        }
    }

    /** The headline figures measured so far (measure | result | goal), as a plain-text table for the terminal. */
    public String table() {
        List<String[]> rows;
        synchronized (table) {
            rows = new ArrayList<>(table);
        }
        rows.add(0, new String[] {"measure", "result", "goal"});
        int[] width = new int[3];
        for (String[] r : rows) {
            for (int i = 0; i < 3; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < rows.size(); n++) {
            String[] r = rows.get(n);
            sb.append(String.format(Locale.ROOT, "%-" + width[0] + "s | %-" + width[1] + "s | %s%n", r[0], r[1], r[2]));
            if (n == 0) {
                sb.append("-".repeat(width[0])).append("-+-").append("-".repeat(width[1])).append("-+-")
                    .append("-".repeat(Math.max(4, width[2]))).append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    /** Weight bytes one decode step reads: every layer matrix and the output matrix (not the embedding row). */
    static long decodeBytes(LlamaWeights w) {
        long b = 0;
        for (QuantizedMatrix m : w.productMatrices()) {
            b += m.data().capacity();
        }
        return b;
    }

    /** FLOPs of prefilling n tokens: 2·(matmul weights)·n + the causal attention's 2·2·(n²/2)·qDim per layer. */
    static double prefillFlops(LlamaConfig c, int n) {
        double attention = c.nLayers() * 4.0 * ((double) n * n / 2) * c.qDim();
        return MachinePeaks.matmulFlopsPerToken(c) * n + attention + 2.0 * c.dim() * c.vocabSize();
    }

    /** Runs the bench; returns JSON. */
    public String run(Shape shape, int threads, int prefillTokens, double seconds) throws Exception {
        StringBuilder json = new StringBuilder("{\n");
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-peak");
            t.setDaemon(true);
            return t;
        });
        try {
            double memBefore = memoryProbe(pool, threads);
            double fmaBefore = MatmulBench.fmaPeak(pool, threads);
            return measure(json, pool, memBefore, fmaBefore, shape, threads, prefillTokens, seconds);
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Seconds of two prefills of {@code prompt} into fresh caches, after a warm-up of its first 64 tokens: the first
     * run still pays for compilation and first-touch allocation; the second is what an executor sees from its
     * second document on, and is the figure.
     */
    private static double[] prefillRuns(LlamaModel m, LlamaModel.State st, int[] prompt, float[] logits) {
        int warm = Math.min(64, prompt.length);
        m.prefill(st, m.newCache(warm), java.util.Arrays.copyOf(prompt, warm), 0, null, logits);
        double[] runs = new double[2];
        for (int run = 0; run < runs.length; run++) {
            long t0 = System.nanoTime();
            m.prefill(st, m.newCache(prompt.length), prompt, 0, null, logits);
            runs[run] = (System.nanoTime() - t0) / 1e9;
        }
        return runs;
    }

    private final List<Double> javaProbes = new ArrayList<>();
    private final List<Double> nativeProbes = new ArrayList<>();

    /**
     * This machine's memory read bandwidth: the larger of the Java probe ({@link MatmulBench#memoryBandwidth}) and,
     * where the native library loads, the native one ({@link MatmulBench#nativeMemoryBandwidth}: two streams per
     * thread over huge-page advised native memory, the fastest reader tried here). Each decode ratio is set against
     * the largest probe measured up to it, so neither backend's is inflated by a slow probe; the native decode is
     * also set against the probes adjacent to it (see {@link #DECODE_ROUNDS}).
     */
    private double memoryProbe(ExecutorService pool, int threads) throws Exception {
        double java = MatmulBench.memoryBandwidth(pool, threads);
        double nat = MatmulBench.nativeMemoryBandwidth(pool, threads);
        javaProbes.add(java);
        log.printf(Locale.ROOT, "memory read probes: java %.2f GB/s, native %s%n", java,
            Double.isNaN(nat) ? "not available" : String.format(Locale.ROOT, "%.2f GB/s", nat));
        if (Double.isNaN(nat)) {
            return java;
        }
        nativeProbes.add(nat);
        return Math.max(java, nat);
    }

    private static String joined(List<Double> xs) {
        return String.join(", ", xs.stream().map(x -> String.format(Locale.ROOT, "%.3f", x)).toList());
    }

    /** The rest of {@link #run}, after the first probes ({@code pool} probes both peaks again). */
    private String measure(StringBuilder json, ExecutorService pool, double memBefore, double fmaBefore, Shape shape,
                           int threads, int prefillTokens, double seconds) throws Exception {
        log.printf(Locale.ROOT, "peaks: memory read %.2f GB/s, FMA %.1f GFLOP/s (%d threads)%n", memBefore,
            fmaBefore, threads);
        json.append(String.format(Locale.ROOT, "  \"threads\": %d,%n"
            + "  \"model\": \"%s (seeded random Q8_0)\",%n", threads, shape.name()));
        double[] javaFigures = new double[4]; // memory peak, FMA peak, prefill seconds, B=8 over B=1
        try (JavaTensorOps ops = new JavaTensorOps(threads, JavaTensorOps.Path.VECTOR);
             LlamaModel m = randomModel(shape, threads, ops)) {
            LlamaConfig c = m.config();
            long bytes = decodeBytes(m.weights());
            json.append(String.format(Locale.ROOT, "  \"weight_bytes_per_decode_token\": %d,%n", bytes));
            // decode B = 1 on a short context: weight-read bound
            double perStep = decodeSeconds(m, 1, 64, seconds, null);
            // the bandwidth probe varies with this virtual machine's neighbours far more than the decode rate does:
            // probed again right after the decode, the peak is the larger of the two (so the ratio is not inflated
            // by one low probe)
            double mem = peakOfTwo(json, "memory read", "after decode B=1", "GB/s", "memory", "gbs", memBefore,
                memoryProbe(pool, threads));
            json.append(String.format(Locale.ROOT, "  \"memory_probes_by_kernel_gbs\": {\"java\": [%s], "
                + "\"native\": [%s]},%n", joined(javaProbes), joined(nativeProbes)));
            double gbs = bytes / perStep / 1e9;
            log.printf(Locale.ROOT, "decode B=1: %.1f tokens/s, %.2f GB/s of weights = %.1f%% of the bandwidth peak "
                + "(goal 70%%)%n", 1 / perStep, gbs, 100 * gbs / mem);
            tableRow("decode B=1, weight bytes / time vs bandwidth peak", String.format(Locale.ROOT,
                "%.1f%% (%.2f of %.2f GB/s, %.1f tokens/s)", 100 * gbs / mem, gbs, mem, 1 / perStep), ">= 70%");
            json.append(String.format(Locale.ROOT, "  \"decode_b1\": {\"tokens_per_s\": %.3f, \"weight_gbs\": %.3f, "
                + "\"fraction_of_memory_peak\": %.4f, \"goal\": 0.70},%n", 1 / perStep, gbs, gbs / mem));
            matVecCeiling(json, m.weights().output(), c.dim(), threads, mem);
            // prefill, twice (see prefillRuns)
            int[] prompt = randomTokens(prefillTokens, c.vocabSize(), 1);
            LlamaModel.State st = m.newState(Math.min(256, prefillTokens));
            float[] logits = new float[c.vocabSize()];
            double[] runs = prefillRuns(m, st, prompt, logits);
            // the FMA probe, like the bandwidth probe, can come out low when the machine's neighbours are busy
            // (one run gave 148 against the usual 180 GFLOP/s): probed again after the prefill, the peak is the
            // larger of the two, so no ratio is inflated by one low probe
            double fma = peakOfTwo(json, "FMA", "after the prefill", "GFLOP/s", "fma", "gflops", fmaBefore,
                MatmulBench.fmaPeak(pool, threads));
            double sec = runs[1];
            javaFigures[0] = mem;
            javaFigures[1] = fma;
            javaFigures[2] = sec;
            double gflops = prefillFlops(c, prefillTokens) / sec / 1e9;
            double firstGflops = prefillFlops(c, prefillTokens) / runs[0] / 1e9;
            log.printf(Locale.ROOT, "prefill %d tokens: %.1f s, %.1f GFLOP/s = %.1f%% of the FMA peak (goal 50%%); "
                + "the first run: %.1f s, %.1f%%%n", prefillTokens, sec, gflops, 100 * gflops / fma, runs[0],
                100 * firstGflops / fma);
            tableRow("prefill " + prefillTokens + " tokens, FLOP/s vs FMA peak", String.format(Locale.ROOT,
                "%.1f%% (%.1f of %.1f GFLOP/s)", 100 * gflops / fma, gflops, fma), ">= 50%");
            json.append(String.format(Locale.ROOT, "  \"prefill\": {\"tokens\": %d, \"seconds\": %.3f, \"gflops\": "
                + "%.3f, \"fraction_of_fma_peak\": %.4f, \"goal\": 0.50, \"first_run_seconds\": %.3f, "
                + "\"first_run_fraction_of_fma_peak\": %.4f},%n", prefillTokens, sec, gflops, gflops / fma, runs[0],
                firstGflops / fma));
            // batched decode
            json.append("  \"batched_decode\": [");
            double over8 = Double.NaN;
            double tokenFlops = MachinePeaks.matmulFlopsPerToken(c) + 2.0 * c.dim() * c.vocabSize();
            double[][] sweep = batchSweep(m, seconds);
            double base = sweep[0][0];
            double[] allocated = sweep[1];
            for (int i = 0; i < SWEEP_BATCHES.length; i++) {
                int b = SWEEP_BATCHES[i];
                double tps = sweep[0][i];
                // the step's weight-product FLOPs against the FMA peak
                double fmaFraction = b * tokenFlops / (b / tps) / 1e9 / fma;
                log.printf(Locale.ROOT, "batched decode B=%d: %.1f tokens/s aggregate, %.2f x B=1, weight products at "
                    + "%.1f%% of the FMA peak; %.0f heap bytes allocated per step (all threads, warm)%n", b, tps,
                    tps / base, 100 * fmaFraction, allocated[i]);
                json.append(String.format(Locale.ROOT, "%s%n    {\"batch\": %d, \"tokens_per_s\": %.3f, \"over_b1\": %.3f, "
                    + "\"fraction_of_fma_peak\": %.4f, \"heap_bytes_allocated_per_step\": %.1f}", i == 0 ? "" : ",", b,
                    tps, tps / base, fmaFraction, allocated[i]));
                if (b == 8) {
                    over8 = tps / base;
                    javaFigures[3] = over8;
                }
            }
            // What the peaks allow: a B = 8 step takes at least the longer of reading the weights once at the
            // bandwidth peak and computing 8 tokens' products at the FMA peak; against the measured B = 1 step
            double b8Floor = Math.max(bytes / (mem * 1e9), 8 * tokenFlops / (fma * 1e9));
            double ceiling = 8 / b8Floor / base;
            log.printf(Locale.ROOT, "batched decode: B=8 reached %.2f x B=1; the peaks allow at most %.2f x over this "
                + "B=1 (B=8 step >= max(weights / bandwidth, 8 tokens' FLOPs / FMA peak))%n", over8, ceiling);
            tableRow("batched decode, B=8 over B=1", String.format(Locale.ROOT, "%.2fx (the peaks allow %.2fx)", over8,
                ceiling), ">= 5x");
            json.append(String.format(Locale.ROOT, "%n  ],%n  \"goal_b8_over_b1\": 5.0,%n  \"b8_over_b1_ceiling_at_peaks\": "
                + "%.3f,%n", ceiling));
            // admission per GiB, by the engine's rule: every decoding sequence holds its reservation and the one
            // prefilling also its transient (its uncompressed prompt, plus a scoring pass's entries)
            int ctxLen = Math.min(c.contextLength(), 2048);
            PressContext pc = m.pressContext(ctxLen, ctxLen - 256, 0);
            long fullAdmitted = admittedPerGib(new io.reviver.kernel.press.FullPress(), pc);
            json.append("  \"sequences_per_gib\": {\"context\": ").append(ctxLen).append(", \"prompt\": ")
                .append(pc.promptLength()).append(", \"full\": ").append(fullAdmitted).append(", \"presses\": [");
            boolean first = true;
            double tenPercentLowest = Double.MAX_VALUE;
            double originalChunk = Double.NaN;
            // every press at its defaults counts toward the goal; KVzip with the original's 2,000-token re-read
            // chunks is reported beside it (its scoring transient is larger)
            List<String> defaults = List.of("streaming_llm", "h2o", "snapkv", "tova", "knorm", "kvreviver",
                "compactor", "kvzip");
            for (String spec : java.util.stream.Stream.concat(defaults.stream(),
                java.util.stream.Stream.of("kvzip:chunk=2000")).toList()) {
                for (double budget : new double[] {0.5, 0.25, 0.1, 0.05}) {
                    KvPress p = PressRegistry.create(spec, budget, BYTE_TOKENS);
                    long admittedHere = admittedPerGib(p, pc);
                    double ratio = admittedHere / (double) fullAdmitted;
                    boolean counts = defaults.contains(spec);
                    if (budget == 0.1 && counts) {
                        tenPercentLowest = Math.min(tenPercentLowest, ratio);
                    } else if (budget == 0.1) {
                        originalChunk = ratio;
                    }
                    json.append(first ? "" : ",").append(String.format(Locale.ROOT,
                        "%n    {\"press\": \"%s\", \"describe\": \"%s\", \"budget\": %.2f, \"per_gib\": %d, "
                        + "\"over_full\": %.3f, \"reserved_bytes\": %d, \"transient_bytes\": %d, "
                        + "\"counts_for_goal\": %b}", spec, p.describe(), budget, admittedHere, ratio,
                        p.reservedBytes(pc), p.transientBytes(pc), counts));
                    first = false;
                }
            }
            json.append(String.format(Locale.ROOT, "%n  ], \"lowest_at_10_percent\": %.3f, \"goal_at_10_percent\": "
                + "8.0},%n", tenPercentLowest));
            tableRow("sequences per GiB of KV at a 10% budget, over full", String.format(Locale.ROOT,
                "%.2fx or more, every press (full: %d; kvzip with 2,000-token chunks: %.2fx)", tenPercentLowest,
                fullAdmitted, originalChunk), ">= 8x");
            log.printf(Locale.ROOT, "admission: %d full-cache sequences of %d tokens per GiB; at a 10%% budget every "
                + "press admits at least %.2f x as many (goal 8)%n", fullAdmitted, ctxLen, tenPercentLowest);
            // decode step cost of each press vs the full cache at B = 1: one recorded prefill, compressed by each
            int longPrompt = Math.min(prefillTokens, c.contextLength() - 64);
            int capacity = Math.min(c.contextLength(), longPrompt + 4096);
            PressContext lc = m.pressContext(capacity, longPrompt, 1);
            io.reviver.kernel.press.PrefillRecord record = new io.reviver.kernel.press.PrefillRecord(lc,
                new int[] {32, 64}, c.contextLength());
            m.prefill(st, record, prompt.length >= longPrompt ? java.util.Arrays.copyOf(prompt, longPrompt)
                : randomTokens(longPrompt, c.vocabSize(), 2), 0, null, logits);
            // the full cache's step is measured before the first press and again after each one, and a press is
            // compared with the mean of the two full-cache figures around it: the machine drifts over the minute this
            // section takes (one run's two bandwidth probes, 46.3 and 32.6 GB/s, were 20-30 s apart; in that run,
            // with one full-cache reference measured 5 to 40 s before each press, KVReviver@0.25 came out at 1.46x
            // against 1.18-1.19x in two runs the same morning, and H2O, never slower than the full cache, at
            // 1.21-1.28x), and the bracket cancels a steady drift to first order. Two rounds, the second in reverse
            // order, so each press is bracketed twice by different neighbours (in one run the full-cache steps right
            // after KVReviver's were the slow ones: drift and an after-effect of the press could not be told apart);
            // a press's figure is the mean of its two ratios. The top-level full_ms is the first full-cache figure;
            // each press row carries both rounds' figures
            io.reviver.kernel.press.FullPress fullPress = new io.reviver.kernel.press.FullPress();
            double fullBefore = stepSeconds(m, fullPress.compress(record, lc), longPrompt, seconds);
            json.append("  \"decode_step_vs_full_b1\": {\"prompt\": ").append(longPrompt).append(", \"full_ms\": ")
                .append(String.format(Locale.ROOT, "%.3f", fullBefore * 1e3)).append(", \"rounds\": 2, \"presses\": [");
            List<String> specs = new ArrayList<>();
            List<Double> budgets = new ArrayList<>();
            for (String spec : List.of("kvreviver", "kvreviver:keys=post", "h2o", "snapkv")) {
                for (double budget : new double[] {0.25, 0.1}) {
                    specs.add(spec);
                    budgets.add(budget);
                }
            }
            int configs = specs.size();
            double[][] pressMs = new double[configs][2];
            double[][] fullMs = new double[configs][2]; // (config, round): the mean of the full-cache steps around it
            for (int round = 0; round < 2; round++) {
                for (int k = 0; k < configs; k++) {
                    int i = round == 0 ? k : configs - 1 - k;
                    KvPress p = PressRegistry.create(specs.get(i), budgets.get(i), null);
                    double t = stepSeconds(m, p.compress(record, lc), longPrompt, seconds);
                    double fullAfter = stepSeconds(m, fullPress.compress(record, lc), longPrompt, seconds);
                    pressMs[i][round] = t * 1e3;
                    fullMs[i][round] = (fullBefore + fullAfter) / 2 * 1e3;
                    log.printf(Locale.ROOT, "decode step at %d tokens, round %d, %s@%.2f: %.2f ms = %.2f x full (%.2f ms, "
                        + "the mean of %.2f before and %.2f after)%n", longPrompt, round + 1, specs.get(i),
                        budgets.get(i), t * 1e3, pressMs[i][round] / fullMs[i][round], fullMs[i][round],
                        fullBefore * 1e3, fullAfter * 1e3);
                    fullBefore = fullAfter;
                }
            }
            first = true;
            for (int i = 0; i < configs; i++) {
                double r1 = pressMs[i][0] / fullMs[i][0];
                double r2 = pressMs[i][1] / fullMs[i][1];
                double ratio = (r1 + r2) / 2;
                String spec = specs.get(i);
                double budget = budgets.get(i);
                if (spec.equals("kvreviver")) {
                    tableRow(String.format(Locale.ROOT, "KVReviver@%.2f decode step B=1 over full", budget),
                        String.format(Locale.ROOT, "%.2fx (rounds %.2fx, %.2fx)", ratio, r1, r2), "<= 1.3x");
                }
                log.printf(Locale.ROOT, "decode step at %d tokens, %s@%.2f: %.2f x full (rounds %.2f and %.2f; goal for "
                    + "kvreviver <= 1.3)%n", longPrompt, spec, budget, ratio, r1, r2);
                json.append(first ? "" : ",").append(String.format(Locale.ROOT,
                    "%n    {\"press\": \"%s\", \"budget\": %.2f, \"ms\": [%.3f, %.3f], \"full_ms\": [%.3f, %.3f], "
                    + "\"over_full_rounds\": [%.3f, %.3f], \"over_full\": %.3f}", spec, budget, pressMs[i][0],
                    pressMs[i][1], fullMs[i][0], fullMs[i][1], r1, r2, ratio));
                first = false;
            }
            json.append("\n  ], \"goal_kvreviver\": 1.3},\n");
            // the same decode step with attention on OpenCL (or its loud Java fallback) vs the built-in loops (the
            // full-cache step measured last, just before)
            List<io.reviver.kernel.attention.AttentionBackend> backends = new ArrayList<>();
            try {
                for (int g = 0; g < c.nKvHeads(); g++) {
                    backends.add(io.reviver.kernel.opencl.OpenClAttentionBackend.open(
                        io.reviver.kernel.attention.BackendChoice.OPENCL_OR_JAVA));
                }
                try (LlamaModel onCl = new LlamaModel(c, m.weights(), ops, ElementOps.forProducts(ops), threads,
                    backends)) {
                    double cl = stepSeconds(onCl, new io.reviver.kernel.press.FullPress().compress(record, lc),
                        longPrompt, seconds);
                    io.reviver.kernel.attention.BackendStatus status = backends.get(0).status();
                    log.printf(Locale.ROOT, "decode step at %d tokens with attention on %s: %.2f ms = %.2f x the "
                        + "built-in Java attention%n", longPrompt, status.device(), cl * 1e3, cl / fullBefore);
                    json.append(String.format(Locale.ROOT, "  \"decode_step_attention_backend\": {\"device\": %s, "
                            + "\"opencl\": %b, \"fallbacks\": %d, \"ms\": %.3f, \"builtin_java_ms\": %.3f, "
                            + "\"over_builtin\": %.3f},%n", io.reviver.kernel.eval.FlatJson.quote(status.device()),
                        status.openCl(), status.fallbacks(), cl * 1e3, fullBefore * 1e3, cl / fullBefore));
                }
            } catch (RuntimeException e) {
                backends.forEach(io.reviver.kernel.attention.AttentionBackend::close);
                json.append("  \"decode_step_attention_backend\": {\"error\": ")
                    .append(io.reviver.kernel.eval.FlatJson.quote(e.toString())).append("},\n");
            }
        }
        nativeInt8(json, pool, shape, threads, prefillTokens, seconds, javaFigures);
        return json.append("}\n").toString();
    }

    /**
     * The same decode and prefill figures with the weight products on the native int8 kernels
     * ({@link NativeTensorOps}: activations quantised per block, so other numbers than the Java backend's), on a
     * fresh copy of the same seeded model, against the peaks the Java section used; B=8 over B=1 also as the median
     * of {@link #B8_PAIRS} pairs measured back to back. Recorded as {@code "native_int8"}; when the library is not
     * available, its status instead.
     *
     * @param javaRun the Java section's memory peak, FMA peak, prefill seconds and B=8 over B=1
     */
    private void nativeInt8(StringBuilder json, ExecutorService pool, Shape shape, int threads, int prefillTokens,
                            double seconds, double[] javaRun) throws Exception {
        if (!NativeQ8.available()) {
            log.printf(Locale.ROOT, "native int8 backend: %s%n", NativeQ8.status());
            tableRow("native int8 backend", "not available: " + NativeQ8.status(), "(reported)");
            json.append("  \"native_int8\": {\"available\": false, \"status\": ")
                .append(io.reviver.kernel.eval.FlatJson.quote(NativeQ8.status())).append("}\n");
            return;
        }
        try (NativeTensorOps ops = new NativeTensorOps(threads, null);
             LlamaModel m = randomModel(shape, threads, ops)) {
            LlamaConfig c = m.config();
            long bytes = decodeBytes(m.weights());
            for (QuantizedMatrix w : m.weights().productMatrices()) {
                ops.prepare(w); // the native copies, outside the timings
            }
            double fma = javaRun[1];
            // Probe and decode alternate: this machine's read bandwidth drifts by up to 2x within minutes (neighbours
            // on the host; 37 to 75 GB/s in one afternoon), so besides the run's highest probe each decode is set
            // against the higher of the probes just before and just after it.
            int rounds = DECODE_ROUNDS;
            double[] probes = new double[rounds + 1];
            double[] steps = new double[rounds];
            double[] paired = new double[rounds];
            probes[0] = memoryProbe(pool, threads);
            for (int r = 0; r < rounds; r++) {
                steps[r] = decodeSeconds(m, 1, 64, seconds, null);
                probes[r + 1] = memoryProbe(pool, threads);
                paired[r] = bytes / steps[r] / 1e9 / Math.max(probes[r], probes[r + 1]);
                log.printf(Locale.ROOT, "native int8 decode B=1, round %d: %.1f tokens/s, %.2f GB/s of weights = %.1f%% "
                    + "of the higher adjacent probe (%.2f, %.2f GB/s)%n", r + 1, 1 / steps[r], bytes / steps[r] / 1e9,
                    100 * paired[r], probes[r], probes[r + 1]);
            }
            double mem = javaRun[0];
            for (double p : probes) {
                mem = Math.max(mem, p);
            }
            double perStep = median(steps);
            double pairedMedian = median(paired);
            double gbs = bytes / perStep / 1e9;
            log.printf(Locale.ROOT, "native int8 (%s) decode B=1: median %.1f tokens/s, %.2f GB/s of weights = %.1f%% of "
                + "the run's highest probe %.2f GB/s; median of the rounds against their adjacent probes %.1f%% (goal "
                + "70%%)%n", ops.isa().configName(), 1 / perStep, gbs, 100 * gbs / mem, mem, 100 * pairedMedian);
            tableRow("native int8: decode B=1 vs bandwidth peak", String.format(Locale.ROOT,
                "%.1f%% of adjacent probes (median of %d); %.1f%% of the run's highest (%.2f of %.2f GB/s, %.1f "
                    + "tokens/s)", 100 * pairedMedian, rounds, 100 * gbs / mem, gbs, mem, 1 / perStep), ">= 70%");
            StringBuilder roundsJson = new StringBuilder();
            for (int r = 0; r < rounds; r++) {
                roundsJson.append(String.format(Locale.ROOT, "%s{\"tokens_per_s\": %.3f, \"weight_gbs\": %.3f, "
                    + "\"probe_before_gbs\": %.3f, \"probe_after_gbs\": %.3f, \"fraction_of_adjacent_peak\": %.4f}",
                    r == 0 ? "" : ", ", 1 / steps[r], bytes / steps[r] / 1e9, probes[r], probes[r + 1], paired[r]));
            }
            json.append(String.format(Locale.ROOT, "  \"native_int8\": {%n    \"available\": true, \"isa\": \"%s\", "
                + "\"status\": %s,%n    \"memory_peak_gbs\": %.3f, \"memory_probes_by_kernel_gbs\": {\"java\": [%s], "
                + "\"native\": [%s]},%n    \"decode_b1\": {\"tokens_per_s\": %.3f, \"weight_gbs\": %.3f, "
                + "\"fraction_of_memory_peak\": %.4f, \"fraction_of_adjacent_peak_median\": %.4f, \"goal\": 0.70, "
                + "\"rounds\": [%s]},%n", ops.isa().configName(),
                io.reviver.kernel.eval.FlatJson.quote(NativeQ8.status()), mem, joined(javaProbes),
                joined(nativeProbes), 1 / perStep, gbs, gbs / mem, pairedMedian, roundsJson));
            json.append("    \"batched_decode\": [");
            double over8 = Double.NaN;
            double[][] sweep = batchSweep(m, seconds);
            double base = sweep[0][0];
            for (int i = 0; i < SWEEP_BATCHES.length; i++) {
                int b = SWEEP_BATCHES[i];
                double tps = sweep[0][i];
                if (b == 8) {
                    over8 = tps / base;
                }
                log.printf(Locale.ROOT, "native int8 batched decode B=%d: %.1f tokens/s aggregate, %.2f x B=1; %.0f heap "
                    + "bytes allocated per step%n", b, tps, tps / base, sweep[1][i]);
                json.append(String.format(Locale.ROOT, "%s%n      {\"batch\": %d, \"tokens_per_s\": %.3f, "
                    + "\"over_b1\": %.3f, \"heap_bytes_allocated_per_step\": %.1f}", i == 0 ? "" : ",", b, tps,
                    tps / base, sweep[1][i]));
            }
            // B=8 over B=1 again in pairs measured back to back (B=1, then B=8): the sweep measures B=8 about 30 s
            // after B=1, and this host's bandwidth drift moves B=1's rate (bound by memory alone) more than B=8's
            // within that time; in a pair the same drift falls on both sides of the ratio
            double[] pairRatios = new double[B8_PAIRS];
            StringBuilder pairsJson = new StringBuilder();
            for (int r = 0; r < B8_PAIRS; r++) {
                double one = 1 / decodeSeconds(m, 1, 128, seconds, null);
                double eight = 8 / decodeSeconds(m, 8, 128, seconds, null);
                pairRatios[r] = eight / one;
                log.printf(Locale.ROOT, "native int8 batched decode, pair %d: B=1 %.1f tokens/s, B=8 %.1f tokens/s "
                    + "aggregate = %.2f x%n", r + 1, one, eight, pairRatios[r]);
                pairsJson.append(String.format(Locale.ROOT, "%s{\"b1_tokens_per_s\": %.3f, \"b8_tokens_per_s\": %.3f, "
                    + "\"b8_over_b1\": %.4f}", r == 0 ? "" : ", ", one, eight, pairRatios[r]));
            }
            double pairedOver8 = median(pairRatios);
            json.append(String.format(Locale.ROOT, "%n    ],%n    \"b8_over_b1_pairs\": [%s],%n    "
                + "\"b8_over_b1_paired_median\": %.4f,%n    \"goal_b8_over_b1\": 5.0,%n", pairsJson, pairedOver8));
            tableRow("native int8: batched decode, B=8 over B=1", String.format(Locale.ROOT,
                "%.2fx in back-to-back pairs (median of %d); %.2fx in the sweep (%.1f tokens/s at B=8; java: %.2fx)",
                pairedOver8, B8_PAIRS, over8, base * over8, javaRun[3]), ">= 5x");
            decodeAttention(json, pool, threads, c, prefillTokens, seconds, mem);
            int[] prompt = randomTokens(prefillTokens, c.vocabSize(), 1);
            LlamaModel.State st = m.newState(Math.min(256, prefillTokens));
            float[] logits = new float[c.vocabSize()];
            double[] runs = prefillRuns(m, st, prompt, logits);
            // int8 multiply-adds are not floating-point operations: the figure is the products' multiply-adds (×2)
            // per second, set against the float FMA peak only to compare with the Java route's
            double ops2 = prefillFlops(c, prefillTokens) / runs[1] / 1e9;
            log.printf(Locale.ROOT, "native int8 prefill %d tokens: %.1f s (the first run %.1f s), %.1f G multiply-adds "
                + "x2 per second = %.2f x the float FMA peak; %.2f x faster than the Java route's %.1f s%n",
                prefillTokens, runs[1], runs[0], ops2, ops2 / fma, javaRun[2] / runs[1], javaRun[2]);
            tableRow("native int8: prefill " + prefillTokens + " tokens", String.format(Locale.ROOT,
                "%.1f s, %.2fx the Java route (int8 multiply-adds x2 at %.2fx the float FMA peak)", runs[1],
                javaRun[2] / runs[1], ops2 / fma), "(reported)");
            json.append(String.format(Locale.ROOT, "    \"prefill\": {\"tokens\": %d, \"seconds\": %.3f, "
                + "\"first_run_seconds\": %.3f, \"int8_ops_per_s_g\": %.3f, \"over_float_fma_peak\": %.4f, "
                + "\"speedup_over_java\": %.3f}%n  }%n", prefillTokens, runs[1], runs[0], ops2, ops2 / fma,
                javaRun[2] / runs[1]));
        }
    }


    /** Sequences of {@link #decodeAttention}'s step. */
    private static final int ATTENTION_BATCH = 8;

    /**
     * A B=8 decode step's attention alone at a long context, on {@link ElementOps#vector()} and on the native kernel
     * ({@link ElementOps#vectorWithNativeAttention()}, the same bits), alternating, {@link #DECODE_ROUNDS} rounds
     * each: every layer's KV heads split over {@code threads} threads as in the model, each head's query group
     * attending over {@code positions} entries of each sequence's {@link DenseKvCache} (seeded random keys and
     * values), read in place as the model reads it. Reports ms per step and the KV bytes read per step against the
     * run's memory peak (attention is memory-bound: each key and value is read once). Recorded as
     * {@code "decode_attention"} inside {@code "native_int8"}; skipped when the native kernel does not run here.
     */
    private void decodeAttention(StringBuilder json, ExecutorService pool, int threads, LlamaConfig c, int positions,
                                 double seconds, double memPeak) throws Exception {
        ElementOps nat = ElementOps.vectorWithNativeAttention();
        if (nat == ElementOps.vector()) {
            log.printf(Locale.ROOT, "decode attention: native kernel %s%n", io.reviver.kernel.tensor.NativeAttention
                .status());
            return;
        }
        int layers = c.nLayers();
        int kvHeads = c.nKvHeads();
        int hs = c.headSize();
        int kvMul = c.kvMul();
        if ((long) layers * kvHeads * positions * hs > Integer.MAX_VALUE - 8 - DenseKvCache.PAD) {
            log.printf(Locale.ROOT, "decode attention: %d positions do not fit one cache array; skipped%n", positions);
            return;
        }
        // the model's own caches, filled with seeded random keys and values
        DenseKvCache[] caches = new DenseKvCache[ATTENTION_BATCH];
        SplittableRandom r = new SplittableRandom(77);
        float[] key = new float[c.kvDim()];
        float[] value = new float[c.kvDim()];
        for (int b = 0; b < ATTENTION_BATCH; b++) {
            caches[b] = new DenseKvCache(layers, kvHeads, hs, positions);
            for (int l = 0; l < layers; l++) {
                for (int p = 0; p < positions; p++) {
                    for (int i = 0; i < key.length; i++) {
                        key[i] = (float) r.nextDouble(-1, 1);
                        value[i] = (float) r.nextDouble(-1, 1);
                    }
                    caches[b].append(l, p, key, 0, value, 0);
                }
            }
        }
        float[] q = new float[ATTENTION_BATCH * c.qDim()];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextDouble(-1, 1);
        }
        float[] att = new float[q.length];
        float[][] scores = new float[threads][kvMul * positions];
        float scale = (float) (1 / Math.sqrt(hs));
        double bytes = 2.0 * ATTENTION_BATCH * layers * kvHeads * positions * hs * Float.BYTES;
        double[][] ms = new double[2][DECODE_ROUNDS];
        ElementOps[] ops = {ElementOps.vector(), nat};
        for (int round = -1; round < DECODE_ROUNDS; round++) { // round -1 warms both up
            for (int o = 0; o < 2; o++) {
                ElementOps el = ops[o];
                long t0 = System.nanoTime();
                int steps = 0;
                do {
                    for (int l = 0; l < layers; l++) {
                        final int layer = l;
                        List<CompletableFuture<Void>> parts = new ArrayList<>();
                        for (int p = 0; p < threads; p++) {
                            final int part = p;
                            Runnable job = () -> {
                                for (int g = part; g < kvHeads; g += threads) {
                                    for (int b = 0; b < ATTENTION_BATCH; b++) {
                                        KvCache.InPlace kv = caches[b].inPlace(layer, g);
                                        int qg = b * c.qDim() + g * kvMul * hs;
                                        el.attend(q, qg, kvMul, hs, scale, kv.keys(), kv.values(), kv.offset(),
                                            kv.stride(), kv.count(), scores[part], 0, positions, att, qg);
                                    }
                                }
                            };
                            if (p == threads - 1) {
                                job.run();
                            } else {
                                parts.add(CompletableFuture.runAsync(job, pool));
                            }
                        }
                        for (CompletableFuture<Void> f : parts) {
                            f.join();
                        }
                    }
                    steps++;
                } while (System.nanoTime() - t0 < (round < 0 ? 0.2 : seconds / 2) * 1e9);
                if (round >= 0) {
                    ms[o][round] = (System.nanoTime() - t0) / 1e6 / steps;
                }
            }
        }
        double vec = median(ms[0]);
        double natMs = median(ms[1]);
        double gbs = bytes / natMs / 1e6;
        log.printf(Locale.ROOT, "decode attention, B=%d at %d positions: vector %.2f ms, native %.2f ms a step "
            + "(%.2f x); native reads %.2f GB/s of keys and values = %.1f%% of the run's memory peak%n", ATTENTION_BATCH,
            positions, vec, natMs, vec / natMs, gbs, 100 * gbs / memPeak);
        tableRow("native attention, B=" + ATTENTION_BATCH + " decode step at " + positions + " positions",
            String.format(Locale.ROOT, "%.2f ms against %.2f on the vector path (%.2fx); %.1f GB/s of KV = %.1f%% of "
                + "the memory peak", natMs, vec, vec / natMs, gbs, 100 * gbs / memPeak), "(reported)");
        json.append(String.format(Locale.ROOT, "    \"decode_attention\": {\"batch\": %d, \"positions\": %d, "
            + "\"kv_bytes_per_step\": %.0f, \"vector_ms\": [%s], \"native_ms\": [%s], \"vector_ms_median\": %.3f, "
            + "\"native_ms_median\": %.3f, \"native_kv_gbs\": %.3f, \"native_fraction_of_memory_peak\": %.4f},%n",
            ATTENTION_BATCH, positions, bytes, joined(java.util.Arrays.stream(ms[0]).boxed().toList()),
            joined(java.util.Arrays.stream(ms[1]).boxed().toList()), vec, natMs, gbs, gbs / memPeak));
    }

    /** Alternating probe and decode rounds of the native section's decode B=1. */
    private static final int DECODE_ROUNDS = 3;

    /** Back-to-back B=1 and B=8 decode pairs of the native section's B=8 over B=1. */
    private static final int B8_PAIRS = 3;

    /** The median of {@code xs} (the mean of the middle two for an even count); xs is not changed. */
    static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
    }

    /** Rows of the cache-resident matrix in {@link #matVecCeiling}: 128 × 2,048 Q8_0 is 278 KB, inside one L2. */
    private static final int CEILING_ROWS = 128;

    /**
     * What the decode B=1 ratio is up against: the engine's own Q8_0 mat-vec on one thread, on a matrix small enough
     * to stay in that core's cache (no memory traffic once warm) and on the model's output matrix (read from memory
     * when it is larger than the caches, as Llama-3.2-1B's 279 MB is), both with the model's input width
     * {@code cols}. When the two rates are close, the kernel's arithmetic, not memory, limits a core, and
     * {@code threads} × the in-cache rate bounds the decode rate from above (the threads split a product's rows).
     * Logged and recorded as {@code "matvec_kernel"}.
     */
    private void matVecCeiling(StringBuilder json, QuantizedMatrix fromMemory, int cols, int threads, double mem) {
        QuantizedMatrix inCache = MatmulBench.randomMatrix(GgmlType.Q8_0, CEILING_ROWS, cols, 29);
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) Math.sin(0.37 * i);
        }
        float[] out = new float[Math.max(CEILING_ROWS, fromMemory.rows())];
        try (JavaTensorOps one = new JavaTensorOps(1, JavaTensorOps.Path.VECTOR)) {
            one.prepare(inCache);
            one.prepare(fromMemory);
            double cacheGbs = inCache.data().capacity() / MatmulBench.timePerCall(() -> one.matmul(inCache, x, 1, out),
                0.3, 0.8) / 1e9;
            double memoryGbs = fromMemory.data().capacity() / MatmulBench.timePerCall(
                () -> one.matmul(fromMemory, x, 1, out), 0.3, 0.8) / 1e9;
            double ceiling = threads * cacheGbs;
            log.printf(Locale.ROOT, "Q8_0 mat-vec on one thread: %.2f GB/s on a cache-resident %d x %d matrix, %.2f "
                + "GB/s on the %d x %d output matrix (%.1f MB); %d threads x the in-cache rate = %.2f GB/s = %.1f%% of "
                + "the bandwidth peak bounds decode B=1%n", cacheGbs, CEILING_ROWS, cols, memoryGbs,
                fromMemory.rows(), fromMemory.cols(), fromMemory.data().capacity() / 1e6, threads, ceiling,
                100 * ceiling / mem);
            json.append(String.format(Locale.ROOT, "  \"matvec_kernel\": {\"one_thread_in_cache_gbs\": %.3f, "
                + "\"in_cache_bytes\": %d, \"one_thread_output_matrix_gbs\": %.3f, \"output_matrix_bytes\": %d, "
                + "\"threads_times_in_cache_gbs\": %.3f, \"fraction_of_memory_peak\": %.4f},%n", cacheGbs,
                inCache.data().capacity(), memoryGbs, fromMemory.data().capacity(), ceiling, ceiling / mem));
        }
    }

    /**
     * The peak from two probes of one quantity, the larger (so no ratio is inflated by one low probe); logged, and
     * recorded as {@code "<key>_peak_<unit>"} with both probes as {@code "<key>_probes_<unit>"}.
     */
    private double peakOfTwo(StringBuilder json, String what, String when, String unit, String key, String jsonUnit,
                             double before, double after) {
        double peak = Math.max(before, after);
        log.printf(Locale.ROOT, "%s probed again %s: %.2f %s; the peak used is %.2f %s%n", what, when, after, unit,
            peak, unit);
        json.append(String.format(Locale.ROOT, "  \"%s_peak_%s\": %.3f,%n  \"%s_probes_%s\": [%.3f, %.3f],%n", key,
            jsonUnit, peak, key, jsonUnit, before, after));
        return peak;
    }

    /** The batch sizes of the batched-decode sweep, in the order they are measured. */
    private static final int[] SWEEP_BATCHES = {1, 2, 4, 8, 16};

    /**
     * The batched-decode sweep of either section: for each of {@link #SWEEP_BATCHES} in order, after 128-token
     * prompts, the aggregate tokens/s (row 0) and the heap bytes allocated per timed step (row 1).
     */
    private static double[][] batchSweep(LlamaModel m, double seconds) {
        double[][] sweep = new double[2][SWEEP_BATCHES.length];
        for (int i = 0; i < SWEEP_BATCHES.length; i++) {
            double[] allocated = new double[1];
            sweep[0][i] = SWEEP_BATCHES[i] / decodeSeconds(m, SWEEP_BATCHES[i], 128, seconds, allocated);
            sweep[1][i] = allocated[0];
        }
        return sweep;
    }

    /**
     * Mean seconds per decode step of {@code b} sequences with full caches after {@code context}-token prompts; if
     * {@code allocated} is not null, its element 0 receives the heap bytes allocated per timed step (see
     * {@link #timeSteps}).
     */
    private static double decodeSeconds(LlamaModel m, int b, int context, double seconds, double[] allocated) {
        LlamaConfig c = m.config();
        // at most 512 steps (more than the timing needs at these speeds): caches sized to the whole context would
        // hold 16 × 4,096 positions of a 1B model (4 GiB) at B = 16
        int maxSteps = Math.max(8, Math.min(512, c.contextLength() - context - 1));
        KvCache[] caches = new KvCache[b];
        int[] pos = new int[b];
        LlamaModel.State prefill = m.newState(Math.min(256, context));
        float[] logits = new float[c.vocabSize()];
        for (int i = 0; i < b; i++) {
            caches[i] = m.newCache(Math.min(c.contextLength(), context + maxSteps));
            m.prefill(prefill, caches[i], randomTokens(context, c.vocabSize(), i), 0, null, logits);
            pos[i] = context;
        }
        return timeSteps(m, caches, pos, b, maxSteps, seconds, allocated);
    }

    /** Heap bytes allocated so far by every live thread of this JVM (HotSpot's per-thread counters). */
    private static long allThreadsAllocatedBytes() {
        com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long bytes : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            total += Math.max(0, bytes); // -1: a thread that ended meanwhile
        }
        return total;
    }

    /** Mean seconds per B = 1 decode step on a prepared cache holding {@code start} positions. */
    private static double stepSeconds(LlamaModel m, KvCache cache, int start, double seconds) {
        return timeSteps(m, new KvCache[] {cache}, new int[] {start}, 1, cache.capacity() - start - 1, seconds,
            null);
    }

    /**
     * Mean seconds per decode step of {@code b} sequences at positions {@code pos} (advanced in place), after a
     * warm-up (JIT, caches) of 1.5 × {@code seconds} (0.5 to 3 s) or a quarter of the steps, whichever comes first,
     * over at least
     * {@code seconds} and 3 steps, at most {@code maxSteps} steps.
     * If {@code allocated} is not null, its element 0 receives the heap bytes all live threads allocated per timed
     * step (the JVM's per-thread counters, summed: the caller and the products' workers; the counting itself adds
     * a few hundred bytes per measurement, not per step).
     */
    private static double timeSteps(LlamaModel m, KvCache[] caches, int[] pos, int b, int maxSteps, double seconds,
                                    double[] allocated) {
        int vocab = m.config().vocabSize();
        LlamaModel.State st = m.newState(b);
        float[] logits = new float[b * vocab];
        int[] tokens = new int[b];
        java.util.Arrays.fill(tokens, 1);
        // warm-up: on a 2-core AVX-512 machine C2 was still compiling the step's kernels after 2 s of a 1B decode
        // (3 MB of boxed vectors per step in the first 2 s, 5 KB after; ad-hoc harness), and a 0.5 s warm-up timed
        // B=1 at 69 ms per step against 55–58 steady in that harness the same hour: 1.5 × the timed seconds, from
        // 0.5 to 3 s
        long warm = System.nanoTime() + (long) (Math.max(0.5, Math.min(3.0, 1.5 * seconds)) * 1e9);
        long t0 = 0;
        long heapBefore = 0;
        int steps = 0;
        for (int done = 0; done < maxSteps; done++) {
            m.decodeBatch(st, caches, tokens, pos, b, logits);
            for (int i = 0; i < b; i++) {
                pos[i]++;
                tokens[i] = (tokens[i] * 7 + 3) % vocab;
            }
            steps++;
            long now = System.nanoTime();
            if (t0 == 0 && (now > warm || done + 1 == maxSteps / 4)) { // warm, or a quarter of the steps done
                t0 = now;
                steps = 0;
                heapBefore = allocated == null ? 0 : allThreadsAllocatedBytes();
            } else if (t0 != 0 && now - t0 > seconds * 1e9 && steps >= 3) {
                break;
            }
        }
        if (allocated != null) {
            allocated[0] = t0 == 0 || steps == 0 ? Double.NaN
                : (allThreadsAllocatedBytes() - heapBefore) / (double) steps;
        }
        return t0 == 0 || steps == 0 ? Double.NaN : (System.nanoTime() - t0) / 1e9 / steps;
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    /**
     * Documents/hour through {@link BatchEngine}: every prompt submitted at once under each press, the engine
     * decoding up to {@code maxBatch} together within {@code kvBytes}. Each configuration runs {@code repeats}
     * times, the configurations taking turns (so a slow spell of the machine falls on all of them), after one
     * untimed run of each (so none is timed while the JIT compiles its code); the figure is the median run, with
     * that run's engine statistics, reported with the fastest and slowest. Greedy runs of one configuration must
     * produce the same tokens (compared by a hash of every document's tokens). Returns JSON rows.
     */
    public String documentsPerHour(LlamaModel m, List<int[]> prompts, int maxNew, int eos, List<String> specs,
                                   List<Double> budgets, long kvBytes, int maxBatch, int repeats,
                                   Function<String, int[]> encoder) throws Exception {
        List<String> names = new ArrayList<>();
        List<Double> levels = new ArrayList<>();
        for (String spec : specs) {
            for (double budget : spec.equals("full") ? List.of(1.0) : budgets) {
                names.add(spec);
                levels.add(budget);
            }
        }
        int configs = names.size();
        double[][] seconds = new double[configs][repeats];
        BatchEngine.Stats[][] stats = new BatchEngine.Stats[configs][repeats];
        long[] outTokens = new long[configs];
        long[] tokenHash = new long[configs];
        String[] described = new String[configs];
        for (int r = -1; r < repeats; r++) { // run −1: every configuration once, untimed (JIT warm-up)
            for (int k = 0; k < configs; k++) {
                KvPress press = PressRegistry.create(names.get(k), levels.get(k), encoder);
                described[k] = press.describe();
                long t0 = System.nanoTime();
                long tokens = 0;
                long hash = 17;
                BatchEngine.Stats runStats;
                try (BatchEngine e = new BatchEngine(m, new BatchEngine.Config(kvBytes, maxBatch, 128))) {
                    List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
                    for (int i = 0; i < prompts.size(); i++) {
                        fs.add(e.submit(new GenerationRequest("doc" + i, prompts.get(i), maxNew, t -> t == eos, press,
                            i)));
                    }
                    for (CompletableFuture<GenerationResult> f : fs) {
                        int[] t = f.get().tokens();
                        tokens += t.length;
                        hash = hash * 31 + java.util.Arrays.hashCode(t);
                    }
                    runStats = e.stats();
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                if (r >= 0 && (tokens != outTokens[k] || hash != tokenHash[k])) { // greedy: the same tokens every run
                    throw new IllegalStateException("end to end " + described[k] + ": run " + (r + 1) + " produced "
                        + "other tokens than the warm-up run (" + tokens + " against " + outTokens[k] + ")");
                }
                outTokens[k] = tokens;
                tokenHash[k] = hash;
                if (r < 0) {
                    continue;
                }
                seconds[k][r] = sec;
                stats[k][r] = runStats;
                log.printf(Locale.ROOT, "end to end %s, run %d of %d: %d documents in %.1f s = %.0f documents/hour%n",
                    described[k], r + 1, repeats, prompts.size(), seconds[k][r],
                    prompts.size() / seconds[k][r] * 3600);
            }
        }
        List<String> rows = new ArrayList<>();
        for (int k = 0; k < configs; k++) {
            double[] sorted = seconds[k].clone();
            java.util.Arrays.sort(sorted);
            double median = repeats % 2 == 1 ? sorted[repeats / 2]
                : (sorted[repeats / 2 - 1] + sorted[repeats / 2]) / 2;
            int middle = 0; // the run whose engine statistics are reported: the median one (the lower of two)
            for (int r = 0; r < repeats; r++) {
                if (seconds[k][r] == sorted[(repeats - 1) / 2]) {
                    middle = r;
                }
            }
            BatchEngine.Stats st = stats[k][middle];
            double dph = prompts.size() / median * 3600;
            double slowest = prompts.size() / sorted[repeats - 1] * 3600;
            double fastest = prompts.size() / sorted[0] * 3600;
            log.printf(Locale.ROOT, "end to end %s: median of %d runs %.0f documents/hour (%.0f-%.0f), mean %.2f "
                + "sequences decoding together (max %d), %d of %d prompt passes packed%n", described[k], repeats, dph,
                slowest, fastest, st.meanConcurrent(), st.maxConcurrent(), st.packedPromptPasses(), st.promptPasses());
            tableRow(String.format(Locale.ROOT, "end to end %s@%.2f", names.get(k), levels.get(k)),
                String.format(Locale.ROOT, "%.0f documents/hour", dph),
                k == 0 ? "(reported)" : "");
            StringBuilder runs = new StringBuilder();
            for (int r = 0; r < repeats; r++) {
                runs.append(r == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", seconds[k][r]));
            }
            rows.add(String.format(Locale.ROOT, "    {\"press\": \"%s\", \"budget\": %.2f, \"documents\": %d, "
                    + "\"seconds\": %.3f, \"run_seconds\": [%s], \"documents_per_hour\": %.1f, "
                    + "\"documents_per_hour_range\": [%.1f, %.1f], \"output_tokens\": %d, \"mean_concurrent\": %.3f, "
                    + "\"max_concurrent\": %d, \"peak_kv_bytes\": %d, \"peak_allocated_kv_bytes\": %d, "
                    + "\"prompt_passes\": %d, \"packed_prompt_passes\": %d}", names.get(k),
                levels.get(k), prompts.size(), median, runs, dph, slowest, fastest, outTokens[k], st.meanConcurrent(),
                st.maxConcurrent(), st.peakHeldBytes(), st.peakAllocatedBytes(), st.promptPasses(),
                st.packedPromptPasses()));
        }
        return "[\n" + String.join(",\n", rows) + "\n  ]";
    }
}
