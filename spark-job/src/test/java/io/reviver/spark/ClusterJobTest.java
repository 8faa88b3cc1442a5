package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * their own JVMs, the job submitted through {@code org.apache.spark.deploy.SparkSubmit} in another JVM (client
 * mode), executors launched by the Workers. The output is checked document by document, and each executor's log
 * shows its model replica loaded exactly once. Then real faults: a Worker killed with SIGKILL mid-job, and a
 * driver killed with SIGKILL mid-job and submitted again.
 *
 * <p>Spark's Worker builds executor command lines from {@code SPARK_HOME/jars}; the test gives it a directory with
 * an empty {@code jars/} and ships the test classpath as {@code spark.executor.extraClassPath}.
 */
class ClusterJobTest {

    private static final String ACCESS_KEY = "AKIACLUSTERTESTKEY77";
    private static final String SECRET_KEY = "cluster-secret-0c9e4b1a7f2d5e83";

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

    /** Master + two Workers (one core each); returns the master URL and the worker processes. */
    private String startCluster(Path sparkHome, List<Process> workers) throws Exception {
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
            workers.add(p);
        }
        return master;
    }

    /** Starts {@code spark-submit} of the job in client mode (the driver is the started JVM). */
    private Process submit(String name, Path sparkHome, String master, Path input, Path output) throws Exception {
        Path app = tmp.resolve("app.jar"); // SparkSubmit needs a primary resource; the classes come from the classpath
        if (!Files.exists(app)) {
            try (OutputStream o = Files.newOutputStream(app);
                 JarOutputStream j = new JarOutputStream(o, new Manifest())) {
                j.flush();
            }
        }
        String executorFlags = String.join(" ", jvmFlags());
        return start(name, sparkHome, List.of("org.apache.spark.deploy.SparkSubmit",
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
            // Credentials as users pass them; they must not appear in any log, event log or report.
            "--conf", "spark.hadoop.fs.s3a.access.key=" + ACCESS_KEY,
            "--conf", "spark.hadoop.fs.s3a.secret.key=" + SECRET_KEY,
            "--conf", "spark.eventLog.enabled=true",
            "--conf", "spark.eventLog.compress=false", // Spark 4 compresses by default; the test reads it as text
            "--conf", "spark.eventLog.dir=" + Files.createDirectories(tmp.resolve("events")).toUri(),
            app.toString(),
            "--model", TestCorpus.model().toUri().toString(),
            "--model-cache-dir", tmp.resolve("model-cache").toString(),
            "--input", input.toUri().toString(),
            "--output", output.toUri().toString(),
            "--max-new-tokens", "16",
            "--partitions", "6",
            "--progress-seconds", "1",
            "--measure-peaks", "false"));
    }

    /** Waits until a task of the job writing {@code output} has recorded finished documents. */
    private static void awaitProgressRecords(Path output, Process driver, String log) throws Exception {
        Path work = output.resolveSibling("." + output.getFileName() + ".reviver-work");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
        while (System.nanoTime() < deadline) {
            if (Files.exists(work)) {
                try (Stream<Path> s = Files.walk(work)) {
                    if (s.anyMatch(p -> p.getFileName().toString().matches("part-.*\\.jsonl"))) {
                        return;
                    }
                }
            }
            if (!driver.isAlive()) {
                throw new AssertionError("job ended before recording progress:\n" + Files.readString(Path.of(log)));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no progress records under " + work);
    }

    private Map<String, Row> checkExactlyOnce(Path output, Map<String, String> docs) {
        List<Row> rows = SharedSpark.session().read().parquet(output.toString()).collectAsList();
        Map<String, Row> byId = rows.stream().collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        assertEquals(docs.size(), rows.size(), "every document exactly once: " + byId.keySet());
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
        assertFalse(Files.exists(output.resolveSibling("." + output.getFileName() + ".reviver-work")),
            "progress records are dropped after the commit");
        return byId;
    }

    /** No credential in any file of the test: logs of every JVM, executor logs, Spark event logs, outputs. */
    private void assertNoCredentials() throws Exception {
        int eventLogs = 0;
        boolean redacted = false;
        String around = "";
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".parquet")
                && !p.toString().contains("model-cache") && !p.getFileName().toString().equals("app.jar")).toList()) {
                String text = Files.readString(p, StandardCharsets.ISO_8859_1);
                if (p.startsWith(tmp.resolve("events"))) {
                    eventLogs++;
                    redacted |= text.contains("fs.s3a.secret.key") && text.contains("(redacted)");
                    int at = text.indexOf("fs.s3a.secret.key");
                    around = at < 0 ? "(key absent)" : text.substring(at, Math.min(text.length(), at + 80));
                }
                assertFalse(text.contains(SECRET_KEY) || text.contains(ACCESS_KEY), "credential in " + p);
            }
        }
        assertTrue(eventLogs > 0, "the event log was written");
        assertTrue(redacted, "the event log holds the secret's key with its value redacted: " + around);
    }

    /**
     * One cluster, three runs: a clean run; a run whose second Worker JVM is killed with SIGKILL once documents
     * are being recorded (its executor goes with it; Spark reruns the lost tasks on the other worker); a run whose
     * driver JVM is killed with SIGKILL mid-job and is then submitted again, resuming from the progress records.
     * Every run's output has each document exactly once, with the same summaries.
     */
    @Test
    void jobSurvivesAKilledWorkerAndResumesAfterAKilledDriver() throws Exception {
        Path sparkHome = Files.createDirectories(tmp.resolve("spark-home"));
        Files.createDirectories(sparkHome.resolve("jars"));
        List<Process> workers = new ArrayList<>();
        String master = startCluster(sparkHome, workers);

        Map<String, String> docs = TestCorpus.sample(12, 500);
        docs.put("empty", " ");
        Path input = tmp.resolve("corpus.jsonl");
        TestCorpus.writeJsonl(input, docs, List.of());

        // 1. A clean run: both executors work, each loads its model replica once.
        Path clean = tmp.resolve("clean");
        Process first = submit("submit-clean", sparkHome, master, input, clean);
        String log = tmp.resolve("submit-clean.log").toString();
        assertTrue(first.waitFor(8, TimeUnit.MINUTES), "job did not finish:\n" + Files.readString(Path.of(log)));
        assertEquals(0, first.exitValue(), Files.readString(Path.of(log)));
        assertTrue(Files.readString(Path.of(log)).contains("reviver summarize: 13 documents (1 failed)"),
            Files.readString(Path.of(log)));
        List<Path> executorLogs;
        try (Stream<Path> s = Files.walk(tmp)) {
            executorLogs = s.filter(p -> p.getFileName().toString().equals("stderr")
                && p.toString().contains(File.separator + "work-")).collect(Collectors.toList());
        }
        assertEquals(2, executorLogs.size(), "one executor per worker: " + executorLogs);
        for (Path l : executorLogs) {
            String text = Files.readString(l, StandardCharsets.UTF_8);
            assertEquals(1, text.split("loaded model replica", -1).length - 1, l + ":\n" + text);
        }
        Map<String, Row> reference = checkExactlyOnce(clean, docs);
        assertNoCredentials();

        // 2. kill -9 of a Worker JVM while the job records documents.
        Path survived = tmp.resolve("survived");
        Process second = submit("submit-worker-killed", sparkHome, master, input, survived);
        log = tmp.resolve("submit-worker-killed.log").toString();
        awaitProgressRecords(survived, second, log);
        workers.get(1).destroyForcibly(); // SIGKILL
        assertTrue(workers.get(1).waitFor(30, TimeUnit.SECONDS));
        assertTrue(second.waitFor(8, TimeUnit.MINUTES), "job did not finish:\n" + Files.readString(Path.of(log)));
        assertEquals(0, second.exitValue(), Files.readString(Path.of(log)));
        Map<String, Row> afterWorkerLoss = checkExactlyOnce(survived, docs);
        JsonNode report = new ObjectMapper().readTree(survived.resolve(AtomicOutput.REPORT).toFile());
        assertTrue(report.path("cluster").path("task_failures").asLong() + report.path("cluster")
            .path("executors_lost").asLong() > 0, "the lost worker shows in the report: " + report.path("cluster"));
        for (String id : docs.keySet()) {
            assertEquals((String) reference.get(id).getAs("summary"), (String) afterWorkerLoss.get(id).getAs("summary"), id);
        }

        // 3. kill -9 of the driver mid-job, then the same submission again: it resumes.
        Path resumed = tmp.resolve("resumed");
        Process third = submit("submit-driver-killed", sparkHome, master, input, resumed);
        log = tmp.resolve("submit-driver-killed.log").toString();
        awaitProgressRecords(resumed, third, log);
        // While it runs, the driver keeps a running report (JSON and page) in the work directory.
        Path running = resumed.resolveSibling(".resumed.reviver-work").resolve(AtomicOutput.REPORT);
        for (int i = 0; i < 300 && !Files.exists(running); i++) {
            Thread.sleep(100);
        }
        JsonNode live = null;
        for (int i = 0; i < 50 && live == null; i++) { // it may be between delete and rename
            try {
                live = new ObjectMapper().readTree(running.toFile());
            } catch (java.io.IOException e) {
                Thread.sleep(50);
            }
        }
        assertNotNull(live, "running report readable");
        assertEquals("running", live.path("status").asText(), live.toString());
        assertTrue(live.path("progress").size() >= 2, live.toString());
        assertTrue(Files.exists(running.resolveSibling("_reviver_report.html")));
        third.destroyForcibly();
        assertTrue(third.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(resumed), "no output from the killed run");
        Process again = submit("submit-resume", sparkHome, master, input, resumed);
        log = tmp.resolve("submit-resume.log").toString();
        assertTrue(again.waitFor(8, TimeUnit.MINUTES), "job did not finish:\n" + Files.readString(Path.of(log)));
        assertEquals(0, again.exitValue(), Files.readString(Path.of(log)));
        Map<String, Row> afterResume = checkExactlyOnce(resumed, docs);
        report = new ObjectMapper().readTree(resumed.resolve(AtomicOutput.REPORT).toFile());
        long skipped = report.path("cluster").path("skipped").asLong();
        assertTrue(skipped >= 1 && skipped < docs.size(), "the resumed run skipped the recorded documents: "
            + report.path("cluster"));
        assertEquals(docs.size() - skipped, report.path("cluster").path("summarized").asLong());
        for (String id : docs.keySet()) {
            assertEquals((String) reference.get(id).getAs("summary"), (String) afterResume.get(id).getAs("summary"), id);
        }
    }
}
