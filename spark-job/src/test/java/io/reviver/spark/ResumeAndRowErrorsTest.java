package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfigLoader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once output, resume and per-row errors in the shared local session: a run over part of a corpus then a
 * resumed run over all of it gives the same bytes as one run over all of it; a re-run over a complete output
 * leaves it untouched; unreadable documents become error rows; a missing input or a malformed model is refused on
 * the driver before any Spark job runs.
 */
class ResumeAndRowErrorsTest {

    @TempDir
    Path tmp;

    private Map<String, String> config(Path input, String format, Path output) {
        Map<String, String> v = new HashMap<>();
        v.put("model", TestCorpus.model().toString());
        v.put("input", input.toString());
        v.put("input-format", format);
        v.put("output", output.toString());
        v.put("output-format", "jsonl");
        v.put("max-new-tokens", "12");
        v.put("progress-seconds", "1");
        v.put("measure-peaks", "false");
        return v;
    }

    /** Name → bytes of the output's data files (part files, not the report or Spark's markers). */
    private static Map<String, byte[]> dataFiles(Path output) throws Exception {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(output)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static String concatenated(Map<String, byte[]> files) {
        return files.values().stream().map(b -> new String(b, StandardCharsets.UTF_8)).collect(Collectors.joining());
    }

    @Test
    void resumedRunGivesTheSameBytesAndAReRunChangesNothing() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(6, 300);
        Path input = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of());

        // One uninterrupted run over everything.
        Path whole = tmp.resolve("whole");
        ThroughputReport a = SummarizeJob.run(spark, JobConfigLoader.fromValues(config(input, "jsonl", whole)));
        assertEquals(6, a.summarized());

        // A run over the first half, then the same job over everything: only the rest is summarised.
        Path resumed = tmp.resolve("resumed");
        Map<String, String> half = config(input, "jsonl", resumed);
        half.put("limit", "3");
        // limit is not part of the configuration hash: the second run may resume the first one's output.
        assertEquals(JobConfigLoader.fromValues(half).configHash(1 << 20),
            JobConfigLoader.fromValues(config(input, "jsonl", resumed)).configHash(1 << 20));
        assertEquals(3, SummarizeJob.run(spark, JobConfigLoader.fromValues(half)).summarized());
        ThroughputReport b = SummarizeJob.run(spark, JobConfigLoader.fromValues(config(input, "jsonl", resumed)));
        assertEquals(3, b.skipped());
        assertEquals(3, b.summarized());
        assertEquals(6, b.documents());
        assertEquals(concatenated(dataFiles(whole)), concatenated(dataFiles(resumed)),
            "resumed output has the same rows, in the same order, as an uninterrupted run");

