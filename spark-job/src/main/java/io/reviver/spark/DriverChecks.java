package io.reviver.spark;

import io.reviver.kernel.model.LlamaConfig;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.tokenizer.Tokenizers;
import io.reviver.spark.config.ConfigException;
import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigKeys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checks on the driver, before any executor work, that the input and the model exist and that the model is a
 * usable GGUF file, so a wrong path or a malformed model gives one clear {@link ConfigException} naming the key
 * instead of failed tasks. A local model is opened and validated completely (header, metadata, tensor table,
 * model configuration and tokenizer; the weights are not loaded); a remote one (hdfs://, s3a://) is checked for
 * existence, size and the GGUF magic, and validated completely by each executor when it loads it.
 */
final class DriverChecks {

    private DriverChecks() {
    }

    /** Runs every check. */
    static void check(JobConfig config, Configuration conf) {
        input(config, conf);
        model(config, conf);
    }

    static void input(JobConfig config, Configuration conf) {
        Path p = new Path(config.input());
        try {
            FileStatus[] found = p.getFileSystem(conf).globStatus(p);
            if (found == null || found.length == 0) {
                throw new ConfigException(JobConfigKeys.INPUT.property() + " (--input): '"
                    + Redact.uri(config.input()) + "' does not exist");
            }
        } catch (IOException e) {
            throw new ConfigException(JobConfigKeys.INPUT.property() + " (--input): cannot read '"
                + Redact.uri(config.input()) + "': " + e.getMessage());
        }
    }

    static void model(JobConfig config, Configuration conf) {
        String name = JobConfigKeys.MODEL.property() + " (--model): '" + Redact.uri(config.model().toString())
            + "'";
        java.nio.file.Path local = config.model().isLocal() ? config.model().localPath()
            : "file".equals(config.model().uri().getScheme()) ? java.nio.file.Path.of(config.model().uri()) : null;
        if (local != null) {
            try (GgufFile gguf = GgufFile.open(local)) {
                LlamaConfig.fromGguf(gguf.metadata(), gguf.tensor("token_embd.weight"));
                Tokenizers.fromGguf(gguf.metadata());
            } catch (RuntimeException e) {
                throw new ConfigException(name + " is not a usable model: " + e.getMessage());
            }
            return;
        }
        Path p = new Path(config.model().uri());
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                throw new ConfigException(name + " does not exist");
            }
            long size = fs.getFileStatus(p).getLen();
            byte[] magic = new byte[4];
            int n = 0;
            try (InputStream in = fs.open(p)) {
                for (int r; n < 4 && (r = in.read(magic, n, 4 - n)) > 0; ) {
                    n += r;
                }
            }
            if (n < 4 || !new String(magic, StandardCharsets.ISO_8859_1).equals("GGUF")) {
                throw new ConfigException(String.format(Locale.ROOT, "%s is not a GGUF file (%d bytes, starts "
                    + "with %s instead of \"GGUF\")", name, size, hex(magic, n)));
            }
        } catch (IOException e) {
            throw new ConfigException(name + ": cannot read: " + e.getMessage());
        }
    }

    private static String hex(byte[] b, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(String.format(Locale.ROOT, "%02x", b[i] & 0xff));
        }
        return n == 0 ? "nothing" : "0x" + s;
    }
}
