package io.reviver.spark.report;

import static io.reviver.spark.report.Figures.count;
import static io.reviver.spark.report.Figures.decimal;
import static io.reviver.spark.report.Figures.mebibytes;
import static io.reviver.spark.report.Figures.number;
import static io.reviver.spark.report.Figures.orMissing;
import static io.reviver.spark.report.Figures.percent;
import static io.reviver.spark.report.Figures.share;
import static io.reviver.spark.report.Figures.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The page for one run: its configuration and status, charts per executor (documents, prefill and decode rates,
 * time split, KV bytes against budget, sequences packed, achieved fraction of the machine's peaks) and progress
 * over time, then tables of the cluster figures, the executors and the errors.
 */
final class RunPage {

    /** The phases of {@code time_split_seconds}, in stacking order. */
    private static final List<String> PHASES = List.of("load", "prefill", "decode", "io");

    private RunPage() {
    }

    static Page of(JsonNode report) {
        List<JsonNode> executors = new ArrayList<>();
        array(report, "executors").forEach(executors::add);
        List<String> names = executorNames(executors);
        String title = "Reviver run " + orMissing(text(report, "job_id"));

        Map<String, ObjectNode> charts = new LinkedHashMap<>();
        charts.put("documents", Chart.bars("Documents per executor", "executor", names, "documents", List.of(
            perExecutor("documents", executors, e -> number(e, "documents")),
            perExecutor("failed", executors, e -> number(e, "failed"))), false));
        charts.put("prefill-rate", Chart.bars("Prefill tokens per second", "executor", names, "tokens/s",
            List.of(perExecutor("prefill", executors, e -> number(e, "prefill_tokens_per_second"))), false));
        charts.put("decode-rate", Chart.bars("Decode tokens per second", "executor", names, "tokens/s",
            List.of(perExecutor("decode", executors, e -> number(e, "decode_tokens_per_second"))), false));
        List<Chart.Bars> phases = new ArrayList<>();
        for (String phase : PHASES) {
            phases.add(perExecutor(phase, executors, e -> number(e, "time_split_seconds", phase)));
        }
        charts.put("time-split", Chart.bars("Time split per executor", "executor", names, "seconds", phases, true));
        charts.put("kv-bytes", Chart.bars("KV cache bytes: peak vs budget", "executor", names, "MiB", List.of(
            perExecutor("peak", executors, e -> Figures.toMebibytes(number(e, "kv_bytes_peak"))),
            perExecutor("budget", executors, e -> Figures.toMebibytes(number(e, "kv_budget_bytes")))), false));
        charts.put("sequences", Chart.bars("Sequences packed concurrently", "executor", names, "sequences",
            List.of(perExecutor("mean", executors, e -> number(e, "sequences_mean")),
                perExecutor("max", executors, e -> number(e, "sequences_max"))), false));
        charts.put("progress", Chart.lines("Progress", "seconds", "documents done",
            List.of(new Chart.Line("documents", progress(report)))));
        charts.put("machine-fraction", Chart.bars("Achieved fraction of the machine's peaks", "executor", names,
            "% of peak", List.of(
                perExecutor("prefill vs FMA peak", executors,
                    e -> Figures.toPercent(number(e, "achieved", "prefill_fma_fraction"))),
                perExecutor("decode vs memory bandwidth", executors,
                    e -> Figures.toPercent(number(e, "achieved", "decode_bandwidth_fraction")))), false));

        String summary = "<h1>" + Html.escape(title) + "</h1>\n" + status(report) + config(report);
        String details = cluster(report) + executorTable(executors, names) + errors(report);
        return new Page(title, summary, charts, details);
    }

    /**
     * The (seconds, documents) points of {@code progress} in file order, leaving out points missing either value.
     * Shared with {@link ComparisonPage}.
     */
    static List<double[]> progress(JsonNode report) {
        List<double[]> points = new ArrayList<>();
        for (JsonNode p : array(report, "progress")) {
            Double t = number(p, "t");
            Double done = number(p, "documents");
            if (t != null && done != null) {
                points.add(new double[] {t, done});
            }
        }
        return points;
    }

    /** An array field, or an empty list when absent, null or not an array. */
    private static Iterable<JsonNode> array(JsonNode report, String field) {
        JsonNode n = report.path(field);
        return n.isArray() ? n : List.of();
    }

    /**
     * Axis labels: the executor id, or "n/a #i" (1-based position) without one, so that categories stay distinct.
     */
    private static List<String> executorNames(List<JsonNode> executors) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < executors.size(); i++) {
            String id = text(executors.get(i), "executor_id");
            names.add(id != null ? id : Figures.MISSING + " #" + (i + 1));
        }
        return names;
    }

    private static Chart.Bars perExecutor(String name, List<JsonNode> executors, Function<JsonNode, Double> value) {
        List<Double> values = new ArrayList<>();
        executors.forEach(e -> values.add(value.apply(e)));
        return new Chart.Bars(name, values);
    }

    private static String status(JsonNode report) {
        String status = text(report, "status");
        String css = "done".equals(status) ? "done" : "running".equals(status) ? "running" : "unknown";
        return "<p class=\"status\">status <span class=\"badge " + css + "\">" + Html.escape(orMissing(status))
            + "</span> · updated " + Html.escape(orMissing(text(report, "updated_at"))) + "</p>\n";
    }

    private static String config(JsonNode report) {
        JsonNode c = report.path("config");
        return Html.fields("Configuration", List.of(
            List.of("press", orMissing(text(c, "press"))),
            List.of("budget", orMissing(text(c, "budget"))),
            List.of("model", orMissing(text(c, "model"))),
            List.of("input", orMissing(text(c, "input"))),
            List.of("output", orMissing(text(c, "output"))),
            List.of("KV memory", mebibytes(number(c, "kv_memory_bytes"))),
            List.of("max new tokens", count(number(c, "max_new_tokens"))),
            List.of("config hash", orMissing(text(c, "config_hash"))),
            List.of("job id", orMissing(text(report, "job_id")))));
    }

    private static String cluster(JsonNode report) {
        JsonNode c = report.path("cluster");
        JsonNode m = report.path("machine");
        List<List<String>> rows = new ArrayList<>(List.of(
            List.of("documents", count(number(c, "documents"))),
            List.of("failed", count(number(c, "failed"))),
            List.of("skipped", count(number(c, "skipped"))),
            List.of("input tokens", count(number(c, "input_tokens"))),
            List.of("output tokens", count(number(c, "output_tokens"))),
            List.of("prefill tokens", count(number(c, "prefill_tokens"))),
            List.of("decode tokens", count(number(c, "decode_tokens"))),
            List.of("wall seconds", decimal(number(c, "wall_seconds"))),
            List.of("documents per hour", decimal(number(c, "documents_per_hour"))),
            List.of("prefill tokens per second", decimal(number(c, "prefill_tokens_per_second"))),
            List.of("decode tokens per second", decimal(number(c, "decode_tokens_per_second")))));
        for (String phase : PHASES) {
            rows.add(List.of(phase + " seconds", decimal(number(c, "time_split_seconds", phase))));
        }
        rows.addAll(List.of(
            List.of("KV bytes peak", mebibytes(number(c, "kv_bytes_peak"))),
            List.of("KV budget", mebibytes(number(c, "kv_budget_bytes"))),
            List.of("KV peak / budget", share(number(c, "kv_bytes_peak"), number(c, "kv_budget_bytes"))),
            List.of("sequences mean", decimal(number(c, "sequences_mean"))),
            List.of("sequences max", count(number(c, "sequences_max"))),
            List.of("task failures", count(number(c, "task_failures"))),
            List.of("task retries", count(number(c, "task_retries"))),
            List.of("executors lost", count(number(c, "executors_lost"))),
            List.of("machine memory bandwidth (GB/s)", decimal(number(m, "bandwidth_gb_s"))),
            List.of("machine FMA peak (GFLOP/s)", decimal(number(m, "fma_gflop_s"))),
            List.of("prefill vs FMA peak", percent(number(m, "prefill_fma_fraction"))),
            List.of("decode vs memory bandwidth", percent(number(m, "decode_bandwidth_fraction")))));
        return Html.fields("Cluster", rows);
    }

    private static String executorTable(List<JsonNode> executors, List<String> names) {
        List<String> header = new ArrayList<>(List.of("executor", "host", "documents", "failed", "input tokens",
            "output tokens", "prefill tok/s", "decode tok/s", "documents/h"));
        PHASES.forEach(p -> header.add(p + " s"));
        header.addAll(List.of("KV peak", "KV budget", "peak/budget", "seq mean", "seq max", "GB/s peak",
            "GFLOP/s peak", "prefill vs FMA", "decode vs bandwidth"));
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < executors.size(); i++) {
            JsonNode e = executors.get(i);
            List<String> row = new ArrayList<>(List.of(names.get(i), orMissing(text(e, "host")),
                count(number(e, "documents")), count(number(e, "failed")), count(number(e, "input_tokens")),
                count(number(e, "output_tokens")), decimal(number(e, "prefill_tokens_per_second")),
                decimal(number(e, "decode_tokens_per_second")), decimal(number(e, "documents_per_hour"))));
            PHASES.forEach(p -> row.add(decimal(number(e, "time_split_seconds", p))));
            row.addAll(List.of(mebibytes(number(e, "kv_bytes_peak")), mebibytes(number(e, "kv_budget_bytes")),
                share(number(e, "kv_bytes_peak"), number(e, "kv_budget_bytes")),
                decimal(number(e, "sequences_mean")), count(number(e, "sequences_max")),
                decimal(number(e, "peaks", "bandwidth_gb_s")), decimal(number(e, "peaks", "fma_gflop_s")),
                percent(number(e, "achieved", "prefill_fma_fraction")),
                percent(number(e, "achieved", "decode_bandwidth_fraction"))));
            rows.add(row);
        }
        if (rows.isEmpty()) {
            List<String> none = new ArrayList<>();
            header.forEach(h -> none.add(Figures.MISSING));
            rows.add(none);
        }
        return Html.table("Executors", header, rows);
    }

    /** Error counts by reason; "n/a" when the report has none recorded, "none" when it recorded zero. */
    private static String errors(JsonNode report) {
        JsonNode errors = report.path("errors");
        List<List<String>> rows = new ArrayList<>();
        if (!errors.isObject()) {
            rows.add(List.of(Figures.MISSING, Figures.MISSING));
        } else if (errors.isEmpty()) {
            rows.add(List.of("none", "0"));
        } else {
            errors.fields().forEachRemaining(f -> rows.add(List.of(f.getKey(), count(number(f.getValue())))));
        }
        return Html.table("Errors by reason", List.of("reason", "documents"), rows);
    }
}
