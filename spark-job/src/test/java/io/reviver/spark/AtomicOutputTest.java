package io.reviver.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit of {@link AtomicOutput} when the final rename fails half way, as a directory rename on S3 can (it
 * copies object by object): a filesystem whose rename of the temporary directory copies one file and then fails.
 * Nothing may be left at the destination, and an output being replaced must come back.
 */
class AtomicOutputTest {

    /** The local filesystem under the scheme {@code halfrename:}, whose rename of a temporary output fails. */
    public static final class HalfRenameFileSystem extends RawLocalFileSystem {
        static volatile boolean failing;

        @Override
        public URI getUri() {
            return URI.create("halfrename:///");
        }

        @Override
        public boolean rename(org.apache.hadoop.fs.Path src, org.apache.hadoop.fs.Path dst) throws IOException {
            if (failing && src.getName().contains(".reviver-tmp-")) {
                mkdirs(dst);
                for (FileStatus st : listStatus(src)) {
                    if (st.isFile() && st.getPath().getName().startsWith("part-")) {
                        FileUtil.copy(this, st.getPath(), this, new org.apache.hadoop.fs.Path(dst,
                            st.getPath().getName()), false, getConf());
                        break;
                    }
                }
                throw new IOException("injected: rename failed after copying one file");
            }
            return super.rename(src, dst);
        }
    }

    @TempDir
    Path tmp;

    private static Dataset<Row> rows(long n) {
        List<Row> list = new java.util.ArrayList<>();
        for (long i = 0; i < n; i++) {
            list.add(RowFactory.create(i, "d" + i, null, "cfg", "s", 1, 1, 1, "full", 1.0, null));
        }
        return SharedSpark.session().createDataFrame(list, OutputSchema.SCHEMA).repartition(2);
    }

    @Test
    void aRenameThatFailsHalfWayLeavesNothingAndRestoresTheOldOutput() throws Exception {
        Configuration conf = new Configuration(SharedSpark.session().sparkContext().hadoopConfiguration());
        conf.set("fs.halfrename.impl", HalfRenameFileSystem.class.getName());
        conf.setBoolean("fs.halfrename.impl.disable.cache", true);
        SharedSpark.session().sparkContext().hadoopConfiguration().set("fs.halfrename.impl",
            HalfRenameFileSystem.class.getName());
        Path out = tmp.resolve("out");
        Map<String, String> v = Map.of("model", "/m.gguf", "input", "/in", "output", "halfrename://" + out,
            "output-format", "jsonl");
        JobConfig config = JobConfigLoader.fromValues(v);

        // A first, good commit.
        HalfRenameFileSystem.failing = false;
        AtomicOutput first = new AtomicOutput(config, "job-1", conf, "h");
        first.write(rows(3), config);
        first.writeReport("{\"config\":{\"config_hash\":\"h\"}}", "<html></html>");
        assertEquals(3, SharedSpark.session().read().schema(OutputSchema.SCHEMA).json(out.toString()).count());

        // Replacing it fails half way: the previous output is back, nothing partial, no temporary directory.
        HalfRenameFileSystem.failing = true;
        JobConfig overwrite = JobConfigLoader.fromValues(new java.util.HashMap<>(Map.of("model", "/m.gguf",
            "input", "/in", "output", "halfrename://" + out, "output-format", "jsonl", "overwrite", "true")));
        AtomicOutput second = new AtomicOutput(overwrite, "job-2", conf, "h");
        Exception e = assertThrows(Exception.class, () -> second.write(rows(5), overwrite));
        assertTrue(String.valueOf(e.getMessage()).contains("injected"), String.valueOf(e.getMessage()));
        assertEquals(3, SharedSpark.session().read().schema(OutputSchema.SCHEMA).json(out.toString()).count(),
            "the previous output is back");
        assertTrue(Files.exists(out.resolve(AtomicOutput.REPORT)), "with its report");
        HalfRenameFileSystem.failing = false;

        // A commit that died between its two renames left the previous output aside: the next run restores it.
        Path aside = tmp.resolve(".out.reviver-old-crashed");
        Files.move(out, aside);
        new AtomicOutput(overwrite, "job-4", conf, "h");
        assertTrue(Files.exists(out.resolve(AtomicOutput.REPORT)) && !Files.exists(aside), "restored");
        HalfRenameFileSystem.failing = true;

        // Into a new location: nothing at the destination.
        Path fresh = tmp.resolve("fresh");
        JobConfig toFresh = JobConfigLoader.fromValues(Map.of("model", "/m.gguf", "input", "/in",
            "output", "halfrename://" + fresh, "output-format", "jsonl"));
        AtomicOutput third = new AtomicOutput(toFresh, "job-3", conf, "h");
        assertThrows(Exception.class, () -> third.write(rows(4), toFresh));
        assertFalse(Files.exists(fresh), "no partial output");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("out"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                "no temporary or old directories left");
        }
        HalfRenameFileSystem.failing = false;
    }
}
