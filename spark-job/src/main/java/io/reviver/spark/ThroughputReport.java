package io.reviver.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.reviver.spark.config.JobConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run did and how fast: the JSON report {@code reviver-report/2} (written as {@value AtomicOutput#REPORT}
 * into the output at the end, and into the work directory every {@code progress-seconds} while running) and a
 * text summary for the log.
 *
 * <p>Sources: the committed output (documents, failures; each document once), this run's progress records
 * deduplicated by key (per-executor documents and tokens), the {@link ExecutorSample}s (engine time split, KV
 * bytes, concurrency, machine peaks), the {@link JobListener} (task failures, retries, lost executors) and the
 * progress timeline. Achieved fractions: prefill = weight-product FLOPs per prompt token × prefilled tokens /
 * engine prefill time / measured FMA peak (attention FLOPs left out, so a lower bound); decode = weight bytes ×
 * decode steps / engine decode time / measured memory bandwidth. Prefill and decode tokens/s divide tokens by engine
 * time: per executor its engine's rate; for the cluster, summed tokens over summed engine time, i.e. the mean rate
 * of one executor's engine (not the aggregate; documents per hour, over the run's wall time, is). Absent figures
 * are written as null.
 */
public final class ThroughputReport {

    /** The report format written in {@code "format"}. */
    public static final String FORMAT = io.reviver.spark.report.ReportPage.FORMAT;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final ObjectNode root;
    private final long documents;
    private final long failed;
    private final long summarized;
    private final long skipped;
    private final long chunkedDocuments;
    private final int partitions;

    private ThroughputReport(ObjectNode root, long documents, long failed, long summarized, long skipped,
                             long chunkedDocuments, int partitions) {
        this.root = root;
        this.documents = documents;
        this.failed = failed;
        this.summarized = summarized;
        this.skipped = skipped;
        this.chunkedDocuments = chunkedDocuments;
        this.partitions = partitions;
    }

    /**
     * This run's figures for one executor from its documents.
     *
     * @param executorId   executor
     * @param host         its host
     * @param documents    documents it summarised in this run (each once)
     * @param failed       of which error rows
     * @param inputTokens  their tokens
     * @param outputTokens their summary tokens
     */
    record ExecutorDocuments(String executorId, String host, long documents, long failed, long inputTokens,
                             long outputTokens) {
    }

    /**
     * Output-level counts.
     *
     * @param documents        rows in the output
     * @param failed           rows with an error
     * @param chunkedDocuments rows of documents summarised in several chunks
     * @param summarized       documents summarised in this run
     * @param skipped          documents already done before this run
     * @param errors           error counts by reason (reasons cut at the first ':')
     */
    record Counts(long documents, long failed, long chunkedDocuments, long summarized, long skipped,
                  Map<String, Long> errors) {
    }

    /** Failures seen by the {@link JobListener}. */
    record Failures(long taskFailures, long taskRetries, long executorsLost) {
    }

