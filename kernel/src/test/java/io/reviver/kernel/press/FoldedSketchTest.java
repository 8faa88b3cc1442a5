package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.attention.SketchMode;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attention over a sketch's entries in folded form ({@link FoldedSketch}) against attention over its
 * {@link CountSketch#reconstructAll} entries, and the model's decode over a compressed cache read in place with its
 * sketch folded against the same decode over the gathered copy.
 *
 * <p>Tolerances: a folded score and a folded weighted value sum associate the same real sums differently in float
 * (per bucket, then per position), so they match the reconstructed form within {@code 1e-5 · (1 + the largest
 * magnitude among the references)}: an order of magnitude above float rounding of 64-term sums (a few 1e-7
 * relative), far below any real difference (one wrong bucket changes a score by its full size). The model's logits
 * after 12 decode steps match within {@code 2e-5 · (1 + max |logit|)} (measured: at most 1.2e-6), and every
 * greedy token is the same; measured score and value errors are at most 3.3e-7.
 */
class FoldedSketchTest {

    static final TestModels models = TestModels.shared();

    @ParameterizedTest(name = "{0} d={1} preRope={2}")
    @CsvSource({"MEAN,1,true", "MEAN,1,false", "MEAN,3,true", "SIGNED,1,true", "SIGNED,2,true", "SIGNED,2,false"})
    void foldedAttentionMatchesAttentionOverTheReconstruction(SketchMode mode, int rows, boolean preRope) {
        LlamaConfig c = models.model.config();
        int hs = c.headSize();
        int capacity = 500; // within the model's context (its rotation tabulates angles up to it)
        KeyRotation rotation = preRope ? models.model.keyRotation() : null;
        CountSketch sketch = new CountSketch(mode, rows, 13, hs, capacity, 99, rotation);
        SplittableRandom r = new SplittableRandom(7 + rows);
        float[] common = CountSketchTest.gaussian(r, hs); // keys share a common direction, as in a real model
        int inserted = 0;
        for (int p = 0; p < capacity; p++) {
            if (r.nextInt(3) != 0) {
                continue;
            }
            float[] k = CountSketchTest.gaussian(r, hs);
            for (int i = 0; i < hs; i++) {
                k[i] += 3 * common[i];
            }
            sketch.insert(p, k, 0, CountSketchTest.gaussian(r, hs), 0);
            inserted++;
        }
        // remove a few (their exact vectors are unknown here: the reconstruction is removed, as a revival does)
        float[] k1 = new float[hs];
        float[] v1 = new float[hs];
        for (int p = 5; p < capacity; p += 97) {
            if (sketch.contains(p)) {
                sketch.reconstruct(p, k1, 0, v1, 0);
                sketch.remove(p, k1, 0, v1, 0);
                inserted--;
            }
        }
        KvCache.Folded folded = sketch.folded();
        assertNotNull(folded, "a linear sketch folds");
        int m = folded.count();
        assertEquals(inserted, m);
        float[] keys = new float[m * hs];
        float[] values = new float[m * hs];
        int[] positions = new int[m];
        sketch.reconstructAll(keys, values, positions, 0);
        assertEquals(positions[m - 1], folded.lastPosition());

        double worst = 0;
        for (int heads : new int[] {1, 3, 4, 5}) { // the 4-head kernel, one head at a time, both
            float scale = (float) (1 / Math.sqrt(hs));
            float[] q = CountSketchTest.gaussian(r, heads * hs);
            int off = 3; // scores at an offset, rows of a stride, as the model lays them out
            int stride = m + 5;
            float[] scores = new float[off + heads * stride];
            float[] scratch = new float[folded.scratchFloats(heads)];
            int[] entries = new int[folded.entryInts()];
            folded.scores(q, 0, heads, scale, scores, off, stride, scratch, entries);
            for (int h = 0; h < heads; h++) {
                double[] ref = new double[m];
                double max = 0;
                for (int i = 0; i < m; i++) {
                    for (int e = 0; e < hs; e++) {
                        ref[i] += (double) q[h * hs + e] * keys[i * hs + e];
                    }
                    ref[i] *= scale;
                    max = Math.max(max, Math.abs(ref[i]));
                }
                for (int i = 0; i < m; i++) {
                    double err = Math.abs(scores[off + h * stride + i] - ref[i]);
                    worst = Math.max(worst, err / (1 + max));
                    assertTrue(err <= 1e-5 * (1 + max), "head " + h + " entry " + i + ": " + scores[off + h * stride + i]
                        + " vs " + ref[i]);
                }
            }
            // weights: any numbers (the softmax is the caller's), added to what out already holds
            float[] weights = new float[off + heads * stride];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) r.nextDouble();
            }
            float[] out = CountSketchTest.gaussian(r, heads * hs);
            float[] before = out.clone();
            folded.addWeightedValues(weights, off, stride, heads, out, 0, scratch, entries);
            for (int h = 0; h < heads; h++) {
                double[] ref = new double[hs];
                double max = 0;
                for (int e = 0; e < hs; e++) {
                    ref[e] = before[h * hs + e];
                    for (int i = 0; i < m; i++) {
                        ref[e] += (double) weights[off + h * stride + i] * values[i * hs + e];
                    }
                    max = Math.max(max, Math.abs(ref[e]));
                }
                for (int e = 0; e < hs; e++) {
                    double err = Math.abs(out[h * hs + e] - ref[e]);
                    worst = Math.max(worst, err / (1 + max));
                    assertTrue(err <= 1e-5 * (1 + max), "head " + h + " element " + e + ": " + out[h * hs + e] + " vs "
                        + ref[e]);
                }
            }
        }
        System.out.printf("folded %s d=%d preRope=%s, %d entries in 13 buckets: worst error %.2e of (1 + max)%n",
            mode, rows, preRope, m, worst);
    }

    @Test
    void aMedianOrARotationWithoutADotFormDoesNotFold() {
        int hs = 8;
        assertNull(new CountSketch(SketchMode.SIGNED, 3, 4, hs, 10, 1).folded(), "a median is not linear");
        KeyRotation plain = (vec, off, position, inverse) -> { };
        assertNull(new CountSketch(SketchMode.MEAN, 1, 4, hs, 10, 1, plain).folded(), "no dot form");
        KvCache.Folded empty = new CountSketch(SketchMode.MEAN, 1, 4, hs, 10, 1).folded();
        assertEquals(0, empty.count());
        assertEquals(-1, empty.lastPosition());
    }

    /**
     * The model over a compressed cache: read in place with the sketch folded, against the same cache behind a
     * view that offers neither (so the model gathers every entry, the sketch's reconstructed).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {"kvreviver", "kvreviver:keys=post", "kvreviver:d=3",
        "kvreviver:mode=signed,d=2", "h2o", "kvreviver:mode=signed,d=3"})
    void decodeOverTheFoldedSketchMatchesDecodeOverTheGatheredEntries(String spec) {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = PressTableTest.randomPrompt(120, 5, c.vocabSize());
        int steps = 12;
        float[][] logits = new float[2][c.vocabSize()];
        KvCache[] caches = new KvCache[2];
        for (int v = 0; v < 2; v++) {
            KvPress press = PressRegistry.create(spec, 0.3, null);
            KvCache cache = press.newCache(m.pressContext(prompt.length + steps, prompt.length, 1));
            LlamaModel.State st = m.newState(16);
            m.prefill(st, cache, prompt, 0, null, logits[v]);
            press.compress(cache, prompt, m.tokenRunner(st));
            caches[v] = v == 0 ? cache : new GatheredOnly(cache);
        }
        boolean folds = !spec.endsWith("d=3") || !spec.contains("signed");
        boolean sketched = spec.startsWith("kvreviver");
        LlamaModel.State[] states = {m.newState(1), m.newState(1)};
        double worst = 0;
        for (int s = 0; s < steps; s++) {
            int token = PressTableTest.argmax(logits[0]);
            assertEquals(token, PressTableTest.argmax(logits[1]), spec + " step " + s + ": greedy token");
            for (int v = 0; v < 2; v++) {
                m.decode(states[v], caches[v], token, prompt.length + s, logits[v]);
            }
            if (s == 0) { // what the step just read (the views as they stand within that step's pass)
                assertEquals(folds, caches[0].inPlace(0, 0) != null, "read in place");
                assertEquals(folds && sketched, caches[0].folded(0, 0) != null, "sketch folded");
                if (folds && sketched) {
                    assertTrue(caches[0].folded(0, 0).count() > 50, "the sketch holds the evicted prompt");
                }
            }
            double max = 0;
            for (float x : logits[1]) {
                max = Math.max(max, Math.abs(x));
            }
            for (int i = 0; i < c.vocabSize(); i++) {
                double err = Math.abs(logits[0][i] - logits[1][i]);
                worst = Math.max(worst, err / (1 + max));
                assertTrue(err <= 2e-5 * (1 + max), spec + " step " + s + " logit " + i + ": " + logits[0][i] + " vs "
                    + logits[1][i]);
            }
            if (!sketched) { // no sketch: the in-place read is the gather's arithmetic on the same entries
                assertArrayEquals(logits[1], logits[0], 0f, spec + " step " + s);
            }
        }
        System.out.printf("%s: folded against gathered decode, worst logit error %.2e of (1 + max)%n", spec, worst);
    }

    /**
     * A forward pass of many tokens after compression evicts some of its own tokens into the sketch (once the
     * unprotected exact entries run out): those must not be attended unmasked, so the cache falls back to gather
     * for that pass. Same logits as the gathered view (tolerance as above), no exception.
     */
    @Test
    void aLongPassAfterCompressionThatSketchesItsOwnTokensFallsBackToGather() {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        int[] prompt = PressTableTest.randomPrompt(120, 9, c.vocabSize());
        int[] question = PressTableTest.randomPrompt(60, 10, c.vocabSize());
        int capacity = prompt.length + question.length + 4;
        float[][] logits = new float[2][c.vocabSize()];
        KvCache[] caches = new KvCache[2];
        PressedKvCache direct = null;
        for (int v = 0; v < 2; v++) {
            KvPress press = PressRegistry.create("kvreviver", 0.1, null);
            KvCache cache = press.newCache(m.pressContext(capacity, prompt.length, 1));
            LlamaModel.State st = m.newState(64);
            m.prefill(st, cache, prompt, 0, null, logits[v]);
            press.compress(cache, prompt, m.tokenRunner(st));
            if (v == 0) {
                direct = (PressedKvCache) cache;
            }
            caches[v] = v == 0 ? cache : new GatheredOnly(cache);
            m.prefill(st, caches[v], question, prompt.length, null, logits[v]); // one pass of 60 tokens
        }
        boolean ownTokenSketched = false;
        for (int l = 0; l < c.nLayers() && !ownTokenSketched; l++) {
            CountSketch sk = (CountSketch) direct.head(l, 0).vague();
            for (int p = prompt.length; p < prompt.length + question.length; p++) {
                ownTokenSketched |= sk.contains(p);
            }
        }
        assertTrue(ownTokenSketched, "the pass should have evicted some of its own tokens (exact capacity "
            + direct.exactCapacity() + ")");
        double max = 0;
        for (float x : logits[1]) {
            max = Math.max(max, Math.abs(x));
        }
        for (int i = 0; i < c.vocabSize(); i++) {
            assertTrue(Math.abs(logits[0][i] - logits[1][i]) <= 2e-5 * (1 + max), "logit " + i + ": "
                + logits[0][i] + " vs " + logits[1][i]);
        }
    }

    /** A cache seen only through gather: every method but {@link KvCache#inPlace} and {@link KvCache#folded}. */
    private static class GatheredOnly implements KvCache {
        final KvCache c;

        GatheredOnly(KvCache c) {
            this.c = c;
        }

        @Override
        public int nLayers() {
            return c.nLayers();
        }

        @Override
        public int nKvHeads() {
            return c.nKvHeads();
        }

        @Override
        public int headSize() {
            return c.headSize();
        }

        @Override
        public int capacity() {
            return c.capacity();
        }

        @Override
        public int length(int layer) {
            return c.length(layer);
        }

        @Override
        public void append(int layer, int position, float[] key, int keyOff, float[] value, int valueOff) {
            c.append(layer, position, key, keyOff, value, valueOff);
        }

        @Override
        public int entryCount(int layer, int kvHead) {
            return c.entryCount(layer, kvHead);
        }

        @Override
        public int gather(int layer, int kvHead, float[] keys, float[] values, int[] positions) {
            return c.gather(layer, kvHead, keys, values, positions);
        }

        @Override
        public boolean observesAttention() {
            return c.observesAttention();
        }

        @Override
        public void observeAttention(int layer, int kvHead, int queryPosition, float[] weights, int count) {
            c.observeAttention(layer, kvHead, queryPosition, weights, count);
        }

        @Override
        public long bytes() {
            return c.bytes();
        }

        @Override
        public void clear() {
            c.clear();
        }
    }

    /** Folded entries must lie before the forward pass: one at the decoded position is a cache bug, not masked. */
    @Test
    void aFoldedPositionInsideTheForwardPassIsRejected() {
        LlamaModel m = models.model;
        int hs = m.config().headSize();
        CountSketch owner = new CountSketch(SketchMode.MEAN, 1, 2, hs, 8, 1);
        owner.insert(0, new float[hs], 0, new float[hs], 0);
        KvCache cache = new FoldingView(m.newCache(8), owner.folded());
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> m.decode(m.newState(1), cache, 1, 0, new float[m.config().vocabSize()]));
        assertTrue(e.getMessage().contains("folds position 0"), e.getMessage());
    }

    /** A dense cache read in place with the given folded entries after its own. */
    private static final class FoldingView extends GatheredOnly {
        private final KvCache.Folded extra;

        FoldingView(KvCache c, KvCache.Folded extra) {
            super(c);
            this.extra = extra;
        }

        @Override
        public InPlace inPlace(int layer, int kvHead) {
            return c.inPlace(layer, kvHead);
        }

        @Override
        public Folded folded(int layer, int kvHead) {
            return extra;
        }
    }
}
