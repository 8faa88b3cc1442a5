package io.reviver.spark;

import io.reviver.spark.engine.DocumentSummary;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The output table, one row per distinct input document (id and content), and the progress records the tasks
 * write as they go (the same columns plus where and how fast each document was done).
 *
 * <pre>
 *   doc_index      long    position in the corpus (input order)
 *   id             string  document id (#index when the input had none)
 *   content_sha256 string  SHA-256 of the text (UTF-8), null when there was no text
 *   config_sha256  string  hash of the settings that shape a summary (JobConfig.configHash)
 *   summary        string  null on error
 *   input_tokens   int     document tokens
 *   output_tokens  int     tokens of the summary
 *   chunks         int     chunks summarised separately (1 = the document fit)
 *   press          string  KV-cache compression method
 *   budget         double  its budget
 *   error          string  null on success
 * </pre>
 * Every output column is a pure function of the document and the configuration (greedy decoding), so a re-run or
 * a resumed run writes the same rows. Progress records add {@code job_id}, {@code executor_id}, {@code host},
 * {@code prefill_ms}, {@code decode_ms} and {@code total_ms}; timings live there and in the report, not in the
 * output.
 */
public final class OutputSchema {

    private OutputSchema() {
    }

    /** Number of output columns; the progress schema starts with the same ones. */
    static final int OUTPUT_COLUMNS = 11;

    /** The Spark schema of the output. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("doc_index", DataTypes.LongType, false),
        DataTypes.createStructField("id", DataTypes.StringType, false),
        DataTypes.createStructField("content_sha256", DataTypes.StringType, true),
        DataTypes.createStructField("config_sha256", DataTypes.StringType, false),
        DataTypes.createStructField("summary", DataTypes.StringType, true),
        DataTypes.createStructField("input_tokens", DataTypes.IntegerType, false),
        DataTypes.createStructField("output_tokens", DataTypes.IntegerType, false),
        DataTypes.createStructField("chunks", DataTypes.IntegerType, false),
        DataTypes.createStructField("press", DataTypes.StringType, false),
        DataTypes.createStructField("budget", DataTypes.DoubleType, false),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    /** The schema of progress records (JSON Lines in the work directory). */
    public static final StructType PROGRESS = SCHEMA
        .add("job_id", DataTypes.StringType, true)
        .add("executor_id", DataTypes.StringType, true)
        .add("host", DataTypes.StringType, true)
        .add("prefill_ms", DataTypes.DoubleType, true)
        .add("decode_ms", DataTypes.DoubleType, true)
        .add("total_ms", DataTypes.DoubleType, true);

    /** The key of a document's row: id and content hash (null hash for documents without text). */
    public static String key(String id, String contentSha256) {
        return id + '\u0000' + (contentSha256 == null ? "-" : contentSha256);
    }

    /** The key of an output or progress row. */
    static String key(Row r) {
        return key(r.getString(1), r.isNullAt(2) ? null : r.getString(2));
    }

    /** The progress record of one result, as an ordered map of column name to value (for JSON). */
    static java.util.Map<String, Object> progressRecord(DocumentSummary s, String jobId, String executorId,
                                                        String host) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("doc_index", s.index());
        m.put("id", s.id());
        m.put("content_sha256", s.contentSha256());
        m.put("config_sha256", s.configSha256());
        m.put("summary", s.summary());
        m.put("input_tokens", s.inputTokens());
        m.put("output_tokens", s.outputTokens());
        m.put("chunks", s.chunks());
        m.put("press", s.press());
        m.put("budget", s.budget());
        m.put("error", s.error());
        m.put("job_id", jobId);
        m.put("executor_id", executorId);
        m.put("host", host);
        m.put("prefill_ms", s.prefillNanos() / 1e6);
        m.put("decode_ms", s.decodeNanos() / 1e6);
        m.put("total_ms", s.totalNanos() / 1e6);
        return m;
    }
}
