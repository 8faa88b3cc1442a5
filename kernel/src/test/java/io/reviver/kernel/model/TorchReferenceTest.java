package io.reviver.kernel.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.cache.KvCache;
import io.reviver.kernel.sample.GreedySampler;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java engine against an independent float64 torch implementation (kernel/src/test/python/torch_reference.py),
 * on seeded random-weight Llama-3-shaped (NORMAL RoPE after llama.cpp's q/k permutation, Llama-3 frequency
 * scaling, GQA 8/2, untied output) and Qwen2-shaped (NEOX RoPE, q/k/v biases, tied embeddings, GQA 6/2) models
 * in F32, Q8_0 and Q4_0 (torch runs on the dequantised weights).
 *
 * <p>Error measure: for each position p of the 64-token prompt and of the 32 teacher-forced decode steps,
 * {@code rel(p) = max_v |java[p, v] − torch[p, v]| / max_v |torch[p, v]|}; the test bounds {@code max_p rel(p)}
 * by {@link #tolerance}. Every model is run with prefill batch sizes 1, 7 and 64, with scalar and vector
 * element-wise paths; the 32-token greedy continuation must equal torch's exactly.
 */
@Tag("torch")
class TorchReferenceTest {

    private static final Logger LOG = LogManager.getLogger(TorchReferenceTest.class);
    private static final int[] BATCH_SIZES = {1, 7, 64};

    @TempDir
    static Path dir;
    private static final Properties REF = new Properties();

    private static String run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("exit " + p.exitValue() + " from " + cmd + ":\n" + text);
        }
        return text;
    }

    @BeforeAll
    static void generateReference() throws Exception {
        try {
            run(List.of(TestRepo.python(), "-c", "import torch, numpy"), 60);
        } catch (IOException e) {
            fail("the torch reference needs torch and numpy for " + TestRepo.python() + " (Debian: apt-get install "
                + "python3-torch python3-numpy): " + e.getMessage());
        }
        Path script = TestRepo.root().resolve("kernel/src/test/python/torch_reference.py");
        long t0 = System.nanoTime();
        run(List.of(TestRepo.python(), script.toString(), "--out", dir.toString(), "--repo-root", TestRepo.root().toString()), 300);
        LOG.info("torch reference generated in {} ms", (System.nanoTime() - t0) / 1_000_000);
        try (var in = Files.newBufferedReader(dir.resolve("reference.properties"))) {
            REF.load(in);
        }
    }

    /**
     * Stated tolerance on max relative logit error per model type (see class comment). Torch runs on the
     * dequantised weights, so the error is float32 summation order only, the same for every weight type. Measured
     * with JavaTensorOps (2 threads, batch 1/7/64): vector path f32 9.3e-7, q8_0 9.4e-7, q4_0 7.5e-7; scalar path
     * f32 2.2e-6, q8_0 2.0e-6, q4_0 2.2e-6. The bound 1e-5 leaves a margin of about 4.5× over the worst of these.
     */
    static double tolerance(String model) {
        return 1e-5;
    }

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (String arch : List.of("llama3", "qwen2")) {
            for (String q : List.of("f32", "q8_0", "q4_0")) {
                for (boolean vector : new boolean[] {true, false}) {
                    a.add(Arguments.of(arch + "-" + q, vector));
                }
            }
        }
        return a.stream();
    }

    static int[] ints(String key) {
        return Arrays.stream(REF.getProperty(key).split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** A loaded model; the file must stay open while the model is used. */
    record Loaded(GgufFile file, LlamaModel model) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            file.close();
        }
    }

    static Loaded load(String name, TensorOps ops, boolean vector) {
        GgufFile file = GgufFile.open(dir.resolve(name + ".gguf"));
        LlamaConfig config = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
        LlamaWeights weights = LlamaWeights.load(TensorSource.of(file), config, ops);
        return new Loaded(file, new LlamaModel(config, weights, ops,
            vector ? ElementOps.vector() : ElementOps.scalar(), 2));
    }

    static TensorOps ops(boolean vector) {
        return new JavaTensorOps(2, vector ? JavaTensorOps.Path.VECTOR : JavaTensorOps.Path.SCALAR);
    }

    @ParameterizedTest(name = "{0} vector={1}")
    @MethodSource("cases")
    void logitsAndGreedyMatchTorch(String name, boolean vector) throws IOException {
        int[] tokens = ints(name + ".tokens");
        int prompt = Integer.parseInt(REF.getProperty(name + ".prompt"));
        int vocab = Integer.parseInt(REF.getProperty(name + ".vocab"));
        double[] ref = readF64(dir.resolve(name + ".logits.f64"), tokens.length * vocab);
        try (TensorOps ops = ops(vector); Loaded m = load(name, ops, vector)) {
            LlamaModel model = m.model();
            assertEquals(vocab, model.config().vocabSize());
            for (int batch : BATCH_SIZES) {
                KvCache cache = model.newCache(tokens.length);
                LlamaModel.State state = model.newState(batch);
                float[] got = new float[tokens.length * vocab];
                float[] last = new float[vocab];
                model.prefill(state, cache, Arrays.copyOf(tokens, prompt), 0, got, last);
                for (int p = prompt; p < tokens.length; p++) {
                    model.decode(state, cache, tokens[p], p, last);
                    System.arraycopy(last, 0, got, p * vocab, vocab);
                }
                double worst = 0;
                int worstPos = -1;
                for (int p = 0; p < tokens.length; p++) {
                    double rel = relativeError(got, ref, p * vocab, vocab);
                    if (rel > worst) {
                        worst = rel;
                        worstPos = p;
                    }
                }
                LOG.info("{} vector={} batch={}: max relative logit error {} at position {}", name, vector, batch,
                    String.format("%.3g", worst), worstPos);
                assertTrue(worst <= tolerance(name), name + " batch " + batch + ": max relative error " + worst
                    + " at position " + worstPos + " exceeds " + tolerance(name));
            }
            int[] expected = ints(name + ".greedy");
            Generator.Result r = Generator.generate(model, Arrays.copyOf(tokens, prompt), expected.length,
                new GreedySampler(), 16, t -> false, t -> { });
            assertArrayEquals(expected, r.tokens(), name + ": greedy continuation differs from torch (smallest "
                + "top-2 logit margin in torch's run: " + REF.getProperty(name + ".greedyMinMargin") + ")");
        }
    }

    @Test
    void llama3ScalingFromMetadataMatchesRopeFreqsTensorAndPython() throws IOException {
        try (TensorOps ops = new ReferenceTensorOps(); Loaded m = load("llama3-f32", ops, false)) {
            LlamaConfig c = m.model().config();
            assertEquals(RopeScaling.Type.LLAMA3, c.ropeScaling().type());
            float[] tensor = m.model().weights().ropeFreqs();
            double[] fromTensor = new Rope(c, tensor).inverseFrequencies();
            double[] fromMetadata = new Rope(c, null).inverseFrequencies();
            double[] python = Arrays.stream(REF.getProperty("llama3-f32.ropeFactors").split(","))
                .mapToDouble(Double::parseDouble).toArray();
            double[] base = Rope.baseInverseFrequencies(c.ropeTheta(), c.ropeDim());
            boolean scaledSome = false;
            boolean keptSome = false;
            for (int i = 0; i < base.length; i++) {
                assertEquals(base[i] / python[i], fromMetadata[i], 1e-9 * base[i], "pair " + i);
                assertEquals(fromTensor[i], fromMetadata[i], 1e-6 * base[i], "pair " + i);
                scaledSome |= python[i] > 1.5;
                keptSome |= python[i] == 1.0;
            }
            assertTrue(scaledSome && keptSome, "the test model should exercise more than one scaling regime");
        }
    }

    /** max_v |got − ref| / max_v |ref| over one row. */
    static double relativeError(float[] got, double[] ref, int off, int n) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < n; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(got[off + i] - ref[off + i]));
            maxRef = Math.max(maxRef, Math.abs(ref[off + i]));
        }
        return maxDiff / maxRef;
    }

    static double[] readF64(Path p, int expected) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        double[] d = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(d);
        assertEquals(expected, d.length, "reference size of " + p);
        return d;
    }
}