    /** Builds the report. */
    static ThroughputReport build(JobPlan plan, String status, String output, Counts counts,
                                  Collection<ExecutorDocuments> perExecutor, List<ExecutorSample> samples,
                                  Failures failures, List<double[]> progress, int partitions, long[] loads,
                                  double wallSeconds) {
        JobConfig c = plan.config();
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("status", status);
        root.put("job_id", plan.jobId());
        root.put("updated_at", Instant.now().toString());
        ObjectNode config = root.putObject("config");
        config.put("model", Redact.uri(c.model().toString()));
        config.put("input", Redact.uri(c.input()));
        config.put("output", Redact.uri(output));
        config.put("press", c.press());
        config.put("budget", c.budget());
        config.put("kv_memory_bytes", c.kvMemoryBytes());
        config.put("max_new_tokens", c.maxNewTokens());
        config.put("config_hash", plan.configHash());
        config.put("output_format", c.outputFormat().configName());
        config.put("attention", c.attention().configName());

        // Latest (largest) cumulative sample per executor; task-level figures summed.
        Map<String, ExecutorSample> latest = new TreeMap<>();
        Map<String, long[]> taskSums = new TreeMap<>(); // executor → {ioNanos}
        for (ExecutorSample s : samples) {
            if (!s.jobId().equals(plan.jobId())) {
                continue;
            }
            latest.merge(s.executorId(), s, (a, b) -> a.prefilledTokens() + a.decodeSteps() + a.loadNanos()
                >= b.prefilledTokens() + b.decodeSteps() + b.loadNanos() ? a : b);
            taskSums.computeIfAbsent(s.executorId(), k -> new long[1])[0] += s.ioNanos();
        }
        Map<String, ExecutorDocuments> docs = new TreeMap<>();
        for (ExecutorDocuments d : perExecutor) {
            docs.put(d.executorId(), d);
        }
        List<String> ids = new ArrayList<>(latest.keySet());
        for (String id : docs.keySet()) {
            if (!ids.contains(id)) {
                ids.add(id);
            }
        }
        ids.sort(null);

        Totals total = new Totals();
        ArrayNode executors = root.putArray("executors");
        for (String id : ids) {
            ExecutorSample s = latest.get(id);
            ExecutorDocuments d = docs.get(id);
            long io = taskSums.containsKey(id) ? taskSums.get(id)[0] : 0;
            ObjectNode e = executors.addObject();
            e.put("executor_id", id);
            e.put("host", d != null ? d.host() : s.host());
            figures(e, d == null ? 0 : d.documents(), d == null ? 0 : d.failed(), d == null ? 0 : d.inputTokens(),
                d == null ? 0 : d.outputTokens(), s, io, wallSeconds);
            total.add(d, s, io);
        }

        ObjectNode cluster = root.putObject("cluster");
        cluster.put("documents", counts.documents());
        cluster.put("failed", counts.failed());
        cluster.put("summarized", counts.summarized());
        cluster.put("skipped", counts.skipped());
        cluster.put("chunked_documents", counts.chunkedDocuments());
        cluster.put("input_tokens", total.inputTokens);
        cluster.put("output_tokens", total.outputTokens);
        cluster.put("prefill_tokens", total.prefilledTokens);
        cluster.put("decode_tokens", total.decodedTokens);
        cluster.put("wall_seconds", wallSeconds);
        cluster.put("documents_per_hour", wallSeconds > 0 ? counts.summarized() * 3600.0 / wallSeconds : null);
        putRate(cluster, "prefill_tokens_per_second", total.prefilledTokens, total.prefillNanos);
        putRate(cluster, "decode_tokens_per_second", total.decodedTokens, total.decodeNanos);
        ObjectNode split = cluster.putObject("time_split_seconds");
        split.put("load", total.loadNanos / 1e9);
        split.put("prefill", total.prefillNanos / 1e9);
        split.put("decode", total.decodeNanos / 1e9);
        split.put("io", total.ioNanos / 1e9);
        cluster.put("kv_bytes_peak", total.kvPeak);
        cluster.put("kv_budget_bytes", total.kvBudget);
        cluster.put("sequences_mean", total.decodeSteps == 0 ? null : (double) total.decodedTokens / total.decodeSteps);
        cluster.put("sequences_max", total.maxConcurrent);
        cluster.put("task_failures", failures.taskFailures());
        cluster.put("task_retries", failures.taskRetries());
        cluster.put("executors_lost", failures.executorsLost());
        cluster.put("partitions", partitions);
        long max = 0;
        long sum = 0;
        for (long l : loads) {
            max = Math.max(max, l);
            sum += l;
        }
        cluster.put("max_partition_cost", max);
        cluster.put("mean_partition_cost", loads.length == 0 ? 0 : (double) sum / loads.length);

        // Cluster fractions: work summed over executors per engine-second summed over executors, against the
        // executors' mean peak (the time-weighted mean of the executors' own fractions).
        ObjectNode machine = root.putObject("machine");
        if (total.peakCount > 0) {
            double bw = total.bandwidthSum / total.peakCount;
            double fma = total.fmaSum / total.peakCount;
            machine.put("bandwidth_gb_s", bw);
            machine.put("fma_gflop_s", fma);
            machine.put("prefill_fma_fraction", total.prefillNanos == 0 ? null
                : total.prefillFlops / (total.prefillNanos / 1e9) / (fma * 1e9));
            machine.put("decode_bandwidth_fraction", total.decodeNanos == 0 ? null
                : total.decodeBytes / (total.decodeNanos / 1e9) / (bw * 1e9));
        }
        ArrayNode timeline = root.putArray("progress");
        for (double[] p : progress) {
            ObjectNode point = timeline.addObject();
            point.put("t", p[0]);
            point.put("documents", (long) p[1]);
        }
        ObjectNode errors = root.putObject("errors");
        counts.errors().forEach(errors::put);
        return new ThroughputReport(root, counts.documents(), counts.failed(), counts.summarized(), counts.skipped(),
            counts.chunkedDocuments(), partitions);
    }

