package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prompt chunks of several sequences in one forward pass ({@link LlamaModel#forwardChunks}) give every sequence
 * the bits it gets prefilled alone, in other chunks: its prompt's last logits, and after compression by its press
 * the logits of greedy decode steps. Exact (tolerance 0): prompt rows' products depend only on the row.
 */
class PackedPrefillTest {

    static final TestModels models = TestModels.shared();

    static Stream<String> caches() {
        return Stream.of("full", "streaming_llm", "h2o", "snapkv", "tova", "knorm", "kvzip:chunk=16", "compactor",
            "kvreviver", "kvreviver:keys=post");
    }

    private static final int[] LENGTHS = {70, 45, 25};
    private static final int STEPS = 4;

    @ParameterizedTest(name = "{0}")
    @MethodSource("caches")
    void packedChunksGiveEachSequenceItsAloneBits(String spec) {
        check(models.model, spec);
    }

    /** The same with attention on backends (the Java reference backend, one per KV head). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"full", "h2o", "kvreviver"})
    void packedChunksOnAttentionBackendsGiveTheAloneBits(String spec) throws Exception {
        try (GgufFile file = GgufFile.open(TestRepo.root().resolve("models/test/tiny-llama-q8_0.gguf"));
             JavaTensorOps ops = new JavaTensorOps(1, JavaTensorOps.Path.VECTOR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            LlamaWeights w = LlamaWeights.load(TensorSource.of(file), c, ops);
            List<AttentionBackend> backends = new ArrayList<>();
            for (int g = 0; g < c.nKvHeads(); g++) {
                backends.add(new JavaAttentionBackend());
            }
            try (LlamaModel on = new LlamaModel(c, w, ops, ElementOps.vector(), 1, backends)) {
                check(on, spec);
            }
        }
    }

    private static void check(LlamaModel m, String spec) {
        LlamaConfig c = m.config();
        int seqs = LENGTHS.length;
        int[][] prompts = new int[seqs][];
        KvPress[] presses = new KvPress[seqs];
        for (int i = 0; i < seqs; i++) {
            prompts[i] = PressTableTest.randomPrompt(LENGTHS[i], 30 + i, c.vocabSize());
            presses[i] = PressRegistry.create(spec, spec.equals("full") ? 1.0 : 0.3, PressTableTest.ENCODER);
        }
        // alone: chunks of 16 tokens
        float[][] alone = new float[seqs][];
        for (int i = 0; i < seqs; i++) {
            KvCache cache = presses[i].newCache(context(m, prompts[i]));
            LlamaModel.State state = m.newState(16);
            float[] logits = new float[c.vocabSize()];
            m.prefill(state, cache, prompts[i], 0, null, logits);
            alone[i] = compressAndDecode(m, presses[i], cache, prompts[i], logits);
        }
        // packed: passes of at most 40 rows, filled in order (a sequence's chunk boundaries differ from alone)
        KvCache[] caches = new KvCache[seqs];
        float[][] last = new float[seqs][c.vocabSize()];
        int[] done = new int[seqs];
        for (int i = 0; i < seqs; i++) {
            caches[i] = presses[i].newCache(context(m, prompts[i]));
        }
        LlamaModel.State state = m.newState(40);
        int packedPasses = 0;
        while (done[seqs - 1] < LENGTHS[seqs - 1]) {
            KvCache[] cs = new KvCache[seqs];
            int[][] toks = new int[seqs][];
            int[] offs = new int[seqs];
            int[] counts = new int[seqs];
            float[][] logits = new float[seqs][];
            int k = 0;
            int room = 40;
            for (int i = 0; i < seqs && room > 0; i++) {
                int n = Math.min(room, LENGTHS[i] - done[i]);
                if (n == 0) {
                    continue;
                }
                cs[k] = caches[i];
                toks[k] = prompts[i];
                offs[k] = done[i];
                counts[k] = n;
                logits[k] = done[i] + n == LENGTHS[i] ? last[i] : null;
                done[i] += n;
                room -= n;
                k++;
            }
            m.forwardChunks(state, cs, toks, offs, counts, k, logits);
            packedPasses += k > 1 ? 1 : 0;
        }
        org.junit.jupiter.api.Assertions.assertTrue(packedPasses >= 2, "passes with several sequences: " + packedPasses);
        for (int i = 0; i < seqs; i++) {
            assertArrayEquals(alone[i], compressAndDecode(m, presses[i], caches[i], prompts[i], last[i]), 0f,
                spec + " sequence " + i);
        }
    }

    @Test
    void badPacksAreRefused() {
        LlamaModel m = models.model;
        int[] p = PressTableTest.randomPrompt(20, 3, m.config().vocabSize());
        KvCache a = m.newCache(64);
        KvCache b = m.newCache(64);
        LlamaModel.State state = m.newState(32);
        int[][] toks = {p, p};
        assertThrows(IllegalArgumentException.class, () -> m.forwardChunks(state, new KvCache[] {a, a}, toks,
            new int[] {0, 0}, new int[] {5, 5}, 2, new float[2][]), "one cache twice");
        assertThrows(IllegalArgumentException.class, () -> m.forwardChunks(state, new KvCache[] {a, b}, toks,
            new int[] {0, 0}, new int[] {20, 20}, 2, new float[2][]), "40 rows in a state of 32");
        assertThrows(IllegalArgumentException.class, () -> m.forwardChunks(state, new KvCache[] {a, b}, toks,
            new int[] {0, 0}, new int[] {5, 5}, 0, new float[2][]), "no chunk");
    }

    private static PressContext context(LlamaModel m, int[] prompt) {
        return m.pressContext(100, prompt.length, 7L);
    }

    /** Compresses a prefilled cache, then greedy-decodes; returns the prompt's logits and every step's. */
    private static float[] compressAndDecode(LlamaModel m, KvPress press, KvCache cache, int[] prompt,
                                             float[] promptLogits) {
        LlamaModel.State state = m.newState(32);
        press.compress(cache, prompt, m.tokenRunner(state));
        int vocab = promptLogits.length;
        float[] logits = promptLogits.clone();
        float[] all = new float[(STEPS + 1) * vocab];
        System.arraycopy(logits, 0, all, 0, vocab);
        for (int s = 0; s < STEPS; s++) {
            m.decode(state, cache, PressTableTest.argmax(logits), prompt.length + s, logits);
            System.arraycopy(logits, 0, all, (s + 1) * vocab, vocab);
        }
        return all;
    }
}
