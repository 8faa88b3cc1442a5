package io.reviver.spark.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Null-tolerant reads of report fields and their display formats. A report may lack any field or hold null (a run
 * still in progress, an older writer), so reads return null for "not there or not of the expected kind" and every
 * formatter turns null into {@value #MISSING}.
 */
final class Figures {

    /** What the page shows for a missing field. */
    static final String MISSING = "n/a";

    private static final double MIB = 1024.0 * 1024.0;

    private Figures() {
    }

    /** The node at {@code path} below {@code node}; a missing node (never null) when any step is absent. */
    private static JsonNode at(JsonNode node, String... path) {
        JsonNode n = node;
        for (String key : path) {
            n = n.path(key);
        }
        return n;
    }

    /** The number at {@code path}, or null when absent, null or not a number. */
    static Double number(JsonNode node, String... path) {
        JsonNode n = at(node, path);
        return n.isNumber() ? n.doubleValue() : null;
    }

    /** The scalar at {@code path} as text (numbers and booleans too), or null when absent, null or a container. */
    static String text(JsonNode node, String... path) {
        JsonNode n = at(node, path);
        return n.isValueNode() && !n.isNull() ? n.asText() : null;
    }

    /** Text as is, or {@value #MISSING}. */
    static String orMissing(String text) {
        return text == null ? MISSING : text;
    }

    /** A count with thousands separators ("95,000"); a non-integral value keeps one decimal. */
    static String count(Double v) {
        if (v == null) {
            return MISSING;
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15
            ? String.format(Locale.ROOT, "%,d", v.longValue())
            : String.format(Locale.ROOT, "%,.1f", v);
    }

    /** A rate or duration with one decimal ("900.1"). */
    static String decimal(Double v) {
        return v == null ? MISSING : String.format(Locale.ROOT, "%,.1f", v);
    }

    /** A byte count in MiB with one decimal ("11.4 MiB"). */
    static String mebibytes(Double bytes) {
        return bytes == null ? MISSING : String.format(Locale.ROOT, "%,.1f MiB", bytes / MIB);
    }

    /** A fraction (0.21) as a percentage ("21.0%"). */
    static String percent(Double fraction) {
        return fraction == null ? MISSING : String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }

    /** {@code part / whole} as a percentage, or {@value #MISSING} when either is missing or the whole is zero. */
    static String share(Double part, Double whole) {
        return part == null || whole == null || whole == 0 ? MISSING : percent(part / whole);
    }

    /** Bytes in MiB for a chart axis (two decimals), or null. */
    static Double toMebibytes(Double bytes) {
        return bytes == null ? null : round(bytes / MIB, 2);
    }

    /** A fraction as a percentage for a chart axis (one decimal), or null. */
    static Double toPercent(Double fraction) {
        return fraction == null ? null : round(fraction * 100, 1);
    }

    private static double round(double v, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(v * scale) / scale;
    }
}
