package io.reviver.spark.config;

import io.reviver.modelstore.source.ModelLocation;
import io.reviver.modelstore.source.ModelLocationException;
import io.reviver.spark.Redact;
import java.io.Serializable;
import java.util.Objects;

/**
 * The typed configuration of one summarisation job, built once on the driver by {@link JobConfigLoader} and
 * shipped to executors as is. Executors never read configuration files, system properties or environment
 * variables. See {@link JobConfigKeys} for each key's documentation and default.
 *
 * @param model          GGUF model location (local path or Hadoop URI) with its optional expected SHA-256
 * @param modelCacheDir  executor-local directory for the model cache
 * @param input          corpus URI or path
 * @param inputFormat    corpus format
 * @param output         output directory URI or path
 * @param outputFormat   output format
 * @param overwrite      whether an existing output is replaced
 * @param press          KV-cache compression method name (passed through; "full" = dense cache)
 * @param budget         fraction of the KV cache kept by the press, (0, 1]
 * @param kvMemoryBytes  KV-cache bytes per executor
 * @param maxNewTokens   tokens per generated summary at most, ≥ 1
 * @param promptTemplate prompt with one {@code {text}} placeholder
 * @param chunkTokens    document tokens per chunk, 0 = derived from context and KV memory
 * @param partitions     number of token-balanced partitions, 0 = 2 × default parallelism
 * @param limit          documents to summarise at most, 0 = all
 * @param threads        compute threads per model replica
 * @param attention      attention and sketch backend of each replica (java, opencl, opencl-or-java)
 * @param weights        weight-product backend of each replica (java, native)
 * @param prefillBatch   prompt tokens per prefill pass
 * @param temperature    0 = greedy
 * @param topP           nucleus mass when sampling
 * @param seed           base sampling seed
 * @param maxDocumentBytes  larger documents (UTF-8 bytes) get an error row
 * @param maxDocumentTokens documents with more tokens get an error row; 0 = no limit
 * @param resume         skip documents already done under the same {@link #configHash(long)}
 * @param measurePeaks   measure each executor's machine peaks for the report
 * @param progressSeconds seconds between progress lines on the driver
 */
public record JobConfig(ModelLocation model, String modelCacheDir, String input, InputFormat inputFormat,
                        String output, OutputFormat outputFormat, boolean overwrite, String press, double budget,
                        long kvMemoryBytes, int maxNewTokens, String promptTemplate, int chunkTokens,
                        int partitions, int limit, int threads,
                        io.reviver.kernel.attention.BackendChoice attention,
                        io.reviver.kernel.tensor.WeightsBackend weights, int prefillBatch, double temperature,
                        double topP, long seed, long maxDocumentBytes, int maxDocumentTokens, boolean resume,
                        boolean measurePeaks, int progressSeconds) implements Serializable {

    public JobConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelCacheDir, "modelCacheDir");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(inputFormat, "inputFormat");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(outputFormat, "outputFormat");
        Objects.requireNonNull(press, "press");
        Objects.requireNonNull(promptTemplate, "promptTemplate");
        if (press.isBlank()) {
            throw ConfigException.badValue(JobConfigKeys.PRESS, press, "is empty");
        }
        if (!(budget > 0 && budget <= 1)) {
            throw ConfigException.badValue(JobConfigKeys.BUDGET, String.valueOf(budget), "is not in (0, 1]");
        }
        try { // the press specification is parsed once here, on the driver (the encoder only stands in for kvzip)
            io.reviver.kernel.press.PressRegistry.create(press, budget, text -> new int[] {1});
        } catch (IllegalArgumentException e) {
            throw ConfigException.badValue(JobConfigKeys.PRESS, press, "is not a valid press: " + e.getMessage());
        }
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(weights, "weights");
        if (maxNewTokens < 1) {
            throw ConfigException.badValue(JobConfigKeys.MAX_NEW_TOKENS, String.valueOf(maxNewTokens), "is < 1");
        }
        if (stripSlash(input).equals(stripSlash(output))) {
            throw ConfigException.badValue(JobConfigKeys.OUTPUT, Redact.uri(output),
                "is the same as reviver.input");
        }
        if (chunkTokens != 0 && chunkTokens <= 2 * maxNewTokens) {
            throw ConfigException.badValue(JobConfigKeys.CHUNK_TOKENS, String.valueOf(chunkTokens),
                "must be 0 or more than twice reviver.max-new-tokens (" + maxNewTokens + ") so that merging "
                    + "chunk summaries shrinks the text");
        }
    }

    /**
     * SHA-256 (hex) of every setting that can change a document's summary: the model (location and expected
     * checksum), press, budget, the KV bytes one task may use (with the context it sets the chunk size; it
     * follows from {@code kv-memory} and the executors' concurrent tasks), generated tokens, prompt template, chunk
     * size, prefill batch, attention backend (its float sums differ in the last bits), weights backend (native
     * quantises the activations; hashed only when not the default java), sampling settings and seed,
     * and the document limits. Together with a document's id and content hash it keys the document's output row,
     * so a re-run or a resumed run never writes a document twice and never mixes results of different settings.
     * Input, output, partitions, threads, {@code limit} and reporting settings do not take part.
     *
     * @param kvBytesPerTask the KV bytes of one task in this run ({@code JobPlan.kvBytesPerTask})
     */
    public String configHash(long kvBytesPerTask) {
        String canonical = String.join("\n", "kv-bytes-per-task=" + kvBytesPerTask,
            "attention=" + attention.configName(),
            "model=" + model, "model-sha256=" + model.expectedSha256().orElse(""), "press=" + press,
            "budget=" + Double.toString(budget), "kv-memory=" + kvMemoryBytes, "max-new-tokens=" + maxNewTokens,
            "prompt-template=" + promptTemplate, "chunk-tokens=" + chunkTokens, "prefill-batch=" + prefillBatch,
            "temperature=" + Double.toString(temperature), "top-p=" + Double.toString(topP), "seed=" + seed,
            "max-document-bytes=" + maxDocumentBytes, "max-document-tokens=" + maxDocumentTokens)
            // only when not the default, so that outputs written before the key existed keep their hash
            + (weights == io.reviver.kernel.tensor.WeightsBackend.JAVA ? "" : "\nweights=" + weights.configName());
        return io.reviver.spark.engine.ContentHash.sha256(canonical);
    }

    /**
     * Builds the model location from the configured text; a relative local path is made absolute against the
     * driver's working directory.
     *
     * @throws ConfigException naming {@code reviver.model} or {@code reviver.model-sha256}
     */
    static ModelLocation parseModel(String model, String sha256) {
        try {
            String sha = sha256.isBlank() ? null : sha256;
            ModelLocation location = ModelLocation.parse(model, sha);
            if (location.isLocal() && !location.localPath().isAbsolute()) {
                // Executors run in other working directories: pin a relative path to the driver's.
                location = ModelLocation.parse(location.localPath().toAbsolutePath().toString(), sha);
            }
            return location;
        } catch (ModelLocationException e) {
            throw new ConfigException(JobConfigKeys.MODEL.property() + " (--model): '" + Redact.uri(model) + "'"
                + (sha256.isBlank() ? "" : " with " + JobConfigKeys.MODEL_SHA256.property() + " '" + sha256 + "'")
                + ": " + e.getMessage());
        }
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
