package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.config.JobConfigLoader;
import io.reviver.spark.engine.ContentHash;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job against a real HDFS (a one-datanode MiniDFSCluster in this JVM): a corpus of text files and the model read
 * from hdfs://, the output written to hdfs://, in the shared local[2] session.
 */
class HdfsJobTest {

    @TempDir
    static Path base;

    private static MiniDFSCluster cluster;

    @BeforeAll
    static void startHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
        cluster = new MiniDFSCluster.Builder(conf, base.toFile()).numDataNodes(1).build();
        cluster.waitActive();
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    @Test
    void textCorpusAndModelFromHdfsOutputToHdfs() throws Exception {
        SparkSession spark = SharedSpark.session();
        FileSystem fs = cluster.getFileSystem();
        String root = cluster.getURI().toString();
        Map<String, String> docs = TestCorpus.sample(3, 400);
        int i = 0;
        Map<String, String> byPath = new HashMap<>();
        for (String text : docs.values()) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path("/corpus/part-" + i++ + ".txt");
            try (OutputStream out = fs.create(p)) {
                out.write(text.getBytes(StandardCharsets.UTF_8));
            }
            byPath.put(fs.makeQualified(p).toString(), text);
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/corpus/_ignored/skip.txt"))) {
            out.write("hidden directories are not documents".getBytes(StandardCharsets.UTF_8));
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/reviver-tiny-q8_0.gguf"))) {
            out.write(Files.readAllBytes(TestCorpus.model()));
        }

        Map<String, String> v = new HashMap<>();
        v.put("model", root + "/models/reviver-tiny-q8_0.gguf");
        v.put("model-cache-dir", base.resolve("model-cache").toString());
        v.put("input", root + "/corpus");
        v.put("input-format", "text");
        v.put("output", root + "/out/summaries");
        v.put("max-new-tokens", "12");
        ThroughputReport report = SummarizeJob.run(spark, JobConfigLoader.fromValues(v));
        assertEquals(3, report.documents());

        List<Row> rows = spark.read().parquet(root + "/out/summaries").collectAsList();
        Map<String, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        assertEquals(byPath.keySet(), byId.keySet());
        for (Map.Entry<String, String> d : byPath.entrySet()) {
            Row r = byId.get(d.getKey());
            assertNull(r.getAs("error"), d.getKey());
            assertEquals(ContentHash.sha256(d.getValue()), r.getAs("content_sha256"));
        }
        assertTrue(fs.exists(new org.apache.hadoop.fs.Path("/out/summaries/" + AtomicOutput.REPORT)));
        for (FileStatus st : fs.listStatus(new org.apache.hadoop.fs.Path("/out"))) {
            assertFalse(st.getPath().getName().contains("reviver-tmp"), "temporary left: " + st.getPath());
        }
    }
}
