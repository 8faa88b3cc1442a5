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
 * temporary directory and leaves the previous output (if any) as it was.
 *
 * <p>An existing output is accepted when {@code overwrite} is set (it is replaced), or when {@code resume} is set
 * and it is a complete Reviver output ({@value #REPORT} present) written with the same configuration hash; then
 * the job adds what is missing and replaces it: the old directory is first renamed to
 * {@code .<name>.reviver-old-<jobId>}, the new one renamed into place, and the old one deleted (a crash between
 * the two renames leaves the old output under that name, and the progress records in the work directory).
 *
 * <p>On HDFS and local filesystems the rename is atomic. On S3 (s3a) a directory rename copies object by object
 * (Spark's {@code _SUCCESS} may arrive before the part files), so readers must wait for {@value #REPORT}, which is
 * written last. A rename that fails half way deletes what it copied.
 */
public final class AtomicOutput {

    private static final org.apache.logging.log4j.Logger LOG =
        org.apache.logging.log4j.LogManager.getLogger(AtomicOutput.class);

    /** The throughput report's file name inside the output directory; its presence marks a complete output. */
    public static final String REPORT = "_reviver_report.json";

    private final Path output;
    private final Path temporary;
    private final Path old;
    private final FileSystem fs;
    private final boolean existing;

    /**
     * Checks the output location before any work is done, for a run whose rows carry {@code configHash}
     * ({@code JobPlan.configHash()}): an existing output is resumed only if its report records the same hash.
     *
     * @throws ConfigException naming {@code reviver.output} if it has no parent directory, or exists and is
     *                         neither to be overwritten nor a complete output of the same configuration to resume
     */
    public AtomicOutput(JobConfig config, String jobId, Configuration hadoopConf, String configHash) {
        this.output = new Path(config.output());
        Path parent = output.getParent();
        String key = JobConfigKeys.OUTPUT.property() + " (--output): '" + Redact.uri(config.output()) + "'";
        if (parent == null) {
            throw new ConfigException(key + " has no parent directory");
        }
        this.temporary = new Path(parent, "." + output.getName() + ".reviver-tmp-" + jobId);
        this.old = new Path(parent, "." + output.getName() + ".reviver-old-" + jobId);
        try {
            this.fs = output.getFileSystem(hadoopConf);
            restoreStranded(parent);
            this.existing = fs.exists(output);
            if (existing && !config.overwrite()) {
                if (!config.resume()) {
                    throw new ConfigException(key + " already exists; choose a new location, set "
                        + JobConfigKeys.RESUME.property() + "=true to add what is missing, or set "
                        + JobConfigKeys.OVERWRITE.property() + "=true");
                }
                String format = reportField("output_format");
                if (format != null && !format.equals(config.outputFormat().configName())) {
                    throw new ConfigException(key + " holds " + format + " output; resuming it needs "
                        + JobConfigKeys.OUTPUT_FORMAT.property() + "=" + format + " (now "
                        + config.outputFormat().configName() + "), or set " + JobConfigKeys.OVERWRITE.property()
                        + "=true");
                }
                String hash = reportField("config_hash");
                if (hash == null) {
                    throw new ConfigException(key + " exists but is not a complete Reviver output (no " + REPORT
                        + "); choose a new location or set " + JobConfigKeys.OVERWRITE.property() + "=true");
                }
                if (!hash.equals(configHash)) {
                    throw new ConfigException(key + " was written with other settings (configuration hash " + hash
                        + ", now " + configHash + "); choose a new location or set "
                        + JobConfigKeys.OVERWRITE.property() + "=true");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check output " + r(output) + ": " + e.getMessage(), e);
        }
    }

    /**
     * A commit that crashed between moving the previous output away and moving the new one in leaves the previous
     * output under {@code .<name>.reviver-old-<jobId>} and nothing at the destination: put it back.
     */
    private void restoreStranded(Path parent) throws IOException {
        if (fs.exists(output) || !fs.exists(parent)) {
            return;
        }
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(parent)) {
            if (st.isDirectory() && st.getPath().getName().startsWith("." + output.getName() + ".reviver-old-")) {
                if (fs.rename(st.getPath(), output)) {
                    LOG.warn("restored the previous output {} from {}, left there by an interrupted commit",
                        r(output), r(st.getPath()));
                }
                return;
            }
        }
    }

    private static String r(Path p) {
        return Redact.uri(p.toString());
    }

    /** Whether a committed output exists (to resume from, or to overwrite). */
    public boolean exists() {
        return existing;
    }

    /** A field of the existing output's report's {@code config}, or null without a readable report or field. */
    private String reportField(String field) throws IOException {
        Path report = new Path(output, REPORT);
        if (!fs.exists(report)) {
            return null;
        }
        try (java.io.InputStream in = fs.open(report)) {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(in);
            com.fasterxml.jackson.databind.JsonNode value = n.path("config").path(field);
            return value.isTextual() ? value.asText() : null;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return null;
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
            boolean replacing = fs.exists(output);
            byte[] oldReport = null;
            if (replacing) {
                // The report marks a complete output: remove it first, so that no half-moved directory (an S3
                // rename copies object by object) can ever look complete; it is put back if the old output is.
                Path report = new Path(output, REPORT);
                if (fs.exists(report)) {
                    try (java.io.InputStream in = fs.open(report)) {
                        oldReport = in.readAllBytes();
                    }
                    fs.delete(report, false);
                }
            }
            if (replacing && !fs.rename(output, old)) {
                throw new IOException("rename " + r(output) + " -> " + r(old) + " returned false");
            }
            // From here the destination does not exist; anything there after a failed rename is partial (on S3 a
            // directory rename copies object by object): remove it and put the previous output back.
            try {
                if (!fs.rename(temporary, output)) {
                    throw new IOException("rename " + r(temporary) + " -> " + r(output) + " returned false");
                }
            } catch (IOException | RuntimeException e) {
                try {
                    if (fs.exists(output)) {
                        fs.delete(output, true);
                    }
                    if (replacing && !fs.rename(old, output)) {
                        e.addSuppressed(new IOException("the previous output could not be moved back from "
                            + r(old) + "; it is still there"));
                    } else if (replacing && oldReport != null) {
                        try (OutputStream out = fs.create(new Path(output, REPORT), true)) {
                            out.write(oldReport);
                        }
                    }
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
            if (replacing) {
                fs.delete(old, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit output " + r(output) + ": " + e.getMessage(), e);
        } finally {
            abort();
        }
    }

    /**
     * Writes the report into the committed output: its HTML page first, then the JSON last, as the completion
     * marker.
     */
    public void writeReport(String json, String html) {
        write(io.reviver.spark.report.ReportCommand.PAGE, html);
        write(REPORT, json);
    }

    private void write(String name, String text) {
        try (OutputStream out = fs.create(new Path(output, name), true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " into " + r(output) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the temporary directory if it is still there. Never throws (it runs in {@code finally} blocks, where
     * it must not hide the original error): a failure is logged.
     */
    public void abort() {
        try {
            if (fs.exists(temporary)) {
                fs.delete(temporary, true);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot delete the temporary output {}: {}", r(temporary), e.toString());
        }
    }
}
