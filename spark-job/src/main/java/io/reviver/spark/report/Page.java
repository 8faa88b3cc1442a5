package io.reviver.spark.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * A page's content before {@link ReportPage} wraps it into the HTML document.
 *
 * @param title   plain text for the window title and the heading
 * @param summary HTML (already escaped) shown above the charts
 * @param charts  ECharts option per chart name, in page order; names are fixed identifiers (lower-case, '-')
 * @param details HTML (already escaped) shown below the charts
 */
record Page(String title, String summary, Map<String, ObjectNode> charts, String details) {
}
