package io.reviver.spark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ReportPageTest {

    static final List<String> RUN_CHARTS = List.of("documents", "prefill-rate", "decode-rate", "time-split",
        "kv-bytes", "sequences", "progress", "machine-fraction");
    static final List<String> COMPARISON_CHARTS = List.of("documents-per-hour", "prefill-rate", "decode-rate",
        "kv-bytes-peak", "sequences-mean", "progress");

    /** A value that would end a script element and run code if any path put it into the page unescaped. */
    private static final String HOSTILE = "</script><img src=x onerror=alert(1)>\"'&";

    @Test
    void runPageIsSelfContainedWithOneContainerPerChart() {
        String html = ReportPage.render(List.of(SampleReports.load(SampleReports.RUN)));

        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<script>\n" + EChartsScript.source() + "\n</script>"), "ECharts inlined");
        assertFalse(Pattern.compile("<(script|link|img)[^>]+(src|href)=", Pattern.CASE_INSENSITIVE)
            .matcher(html.replace(EChartsScript.source(), "")).find(), "nothing loaded from elsewhere");
        JsonNode charts = SampleReports.charts(html);
        assertEquals(RUN_CHARTS, names(charts));
        for (String name : RUN_CHARTS) {
            assertTrue(html.contains(SampleReports.container(name)), name);
        }
        assertEquals(List.of("0", "1"), texts(charts.at("/documents/xAxis/data")));
        assertEquals(26.0, charts.at("/documents/series/0/data/0").doubleValue());
        assertEquals("total", charts.at("/time-split/series/3/stack").asText(), "time split is stacked");
        assertEquals(5.72, charts.at("/kv-bytes/series/0/data/0").doubleValue(), "6e6 bytes in MiB");
        assertEquals(21.0, charts.at("/machine-fraction/series/0/data/0").doubleValue(), "0.21 in percent");
        assertEquals(13, charts.at("/progress/series/0/data").size());
        assertTrue(html.contains("<td>kvreviver</td>") && html.contains("<td>1,553.9</td>")
            && html.contains("<td>empty document</td><td>1</td>"), "config, cluster and error tables");
        assertTrue(html.contains("<span class=\"badge done\">done</span>"));
    }

    @Test
    void comparisonPageHasOneSeriesPerRun() {
        String html = ReportPage.render(List.of(SampleReports.load(SampleReports.RUN),
            SampleReports.load(SampleReports.SECOND)));

        JsonNode charts = SampleReports.charts(html);
        assertEquals(COMPARISON_CHARTS, names(charts));
        for (String name : COMPARISON_CHARTS) {
            assertTrue(html.contains(SampleReports.container(name)), name);
            assertEquals(List.of("kvreviver @ 0.25 · 6f1c2a9e", "snapkv @ 0.5 · 93d04b71"),
                texts(charts.at("/" + name + "/series"), "name"), name);
        }
        assertEquals(1553.9, charts.at("/documents-per-hour/series/0/data/0").doubleValue());
        assertEquals(1350.0, charts.at("/documents-per-hour/series/1/data/0").doubleValue());
        assertTrue(html.contains("<td>running</td>"));
    }

    @Test
    void sameLabelTwiceGetsNumbered() {
        ObjectNode run = SampleReports.load(SampleReports.RUN);
        JsonNode charts = SampleReports.charts(ReportPage.render(List.of(run, run.deepCopy())));
        assertEquals(List.of("kvreviver @ 0.25 · 6f1c2a9e", "kvreviver @ 0.25 · 6f1c2a9e (2)"),
            texts(charts.at("/prefill-rate/series"), "name"));
    }

    @Test
    void reportStringsCannotBreakOutOfThePage() {
        ObjectNode run = SampleReports.load(SampleReports.RUN);
        run.put("job_id", HOSTILE).put("status", HOSTILE);
        ((ObjectNode) run.path("config")).put("press", HOSTILE);
        ((ObjectNode) run.path("executors").path(0)).put("executor_id", HOSTILE).put("host", HOSTILE);
        ((ObjectNode) run.path("errors")).put(HOSTILE, 2);
        ObjectNode second = SampleReports.load(SampleReports.SECOND);
        second.put("job_id", HOSTILE);

        for (String html : List.of(ReportPage.render(List.of(run)), ReportPage.render(List.of(run, second)))) {
            String ours = html.replace(EChartsScript.source(), "").toLowerCase(Locale.ROOT);
            assertEquals(3, count(ours, "<script"), "only the page's own scripts");
            assertEquals(3, count(ours, "</script"), "no script element ended early");
            assertEquals(0, count(ours, "<img"), "no element injected");
            assertTrue(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"),
                "escaped in headings and tables");
        }
        JsonNode runCharts = SampleReports.charts(ReportPage.render(List.of(run)));
        assertEquals(HOSTILE, runCharts.at("/documents/xAxis/data/0").asText(), "the JSON carries the id intact");
        JsonNode comparison = SampleReports.charts(ReportPage.render(List.of(run, second)));
        assertEquals(HOSTILE.substring(0, 8), comparison.at("/progress/series/1/name").asText().split(" · ")[1]);
    }

    @Test
    void missingFieldsShowNotAvailable() {
        ObjectNode bare = SampleReports.MAPPER.createObjectNode().put("format", ReportPage.FORMAT);
        String html = ReportPage.render(List.of(bare));

        JsonNode charts = SampleReports.charts(html);
        assertEquals(RUN_CHARTS, names(charts));
        for (String name : RUN_CHARTS) {
            assertTrue(html.contains(SampleReports.container(name)), name);
            assertEquals(Figures.MISSING, charts.at("/" + name + "/graphic/0/style/text").asText(), name);
        }
        assertTrue(html.contains("<h1>Reviver run n/a</h1>"));
        assertTrue(count(html, "<td class=\"missing\">n/a</td>") > 40, "every table cell n/a");

        ObjectNode partial = SampleReports.load(SampleReports.RUN);
        ObjectNode executor = (ObjectNode) partial.path("executors").path(1);
        executor.remove("host");
        executor.putNull("documents");
        executor.put("decode_tokens_per_second", "fast");
        executor.remove("achieved");
        partial.remove("progress");
        ((ObjectNode) partial.path("cluster")).putNull("wall_seconds");
        ((ObjectNode) partial.path("cluster")).remove("time_split_seconds");
        html = ReportPage.render(List.of(partial));
        charts = SampleReports.charts(html);
        assertTrue(charts.at("/documents/series/0/data/1").isNull());
        assertTrue(charts.at("/decode-rate/series/0/data/1").isNull(), "a string is not a number");
        assertTrue(charts.at("/machine-fraction/series/1/data/1").isNull());
        assertTrue(charts.at("/documents/graphic").isMissingNode(), "a chart with some data draws it");
        assertEquals(Figures.MISSING, charts.at("/progress/graphic/0/style/text").asText());
        assertTrue(html.contains("<tr><td>wall seconds</td><td class=\"missing\">n/a</td></tr>"));
        assertTrue(html.contains("<tr><td>load seconds</td><td class=\"missing\">n/a</td></tr>"));
        assertTrue(html.contains("<tr><td>1</td><td class=\"missing\">n/a</td><td class=\"missing\">n/a</td>"),
            "executor 1: host and documents");
    }

    @Test
    void noReportIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> ReportPage.render(List.of()));
    }

    private static List<String> names(JsonNode charts) {
        List<String> names = new ArrayList<>();
        charts.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<String> texts(JsonNode array, String... field) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add((field.length == 0 ? n : n.path(field[0])).asText()));
        return out;
    }

    private static int count(String text, String what) {
        Matcher m = Pattern.compile(Pattern.quote(what)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
