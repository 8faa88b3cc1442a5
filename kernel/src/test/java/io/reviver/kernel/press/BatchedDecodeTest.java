package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Multi-sequence decode: B sequences of different lengths, each with its own cache and press (full, H2O,
 * KVReviver), advanced together by {@link LlamaModel#decodeBatch} give every sequence bit for bit the logits and
 * greedy tokens it gets decoded alone (the weight products are bit-identical across batch rows), on one thread or
 * two.
 */
class BatchedDecodeTest {

    static final TestModels models = TestModels.shared();

    @Test
    void batchedDecodeEqualsDecodingEachSequenceAlone() {
        batchedEqualsAlone(models.model, models.model);
    }

    /** Products split over two threads and attention over KV heads on the team give the same bits too. */
    @Test
    void onTwoThreadsBatchedDecodeEqualsOneThreadAlone() throws Exception {
        try (TestModels two = TestModels.randomWeights(2)) {
            batchedEqualsAlone(models.model, two.model);
        }
    }

    /** Decodes each sequence alone on {@code aloneModel}, then all together on {@code batchModel}; same logits. */
    private static void batchedEqualsAlone(LlamaModel aloneModel, LlamaModel batchModel) {
        LlamaModel m = aloneModel;
        LlamaConfig c = m.config();
        String[] presses = {"full", "h2o", "kvreviver", "snapkv", "full", "kvreviver:mode=signed,d=3"};
        int b = presses.length;
        int steps = 12;
        int[][] prompts = new int[b][];
        for (int i = 0; i < b; i++) {
            prompts[i] = PressTableTest.randomPrompt(40 + 23 * i, 100 + i, c.vocabSize());
        }
        // alone
        float[][][] alone = new float[b][steps][];
        for (int i = 0; i < b; i++) {
            KvPress press = PressRegistry.create(presses[i], 0.3, null);
            KvCache cache = press.newCache(m.pressContext(prompts[i].length + steps, prompts[i].length, i));
            LlamaModel.State st = m.newState(16);
            float[] logits = new float[c.vocabSize()];
            m.prefill(st, cache, prompts[i], 0, null, logits);
            press.compress(cache, prompts[i], m.tokenRunner(st));
            for (int s = 0; s < steps; s++) {
                m.decode(st, cache, PressTableTest.argmax(logits), prompts[i].length + s, logits);
                alone[i][s] = logits.clone();
            }
        }
        // together
        m = batchModel;
        KvCache[] caches = new KvCache[b];
        int[] tokens = new int[b];
        int[] positions = new int[b];
        LlamaModel.State st = m.newState(16);
        for (int i = 0; i < b; i++) {
            KvPress press = PressRegistry.create(presses[i], 0.3, null);
            caches[i] = press.newCache(m.pressContext(prompts[i].length + steps, prompts[i].length, i));
            float[] logits = new float[c.vocabSize()];
            m.prefill(st, caches[i], prompts[i], 0, null, logits);
            press.compress(caches[i], prompts[i], m.tokenRunner(st));
            tokens[i] = PressTableTest.argmax(logits);
            positions[i] = prompts[i].length;
        }
        float[] all = new float[b * c.vocabSize()];
        for (int s = 0; s < steps; s++) {
            m.decodeBatch(st, caches, tokens, positions, b, all);
            for (int i = 0; i < b; i++) {
                float[] row = Arrays.copyOfRange(all, i * c.vocabSize(), (i + 1) * c.vocabSize());
                assertArrayEquals(alone[i][s], row, 0f, "sequence " + i + " (" + presses[i] + ") step " + s);
                tokens[i] = PressTableTest.argmax(row);
                positions[i]++;
            }
        }
    }

    @Test
    void badBatchesAreRejected() {
        LlamaModel m = models.model;
        LlamaConfig c = m.config();
        KvCache a = m.newCache(10);
        LlamaModel.State st = m.newState(4);
        float[] logits = new float[8 * c.vocabSize()];
        assertThrows(IllegalArgumentException.class,
            () -> m.decodeBatch(st, new KvCache[] {a, a}, new int[] {1, 2}, new int[] {0, 0}, 2, logits));
        assertThrows(IllegalArgumentException.class,
            () -> m.decodeBatch(st, new KvCache[5], new int[5], new int[5], 5, logits));
        assertThrows(IllegalStateException.class,
            () -> m.decodeBatch(st, new KvCache[] {a}, new int[] {1}, new int[] {3}, 1, logits));
    }
}
