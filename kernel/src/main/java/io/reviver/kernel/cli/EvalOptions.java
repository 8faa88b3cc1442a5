package io.reviver.kernel.cli;

import io.reviver.kernel.eval.RetrievalTasks;
import io.reviver.kernel.press.PressRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The settings of {@code reviver eval}, parsed once from the command line and validated.
 *
 * @param model    model path or URI; null = the bundled model
 * @param corpus   JSONL corpus whose speeches fill the documents; null = the bundled sample corpus
 * @param presses  press specifications
 * @param budgets  kept fractions in (0, 1]
 * @param tasks    tasks
 * @param lengths  prompt lengths in tokens
 * @param examples examples per task and length, ≥ 1
 * @param seed     example seed
 * @param out      output directory (eval.json, eval.md)
 * @param threads  compute threads
 * @param verbose  stack traces on errors
 */
public record EvalOptions(String model, String corpus, List<String> presses, List<Double> budgets,
                          List<RetrievalTasks.Task> tasks, List<Integer> lengths, int examples, long seed, String out,
                          int threads, boolean verbose) {

    public static final String USAGE = String.join("\n",
        "Usage: reviver eval [options]",
        "",
        "Measures KV-cache presses against the full cache on seeded long-context retrieval tasks and writes",
        "OUT/eval.json and OUT/eval.md.",
        "",
        "Options:",
        "  --model FILE|URI     GGUF model (default: the bundled model)",
        "  --corpus FILE        JSONL (id, text) whose sotu-* speeches fill the documents (default: sample corpus)",
        "  --presses LIST       ';'-separated press specs, e.g. 'h2o;kvreviver:mode=signed,d=3' (default: all)",
        "  --budgets LIST       ','-separated kept fractions (default 0.5,0.25,0.1,0.05)",
        "  --tasks LIST         passkey,multikey,facts (default all)",
        "  --lengths LIST       prompt lengths in tokens (default 512,1920)",
        "  --examples N         examples per task and length (default 200)",
        "  --seed S             example seed (default 999)",
        "  --out DIR            output directory (default runs/eval)",
        "  --threads N          compute threads (default: available processors)",
        "  --verbose            print stack traces on errors");

    public EvalOptions {
        if (examples < 1) {
            throw new UsageException("--examples: " + examples + " must be ≥ 1");
        }
        if (threads < 1 || threads > 1024) {
            throw new UsageException("--threads: " + threads + " is outside [1, 1024]");
        }
        for (double b : budgets) {
            if (!(b > 0 && b <= 1)) {
                throw new UsageException("--budgets: " + b + " is outside (0, 1]");
            }
        }
        for (int l : lengths) {
            if (l < 64) {
                throw new UsageException("--lengths: " + l + " is below 64 tokens");
            }
        }
        for (String p : presses) {
            String name = (p.contains(":") ? p.substring(0, p.indexOf(':')) : p).trim();
            if (!PressRegistry.NAMES.contains(name)) {
                throw new UsageException("--presses: unknown press '" + name + "'; one of " + PressRegistry.NAMES);
            }
        }
    }

    /** Parses the arguments after {@code eval}. */
    public static EvalOptions parse(String[] args, int defaultThreads) {
        String model = null;
        String corpus = null;
        List<String> presses = new ArrayList<>(PressRegistry.NAMES.subList(1, PressRegistry.NAMES.size()));
        List<Double> budgets = List.of(0.5, 0.25, 0.1, 0.05);
        List<RetrievalTasks.Task> tasks = List.of(RetrievalTasks.Task.values());
        List<Integer> lengths = List.of(512, 1920);
        int examples = 200;
        long seed = 999;
        String out = "runs/eval";
        int threads = defaultThreads;
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--verbose")) {
                verbose = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new UsageException(flag.startsWith("--") ? flag + " needs a value" : "unknown argument '" + flag
                    + "'");
            }
            String v = args[++i];
            try {
                switch (flag) {
                    case "--model" -> model = v;
                    case "--corpus" -> corpus = v;
                    case "--presses" -> presses = Arrays.stream(v.split(";")).map(String::trim)
                        .filter(s -> !s.isEmpty()).toList();
                    case "--budgets" -> budgets = Arrays.stream(v.split(",")).map(String::trim)
                        .map(Double::parseDouble).toList();
                    case "--tasks" -> tasks = Arrays.stream(v.split(",")).map(String::trim)
                        .map(s -> RetrievalTasks.Task.valueOf(s.toUpperCase(Locale.ROOT))).toList();
                    case "--lengths" -> lengths = Arrays.stream(v.split(",")).map(String::trim)
                        .map(Integer::parseInt).toList();
                    case "--examples" -> examples = Integer.parseInt(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--out" -> out = v;
                    case "--threads" -> threads = Integer.parseInt(v);
                    default -> throw new UsageException("unknown argument '" + flag + "' (see reviver eval --help)");
                }
            } catch (NumberFormatException e) {
                throw new UsageException(flag + ": '" + v + "' is not a number");
            } catch (IllegalArgumentException e) {
                throw new UsageException(flag + ": '" + v + "' is not one of passkey, multikey, facts");
            }
        }
        return new EvalOptions(model, corpus, presses, budgets, tasks, lengths, examples, seed, out, threads, verbose);
    }
}
