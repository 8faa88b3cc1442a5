package io.reviver.kernel.eval;

import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.sample.GreedySampler;
import io.reviver.kernel.press.FullPress;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.KvReviverPress;
import io.reviver.kernel.press.PressContext;
import io.reviver.kernel.press.PressRegistry;
import io.reviver.kernel.press.PressedKvCache;
import io.reviver.kernel.press.PrefillRecord;
import io.reviver.modelstore.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The quality harness behind {@code reviver eval}: for each task × context length × seeded example, one prefill of
 * the document is recorded ({@link PrefillRecord}) and compressed by every press × budget; the question is then
 * prefilled through the compressed cache and the answer decoded greedily (the kvpress protocol: only the document
 * is compressed, so query-aware scoring sees the end of the document, not the question). Measured per cell:
 * accuracy (exact answer for passkey and multi-key; fact recall for facts), agreement with the full cache (same
 * greedy output; per-step top-1 agreement and mean KL(full ‖ press) of the next-token distributions while the
 * outputs still agree), bytes held vs the budget, and for presses with a sketch the reconstruction error and the
 * attention-output error at the last question token (with reconstruction vs with the vague tokens dropped),
 * against n_vague / w.
 */
public final class QualityEval {

    /**
     * Settings.
     *
     * @param presses  press specifications ({@link PressRegistry}); the full cache is always measured too
     * @param budgets  kept fractions
     * @param tasks    tasks
     * @param lengths  target prompt lengths in tokens
     * @param examples examples per task and length
     * @param seed     example seed
     * @param factsTokens tokens generated for the facts task
     */
    public record Settings(List<String> presses, List<Double> budgets, List<RetrievalTasks.Task> tasks,
                           List<Integer> lengths, int examples, long seed, int factsTokens) {
    }

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final RetrievalTasks tasks;
    private final Settings settings;
    private final PrintStream log;
    private final Map<String, Cell> cells = new LinkedHashMap<>();

