package io.reviver.spark.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * Renders job reports (format {@value #FORMAT}, as parsed JSON) into one self-contained HTML page: a run page for
 * one report, a comparison page for several.
 *
 * <p>Self-contained: Apache ECharts is inlined in a {@code <script>} element and the chart data travels inside the
 * page, so the file opens offline, from disk, a bucket or a mail attachment alike. Charts use ECharts' SVG renderer,
 * so they are part of the DOM.
 *
 * <p>Page contract (what scripts and tests may rely on): every chart is a {@code <div class="reviver-chart"
 * id="chart-NAME" data-chart="NAME">}, NAME a fixed lower-case identifier per chart kind (run page: documents,
 * prefill-rate, decode-rate, time-split, kv-bytes, sequences, progress, machine-fraction; comparison page:
 * documents-per-hour, prefill-rate, decode-rate, kv-bytes-peak, sequences-mean, progress). The chart options are
 * the JSON in {@code <script type="application/json" id="reviver-charts">}, keyed by NAME. Once the page's script
 * has drawn them, the root element carries {@code data-charts-rendered="N"} (charts drawn without error).
 *
 * <p>Escaping: report strings reach the page either HTML-escaped (headings, tables) or inside that JSON with
 * {@code <}, {@code >} and {@code &} written as JSON unicode escapes, read back with {@code JSON.parse}, so no
 * value (a document id holding {@code </script>}, quotes) can end an element or run as code. Absent or null fields
 * show as "n/a"; a chart without any value shows "n/a" over an empty grid.
 */
public final class ReportPage {

    /** The report format this page reads: the {@code format} field of {@code _reviver_report.json}. */
    public static final String FORMAT = "reviver-report/2";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Draws each chart container from the embedded options; a chart that throws shows its error instead. */
    private static final String DRAW_CHARTS = """
        (function () {
          'use strict';
          var options = JSON.parse(document.getElementById('reviver-charts').textContent);
          var drawn = [];
          document.querySelectorAll('.reviver-chart').forEach(function (el) {
            try {
              var chart = echarts.init(el, null, {renderer: 'svg'});
              chart.setOption(options[el.getAttribute('data-chart')]);
              drawn.push(chart);
            } catch (e) {
              el.classList.add('failed');
              el.textContent = 'chart failed: ' + e;
            }
          });
          window.addEventListener('resize', function () {
            drawn.forEach(function (chart) { chart.resize(); });
          });
          document.documentElement.setAttribute('data-charts-rendered', String(drawn.length));
        })();
        """;

    private static final String STYLE = """
        body { font: 14px/1.4 system-ui, sans-serif; color: #222; margin: 0; background: #f6f7f9; }
        main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 48px; }
        h1 { font-size: 22px; margin: 8px 0; word-break: break-all; }
        .status { margin: 4px 0 16px; color: #555; }
        .badge { padding: 1px 8px; border-radius: 8px; color: #fff; background: #888; }
        .badge.done { background: #59a14f; }
        .badge.running { background: #f28e2b; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px;
                  margin: 16px 0; }
        .reviver-chart { height: 340px; background: #fff; border: 1px solid #dde; border-radius: 6px; }
        .reviver-chart.failed { color: #b00; padding: 16px; }
        .tables { overflow-x: auto; }
        table { border-collapse: collapse; margin: 16px 0; background: #fff; }
        caption { text-align: left; font-weight: 600; padding: 4px 0; }
        th, td { border: 1px solid #dde; padding: 3px 8px; text-align: left; white-space: nowrap; }
        th { background: #eef0f4; }
        td.missing { color: #999; }
        td.long { white-space: normal; overflow-wrap: anywhere; min-width: 16em; max-width: 32em; }
        """;

    private ReportPage() {
    }

    /**
     * The HTML page for {@code reports}: a run page for one, a comparison page (one series per run) for several.
     * Reports are not validated beyond being JSON: unknown fields are ignored and missing ones shown as "n/a"
     * (check {@code format} before calling, as {@link ReportCommand} does).
     *
     * @param reports parsed {@code _reviver_report.json} documents, in the order to show them
     * @return a complete UTF-8 HTML document (about 1 MB, most of it the inlined library)
     * @throws IllegalArgumentException when {@code reports} is empty
     * @throws IllegalStateException    when the ECharts WebJar is not on the classpath
     */
    public static String render(List<JsonNode> reports) {
        if (reports.isEmpty()) {
            throw new IllegalArgumentException("no report to render");
        }
        Page page = reports.size() == 1 ? RunPage.of(reports.get(0)) : ComparisonPage.of(reports);
        return document(page);
    }

    private static String document(Page page) {
        StringBuilder b = new StringBuilder(1 << 20);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .append("<title>").append(Html.escape(page.title())).append("</title>\n")
            .append("<style>\n").append(STYLE).append("</style>\n")
            .append("<script>\n").append(EChartsScript.source()).append("\n</script>\n")
            .append("</head>\n<body>\n<main>\n")
            .append(page.summary())
            .append("<section class=\"charts\">\n");
        ObjectNode options = MAPPER.createObjectNode();
        for (Map.Entry<String, ObjectNode> chart : page.charts().entrySet()) {
            String name = chart.getKey();
            b.append("<div class=\"reviver-chart\" id=\"chart-").append(name).append("\" data-chart=\"").append(name)
                .append("\"></div>\n");
            options.set(name, chart.getValue());
        }
        b.append("</section>\n<section class=\"tables\">\n").append(page.details()).append("</section>\n</main>\n")
            .append("<script type=\"application/json\" id=\"reviver-charts\">").append(scriptSafeJson(options))
            .append("</script>\n")
            .append("<script>\n").append(DRAW_CHARTS).append("</script>\n</body>\n</html>\n");
        return b.toString();
    }

    /**
     * {@code json} serialised so that it cannot end its {@code <script>} element: {@code <}, {@code >} and {@code &} occur in JSON
     * text only inside strings, where their unicode escapes mean the same to {@code JSON.parse}.
     */
    private static String scriptSafeJson(JsonNode json) {
        try {
            return MAPPER.writeValueAsString(json).replace("<", "\\u003c").replace(">", "\\u003e")
                .replace("&", "\\u0026");
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
