package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.cache.FloatArrayPool;
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

    /** Every kind of cache the engine meets: dense, evicting, sketching, reviving, scoring-pass and Compactor. */
    static final String[] PRESSES = {"full", "h2o", "kvreviver", "kvreviver:revive=true", "snapkv", "streaming_llm",
        "tova", "knorm", "kvzip:chunk=48", "compactor"};

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
        long packedPasses = 0;
        for (int trial = 0; trial < 12; trial++) {
            SplittableRandom r = new SplittableRandom(500 + trial);
            List<GenerationRequest> reqs = randomMix(m, trial, r);
            long kvBudget = tightBudget(m, reqs);
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            int chunk = 16 + r.nextInt(64);
            try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(kvBudget, 1 + r.nextInt(8),
                chunk))) {
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
                awaitMix(futures);
                BatchEngine.Stats st = engine.stats();
                assertTrue(st.peakReservedBytes() <= kvBudget, "reserved " + st.peakReservedBytes() + " > " + kvBudget);
                assertTrue(st.peakHeldBytes() <= kvBudget, "held " + st.peakHeldBytes() + " > " + kvBudget);
                // what the arrays really took, measured (slots not used yet, resizes, the pool), not the counter
                // admission keeps
                assertTrue(st.peakAllocatedBytes() <= kvBudget, "allocated " + st.peakAllocatedBytes() + " > "
                    + kvBudget + " (trial " + trial + ")");
                assertTrue(st.peakAllocatedBytes() > 0);
                assertEquals(0, engine.reservedBytes(), "every byte released");
                assertTrue(engine.kvPool().pooledBytes() <= kvBudget);
                packedPasses += st.packedPromptPasses();
            }
            for (CompletableFuture<GenerationResult> f : futures) {
                if (f.isCompletedExceptionally()) {
                    continue;
                }
                GenerationResult got = f.get();
                GenerationRequest req = reqs.stream().filter(q -> q.id().equals(got.id())).findFirst().orElseThrow();
                // prefilled alone in other chunks (the engine packs prompts of several sequences into its passes):
                // prompt rows give the same bits however they are chunked or packed
                Generator.Result alone = Generator.generate(m, req.prompt(), req.maxTokens(), new GreedySampler(),
                    chunk + 13, req.isStop(), t -> { }, req.press(), req.seed());
                assertArrayEquals(alone.tokens(), got.tokens(), req.id() + " under " + req.press().describe());
                assertTrue(got.kvBytes() <= got.budgetBytes(), req.id() + " held more than its budget");
            }
        }
        assertTrue(packedPasses > 0, "some passes carried several sequences' prompt chunks");
    }

    /**
     * The byte bounds again, over more orders of arrival: the mixes above, each submitted from one thread in 6
     * seeded shuffled orders. Before the pool had a ceiling (2026-11-27), a head resized during a compression gave
     * its prompt-sized arrays to the pool past what the budget left, until the engine's next trim: one CI run of the
     * test above measured more than the budget, as did 15 of 1,800 such trials in an ad-hoc harness (by 0.02-2.9%;
     * none of 1,800 since). Which orders do depends on timing, and this test passed three runs without the ceiling;
     * {@link #thePoolKeepsOnlyWhatLiveReservationsLeaveFree} checks the ceiling itself.
     */
    @Test
    void everyOrderOfArrivalStaysWithinTheBudget() throws Exception {
        LlamaModel m = models.model;
        for (int trial = 0; trial < 12; trial++) {
            for (int order = 0; order < 6; order++) {
                SplittableRandom r = new SplittableRandom(500 + trial);
                List<GenerationRequest> reqs = randomMix(m, trial, r);
                long kvBudget = tightBudget(m, reqs);
                List<GenerationRequest> shuffled = new ArrayList<>(reqs);
                java.util.Collections.shuffle(shuffled, new java.util.Random(1000L * trial + order));
                String where = " (trial " + trial + ", order " + order + ")";
                int chunk = 16 + r.nextInt(64); // the engine settings of the test above, drawn in its order
                try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(kvBudget, 1 + r.nextInt(8),
                    chunk))) {
                    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
                    for (GenerationRequest q : shuffled) {
                        futures.add(engine.submit(q));
                    }
                    awaitMix(futures);
                    BatchEngine.Stats st = engine.stats();
                    assertTrue(st.peakReservedBytes() <= kvBudget, "reserved " + st.peakReservedBytes() + " > "
                        + kvBudget + where);
                    assertTrue(st.peakAllocatedBytes() <= kvBudget, "allocated " + st.peakAllocatedBytes() + " > "
                        + kvBudget + where);
                    assertTrue(engine.kvPool().pooledBytes() <= kvBudget);
                    assertEquals(0, engine.reservedBytes(), "every byte released" + where);
                }
            }
        }
    }

    /**
     * The pool's ceiling follows the reservations: while a sequence holds its bytes, an array given back to the
     * engine's pool (as a cache resizing a head does by itself) is kept only within what the budget leaves free.
     */
    @Test
    void thePoolKeepsOnlyWhatLiveReservationsLeaveFree() throws Exception {
        LlamaModel m = models.model;
        int vocab = m.config().vocabSize();
        GenerationRequest probe = new GenerationRequest("probe", PressTableTest.randomPrompt(30, 43, vocab), 3,
            t -> false, new FullPress(), 0);
        long need = tightBudget(m, List.of(probe));
        long budget = need + (1L << 20);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(budget, 4, 64))) {
            FloatArrayPool pool = engine.kvPool();
            // the request holds the engine thread in its stop condition, its bytes reserved
            CompletableFuture<GenerationResult> f = engine.submit(new GenerationRequest("held", probe.prompt(), 3,
                holdEngine(held, release), new FullPress(), 0));
            held.await();
            int floats;
            try {
                long free = budget - engine.reservedBytes();
                assertTrue(free >= 0 && free <= 1L << 20, "free " + free);
                floats = (int) (free / 4);
                assertFalse(pool.give(new float[floats + 1]), "one float past what the budget leaves free");
                assertTrue(pool.give(new float[floats]), "exactly what it leaves free");
            } finally {
                release.countDown(); // else closing the engine would wait for the held request forever
            }
            f.get();
            assertEquals(0, engine.reservedBytes());
            pool.trimTo(0);
            assertTrue(pool.give(new float[floats + (int) (need / 4)]), "nothing reserved: the ceiling is the budget");
        }
    }

    /**
     * A stop condition that never stops, but holds the engine thread (which calls it) until {@code release}, after
     * counting down {@code reached}.
     */
    private static java.util.function.IntPredicate holdEngine(java.util.concurrent.CountDownLatch reached,
                                                              java.util.concurrent.CountDownLatch release) {
        return t -> {
            reached.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        };
    }

    /**
     * Waits for every request of a mix; one may fail only because it never fits the executor or its budget is too
     * small for so short a sequence.
     */
    private static void awaitMix(List<CompletableFuture<GenerationResult>> futures) throws InterruptedException {
        for (CompletableFuture<GenerationResult> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                assertTrue(e.getCause() instanceof RequestTooLargeException
                    || e.getCause().getMessage().contains("raise the budget"), String.valueOf(e.getCause()));
            }
        }
    }

    /** 10 to 15 requests of random presses, budgets, prompt lengths (20 to 169), token limits and stop tokens. */
    private static List<GenerationRequest> randomMix(LlamaModel m, int trial, SplittableRandom r) {
        int n = 10 + r.nextInt(6);
        List<GenerationRequest> reqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String spec = PRESSES[r.nextInt(PRESSES.length)];
            double budget = spec.equals("full") ? 1.0 : 0.2 + 0.3 * r.nextDouble();
            int[] prompt = PressTableTest.randomPrompt(20 + r.nextInt(150), 900 + 31L * trial + i,
                m.config().vocabSize());
            int stop = r.nextInt(m.config().vocabSize());
            reqs.add(new GenerationRequest("t" + trial + "-r" + i, prompt, r.nextInt(25), t -> t == stop,
                PressRegistry.create(spec, budget, PressTableTest.ENCODER), i));
        }
        return reqs;
    }

    /**
     * A KV budget of about a third of all the requests' reservations (at least the largest), so admission must make
     * requests wait.
     */
    private static long tightBudget(LlamaModel m, List<GenerationRequest> reqs) {
        long total = 0;
        long largest = 0;
        for (GenerationRequest q : reqs) {
            int cap = Math.min(m.config().contextLength(), q.prompt().length + q.maxTokens());
            PressContext ctx = m.pressContext(cap, q.prompt().length, q.seed());
            long need = q.press().reservedBytes(ctx) + q.press().transientBytes(ctx);
            total += need;
            largest = Math.max(largest, need);
        }
        return Math.max(largest, total / 3);
    }

    /**
     * Short prompts queued together share prompt passes; a request with a token the model does not have fails
     * alone, before it is packed, and the others get their tokens generated alone.
     */
    @Test
    void shortPromptsSharePassesAndABadOneFailsAlone() throws Exception {
        LlamaModel m = models.model;
        int vocab = m.config().vocabSize();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 8, 64))) {
            // the first request holds the engine thread in its stop condition until the others are queued
            CompletableFuture<GenerationResult> gate = engine.submit(new GenerationRequest("gate",
                PressTableTest.randomPrompt(10, 40, vocab), 2, holdEngine(new java.util.concurrent.CountDownLatch(1),
                release), new FullPress(), 0));
            int[] bad = PressTableTest.randomPrompt(20, 41, vocab);
            bad[7] = -2;
            List<GenerationRequest> good = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                good.add(new GenerationRequest("short-" + i, PressTableTest.randomPrompt(15 + 4 * i, 42 + i, vocab), 5,
                    t -> false, PressRegistry.create(i == 1 ? "h2o" : "full", i == 1 ? 0.5 : 1.0, null), i));
            }
            CompletableFuture<GenerationResult> fb = engine.submit(new GenerationRequest("bad", bad, 5, t -> false,
                new FullPress(), 0));
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (GenerationRequest q : good) {
                fs.add(engine.submit(q));
            }
            release.countDown();
            gate.get();
            ExecutionException e = assertThrows(ExecutionException.class, fb::get);
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("token id -2 at position 7"), e.getCause().getMessage());
            for (int i = 0; i < good.size(); i++) {
                GenerationRequest q = good.get(i);
                Generator.Result alone = Generator.generate(m, q.prompt(), q.maxTokens(), new GreedySampler(), 7,
                    q.isStop(), t -> { }, q.press(), q.seed());
                assertArrayEquals(alone.tokens(), fs.get(i).get().tokens(), q.id());
            }
            BatchEngine.Stats st = engine.stats();
            assertTrue(st.packedPromptPasses() >= 1, "short prompts shared a pass: " + st);
            assertEquals(1, st.failed());
            assertEquals(0, engine.reservedBytes());
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

    @Test
    void pooledArraysCountAgainstTheBudget() throws Exception {
        LlamaModel m = models.model;
        int[] prompt = PressTableTest.randomPrompt(120, 5, m.config().vocabSize());
        PressContext full = m.pressContext(prompt.length + 4, prompt.length, 0);
        KvPress lossy = PressRegistry.create("h2o", 0.5, null);
        PressContext lossyCtx = m.pressContext(prompt.length + 4, prompt.length, 1);
        long lossyNeed = lossy.reservedBytes(lossyCtx) + lossy.transientBytes(lossyCtx);
        // room for either sequence, not for both: a full cache's arrays left in the pool must make way
        long kvBudget = Math.max(new FullPress().reservedBytes(full), lossyNeed) + 1000;
        assertTrue(new FullPress().reservedBytes(full) + lossyNeed > kvBudget);
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(kvBudget, 4, 64))) {
            engine.submit(new GenerationRequest("dense", prompt, 4, t -> false, new FullPress(), 0)).get();
            assertTrue(engine.kvPool().pooledBytes() > 0, "the dense arrays wait in the pool");
            engine.submit(new GenerationRequest("lossy", prompt, 4, t -> false, lossy, 1)).get();
            long peak = engine.stats().peakAllocatedBytes();
            assertTrue(peak <= kvBudget, "allocated " + peak + " > " + kvBudget);
        }
    }

    @Test
    void aThrowingStopConditionFailsOnlyItsRequest() throws Exception {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            List<GenerationRequest> reqs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int[] prompt = PressTableTest.randomPrompt(30 + 10 * i, 40 + i, m.config().vocabSize());
                final int which = i;
                int[] calls = new int[1];
                java.util.function.IntPredicate stop = t -> {
                    // request 1's test breaks on its third token, in a decode step shared with the others
                    if (which == 1 && ++calls[0] == 3) {
                        throw new IllegalStateException("stop test of request 1 broke");
                    }
                    return false;
                };
                GenerationRequest q = new GenerationRequest("s" + i, prompt, 6, stop,
                    PressRegistry.create(i % 2 == 0 ? "full" : "h2o", i % 2 == 0 ? 1.0 : 0.5, null), i);
                reqs.add(q);
                fs.add(engine.submit(q));
            }
            ExecutionException e = assertThrows(ExecutionException.class, () -> fs.get(1).get());
            assertEquals("stop test of request 1 broke", e.getCause().getMessage());
            for (int i : new int[] {0, 2, 3}) {
                GenerationRequest q = reqs.get(i);
                Generator.Result alone = Generator.generate(m, q.prompt(), q.maxTokens(), new GreedySampler(), 32,
                    t -> false, t -> { }, q.press(), q.seed());
                assertArrayEquals(alone.tokens(), fs.get(i).get().tokens(), q.id());
            }
            BatchEngine.Stats st = engine.stats();
            assertEquals(1, st.failed());
            assertEquals(3, st.completed());
            assertEquals(0, engine.reservedBytes(), "bytes released once each, none twice");
        }
    }

    @Test
    void aRequestWhoseCacheCannotBeAllocatedFailsAndTheEngineGoesOn() throws Exception {
        LlamaModel m = models.model;
        KvPress starved = new KvPress(1.0) {
            @Override
            public String name() {
                return "starved";
            }

            @Override
            public io.reviver.kernel.cache.KvCache newCache(PressContext ctx,
                                                          io.reviver.kernel.cache.FloatArrayPool pool) {
                throw new OutOfMemoryError("Java heap space (simulated)");
            }
        };
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            int[] prompt = PressTableTest.randomPrompt(30, 3, m.config().vocabSize());
            CompletableFuture<GenerationResult> f = engine.submit(new GenerationRequest("oom", prompt, 3,
                t -> false, starved, 0));
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            assertInstanceOf(OutOfMemoryError.class, e.getCause());
            GenerationResult after = engine.submit(new GenerationRequest("after", prompt, 3, t -> false,
                new FullPress(), 0)).get();
            assertEquals(3, after.tokens().length);
            assertEquals(0, engine.reservedBytes());
            assertEquals(1, engine.stats().failed());
        }
    }

    @Test
    void sampledRequestsGetTheTokensTheirSamplerDrawsAlone() throws Exception {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            List<GenerationRequest> reqs = new ArrayList<>();
            List<CompletableFuture<GenerationResult>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int[] prompt = PressTableTest.randomPrompt(25 + 9 * i, 70 + i, m.config().vocabSize());
                GenerationRequest q = new GenerationRequest("p" + i, prompt, 10, t -> false,
                    PressRegistry.create(i % 2 == 0 ? "full" : "kvreviver", i % 2 == 0 ? 1.0 : 0.5, null), i,
                    io.reviver.kernel.sample.Sampler.of(0.9, 0.95, 1000 + i));
                reqs.add(q);
                fs.add(engine.submit(q));
            }
            int differing = 0;
            for (int i = 0; i < reqs.size(); i++) {
                GenerationRequest q = reqs.get(i);
                Generator.Result alone = Generator.generate(m, q.prompt(), q.maxTokens(),
                    io.reviver.kernel.sample.Sampler.of(0.9, 0.95, 1000 + i), 32, t -> false, t -> { }, q.press(),
                    q.seed());
                int[] got = fs.get(i).get().tokens();
                assertArrayEquals(alone.tokens(), got, q.id());
                Generator.Result greedy = Generator.generate(m, q.prompt(), q.maxTokens(), new GreedySampler(), 32,
                    t -> false, t -> { }, q.press(), q.seed());
                differing += java.util.Arrays.equals(greedy.tokens(), got) ? 0 : 1;
            }
            assertTrue(differing > 0, "the samplers were used: some request differs from its greedy tokens");
        }
    }

    @Test
    void aScoringPassInterleavesWithDecodeSteps() throws Exception {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            // request A decodes for long; each of its tokens notes how many compression steps the engine has run
            List<Long> seen = java.util.Collections.synchronizedList(new ArrayList<>());
            GenerationRequest a = new GenerationRequest("a", PressTableTest.randomPrompt(20, 8, m.config().vocabSize()),
                150, t -> {
                    seen.add(engine.stats().compressionSteps());
                    return false;
                }, new FullPress(), 0);
            CompletableFuture<GenerationResult> fa = engine.submit(a);
            // request B's KVzip re-reads its 150-token context in chunks of 16: 10 scoring steps, then compression
            GenerationRequest b = new GenerationRequest("b", PressTableTest.randomPrompt(150, 9,
                m.config().vocabSize()), 5, t -> false, PressRegistry.create("kvzip:chunk=16", 0.4,
                PressTableTest.ENCODER), 1);
            CompletableFuture<GenerationResult> fb = engine.submit(b);
            int[] gotB = fb.get().tokens();
            fa.get();
            long total = engine.stats().compressionSteps();
            assertEquals(1 + 10 + 1, total, "A's compression, B's 10 scoring steps and B's compression");
            long during = seen.stream().filter(c -> c > 1 && c < total).distinct().count();
            assertTrue(during >= 5, "A decoded between B's scoring steps: saw counts " + seen);
            Generator.Result alone = Generator.generate(m, b.prompt(), b.maxTokens(), new GreedySampler(), 32,
                t -> false, t -> { }, b.press(), b.seed());
            assertArrayEquals(alone.tokens(), gotB, "a stepped compression is the same compression");
        }
    }

    @Test
    void cancellingACompressedSequenceMidDecodeFreesItsBytes() throws Exception {
        LlamaModel m = models.model;
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            CompletableFuture<CompletableFuture<GenerationResult>> self = new CompletableFuture<>();
            int[] calls = new int[1];
            GenerationRequest q = new GenerationRequest("c", PressTableTest.randomPrompt(80, 4,
                m.config().vocabSize()), 100, t -> {
                    if (++calls[0] == 3) { // decoding, compressed: the caller gives up on it
                        self.join().cancel(false);
                    }
                    return false;
                }, PressRegistry.create("kvreviver", 0.3, null), 0);
            self.complete(engine.submit(q));
            GenerationRequest other = new GenerationRequest("next", PressTableTest.randomPrompt(30, 5,
                m.config().vocabSize()), 4, t -> false, new FullPress(), 0);
            assertEquals(4, engine.submit(other).get().tokens().length);
            assertTrue(self.get().isCancelled());
            BatchEngine.Stats st = engine.stats();
            assertEquals(1, st.cancelled());
            assertEquals(1, st.completed());
            assertEquals(0, engine.reservedBytes(), "the cancelled sequence's bytes are released");
            assertTrue(calls[0] < 100, "it stopped decoding: " + calls[0] + " tokens");
        }
    }

    @Test
    void failedRequestsFreeTheirBytes() throws Exception {
        LlamaModel m = models.model;
        int vocab = m.config().vocabSize();
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            // a token the model does not have: the prefill fails
            int[] bad = PressTableTest.randomPrompt(40, 6, vocab);
            bad[25] = vocab + 3;
            CompletableFuture<GenerationResult> f1 = engine.submit(new GenerationRequest("oov", bad, 4, t -> false,
                PressRegistry.create("h2o", 0.5, null), 0));
            // a context that leaves KVzip no room to re-read it: its compression fails
            int room = m.config().contextLength() - 8;
            CompletableFuture<GenerationResult> f2 = engine.submit(new GenerationRequest("kvzip", PressTableTest
                .randomPrompt(room, 7, vocab), 4, t -> false, PressRegistry.create("kvzip", 0.5,
                PressTableTest.ENCODER), 0));
            ExecutionException e1 = assertThrows(ExecutionException.class, f1::get);
            assertInstanceOf(IllegalArgumentException.class, e1.getCause());
            ExecutionException e2 = assertThrows(ExecutionException.class, f2::get);
            assertTrue(e2.getCause().getMessage().contains("use a shorter document chunk"), e2.getCause().getMessage());
            GenerationResult after = engine.submit(new GenerationRequest("after", PressTableTest.randomPrompt(30, 8,
                vocab), 3, t -> false, new FullPress(), 0)).get();
            assertEquals(3, after.tokens().length);
            assertEquals(2, engine.stats().failed());
            assertEquals(0, engine.reservedBytes(), "the failed requests' bytes are released");
        }
    }

    @Test
    void lossyKvArraysAreRecycledBetweenSequences() throws Exception {
        LlamaModel m = models.model;
        int[] prompt = PressTableTest.randomPrompt(90, 78, m.config().vocabSize());
        KvPress press = PressRegistry.create("kvreviver", 0.3, null);
        try (BatchEngine engine = new BatchEngine(m, new BatchEngine.Config(64L << 20, 4, 32))) {
            int[] first = null;
            for (int i = 0; i < 4; i++) {
                GenerationResult r = engine.submit(new GenerationRequest("lossy-" + i, prompt, 10, t -> false, press,
                    0)).get();
                if (first == null) {
                    first = r.tokens();
                } else {
                    assertArrayEquals(first, r.tokens(), "recycled (uncleared) head arrays give the same tokens");
                }
            }
            Generator.Result alone = Generator.generate(m, prompt, 10, new GreedySampler(), 32, t -> false, t -> { },
                press, 0);
            assertArrayEquals(alone.tokens(), first);
            // every head's keys and values, for the prompt and again after compression, come from the pool after
            // the first sequence
            int heads = m.config().nLayers() * m.config().nKvHeads();
            assertTrue(engine.kvPool().hits() >= 3L * 4 * heads, "pool hits " + engine.kvPool().hits());
            assertTrue(engine.stats().peakAllocatedBytes() <= 64L << 20);
        }
    }
}