        // Again: everything is done, the data files are left exactly as they were.
        Map<String, byte[]> before = dataFiles(resumed);
        ThroughputReport c = SummarizeJob.run(spark, JobConfigLoader.fromValues(config(input, "jsonl", resumed)));
        assertEquals(0, c.summarized());
        assertEquals(6, c.skipped());
        Map<String, byte[]> after = dataFiles(resumed);
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            assertTrue(java.util.Arrays.equals(before.get(name), after.get(name)), name);
        }

        // Different settings may not resume into it.
        Map<String, String> other = config(input, "jsonl", resumed);
        other.put("max-new-tokens", "13");
        ConfigException e = assertThrows(ConfigException.class,
            () -> SummarizeJob.run(spark, JobConfigLoader.fromValues(other)));
        assertTrue(e.getMessage().contains("other settings"), e.getMessage());
        Map<String, String> parquet = config(input, "jsonl", resumed);
        parquet.put("output-format", "parquet");
        e = assertThrows(ConfigException.class, () -> SummarizeJob.run(spark, JobConfigLoader.fromValues(parquet)));
        assertTrue(e.getMessage().contains("holds jsonl output"), e.getMessage());
        LocalJobTest.assertNoTemporaries(tmp);
    }

    @Test
    void unprocessableDocumentsBecomeErrorRows() throws Exception {
        SparkSession spark = SharedSpark.session();
        Path dir = Files.createDirectories(tmp.resolve("texts"));
        Map<String, String> good = TestCorpus.sample(2, 300);
        int i = 0;
        for (String text : good.values()) {
            Files.writeString(dir.resolve("good-" + i++ + ".txt"), text);
        }
        Files.writeString(dir.resolve("empty.txt"), "");
        Files.write(dir.resolve("binary.bin"), new byte[] {'P', 'K', 3, 4, 0, 0, 0, 8, 'x', 'y'});
        byte[] latin1 = "caf\u00e9 cr\u00e8me".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(dir.resolve("latin1.txt"), latin1);
        try (RandomAccessFile huge = new RandomAccessFile(dir.resolve("huge.txt").toFile(), "rw")) {
            huge.setLength(100L << 20); // 100 MiB, never read
        }
        String longText = String.join(" ", java.util.Collections.nCopies(40, TestCorpus.sample(1, 600).values()
            .iterator().next()));
        Files.writeString(dir.resolve("long.txt"), longText);
        Path out = tmp.resolve("out");
        Map<String, String> v = config(dir, "text", out);
        v.put("max-document-tokens", "2000");
        ThroughputReport report = SummarizeJob.run(spark, JobConfigLoader.fromValues(v));

        Map<String, String> errors = new LinkedHashMap<>();
        for (Row r : spark.read().schema(OutputSchema.SCHEMA).json(out.toString()).collectAsList()) {
            String id = r.getAs("id");
            errors.put(id.substring(id.lastIndexOf('/') + 1), r.getAs("error"));
        }
        assertEquals(7, errors.size(), errors.toString());
        assertNull(errors.get("good-0.txt"));
        assertNull(errors.get("good-1.txt"));
        assertEquals("empty document", errors.get("empty.txt"));
        assertTrue(errors.get("binary.bin").startsWith("binary document: NUL character"), errors.toString());
        assertEquals("invalid UTF-8 at byte 3", errors.get("latin1.txt"));
        assertEquals("document too large: 104857600 bytes, over reviver.max-document-bytes = 16777216",
            errors.get("huge.txt"));
        assertTrue(errors.get("long.txt").startsWith("document too long: ")
            && errors.get("long.txt").endsWith("over reviver.max-document-tokens = 2000"), errors.toString());
        assertEquals(5, report.failed());
    }

    @Test
    void anEmptyCorpusGivesAnEmptyOutput() throws Exception {
        Path input = tmp.resolve("empty.jsonl");
        Files.writeString(input, "");
        Path out = tmp.resolve("empty-out");
        ThroughputReport r = SummarizeJob.run(SharedSpark.session(), JobConfigLoader.fromValues(
            config(input, "jsonl", out)));
        assertEquals(0, r.documents());
        assertTrue(Files.exists(out.resolve(AtomicOutput.REPORT)));
        assertEquals(0, SharedSpark.session().read().schema(OutputSchema.SCHEMA).json(out.toString()).count());
    }

    /** Counts Spark jobs started while it is registered. */
    private static final class JobCounter extends SparkListener {
        final AtomicInteger jobs = new AtomicInteger();

        @Override
        public void onJobStart(SparkListenerJobStart start) {
            jobs.incrementAndGet();
        }
    }

    @Test
    void missingInputAndMalformedModelAreRefusedOnTheDriver() throws Exception {
        SparkSession spark = SharedSpark.session();
        Path input = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(input, TestCorpus.sample(1, 200), List.of());
        Path truncated = tmp.resolve("truncated.gguf");
        byte[] model = Files.readAllBytes(TestCorpus.model());
        Files.write(truncated, java.util.Arrays.copyOf(model, 4096));
        JobCounter counter = new JobCounter();
        spark.sparkContext().addSparkListener(counter);
        try {
            Map<String, String> missing = config(tmp.resolve("nowhere.jsonl"), "jsonl", tmp.resolve("o1"));
            ConfigException e = assertThrows(ConfigException.class,
                () -> SummarizeJob.run(spark, JobConfigLoader.fromValues(missing)));
            assertTrue(e.getMessage().startsWith("reviver.input (--input): ")
                && e.getMessage().contains("nowhere.jsonl") && e.getMessage().endsWith("does not exist"),
                e.getMessage());

            Map<String, String> bad = config(input, "jsonl", tmp.resolve("o2"));
            bad.put("model", truncated.toString());
            e = assertThrows(ConfigException.class, () -> SummarizeJob.run(spark, JobConfigLoader.fromValues(bad)));
            assertTrue(e.getMessage().startsWith("reviver.model (--model): ")
                && e.getMessage().contains("truncated"), e.getMessage());
            spark.sparkContext().listenerBus().waitUntilEmpty();
            assertEquals(0, counter.jobs.get(), "no Spark job ran");
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
        assertFalse(Files.exists(tmp.resolve("o1")));
        assertFalse(Files.exists(tmp.resolve("o2")));
    }
}
