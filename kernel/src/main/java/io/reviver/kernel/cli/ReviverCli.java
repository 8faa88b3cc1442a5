package io.reviver.kernel.cli;

import io.reviver.kernel.bench.EngineBench;
import io.reviver.kernel.eval.QualityEval;
import io.reviver.kernel.eval.RetrievalTasks;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.press.KvPress;
import io.reviver.kernel.press.PressRegistry;
import io.reviver.kernel.model.Generator;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.sample.Sampler;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.NativeTensorOps;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.modelstore.ModelStoreException;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.source.ModelCache;
import io.reviver.modelstore.source.ModelLocation;
import io.reviver.modelstore.tokenizer.Tokenizer;
import io.reviver.modelstore.tokenizer.Tokenizers;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Entry point of the {@code reviver} command: {@code reviver generate --model FILE --prompt TEXT [options]}
 * (see {@link GenerateOptions#USAGE}). Streams the generated text to stdout as UTF-8 and reports prefill and
 * decode speed on stderr. Exit codes: 0 success, 1 bad model or failure (the typed exception's message, a
 * stack trace only with {@code --verbose}), 2 bad usage.
 */
public final class ReviverCli {

    private static final Logger LOG = LogManager.getLogger(ReviverCli.class);

    /** The bundled model used when {@code --model} is omitted, relative to the install home. */
    static final String DEFAULT_MODEL = "models/reviver-tiny/reviver-tiny-q8_0.gguf";

    /** The bundled sample corpus, relative to the install home. */
    static final String SAMPLE_CORPUS = "data/sample-corpus/sample.jsonl";

    private ReviverCli() {
    }

    /** Runs the command and exits with its code. The launcher sets {@code reviver.home} to the install root. */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        String home = System.getProperty("reviver.home");
        Path defaultModel = home == null ? null : Paths.get(home).resolve(DEFAULT_MODEL);
        int code = run(args, out, System.err, defaultModel);
        out.flush();
        System.exit(code);
    }

    /**
     * Runs one command.
     *
     * @param defaultModel model used when {@code --model} is absent, or null if there is none
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err, Path defaultModel) {
        String command = args.length == 0 ? null : args[0];
        boolean help = Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h");
        if (help) {
            out.println("eval".equals(command) ? EvalOptions.USAGE : "bench".equals(command) ? BenchOptions.USAGE
                : GenerateOptions.USAGE + "\n\n" + EvalOptions.USAGE + "\n\n" + BenchOptions.USAGE);
            return 0;
        }
        boolean verbose = Arrays.asList(args).contains("--verbose");
        try {
            if (command == null) {
                throw new UsageException("no command given");
            }
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            int cpus = Runtime.getRuntime().availableProcessors();
            switch (command) {
                case "generate" -> {
                    GenerateOptions o = GenerateOptions.parse(rest, cpus);
                    return guarded(() -> generate(o, out, err, defaultModel), err, verbose);
                }
                case "eval" -> {
                    EvalOptions o = EvalOptions.parse(rest, cpus);
                    return guarded(() -> eval(o, out, err, defaultModel), err, verbose);
                }
                case "bench" -> {
                    BenchOptions o = BenchOptions.parse(rest, cpus);
                    return guarded(() -> bench(o, out, err, defaultModel), err, verbose);
                }
                default -> throw new UsageException("unknown command '" + command + "'; the commands are generate, "
                    + "eval, bench");
            }
        } catch (UsageException e) {
            err.println("reviver: " + e.getMessage());
            err.println("Run 'reviver --help' for usage.");
            return 2;
        }
    }

    /** A command body that may fail. */
    private interface Body {
        void run() throws Exception;
    }

    /** Runs a command, mapping failures to exit code 1 with a one-line message. */
    private static int guarded(Body body, PrintStream err, boolean verbose) {
        try {
            body.run();
            return 0;
        } catch (ModelStoreException | IllegalArgumentException | IllegalStateException | java.io.IOException
                 | io.reviver.kernel.attention.BackendUnavailableException
                 | io.reviver.kernel.tensor.NativeUnavailableException e) {
            err.println("reviver: error: " + e.getMessage());
            if (verbose) {
                e.printStackTrace(err);
            }
            return 1;
        } catch (Exception e) {
            err.println("reviver: internal error: " + e);
            if (verbose) {
                e.printStackTrace(err);
            } else {
                err.println("(run with --verbose for the stack trace)");
            }
            return 1;
        }
    }

    /**
     * Resolves {@code --model}: a local path is used in place; a URI with a scheme (s3a://, hdfs://, file://, ...)
     * is copied once into the local model cache ({@code ~/.cache/reviver/models}) and verified there.
     */
    static Path resolveModel(String model, Path defaultModel) {
        if (model == null) {
            if (defaultModel == null) {
                throw new ModelStoreException("no --model given and no default model (reviver.home is not set)");
            }
            model = defaultModel.toString();
        }
        ModelLocation location = ModelLocation.parse(model);
        if (location.isLocal()) {
            Path path = location.localPath();
            if (!Files.isRegularFile(path)) {
                throw new ModelStoreException("model file not found: " + path.toAbsolutePath());
            }
            return path;
        }
        Path cacheDir = Paths.get(System.getProperty("user.home"), ".cache", "reviver", "models");
        return new ModelCache(cacheDir).resolve(location, new Configuration());
    }

    private static void bench(BenchOptions o, PrintStream out, PrintStream err, Path defaultModel)
        throws Exception {
        EngineBench bench = new EngineBench(err);
        String engine = bench.run(o.quick() ? EngineBench.Shape.QUICK : EngineBench.Shape.LLAMA_3_2_1B, o.threads(),
            o.prefillTokens(), o.seconds());
        Path dir = Paths.get(o.out());
        Files.createDirectories(dir);
        // every attention and sketch kernel, OpenCL vs the Java reference, with the device name
        io.reviver.kernel.bench.AttentionBench.main(new String[] {dir.resolve("attention-bench.json").toString(),
            String.valueOf(o.seconds())});
        Path path = resolveModel(null, defaultModel); // fails clearly when there is no bundled model
        Path corpus = sampleCorpus(defaultModel);
        if (!Files.isRegularFile(corpus)) {
            throw new IllegalArgumentException("sample corpus not found: " + corpus);
        }
        String e2e;
        try (Loaded l = Loaded.open(path, o.threads(), JavaTensorOps.Path.VECTOR)) {
            LlamaConfig config = l.config();
            Tokenizer tokenizer = l.tokenizer();
            try (LlamaModel model = new LlamaModel(config, l.weights(), l.ops(), ElementOps.vector(), o.threads())) {
                int maxNew = 48;
                int[] question = tokenizer.encode("\nList the facts in order:");
                java.util.List<int[]> prompts = new java.util.ArrayList<>();
                for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8)) {
                    if (line.isBlank() || prompts.size() >= o.documents()) {
                        continue;
                    }
                    int[] doc = tokenizer.encode(io.reviver.kernel.eval.FlatJson.parseObject(line).get("text"), true);
                    int keep = Math.min(doc.length, config.contextLength() - maxNew - question.length);
                    int[] p = Arrays.copyOf(doc, keep + question.length);
                    System.arraycopy(question, 0, p, keep, question.length);
                    prompts.add(p);
                }
                long kv = 64L << 20;
                e2e = bench.documentsPerHour(model, prompts, maxNew, tokenizer.eosId().orElse(-1),
                    java.util.List.of("full", "kvreviver", "kvzip", "compactor", "h2o", "snapkv", "tova", "knorm",
                        "streaming_llm"),
                    java.util.List.of(0.25, 0.1), kv, 16, o.repeats(), tokenizer::encode);
                e2e = "{\n  \"model\": " + io.reviver.kernel.eval.FlatJson.quote(path.getFileName().toString())
                    + ",\n  \"kv_budget_bytes\": " + kv + ",\n  \"max_new_tokens\": " + maxNew + ",\n  \"repeats\": "
                    + o.repeats() + ",\n  \"runs\": "
                    + e2e + "\n}";
            }
        }
        String json = "{\n\"engine\": " + engine + ",\n\"end_to_end\": " + e2e + "\n}\n";
        Files.writeString(dir.resolve("bench.json"), json, StandardCharsets.UTF_8);
        out.print(bench.table());
        out.println("wrote " + dir.resolve("bench.json") + " and " + dir.resolve("attention-bench.json"));
    }

    /** The bundled sample corpus, found from the bundled model's path (home/models/reviver-tiny/*.gguf). */
    private static Path sampleCorpus(Path defaultModel) {
        return defaultModel.getParent().getParent().getParent().resolve(SAMPLE_CORPUS);
    }

    /** A model file opened with its weights and tokenizer loaded; closing it closes the backend and the file. */
    private record Loaded(GgufFile file, TensorOps ops, LlamaConfig config, LlamaWeights weights,
                          Tokenizer tokenizer) implements AutoCloseable {

        static Loaded open(Path path, int threads, JavaTensorOps.Path opsPath) {
            return open(path, threads, opsPath == JavaTensorOps.Path.VECTOR ? GenerateOptions.Backend.JAVA
                : GenerateOptions.Backend.JAVA_SCALAR);
        }

        static Loaded open(Path path, int threads, GenerateOptions.Backend backend) {
            GgufFile file = GgufFile.open(path);
            TensorOps ops = null;
            try {
                ops = switch (backend) {
                    case JAVA -> new JavaTensorOps(threads, JavaTensorOps.Path.VECTOR);
                    case JAVA_SCALAR -> new JavaTensorOps(threads, JavaTensorOps.Path.SCALAR);
                    case NATIVE -> new NativeTensorOps(threads, null);
                };
                LlamaConfig config = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
                LlamaWeights weights = LlamaWeights.load(TensorSource.of(file), config, ops);
                return new Loaded(file, ops, config, weights, Tokenizers.fromGguf(file.metadata()));
            } catch (RuntimeException e) {
                if (ops != null) {
                    ops.close();
                }
                file.close();
                throw e;
            }
        }

        @Override
        public void close() {
            ops.close();
            file.close();
        }
    }

    private static void eval(EvalOptions o, PrintStream out, PrintStream err, Path defaultModel)
        throws java.io.IOException {
        Path path = resolveModel(o.model(), defaultModel);
        Path corpus = o.corpus() != null ? Paths.get(o.corpus()) : defaultModel == null ? null
            : sampleCorpus(defaultModel);
        if (corpus == null || !Files.isRegularFile(corpus)) {
            throw new IllegalArgumentException("corpus file not found: " + corpus + " (use --corpus)");
        }
        try (Loaded l = Loaded.open(path, o.threads(), JavaTensorOps.Path.VECTOR)) {
            Tokenizer tokenizer = l.tokenizer();
            try (LlamaModel model = new LlamaModel(l.config(), l.weights(), l.ops(), ElementOps.vector(),
                o.threads())) {
                LOG.info("model {}: {}", path, model.describe());
                QualityEval e = new QualityEval(model, tokenizer,
                    new RetrievalTasks(tokenizer, RetrievalTasks.speeches(corpus)),
                    new QualityEval.Settings(o.presses(), o.budgets(), o.tasks(), o.lengths(), o.examples(), o.seed(),
                        80), err);
                String json = e.run();
                String md = e.markdown();
                QualityEval.write(Paths.get(o.out()), json, md);
                out.println(md);
                out.println("wrote " + Paths.get(o.out()).resolve("eval.json") + " and eval.md");
            }
        }
    }

    private static void generate(GenerateOptions o, PrintStream out, PrintStream err, Path defaultModel) {
        Path path = resolveModel(o.model(), defaultModel);
        boolean vector = o.backend() != GenerateOptions.Backend.JAVA_SCALAR;
        try (Loaded l = Loaded.open(path, o.threads(), o.backend())) {
            LlamaConfig config = l.config();
            Tokenizer tokenizer = l.tokenizer();
            java.util.List<io.reviver.kernel.attention.AttentionBackend> backends = null;
            if (o.attention() != null) {
                backends = new java.util.ArrayList<>();
                for (int g = 0; g < config.nKvHeads(); g++) {
                    backends.add(io.reviver.kernel.opencl.OpenClAttentionBackend.open(o.attention()));
                }
            }
            try (LlamaModel model = new LlamaModel(config, l.weights(), l.ops(),
                vector ? ElementOps.forProducts(l.ops()) : ElementOps.scalar(), o.threads(), backends)) {
                LOG.info("model {}: {}", path, model.describe());
                int[] prompt = tokenizer.encode(o.prompt(), o.addBos());
                Sampler sampler = Sampler.of(o.temperature(), o.topP(), o.seed());
                Utf8StreamDecoder text = new Utf8StreamDecoder();
                int eos = tokenizer.eosId().orElse(-1);
                KvPress press = PressRegistry.create(o.press(), o.budget(), tokenizer::encode);
                LOG.info("KV press: {}", press.describe());
                Generator.Result r = Generator.generate(model, prompt, o.maxTokens(), sampler, o.prefillBatch(),
                    t -> t == eos, t -> {
                        out.print(text.feed(tokenizer.tokenBytes(t)));
                        out.flush();
                    }, press, o.seed());
                out.println(text.finish());
                out.flush();
                err.printf(Locale.ROOT, "prefill: %d tokens in %.3f s (%.1f tokens/s)%n", r.promptTokens(),
                    r.prefillNanos() / 1e9, r.prefillTokensPerSecond());
                err.printf(Locale.ROOT, "decode: %d tokens in %.3f s (%.1f tokens/s); generated %d, stop: %s%n",
                    r.decodeSteps(), r.decodeNanos() / 1e9, r.decodeTokensPerSecond(), r.tokens().length,
                    r.stopReason().name().toLowerCase(Locale.ROOT));
                err.printf(Locale.ROOT, "kv cache: %s, %d bytes at the end (%.1f%% of the full cache's %d)%n",
                    press.describe(), r.cacheBytes(), 100.0 * r.cacheBytes() / Math.max(1, r.fullCacheBytes()),
                    r.fullCacheBytes());
            }
        }
    }
}
