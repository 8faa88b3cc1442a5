package io.reviver.spark.config;

import java.util.List;

/**
 * Every key of the summarisation job, declared once with its type, default, documentation and check. The order
 * here is the order of {@code --help}.
 */
public final class JobConfigKeys {

    private JobConfigKeys() {
    }

    /** The default prompt; {@value #TEXT_PLACEHOLDER} marks where the document (or chunk) goes. */
    public static final String DEFAULT_TEMPLATE = "{text}\n\nIn summary,";
    /** Placeholder in {@link #PROMPT_TEMPLATE}. */
    public static final String TEXT_PLACEHOLDER = "{text}";

    public static final ConfigKey<String> MODEL = new ConfigKey<>("model",
        "GGUF model: local path, or hdfs://, s3a://, file:// URI (fetched once per executor)", null,
        ConfigKey.nonEmpty());
    public static final ConfigKey<String> MODEL_SHA256 = new ConfigKey<>("model-sha256",
        "expected SHA-256 of the model file (64 hex characters), or empty", "", s -> s);
    public static final ConfigKey<String> MODEL_CACHE_DIR = new ConfigKey<>("model-cache-dir",
        "local directory on each executor where remote models are cached", "/tmp/reviver-model-cache",
        ConfigKey.nonEmpty());
    public static final ConfigKey<String> INPUT = new ConfigKey<>("input",
        "corpus: a file or directory URI (s3a://, hdfs://, file://) or local path", null, ConfigKey.nonEmpty());
    public static final ConfigKey<InputFormat> INPUT_FORMAT = new ConfigKey<>("input-format",
        "jsonl (id, text per line), text (one document per file) or parquet (id, text columns)", "jsonl",
        ConfigKey.oneOf(InputFormat.class));
    public static final ConfigKey<String> OUTPUT = new ConfigKey<>("output",
        "output directory URI; must not exist unless overwrite is true", null, ConfigKey.nonEmpty());
    public static final ConfigKey<OutputFormat> OUTPUT_FORMAT = new ConfigKey<>("output-format",
        "parquet or jsonl", "parquet", ConfigKey.oneOf(OutputFormat.class));
    public static final ConfigKey<Boolean> OVERWRITE = new ConfigKey<>("overwrite",
        "replace an existing output directory", "false", ConfigKey.bool());
    public static final ConfigKey<String> PRESS = new ConfigKey<>("press",
        "KV-cache compression method; full = no compression", "full", ConfigKey.nonEmpty());
    public static final ConfigKey<Double> BUDGET = new ConfigKey<>("budget",
        "fraction of the KV cache the press keeps, in (0, 1]", "1.0", s -> {
            double v = ConfigKey.number().apply(s);
            if (!(v > 0 && v <= 1)) {
                throw new IllegalArgumentException("is not in (0, 1]");
            }
            return v;
        });
    public static final ConfigKey<Long> KV_MEMORY = new ConfigKey<>("kv-memory",
        "KV-cache memory per executor (e.g. 512m, 2g), shared by its concurrent tasks", "1g",
        ConfigKey.byteSize(1 << 20));
    public static final ConfigKey<Integer> MAX_NEW_TOKENS = new ConfigKey<>("max-new-tokens",
        "tokens generated per summary at most", "48", ConfigKey.intIn(1, 1 << 16));
    public static final ConfigKey<String> PROMPT_TEMPLATE = new ConfigKey<>("prompt-template",
        "prompt text with {text} where the document goes (\\n for a newline)", DEFAULT_TEMPLATE.replace("\n", "\\n"),
        s -> {
            String t = s.replace("\\n", "\n");
            int at = t.indexOf(TEXT_PLACEHOLDER);
            if (at < 0 || t.indexOf(TEXT_PLACEHOLDER, at + 1) >= 0) {
                throw new IllegalArgumentException("must contain " + TEXT_PLACEHOLDER + " exactly once");
            }
            return t;
        });
    public static final ConfigKey<Integer> CHUNK_TOKENS = new ConfigKey<>("chunk-tokens",
        "document tokens per chunk; 0 = as many as fit the context and the KV memory", "0",
        ConfigKey.intIn(0, 1 << 24));
    public static final ConfigKey<Integer> PARTITIONS = new ConfigKey<>("partitions",
        "partitions of similar token counts; 0 = 2 x the default parallelism", "0", ConfigKey.intIn(0, 1 << 20));
    public static final ConfigKey<Integer> LIMIT = new ConfigKey<>("limit",
        "summarise only the first N documents; 0 = all", "0", ConfigKey.intIn(0, Integer.MAX_VALUE));
    public static final ConfigKey<Integer> THREADS = new ConfigKey<>("threads",
        "compute threads per executor model replica", "1", ConfigKey.intIn(1, 1024));
    public static final ConfigKey<io.reviver.kernel.attention.BackendChoice> ATTENTION = new ConfigKey<>("attention",
        "attention and KVReviver sketch backend of each executor: java, opencl (required; fails without an OpenCL "
            + "device) or opencl-or-java (falls back with a warning)", "java",
        s -> {
            try {
                return io.reviver.kernel.attention.BackendChoice.parse("attention", s);
            } catch (IllegalArgumentException e) { // this key's message form, as for weights below
                throw new IllegalArgumentException("is not a backend; use one of java, opencl, opencl-or-java");
            }
        });
    public static final ConfigKey<io.reviver.kernel.tensor.WeightsBackend> WEIGHTS = new ConfigKey<>("weights",
        "weight-product backend of each executor: java (Vector API, float activations) or native (int8 kernels of "
            + "the jar's native library, activations quantised per block: faster, other numbers; fails where the "
            + "library does not run)", "java",
        s -> {
            try {
                return io.reviver.kernel.tensor.WeightsBackend.parse(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("is not a backend; use java or native");
            }
        });
    public static final ConfigKey<Integer> PREFILL_BATCH = new ConfigKey<>("prefill-batch",
        "prompt tokens per prefill forward pass", "128", ConfigKey.intIn(1, 4096));
    public static final ConfigKey<Double> TEMPERATURE = new ConfigKey<>("temperature",
        "sampling temperature; 0 = greedy", "0", s -> {
            double v = ConfigKey.number().apply(s);
            if (v < 0) {
                throw new IllegalArgumentException("is negative");
            }
            return v;
        });
    public static final ConfigKey<Double> TOP_P = new ConfigKey<>("top-p",
        "nucleus mass in (0, 1] when sampling", "0.9", s -> {
            double v = ConfigKey.number().apply(s);
            if (!(v > 0 && v <= 1)) {
                throw new IllegalArgumentException("is not in (0, 1]");
            }
            return v;
        });
    public static final ConfigKey<Long> SEED = new ConfigKey<>("seed",
        "sampling seed; each document's sampler is seeded from it and the document's content hash", "42",
        ConfigKey.anyLong());
    public static final ConfigKey<Long> MAX_DOCUMENT_BYTES = new ConfigKey<>("max-document-bytes",
        "documents larger than this (UTF-8 bytes, e.g. 16m) get an error row without being read whole", "16m",
        ConfigKey.byteSize(1));
    public static final ConfigKey<Integer> MAX_DOCUMENT_TOKENS = new ConfigKey<>("max-document-tokens",
        "documents with more tokens than this get an error row; 0 = no limit", "0",
        ConfigKey.intIn(0, Integer.MAX_VALUE));
    public static final ConfigKey<Boolean> RESUME = new ConfigKey<>("resume",
        "skip documents already summarised with the same configuration (in the output or in the work directory "
            + "of an interrupted run)", "true", ConfigKey.bool());
    public static final ConfigKey<Boolean> MEASURE_PEAKS = new ConfigKey<>("measure-peaks",
        "measure each executor's memory bandwidth and FMA peak once (about 1 s) for the report", "true",
        ConfigKey.bool());
    public static final ConfigKey<Integer> PROGRESS_SECONDS = new ConfigKey<>("progress-seconds",
        "seconds between progress lines", "10", ConfigKey.intIn(1, 3600));

    /** All keys, in documentation order. */
    public static final List<ConfigKey<?>> ALL = List.of(MODEL, MODEL_SHA256, MODEL_CACHE_DIR, INPUT, INPUT_FORMAT,
        OUTPUT, OUTPUT_FORMAT, OVERWRITE, PRESS, BUDGET, KV_MEMORY, MAX_NEW_TOKENS, PROMPT_TEMPLATE, CHUNK_TOKENS,
        PARTITIONS, LIMIT, THREADS, ATTENTION, WEIGHTS, PREFILL_BATCH, TEMPERATURE, TOP_P, SEED, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TOKENS,
        RESUME, MEASURE_PEAKS, PROGRESS_SECONDS);
}
