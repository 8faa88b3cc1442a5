package io.reviver.modelstore.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.modelstore.source.ResolvedModel.Outcome;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelCache against local paths and {@code file://} URIs (served by Hadoop's LocalFileSystem, the same code path
 * as any remote FileSystem). Expected hashes are computed here with {@link MessageDigest} over the in-memory
 * test bytes, independently of the streaming hash under test.
 */
class ModelCacheTest {
    private static final Configuration CONF = new Configuration();

    @TempDir
    Path tmp;
    private Path sourceDir;
    private Path cacheDir;
    private ModelCache cache;

    @BeforeEach
    void setUp() throws IOException {
        sourceDir = Files.createDirectories(tmp.resolve("source"));
        cacheDir = tmp.resolve("cache");
        cache = new ModelCache(cacheDir);
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private Path writeSource(String name, byte[] bytes) throws IOException {
        return Files.write(sourceDir.resolve(name), bytes);
    }

    private static ModelLocation fileUri(Path p) {
        return ModelLocation.parse(p.toUri().toString());
    }

    private ResolvedModel resolve(ModelLocation loc) {
        return cache.resolveModel(loc, CONF, ModelCache.ReuseCheck.MANIFEST);
    }

    /** Every file left in the cache tree, for "no temporary file remains" checks. */
    private List<Path> cacheFiles() throws IOException {
        try (Stream<Path> s = Files.walk(cacheDir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    private void assertNoTempFiles() throws IOException {
        for (Path f : cacheFiles()) {
            assertFalse(f.getFileName().toString().endsWith(".part"), "temporary file left behind: " + f);
        }
    }

    // ---- local paths --------------------------------------------------------------------------------------

    @Test
    void localFileIsReturnedInPlaceAndCheckedOnlyWhenAHashIsGiven() throws Exception {
        byte[] bytes = randomBytes(10_000, 1);
        Path src = writeSource("local.gguf", bytes);
        ResolvedModel plain = cache.resolveModel(ModelLocation.parse(src.toString()), CONF,
                ModelCache.ReuseCheck.MANIFEST);
        assertEquals(src, plain.path());
        assertEquals(Outcome.LOCAL, plain.outcome());
        assertEquals(bytes.length, plain.size());
        assertNull(plain.sha256());

        ResolvedModel checked = resolve(ModelLocation.parse(src.toString(), sha256(bytes)));
        assertEquals(src, checked.path());
        assertEquals(sha256(bytes), checked.sha256());

        String wrong = sha256(randomBytes(10, 2));
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> resolve(ModelLocation.parse(src.toString(), wrong)));
        assertEquals(wrong, e.expectedSha256());
        assertEquals(sha256(bytes), e.actualSha256());
        assertTrue(e.getMessage().contains(wrong) && e.getMessage().contains(sha256(bytes)), e.getMessage());
        // Local sources never touch the cache.
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void missingLocalFileAndDirectoryAreTypedErrors() {
        Path missing = sourceDir.resolve("nope.gguf");
        ModelSourceException e1 = assertThrows(ModelSourceException.class,
                () -> cache.resolve(ModelLocation.parse(missing.toString()), CONF));
        assertTrue(e1.getMessage().contains(missing.toString()), e1.getMessage());
        ModelSourceException e2 = assertThrows(ModelSourceException.class,
                () -> cache.resolve(ModelLocation.parse(sourceDir.toString()), CONF));
        assertTrue(e2.getMessage().contains(sourceDir.toString()) && e2.getMessage().contains("not a regular file"),
                e2.getMessage());
    }

    // ---- remote (file://) sources ------------------------------------------------------------------------

    @Test
    void fileUriIsCopiedIntoTheCacheWithAManifest() throws Exception {
        byte[] bytes = randomBytes(3 * 1024 * 1024 + 17, 3);
        Path src = writeSource("model.gguf", bytes);
        ModelLocation loc = fileUri(src);
        ResolvedModel r = resolve(loc);
        assertEquals(Outcome.DOWNLOADED, r.outcome());
        assertTrue(r.path().startsWith(cacheDir), r.path().toString());
        assertEquals("model.gguf", r.path().getFileName().toString());
        assertEquals(sha256(loc.uri().toString().getBytes(StandardCharsets.UTF_8)),
                r.path().getParent().getFileName().toString());
        assertArrayEquals(bytes, Files.readAllBytes(r.path()));
        assertEquals(sha256(bytes), r.sha256());

        CacheManifest m = CacheManifest.read(manifestOf(r.path())).orElseThrow();
        assertEquals(loc.toString(), m.source());
        assertEquals(bytes.length, m.size());
        assertEquals(sha256(bytes), m.sha256());
        assertEquals(Files.getLastModifiedTime(src).toMillis(), m.remoteModificationTime());
        assertNoTempFiles();
    }

    private static Path manifestOf(Path data) {
        return data.resolveSibling(data.getFileName() + ".manifest");
    }

    @Test
    void expectedChecksumMatchesOrFailsWithoutLeavingTheTempFile() throws Exception {
        byte[] bytes = randomBytes(200_000, 4);
        Path src = writeSource("m.gguf", bytes);
        assertEquals(Outcome.DOWNLOADED, resolve(fileUri(src).withExpectedSha256(sha256(bytes))).outcome());

        Path other = writeSource("other.gguf", bytes);
        String wrong = sha256(randomBytes(16, 5));
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> resolve(fileUri(other).withExpectedSha256(wrong)));
        assertEquals(wrong, e.expectedSha256());
        assertEquals(sha256(bytes), e.actualSha256());
        assertTrue(e.getMessage().contains(other.toUri().getPath()), e.getMessage());
        Path entry = cache.entryDirectory(fileUri(other));
        assertFalse(Files.exists(entry.resolve("other.gguf")), "unverified file must not be published");
        assertNoTempFiles();
    }

    @Test
    void wrongExpectationDoesNotDestroyAGoodEntry() throws Exception {
        byte[] bytes = randomBytes(50_000, 6);
        Path src = writeSource("m.gguf", bytes);
        ResolvedModel first = resolve(fileUri(src));
        String wrong = sha256(randomBytes(16, 7));
        assertThrows(ChecksumMismatchException.class, () -> resolve(fileUri(src).withExpectedSha256(wrong)));
        ResolvedModel again = resolve(fileUri(src));
        assertEquals(Outcome.REUSED, again.outcome());
        assertEquals(first.path(), again.path());
        assertArrayEquals(bytes, Files.readAllBytes(again.path()));
    }

    @Test
    void sidecarChecksumIsUsedWhenNoHashIsGiven() throws Exception {
        byte[] bytes = randomBytes(70_000, 8);
        Path good = writeSource("good.gguf", bytes);
        Files.writeString(sourceDir.resolve("good.gguf.sha256"), sha256(bytes).toUpperCase() + "  good.gguf\n");
        ResolvedModel r = resolve(fileUri(good));
        assertEquals(Outcome.DOWNLOADED, r.outcome());
        assertEquals(sha256(bytes), r.sha256());

        Path bad = writeSource("bad.gguf", bytes);
        String wrong = sha256(randomBytes(16, 9));
        Files.writeString(sourceDir.resolve("bad.gguf.sha256"), wrong + " *bad.gguf\n");
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> resolve(fileUri(bad)));
        assertEquals(wrong, e.expectedSha256());
        assertNoTempFiles();
        // A hash given by the user takes precedence over the sidecar.
        assertEquals(Outcome.DOWNLOADED, resolve(fileUri(bad).withExpectedSha256(sha256(bytes))).outcome());

        Path garbled = writeSource("garbled.gguf", bytes);
        Files.writeString(sourceDir.resolve("garbled.gguf.sha256"), "not-a-hash garbled.gguf\n");
        ModelSourceException g = assertThrows(ModelSourceException.class, () -> resolve(fileUri(garbled)));
        assertTrue(g.getMessage().contains("garbled.gguf.sha256") && g.getMessage().contains("not-a-hash"),
                g.getMessage());
    }

    @Test
    void secondResolveReusesTheEntryWithoutDownloading() throws Exception {
        byte[] bytes = randomBytes(500_000, 10);
        Path src = writeSource("m.gguf", bytes);
        ResolvedModel first = resolve(fileUri(src));
        Path manifest = manifestOf(first.path());
        // Backdate both files so that any rewrite would show up as a newer modification time.
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(first.path(), old);
        Files.setLastModifiedTime(manifest, old);
        CacheManifest before = CacheManifest.read(manifest).orElseThrow();

        ResolvedModel second = cache.resolveModel(fileUri(src).withExpectedSha256(sha256(bytes)), CONF,
                ModelCache.ReuseCheck.REHASH);
        assertEquals(Outcome.REUSED, second.outcome());
        assertEquals(first.path(), second.path());
        assertEquals(sha256(bytes), second.sha256());
        assertEquals(old, Files.getLastModifiedTime(first.path()));
        assertEquals(old, Files.getLastModifiedTime(manifest));
        assertEquals(before, CacheManifest.read(manifest).orElseThrow());
        // A second cache instance on the same directory sees the same entry.
        assertEquals(Outcome.REUSED, new ModelCache(cacheDir).resolveModel(fileUri(src), CONF,
                ModelCache.ReuseCheck.MANIFEST).outcome());
    }

    @Test
    void truncatedEntryIsReplaced() throws Exception {
        byte[] bytes = randomBytes(300_000, 11);
        Path src = writeSource("m.gguf", bytes);
        Path cached = resolve(fileUri(src)).path();
        try (RandomAccessFile f = new RandomAccessFile(cached.toFile(), "rw")) {
            f.setLength(bytes.length / 2);
        }
        ResolvedModel r = resolve(fileUri(src));
        assertEquals(Outcome.DOWNLOADED, r.outcome());
        assertArrayEquals(bytes, Files.readAllBytes(r.path()));
    }

    @Test
    void sameSizeCorruptionIsReplacedWhenRehashing() throws Exception {
        byte[] bytes = randomBytes(300_000, 12);
        Path src = writeSource("m.gguf", bytes);
        Path cached = resolve(fileUri(src)).path();
        try (RandomAccessFile f = new RandomAccessFile(cached.toFile(), "rw")) {
            f.seek(12345);
            f.write(bytes[12345] ^ 0x5a);
        }
        ResolvedModel r = cache.resolveModel(fileUri(src), CONF, ModelCache.ReuseCheck.REHASH);
        assertEquals(Outcome.DOWNLOADED, r.outcome());
        assertArrayEquals(bytes, Files.readAllBytes(r.path()));
    }

    @Test
    void missingOrGarbledManifestAndLeftoverPartAreRepaired() throws Exception {
        byte[] bytes = randomBytes(100_000, 13);
        Path src = writeSource("m.gguf", bytes);
        Path cached = resolve(fileUri(src)).path();
        Path manifest = manifestOf(cached);

        Files.delete(manifest);
        assertEquals(Outcome.DOWNLOADED, resolve(fileUri(src)).outcome());

        Files.writeString(manifest, "format=something-else\nversion=1\n");
        Files.writeString(cached.resolveSibling("m.gguf.part"), "half a download from a crashed process");
        assertEquals(Outcome.DOWNLOADED, resolve(fileUri(src)).outcome());
        assertArrayEquals(bytes, Files.readAllBytes(cached));
        assertNoTempFiles();
        assertEquals(Outcome.REUSED, resolve(fileUri(src)).outcome());
    }

    @Test
    void changedSourceIsDownloadedAgain() throws Exception {
        byte[] v1 = randomBytes(80_000, 14);
        Path src = writeSource("m.gguf", v1);
        Files.setLastModifiedTime(src, FileTime.fromMillis(1_600_000_000_000L));
        Path cached = resolve(fileUri(src)).path();

        byte[] v2 = randomBytes(80_000, 15); // same length, different bytes, newer modification time
        Files.write(src, v2);
        Files.setLastModifiedTime(src, FileTime.fromMillis(1_600_000_100_000L));
        ResolvedModel r = resolve(fileUri(src));
        assertEquals(Outcome.DOWNLOADED, r.outcome());
        assertEquals(cached, r.path());
        assertArrayEquals(v2, Files.readAllBytes(r.path()));
        assertEquals(sha256(v2), r.sha256());
    }

    @Test
    void missingRemoteObjectIsATypedErrorNamingTheUri() {
        ModelLocation loc = fileUri(sourceDir.resolve("absent.gguf"));
        ModelSourceException e = assertThrows(ModelSourceException.class, () -> resolve(loc));
        assertTrue(e.getMessage().contains(loc.toString()), e.getMessage());
        // A directory URI without a trailing slash parses, and is rejected when resolved.
        ModelLocation dir = ModelLocation.parse("file://" + sourceDir.toAbsolutePath());
        ModelSourceException d = assertThrows(ModelSourceException.class, () -> resolve(dir));
        assertTrue(d.getMessage().contains("directory"), d.getMessage());
    }

    @Test
    void schemesWithoutAConnectorAreTypedErrors() {
        ModelSourceException s3 = assertThrows(ModelSourceException.class,
                () -> resolve(ModelLocation.parse("s3a://bucket/models/m.gguf")));
        assertTrue(s3.getMessage().contains("no FileSystem for scheme s3a"), s3.getMessage());
        assertTrue(s3.getMessage().contains("hadoop-aws"), s3.getMessage());

        ModelSourceException other = assertThrows(ModelSourceException.class,
                () -> resolve(ModelLocation.parse("nosuchfs://host/m.gguf")));
        assertTrue(other.getMessage().contains("no FileSystem for scheme nosuchfs"), other.getMessage());
        assertTrue(other.getMessage().contains("nosuchfs://host/m.gguf"), other.getMessage());
    }

    // ---- concurrency ----------------------------------------------------------------------------------------

    @Test
    void concurrentThreadsShareOneDownload() throws Exception {
        byte[] bytes = randomBytes(8 * 1024 * 1024, 16);
        Path src = writeSource("m.gguf", bytes);
        int threads = 4;
        // Two cache instances on one directory: the in-JVM lock table must cover both.
        ModelCache[] caches = {cache, new ModelCache(cacheDir)};
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<ResolvedModel>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                ModelCache c = caches[i % 2];
                futures.add(pool.submit(() -> {
                    start.await();
                    return c.resolveModel(fileUri(src), CONF, ModelCache.ReuseCheck.MANIFEST);
                }));
            }
            int downloads = 0;
            Path path = null;
            for (Future<ResolvedModel> f : futures) {
                ResolvedModel r = f.get();
                downloads += r.outcome() == Outcome.DOWNLOADED ? 1 : 0;
                assertEquals(sha256(bytes), r.sha256());
                path = path == null ? r.path() : path;
                assertEquals(path, r.path());
            }
            assertEquals(1, downloads);
            assertArrayEquals(bytes, Files.readAllBytes(path));
            assertNoTempFiles();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentProcessesShareOneDownload() throws Exception {
        byte[] bytes = randomBytes(16 * 1024 * 1024, 17);
        Path src = writeSource("m.gguf", bytes);
        List<ChildResolvers.ChildResult> results =
                ChildResolvers.race(2, cacheDir, src.toUri().toString(), tmp);
        long downloads = results.stream().filter(r -> r.outcome() == Outcome.DOWNLOADED).count();
        assertEquals(1, downloads, results.toString());
        for (ChildResolvers.ChildResult r : results) {
            assertEquals(sha256(bytes), r.sha256());
            assertEquals(results.get(0).path(), r.path());
        }
        assertArrayEquals(bytes, Files.readAllBytes(results.get(0).path()));
        assertNoTempFiles();
        // And this JVM now reuses what the children left.
        assertEquals(Outcome.REUSED, resolve(fileUri(src)).outcome());
    }
}
