package io.reviver.modelstore.source;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Turns a {@link ModelLocation} into a complete, verified file on local disk.
 *
 * <p><b>Local paths</b> are checked (exists, regular file, readable) and returned as given; their bytes are
 * hashed only when the location carries an expected SHA-256. Sidecar files are not consulted for local paths, so
 * opening a local model never costs a full read unless asked for.
 *
 * <p><b>Remote objects</b> (any Hadoop FileSystem URI, {@code file:} included) are copied into the cache
 * directory given to the constructor. The expected hash is the location's own, else the first token of a sidecar
 * object {@code <uri>.sha256} if one exists, else none. Layout, one directory per source:
 * <pre>
 *   &lt;cacheDir&gt;/&lt;sha256 of the normalised URI&gt;/&lt;fileName&gt;           the model bytes
 *   &lt;cacheDir&gt;/&lt;sha256 of the normalised URI&gt;/&lt;fileName&gt;.manifest  source, size, sha256, remote mtime, created-at
 *   &lt;cacheDir&gt;/&lt;sha256 of the normalised URI&gt;/&lt;fileName&gt;.lock      per-entry inter-process lock
 *   &lt;cacheDir&gt;/&lt;sha256 of the normalised URI&gt;/&lt;fileName&gt;.part      transfer in progress (same directory, so the
 *                                                              final rename is atomic)
 * </pre>
 * A download streams through one 1 MiB buffer while hashing, checks the byte count against the remote
 * {@link FileStatus} length and the hash against the expected value, fsyncs, renames the file into place
 * atomically and then writes the manifest. Until the new manifest exists an entry reads as incomplete, so a crash at
 * any point leaves either the old complete entry, or an entry that is detected and replaced.
 *
 * <p><b>Reuse.</b> An existing entry is reused when its manifest is valid and names this source, the file's size
 * equals the manifest's, the remote length and modification time equal the manifest's, and the expected hash (if
 * any) equals the manifest's hash. With {@link ReuseCheck#REHASH} the file is additionally re-hashed and compared
 * with the manifest. Any failed check replaces the entry by a fresh download; a corrupt entry is never returned.
 * Known limit: with {@link ReuseCheck#MANIFEST} a same-size in-place corruption of the cached file is not
 * noticed; use {@code REHASH} where that matters.
 *
 * <p><b>Concurrency.</b> All checks and the download for one entry run under an exclusive lock that spans threads
 * and processes (see {@code EntryLocks}), so concurrent resolvers of one URI see exactly one transfer and all
 * return the same complete file. Different entries proceed in parallel. A file already returned to a caller is
 * never modified in place: a replacement is renamed over it, so open handles and mappings keep the old bytes.
 *
 * <p>The cache holds no global configuration: everything comes from the constructor and the arguments.
 */
public final class ModelCache {
    private static final Logger LOG = LogManager.getLogger(ModelCache.class);

    /** How much an existing cache entry is checked before it is reused. */
    public enum ReuseCheck {
        /** Size, manifest and remote FileStatus only (cheap; no full read). */
        MANIFEST,
        /** Also re-hash the cached file and compare it with the manifest (a full local read). */
        REHASH
    }

    private final Path cacheDir;

    /**
     * @param cacheDir directory holding cache entries; created if missing. Several caches, threads and processes
     *                 may share it.
     * @throws ModelCacheException if it cannot be created or is not a writable directory
     */
    public ModelCache(Path cacheDir) {
        Objects.requireNonNull(cacheDir, "cacheDir");
        try {
            Files.createDirectories(cacheDir);
        } catch (IOException e) {
            throw new ModelCacheException("cannot create model cache directory " + cacheDir + ": " + e, e);
        }
        if (!Files.isDirectory(cacheDir) || !Files.isWritable(cacheDir)) {
            throw new ModelCacheException("model cache directory " + cacheDir + " is not a writable directory");
        }
        this.cacheDir = cacheDir;
    }

    /** The directory given to the constructor. */
    public Path cacheDirectory() {
        return cacheDir;
    }

    /**
     * Resolves a location to a local file with the default {@link ReuseCheck#MANIFEST} check.
     *
     * @param conf Hadoop configuration for remote FileSystems (credentials, endpoints); unused for local paths
     * @return the local file to open
     * @see #resolveModel(ModelLocation, Configuration, ReuseCheck)
     */
    public Path resolve(ModelLocation location, Configuration conf) {
        return resolveModel(location, conf, ReuseCheck.MANIFEST).path();
    }

    /**
     * Resolves a location to a local, verified file and says how it was obtained.
     *
     * @param location local path or Hadoop URI, with an optional expected SHA-256
     * @param conf     Hadoop configuration for remote FileSystems; unused for local paths
     * @param check    how thoroughly an existing cache entry is checked before reuse; ignored for local paths
     * @throws ModelSourceException       if the source is missing, a directory, unreadable, served by no
     *                                    FileSystem on the classpath, truncated in transfer, or has a malformed
     *                                    sidecar
     * @throws ChecksumMismatchException  if the bytes do not match the expected SHA-256
     * @throws ModelCacheException        if the cache directory cannot be written or locked
     */
    public ResolvedModel resolveModel(ModelLocation location, Configuration conf, ReuseCheck check) {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(check, "check");
        if (location.isLocal()) {
            return resolveLocal(location);
        }
        Objects.requireNonNull(conf, "conf");
        return resolveRemote(location, conf, check);
    }

    /** Directory of the cache entry for a remote location: named by the SHA-256 of its normalised URI. */
    Path entryDirectory(ModelLocation location) {
        return cacheDir.resolve(Sha256.ofText(location.uri().toString()));
    }

    private static ResolvedModel resolveLocal(ModelLocation location) {
        Path path = location.localPath();
        if (!Files.exists(path)) {
            throw new ModelSourceException("model file not found: " + path);
        }
        if (!Files.isRegularFile(path)) {
            throw new ModelSourceException("model path " + path + " is not a regular file");
        }
        if (!Files.isReadable(path)) {
            throw new ModelSourceException("model file " + path + " is not readable");
        }
        try {
            long size = Files.size(path);
            Optional<String> expected = location.expectedSha256();
            if (expected.isEmpty()) {
                return new ResolvedModel(path, size, null, ResolvedModel.Outcome.LOCAL);
            }
            String actual = Sha256.ofFile(path);
            if (!actual.equals(expected.get())) {
                throw new ChecksumMismatchException(path.toString(), expected.get(), actual);
            }
            return new ResolvedModel(path, size, actual, ResolvedModel.Outcome.LOCAL);
        } catch (IOException e) {
            throw new ModelSourceException("cannot read model file " + path + ": " + e, e);
        }
    }

    private ResolvedModel resolveRemote(ModelLocation location, Configuration conf, ReuseCheck check) {
        URI uri = location.uri();
        FileSystem fs = HadoopObjects.fileSystem(uri, conf);
        FileStatus status = HadoopObjects.status(fs, uri);
        Optional<String> expected = location.expectedSha256().isPresent()
                ? location.expectedSha256()
                : HadoopObjects.sidecarSha256(fs, location.sidecarUri());

        Path entryDir = entryDirectory(location);
        String name = location.fileName();
        Path data = entryDir.resolve(name);
        Path manifest = entryDir.resolve(name + ".manifest");
        Path part = entryDir.resolve(name + ".part");
        try {
            Files.createDirectories(entryDir);
        } catch (IOException e) {
            throw new ModelCacheException("cannot create cache entry directory " + entryDir + " for " + uri + ": "
                    + e, e);
        }
        try {
            EntryLocks.Held held = EntryLocks.acquire(entryDir.resolve(name + ".lock"));
            try {
                return resolveLocked(fs, uri, status, expected, check, data, manifest, part);
            } finally {
                held.close();
            }
        } catch (IOException e) {
            throw new ModelCacheException("cache entry " + entryDir + " for " + uri + " cannot be used: " + e, e);
        }
    }

    /** Reuses or (re)downloads one entry; the caller holds the entry's exclusive lock. */
    private static ResolvedModel resolveLocked(FileSystem fs, URI uri, FileStatus status, Optional<String> expected,
            ReuseCheck check, Path data, Path manifest, Path part) throws IOException {
        // Holding the lock, nobody else is writing this entry: leftovers are from a crashed transfer.
        Files.deleteIfExists(part);
        Files.deleteIfExists(manifest.resolveSibling(manifest.getFileName() + ".part"));
        Optional<CacheManifest> reusable = reusableEntry(uri, status, expected, check, data, manifest);
        if (reusable.isPresent()) {
            LOG.debug("reusing cached {} for {}", data, uri);
            return new ResolvedModel(data, reusable.get().size(), reusable.get().sha256(),
                    ResolvedModel.Outcome.REUSED);
        }
        CacheManifest fresh = download(fs, uri, status, expected, data, manifest, part);
        return new ResolvedModel(data, fresh.size(), fresh.sha256(), ResolvedModel.Outcome.DOWNLOADED);
    }

    /** The entry's manifest when the entry passes every reuse check; empty when it must be (re)downloaded. */
    private static Optional<CacheManifest> reusableEntry(URI uri, FileStatus status, Optional<String> expected,
            ReuseCheck check, Path data, Path manifestFile) throws IOException {
        boolean dataExists = Files.isRegularFile(data);
        Optional<CacheManifest> read = CacheManifest.read(manifestFile);
        if (read.isEmpty()) {
            if (dataExists) {
                LOG.warn("cache entry {} has no valid manifest (incomplete or corrupt); replacing it", data);
            }
            return Optional.empty();
        }
        CacheManifest m = read.get();
        if (!m.source().equals(uri.toString())) {
            LOG.warn("cache entry {} belongs to {}, not {}; replacing it", data, m.source(), uri);
            return Optional.empty();
        }
        if (!dataExists) {
            LOG.warn("cache entry {} is missing its data file; downloading again", data);
            return Optional.empty();
        }
        long size = Files.size(data);
        if (size != m.size()) {
            LOG.warn("cache entry {} is {} bytes but its manifest says {} (truncated or corrupt); replacing it",
                    data, size, m.size());
            return Optional.empty();
        }
        if (status.getLen() != m.size() || status.getModificationTime() != m.remoteModificationTime()) {
            LOG.info("source {} changed since it was cached (length {} -> {}, modification time {} -> {});"
                    + " downloading again", uri, m.size(), status.getLen(), m.remoteModificationTime(),
                    status.getModificationTime());
            return Optional.empty();
        }
        if (expected.isPresent() && !expected.get().equals(m.sha256())) {
            LOG.info("cached {} has sha256 {} but {} is expected; downloading again to verify the source",
                    data, m.sha256(), expected.get());
            return Optional.empty();
        }
        if (check == ReuseCheck.REHASH) {
            String actual = Sha256.ofFile(data);
            if (!actual.equals(m.sha256())) {
                LOG.warn("cache entry {} hashes to {} but its manifest says {} (corrupt); replacing it",
                        data, actual, m.sha256());
                return Optional.empty();
            }
        }
        return Optional.of(m);
    }

    /**
     * Copies the source to {@code part}, verifies length and hash, then publishes it: drop the old manifest,
     * atomically rename the data into place, write the new manifest. The temporary file never survives a failure.
     */
    private static CacheManifest download(FileSystem fs, URI uri, FileStatus status, Optional<String> expected,
            Path data, Path manifestFile, Path part) throws IOException {
        long started = System.nanoTime();
        boolean published = false;
        try {
            Sha256.Copied copied;
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(uri), Sha256.BUFFER_BYTES);
                    FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                copied = Sha256.copy(in, out);
            } catch (FileNotFoundException e) {
                throw new ModelSourceException("model object not found: " + uri + " (it disappeared during the"
                        + " download)", e);
            } catch (IOException e) {
                // Covers both ends: a failing source stream and a failing local write (e.g. disk full).
                throw new ModelSourceException("download of " + uri + " to " + part + " failed: " + e, e);
            }
            if (copied.bytes() != status.getLen()) {
                throw new ModelSourceException("download of " + uri + " is incomplete: read " + copied.bytes()
                        + " bytes but its FileStatus length is " + status.getLen());
            }
            if (expected.isPresent() && !expected.get().equals(copied.sha256())) {
                throw new ChecksumMismatchException(uri.toString(), expected.get(), copied.sha256());
            }
            Files.deleteIfExists(manifestFile);
            Files.move(part, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            published = true;
            CacheManifest manifest = new CacheManifest(uri.toString(), copied.bytes(), copied.sha256(),
                    status.getModificationTime(), Instant.now());
            manifest.write(manifestFile);
            syncDirectory(data.getParent());
            double seconds = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
            LOG.info("downloaded {} -> {}: {} bytes in {} s ({} MiB/s), sha256 {}{}", uri, data, copied.bytes(),
                    String.format("%.3f", seconds), String.format("%.1f", copied.bytes() / seconds / (1 << 20)),
                    copied.sha256(), expected.isPresent() ? " (verified)" : " (no expected hash given)");
            return manifest;
        } finally {
            if (!published) {
                deleteQuietly(part);
            }
        }
    }

    /** Removes a temporary file without letting a cleanup failure hide the error being reported. */
    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("cannot delete temporary file {}: {}", file, e.toString());
        }
    }

    /**
     * Makes completed renames durable by fsyncing the directory. Best effort: some filesystems and platforms
     * cannot open a directory as a channel, in which case the rename is still atomic, just not yet durable.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync directory {}: {}", dir, e.toString());
        }
    }
}
