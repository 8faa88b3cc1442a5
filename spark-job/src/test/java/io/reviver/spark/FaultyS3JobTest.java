package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.FaultyS3.Fault;
import io.reviver.spark.FaultyS3.Op;
import io.reviver.spark.FaultyS3.ResetPoint;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ContentHash;
import io.reviver.spark.engine.ReplicaCache;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against an S3 server that fails a tenth of all requests (500 InternalError, 503 SlowDown and TCP
 * resets in equal parts, on reads and writes alike) while it reads the corpus and the model and writes and
 * commits the output, all through s3a. s3a's and the AWS SDK's retries must absorb every fault: the shared
 * session runs local[2], where Spark never retries a failed task.
 */
class FaultyS3JobTest {

    private static final String BUCKET = "reviver-faulty";
    /** Overridable for exploration: -Dreviver.faults.seed=N, -Dreviver.faults.scale=F (multiplies every rate). */
    private static final long SEED = Long.getLong("reviver.faults.seed", 20240611L);
    private static final double SCALE = Double.parseDouble(System.getProperty("reviver.faults.scale", "1"));

    private static FaultyS3 s3;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startS3() throws Exception {
        // A tenth of all requests fail; object GETs, PUTs and COPYs, of which the job makes only a dozen or so
        // each, a fifth, so that the data path (model and corpus reads, output writes and the rename's copies)
        // is certainly hit.
        s3 = FaultyS3.start(SEED).rates(0.035 * SCALE, 0.035 * SCALE, 0.03 * SCALE)
            .rates(EnumSet.of(Op.GET_OBJECT, Op.PUT_OBJECT, Op.COPY_OBJECT), 0.07 * SCALE, 0.07 * SCALE,
                0.06 * SCALE);
        s3.createBucket(BUCKET);
        Configuration hc = SharedSpark.session().sparkContext().hadoopConfiguration();
        s3.configureBucket(hc, BUCKET);
        // Retries for this bucket only, short waits so the test stays quick. s3a's own retry loop (Invoker):
        String b = "fs.s3a.bucket." + BUCKET + ".";
        hc.set(b + "retry.limit", "10");
        hc.set(b + "retry.interval", "20ms");
        hc.set(b + "retry.throttle.limit", "20");
        hc.set(b + "retry.throttle.interval", "20ms");
        hc.set(b + "retry.http.5xx.errors", "true");
        // ... and the AWS SDK's retries inside each s3a attempt.
        hc.set(b + "attempts.maximum", "5");
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void jobSurvivesErrorsThrottlingAndResets() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(8, 400);
        Map<String, String> first = new LinkedHashMap<>();
        Map<String, String> second = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, String> d : docs.entrySet()) {
            (i++ % 2 == 0 ? first : second).put(d.getKey(), d.getValue());
        }
        for (Map.Entry<String, Map<String, String>> part : Map.of("a", first, "b", second).entrySet()) {
            Path local = tmp.resolve(part.getKey() + ".jsonl");
            TestCorpus.writeJsonl(local, part.getValue(), List.of());
            s3.put(BUCKET, "corpus/" + part.getKey() + ".jsonl", Files.readAllBytes(local));
        }
        s3.put(BUCKET, "models/reviver-tiny-q8_0.gguf", Files.readAllBytes(TestCorpus.model()));

        Map<String, String> v = new HashMap<>();
        v.put("model", "s3a://" + BUCKET + "/models/reviver-tiny-q8_0.gguf");
        v.put("model-cache-dir", tmp.resolve("model-cache").toString());
        v.put("input", "s3a://" + BUCKET + "/corpus");
        v.put("output", "s3a://" + BUCKET + "/out/summaries");
        v.put("max-new-tokens", "8");
        v.put("partitions", "3");