    private static void figures(ObjectNode e, long documents, long failed, long inputTokens, long outputTokens,
                                ExecutorSample s, long ioNanos, double wallSeconds) {
        e.put("documents", documents);
        e.put("failed", failed);
        e.put("input_tokens", inputTokens);
        e.put("output_tokens", outputTokens);
        e.put("documents_per_hour", wallSeconds > 0 ? documents * 3600.0 / wallSeconds : null);
        if (s == null) {
            return;
        }
        e.put("prefill_tokens", s.prefilledTokens());
        e.put("decode_tokens", s.decodedTokens());
        putRate(e, "prefill_tokens_per_second", s.prefilledTokens(), s.prefillNanos());
        putRate(e, "decode_tokens_per_second", s.decodedTokens(), s.decodeNanos());
        ObjectNode split = e.putObject("time_split_seconds");
        split.put("load", s.loadNanos() / 1e9);
        split.put("prefill", s.prefillNanos() / 1e9);
        split.put("decode", s.decodeNanos() / 1e9);
        split.put("io", ioNanos / 1e9);
        e.put("kv_bytes_peak", s.peakHeldBytes());
        e.put("kv_budget_bytes", s.kvBudgetBytes());
        e.put("sequences_mean", s.decodeSteps() == 0 ? null : s.meanConcurrent());
        e.put("sequences_max", s.maxConcurrent());
        if (!Double.isNaN(s.bandwidthGbs())) {
            ObjectNode peaks = e.putObject("peaks");
            peaks.put("bandwidth_gb_s", s.bandwidthGbs());
            peaks.put("fma_gflop_s", s.fmaGflops());
            ObjectNode achieved = e.putObject("achieved");
            achieved.put("prefill_fma_fraction", s.prefillNanos() == 0 ? null
                : s.flopsPerToken() * s.prefilledTokens() / (s.prefillNanos() / 1e9) / (s.fmaGflops() * 1e9));
            achieved.put("decode_bandwidth_fraction", s.decodeNanos() == 0 ? null
                : (double) s.weightBytes() * s.decodeSteps() / (s.decodeNanos() / 1e9) / (s.bandwidthGbs() * 1e9));
        }
    }

    private static void putRate(ObjectNode n, String field, long count, long nanos) {
        n.put(field, nanos == 0 ? null : count / (nanos / 1e9));
    }

    /** Cluster sums over executors. */
    private static final class Totals {
        long inputTokens;
        long outputTokens;
        long prefilledTokens;
        long decodedTokens;
        long decodeSteps;
        long prefillNanos;
        long decodeNanos;
        long loadNanos;
        long ioNanos;
        long kvPeak;
        long kvBudget;
        int maxConcurrent;
        double bandwidthSum;
        double fmaSum;
        int peakCount;
        double prefillFlops;
        double decodeBytes;

