package io.reviver.kernel.cli;

import io.reviver.kernel.attention.BackendChoice;
import java.util.Locale;

/**
 * The settings of {@code reviver generate}, parsed once from the command line by {@link #parse} and validated.
 *
 * @param model        model path or URI; null means the launcher's default model
 * @param prompt       prompt text
 * @param maxTokens    tokens to generate at most, [0, 1 000 000]
 * @param temperature  ≥ 0; 0 selects greedy decoding
 * @param topP         (0, 1]
 * @param seed         sampling seed
 * @param threads      compute threads, [1, 1024]
 * @param backend      tensor backend
 * @param prefillBatch prompt tokens per forward pass, [1, 4096]
 * @param addBos       whether to prepend the tokenizer's BOS token
 * @param verbose      stack traces on errors
 * @param press        KV-cache press specification ({@link io.reviver.kernel.press.PressRegistry})
 * @param budget       kept fraction of the full cache's bytes, (0, 1]
 * @param attention    attention backend: null for the built-in loops, else java, opencl or opencl-or-java
 */
public record GenerateOptions(String model, String prompt, int maxTokens, double temperature, double topP, long seed,
                              int threads, Backend backend, int prefillBatch, boolean addBos, boolean verbose,
                              String press, double budget, BackendChoice attention) {

    /** Weight-product backends selectable with {@code --backend}. */
    public enum Backend {
        /** JavaTensorOps, Vector API path. */
        JAVA("java"),
        /** JavaTensorOps, scalar reference path (and scalar element-wise helpers). */
        JAVA_SCALAR("java-scalar"),
        /** NativeTensorOps: Q8_0 products on the native int8 kernels (activations quantised per block). */
        NATIVE("native");

        private final String flag;

        Backend(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        static Backend fromFlag(String s) {
            for (Backend b : values()) {
                if (b.flag.equals(s)) {
                    return b;
                }
            }
            throw new UsageException("--backend: '" + s + "' is not one of java, java-scalar, native");
        }
    }

    /** Usage text for {@code --help}. */
    public static final String USAGE = String.join("\n",
        "Usage: reviver generate [--model FILE|URI] --prompt TEXT [options]",
        "",
        "Generates a continuation of TEXT with a Llama-family GGUF model and streams it to stdout;",
        "prefill and decode speed are reported on stderr.",
        "",
        "Options:",
        "  --model FILE|URI     GGUF model (default: the bundled model, models/reviver-tiny)",
        "  --prompt TEXT        prompt text (required)",
        "  --max-tokens N       tokens to generate at most (default 64)",
        "  --temperature T      sampling temperature, 0 = greedy (default 0)",
        "  --top-p P            nucleus mass in (0, 1] (default 0.9)",
        "  --seed S             sampling seed, a 64-bit integer (default 42)",
        "  --threads N          compute threads (default: available processors)",
        "  --backend B          java | java-scalar | native (default java); native runs Q8_0 products on the",
        "                       native int8 kernels, activations quantised to int8 per block (other numbers)",
        "  --batch-size N       prompt tokens per prefill pass (default 128)",
        "  --no-bos             do not prepend the BOS token",
        "  --press SPEC         KV-cache press: full, streaming_llm, h2o, snapkv, tova, knorm, kvreviver, kvzip,",
        "                       compactor, with options as name:key=value,... (default full)",
        "  --budget F           kept fraction of the full KV cache's bytes, in (0, 1] (default 1)",
        "  --attention B        attention backend: builtin | java | opencl | opencl-or-java (default builtin);",
        "                       opencl fails when no OpenCL device runs the kernels, opencl-or-java falls back loudly;",
        "                       kvreviver's sketch insert and reconstruction run on the same backend",
        "  --verbose            print stack traces on errors",
        "  --help               show this help",
        "",
        "Exit codes: 0 ok, 1 bad model or failure, 2 bad usage.");

    public GenerateOptions {
        if (prompt == null) {
            throw new UsageException("--prompt is required");
        }
        range("--max-tokens", maxTokens, 0, 1_000_000);
        range("--threads", threads, 1, 1024);
        range("--batch-size", prefillBatch, 1, 4096);
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new UsageException("--temperature: " + temperature + " must be a finite number ≥ 0");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new UsageException("--top-p: " + topP + " must lie in (0, 1]");
        }
        if (!(budget > 0 && budget <= 1)) {
            throw new UsageException("--budget: " + budget + " must lie in (0, 1]");
        }
    }

    /**
     * Parses the arguments after the {@code generate} command word.
     *
     * @param defaultThreads value of {@code --threads} when absent
     * @throws UsageException naming the flag and the bad value
     */
    public static GenerateOptions parse(String[] args, int defaultThreads) {
        String model = null;
        String prompt = null;
        int maxTokens = 64;
        double temperature = 0;
        double topP = 0.9;
        long seed = 42;
        int threads = defaultThreads;
        Backend backend = Backend.JAVA;
        int batch = 128;
        boolean addBos = true;
        boolean verbose = false;
        String press = "full";
        double budget = 1.0;
        BackendChoice attention = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            switch (flag) {
                case "--no-bos" -> addBos = false;
                case "--verbose" -> verbose = true;
                case "--model", "--prompt", "--max-tokens", "--temperature", "--top-p", "--seed", "--threads",
                     "--backend", "--batch-size", "--press", "--budget", "--attention" -> {
                    if (i + 1 >= args.length) {
                        throw new UsageException(flag + " needs a value");
                    }
                    String v = args[++i];
                    switch (flag) {
                        case "--model" -> model = v;
                        case "--prompt" -> prompt = v;
                        case "--max-tokens" -> maxTokens = parseInt(flag, v);
                        case "--temperature" -> temperature = parseDouble(flag, v);
                        case "--top-p" -> topP = parseDouble(flag, v);
                        case "--seed" -> seed = parseLong(flag, v);
                        case "--threads" -> threads = parseInt(flag, v);
                        case "--backend" -> backend = Backend.fromFlag(v.toLowerCase(Locale.ROOT));
                        case "--press" -> press = v;
                        case "--budget" -> budget = parseDouble(flag, v);
                        case "--attention" -> {
                            try {
                                attention = v.equals("builtin") ? null : BackendChoice.parse("--attention", v);
                            } catch (IllegalArgumentException e) {
                                throw new UsageException(e.getMessage());
                            }
                        }
                        default -> batch = parseInt(flag, v);
                    }
                }
                default -> throw new UsageException("unknown argument '" + flag + "' (see --help)");
            }
        }
        return new GenerateOptions(model, prompt, maxTokens, temperature, topP, seed, threads, backend, batch, addBos,
            verbose, press, budget, attention);
    }

    private static int parseInt(String flag, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + ": '" + v + "' is not an integer");
        }
    }

    private static long parseLong(String flag, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + ": '" + v + "' is not a 64-bit integer");
        }
    }

    private static double parseDouble(String flag, String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + ": '" + v + "' is not a number");
        }
    }

    private static void range(String flag, int v, int min, int max) {
        if (v < min || v > max) {
            throw new UsageException(flag + ": " + v + " is outside [" + min + ", " + max + "]");
        }
    }
}
