package io.reviver.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Where tasks record finished documents as they go, so that nothing done is lost when a job dies: the work
 * directory {@code <output parent>/.<output name>.reviver-work/<config hash>/}, holding JSON Lines files of
 * {@link OutputSchema#PROGRESS} records. Each file is written under a hidden temporary name and renamed into place
 * (a single PUT on S3), so a reader sees whole files only; names carry the stage, partition, task attempt and a
 * sequence number, so attempts never overwrite each other. A retried or speculative task may record a document
 * twice; the final output keeps one row per key ({@link OutputSchema#key}). The directory is deleted once the
 * output is committed. Readers (Spark's file sources) skip the hidden temporary names.
 */
public final class ProgressStore implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String root;      // the work directory of this output
    private final String directory; // root/<config hash>

    private ProgressStore(String root, String directory) {
        this.root = root;
        this.directory = directory;
    }

    /** The store of the run's output and configuration hash. */
    public static ProgressStore of(JobPlan plan) {
        Path output = new Path(plan.config().output());
        Path root = new Path(output.getParent(), "." + output.getName() + ".reviver-work");
        return new ProgressStore(root.toString(), new Path(root, plan.configHash()).toString());
    }

    /** The directory of this configuration's records. */
    public String location() {
        return directory;
    }

    /** The work directory of the output (all configurations). */
    public String root() {
        return root;
    }

    /**
     * Writes {@code records} as one file named {@code name} (must not start with '.' or '_').
     *
     * @return nanoseconds spent writing
     */
    long write(Configuration conf, String name, List<Map<String, Object>> records) {
        long t0 = System.nanoTime();
        StringBuilder lines = new StringBuilder();
        try {
            for (Map<String, Object> r : records) {
                lines.append(JSON.writeValueAsString(r)).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode progress records: " + e.getMessage(), e);
        }
        write(conf, new Path(directory, name), lines.toString(), false);
        return System.nanoTime() - t0;
    }

    /** Whether any record file exists. */
    boolean hasRecords(Configuration conf) {
        Path dir = new Path(directory);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (!fs.exists(dir)) {
                return false;
            }
            for (FileStatus st : fs.listStatus(dir)) {
                String n = st.getPath().getName();
                if (st.isFile() && !n.startsWith(".") && !n.startsWith("_")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Every record so far (with possible duplicates), or null when there are none. */
    Dataset<Row> read(SparkSession spark, Configuration conf) {
        if (!hasRecords(conf)) {
            return null;
        }
        return spark.read().schema(OutputSchema.PROGRESS).json(directory);
    }

    /**
     * Writes the running report as {@code <work directory>/_reviver_report.json} and its page
     * {@code _reviver_report.html}, replacing earlier ones.
     */
    void writeReport(Configuration conf, String json, String html) {
        write(conf, new Path(root, io.reviver.spark.report.ReportCommand.PAGE), html, true);
        write(conf, new Path(root, AtomicOutput.REPORT), json, true);
    }

    /**
     * Writes {@code text} under a hidden name, then renames it to {@code file}, so a reader never sees half a file.
     * With {@code replace} an existing file is deleted first (between the delete and the rename there is briefly
     * none); without, an existing file makes the rename, and the write, fail.
     */
    private static void write(Configuration conf, Path file, String text, boolean replace) {
        Path temporary = new Path(file.getParent(), "." + file.getName() + ".tmp");
        try {
            FileSystem fs = file.getFileSystem(conf);
            try (OutputStream out = fs.create(temporary, true)) {
                out.write(text.getBytes(StandardCharsets.UTF_8));
            }
            if (replace) {
                fs.delete(file, false);
            }
            if (!fs.rename(temporary, file)) {
                fs.delete(temporary, false);
                throw new IOException("rename " + temporary + " -> " + file + " returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes this configuration's records, and the work directory (with its running report) when no other
     * configuration's records are left in it.
     */
    void delete(Configuration conf) {
        Path dir = new Path(directory);
        Path top = new Path(root);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            if (fs.exists(dir)) {
                fs.delete(dir, true);
            }
            if (fs.exists(top)) {
                boolean onlyReport = true;
                for (FileStatus st : fs.listStatus(top)) {
                    String n = st.getPath().getName();
                    onlyReport &= n.equals(AtomicOutput.REPORT) || n.equals(io.reviver.spark.report.ReportCommand.PAGE)
                        || n.startsWith(".");
                }
                if (onlyReport) {
                    fs.delete(top, true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
