package io.reviver.spark;

import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfigKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import io.reviver.spark.engine.DocumentChecks;
import java.nio.charset.CharacterCodingException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A corpus of text files, one document per file: the driver lists the files (recursively, skipping names that
 * start with {@code _} or {@code .}, as Spark's file sources do) and executors read each whole file as strict
 * UTF-8. Spark's own text and binaryFile sources silently skip empty files and replace malformed bytes, which here
 * must become error rows, hence this reader. A file larger than {@code max-document-bytes} is not read at all, and
 * a file that is not valid UTF-8 has no text: both get a {@code problem} that becomes the document's error row.
 */
final class TextFiles {

    private TextFiles() {
    }

    /** Table (id = file path, text, problem) of every file under {@code uri}. */
    static Dataset<Row> read(SparkSession spark, String uri, Broadcast<HadoopConfSnapshot> hadoopConf,
                             long maxBytes) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> files = list(uri, sc.hadoopConfiguration());
        int slices = Math.max(1, Math.min(files.size(), sc.defaultParallelism()));
        JavaRDD<Row> rows = sc.parallelize(files, slices).map(new ReadFile(hadoopConf, maxBytes));
        StructType schema = new StructType()
            .add("id", DataTypes.StringType, false)
            .add("text", DataTypes.StringType, true)
            .add("problem", DataTypes.StringType, true);
        return spark.createDataFrame(rows, schema);
    }

    static List<String> list(String uri, Configuration conf) {
        Path root = new Path(uri);
        List<String> files = new ArrayList<>();
        try {
            FileSystem fs = root.getFileSystem(conf);
            if (!fs.exists(root)) {
                throw new ConfigException(JobConfigKeys.INPUT.property() + " (--input): '" + Redact.uri(uri)
                    + "' does not exist");
            }
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            while (it.hasNext()) {
                LocatedFileStatus st = it.next();
                if (!hidden(root, st.getPath())) {
                    files.add(st.getPath().toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + Redact.uri(uri) + ": " + e.getMessage(), e);
        }
        files.sort(null);
        return files;
    }

    /** Whether any path component below {@code root} starts with '_' or '.'. */
    private static boolean hidden(Path root, Path file) {
        String rootPath = root.toUri().getPath();
        for (Path p = file; p != null && p.toUri().getPath().length() > rootPath.length(); p = p.getParent()) {
            String name = p.getName();
            if (name.startsWith("_") || name.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** Reads one file into a row (id, text, problem). */
    private static final class ReadFile implements Function<String, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<HadoopConfSnapshot> hadoopConf;
        private final long maxBytes;

        ReadFile(Broadcast<HadoopConfSnapshot> hadoopConf, long maxBytes) {
            this.hadoopConf = hadoopConf;
            this.maxBytes = maxBytes;
        }

        @Override
        public Row call(String file) throws IOException {
            Path p = new Path(file);
            FileSystem fs = p.getFileSystem(hadoopConf.value().get());
            long length = fs.getFileStatus(p).getLen();
            if (length > maxBytes) {
                return RowFactory.create(file, null, DocumentChecks.tooLarge(length, maxBytes));
            }
            byte[] bytes;
            try (InputStream in = fs.open(p)) {
                bytes = in.readAllBytes();
            }
            try {
                return RowFactory.create(file, DocumentChecks.decodeUtf8(bytes), null);
            } catch (CharacterCodingException e) {
                return RowFactory.create(file, null, e.getMessage());
            }
        }
    }
}
