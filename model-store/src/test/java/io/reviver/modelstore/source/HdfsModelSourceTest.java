package io.reviver.modelstore.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.reviver.modelstore.source.ResolvedModel.Outcome;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ModelCache against a real HDFS: a one-datanode {@link MiniDFSCluster} (from the shaded
 * hadoop-client-minicluster) started once for the class. The client side uses a plain {@link Configuration}, as
 * an executor would; expected hashes are computed from the uploaded in-memory bytes.
 */
class HdfsModelSourceTest {
    @TempDir
    static Path clusterDir;
    private static MiniDFSCluster cluster;
    private static String root;
    private static byte[] model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startCluster() throws IOException {
        Configuration conf = new HdfsConfiguration();
        Path base = clusterDir.resolve("dfs");
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
        cluster = new MiniDFSCluster.Builder(conf, base.toFile()).numDataNodes(1).build();
        cluster.waitActive();
        root = cluster.getURI().toString();
        model = ModelCacheTest.randomBytes(4 * 1024 * 1024 + 123, 21);
        FileSystem fs = cluster.getFileSystem();
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/tiny.gguf"))) {
            out.write(model);
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/signed.gguf"))) {
            out.write(model);
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/signed.gguf.sha256"))) {
            out.write((sha(model) + "  signed.gguf\n").getBytes(StandardCharsets.UTF_8));
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/badsig.gguf"))) {
            out.write(model);
        }
        try (OutputStream out = fs.create(new org.apache.hadoop.fs.Path("/models/badsig.gguf.sha256"))) {
            out.write((sha(new byte[] {1}) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            // Drop the client FileSystem that ModelCache obtained from Hadoop's cache before the cluster goes.
            FileSystem.get(cluster.getURI(), new Configuration()).close();
            cluster.shutdown();
        }
    }

    private static String sha(byte[] bytes) {
        try {
            return ModelCacheTest.sha256(bytes);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void assertNoTempFiles(Path cacheDir) throws IOException {
        try (Stream<Path> s = Files.walk(cacheDir)) {
            List<Path> parts = s.filter(p -> p.toString().endsWith(".part")).toList();
            assertEquals(List.of(), parts);
        }
    }

    @Test
    void hdfsObjectIsCopiedVerifiedAndReused() throws Exception {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        ModelLocation loc = ModelLocation.parse(root + "/models/tiny.gguf", sha(model));
        ResolvedModel first = cache.resolveModel(loc, new Configuration(), ModelCache.ReuseCheck.MANIFEST);
        assertEquals(Outcome.DOWNLOADED, first.outcome());
        assertEquals(model.length, first.size());
        assertArrayEquals(model, Files.readAllBytes(first.path()));
        ResolvedModel second = cache.resolveModel(loc, new Configuration(), ModelCache.ReuseCheck.REHASH);
        assertEquals(Outcome.REUSED, second.outcome());
        assertEquals(first.path(), second.path());
    }

    @Test
    void hdfsSidecarIsHonoured() throws Exception {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        ResolvedModel ok = cache.resolveModel(ModelLocation.parse(root + "/models/signed.gguf"),
                new Configuration(), ModelCache.ReuseCheck.MANIFEST);
        assertEquals(sha(model), ok.sha256());
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class,
                () -> cache.resolve(ModelLocation.parse(root + "/models/badsig.gguf"), new Configuration()));
        assertEquals(sha(new byte[] {1}), e.expectedSha256());
        assertEquals(sha(model), e.actualSha256());
        assertNoTempFiles(tmp.resolve("cache"));
    }

    @Test
    void missingHdfsObjectIsATypedErrorNamingTheUri() {
        ModelCache cache = new ModelCache(tmp.resolve("cache"));
        String uri = root + "/models/absent.gguf";
        ModelSourceException e = assertThrows(ModelSourceException.class,
                () -> cache.resolve(ModelLocation.parse(uri), new Configuration()));
        assertTrue(e.getMessage().contains(uri), e.getMessage());
        assertFalse(e instanceof ChecksumMismatchException);
    }

    @Test
    void twoProcessesResolvingOneHdfsObjectShareOneDownload() throws Exception {
        Path cacheDir = tmp.resolve("shared-cache");
        List<ChildResolvers.ChildResult> results =
                ChildResolvers.race(2, cacheDir, root + "/models/tiny.gguf", tmp);
        assertEquals(1, results.stream().filter(r -> r.outcome() == Outcome.DOWNLOADED).count(),
                results.toString());
        for (ChildResolvers.ChildResult r : results) {
            assertEquals(sha(model), r.sha256());
            assertEquals(results.get(0).path(), r.path());
        }
        assertArrayEquals(model, Files.readAllBytes(results.get(0).path()));
        assertNoTempFiles(cacheDir);
    }
}
