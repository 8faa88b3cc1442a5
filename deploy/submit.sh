#!/usr/bin/env bash
# Submits the summarisation job: deploy/submit.sh [spark-submit options --] [job flags]
#   e.g. deploy/submit.sh --master spark://host:7077 -- --model s3a://b/m.gguf --input s3a://b/in --output s3a://b/out
# Everything before "--" goes to spark-submit, everything after it to the job (without "--", all arguments are job
# flags and the master defaults to local[*]). Run with "-- --help" for the job's flags.
# With SPARK_HOME set (a Spark 4.0 distribution), its bin/spark-submit is used and the job's jars that the
# distribution lacks (Reviver, hadoop-aws, AWS SDK) are passed with --jars. Otherwise the Maven-built launcher runs
# org.apache.spark.deploy.SparkSubmit from the build's classpath. conf/spark-defaults.conf is the properties file
# unless REVIVER_SPARK_PROPERTIES names another.
set -euo pipefail
# shellcheck source=deploy/spark-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/spark-common.sh"
spark_args=()
job_args=()
if [[ " $* " == *" -- "* ]]; then
    while [[ $# -gt 0 && "$1" != "--" ]]; do spark_args+=("$1"); shift; done
    shift
fi
job_args=("$@")
reviver_build
app="$(reviver_app_jar)"
props="${REVIVER_SPARK_PROPERTIES:-$REVIVER_HOME/conf/spark-defaults.conf}"
log4j="$REVIVER_HOME/conf/log4j2.properties"
flags="$(reviver_jvm_flags)"
class=io.reviver.spark.SummarizeJob

if [[ -n "${SPARK_HOME:-}" && -x "${SPARK_HOME}/bin/spark-submit" ]]; then
    jars=()
    for j in "$REVIVER_HOME"/spark-job/target/lib/*.jar; do
        [[ -e "$SPARK_HOME/jars/$(basename "$j")" ]] || jars+=("$j")
    done
    exec "$SPARK_HOME/bin/spark-submit" --properties-file "$props" --class "$class" \
        --jars "$(IFS=,; echo "${jars[*]}")" \
        --conf "spark.driver.extraJavaOptions=$flags -Dlog4j2.configurationFile=$log4j" \
        "${spark_args[@]}" "$app" "${job_args[@]}"
fi

spark_home="$(reviver_spark_home)"
export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13
# shellcheck disable=SC2086 # the flags are a list of JVM options
exec java $flags -Dlog4j2.configurationFile="$log4j" ${REVIVER_JAVA_OPTS:-} -cp "$spark_home/jars/*" \
    org.apache.spark.deploy.SparkSubmit --properties-file "$props" --class "$class" \
    --conf "spark.executor.extraJavaOptions=$flags -Dlog4j2.configurationFile=$log4j" \
    "${spark_args[@]}" "$app" "${job_args[@]}"
