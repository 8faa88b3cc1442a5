package io.reviver.spark;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigKeys;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/**
 * Writes the output so that it is never partial or duplicated: Spark writes (with its task commit protocol, so a
 * retried task's files replace the failed attempt's) into a hidden sibling directory
 * {@code .<name>.reviver-tmp-<jobId>}, which is renamed to the output directory only after every task committed;
 * the report file {@value #REPORT} is written last and marks a complete output. A failed job deletes its
 * temporary directory and leaves no output.
 *
 * <p>On HDFS and local filesystems the rename is atomic. On S3 (s3a) a directory rename copies object by object,
 * so readers must wait for {@value #REPORT} (or Spark's {@code _SUCCESS}) before reading.
 */
public final class AtomicOutput {

    /** The throughput report's file name inside the output directory; its presence marks a complete output. */
    public static final String REPORT = "_reviver_report.json";

    private final Path output;
    private final Path temporary;
    private final FileSystem fs;
    private final boolean overwrite;

    /**
     * Checks the output location before any work is done.
     *
     * @throws ConfigException naming {@code reviver.output} if it exists and {@code overwrite} is false, or has no
     *                         parent directory
     */
    public AtomicOutput(JobConfig config, String jobId, Configuration hadoopConf) {
        this.output = new Path(config.output());
        this.overwrite = config.overwrite();
        Path parent = output.getParent();
        if (parent == null) {
            throw new ConfigException(JobConfigKeys.OUTPUT.property() + " (--output): '" + config.output()
                + "' has no parent directory");
        }
        this.temporary = new Path(parent, "." + output.getName() + ".reviver-tmp-" + jobId);
        try {
            this.fs = output.getFileSystem(hadoopConf);
            if (fs.exists(output) && !overwrite) {
                throw new ConfigException(JobConfigKeys.OUTPUT.property() + " (--output): '" + config.output()
                    + "' already exists; choose a new location or set " + JobConfigKeys.OVERWRITE.property()
                    + "=true");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check output " + output + ": " + e.getMessage(), e);
        }
    }

    /** The final output directory, fully qualified. */
    public String location() {
        return fs.makeQualified(output).toString();
    }

    /** Writes {@code rows} to the temporary directory, then moves it into place. */
    public void write(Dataset<Row> rows, JobConfig config) {
        try {
            var writer = rows.write().mode(SaveMode.ErrorIfExists);
            switch (config.outputFormat()) {
                case PARQUET -> writer.parquet(temporary.toString());
                case JSONL -> writer.option("ignoreNullFields", "false").json(temporary.toString());
            }
            if (fs.exists(output)) {
                fs.delete(output, true); // only reached with overwrite=true
            }
            if (!fs.rename(temporary, output)) {
                throw new IOException("rename " + temporary + " -> " + output + " returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit output " + output + ": " + e.getMessage(), e);
        } finally {
            abort();
        }
    }

    /** Writes the report into the committed output (last, as the completion marker). */
    public void writeReport(String json) {
        try (OutputStream out = fs.create(new Path(output, REPORT), true)) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + REPORT + " into " + output + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the temporary directory if it is still there. */
    public void abort() {
        try {
            if (fs.exists(temporary)) {
                fs.delete(temporary, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + temporary + ": " + e.getMessage(), e);
        }
    }
}
