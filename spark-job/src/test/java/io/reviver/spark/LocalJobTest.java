package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ContentHash;
import io.reviver.spark.engine.DocumentSummary;
import io.reviver.spark.engine.ModelReplica;
import io.reviver.spark.engine.ReplicaCache;
import io.reviver.spark.engine.SummaryEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job end to end in the shared local[2] session, on the bundled model, for each input and output format. */
class LocalJobTest {

    private static final int MAX_NEW = 16;

    @TempDir
    Path tmp;

    private Map<String, String> baseConfig(String input, String format, String output, String outputFormat) {
        Map<String, String> v = new HashMap<>();
        v.put("model", TestCorpus.model().toString());
        v.put("input", input);
        v.put("input-format", format);
        v.put("output", output);
        v.put("output-format", outputFormat);
        v.put("max-new-tokens", String.valueOf(MAX_NEW));
        v.put("progress-seconds", "1");
        return v;
    }

    @Test
    void jsonlToParquetWithChunkedDocumentAndErrorRows() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(5, 600);
        String longId = "long-document";
        String longText = TestCorpus.sample(1, 6000).values().iterator().next();
        docs.put(longId, longText);
        docs.put("empty-document", "   ");
        Path input = tmp.resolve("in/corpus.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of("{\"id\": \"no-text\"}", "{this is not json"));
        Path out = tmp.resolve("out/summaries");
        Map<String, String> v = baseConfig(input.toUri().toString(), "jsonl", out.toUri().toString(), "parquet");
        v.put("press", "kvreviver");
        v.put("budget", "0.25");
        v.put("chunk-tokens", "300");
        v.put("partitions", "3");
        JobConfig config = JobConfigLoader.fromValues(v);

        ReplicaCache.jvm().releaseAll();
        int loadsBefore = ReplicaCache.jvm().loadCount();
        ThroughputReport report = SummarizeJob.run(spark, config);
        assertEquals(1, ReplicaCache.jvm().loadCount() - loadsBefore, "model loaded once in this JVM for the job");

        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(docs.size() + 2, rows.size(), "one row per input line, no duplicates");
        Map<String, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        assertEquals(rows.size(), byId.size(), "ids unique");
        for (Map.Entry<String, String> d : docs.entrySet()) {
            Row r = byId.get(d.getKey());
            assertNotNull(r, d.getKey());
            assertEquals("kvreviver", r.getAs("press"));
            assertEquals(0.25, (double) r.getAs("budget"));
            if (d.getKey().equals("empty-document")) {
                assertEquals("empty document", r.getAs("error"));
                assertNull(r.getAs("summary"));
                continue;
            }
            assertNull(r.getAs("error"), () -> d.getKey() + ": " + r.getAs("error"));
            assertEquals(ContentHash.sha256(d.getValue()), r.getAs("content_sha256"));
            String summary = r.getAs("summary");
            assertFalse(summary.isBlank(), d.getKey());
            int outTokens = r.getAs("output_tokens");
            assertTrue(outTokens >= 1 && outTokens <= MAX_NEW, d.getKey() + " output tokens " + outTokens);
            assertTrue((int) r.getAs("input_tokens") > 10, d.getKey());
        }
        Row longRow = byId.get(longId);
        assertTrue((int) longRow.getAs("chunks") >= 3, "long document split: " + longRow.getAs("chunks"));
        assertEquals(1, (int) byId.get(docs.keySet().iterator().next()).getAs("chunks"));
        assertEquals("missing text", byId.get("no-text").getAs("error"));
        long malformed = rows.stream().filter(r -> "missing id".equals(r.getAs("error"))).count();
        assertEquals(1, malformed, "the malformed line is an error row");

        // The job's summary equals the engine's, run directly (greedy, deterministic, same chunking).
        try (ModelReplica replica = ModelReplica.load(TestCorpus.model(), 1)) {
            SummaryEngine engine = new SummaryEngine(replica, config, config.kvMemoryBytes() / 2);
            DocumentSummary direct = engine.summarize(0, longId, longText, null);
            assertEquals(direct.summary(), longRow.getAs("summary"));
            assertEquals(direct.chunks(), (int) longRow.getAs("chunks"));
        }