        void add(ExecutorDocuments d, ExecutorSample s, long io) {
            if (d != null) {
                inputTokens += d.inputTokens();
                outputTokens += d.outputTokens();
            }
            ioNanos += io;
            if (s == null) {
                return;
            }
            prefilledTokens += s.prefilledTokens();
            decodedTokens += s.decodedTokens();
            decodeSteps += s.decodeSteps();
            prefillNanos += s.prefillNanos();
            decodeNanos += s.decodeNanos();
            loadNanos += s.loadNanos();
            kvPeak += s.peakHeldBytes();
            kvBudget += s.kvBudgetBytes();
            maxConcurrent = Math.max(maxConcurrent, s.maxConcurrent());
            prefillFlops += s.flopsPerToken() * s.prefilledTokens();
            decodeBytes += (double) s.weightBytes() * s.decodeSteps();
            if (!Double.isNaN(s.bandwidthGbs())) {
                bandwidthSum += s.bandwidthGbs();
                fmaSum += s.fmaGflops();
                peakCount++;
            }
        }
    }

    /** Rows in the output. */
    public long documents() {
        return documents;
    }

    /** Output rows with an error. */
    public long failed() {
        return failed;
    }

    /** Documents summarised by this run. */
    public long summarized() {
        return summarized;
    }

    /** Documents this run found already done (resume). */
    public long skipped() {
        return skipped;
    }

    /** Output rows of documents summarised chunk by chunk. */
    public long chunkedDocuments() {
        return chunkedDocuments;
    }

    /** Token-balanced partitions of this run. */
    public int partitions() {
        return partitions;
    }

    /** The report as an object tree (a copy). */
    public ObjectNode tree() {
        return root.deepCopy();
    }

    /** The report as a self-contained HTML page with charts ({@link io.reviver.spark.report.ReportPage}). */
    public String toHtml() {
        return io.reviver.spark.report.ReportPage.render(List.of(root));
    }

    /** The report as pretty-printed JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the report as JSON", e);
        }
    }

    /** Human-readable lines for the log and stdout. */
    public String toText() {
        ObjectNode cl = (ObjectNode) root.get("cluster");
        ObjectNode machine = (ObjectNode) root.get("machine");
        return String.format(Locale.ROOT, "reviver summarize: %d documents (%d failed), %d summarized now, %d "
                + "already done, %d chunked%n  wall %.1f s: %s documents/hour; prefill %s tokens/s, decode %s "
                + "tokens/s (engine time)%n  KV peak %s of %s bytes, %s sequences per decode step (max %s); task "
                + "failures %s, executors lost %s%n  machine: %s%n  press %s, budget %s; output %s",
            documents, failed, summarized, skipped, chunkedDocuments, cl.get("wall_seconds").asDouble(),
            number(cl, "documents_per_hour"), number(cl, "prefill_tokens_per_second"),
            number(cl, "decode_tokens_per_second"), number(cl, "kv_bytes_peak"), number(cl, "kv_budget_bytes"),
            number(cl, "sequences_mean"), number(cl, "sequences_max"), number(cl, "task_failures"),
            number(cl, "executors_lost"), machine.has("bandwidth_gb_s") ? String.format(Locale.ROOT,
                "%.1f GB/s, %.1f GFLOP/s measured; prefill at %s of the FMA peak, decode at %s of the bandwidth",
                machine.get("bandwidth_gb_s").asDouble(), machine.get("fma_gflop_s").asDouble(),
                number(machine, "prefill_fma_fraction"), number(machine, "decode_bandwidth_fraction"))
                : "peaks not measured",
            root.get("config").get("press").asText(), root.get("config").get("budget").asText(),
            root.get("config").get("output").asText());
    }

    private static String number(ObjectNode n, String field) {
        if (!n.hasNonNull(field)) {
            return "n/a";
        }
        double v = n.get(field).asDouble();
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v)
            : String.format(Locale.ROOT, "%.3g", v);
    }
}
