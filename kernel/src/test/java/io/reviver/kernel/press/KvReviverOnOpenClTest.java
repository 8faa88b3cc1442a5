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
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * KVReviver end to end with its sketches on OpenCL (required, PoCL in CI; not skipped) against the same model on
 * the Java reference backends: the same prompt is prefilled, compressed to 30% (the evicted tokens inserted into the
 * sketches in one bulk call per head) and decoded greedily for 24 steps, each run feeding back its own argmax.
 * The greedy tokens must be identical and every step's logits within {@code 1e-4 · max|logit|} (the attention
 * and MEAN-reconstruction tolerances of {@code AttentionBackend}, a few float ulps, carried through the layers).
 * The OpenCL run must have executed the sketch kernels (timings recorded), not fallen back.
 */
class KvReviverOnOpenClTest {

    static final float LOGIT_TOL = 1e-4f;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kvreviver", "kvreviver:mode=mean,d=3", "kvreviver:mode=signed,d=3,keys=post",
        "kvreviver:d=5,revive=true"})
    void openClSketchesDecodeLikeTheJavaReference(String spec) throws Exception {
        try (GgufFile file = GgufFile.open(TestRepo.root().resolve("models/test/tiny-llama-q8_0.gguf"));
             JavaTensorOps ops = new JavaTensorOps(1, JavaTensorOps.Path.VECTOR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            LlamaWeights w = LlamaWeights.load(TensorSource.of(file), c, ops);
            int[] prompt = PressTableTest.randomPrompt(150, 57, c.vocabSize());
            List<AttentionBackend> javaBackends = backends(c, JavaAttentionBackend::new);
            List<AttentionBackend> clBackends = backends(c, () -> OpenClAttentionBackend.open(BackendChoice.OPENCL));
            try (LlamaModel onJava = new LlamaModel(c, w, ops, ElementOps.vector(), 1, javaBackends);
                 LlamaModel onCl = new LlamaModel(c, w, ops, ElementOps.vector(), 2, clBackends)) {
                Run a = run(onJava, spec, prompt);
                Run b = run(onCl, spec, prompt);
                assertArrayEquals(a.tokens, b.tokens, spec + ": greedy tokens");
                float max = 0;
                float worst = 0;
                for (int i = 0; i < a.logits.length; i++) {
                    max = Math.max(max, Math.abs(a.logits[i]));
                    worst = Math.max(worst, Math.abs(a.logits[i] - b.logits[i]));
                }
                System.out.printf("%s: worst |Δlogit| %.3g of max |logit| %.3g (%.3g relative)%n", spec, worst, max,
                    worst / max);
                assertArrayEquals(a.logits, b.logits, LOGIT_TOL * max, spec + ": logits");
                for (AttentionBackend be : clBackends) {
                    assertTrue(be.status().openCl() && be.status().fallbacks() == 0, be.status().toString());
                    Map<String, long[]> t = ((OpenClAttentionBackend) be).timings();
                    String mode = spec.contains("signed") ? "" : "_MEAN";
                    assertTrue(t.containsKey("SKETCH_INSERT" + mode) && t.get("SKETCH_INSERT" + mode)[0] > 0,
                        "bulk insert ran on OpenCL: " + t.keySet());
                    assertTrue(t.containsKey("SKETCH_RECONSTRUCT" + mode)
                        && t.get("SKETCH_RECONSTRUCT" + mode)[0] > 0, "reconstruction ran on OpenCL: " + t.keySet());
                }
            }
        }
    }

    private static List<AttentionBackend> backends(LlamaConfig c, Supplier<AttentionBackend> make) {
        List<AttentionBackend> list = new ArrayList<>();
        for (int g = 0; g < c.nKvHeads(); g++) {
            list.add(make.get());
        }
        return list;
    }

    private record Run(int[] tokens, float[] logits) {
    }

    /** Prefill, compress at 30%, 24 greedy steps; the tokens and the logits of every step. */
    private static Run run(LlamaModel m, String spec, int[] prompt) {
        int vocab = m.config().vocabSize();
        int steps = 24;
        KvPress press = PressRegistry.create(spec, 0.3, null);
        KvCache cache = press.newCache(m.pressContext(prompt.length + steps, prompt.length, 11));
        LlamaModel.State st = m.newState(32);
        float[] logits = new float[vocab];
        float[] all = new float[(steps + 1) * vocab];
        int[] tokens = new int[steps];
        m.prefill(st, cache, prompt, 0, null, logits);
        press.compress(cache, prompt, m.tokenRunner(st));
        System.arraycopy(logits, 0, all, 0, vocab);
        for (int s = 0; s < steps; s++) {
            tokens[s] = PressTableTest.argmax(logits);
            m.decode(st, cache, tokens[s], prompt.length + s, logits);
            System.arraycopy(logits, 0, all, (s + 1) * vocab, vocab);
        }
        return new Run(tokens, all);
    }
}
