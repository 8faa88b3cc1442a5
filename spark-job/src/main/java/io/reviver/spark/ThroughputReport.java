package io.reviver.spark;

import io.reviver.spark.config.JobConfig;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What a run did and how fast, computed from the committed output (so it counts each document exactly once).
 *
 * @param jobId             run id
 * @param model             model location
 * @param press             press name
 * @param budget            press budget
 * @param output            output location
 * @param documents         rows written
 * @param failed            rows with an error
 * @param inputTokens       document tokens summed
 * @param outputTokens      summary tokens summed
 * @param chunkedDocuments  documents longer than one chunk (map-reduce)
 * @param partitions        token-balanced partitions
 * @param maxPartitionCost  cost (tokens) of the heaviest partition
 * @param meanPartitionCost mean partition cost
 * @param wallSeconds       wall time of the whole job on the driver
 * @param prefillSeconds    prefill time summed over documents
 * @param decodeSeconds     decode time summed over documents
 */
public record ThroughputReport(String jobId, String model, String press, double budget, String output,
                               long documents, long failed, long inputTokens, long outputTokens,
                               long chunkedDocuments, int partitions, long maxPartitionCost,
                               double meanPartitionCost, double wallSeconds, double prefillSeconds,
                               double decodeSeconds) {

    /** Aggregates the committed output table. */
    static ThroughputReport of(Dataset<Row> output, JobPlan plan, String location, int partitions, long[] loads,
                               double wallSeconds) {
        Row r = output.agg(functions.count(functions.lit(1)), functions.count(functions.col("error")),
            functions.sum("input_tokens"), functions.sum("output_tokens"),
            functions.sum(functions.when(functions.col("chunks").gt(1), 1).otherwise(0)),
            functions.sum("prefill_ms"), functions.sum("decode_ms")).first();
        long max = 0;
        long sum = 0;
        for (long l : loads) {
            max = Math.max(max, l);
            sum += l;
        }
        JobConfig c = plan.config();
        return new ThroughputReport(plan.jobId(), c.model().toString(), c.press(), c.budget(), location,
            r.getLong(0), r.getLong(1), r.isNullAt(2) ? 0 : r.getLong(2), r.isNullAt(3) ? 0 : r.getLong(3),
            r.isNullAt(4) ? 0 : r.getLong(4), partitions, max, loads.length == 0 ? 0 : (double) sum / loads.length,
            wallSeconds, r.isNullAt(5) ? 0 : r.getDouble(5) / 1e3, r.isNullAt(6) ? 0 : r.getDouble(6) / 1e3);
    }

    /** Documents per second of wall time. */
    public double documentsPerSecond() {
        return wallSeconds == 0 ? 0 : documents / wallSeconds;
    }

    /** Generated tokens per second of wall time. */
    public double outputTokensPerSecond() {
        return wallSeconds == 0 ? 0 : outputTokens / wallSeconds;
    }

    /** Document tokens per second of wall time. */
    public double inputTokensPerSecond() {
        return wallSeconds == 0 ? 0 : inputTokens / wallSeconds;
    }

    /** Human-readable lines for the log and stdout. */
    public String toText() {
        return String.format(Locale.ROOT, "reviver summarize: %d documents (%d failed), %d input tokens, %d summary "
                + "tokens, %d chunked%n  wall %.1f s: %.2f documents/s, %.1f input tokens/s, %.1f summary tokens/s"
                + "%n  prefill %.1f s, decode %.1f s (summed over tasks); %d partitions, heaviest %d tokens vs mean "
                + "%.0f%n  press %s, budget %s; output %s",
            documents, failed, inputTokens, outputTokens, chunkedDocuments, wallSeconds, documentsPerSecond(),
            inputTokensPerSecond(), outputTokensPerSecond(), prefillSeconds, decodeSeconds, partitions,
            maxPartitionCost, meanPartitionCost, press, budget, output);
    }

    /** The report as one JSON object. */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"job_id\":%s,\"model\":%s,\"press\":%s,\"budget\":%s,\"output\":%s,"
                + "\"documents\":%d,\"failed\":%d,\"input_tokens\":%d,\"output_tokens\":%d,\"chunked_documents\":%d,"
                + "\"partitions\":%d,\"max_partition_cost\":%d,\"mean_partition_cost\":%.1f,\"wall_seconds\":%.3f,"
                + "\"prefill_seconds\":%.3f,\"decode_seconds\":%.3f,\"documents_per_second\":%.4f,"
                + "\"input_tokens_per_second\":%.2f,\"output_tokens_per_second\":%.2f}%n",
            quote(jobId), quote(model), quote(press), budget, quote(output), documents, failed, inputTokens,
            outputTokens, chunkedDocuments, partitions, maxPartitionCost, meanPartitionCost, wallSeconds,
            prefillSeconds, decodeSeconds, documentsPerSecond(), inputTokensPerSecond(), outputTokensPerSecond());
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
