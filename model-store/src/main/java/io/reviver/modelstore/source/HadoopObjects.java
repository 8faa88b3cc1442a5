package io.reviver.modelstore.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UnsupportedFileSystemException;

/**
 * Access to remote model objects through the Hadoop FileSystem API, translating Hadoop's exceptions into typed
 * {@link ModelSourceException}s that name the URI. FileSystem instances come from Hadoop's own per-JVM cache
 * ({@link FileSystem#get(URI, Configuration)}) and are not closed here, since other code in the JVM may share
 * them.
 */
final class HadoopObjects {
    /** Schemes served by the hadoop-aws connector, which this module deliberately does not bundle. */
    private static final Set<String> S3_SCHEMES = Set.of("s3a", "s3", "s3n");
    /** A sidecar holds one hash and maybe a file name; anything longer is not a sidecar. */
    private static final int SIDECAR_MAX_BYTES = 4096;

    private HadoopObjects() {
    }

    /** The FileSystem serving {@code uri}; a missing connector becomes a typed error saying what to add. */
    static FileSystem fileSystem(URI uri, Configuration conf) {
        try {
            return FileSystem.get(uri, conf);
        } catch (UnsupportedFileSystemException e) {
            throw noFileSystem(uri, e);
        } catch (IOException e) {
            throw new ModelSourceException("cannot open the Hadoop FileSystem for " + uri + ": " + e, e);
        } catch (RuntimeException | LinkageError e) {
            // A scheme with a configured fs.<scheme>.impl whose class (or one of its dependencies, e.g. the AWS
            // SDK) is absent surfaces as a RuntimeException wrapping ClassNotFoundException, or as a linkage error.
            if (isMissingClass(e)) {
                throw noFileSystem(uri, e);
            }
            throw e;
        }
    }

    private static boolean isMissingClass(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ClassNotFoundException || t instanceof NoClassDefFoundError) {
                return true;
            }
        }
        return false;
    }

    private static ModelSourceException noFileSystem(URI uri, Throwable cause) {
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        String hint = S3_SCHEMES.contains(scheme)
                ? "add hadoop-aws and the AWS SDK bundle to the classpath and use the s3a:// scheme"
                : "add the Hadoop connector jar that provides it to the classpath, or set fs." + scheme + ".impl";
        return new ModelSourceException("no FileSystem for scheme " + scheme + " (model location " + uri + "): "
                + hint, cause);
    }

    /**
     * Status of the model object.
     *
     * @throws ModelSourceException if it does not exist, is a directory, or cannot be queried
     */
    static FileStatus status(FileSystem fs, URI uri) {
        FileStatus st;
        try {
            st = fs.getFileStatus(new Path(uri));
        } catch (FileNotFoundException e) {
            throw new ModelSourceException("model object not found: " + uri, e);
        } catch (IOException e) {
            throw new ModelSourceException("cannot stat model object " + uri + ": " + e, e);
        }
        if (!st.isFile()) {
            throw new ModelSourceException("model location " + uri + " is a directory, not a file");
        }
        return st;
    }

    /**
     * Reads the expected hash from the sidecar {@code <uri>.sha256}, whose first whitespace-separated token must
     * be 64 hex characters (the format {@code sha256sum} writes).
     *
     * @return empty when there is no sidecar
     * @throws ModelSourceException if the sidecar exists but is unreadable, too large or malformed
     */
    static Optional<String> sidecarSha256(FileSystem fs, URI sidecar) {
        Path path = new Path(sidecar);
        byte[] bytes;
        try {
            FileStatus st;
            try {
                st = fs.getFileStatus(path);
            } catch (FileNotFoundException e) {
                return Optional.empty();
            }
            if (!st.isFile() || st.getLen() > SIDECAR_MAX_BYTES) {
                throw new ModelSourceException("checksum sidecar " + sidecar + " is not a small file (length "
                        + st.getLen() + ", directory=" + st.isDirectory() + ")");
            }
            try (InputStream in = fs.open(path)) {
                bytes = in.readNBytes(SIDECAR_MAX_BYTES);
            }
        } catch (IOException e) {
            throw new ModelSourceException("cannot read checksum sidecar " + sidecar + ": " + e, e);
        }
        String text = new String(bytes, StandardCharsets.UTF_8).strip();
        String token = text.isEmpty() ? "" : text.split("\\s+", 2)[0];
        try {
            return Optional.of(ModelLocation.parseSha256(token.isEmpty() ? "<empty>" : token));
        } catch (ModelLocationException e) {
            throw new ModelSourceException("checksum sidecar " + sidecar + " does not start with a sha256: "
                    + e.getMessage(), e);
        }
    }
}