    public QualityEval(LlamaModel model, Tokenizer tokenizer, RetrievalTasks tasks, Settings settings, PrintStream log) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.tasks = tasks;
        this.settings = settings;
        this.log = log;
    }

    /** One (press, budget, task, length) cell's sums. */
    static final class Cell {
        final String press;
        final double budget;
        final RetrievalTasks.Task task;
        final int length;
        int n;
        double score;
        int sameOutput;
        double klSum;
        int klSteps;
        int agreeSteps;
        double bytesOverBudget; // sum of bytes / budget bytes
        double bytesOverFull;   // sum of bytes / full bytes
        int errors;
        String firstError;
        AttentionProbe probeSums;
        int probed;
        double keyErr;
        double valueErr;
        double attnErr;
        double attnDropErr;
        double vaguePerBucket;
        long revivals;
        long promptTokens;

        Cell(String press, double budget, RetrievalTasks.Task task, int length) {
            this.press = press;
            this.budget = budget;
            this.task = task;
            this.length = length;
        }
    }

    /** Runs every cell; returns the JSON document. */
    public String run() {
        long t0 = System.nanoTime();
        LlamaConfig c = model.config();
        LlamaModel.State state = model.newState(64);
        List<KvPress> presses = new ArrayList<>();
        for (String spec : settings.presses()) {
            for (double b : settings.budgets()) {
                KvPress p = PressRegistry.create(spec, b, tokenizer::encode);
                presses.add(p);
            }
        }
        int eos = tokenizer.eosId().orElse(-1);
        for (RetrievalTasks.Task task : settings.tasks()) {
            for (int length : settings.lengths()) {
                long tl = System.nanoTime();
                for (int i = 0; i < settings.examples(); i++) {
                    RetrievalTasks.Example ex = tasks.example(task, settings.seed(), i, length);
                    int[] ids = tokenizer.encode(ex.prompt(), true);
                    int[] q = tokenizer.encode(ex.question());
                    int split = ids.length - q.length;
                    if (split < 1 || !Arrays.equals(Arrays.copyOfRange(ids, split, ids.length), q)) {
                        // the question did not tokenize on its own boundary: re-encode the two halves
                        int[] doc = tokenizer.encode(ex.document(), true);
                        ids = concat(doc, q);
                        split = doc.length;
                    }
                    int[] context = Arrays.copyOf(ids, split);
                    int[] want = tokenizer.encode(ex.answer());
                    int maxNew = task == RetrievalTasks.Task.FACTS ? settings.factsTokens() : want.length;
                    int capacity = ids.length + maxNew;
                    if (capacity > c.contextLength()) {
                        throw new IllegalArgumentException("example of " + ids.length + " tokens + " + maxNew
                            + " new exceeds the model's context " + c.contextLength() + "; lower the length");
                    }
                    PressContext ctx = model.pressContext(capacity, context.length, settings.seed() * 1_000_003L + i);
                    PrefillRecord record = new PrefillRecord(ctx, new int[] {32, 64}, c.contextLength());
                    float[] logits = new float[c.vocabSize()];
                    model.prefill(state, record, context, 0, null, logits);
                    Decoded full = decode(state, new FullPress().compress(record, ctx), q, context.length, maxNew,
                        task == RetrievalTasks.Task.FACTS ? eos : -1, null);
                    score(cell("full", 1.0, task, length), ex, want, full, full, ctx, null);
                    for (KvPress p : presses) {
                        Cell cell = cell(p.describe(), p.budget(), task, length);
                        KvCache cache;
                        try {
                            // KVzip's re-read, once per distinct pass (another chunk size replaces it)
                            record.runScoringPass(p, context, model.tokenRunner(state));
                            cache = p.compress(record, ctx);
                        } catch (IllegalArgumentException e) {
                            cell.errors++;
                            if (cell.firstError == null) {
                                cell.firstError = e.getMessage();
                            }
                            continue;
                        }
                        AttentionProbe probe = null;
                        if (cache instanceof PressedKvCache pc && p instanceof KvReviverPress) {
                            probe = new AttentionProbe(pc, record::readEntry, ids.length - 1);
                            cache = probe;
                        }
                        Decoded d = decode(state, cache, q, context.length, maxNew,
                            task == RetrievalTasks.Task.FACTS ? eos : -1, full);
                        score(cell, ex, want, d, full, ctx, probe);
                    }
                }
                log.printf(Locale.ROOT, "eval: %s at %d tokens: %d examples in %.1f s%n", task, length,
                    settings.examples(), (System.nanoTime() - tl) / 1e9);
            }
        }
        return json((System.nanoTime() - t0) / 1e9);
    }

    private Cell cell(String press, double budget, RetrievalTasks.Task task, int length) {
        return cells.computeIfAbsent(press + "|" + task + "|" + length, k -> new Cell(press, budget, task, length));
    }

    /** A greedy decode: tokens, bytes held, and fidelity sums against a reference. */
    record Decoded(int[] tokens, float[][] logProbs, long bytes, long fullBytes, double kl, int klSteps, int agree) {
    }

    private Decoded decode(LlamaModel.State state, KvCache cache, int[] question, int start, int maxNew, int stop,
                           Decoded ref) {
        LlamaConfig c = model.config();
        float[] logits = new float[c.vocabSize()];
        model.prefill(state, cache, question, start, null, logits);
        int pos = start + question.length;
        int[] out = new int[maxNew];
        float[][] lps = ref == null ? new float[maxNew][] : null;
        int count = 0;
        double kl = 0;
        int klSteps = 0;
        int agree = 0;
        boolean comparable = ref != null;
        for (int s = 0; s < maxNew; s++) {
            float[] lp = logSoftmax(logits);
            int next = GreedySampler.argmax(logits);
            if (lps != null) {
                lps[s] = lp;
            }
            if (comparable && s < ref.tokens.length) {
                float[] r = ref.logProbs[s];
                double d = 0;
                for (int v = 0; v < r.length; v++) {
                    d += Math.exp(r[v]) * (r[v] - lp[v]);
                }
                kl += Math.max(0, d);
                klSteps++;
                agree += next == ref.tokens[s] ? 1 : 0;
                comparable = next == ref.tokens[s];
            }
            out[count++] = next;
            if (next == stop || s == maxNew - 1) {
                break;
            }
            model.decode(state, cache, next, pos++, logits);
        }
        long full = (long) pos * c.nLayers() * c.kvDim() * 2 * Float.BYTES;
        return new Decoded(Arrays.copyOf(out, count), lps, cache.bytes(), full, kl, klSteps, agree);
    }

    private void score(Cell cell, RetrievalTasks.Example ex, int[] want, Decoded d, Decoded full, PressContext ctx,
                       AttentionProbe probe) {
        cell.n++;
        cell.promptTokens += ctx.promptLength();
        if (ex.task() == RetrievalTasks.Task.FACTS) {
            cell.score += RetrievalTasks.factRecall(tokenizer.decode(d.tokens), ex.facts());
        } else {
            cell.score += Arrays.equals(d.tokens, want) ? 1 : 0;
        }
        cell.sameOutput += Arrays.equals(d.tokens, full.tokens) ? 1 : 0;
        cell.klSum += d.kl;
        cell.klSteps += d.klSteps;
        cell.agreeSteps += d.agree;
        double budgetBytes = cell.budget * ctx.fullBytes();
        cell.bytesOverBudget += d.bytes / budgetBytes;
        cell.bytesOverFull += d.bytes / (double) d.fullBytes;
        if (probe != null && probe.attnCount > 0) {
            cell.probed++;
            cell.keyErr += probe.keyNormSq > 0 ? Math.sqrt(probe.keyErrSq / probe.keyNormSq) : 0;
            cell.valueErr += probe.valueNormSq > 0 ? Math.sqrt(probe.valueErrSq / probe.valueNormSq) : 0;
            cell.attnErr += probe.attnErrSum / probe.attnCount;
            cell.attnDropErr += probe.attnDropErrSum / probe.attnCount;
            cell.vaguePerBucket += probe.heads == 0 ? 0 : probe.vaguePerBucketSum / probe.heads;
            cell.revivals += probe.revivals();
        }
    }

    private String json(double seconds) {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"model\": ").append(FlatJson.quote(model.describe())).append(",\n");
        b.append("  \"protocol\": \"document compressed after prefill; question prefilled through the compressed "
            + "cache; greedy decode\",\n");
        b.append("  \"seed\": ").append(settings.seed()).append(",\n  \"examples\": ").append(settings.examples())
            .append(",\n  \"seconds\": ").append(String.format(Locale.ROOT, "%.1f", seconds)).append(",\n");
        b.append("  \"cells\": [\n");
        int k = 0;
        for (Cell c : cells.values()) {
            b.append("    {\"press\": ").append(FlatJson.quote(c.press)).append(", \"budget\": ").append(c.budget)
                .append(", \"task\": ").append(FlatJson.quote(c.task.name().toLowerCase(Locale.ROOT)))
                .append(", \"length\": ").append(c.length).append(", \"n\": ").append(c.n)
                .append(", \"errors\": ").append(c.errors);
            if (c.firstError != null) {
                b.append(", \"error\": ").append(FlatJson.quote(c.firstError));
            }
            if (c.n > 0) {
                b.append(String.format(Locale.ROOT, ", \"mean_prompt_tokens\": %.1f, \"accuracy\": %.4f, "
                        + "\"same_output_as_full\": %.4f, \"top1_agreement\": %.4f, \"mean_kl\": %.6f, "
                        + "\"bytes_over_budget\": %.4f, \"bytes_over_full\": %.4f",
                    c.promptTokens / (double) c.n, c.score / c.n, c.sameOutput / (double) c.n,
                    c.klSteps == 0 ? 1.0 : c.agreeSteps / (double) c.klSteps,
                    c.klSteps == 0 ? 0.0 : c.klSum / c.klSteps, c.bytesOverBudget / c.n, c.bytesOverFull / c.n));
            }
            if (c.probed > 0) {
                b.append(String.format(Locale.ROOT, ", \"sketch\": {\"key_rel_error\": %.4f, \"value_rel_error\": "
                        + "%.4f, \"attn_out_rel_error\": %.4f, \"attn_out_rel_error_if_dropped\": %.4f, "
                        + "\"n_vague_over_w\": %.2f, \"sqrt_n_vague_over_w\": %.3f, \"revivals_per_sequence\": %.2f}",
                    c.keyErr / c.probed, c.valueErr / c.probed, c.attnErr / c.probed, c.attnDropErr / c.probed,
                    c.vaguePerBucket / c.probed, Math.sqrt(c.vaguePerBucket / c.probed), c.revivals / (double) c.probed));
            }
            b.append(++k < cells.size() ? "},\n" : "}\n");
        }
        b.append("  ]\n}\n");
        return b.toString();
    }

    /** The Markdown tables: accuracy per task × length, fidelity, and the sketch diagnostics. */
    public String markdown() {
        StringBuilder b = new StringBuilder();
        List<String> cols = new ArrayList<>();
        for (RetrievalTasks.Task t : settings.tasks()) {
            for (int l : settings.lengths()) {
                cols.add(t.name().toLowerCase(Locale.ROOT) + "|" + l);
            }
        }
        Map<String, Map<String, Cell>> rows = new LinkedHashMap<>();
        for (Cell c : cells.values()) {
            rows.computeIfAbsent(c.press, k -> new LinkedHashMap<>())
                .put(c.task.name().toLowerCase(Locale.ROOT) + "|" + c.length, c);
        }
        b.append("Accuracy (passkey, multikey: exact answer; facts: recall), ").append(settings.examples())
            .append(" examples per cell, seed ").append(settings.seed()).append(".\n\n| press |");
        for (String col : cols) {
            b.append(' ').append(col.replace("|", " @ ")).append(" |");
        }
        b.append("\n|---|").append("---:|".repeat(cols.size())).append('\n');
        for (Map.Entry<String, Map<String, Cell>> r : rows.entrySet()) {
            b.append("| ").append(r.getKey()).append(" |");
            for (String col : cols) {
                Cell c = r.getValue().get(col);
                b.append(' ').append(c == null || c.n == 0 ? (c != null && c.errors > 0 ? "n/a" : "") :
                    String.format(Locale.ROOT, "%.1f%%", 100 * c.score / c.n)).append(" |");
            }
            b.append('\n');
        }
        b.append("\nFidelity to the full cache (all tasks and lengths pooled): same greedy output, per-step top-1 "
            + "agreement and mean KL while outputs agree, bytes held / budget.\n\n| press | same output | top-1 | "
            + "mean KL | bytes / budget | bytes / full |\n|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, Map<String, Cell>> r : rows.entrySet()) {
            int n = 0;
            int same = 0;
            int steps = 0;
            int agree = 0;
            double kl = 0;
            double bob = 0;
            double bof = 0;
            for (Cell c : r.getValue().values()) {
                n += c.n;
                same += c.sameOutput;
                steps += c.klSteps;
                agree += c.agreeSteps;
                kl += c.klSum;
                bob += c.bytesOverBudget;
                bof += c.bytesOverFull;
            }
            if (n == 0) {
                continue;
            }
            b.append(String.format(Locale.ROOT, "| %s | %.1f%% | %.1f%% | %.4f | %.3f | %.3f |%n", r.getKey(),
                100.0 * same / n, steps == 0 ? 100.0 : 100.0 * agree / steps, steps == 0 ? 0 : kl / steps, bob / n,
                bof / n));
        }
        boolean any = cells.values().stream().anyMatch(c -> c.probed > 0);
        if (any) {
            b.append("\nSketch diagnostics at the last question token (KVReviver): relative reconstruction error of "
                + "vague keys and values, attention-output relative error with reconstruction and with the vague "
                + "tokens dropped, and n_vague / w.\n\n| press | task @ length | key err | value err | attn err | "
                + "attn err if dropped | n_vague/w | √(n_vague/w) |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
            for (Cell c : cells.values()) {
                if (c.probed == 0) {
                    continue;
                }
                double r = c.vaguePerBucket / c.probed;
                b.append(String.format(Locale.ROOT, "| %s | %s @ %d | %.3f | %.3f | %.3f | %.3f | %.1f | %.2f |%n",
                    c.press, c.task.name().toLowerCase(Locale.ROOT), c.length, c.keyErr / c.probed,
                    c.valueErr / c.probed, c.attnErr / c.probed, c.attnDropErr / c.probed, r, Math.sqrt(r)));
            }
        }
        return b.toString();
    }

    /** Writes eval.json and eval.md into {@code dir}. */
    public static void write(Path dir, String json, String markdown) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("eval.json"), json, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("eval.md"), markdown, StandardCharsets.UTF_8);
    }

    static float[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        double lse = max + Math.log(sum);
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = (float) (logits[i] - lse);
        }
        return out;
    }


    private static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
