package io.reviver.spark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reviver.spark.AtomicOutput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportCommandTest {

    @TempDir
    Path dir;

    /** Exit code and what the command printed. */
    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ReportCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), new Configuration());
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A job output directory holding a copy of the sample report. */
    private Path jobOutput(String name, String sample) throws IOException {
        Path output = Files.createDirectories(dir.resolve(name));
        Files.writeString(output.resolve(AtomicOutput.REPORT), SampleReports.load(sample).toString());
        return output;
    }

    @Test
    void oneRunDirectoryWritesThePageBesideItsReport() throws IOException {
        Path output = jobOutput("summaries", SampleReports.RUN);
        Result r = run(output.toString());

        Path page = output.resolve(ReportCommand.PAGE);
        assertEquals(0, r.code(), r.err());
        assertEquals(page.toString(), r.out().strip());
        assertTrue(Files.readString(page).contains(SampleReports.container("time-split")));
        // Regenerated over a page the job wrote (with a checksum file): still readable through Hadoop's
        // checksummed local filesystem.
        org.apache.hadoop.fs.Path hp = new org.apache.hadoop.fs.Path(page.toUri());
        org.apache.hadoop.fs.FileSystem fs = hp.getFileSystem(new org.apache.hadoop.conf.Configuration());
        try (java.io.OutputStream o = fs.create(hp, true)) {
            o.write("<html>from the job</html>".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        assertTrue(Files.exists(output.resolve("." + ReportCommand.PAGE + ".crc")));
        assertEquals(0, run(output.toString()).code());
        try (java.io.InputStream in = fs.open(hp)) {
            assertTrue(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                .contains(SampleReports.container("time-split")));
        }
    }

    @Test
    void reportFileAsUriWithOut() throws IOException {
        Path json = jobOutput("summaries", SampleReports.RUN).resolve(AtomicOutput.REPORT);
        Path page = dir.resolve("run.html");
        Result r = run(json.toUri().toString(), "--out", page.toString());

        assertEquals(0, r.code(), r.err());
        assertEquals(page.toString(), r.out().strip());
        assertTrue(Files.readString(page).contains(SampleReports.container("machine-fraction")));
        assertFalse(Files.exists(json.resolveSibling(ReportCommand.PAGE)), "--out replaces the default");
    }

    @Test
    void severalRunsWriteAComparison() throws IOException {
        Path page = dir.resolve("compare.html");
        Result r = run(jobOutput("a", SampleReports.RUN).toString(), "--out=" + page,
            jobOutput("b", SampleReports.SECOND).toString());

        assertEquals(0, r.code(), r.err());
        String html = Files.readString(page);
        assertTrue(html.contains(SampleReports.container("documents-per-hour")));
        assertTrue(html.contains("snapkv @ 0.5 · 93d04b71"));
    }

    @Test
    void severalRunsNeedOut() throws IOException {
        Result r = run(jobOutput("a", SampleReports.RUN).toString(), jobOutput("b", SampleReports.SECOND).toString());

        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("reviver report: 2 runs make a comparison page: name its file with --out"),
            r.err());
        assertTrue(r.out().isEmpty());
    }

    @Test
    void missingPathIsNamed() {
        String missing = dir.resolve("nowhere").toString();
        assertBadInput(run(missing), missing + ": no such file or directory");
    }

    @Test
    void directoryWithoutReportIsNamed() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertBadInput(run(empty.toString()), empty + ": directory without " + AtomicOutput.REPORT);
    }

    @Test
    void badJsonIsNamedWithItsPosition() throws IOException {
        Path json = Files.writeString(dir.resolve("broken.json"), "{\"format\": \"reviver-report/2\",\n  oops}");
        assertBadInput(run(json.toString()), json + ": not JSON (line 2, column ");

        Path empty = Files.writeString(dir.resolve("empty.json"), "");
        assertBadInput(run(empty.toString()), empty + ": empty file, not JSON");

        Path trailing = Files.writeString(dir.resolve("two.json"), "{\"format\": \"reviver-report/2\"} {}");
        assertBadInput(run(trailing.toString()), trailing + ": not JSON");
    }

    @Test
    void wrongFormatIsNamed() throws IOException {
        Path old = Files.writeString(dir.resolve("old.json"), "{\"format\": \"reviver-report/1\"}");
        assertBadInput(run(old.toString()), old + ": format is \"reviver-report/1\", expected \"reviver-report/2\"");

        Path none = Files.writeString(dir.resolve("none.json"), "{\"documents\": 3}");
        assertBadInput(run(none.toString()), none + ": not a report: no \"format\" field");

        Path array = Files.writeString(dir.resolve("array.json"), "[1, 2]");
        assertBadInput(run(array.toString()), array + ": not a report: the JSON is array, expected an object");
    }

    @Test
    void oneBadRunOfSeveralStopsBeforeWriting() throws IOException {
        Path page = dir.resolve("compare.html");
        String missing = dir.resolve("gone").toString();
        assertBadInput(run(jobOutput("a", SampleReports.RUN).toString(), missing, "--out", page.toString()),
            missing + ": no such file or directory");
        assertFalse(Files.exists(page));
    }

    @Test
    void usageErrors() {
        for (String[] args : new String[][] {{}, {"--out"}, {"x", "--out="}, {"x", "--verbose"},
            {"x", "--out", "a.html", "--out", "b.html"}}) {
            Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(r.err().startsWith("reviver report: ") && r.err().contains("usage: reviver report"), r.err());
        }
        Result help = run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().startsWith("usage: reviver report RUN_DIR... [--out FILE.html]"));
    }

    /** Exit code 2 and exactly one line on standard error, starting with the expected text after the prefix. */
    private static void assertBadInput(Result r, String expected) {
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("reviver report: " + expected), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.out().isEmpty());
    }
}
