#!/usr/bin/env bash
# Renders job reports into one self-contained HTML page (charts included; opens offline):
#   deploy/report.sh RUN_DIR... [--out FILE.html]      (also: ./reviver report ...)
# RUN_DIR is a job output directory holding _reviver_report.json, or that file; local paths or Hadoop URIs
# (hdfs://, s3a://...). One run: the page goes to _reviver_report.html beside its report unless --out names a file;
# several runs: a comparison page, --out required. Builds the Spark job on first use (spark-common.sh) and runs
# io.reviver.spark.report.ReportCommand on its jar plus spark-job/target/lib (Jackson, Hadoop, ECharts): no Spark
# session is started.
set -euo pipefail
# shellcheck source=deploy/spark-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/spark-common.sh"
reviver_build
# No Spark driver flags (reviver_jvm_flags): the command touches neither Spark nor the Vector API.
# shellcheck disable=SC2086 # REVIVER_JAVA_OPTS is a list of JVM options
exec java -Dlog4j2.configurationFile="$REVIVER_HOME/conf/log4j2.properties" ${REVIVER_JAVA_OPTS:-} \
    -cp "$(reviver_app_jar):$REVIVER_HOME/spark-job/target/lib/*" io.reviver.spark.report.ReportCommand "$@"
