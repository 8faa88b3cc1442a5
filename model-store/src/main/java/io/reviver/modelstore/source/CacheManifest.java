package io.reviver.modelstore.source;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The small self-describing record written beside a cached model file: what it was copied from and what a
 * complete copy looks like. Stored as a Java properties file whose first keys are a format id and a version, which
 * are checked before anything else is trusted; any unreadable, foreign or incomplete manifest reads as absent, so
 * the entry is treated as corrupt and replaced.
 *
 * @param source                 normalised source URI
 * @param size                   byte length of the complete file
 * @param sha256                 SHA-256 of the complete file, 64 lower-case hex characters
 * @param remoteModificationTime source modification time from its Hadoop FileStatus, milliseconds since the epoch
 * @param createdAt              when the entry was completed
 */
record CacheManifest(String source, long size, String sha256, long remoteModificationTime, Instant createdAt) {

    static final String FORMAT = "reviver-model-cache-entry";
    static final int VERSION = 1;
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    /**
     * Writes the manifest atomically (temporary file, fsync, rename) so a reader never sees half of it.
     */
    void write(Path manifest) throws IOException {
        Properties p = new Properties();
        p.setProperty("format", FORMAT);
        p.setProperty("version", Integer.toString(VERSION));
        p.setProperty("source", source);
        p.setProperty("size", Long.toString(size));
        p.setProperty("sha256", sha256);
        p.setProperty("remoteModificationTime", Long.toString(remoteModificationTime));
        p.setProperty("createdAt", createdAt.toString());
        Path tmp = manifest.resolveSibling(manifest.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            OutputStream out = Channels.newOutputStream(ch);
            p.store(out, "Reviver model cache entry; do not edit");
            out.flush();
            ch.force(true);
        }
        Files.move(tmp, manifest, StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Reads a manifest.
     *
     * @return empty when the file is missing, unreadable, of another format or version, or has a missing or
     *     malformed field
     */
    static Optional<CacheManifest> read(Path manifest) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(manifest)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
        if (!FORMAT.equals(p.getProperty("format"))
                || !Integer.toString(VERSION).equals(p.getProperty("version"))) {
            return Optional.empty();
        }
        try {
            String source = p.getProperty("source");
            long size = Long.parseLong(p.getProperty("size", ""));
            String sha = p.getProperty("sha256", "");
            long mtime = Long.parseLong(p.getProperty("remoteModificationTime", ""));
            Instant created = Instant.parse(p.getProperty("createdAt", ""));
            if (source == null || size < 0 || !HEX64.matcher(sha).matches()) {
                return Optional.empty();
            }
            return Optional.of(new CacheManifest(source, size, sha, mtime, created));
        } catch (NumberFormatException | DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
