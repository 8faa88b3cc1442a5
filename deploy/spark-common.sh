#!/usr/bin/env bash
# Shared by deploy/submit.sh, start-cluster.sh and summarize.sh (sourced, not run): builds the Spark job when needed
# and lays out a Spark home from the Maven build, so no Spark distribution is required.
#   REVIVER_HOME           the repository root
#   reviver_build          builds spark-job (and model-store, kernel) when a source or POM is newer than its jar
#   reviver_app_jar        path of reviver-spark-job-*.jar
#   reviver_spark_home     spark-job/target/spark-home: jars/ = the job jar and every runtime dependency (Spark included)
#   reviver_jvm_flags      the driver JVM flags from conf/spark-defaults.conf (Java 17 --add-opens, Vector API)
# Sourcing it also preloads the JVM's signal-chaining library (deploy/jsig.sh) into every JVM started from here on.
REVIVER_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

reviver_app_jar() {
    local j
    for j in "$REVIVER_HOME"/spark-job/target/reviver-spark-job-*.jar; do
        [[ -f "$j" && "$j" != *-sources.jar && "$j" != *-tests.jar ]] && { echo "$j"; return 0; }
    done
    return 0
}

reviver_build() {
    local jar
    jar="$(reviver_app_jar)"
    if [[ -z "$jar" || ! -d "$REVIVER_HOME/spark-job/target/lib" ]] || [[ -n "$(find "$REVIVER_HOME/pom.xml" \
        "$REVIVER_HOME"/{model-store,kernel,spark-job}/pom.xml "$REVIVER_HOME"/{model-store,kernel,spark-job}/src/main \
        -newer "$jar" -print -quit 2>/dev/null)" ]]; then
        echo "reviver: building the Spark job (first run or sources changed; the first build downloads Spark)..." >&2
        (cd "$REVIVER_HOME" && nice mvn -q -B -ntp -DskipTests package -pl spark-job -am) >&2
    fi
    if [[ -z "$(reviver_app_jar)" ]]; then
        echo "reviver: the build did not produce spark-job/target/reviver-spark-job-*.jar" >&2
        return 1
    fi
}

reviver_spark_home() {
    local home="$REVIVER_HOME/spark-job/target/spark-home"
    rm -rf "$home/jars"
    mkdir -p "$home/jars"
    ln -s "$REVIVER_HOME"/spark-job/target/lib/*.jar "$home/jars/"
    ln -s "$(reviver_app_jar)" "$home/jars/"
    echo "$home"
}

reviver_jvm_flags() {
    sed -n 's/^spark\.driver\.extraJavaOptions[[:space:]]\{1,\}//p' "$REVIVER_HOME/conf/spark-defaults.conf"
}

# shellcheck source=deploy/jsig.sh
source "$REVIVER_HOME/deploy/jsig.sh"
