package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Equivalence tests driven by one table of press specifications, on the committed random-weight test model:
 * the budget in bytes holds after compression and after every decode step; a press at 100% budget gives exactly
 * (bit for bit) the full cache's logits; a compressed cache with room for every position gives the dense
 * cache's logits bit for bit (the gather/observe path changes nothing by itself).
 */
class PressTableTest {

    /** The press table: every registered press and the KVReviver variants. Add a row per new press. */
    static Stream<String> presses() {
        return Stream.of("streaming_llm", "h2o", "snapkv", "tova", "knorm", "kvzip", "compactor", "kvreviver",
            "kvreviver:mode=signed,d=1", "kvreviver:mode=signed,d=3", "kvreviver:mode=signed,d=5",
            "kvreviver:mode=mean,d=3,share=0.5", "kvreviver:revive=true", "kvreviver:keys=post",
            "kvreviver:mode=signed,d=3,keys=post", "compactor:calibrate=0.9");
    }

    static final TestModels models = TestModels.shared();
    static final Function<String, int[]> ENCODER = s -> s.chars().map(ch -> 3 + ch % 200).toArray();

    static int[] randomPrompt(int n, long seed, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    /** Prefill, compress, then greedy-decode {@code steps} tokens; returns every step's logits, concatenated. */
    static float[] run(LlamaModel m, KvPress press, int[] prompt, int steps, int capacity, long[] maxBytesOverBudget) {
        LlamaConfig c = m.config();
        KvCache cache = press.newCache(models.model.pressContext(capacity,
            prompt.length, 7L));
        LlamaModel.State state = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        float[] all = new float[(steps + 1) * c.vocabSize()];
        m.prefill(state, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(state));
        check(cache, maxBytesOverBudget);
        System.arraycopy(logits, 0, all, 0, logits.length);
        for (int s = 0; s < steps; s++) {
            int next = argmax(logits);
            m.decode(state, cache, next, prompt.length + s, logits);
            check(cache, maxBytesOverBudget);
            System.arraycopy(logits, 0, all, (s + 1) * logits.length, logits.length);
        }
        return all;
    }

    private static void check(KvCache cache, long[] maxOver) {
        if (cache instanceof PressedKvCache p && maxOver != null) {
            maxOver[0] = Math.max(maxOver[0], p.bytes() - p.budgetBytes());
        }
    }

    static int argmax(float[] x) {
        return io.reviver.kernel.sample.GreedySampler.argmax(x);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presses")
    void budgetInBytesHoldsAfterCompressionAndEveryDecodeStep(String spec) {
        LlamaModel m = models.model;
        int[] prompt = randomPrompt(200, 11, m.config().vocabSize());
        float[] full = run(m, new FullPress(), prompt, 40, 240, null);
        for (double budget : new double[] {0.5, 0.25, 0.1}) {
            KvPress press = PressRegistry.create(spec, budget, ENCODER);
            long[] over = {Long.MIN_VALUE};
            float[] got = run(m, press, prompt, 40, 240, over);
            assertTrue(over[0] <= 0, spec + " at " + budget + ": exceeded its budget by " + over[0] + " bytes");
            assertTrue(spec.contains("calibrate") || over[0] > -0.2 * press.budget() * 240 * 2 * 4 * m.config().headSize() * m.config().nLayers()
                * m.config().nKvHeads(), spec + " at " + budget + ": uses less than 80% of its budget");
            assertTrue(!java.util.Arrays.equals(full, got), spec + " at " + budget + ": nothing was compressed");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presses")
    void pressAtFullBudgetIsIdenticalToFull(String spec) {
        LlamaModel m = models.model;
        int[] prompt = randomPrompt(90, 12, m.config().vocabSize());
        float[] full = run(m, new FullPress(), prompt, 12, 102, null);
        float[] got = run(m, PressRegistry.create(spec, 1.0, ENCODER), prompt, 12, 102, null);
        assertArrayEquals(full, got, 0f, spec + " at budget 1");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("presses")
    void compressedCacheWithRoomForEverythingMatchesDenseBitForBit(String spec) {
        LlamaModel m = models.model;
        int[] prompt = randomPrompt(40, 13, m.config().vocabSize());
        // capacity 400 at budget 0.6 leaves room for more exact entries than the 40 + 8 positions used, but kvzip
        // needs the model's window for its pass, so a lossy press still runs its whole mechanism
        float[] dense = run(m, new FullPress(), prompt, 8, 400, null);
        KvPress press = PressRegistry.create(spec, 0.6, ENCODER);
        float[] got = run(m, press, prompt, 8, 400, null);
        assertArrayEquals(dense, got, 0f, spec);
    }

    /** One recorded prefill compressed by a press gives bit for bit what the press gives observing it itself. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("presses")
    void compressingARecordedPrefillEqualsTheDirectPath(String spec) {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = randomPrompt(150, 16, c.vocabSize());
        int steps = 10;
        KvPress press = PressRegistry.create(spec, 0.2, ENCODER);
        float[] direct = run(m, press, prompt, steps, 170, null);

        PressContext ctx = models.model.pressContext(170, prompt.length, 7L);
        PrefillRecord record = new PrefillRecord(ctx, new int[] {32, 64}, c.contextLength());
        LlamaModel.State state = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        m.prefill(state, record, prompt, 0, null, logits);
        record.runScoringPass(press, prompt, m.tokenRunner(state));
        assertArrayEquals(direct, decodeFrom(m, press.compress(record, ctx), logits, prompt.length, steps), 0f, spec);
    }

    /**
     * One record serves KVzip presses whose re-reads differ (chunk sizes): each gets its own pass, and a press
     * whose pass the record no longer holds is refused rather than compressed from another press's statistic.
     */
    @Test
    void aRecordRunsEachDistinctScoringPass() {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = randomPrompt(150, 16, c.vocabSize());
        int steps = 10;
        KvPress whole = PressRegistry.create("kvzip:chunk=2000", 0.2, ENCODER);
        KvPress chunked = PressRegistry.create("kvzip:chunk=16", 0.2, ENCODER);
        KvPress chunkedAgain = PressRegistry.create("kvzip:chunk=16", 0.3, ENCODER);
        float[] wholeDirect = run(m, whole, prompt, steps, 170, null);
        float[] chunkedDirect = run(m, chunked, prompt, steps, 170, null);
        assertFalse(java.util.Arrays.equals(wholeDirect, chunkedDirect), "the chunk size changes the kept entries");

        PressContext ctx = models.model.pressContext(170, prompt.length, 7L);
        PrefillRecord record = new PrefillRecord(ctx, new int[] {32, 64}, c.contextLength());
        LlamaModel.State state = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        m.prefill(state, record, prompt, 0, null, logits);
        assertThrows(IllegalStateException.class, () -> whole.compress(record, ctx), "no pass run yet");
        record.runScoringPass(whole, prompt, m.tokenRunner(state));
        assertArrayEquals(wholeDirect, decodeFrom(m, whole.compress(record, ctx), logits, prompt.length, steps), 0f);
        record.runScoringPass(chunked, prompt, m.tokenRunner(state));
        assertArrayEquals(chunkedDirect, decodeFrom(m, chunked.compress(record, ctx), logits, prompt.length, steps),
            0f);
        KvPress.TokenRunner inner = m.tokenRunner(state);
        int[] runs = {0};
        KvPress.TokenRunner counting = new KvPress.TokenRunner() {
            @Override
            public void run(KvCache cache, int[] tokens, int startPos) {
                runs[0]++;
                inner.run(cache, tokens, startPos);
            }

            @Override
            public int contextLength() {
                return inner.contextLength();
            }
        };
        record.runScoringPass(chunkedAgain, prompt, counting); // the same pass: kept, not run again
        assertEquals(0, runs[0], "the record already holds chunk=16's pass");
        chunkedAgain.compress(record, ctx);
        assertThrows(IllegalStateException.class, () -> whole.compress(record, ctx), "the record holds chunk=16's pass");
    }

    /** Greedy decode of {@code steps} tokens from a cache holding the prompt: the logits of every step. */
    private static float[] decodeFrom(LlamaModel m, KvCache cache, float[] promptLogits, int promptLength, int steps) {
        LlamaModel.State state = m.newState(32);
        float[] logits = promptLogits.clone();
        float[] all = new float[(steps + 1) * logits.length];
        System.arraycopy(logits, 0, all, 0, logits.length);
        for (int s = 0; s < steps; s++) {
            m.decode(state, cache, argmax(logits), promptLength + s, logits);
            System.arraycopy(logits, 0, all, (s + 1) * logits.length, logits.length);
        }
        return all;
    }

    /** A question prefilled in one forward pass on a compressed cache keeps every one of its tokens exact. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("presses")
    void tokensOfTheCurrentForwardPassAreNeverEvicted(String spec) {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = randomPrompt(200, 17, c.vocabSize());
        int[] question = randomPrompt(12, 18, c.vocabSize());
        KvPress press = PressRegistry.create(spec, 0.25, ENCODER);
        PressedKvCache cache = (PressedKvCache) press.newCache(models.model.pressContext(220, 200, 1));
        LlamaModel.State state = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        m.prefill(state, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(state));
        m.prefill(state, cache, question, 200, null, logits);
        for (int l = 0; l < c.nLayers(); l++) {
            for (int g = 0; g < c.nKvHeads(); g++) {
                PressedKvCache.HeadStore h = cache.head(l, g);
                int kept = 0;
                for (int i = 0; i < h.count(); i++) {
                    kept += h.position(i) >= 200 ? 1 : 0;
                }
                assertEquals(12, kept, spec + ": question tokens exact in layer " + l + " head " + g);
            }
        }
    }

    /** Calibrated Compactor keeps fewer entries when a smaller attention share suffices, never more. */
    @Test
    void calibratedCompactorHoldsAtMostItsBudget() {
        LlamaModel m = models.model;
        int[] prompt = randomPrompt(300, 19, m.config().vocabSize());
        long[] bytes = new long[3];
        String[] specs = {"compactor", "compactor:calibrate=0.95", "compactor:calibrate=0.3"};
        for (int k = 0; k < specs.length; k++) {
            KvPress press = PressRegistry.create(specs[k], 0.5, null);
            PressedKvCache cache = (PressedKvCache) press.newCache(models.model.pressContext(300, 300, 0));
            LlamaModel.State st = m.newState(64);
            m.prefill(st, cache, prompt, 0, null, new float[m.config().vocabSize()]);
            press.compress(cache, prompt, m.tokenRunner(st));
            bytes[k] = cache.bytes();
            assertTrue(bytes[k] <= cache.budgetBytes(), specs[k]);
        }
        assertTrue(bytes[1] <= bytes[0] && bytes[2] < bytes[1], java.util.Arrays.toString(bytes));
    }

    @Test
    void fullPressIsTheDenseCache() {
        LlamaConfig c = models.model.config();
        KvCache cache = new FullPress().newCache(models.model.pressContext(10, 5, 0));
        assertInstanceOf(io.reviver.kernel.cache.DenseKvCache.class, cache);
    }

    @Test
    void compressionEvictsToTheExactCapacity() {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = randomPrompt(300, 14, c.vocabSize());
        KvPress press = PressRegistry.create("h2o", 0.1, null);
        PressedKvCache cache = (PressedKvCache) press.newCache(models.model.pressContext(300, 300, 0));
        LlamaModel.State state = m.newState(64);
        m.prefill(state, cache, prompt, 0, null, new float[c.vocabSize()]);
        assertEquals(300, cache.head(0, 0).count());
        press.compress(cache, prompt, m.tokenRunner(state));
        long entry = 2L * c.headSize() * 4 + KvPress.ENTRY_METADATA_BYTES;
        assertEquals(cache.headBudgetBytes() / entry, cache.exactCapacity());
        for (int l = 0; l < c.nLayers(); l++) {
            PressedKvCache.HeadStore h = cache.head(l, 0);
            assertEquals(cache.exactCapacity(), h.count());
            for (int i = 1; i < h.count(); i++) {
                assertTrue(h.position(i) > h.position(i - 1), "positions ascend");
            }
            assertEquals(299, h.position(h.count() - 1), "the newest position is kept");
        }
    }

    @Test
    void kvReviverKeepsEveryEvictedPositionInItsSketch() {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = randomPrompt(300, 15, c.vocabSize());
        KvPress press = PressRegistry.create("kvreviver", 0.25, null);
        PressedKvCache cache = (PressedKvCache) press.newCache(models.model.pressContext(320, 300, 3));
        LlamaModel.State state = m.newState(64);
        float[] logits = new float[c.vocabSize()];
        m.prefill(state, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(state));
        for (int s = 0; s < 20; s++) {
            m.decode(state, cache, argmax(logits), 300 + s, logits);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            for (int g = 0; g < c.nKvHeads(); g++) {
                PressedKvCache.HeadStore h = cache.head(l, g);
                assertEquals(320, h.count() + h.vague().size(), "every position is exact or vague");
                assertEquals(320, cache.entryCount(l, g), "all tokens take part in attention");
                CountSketch sk = (CountSketch) h.vague();
                for (int i = 0; i < h.count(); i++) {
                    assertTrue(!sk.contains(h.position(i)), "exact and vague are disjoint");
                }
            }
        }
    }

    @Test
    void badParametersAreRejectedWithMessagesNamingThem() {
        assertMessage("unknown press 'nope'", () -> PressRegistry.create("nope", 0.5, null));
        assertMessage("unknown option(s) [depth]", () -> PressRegistry.create("snapkv:depth=3", 0.5, null));
        assertMessage("window=x is not an integer", () -> PressRegistry.create("snapkv:window=x", 0.5, null));
        assertMessage("kernel must be odd", () -> PressRegistry.create("snapkv:kernel=4", 0.5, null));
        assertMessage("budget must be in (0, 1]", () -> PressRegistry.create("h2o", 0, null));
        assertMessage("budget must be in (0, 1]", () -> PressRegistry.create("h2o", 1.5, null));
        assertMessage("sketch share must be in (0, 1)", () -> PressRegistry.create("kvreviver:share=1", 0.5, null));
        assertMessage("rows must be in [1, 15]", () -> PressRegistry.create("kvreviver:d=0", 0.5, null));
        assertMessage("mode=exact is not one of [signed, mean]",
            () -> PressRegistry.create("kvreviver:mode=exact", 0.5, null));
        assertMessage("revive=yes is not true or false",
            () -> PressRegistry.create("kvreviver:revive=yes", 0.5, null));
        assertMessage("needs the model's tokenizer", () -> PressRegistry.create("kvzip", 0.5, null));
        LlamaConfig c = models.model.config();
        PressContext tiny = models.model.pressContext(20, 20, 0);
        assertMessage("fewer than the 6 needed", () -> PressRegistry.create("streaming_llm", 0.1, null).newCache(tiny));
        assertMessage("cannot hold one bucket", () -> PressRegistry.create("kvreviver:d=5", 0.1, null).newCache(tiny));
    }

    private static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
    }
}