        assertEquals(rows.size(), report.documents());
        assertEquals(3, report.failed());
        assertEquals(3, report.partitions());
        assertEquals(1, report.chunkedDocuments());
        assertTrue(Files.exists(out.resolve(AtomicOutput.REPORT)), "report marks the committed output");
        JsonNode json = new ObjectMapper().readTree(out.resolve(AtomicOutput.REPORT).toFile());
        assertEquals(ThroughputReport.FORMAT, json.path("format").asText());
        assertEquals("done", json.path("status").asText());
        assertEquals(rows.size(), json.path("cluster").path("documents").asLong(), json.toString());
        assertEquals(rows.size(), json.path("cluster").path("summarized").asLong(), json.toString());
        String hash = json.path("config").path("config_hash").asText();
        assertEquals(config.configHash(config.kvMemoryBytes() / 2), hash, "local[2]: two tasks share kv-memory");
        assertTrue(rows.stream().allMatch(r -> hash.equals(r.getAs("config_sha256"))), "rows carry the hash");
        JsonNode executor = json.path("executors").path(0);
        assertEquals(rows.size(), executor.path("documents").asLong(), "local mode: one executor did all");
        assertTrue(executor.path("prefill_tokens").asLong() > executor.path("input_tokens").asLong(),
            "prefill covers the document tokens plus templates: " + executor);
        assertTrue(executor.path("time_split_seconds").path("prefill").asDouble() > 0, executor.toString());
        assertTrue(executor.path("sequences_max").asInt() >= 1, executor.toString());
        assertTrue(executor.path("kv_bytes_peak").asLong() > 0
            && executor.path("kv_bytes_peak").asLong() <= executor.path("kv_budget_bytes").asLong(),
            executor.toString());
        double fraction = executor.path("achieved").path("decode_bandwidth_fraction").asDouble();
        assertTrue(fraction > 0 && fraction < 1.5, "decode at a plausible fraction of the bandwidth: " + executor);
        assertTrue(json.path("machine").path("fma_gflop_s").asDouble() > 0, json.toString());
        assertTrue(json.path("progress").size() >= 2, json.toString());
        assertEquals(1, json.path("errors").path("missing id").asLong(), json.toString());
        assertNoTemporaries(out.getParent());
    }

    /** The executors' attention and KVReviver sketches on OpenCL (PoCL here) give the Java path's summaries. */
    @Test
    void kvReviverOnOpenClGivesTheSameSummariesAsJava() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(3, 700);
        Path input = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of());
        Map<String, Map<String, String>> summaries = new HashMap<>();
        for (String attention : List.of("java", "opencl")) {
            Path out = tmp.resolve("out-" + attention);
            Map<String, String> v = baseConfig(input.toString(), "jsonl", out.toString(), "jsonl");
            v.put("press", "kvreviver");
            v.put("budget", "0.25");
            v.put("attention", attention);
            v.put("measure-peaks", "false");
            SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
            Map<String, String> byId = new HashMap<>();
            for (Row r : spark.read().schema(OutputSchema.SCHEMA).json(out.toString()).collectAsList()) {
                assertNull(r.getAs("error"), () -> attention + ": " + r.getAs("error"));
                byId.put(r.getAs("id"), r.getAs("summary"));
            }
            summaries.put(attention, byId);
        }
        assertEquals(docs.keySet(), summaries.get("opencl").keySet());
        assertEquals(summaries.get("java"), summaries.get("opencl"));
        ReplicaCache.jvm().releaseAll();
    }

    /**
     * The executors' weight products on the native int8 kernels: every document summarised, no error row, and the
     * rows keyed by a configuration hash of their own (the numbers differ from the Java backend's). Skipped where the
     * native library does not load (the kernel module's tests require it wherever the build made it).
     */
    @Test
    void nativeWeightsSummariseEveryDocument() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.reviver.kernel.tensor.NativeQ8.available(),
            io.reviver.kernel.tensor.NativeQ8.status());
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(3, 700);
        Path input = tmp.resolve("corpus-native.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of());
        Map<String, String> configHash = new HashMap<>();
        for (String weights : List.of("java", "native")) {
            Path out = tmp.resolve("out-weights-" + weights);
            Map<String, String> v = baseConfig(input.toString(), "jsonl", out.toString(), "jsonl");
            v.put("weights", weights);
            v.put("measure-peaks", "false");
            SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
            List<Row> rows = spark.read().schema(OutputSchema.SCHEMA).json(out.toString()).collectAsList();
            assertEquals(docs.size(), rows.size(), weights);
            for (Row r : rows) {
                assertNull(r.getAs("error"), () -> weights + ": " + r.getAs("error"));
                String summary = r.getAs("summary");
                assertTrue(summary != null && !summary.isBlank(), weights + ": empty summary");
                configHash.put(weights, r.getAs("config_sha256"));
            }
        }
        assertTrue(!configHash.get("java").equals(configHash.get("native")), configHash.toString());
        ReplicaCache.jvm().releaseAll();
    }

    @Test
    void textFilesToJsonl() throws Exception {
        SparkSession spark = SharedSpark.session();
        Path dir = Files.createDirectories(tmp.resolve("texts"));
        Map<String, String> docs = TestCorpus.sample(3, 500);
        int i = 0;
        for (String text : docs.values()) {
            Files.writeString(dir.resolve("doc-" + i++ + ".txt"), text, StandardCharsets.UTF_8);
        }
        Files.writeString(dir.resolve("empty.txt"), "", StandardCharsets.UTF_8);
        Path out = tmp.resolve("text-out");
        JobConfig config = JobConfigLoader.fromValues(
            baseConfig(dir.toString(), "text", out.toString(), "jsonl"));
        SummarizeJob.run(spark, config);

        List<Row> rows = spark.read().schema(OutputSchema.SCHEMA).json(out.toString()).collectAsList();
        assertEquals(4, rows.size());
        try (Stream<Path> files = Files.list(out)) {
            String anyJson = files.filter(p -> p.getFileName().toString().endsWith(".json"))
                .map(p -> {
                    try {
                        return Files.readString(p);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).collect(Collectors.joining());
            assertTrue(anyJson.contains("\"error\":null"), "null fields are written as null in JSONL");
        }
        for (Row r : rows) {
            String id = r.getAs("id");
            assertTrue(id.startsWith("file:") && id.contains("/texts/"), id);
            if (id.endsWith("empty.txt")) {
                assertEquals("empty document", r.getAs("error"));
            } else {
                assertNull(r.getAs("error"), id);
                String name = Path.of(java.net.URI.create(id)).getFileName().toString();
                int n = Integer.parseInt(name.substring(4, name.length() - 4));
                String text = docs.values().stream().skip(n).findFirst().orElseThrow();
                assertEquals(ContentHash.sha256(text), r.getAs("content_sha256"));
            }
        }
    }

    @Test
    void parquetInputWithNumericIdsAndLimit() throws Exception {
        SparkSession spark = SharedSpark.session();
        StructType schema = new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType)
            .add("extra", DataTypes.StringType);
        List<Row> in = TestCorpus.sample(4, 400).values().stream().map(t -> RowFactory.create(0L, t, "x"))
            .collect(Collectors.toList());
        for (int i = 0; i < in.size(); i++) {
            in.set(i, RowFactory.create(100L + i, in.get(i).getString(1), "x"));
        }
        Path input = tmp.resolve("in.parquet");
        spark.createDataFrame(in, schema).coalesce(1).write().parquet(input.toString());
        Path out = tmp.resolve("pq-out");
        Map<String, String> v = baseConfig(input.toString(), "parquet", out.toString(), "parquet");
        v.put("limit", "3");
        SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
        Dataset<Row> result = spark.read().parquet(out.toString());
        List<String> ids = result.orderBy("doc_index").collectAsList().stream().map(r -> (String) r.getAs("id"))
            .collect(Collectors.toList());
        assertEquals(List.of("100", "101", "102"), ids);
        assertEquals(0, result.filter("error is not null").count());
    }

    @Test
    void existingOutputIsRefusedAndLeavesNothingBehind() throws Exception {
        SparkSession spark = SharedSpark.session();
        Path input = tmp.resolve("c.jsonl");
        TestCorpus.writeJsonl(input, TestCorpus.sample(1, 200), List.of());
        Path out = Files.createDirectories(tmp.resolve("exists"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        JobConfig config = JobConfigLoader.fromValues(baseConfig(input.toString(), "jsonl", out.toString(), "jsonl"));
        ConfigException e = assertThrows(ConfigException.class, () -> SummarizeJob.run(spark, config));
        assertTrue(e.getMessage().contains("reviver.output") && e.getMessage().contains(out.toString()),
            e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        assertNoTemporaries(tmp);

        Map<String, String> v = baseConfig(input.toString(), "jsonl", out.toString(), "jsonl");
        v.put("overwrite", "true");
        SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
        assertFalse(Files.exists(out.resolve("keep.txt")), "overwrite replaces the old output");
        assertEquals(1, spark.read().schema(OutputSchema.SCHEMA).json(out.toString()).count());
    }

    @Test
    void badModelFailsTheJobWithoutOutput() throws Exception {
        SparkSession spark = SharedSpark.session();
        Path input = tmp.resolve("c.jsonl");
        TestCorpus.writeJsonl(input, TestCorpus.sample(2, 200), List.of());
        Path notModel = tmp.resolve("not-a-model.gguf");
        Files.writeString(notModel, "not a gguf file");
        Path out = tmp.resolve("never");
        Map<String, String> v = baseConfig(input.toString(), "jsonl", out.toString(), "parquet");
        v.put("model", notModel.toString());
        ConfigException e = assertThrows(ConfigException.class,
            () -> SummarizeJob.run(spark, JobConfigLoader.fromValues(v)));
        assertTrue(e.getMessage().contains("reviver.model") && e.getMessage().contains("not-a-model.gguf"),
            e.getMessage());
        assertFalse(Files.exists(out), "no partial output");
        assertNoTemporaries(tmp);
    }

    static void assertNoTemporaries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> left = s.filter(p -> p.getFileName().toString().contains(".reviver-")).toList();
            assertTrue(left.isEmpty(), "temporary output left behind: " + left);
        }
    }
}
