package io.reviver.spark.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * ECharts option objects for the page's two chart shapes, built in Java so the page's script only has to hand each
 * one to {@code echarts.init(...).setOption(...)}: bars over categories (grouped, or stacked) and lines over a
 * numeric x axis. A missing value is a JSON null, which ECharts leaves undrawn; a chart with no value at all shows
 * a centred "n/a" instead of an empty grid. Animation is off: the page is a static document (and a headless
 * browser's snapshot then shows the final state).
 */
final class Chart {

    /** Series colours, in series order (colour-blind-safe Tableau 10 order). */
    static final List<String> PALETTE = List.of("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
        "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac");

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** Lines with more points than this are drawn without point symbols. */
    private static final int MAX_SYMBOL_POINTS = 40;

    private Chart() {
    }

    /**
     * One bar series.
     *
     * @param name   legend name
     * @param values one per category, null where missing
     */
    record Bars(String name, List<Double> values) {
    }

    /**
     * One line series.
     *
     * @param name   legend name
     * @param points (x, y) pairs in drawing order, none missing
     */
    record Line(String name, List<double[]> points) {
    }

    /**
     * Bars over {@code categories}.
     *
     * @param stacked one stack per category (parts of a whole) instead of side-by-side bars
     */
    static ObjectNode bars(String title, String xName, List<String> categories, String yName, List<Bars> series,
                           boolean stacked) {
        ObjectNode option = base(title);
        ObjectNode x = option.putObject("xAxis").put("type", "category").put("name", xName)
            .put("nameLocation", "middle").put("nameGap", 28);
        categories.forEach(x.putArray("data")::add);
        valueAxis(option, yName);
        ArrayNode out = option.putArray("series");
        boolean any = false;
        for (Bars s : series) {
            ObjectNode o = out.addObject().put("type", "bar").put("name", s.name());
            if (stacked) {
                o.put("stack", "total");
            }
            ArrayNode data = o.putArray("data");
            for (Double v : s.values()) {
                if (v == null) {
                    data.addNull();
                } else {
                    data.add(v);
                    any = true;
                }
            }
        }
        option.putObject("tooltip").put("trigger", "axis").putObject("axisPointer").put("type", "shadow");
        return any ? option : missing(option);
    }

    /** Lines over a numeric x axis. */
    static ObjectNode lines(String title, String xName, String yName, List<Line> series) {
        ObjectNode option = base(title);
        option.putObject("tooltip").put("trigger", "axis");
        option.putObject("xAxis").put("type", "value").put("name", xName).put("nameLocation", "middle")
            .put("nameGap", 28);
        valueAxis(option, yName);
        ArrayNode out = option.putArray("series");
        boolean any = false;
        for (Line s : series) {
            ObjectNode o = out.addObject().put("type", "line").put("name", s.name())
                .put("showSymbol", s.points().size() <= MAX_SYMBOL_POINTS);
            ArrayNode data = o.putArray("data");
            for (double[] p : s.points()) {
                data.addArray().add(p[0]).add(p[1]);
                any = true;
            }
        }
        return any ? option : missing(option);
    }

    /** Title, palette, legend and grid shared by both shapes. */
    private static ObjectNode base(String title) {
        ObjectNode option = JSON.objectNode().put("animation", false);
        PALETTE.forEach(option.putArray("color")::add);
        option.putObject("title").put("text", title).put("left", "center").putObject("textStyle")
            .put("fontSize", 14);
        option.putObject("legend").put("type", "scroll").put("top", 26);
        option.putObject("grid").put("left", 16).put("right", 24).put("top", 72).put("bottom", 40)
            .put("containLabel", true);
        return option;
    }

    /** The y axis, its name written rightwards from the axis so that a long name stays inside the chart. */
    private static void valueAxis(ObjectNode option, String name) {
        option.putObject("yAxis").put("type", "value").put("name", name).putObject("nameTextStyle")
            .put("align", "left");
    }

    /** Marks a chart with no data: a centred "n/a" over the empty grid. */
    private static ObjectNode missing(ObjectNode option) {
        option.putArray("graphic").addObject().put("type", "text").put("left", "center").put("top", "middle")
            .putObject("style").put("text", Figures.MISSING).put("fontSize", 16).put("fill", "#888");
        return option;
    }
}
