package io.reviver.spark.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobConfigLoaderTest {

    @TempDir
    Path tmp;

    private static Map<String, String> required() {
        Map<String, String> v = new HashMap<>();
        v.put("model", "s3a://bucket/models/m.gguf");
        v.put("input", "s3a://bucket/corpus/");
        v.put("output", "s3a://bucket/out/run1");
        return v;
    }

    @Test
    void defaults() {
        JobConfig c = JobConfigLoader.fromValues(required());
        assertEquals("full", c.press());
        assertEquals(1.0, c.budget());
        assertEquals(48, c.maxNewTokens());
        assertEquals(1L << 30, c.kvMemoryBytes());
        assertEquals(InputFormat.JSONL, c.inputFormat());
        assertEquals(OutputFormat.PARQUET, c.outputFormat());
        assertEquals("{text}\n\nIn summary,", c.promptTemplate());
        assertEquals("s3a://bucket/models/m.gguf", c.model().toString());
        assertTrue(c.model().expectedSha256().isEmpty());
    }

    @Test
    void fileThenFlagsLaterWins() throws Exception {
        Path file = tmp.resolve("job.properties");
        Files.writeString(file, "reviver.model=/models/m.gguf\nreviver.input=/in\nreviver.output=/out\n"
            + "reviver.budget=0.25\nreviver.press=snapkv\nreviver.kv-memory=512m\n");
        JobConfig c = JobConfigLoader.load(new String[] {"--config", file.toString(), "--budget", "0.5",
            "--max-new-tokens=20", "--output-format", "JSONL"});
        assertEquals(0.5, c.budget());
        assertEquals("snapkv", c.press());
        assertEquals(512L << 20, c.kvMemoryBytes());
        assertEquals(20, c.maxNewTokens());
        assertEquals(OutputFormat.JSONL, c.outputFormat());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "budget|0|reviver.budget (--budget): '0' is not in (0, 1]",
        "budget|1.5|reviver.budget (--budget): '1.5' is not in (0, 1]",
        "budget|half|reviver.budget (--budget): 'half' is not a number",
        "budget|NaN|reviver.budget (--budget): 'NaN' is not a finite number",
        "press|'  '|reviver.press (--press): '' is empty",
        "max-new-tokens|0|reviver.max-new-tokens (--max-new-tokens): '0' is not in [1, 65536]",
        "kv-memory|lots|reviver.kv-memory (--kv-memory): 'lots' is not a byte size (e.g. 512m, 2g)",
        "kv-memory|1k|reviver.kv-memory (--kv-memory): '1k' is less than 1048576 bytes",
        "input-format|csv|reviver.input-format (--input-format): 'csv' is not one of jsonl, text, parquet",
        "output-format|orc|reviver.output-format (--output-format): 'orc' is not one of parquet, jsonl",
        "prompt-template|Summarize:|reviver.prompt-template (--prompt-template): 'Summarize:' must contain {text} "
            + "exactly once",
        "chunk-tokens|50|reviver.chunk-tokens (--chunk-tokens): '50' must be 0 or more than twice "
            + "reviver.max-new-tokens (48)",
        "overwrite|maybe|reviver.overwrite (--overwrite): 'maybe' is not true or false",
        "output|s3a://bucket/corpus|reviver.output (--output): 's3a://bucket/corpus' is the same as reviver.input",
        "model-sha256|abc|reviver.model (--model): 's3a://bucket/models/m.gguf' with reviver.model-sha256 'abc'",
        "colour|blue|unknown key reviver.colour (--colour) with value 'blue'",
    })
    void errorsNameKeyAndValue(String key, String value, String expected) {
        Map<String, String> v = required();
        v.put("input", "s3a://bucket/corpus/");
        v.put(key, value);
        ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.fromValues(v));
        assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    }

    @Test
    void missingRequiredKeyAndBadFlags() {
        Map<String, String> v = required();
        v.remove("model");
        ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.fromValues(v));
        assertTrue(e.getMessage().startsWith("reviver.model (--model) is required"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JobConfigLoader.load(new String[] {"--budget"}));
        assertEquals("flag --budget has no value", e.getMessage());
        e = assertThrows(ConfigException.class, () -> JobConfigLoader.load(new String[] {"budget", "1"}));
        assertTrue(e.getMessage().startsWith("unexpected argument 'budget'"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JobConfigLoader.load(new String[] {"--config",
            tmp.resolve("missing.properties").toString()}));
        assertTrue(e.getMessage().startsWith("--config: cannot read"), e.getMessage());
    }

    @Test
    void attentionBackendIsParsedAndWorksWithSampling() {
        Map<String, String> v = required();
        assertEquals(io.reviver.kernel.attention.BackendChoice.JAVA, JobConfigLoader.fromValues(v).attention());
        v.put("attention", "OpenCL-or-Java");
        assertEquals(io.reviver.kernel.attention.BackendChoice.OPENCL_OR_JAVA,
            JobConfigLoader.fromValues(v).attention());
        v.put("attention", "cuda");
        ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.fromValues(v));
        assertTrue(e.getMessage().startsWith("reviver.attention (--attention): 'cuda' is not a backend"),
            e.getMessage());
        // sampled passes run in the executor's engine like greedy ones, so any backend serves them
        v.put("attention", "opencl");
        v.put("temperature", "0.7");
        assertEquals(io.reviver.kernel.attention.BackendChoice.OPENCL, JobConfigLoader.fromValues(v).attention());
    }

    @Test
    void weightsBackendIsParsedWithAClearError() {
        Map<String, String> v = required();
        assertEquals(io.reviver.kernel.tensor.WeightsBackend.JAVA, JobConfigLoader.fromValues(v).weights());
        v.put("weights", " Native ");
        assertEquals(io.reviver.kernel.tensor.WeightsBackend.NATIVE, JobConfigLoader.fromValues(v).weights());
        v.put("weights", "gpu");
        ConfigException e = assertThrows(ConfigException.class, () -> JobConfigLoader.fromValues(v));
        assertTrue(e.getMessage().startsWith("reviver.weights (--weights): 'gpu' is not a backend; use java or native"),
            e.getMessage());
    }

    @Test
    void configHashFollowsWhatShapesASummary() {
        Map<String, String> v = required();
        String base = JobConfigLoader.fromValues(v).configHash(1 << 20);
        v.put("partitions", "7");
        v.put("limit", "3");
        v.put("threads", "2");
        assertEquals(base, JobConfigLoader.fromValues(v).configHash(1 << 20), "scheduling settings do not count");
        v.put("budget", "0.5");
        assertTrue(!base.equals(JobConfigLoader.fromValues(v).configHash(1 << 20)), "the budget does");
        assertTrue(!base.equals(JobConfigLoader.fromValues(required()).configHash(2 << 20)),
            "so do the KV bytes of a task (they set the chunk size)");
        Map<String, String> cl = required();
        cl.put("attention", "opencl");
        assertTrue(!base.equals(JobConfigLoader.fromValues(cl).configHash(1 << 20)), "and the attention backend");
        Map<String, String> nat = required();
        nat.put("weights", "native");
        assertTrue(!base.equals(JobConfigLoader.fromValues(nat).configHash(1 << 20)), "and the weights backend");
    }

    @Test
    void relativeModelPathIsPinnedToTheDriversDirectory() {
        Map<String, String> v = required();
        v.put("model", "models/m.gguf");
        JobConfig c = JobConfigLoader.fromValues(v);
        assertEquals(Path.of("models/m.gguf").toAbsolutePath(), c.model().localPath());
    }

    @Test
    void usageListsEveryKey() {
        String usage = JobConfigLoader.usage();
        for (ConfigKey<?> k : JobConfigKeys.ALL) {
            assertTrue(usage.contains("--" + k.name()), k.name());
        }
    }

    @Test
    void configIsSerializableForExecutors() throws Exception {
        JobConfig c = JobConfigLoader.fromValues(required());
        var bytes = new java.io.ByteArrayOutputStream();
        try (var out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (var in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            assertEquals(c, in.readObject());
        }
    }
}
