package io.reviver.spark.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.config.JobConfig;
import io.reviver.spark.config.JobConfigLoader;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Spark-free engine on the bundled model: prompt capacity, chunked map-reduce, error results, determinism. */
class SummaryEngineTest {

    private static ModelReplica replica;

    @BeforeAll
    static void load() {
        String root = System.getProperty("reviver.repo.root", "..");
        replica = ModelReplica.load(Paths.get(root, "models/reviver-tiny/reviver-tiny-q8_0.gguf"), 1);
    }

    @AfterAll
    static void close() {
        replica.close();
    }

    private static JobConfig config(Map<String, String> extra) {
        Map<String, String> v = new HashMap<>(Map.of("model", "/m.gguf", "input", "/in", "output", "/out",
            "max-new-tokens", "8"));
        v.putAll(extra);
        return JobConfigLoader.fromValues(v);
    }

    private static String text(int words) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < words; i++) {
            b.append(i % 7 == 6 ? "the people of the United States. " : "Congress shall consider the revenue ");
        }
        return b.toString();
    }

    @Test
    void capacityComesFromContextKvMemoryAndChunkTokens() {
        SummaryEngine full = new SummaryEngine(replica, config(Map.of()), 1L << 30);
        int ctx = replica.model().config().contextLength();
        assertTrue(full.chunkCapacity() < ctx && full.chunkCapacity() > ctx - 64, "" + full.chunkCapacity());
        assertEquals(100, new SummaryEngine(replica, config(Map.of("chunk-tokens", "100")), 1L << 30)
            .chunkCapacity());
        var c = replica.model().config();
        long perPosition = 2L * c.nLayers() * c.kvDim() * Float.BYTES;
        SummaryEngine small = new SummaryEngine(replica, config(Map.of()), 200 * perPosition);
        assertTrue(small.chunkCapacity() < 200, "KV memory bounds the chunk: " + small.chunkCapacity());
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> new SummaryEngine(replica, config(Map.of()), 20 * perPosition));
        assertTrue(e.getMessage().contains("reviver.kv-memory"), e.getMessage());
    }

    @Test
    void longDocumentIsMappedAndReducedInOrderDeterministically() {
        SummaryEngine engine = new SummaryEngine(replica, config(Map.of("chunk-tokens", "40")), 1L << 30);
        String doc = text(60);
        int tokens = engine.countTokens(doc);
        DocumentSummary a = engine.summarize(3, "d", doc, null);
        assertNull(a.error(), a.error());
        assertEquals(tokens, a.inputTokens());
        assertEquals((tokens + 39) / 40, a.chunks());
        assertNotNull(a.summary());
        assertTrue(a.outputTokens() <= 8);
        assertEquals(a.summary(), engine.summarize(3, "d", doc, null).summary(), "greedy is deterministic");
        assertTrue(engine.cost(tokens) > engine.cost(10), "cost grows with length");
        assertEquals(ContentHash.sha256(doc), a.contentSha256());
    }

    @Test
    void badDocumentsGiveErrorResults() {
        SummaryEngine engine = new SummaryEngine(replica, config(Map.of("press", "snapkv", "budget", "0.3")),
            1L << 30);
        assertEquals("empty document", engine.summarize(0, "a", " \n", null).error());
        assertEquals("missing text", engine.summarize(1, "b", null, null).error());
        DocumentSummary noId = engine.summarize(2, null, "text", null);
        assertEquals("missing id", noId.error());
        assertEquals("#2", noId.id());
        DocumentSummary ok = engine.summarize(3, "c", "The state of the Union is strong.", null);
        assertNull(ok.error());
        assertEquals("snapkv", ok.press());
        assertEquals(0.3, ok.budget());
        assertEquals(1, ok.chunks());
    }

    @Test
    void sampledPassesGoThroughTheExecutorsEngineAndReproduce() {
        SummaryEngine engine = new SummaryEngine(replica, config(Map.of("chunk-tokens", "40", "temperature", "0.9",
            "seed", "7")), 1L << 30);
        String doc = text(60);
        long before = engine.batchEngine().stats().admitted();
        DocumentSummary a = engine.summarize(3, "d", doc, null);
        assertNull(a.error(), a.error());
        long passes = engine.batchEngine().stats().admitted() - before;
        assertTrue(passes >= a.chunks() + 1, "every map pass and the reduce passes were admitted by the engine: "
            + passes);
        // the retry shares the engine with another task's document this time: its batches differ, its tokens not
        Thread other = new Thread(() -> engine.summarize(4, "e", text(90), null));
        other.start();
        DocumentSummary retry = engine.summarize(3, "d", doc, null);
        try {
            other.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertEquals(a.summary(), retry.summary(), "a retried task reproduces it");
    }
}
