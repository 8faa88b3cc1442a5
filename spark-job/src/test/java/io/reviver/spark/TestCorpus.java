package io.reviver.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small test inputs cut from the bundled sample corpus, and paths of the repository's files. */
final class TestCorpus {

    private TestCorpus() {
    }

    static Path repo() {
        String root = System.getProperty("reviver.repo.root");
        Path p = root != null ? Paths.get(root) : Paths.get("").toAbsolutePath().getParent();
        return p.toAbsolutePath();
    }

    static Path model() {
        return repo().resolve("models/reviver-tiny/reviver-tiny-q8_0.gguf");
    }

    /** The first {@code n} sample documents (id → text), each cut to at most {@code maxChars} characters. */
    static Map<String, String> sample(int n, int maxChars) {
        Map<String, String> docs = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(repo().resolve("data/sample-corpus/sample.jsonl"))) {
                if (docs.size() == n) {
                    break;
                }
                JsonNode doc = json.readTree(line);
                String text = doc.get("text").asText();
                docs.put(doc.get("id").asText(), text.length() > maxChars ? text.substring(0, maxChars) : text);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    /** Writes documents as JSON Lines, plus the given raw extra lines (e.g. malformed ones). */
    static void writeJsonl(Path file, Map<String, String> docs, List<String> extraLines) throws IOException {
        List<String> lines = new ArrayList<>();
        docs.forEach((id, text) -> lines.add("{\"id\": " + quote(id) + ", \"text\": " + quote(text) + "}"));
        lines.addAll(extraLines);
        Files.createDirectories(file.getParent());
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    static String quote(String s) {
        return io.reviver.kernel.eval.FlatJson.quote(s);
    }
}
