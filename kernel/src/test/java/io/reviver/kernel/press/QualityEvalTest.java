package io.reviver.kernel.press;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.kernel.TestRepo;
import io.reviver.kernel.eval.QualityEval;
import io.reviver.kernel.eval.RetrievalTasks;
import io.reviver.kernel.model.ElementOps;
import io.reviver.kernel.model.LlamaConfig;
import io.reviver.kernel.model.LlamaModel;
import io.reviver.kernel.model.LlamaWeights;
import io.reviver.kernel.model.TensorSource;
import io.reviver.kernel.tensor.JavaTensorOps;
import io.reviver.modelstore.gguf.GgufFile;
import io.reviver.modelstore.tokenizer.Tokenizer;
import io.reviver.modelstore.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The quality harness end to end on the bundled model, small: the tasks are generated to the asked length with
 * their answer inside the document, the full cache agrees with itself, every press cell respects its budget, and
 * the KVReviver cell carries sketch diagnostics whose attention error with reconstruction is below the error of
 * dropping the vague tokens.
 */
class QualityEvalTest {

    @Test
    void smallRunOnTheBundledModel() throws Exception {
        Path root = TestRepo.root();
        try (GgufFile file = GgufFile.open(root.resolve("models/reviver-tiny/reviver-tiny-q8_0.gguf"));
             JavaTensorOps ops = new JavaTensorOps(2, JavaTensorOps.Path.VECTOR)) {
            LlamaConfig c = LlamaConfig.fromGguf(file.metadata(), file.tensor("token_embd.weight"));
            Tokenizer tok = Tokenizers.fromGguf(file.metadata());
            RetrievalTasks tasks = new RetrievalTasks(tok,
                RetrievalTasks.speeches(root.resolve("data/sample-corpus/sample.jsonl")));
            for (RetrievalTasks.Task t : RetrievalTasks.Task.values()) {
                RetrievalTasks.Example ex = tasks.example(t, 7, 0, 400);
                int n = tok.encode(ex.prompt(), true).length;
                assertTrue(n > 340 && n <= 400, t + ": " + n + " tokens for a 400-token target");
                String needle = t == RetrievalTasks.Task.FACTS ? ex.facts().get(0) : ex.answer().trim()
                    .replace(".", "");
                assertTrue(ex.document().contains(needle), t + ": the answer is in the document");
                assertEquals(ex, tasks.example(t, 7, 0, 400), "seeded");
            }
            try (LlamaModel m = new LlamaModel(c, LlamaWeights.load(TensorSource.of(file), c, ops), ops,
                ElementOps.vector(), 2)) {
                QualityEval e = new QualityEval(m, tok, tasks, new QualityEval.Settings(
                    List.of("h2o", "kvreviver", "kvzip"), List.of(0.25), List.of(RetrievalTasks.Task.PASSKEY),
                    List.of(300), 2, 5, 20), new PrintStream(new ByteArrayOutputStream()));
                String json = e.run();
                String md = e.markdown();
                assertTrue(md.contains("| kvreviver@0.25"), md);
                Matcher full = Pattern.compile("\"press\": \"full\".*?\"same_output_as_full\": ([0-9.]+)")
                    .matcher(json);
                assertTrue(full.find(), json);
                assertEquals(1.0, Double.parseDouble(full.group(1)));
                Matcher bytes = Pattern.compile("\"bytes_over_budget\": ([0-9.]+)").matcher(json);
                int cells = 0;
                while (bytes.find()) {
                    assertTrue(Double.parseDouble(bytes.group(1)) <= 1.0, json);
                    cells++;
                }
                assertEquals(4, cells, "full + 3 presses");
                Matcher sketch = Pattern.compile("\"attn_out_rel_error\": ([0-9.]+), "
                    + "\"attn_out_rel_error_if_dropped\": ([0-9.]+)").matcher(json);
                assertTrue(sketch.find(), json);
                assertTrue(Double.parseDouble(sketch.group(1)) < Double.parseDouble(sketch.group(2)), json);
            }
        }
    }
}
