package io.reviver.spark;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigKeys;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Reads the corpus (all of it; {@code limit} is applied after numbering, see {@code SummarizeJob}) into a table
 * of three string columns, {@code id}, {@code text} and {@code problem} (why the document cannot be read; null
 * when it can), whatever its format.
 * <ul>
 *   <li>{@code jsonl}: JSON Lines with fields {@code id}, {@code text} (others ignored); a malformed line gives a
 *       row with null id and text, which becomes an error row. Spark's JSON reader replaces malformed UTF-8 bytes
 *       with U+FFFD, so such lines are summarised with the replacement characters.</li>
 *   <li>{@code text}: every file under the URI is one document (whole file as strict UTF-8); its id is the file's
 *       path. Empty files are documents too (they give error rows), as are files that are not UTF-8 or larger
 *       than {@code max-document-bytes} (see {@link TextFiles}).</li>
 *   <li>{@code parquet}: columns {@code id} (cast to string) and {@code text}.</li>
 * </ul>
 */
public final class CorpusReader {

    private CorpusReader() {
    }

    /**
     * @param hadoopConf the driver's Hadoop configuration, for executors reading text files
     * @throws ConfigException naming {@code reviver.input} when a Parquet corpus lacks the two columns or a text
     *                         corpus does not exist
     */
    public static Dataset<Row> read(SparkSession spark, JobConfig config,
                                    Broadcast<HadoopConfSnapshot> hadoopConf) {
        String uri = config.input();
        Dataset<Row> corpus = switch (config.inputFormat()) {
            case JSONL -> spark.read().schema("id STRING, text STRING").option("mode", "PERMISSIVE").json(uri)
                .withColumn("problem", functions.lit(null).cast("string"));
            case TEXT -> TextFiles.read(spark, uri, hadoopConf, config.maxDocumentBytes());
            case PARQUET -> {
                Dataset<Row> p = spark.read().parquet(uri);
                List<String> columns = Arrays.asList(p.columns());
                if (!columns.contains("id") || !columns.contains("text")) {
                    throw new ConfigException(JobConfigKeys.INPUT.property() + " (--input): '"
                        + Redact.uri(uri) + "' is Parquet with columns " + columns + "; it needs 'id' and 'text'");
                }
                yield p.select(functions.col("id").cast("string"), functions.col("text").cast("string"),
                    functions.lit(null).cast("string").as("problem"));
            }
        };
        return corpus; // reviver.limit is applied by the job on the numbered rows, where the order is stable
    }
}
