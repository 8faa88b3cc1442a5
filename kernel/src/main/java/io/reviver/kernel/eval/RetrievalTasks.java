package io.reviver.kernel.eval;

import io.reviver.modelstore.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The synthetic long-context tasks of model-store/training/TASKS.md, re-implemented in Java with its own PRNG
 * (same templates and distribution as the Python generators, not the same samples): passkey, multi-key and the
 * extractive "facts" summary, inserted at uniformly random sentence boundaries of natural filler text (State of
 * the Union sentences), with the question last. Example {@code i} of a task at length L for a seed is a pure
 * function of (task, seed, i, L).
 */
public final class RetrievalTasks {

    /** A task. */
    public enum Task { PASSKEY, MULTIKEY, FACTS }

    static final List<String> WORDS = List.of("apple", "river", "stone", "cloud", "maple", "tiger", "ocean", "piano",
        "silver", "garden", "rocket", "candle", "forest", "mirror", "falcon", "copper", "lemon", "harbor", "velvet",
        "meadow", "comet", "island", "marble", "canyon", "orchid", "thunder", "willow", "bamboo", "crystal", "desert",
        "ember", "glacier", "lantern", "nectar", "pepper", "quartz", "saddle", "tulip", "violet", "walnut");
    static final List<String> ADJECTIVES = List.of("red", "blue", "green", "small", "large", "quiet", "bright", "old",
        "young", "golden", "dark", "swift");
    static final List<String> NOUNS = List.of("fox", "owl", "ship", "clock", "horse", "bridge", "tower", "engine",
        "violin", "wagon", "lamp", "kettle");
    static final List<String> PLACES = List.of("Boston", "Denver", "Paris", "Cairo", "Lima", "Oslo", "Tokyo", "Dublin",
        "Austin", "Quebec", "Madrid", "Nairobi");
    static final String PASSKEY_QUESTION = "\nWhat is the pass key? The pass key is";
    static final String FACTS_QUESTION = "\nList the facts in order:";

    /**
     * One example.
     *
     * @param document the document (filler with the inserted sentences), without the question
     * @param question the question that ends the prompt
     * @param answer   the exact expected continuation (passkey, multikey) or the reference list (facts)
     * @param facts    the facts to recall, in order (facts task), else empty
     */
    public record Example(Task task, int index, int targetTokens, String document, String question, String answer,
                          List<String> facts) {

        /** The whole prompt text. */
        public String prompt() {
            return document + question;
        }
    }

    private final Tokenizer tokenizer;
    private final List<String> sentences;

    /** @param fillerTexts natural texts whose sentences fill the documents (at least one sentence) */
    public RetrievalTasks(Tokenizer tokenizer, List<String> fillerTexts) {
        this.tokenizer = tokenizer;
        this.sentences = new ArrayList<>();
        for (String t : fillerTexts) {
            for (String s : t.split("\\. ")) {
                if (s.strip().length() > 3) {
                    sentences.add(s.strip() + ".");
                }
            }
        }
        if (sentences.isEmpty()) {
            throw new IllegalArgumentException("no filler sentences");
        }
    }

    /** Texts of the speeches ({@code id} starting with "sotu-") in a JSONL corpus of {@code id}, {@code text}. */
    public static List<String> speeches(Path jsonl) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                Map<String, String> doc = FlatJson.parseObject(line);
                if (doc.getOrDefault("id", "").startsWith("sotu-")) {
                    out.add(doc.get("text"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jsonl, e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(jsonl + " holds no speeches (ids starting with sotu-)");
        }
        return out;
    }

    /** Example {@code index} of {@code task} at about {@code tokens} prompt tokens for {@code seed}. */
    public Example example(Task task, long seed, int index, int tokens) {
        SplittableRandom rng = new SplittableRandom(fnv64(task.name().toLowerCase() + "/" + seed + "/" + index + "/"
            + tokens));
        return switch (task) {
            case PASSKEY -> {
                int key = 10000 + rng.nextInt(90000);
                String ins = "The pass key is " + key + ". Remember it. " + key + " is the pass key.";
                yield new Example(task, index, tokens, assemble(rng, tokens, List.of(ins), PASSKEY_QUESTION),
                    PASSKEY_QUESTION, " " + key + ".", List.of());
            }
            case MULTIKEY -> {
                TreeSet<String> set = new TreeSet<>();
                while (set.size() < 4) {
                    set.add(WORDS.get(rng.nextInt(WORDS.size())) + "-" + WORDS.get(rng.nextInt(WORDS.size())));
                }
                List<String> names = new ArrayList<>(set);
                shuffle(names, rng);
                List<String> inserts = new ArrayList<>();
                int[] values = new int[names.size()];
                for (int i = 0; i < names.size(); i++) {
                    values[i] = 10000 + rng.nextInt(90000);
                    inserts.add("The value for key " + names.get(i) + " is " + values[i] + ".");
                }
                int ask = rng.nextInt(names.size());
                String q = "\nWhat is the value for key " + names.get(ask) + "? The value for key " + names.get(ask)
                    + " is";
                yield new Example(task, index, tokens, assemble(rng, tokens, inserts, q), q, " " + values[ask] + ".",
                    List.of());
            }
            case FACTS -> {
                List<String> chosen = new ArrayList<>();
                while (chosen.size() < 5) {
                    String f = "The " + ADJECTIVES.get(rng.nextInt(ADJECTIVES.size())) + " "
                        + NOUNS.get(rng.nextInt(NOUNS.size())) + " is in " + PLACES.get(rng.nextInt(PLACES.size())) + ".";
                    if (!chosen.contains(f)) {
                        chosen.add(f);
                    }
                }
                List<String> inserts = chosen.stream().map(f -> "FACT: " + f).toList();
                StringBuilder answer = new StringBuilder();
                for (int i = 0; i < chosen.size(); i++) {
                    answer.append('\n').append(i + 1).append(". ").append(chosen.get(i));
                }
                answer.append("\nEND");
                yield new Example(task, index, tokens, assemble(rng, tokens, inserts, FACTS_QUESTION), FACTS_QUESTION,
                    answer.toString(), List.copyOf(chosen));
            }
        };
    }

    /** Fraction of {@code facts} found verbatim in {@code output}. */
    public static double factRecall(String output, List<String> facts) {
        return facts.stream().filter(output::contains).count() / (double) facts.size();
    }

    /** The document: filler trimmed so document + inserts + question take about {@code tokens} tokens. */
    private String assemble(SplittableRandom rng, int tokens, List<String> inserts, String question) {
        int qTokens = tokenizer.encode(question).length;
        for (String s : inserts) {
            qTokens += tokenizer.encode(" " + s).length;
        }
        int budget = Math.max(16, tokens - qTokens - 8);
        int start = rng.nextInt(sentences.size());
        List<String> keep = new ArrayList<>();
        int total = 0;
        for (int i = start; ; i++) {
            String s = sentences.get(i % sentences.size());
            int n = tokenizer.encode(" " + s).length;
            if (total + n > budget) {
                break;
            }
            keep.add(s);
            total += n;
        }
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < inserts.size(); i++) {
            positions.add(rng.nextInt(keep.size() + 1));
        }
        Collections.sort(positions);
        List<String> doc = new ArrayList<>(keep);
        for (int i = 0; i < inserts.size(); i++) {
            doc.add(positions.get(i) + i, inserts.get(i));
        }
        return String.join(" ", doc);
    }

    private static void shuffle(List<String> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, rng.nextInt(i + 1));
        }
    }

    /** FNV-1a 64 of a string's UTF-8 bytes (the seed of one example). */
    static long fnv64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
