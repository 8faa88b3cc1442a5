package io.reviver.kernel.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.Generator;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.sample.GreedySampler;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.kernel.tensor.TensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.tokenizer.Tokenizer;
import io.reviver.modelstore.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end runs of {@code reviver generate} on the committed tiny test model, and its error handling. */
class ReviverCliTest {

    static final Path MODEL = TestRepo.root().resolve(ReviverCli.DEFAULT_MODEL);

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ReviverCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), MODEL);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void committedModelMatchesItsChecksum() throws Exception {
        String line = Files.readString(Paths.get(MODEL + ".sha256")).trim();
        String expected = line.split("\\s+")[0];
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(MODEL)));
        assertEquals(expected, actual, "models/test model differs from its .sha256; regenerate both with "
            + "models/test/make_test_model.py");
    }

    @Test
    void greedyGenerateMatchesTheEngineDrivenDirectly() throws Exception {
        String prompt = "The quick brown fox";
        Run r = cli("generate", "--prompt", prompt, "--max-tokens", "12", "--threads", "2", "--batch-size", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("prefill: ") && r.err().contains("tokens/s"), r.err());
        assertTrue(r.err().contains("decode: "), r.err());

        // The same generation without the CLI: scalar ops and element ops, prefill in one batch.
        String expected;
        try (GgufFile file = GgufFile.open(MODEL);
             TensorOps ops = new JavaTensorOps(1, JavaTensorOps.Path.SCALAR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            Tokenizer tok = Tokenizers.fromGguf(file.metadata());
            try (LlamaModel m = new LlamaModel(c, LlamaWeights.load(TensorSource.of(file), c, ops), ops,
                ElementOps.scalar(), 1)) {
                int[] ids = tok.encode(prompt, true);
                Generator.Result g = Generator.generate(m, ids, 12, new GreedySampler(), 64, t -> t == tok.eosId().orElse(-1),
                    t -> { });
                int[] gen = g.tokens();
                if (gen.length > 0 && gen[gen.length - 1] == tok.eosId().orElse(-1)) {
                    gen = java.util.Arrays.copyOf(gen, gen.length - 1);
                }
                Utf8StreamDecoder d = new Utf8StreamDecoder();
                StringBuilder sb = new StringBuilder();
                for (int t : gen) {
                    sb.append(d.feed(tok.tokenBytes(t)));
                }
                expected = sb.append(d.finish()).toString();
            }
        }
        assertEquals(expected + System.lineSeparator(), r.out());
        assertEquals(r.out(), cli("generate", "--prompt", prompt, "--max-tokens", "12", "--backend", "java-scalar",
            "--threads", "1").out(), "scalar backend, one thread, default batch");
    }

    @Test
    void seededSamplingIsReproducible() {
        String[] a = {"generate", "--prompt", "Hello", "--max-tokens", "16", "--temperature", "1.0", "--top-p",
            "0.95", "--seed", "7"};
        Run r1 = cli(a);
        Run r2 = cli(a);
        assertEquals(0, r1.code(), r1.err());
        assertEquals(r1.out(), r2.out());
        a[a.length - 1] = "8";
        Run r3 = cli(a);
        assertEquals(0, r3.code(), r3.err());
        assertNotEquals(r1.out(), r3.out(), "different seeds should give different samples");
    }

    @Test
    void helpAndUsageErrors() {
        Run help = cli("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("Usage: reviver generate"));
        assertUsage(cli(), "no command");
        assertUsage(cli("translate"), "translate");
        assertUsage(cli("generate", "--prompt", "x", "--bogus"), "--bogus");
        assertUsage(cli("generate", "--prompt", "x", "--max-tokens", "many"), "--max-tokens", "many");
        assertUsage(cli("generate", "--prompt", "x", "--max-tokens", "-1"), "--max-tokens", "-1");
        assertUsage(cli("generate", "--prompt", "x", "--top-p", "1.5"), "--top-p", "1.5");
        assertUsage(cli("generate", "--prompt", "x", "--temperature", "-2"), "--temperature");
        assertUsage(cli("generate", "--prompt", "x", "--backend", "cuda"), "--backend", "cuda");
        assertUsage(cli("generate", "--prompt", "x", "--threads", "0"), "--threads", "0");
        assertUsage(cli("generate", "--prompt"), "--prompt needs a value");
        assertUsage(cli("generate", "--max-tokens", "3"), "--prompt is required");
    }

    private static void assertUsage(Run r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), () -> "stderr lacks '" + f + "': " + r.err());
        }
    }

    @Test
    void badModelsExitOneWithoutStackTrace(@TempDir Path tmp) throws IOException {
        Path missing = tmp.resolve("nope.gguf");
        Run r = cli("generate", "--model", missing.toString(), "--prompt", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("nope.gguf"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());

        Path garbage = tmp.resolve("garbage.gguf");
        Files.write(garbage, "this is not a GGUF file at all".getBytes(StandardCharsets.US_ASCII));
        r = cli("generate", "--model", garbage.toString(), "--prompt", "x");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("reviver: error: "), r.err());
        assertFalse(r.err().contains("\tat "), r.err());

        Path truncated = tmp.resolve("truncated.gguf");
        byte[] model = Files.readAllBytes(MODEL);
        Files.write(truncated, java.util.Arrays.copyOf(model, model.length / 2));
        r = cli("generate", "--model", truncated.toString(), "--prompt", "x");
        assertEquals(1, r.code(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        r = cli("generate", "--model", truncated.toString(), "--prompt", "x", "--verbose");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("\tat "), "--verbose prints the stack trace: " + r.err());

        r = cli("generate", "--model", "hf://someone/model.gguf", "--prompt", "x");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("hf"), r.err());
    }
}
