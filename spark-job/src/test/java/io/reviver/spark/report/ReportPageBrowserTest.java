package io.reviver.spark.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens rendered pages in Debian's headless Chromium and checks the DOM after the page's script ran: every chart
 * container holds an SVG with its data drawn (a path in a series colour per bar, per line). Also leaves screenshots
 * in target/report-screenshots for a person to look at. Chromium is a test prerequisite
 * (deploy/install-prereqs.sh), so its absence fails the test rather than skipping it.
 */
class ReportPageBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final long TIMEOUT_SECONDS = 120;
    private static final Path SCREENSHOTS =
        Path.of(System.getProperty("basedir", "."), "target", "report-screenshots");
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    /** A path element; its colour attributes are matched separately. */
    private static final Pattern PATH = Pattern.compile("<path\\b[^>]*>");
    private static final Pattern COLOUR = Pattern.compile("(?:fill|stroke)=\"(#[0-9a-fA-F]{6})\"");

    @TempDir
    Path dir;

    @BeforeAll
    static void chromiumIsInstalled() {
        assertTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is missing: run deploy/install-prereqs.sh (it installs "
            + "Debian's chromium, which the report page tests need)");
    }

    @Test
    void runPageDrawsEveryChart() throws Exception {
        String html = ReportPage.render(List.of(SampleReports.load(SampleReports.RUN)));
        Path page = write("run.html", html);

        assertEveryChartDrawn(dumpDom(page), SampleReports.charts(html), ReportPageTest.RUN_CHARTS);
        screenshot(page, "report-run.png", 1400, 2800);
    }

    @Test
    void comparisonPageDrawsEveryChart() throws Exception {
        String html = ReportPage.render(List.of(SampleReports.load(SampleReports.RUN),
            SampleReports.load(SampleReports.SECOND)));
        Path page = write("comparison.html", html);

        assertEveryChartDrawn(dumpDom(page), SampleReports.charts(html), ReportPageTest.COMPARISON_CHARTS);
        screenshot(page, "report-comparison.png", 1400, 1500);
    }

    @Test
    void pageWithoutDataShowsNotAvailableInEveryChart() throws Exception {
        String html = ReportPage.render(List.of(SampleReports.MAPPER.createObjectNode()
            .put("format", ReportPage.FORMAT)));
        String dom = dumpDom(write("bare.html", html));

        assertTrue(dom.contains("data-charts-rendered=\"" + ReportPageTest.RUN_CHARTS.size() + "\""),
            "the page's script drew every chart without error");
        for (String name : ReportPageTest.RUN_CHARTS) {
            String chart = chart(dom, name);
            assertTrue(chart.contains("<svg"), name);
            assertEquals(0, dataMarks(chart), name);
            assertTrue(chart.contains(">" + Figures.MISSING + "</text>"), name + " says n/a");
        }
    }

    /** Each chart's container holds an SVG with at least one drawn mark per value in its options, and some. */
    private static void assertEveryChartDrawn(String dom, JsonNode options, List<String> names) {
        assertTrue(dom.contains("data-charts-rendered=\"" + names.size() + "\""),
            "the page's script drew every chart without error");
        for (String name : names) {
            String chart = chart(dom, name);
            assertTrue(chart.contains("<svg"), name + ": no SVG");
            int expected = expectedMarks(options.path(name));
            int drawn = dataMarks(chart);
            assertTrue(expected > 0 && drawn >= expected, name + ": " + drawn + " marks drawn, expected at least "
                + expected);
        }
    }

    /** The dumped DOM from chart {@code name}'s container to the next container (or the end of the chart grid). */
    private static String chart(String dom, String name) {
        int start = dom.indexOf("id=\"chart-" + name + "\"");
        assertTrue(start >= 0, "no container for chart " + name);
        int next = dom.indexOf("class=\"reviver-chart", start);
        int end = dom.indexOf("</section>", start);
        return dom.substring(start, next >= 0 && next < end ? next : end);
    }

    /**
     * Non-empty paths drawn in a series colour, except legend icons (which ECharts places with a translate
     * transform and draws even without data): bars, lines and line symbols.
     */
    private static int dataMarks(String chart) {
        int marks = 0;
        Matcher path = PATH.matcher(chart);
        while (path.find()) {
            String element = path.group();
            Matcher colour = COLOUR.matcher(element);
            boolean seriesColour = false;
            while (colour.find()) {
                seriesColour |= Chart.PALETTE.contains(colour.group(1).toLowerCase(Locale.ROOT));
            }
            if (seriesColour && !element.contains(" d=\"\"") && !element.contains("transform=\"translate(")) {
                marks++;
            }
        }
        return marks;
    }

    /** One mark per non-null bar value, one per line with points. */
    private static int expectedMarks(JsonNode option) {
        int marks = 0;
        for (JsonNode series : option.path("series")) {
            if (series.path("type").asText().equals("line")) {
                marks += series.path("data").isEmpty() ? 0 : 1;
            } else {
                for (JsonNode v : series.path("data")) {
                    marks += v.isNull() ? 0 : 1;
                }
            }
        }
        return marks;
    }

    private Path write(String name, String html) throws IOException {
        return Files.writeString(dir.resolve(name), html);
    }

    private String dumpDom(Path page) throws Exception {
        Path dom = dir.resolve(page.getFileName() + ".dom");
        chromium(dom, "--dump-dom", page.toUri().toString());
        return Files.readString(dom);
    }

    private void screenshot(Path page, String name, int width, int height) throws Exception {
        Path png = Files.createDirectories(SCREENSHOTS).resolve(name).toAbsolutePath();
        Files.deleteIfExists(png);
        chromium(dir.resolve(name + ".out"), "--hide-scrollbars", "--window-size=" + width + "," + height,
            "--screenshot=" + png, page.toUri().toString());
        try (InputStream in = Files.newInputStream(png)) {
            assertArrayEquals(PNG_SIGNATURE, in.readNBytes(PNG_SIGNATURE.length), png + " is not a PNG");
        }
    }

    /**
     * Runs headless Chromium once with a fresh profile, no network services and 5 s of virtual time (enough for
     * the page's script; the charts are not animated), standard output to {@code stdout}.
     */
    private void chromium(Path stdout, String... args) throws Exception {
        Path profile = Files.createTempDirectory(dir, "chromium-profile");
        Path stderr = dir.resolve(stdout.getFileName() + ".err");
        List<String> command = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
            "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
            "--virtual-time-budget=5000"));
        command.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
            .start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("chromium did not finish in " + TIMEOUT_SECONDS + " s: " + String.join(" ", command));
        }
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + String.join(" ", command) + "\n"
            + tail(stderr));
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }
}
