package io.reviver.modelstore.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.gguf.GgufTestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bundled model's tokenizer, read from its GGUF metadata, against the independent Python encoder that
 * trained it (model-store/training/bpe.py with the committed merges): identical ids and exact round trips on
 * slices of the sample corpus plus lines covering unicode, digits, whitespace runs, contractions, code and emoji.
 */
class TrainedTokenizerTest {

    @TempDir
    Path tmp;

    @Test
    void javaMatchesThePythonTrainerOnEveryLine() throws Exception {
        Path root = GgufTestSupport.repoRoot();
        Path model = root.resolve("models/reviver-tiny/reviver-tiny-q8_0.gguf");
        List<String> lines = new ArrayList<>();
        for (String json : Files.readAllLines(root.resolve("data/sample-corpus/sample.jsonl"))) {
            String text = json.substring(json.indexOf("\"text\": \"") + 9, json.indexOf("\"", json.indexOf("\"text\": \"") + 9));
            for (int i = 0; i + 1 < text.length() && i < 12000; i += 400) {
                lines.add(text.substring(i, Math.min(text.length(), i + 400)));
            }
        }
        lines.addAll(List.of("Hello  world\t\ttabs   and    spaces", "Numbers 1234567 and 3.14159, 1,000,000!",
            "I'm you're they'll WE'VE it's O'Neil", "Ünïcödé 日本語のテキスト Привет мир مرحبا नमस्ते",
            "emoji 👍🏽 👨‍👩‍👧 🌍! and 🏳️‍🌈", "code: for (int i = 0; i < n; i++) { x += y[i]; }",
            "  leading and trailing  ", "", " ", "\t", "a\u00a0b\u2003c", "The pass key is 48213. Remember it."));
        Path in = Files.writeString(tmp.resolve("lines.txt"), String.join("\n", lines), StandardCharsets.UTF_8);
        Path out = tmp.resolve("ids.txt");
        GgufTestSupport.runPython(root.resolve("model-store/training/encode_lines.py"),
            root.resolve("models/reviver-tiny/bpe.json").toString(), in.toString(), out.toString());
        String[] want = Files.readString(out).split("\n", -1);
        assertEquals(lines.size(), want.length);
        try (GgufFile f = GgufFile.open(model)) {
            Tokenizer tok = Tokenizers.fromGguf(f.metadata());
            int mismatches = 0;
            for (int i = 0; i < lines.size(); i++) {
                int[] ids = tok.encode(lines.get(i));
                String got = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "));
                if (!got.equals(want[i])) {
                    mismatches++;
                }
                assertEquals(lines.get(i), tok.decode(ids), "round trip of line " + i);
            }
            assertEquals(0, mismatches, "lines whose ids differ from the Python encoder, of " + lines.size());
        }
    }
}
