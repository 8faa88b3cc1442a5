package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.engine.ContentHash;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real multi-JVM standalone cluster from the Maven classpath: one Master and two Workers (one core each) in
 * their own JVMs, the job submitted through {@code org.apache.spark.deploy.SparkSubmit} in a fourth JVM (client
 * mode), executors launched by the Workers. The output is checked document by document, and each executor's log
 * shows its model replica loaded exactly once.
 *
 * <p>Spark's Worker builds executor command lines from {@code SPARK_HOME/jars}; the test gives it a directory with
 * an empty {@code jars/} and ships the test classpath as {@code spark.executor.extraClassPath}.
 */
class ClusterJobTest {

    private final List<Process> processes = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void stopCluster() throws InterruptedException {
        for (int i = processes.size() - 1; i >= 0; i--) { // workers before master
            Process p = processes.get(i);
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static List<String> jvmFlags() {
        String flags = System.getProperty("reviver.spark.jvm.flags", "");
        List<String> out = new ArrayList<>(Arrays.asList(flags.trim().split("\\s+")));
        out.add("-Dlog4j2.configurationFile=" + TestCorpus.repo().resolve("conf/log4j2.properties"));
        return out;
    }

    private Process start(String name, Path sparkHome, List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags());
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(tmp.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.remove("SPARK_CONF_DIR");
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private void awaitLog(String name, String text, Process p, int seconds) throws Exception {
        Path log = tmp.resolve(name + ".log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(name + " did not log '" + text + "':\n" + (Files.exists(log)
            ? Files.readString(log) : "(no log)"));
    }

    @Test
    void standaloneMasterAndTwoWorkersRunTheSubmittedJob() throws Exception {
        Path sparkHome = Files.createDirectories(tmp.resolve("spark-home"));
        Files.createDirectories(sparkHome.resolve("jars"));
        int port = freePort();
        String master = "spark://127.0.0.1:" + port;

        Process m = start("master", sparkHome, List.of("org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())));
        awaitLog("master", "I have been elected leader", m, 120);
        for (int w = 1; w <= 2; w++) {
            Path work = Files.createDirectories(tmp.resolve("work-" + w));
            Process p = start("worker-" + w, sparkHome, List.of("org.apache.spark.deploy.worker.Worker", master,
                "--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port",
                String.valueOf(freePort()), "--work-dir", work.toString()));
            awaitLog("worker-" + w, "Successfully registered with master", p, 120);
        }

        Map<String, String> docs = TestCorpus.sample(6, 500);
        docs.put("empty", " ");
        Path input = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of());
        Path output = tmp.resolve("summaries");
        Path app = tmp.resolve("app.jar"); // SparkSubmit needs a primary resource; the classes come from the classpath
        try (OutputStream o = Files.newOutputStream(app); JarOutputStream j = new JarOutputStream(o, new Manifest())) {
            j.flush();
        }
        String executorFlags = String.join(" ", jvmFlags());
        Process submit = start("submit", sparkHome, List.of("org.apache.spark.deploy.SparkSubmit",
            "--master", master, "--deploy-mode", "client",
            "--class", "io.reviver.spark.SummarizeJob",
            "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
            "--conf", "spark.executor.extraJavaOptions=" + executorFlags,
            "--conf", "spark.executor.memory=512m",
            "--conf", "spark.executor.cores=1",
            "--conf", "spark.cores.max=2",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.sql.warehouse.dir=" + tmp.resolve("warehouse").toUri(),
            app.toString(),
            "--model", TestCorpus.model().toUri().toString(),
            "--model-cache-dir", tmp.resolve("model-cache").toString(),
            "--input", input.toUri().toString(),
            "--output", output.toUri().toString(),
            "--max-new-tokens", "16",
            "--partitions", "4"));
        boolean finished = submit.waitFor(8, TimeUnit.MINUTES);
        String submitLog = Files.readString(tmp.resolve("submit.log"));
        assertTrue(finished, "job did not finish in time:\n" + submitLog);
        assertEquals(0, submit.exitValue(), submitLog);
        assertTrue(submitLog.contains("reviver summarize: 7 documents (1 failed)"), submitLog);

        // Both executors worked, and each loaded its model replica exactly once.
        List<Path> executorLogs;
        try (Stream<Path> s = Files.walk(tmp)) {
            executorLogs = s.filter(p -> p.getFileName().toString().equals("stderr")
                && p.toString().contains(File.separator + "work-")).collect(Collectors.toList());
        }
        assertEquals(2, executorLogs.size(), "one executor per worker: " + executorLogs);
        for (Path log : executorLogs) {
            String text = Files.readString(log, StandardCharsets.UTF_8);
            int loads = text.split("loaded model replica", -1).length - 1;
            assertEquals(1, loads, log + ":\n" + text);
        }

        List<Row> rows = SharedSpark.session().read().parquet(output.toString()).collectAsList();
        Map<String, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        assertEquals(docs.size(), rows.size());
        assertEquals(docs.keySet(), byId.keySet());
        for (Map.Entry<String, String> d : docs.entrySet()) {
            Row r = byId.get(d.getKey());
            assertEquals(ContentHash.sha256(d.getValue()), r.getAs("content_sha256"), d.getKey());
            if (d.getKey().equals("empty")) {
                assertEquals("empty document", r.getAs("error"));
            } else {
                assertNull(r.getAs("error"), d.getKey());
                assertNotNull(r.getAs("summary"), d.getKey());
                assertEquals("full", r.getAs("press"));
            }
        }
        assertTrue(Files.exists(output.resolve(AtomicOutput.REPORT)));
    }
}
