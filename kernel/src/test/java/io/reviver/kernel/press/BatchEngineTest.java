package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.engine.BatchEngine;
import io.reviver.kernel.engine.GenerationRequest;
import io.reviver.kernel.engine.GenerationResult;
import io.reviver.kernel.engine.RequestTooLargeException;
import io.reviver.kernel.model.Generator;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.sample.GreedySampler;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching: random mixes of requests (lengths, presses, budgets) submitted from several threads give
 * every request exactly the tokens it gets generated alone; admission never lets the reserved bytes exceed the
 * executor's KV budget, and the bytes the caches really held never exceed it either; a request that can never fit
 * fails with a clear error; cancelled requests free their bytes.
 */
class BatchEngineTest {

    static final TestModels models = TestModels.shared();

    static final String[] PRESSES = {"full", "h2o", "kvreviver", "snapkv", "streaming_llm"};

    @Test
    void denseKvArraysAreRecycledBetweenSequences() throws Exception {
        LlamaModel m = models.model;
        int[] prompt = PressTableTest.randomPrompt(60, 77, m.config().vocabSize());
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            int[] first = null;
            for (int i = 0; i < 4; i++) {
                GenerationResult r = engine.submit(new GenerationRequest("seq-" + i, prompt, 12, t -> false,
                    PressRegistry.create("full", 1.0, null), i)).get();
                if (first == null) {
                    first = r.tokens();
                } else {
                    assertArrayEquals(first, r.tokens(), "a recycled (uncleared) cache gives the same tokens");
                }
            }
            assertEquals(2, engine.kvPool().misses(), "keys and values allocated once");
            assertEquals(6, engine.kvPool().hits(), "then reused by the three later sequences");
        }
    }

    @Test
    void randomMixesMatchGeneratingAloneAndStayWithinTheBudget() throws Exception {
        LlamaModel m = models.model;
        for (int trial = 0; trial < 3; trial++) {
            SplittableRandom r = new SplittableRandom(500 + trial);
            int n = 10 + r.nextInt(6);
            List<GenerationRequest> reqs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String spec = PRESSES[r.nextInt(PRESSES.length)];
                double budget = spec.equals("full") ? 1.0 : 0.2 + 0.3 * r.nextDouble();
                int[] prompt = PressTableTest.randomPrompt(20 + r.nextInt(150), 900 + 31L * trial + i,
                    m.config().vocabSize());
                int stop = r.nextInt(m.config().vocabSize());
                reqs.add(new GenerationRequest("t" + trial + "-r" + i, prompt, r.nextInt(25), t -> t == stop,
                    PressRegistry.create(spec, budget, null), i));
            }
            // the budget holds about a third of all reservations, so admission must make requests wait
            long total = 0;
            long largest = 0;
            for (GenerationRequest q : reqs) {
                int cap = Math.min(m.config().contextLength(), q.prompt().length + q.maxTokens());
                long need = q.press().reservedBytes(m.pressContext(cap, q.prompt().length, q.seed()))
                    + (q.press().isLossless() ? 0 : (long) q.prompt().length * (2 * m.config().headSize() * 4 + 8)
                    * m.config().nLayers() * m.config().nKvHeads());
                total += need;
                largest = Math.max(largest, need);
            }
            long kvBudget = Math.max(largest, total / 3);
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(kvBudget, 1 + r.nextInt(8),
                16 + r.nextInt(64)))) {
                Thread[] submitters = new Thread[3];
                List<CompletableFuture<GenerationResult>> shared = java.util.Collections.synchronizedList(futures);
                for (int k = 0; k < submitters.length; k++) {
                    final int from = k;
                    submitters[k] = new Thread(() -> {
                        for (int i = from; i < reqs.size(); i += submitters.length) {
                            shared.add(engine.submit(reqs.get(i)));
                        }
                    });
                    submitters[k].start();
                }
                for (Thread t : submitters) {
                    t.join();
                }
                for (CompletableFuture<GenerationResult> f : futures) {
                    try {
                        f.get();
                    } catch (ExecutionException e) {
                        assertInstanceOf(RequestTooLargeException.class, e.getCause());
                    }
                }
                BatchEngine.Stats st = engine.stats();
                assertTrue(st.peakReservedBytes() <= kvBudget, "reserved " + st.peakReservedBytes() + " > " + kvBudget);
                assertTrue(st.peakHeldBytes() <= kvBudget, "held " + st.peakHeldBytes() + " > " + kvBudget);
                assertEquals(0, engine.reservedBytes(), "every byte released");
            }
            for (CompletableFuture<GenerationResult> f : futures) {
                if (f.isCompletedExceptionally()) {
                    continue;
                }
                GenerationResult got = f.get();
                GenerationRequest req = reqs.stream().filter(q -> q.id().equals(got.id())).findFirst().orElseThrow();
                Generator.Result alone = Generator.generate(m, req.prompt(), req.maxTokens(), new GreedySampler(), 32,
                    req.isStop(), t -> { }, req.press(), req.seed());
                assertArrayEquals(alone.tokens(), got.tokens(), req.id() + " under " + req.press().describe());
                assertTrue(got.kvBytes() <= got.budgetBytes(), req.id() + " held more than its budget");
            }
        }
    }

    @Test
    void aRequestThatCanNeverFitFailsClearly() {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(10_000, 4, 32))) {
            CompletableFuture<GenerationResult> f = engine.submit(new GenerationRequest("big",
                PressTableTest.randomPrompt(100, 1, m.config().vocabSize()), 10, t -> false, new FullPress(), 0));
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            assertInstanceOf(RequestTooLargeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("more than the executor's KV budget of 10000 bytes"),
                e.getCause().getMessage());
        }
    }

    @Test
    void cancelledRequestsFreeTheirBytes() throws Exception {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(50_000_000, 4, 8))) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                fs.add(engine.submit(new GenerationRequest("c" + i,
                    PressTableTest.randomPrompt(200, i, m.config().vocabSize()), 200, t -> false, new FullPress(), 0)));
            }
            fs.forEach(f -> f.cancel(true));
            CompletableFuture<GenerationResult> last = engine.submit(new GenerationRequest("after",
                PressTableTest.randomPrompt(30, 99, m.config().vocabSize()), 3, t -> false, new FullPress(), 0));
            assertEquals(3, last.get().tokens().length);
            assertEquals(0, engine.reservedBytes());
        }
    }
}
