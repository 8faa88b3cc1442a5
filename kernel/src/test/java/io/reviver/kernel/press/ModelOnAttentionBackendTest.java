package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.attention.AttentionBackend;
import io.reviver.kernel.attention.BackendChoice;
import io.reviver.kernel.attention.JavaAttentionBackend;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.opencl.OpenClAttentionBackend;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine on an {@link AttentionBackend} (the Java reference backend, and OpenCL on the real PoCL runtime, which
 * must be present: {@code opencl} is required, not optional) against the built-in attention loops: prefill and
 * decode logits within 1e-4 of the largest logit, identical greedy tokens, with a dense cache and with presses that
 * observe attention weights (H2O, KVReviver) — so compressed decoding also runs on the backend.
 */
class ModelOnAttentionBackendTest {

    @ParameterizedTest(name = "{0} / {1}")
    @CsvSource({"java, full", "java, h2o", "java, kvreviver", "opencl, full", "opencl, kvreviver"})
    void backendMatchesTheBuiltInAttention(String backend, String press) throws Exception {
        try (GgufFile file = GgufFile.open(TestRepo.root().resolve("models/test/tiny-llama-q8_0.gguf"));
             JavaTensorOps ops = new JavaTensorOps(1, JavaTensorOps.Path.VECTOR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            LlamaWeights w = LlamaWeights.load(TensorSource.of(file), c, ops);
            List<AttentionBackend> backends = backends(backend, c.nKvHeads());
            try (LlamaModel ref = new LlamaModel(c, w, ops, ElementOps.vector(), 1);
                 LlamaModel on = new LlamaModel(c, w, ops, ElementOps.vector(), 2, backends)) {
                int[] prompt = PressTableTest.randomPrompt(120, 31, c.vocabSize());
                float[] a = run(ref, press, prompt);
                float[] b = run(on, press, prompt);
                float max = 0;
                for (float x : a) {
                    max = Math.max(max, Math.abs(x));
                }
                assertArrayEquals(a, b, 1e-4f * max, backend + " / " + press);
                assertTrue(backends.get(0).status().fallbacks() == 0, "no fallback: " + backends.get(0).status());
            }
        }
    }

    /**
     * One model with one Java backend per KV head, driven by two threads at once (each its own sequence, state and
     * cache, with KVReviver so that sketches use the backends too): every logit equals the same sequence run alone.
     * The backends reuse buffers across calls, so this holds only because the model and the sketches serialise
     * their calls on each backend; the products' team is shared as well (a caller that finds it busy runs inline).
     */
    @org.junit.jupiter.api.Test
    void concurrentSequencesShareTheBackendsSafely() throws Exception {
        try (GgufFile file = GgufFile.open(TestRepo.root().resolve("models/test/tiny-llama-q8_0.gguf"));
             JavaTensorOps ops = new JavaTensorOps(2, JavaTensorOps.Path.VECTOR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            LlamaWeights w = LlamaWeights.load(TensorSource.of(file), c, ops);
            List<AttentionBackend> backends = backends("java", c.nKvHeads());
            try (LlamaModel on = new LlamaModel(c, w, ops, ElementOps.vector(), 2, backends)) {
                int[][] prompts = {PressTableTest.randomPrompt(120, 41, c.vocabSize()),
                    PressTableTest.randomPrompt(97, 43, c.vocabSize())};
                float[][] alone = {run(on, "kvreviver", prompts[0]), run(on, "kvreviver", prompts[1])};
                for (int round = 0; round < 3; round++) {
                    float[][] together = new float[2][];
                    Throwable[] failed = new Throwable[2];
                    Thread[] threads = new Thread[2];
                    for (int i = 0; i < 2; i++) {
                        int seq = i;
                        threads[i] = new Thread(() -> {
                            try {
                                together[seq] = run(on, "kvreviver", prompts[seq]);
                            } catch (Throwable t) {
                                failed[seq] = t;
                            }
                        });
                        threads[i].start();
                    }
                    for (Thread t : threads) {
                        t.join();
                    }
                    for (int i = 0; i < 2; i++) {
                        if (failed[i] != null) {
                            throw new AssertionError("sequence " + i + " failed", failed[i]);
                        }
                        assertArrayEquals(alone[i], together[i], "round " + round + ", sequence " + i);
                    }
                }
            }
        }
    }

    /** One backend per KV head: the Java reference ("java") or OpenCL, required ("opencl"). */
    private static List<AttentionBackend> backends(String kind, int nKvHeads) {
        List<AttentionBackend> backends = new ArrayList<>();
        for (int g = 0; g < nKvHeads; g++) {
            backends.add(kind.equals("java") ? new JavaAttentionBackend()
                : OpenClAttentionBackend.open(BackendChoice.OPENCL));
        }
        return backends;
    }

    /** Prefill, compress at 30%, 16 greedy steps; the logits of every step. */
    private static float[] run(LlamaModel m, String spec, int[] prompt) {
        LlamaConfig c = m.config();
        int steps = 16;
        KvPress press = PressRegistry.create(spec, 0.3, null);
        KvCache cache = press.newCache(m.pressContext(prompt.length + steps, prompt.length, 3));
        LlamaModel.State st = m.newState(32);
        float[] logits = new float[c.vocabSize()];
        float[] all = new float[(steps + 1) * c.vocabSize()];
        m.prefill(st, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(st));
        System.arraycopy(logits, 0, all, 0, logits.length);
        for (int s = 0; s < steps; s++) {
            m.decode(st, cache, PressTableTest.argmax(logits), prompt.length + s, logits);
            System.arraycopy(logits, 0, all, (s + 1) * logits.length, logits.length);
        }
        return all;
    }
}
