package io.reviver.spark;

import io.reviver.spark.engine.DocumentSummary;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The output table: one row per input document.
 *
 * <pre>
 *   doc_index      long    position in the corpus (input order)
 *   id             string  document id (#index when the input had none)
 *   content_sha256 string  SHA-256 of the text (UTF-8), null when there was no text
 *   summary        string  null on error
 *   input_tokens   int     document tokens
 *   output_tokens  int     tokens of the summary
 *   chunks         int     chunks summarised separately (1 = the document fit)
 *   press          string  KV-cache compression method
 *   budget         double  its budget
 *   prefill_ms     double  prefill wall time, all passes
 *   decode_ms      double  decode wall time, all passes
 *   total_ms       double  wall time of the document
 *   error          string  null on success
 * </pre>
 */
public final class OutputSchema {

    private OutputSchema() {
    }

    /** The Spark schema of the output. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("doc_index", DataTypes.LongType, false),
        DataTypes.createStructField("id", DataTypes.StringType, false),
        DataTypes.createStructField("content_sha256", DataTypes.StringType, true),
        DataTypes.createStructField("summary", DataTypes.StringType, true),
        DataTypes.createStructField("input_tokens", DataTypes.IntegerType, false),
        DataTypes.createStructField("output_tokens", DataTypes.IntegerType, false),
        DataTypes.createStructField("chunks", DataTypes.IntegerType, false),
        DataTypes.createStructField("press", DataTypes.StringType, false),
        DataTypes.createStructField("budget", DataTypes.DoubleType, false),
        DataTypes.createStructField("prefill_ms", DataTypes.DoubleType, false),
        DataTypes.createStructField("decode_ms", DataTypes.DoubleType, false),
        DataTypes.createStructField("total_ms", DataTypes.DoubleType, false),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    /** The row of one result. */
    public static Row toRow(DocumentSummary s) {
        return RowFactory.create(s.index(), s.id(), s.contentSha256(), s.summary(), s.inputTokens(),
            s.outputTokens(), s.chunks(), s.press(), s.budget(), s.prefillNanos() / 1e6, s.decodeNanos() / 1e6,
            s.totalNanos() / 1e6, s.error());
    }
}