        ReplicaCache.jvm().releaseAll();
        s3.resetCounts();
        s3.enable();
        long t0 = System.nanoTime();
        ThroughputReport report;
        try {
            report = SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
        } catch (RuntimeException e) {
            s3.disable();
            System.out.println("FaultyS3JobTest: the job failed (" + e + "); the bucket holds "
                + s3.keys(BUCKET, ""));
            throw e;
        } finally {
            s3.disable();
            System.out.println("FaultyS3JobTest: job took " + (System.nanoTime() - t0) / 1_000_000
                + " ms; faults:\n" + s3.summary() + "\n  " + String.join("\n  ", s3.injected()));
        }
        ReplicaCache.jvm().releaseAll();
        String table = s3.summary();

        // Faults of every kind really happened, on reads and on writes.
        for (Fault f : List.of(Fault.INTERNAL_ERROR, Fault.SLOW_DOWN, Fault.RESET)) {
            assertTrue(s3.count(f) > 0, f + " never injected\n" + table);
        }
        assertTrue(s3.resets(ResetPoint.REQUEST) > 0 && s3.resets(ResetPoint.RESPONSE) > 0, table);
        assertTrue(s3.faults(true) > 0, "no read faulted\n" + table);
        assertTrue(s3.faults(false) > 0, "no write faulted\n" + table);
        for (Op op : List.of(Op.GET_OBJECT, Op.PUT_OBJECT, Op.COPY_OBJECT)) {
            assertTrue(s3.requests(op) > s3.count(op, Fault.NONE), op + " never faulted\n" + table);
        }

        // The bucket (listed in the store, faults off): the inputs, and the committed output only.
        List<String> all = s3.keys(BUCKET, "");
        List<String> unexpected = new ArrayList<>();
        boolean success = false;
        for (String k : all) {
            if (k.startsWith("corpus/") || k.startsWith("models/")) {
                continue;
            }
            if (k.equals("out/summaries/_SUCCESS")) {
                success = true;
            } else if (!(k.equals("out/summaries/" + AtomicOutput.REPORT)
                || k.equals("out/summaries/" + io.reviver.spark.report.ReportCommand.PAGE)
                || k.startsWith("out/summaries/part-") && k.endsWith(".parquet")
                || k.equals("out/") || k.equals("out/summaries/"))) { // directory markers, if s3a keeps them
                unexpected.add(k);
            }
        }
        assertTrue(unexpected.isEmpty(), "temporary or partial objects left: " + unexpected + " in " + all);
        assertTrue(success, "no _SUCCESS: " + all);
        assertTrue(all.contains("out/summaries/" + AtomicOutput.REPORT), "no report: " + all);
        assertTrue(s3.direct().listMultipartUploads(BUCKET).isEmpty(), "multipart uploads left open");
        String json = new String(s3.direct().getBlob(BUCKET, "out/summaries/" + AtomicOutput.REPORT)
            .getPayload().openStream().readAllBytes(), StandardCharsets.UTF_8);
        com.fasterxml.jackson.databind.JsonNode cluster = new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(json).path("cluster");
        assertEquals(docs.size(), cluster.path("documents").asLong(), json);
        assertEquals(0, cluster.path("failed").asLong(), json);
        assertEquals(docs.size(), report.documents());

        // Every document exactly once, with its content hash and a summary (read back with faults off).
        List<Row> rows = spark.read().parquet("s3a://" + BUCKET + "/out/summaries").collectAsList();
        assertEquals(docs.size(), rows.size(), "rows");
        Map<String, Row> byId = new HashMap<>();
        for (Row r : rows) {
            assertNull(byId.put(r.getAs("id"), r), "duplicate " + r.getAs("id"));
        }
        assertEquals(docs.keySet(), byId.keySet());
        for (Map.Entry<String, String> d : docs.entrySet()) {
            Row r = byId.get(d.getKey());
            assertEquals(ContentHash.sha256(d.getValue()), r.getAs("content_sha256"), d.getKey());
            assertNull(r.getAs("error"), d.getKey());
            assertNotNull(r.getAs("summary"), d.getKey());
        }
    }
}
