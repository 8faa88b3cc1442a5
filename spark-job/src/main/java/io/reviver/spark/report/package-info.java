/**
 * The human-readable side of the job's JSON report ({@code _reviver_report.json}, format {@code reviver-report/2}):
 * {@link io.reviver.spark.report.ReportPage} renders one run, or a comparison of several, as a single
 * self-contained HTML file with Apache ECharts inlined (no network needed to view it), and
 * {@link io.reviver.spark.report.ReportCommand} is {@code reviver report RUN_DIR... [--out FILE.html]}.
 *
 * <p>Spark-free: this package reads reports through Jackson and Hadoop's {@code FileSystem} only, so it runs in a
 * plain JVM on a laptop against local, HDFS or S3 output. Every field of a report may be absent or null; the page
 * shows "n/a" for it rather than failing.
 */
package io.reviver.spark.report;
