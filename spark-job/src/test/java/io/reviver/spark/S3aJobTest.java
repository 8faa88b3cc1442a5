package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ContentHash;
import io.reviver.spark.engine.ReplicaCache;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.blobstore.domain.StorageMetadata;
import org.jclouds.blobstore.options.ListContainerOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a real S3 server: S3Proxy (in-memory jclouds store) on 127.0.0.1, reached through hadoop-aws's
 * s3a connector. The corpus and the model are read from s3a://, the output is written back through s3a://, in
 * the shared local[2] session.
 */
class S3aJobTest {

    private static final String BUCKET = "reviver-test";
    private static final String ACCESS = "AKIAREVIVERTESTKEY42";
    private static final String SECRET = "reviver-secret-b6c1f0e2d9a84c17";

    private static BlobStoreContext context;
    private static S3Proxy proxy;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startS3() throws Exception {
        Properties props = new Properties();
        context = ContextBuilder.newBuilder("transient").credentials(ACCESS, SECRET).overrides(props)
            .build(BlobStoreContext.class);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        proxy = S3Proxy.builder().blobStore(context.getBlobStore())
            .endpoint(URI.create("http://127.0.0.1:" + port))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS, SECRET)
            .build();
        proxy.start();
        for (int i = 0; i < 500 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(10);
        }
        assertEquals("STARTED", proxy.getState());
        context.getBlobStore().createContainerInLocation(null, BUCKET);

        // s3a settings for this bucket only, so the shared session's other tests are unaffected.
        Configuration hc = SharedSpark.session().sparkContext().hadoopConfiguration();
        String b = "fs.s3a.bucket." + BUCKET + ".";
        hc.set(b + "endpoint", "http://127.0.0.1:" + port);
        hc.set(b + "endpoint.region", "us-east-1");
        hc.set(b + "path.style.access", "true");
        hc.set(b + "connection.ssl.enabled", "false");
        hc.set(b + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        hc.set(b + "access.key", ACCESS);
        hc.set(b + "secret.key", SECRET);
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (proxy != null) {
            proxy.stop();
        }
        if (context != null) {
            context.close();
        }
    }

    private static void put(String key, byte[] bytes) {
        BlobStore store = context.getBlobStore();
        store.putBlob(BUCKET, store.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
    }

    private static List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        for (StorageMetadata m : context.getBlobStore().list(BUCKET,
            ListContainerOptions.Builder.prefix(prefix).recursive())) {
            keys.add(m.getName());
        }
        return keys;
    }

    /** Copies every log event of the JVM (at the configured levels) into a writer while open. */
    static final class LogCapture implements AutoCloseable {
        private final WriterAppender appender;

        LogCapture(StringWriter out) {
            appender = WriterAppender.newBuilder().setName("capture-" + System.nanoTime()).setTarget(out)
                .setLayout(PatternLayout.newBuilder().withPattern("%c %m %ex%n").build()).build();
            appender.start();
            LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
            ctx.getConfiguration().getRootLogger().addAppender(appender, null, null);
            for (org.apache.logging.log4j.core.config.LoggerConfig lc
                : ctx.getConfiguration().getLoggers().values()) {
                lc.addAppender(appender, null, null);
            }
            ctx.updateLoggers();
        }

        @Override
        public void close() {
            LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
            ctx.getConfiguration().getRootLogger().removeAppender(appender.getName());
            for (org.apache.logging.log4j.core.config.LoggerConfig lc
                : ctx.getConfiguration().getLoggers().values()) {
                lc.removeAppender(appender.getName());
            }
            ctx.updateLoggers();
            appender.stop();
        }
    }

    @Test
    void readsCorpusAndModelFromS3AndWritesOutputBack() throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> docs = TestCorpus.sample(4, 500);
        docs.put("blank", "");
        Path local = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(local, docs, List.of());
        put("corpus/corpus.jsonl", Files.readAllBytes(local));
        put("models/reviver-tiny-q8_0.gguf", Files.readAllBytes(TestCorpus.model()));

        Path modelCache = tmp.resolve("model-cache");
        Map<String, String> v = new HashMap<>();
        v.put("model", "s3a://" + BUCKET + "/models/reviver-tiny-q8_0.gguf");
        v.put("model-cache-dir", modelCache.toString());
        v.put("input", "s3a://" + BUCKET + "/corpus/corpus.jsonl");
        v.put("output", "s3a://" + BUCKET + "/out/summaries");
        v.put("max-new-tokens", "16");
        v.put("partitions", "2");
        ReplicaCache.jvm().releaseAll();
        int loads = ReplicaCache.jvm().loadCount();
        StringWriter logs = new StringWriter();
        ThroughputReport report;
        try (LogCapture capture = new LogCapture(logs)) {
            report = SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
        }
        assertEquals(loads + 1, ReplicaCache.jvm().loadCount(), "model fetched and loaded once for the job");
        ReplicaCache.jvm().releaseAll();

        // The model went through the executor-local cache.
        try (Stream<Path> s = Files.walk(modelCache)) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().equals("reviver-tiny-q8_0.gguf")),
                "model cached locally");
        }
        // What the S3 server holds: Parquet parts and the report, no temporary objects.
        List<String> out = keys("out/");
        assertTrue(out.stream().anyMatch(k -> k.startsWith("out/summaries/part-") && k.endsWith(".parquet")), "" + out);
        assertTrue(out.contains("out/summaries/" + AtomicOutput.REPORT), "" + out);
        assertFalse(out.stream().anyMatch(k -> k.contains("reviver-tmp")), "temporary objects left: " + out);
        String json = new String(context.getBlobStore().getBlob(BUCKET, "out/summaries/" + AtomicOutput.REPORT)
            .getPayload().openStream().readAllBytes(), StandardCharsets.UTF_8);
        JsonNode cluster = new ObjectMapper().readTree(json).path("cluster");
        assertEquals(5, cluster.path("documents").asLong(), json);
        assertEquals(1, cluster.path("failed").asLong(), json);
        String html = new String(context.getBlobStore().getBlob(BUCKET, "out/summaries/_reviver_report.html")
            .getPayload().openStream().readAllBytes(), StandardCharsets.UTF_8);

        // No credential in what the job logged, in the report or in its page.
        String logged = logs.toString();
        assertTrue(logged.contains("job ") && logged.contains("done"), "the capture saw the job's log:\n" + logged);
        for (String credential : List.of(SECRET, ACCESS)) {
            assertFalse(logged.contains(credential), "credential in the log");
            assertFalse(json.contains(credential), "credential in the report");
            assertFalse(html.contains(credential), "credential in the report page");
        }

        // Read back through s3a, document by document.
        List<Row> rows = spark.read().parquet("s3a://" + BUCKET + "/out/summaries").collectAsList();
        Map<String, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        assertEquals(docs.keySet(), byId.keySet());
        for (Map.Entry<String, String> d : docs.entrySet()) {
            Row r = byId.get(d.getKey());
            assertEquals(ContentHash.sha256(d.getValue()), r.getAs("content_sha256"), d.getKey());
            if (d.getValue().isEmpty()) {
                assertEquals("empty document", r.getAs("error"));
            } else {
                assertNull(r.getAs("error"), d.getKey());
                assertNotNull(r.getAs("summary"));
            }
        }
        assertEquals(5, report.documents());
    }
}
