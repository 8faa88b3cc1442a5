package io.reviver.spark.report;

import static io.reviver.spark.report.Figures.count;
import static io.reviver.spark.report.Figures.decimal;
import static io.reviver.spark.report.Figures.mebibytes;
import static io.reviver.spark.report.Figures.number;
import static io.reviver.spark.report.Figures.orMissing;
import static io.reviver.spark.report.Figures.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The page comparing several runs: one series per run, labelled "press @ budget · job id prefix", in grouped bars
 * of the cluster figures (documents per hour, prefill and decode tokens per second, KV bytes peak, sequences
 * packed), their progress lines on one chart, and a table with one row per run.
 */
final class ComparisonPage {

    /** Characters of the job id kept in a run's label (a UUID's first group). */
    private static final int JOB_ID_PREFIX = 8;

    private ComparisonPage() {
    }

    static Page of(List<JsonNode> reports) {
        List<String> labels = labels(reports);
        String title = "Reviver: " + reports.size() + " runs compared";

        Map<String, ObjectNode> charts = new LinkedHashMap<>();
        charts.put("documents-per-hour", perRun("Documents per hour", "documents/h", labels, reports,
            r -> number(r, "cluster", "documents_per_hour")));
        charts.put("prefill-rate", perRun("Prefill tokens per second", "tokens/s", labels, reports,
            r -> number(r, "cluster", "prefill_tokens_per_second")));
        charts.put("decode-rate", perRun("Decode tokens per second", "tokens/s", labels, reports,
            r -> number(r, "cluster", "decode_tokens_per_second")));
        charts.put("kv-bytes-peak", perRun("KV cache bytes peak", "MiB", labels, reports,
            r -> Figures.toMebibytes(number(r, "cluster", "kv_bytes_peak"))));
        charts.put("sequences-mean", perRun("Sequences packed concurrently (mean)", "sequences", labels, reports,
            r -> number(r, "cluster", "sequences_mean")));
        List<Chart.Line> progress = new ArrayList<>();
        for (int i = 0; i < reports.size(); i++) {
            progress.add(new Chart.Line(labels.get(i), RunPage.progress(reports.get(i))));
        }
        charts.put("progress", Chart.lines("Progress", "seconds", "documents done", progress));

        String summary = "<h1>" + Html.escape(title) + "</h1>\n";
        return new Page(title, summary, charts, table(reports, labels));
    }

    /**
     * "press @ budget · job id prefix" per run, with " (2)", " (3)"... appended to repeats so that every series has
     * its own legend entry.
     */
    private static List<String> labels(List<JsonNode> reports) {
        List<String> labels = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (JsonNode r : reports) {
            String job = text(r, "job_id");
            String label = orMissing(text(r, "config", "press")) + " @ " + orMissing(text(r, "config", "budget"))
                + " · " + (job == null ? Figures.MISSING : job.substring(0, Math.min(JOB_ID_PREFIX, job.length())));
            String unique = label;
            for (int n = 2; !seen.add(unique); n++) {
                unique = label + " (" + n + ")";
            }
            labels.add(unique);
        }
        return labels;
    }

    /** One category (the unit) with one bar per run, so that the legend names the runs. */
    private static ObjectNode perRun(String title, String unit, List<String> labels, List<JsonNode> reports,
                                     Function<JsonNode, Double> value) {
        List<Chart.Bars> series = new ArrayList<>();
        for (int i = 0; i < reports.size(); i++) {
            series.add(new Chart.Bars(labels.get(i), Collections.singletonList(value.apply(reports.get(i)))));
        }
        return Chart.bars(title, "", List.of(unit), unit, series, false);
    }

    private static String table(List<JsonNode> reports, List<String> labels) {
        List<String> header = List.of("run", "job id", "status", "updated", "press", "budget", "model", "documents",
            "failed", "wall s", "documents/h", "prefill tok/s", "decode tok/s", "KV peak", "KV budget", "seq mean",
            "seq max");
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < reports.size(); i++) {
            JsonNode r = reports.get(i);
            JsonNode c = r.path("cluster");
            rows.add(List.of(labels.get(i), orMissing(text(r, "job_id")), orMissing(text(r, "status")),
                orMissing(text(r, "updated_at")), orMissing(text(r, "config", "press")),
                orMissing(text(r, "config", "budget")), orMissing(text(r, "config", "model")),
                count(number(c, "documents")), count(number(c, "failed")), decimal(number(c, "wall_seconds")),
                decimal(number(c, "documents_per_hour")), decimal(number(c, "prefill_tokens_per_second")),
                decimal(number(c, "decode_tokens_per_second")), mebibytes(number(c, "kv_bytes_peak")),
                mebibytes(number(c, "kv_budget_bytes")), decimal(number(c, "sequences_mean")),
                count(number(c, "sequences_max"))));
        }
        return Html.table("Runs", header, rows);
    }
}
