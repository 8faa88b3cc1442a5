package io.reviver.spark.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The sample reports under src/test/resources/report and the pieces of a rendered page the tests look at. */
final class SampleReports {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** A finished run: kvreviver at 0.25, two executors, every field present. */
    static final String RUN = "report/sample-report.json";

    /** A second, still running run: snapkv at 0.5, two executors, for comparison pages. */
    static final String SECOND = "report/second-report.json";

    private static final String CHARTS_OPEN = "<script type=\"application/json\" id=\"reviver-charts\">";

    private SampleReports() {
    }

    /** A fresh, mutable copy of a sample report. */
    static ObjectNode load(String resource) {
        try (InputStream in = SampleReports.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the test classpath");
            }
            return (ObjectNode) MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The chart options embedded in a rendered page, keyed by chart name, as the page's script parses them. */
    static JsonNode charts(String html) {
        int start = html.indexOf(CHARTS_OPEN);
        if (start < 0) {
            throw new AssertionError("no reviver-charts JSON in the page");
        }
        start += CHARTS_OPEN.length();
        try {
            return MAPPER.readTree(html.substring(start, html.indexOf("</script>", start)));
        } catch (IOException e) {
            throw new AssertionError("the embedded chart JSON does not parse", e);
        }
    }

    /** The chart container the page must hold for chart {@code name}. */
    static String container(String name) {
        return "<div class=\"reviver-chart\" id=\"chart-" + name + "\" data-chart=\"" + name + "\"></div>";
    }
}
