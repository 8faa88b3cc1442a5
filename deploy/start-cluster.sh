#!/usr/bin/env bash
# Starts a local Spark standalone cluster from the Maven build: one Master and N Workers (default 2), each its own
# JVM, in the background. Prints the master URL; submit with
#   deploy/submit.sh --master spark://127.0.0.1:7077 -- <job flags>
# and stop with deploy/stop-cluster.sh. Settings (environment):
#   REVIVER_CLUSTER_DIR    logs, pid files and worker directories (default runs/cluster)
#   REVIVER_MASTER_PORT    master port (default 7077); web UI on 8080, workers' UIs from 8081
#   REVIVER_WORKER_CORES   cores per worker (default 1)
#   REVIVER_WORKER_MEMORY  executor memory per worker (default 1g)
set -euo pipefail
# shellcheck source=deploy/spark-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/spark-common.sh"
workers="${1:-2}"
dir="${REVIVER_CLUSTER_DIR:-$REVIVER_HOME/runs/cluster}"
port="${REVIVER_MASTER_PORT:-7077}"
cores="${REVIVER_WORKER_CORES:-1}"
memory="${REVIVER_WORKER_MEMORY:-1g}"
mkdir -p "$dir"
if compgen -G "$dir/*.pid" >/dev/null; then
    echo "start-cluster: $dir already has pid files; run deploy/stop-cluster.sh first" >&2
    exit 1
fi
reviver_build
spark_home="$(reviver_spark_home)"
export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
flags="$(reviver_jvm_flags)"
log4j="$REVIVER_HOME/conf/log4j2.properties"

launch() { # name, main class, args...
    local name="$1"; shift
    # shellcheck disable=SC2086
    nohup java $flags -Xmx512m -Dlog4j2.configurationFile="$log4j" -cp "$spark_home/jars/*" "$@" \
        >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
}
await() { # name, text
    for _ in $(seq 1 600); do
        grep -q "$2" "$dir/$1.log" 2>/dev/null && return 0
        kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null || break
        sleep 0.2
    done
    echo "start-cluster: $1 did not start; see $dir/$1.log" >&2
    tail -n 20 "$dir/$1.log" >&2 || true
    return 1
}

master="spark://127.0.0.1:$port"
launch master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 8080
await master "I have been elected leader"
for i in $(seq 1 "$workers"); do
    mkdir -p "$dir/work-$i"
    launch "worker-$i" org.apache.spark.deploy.worker.Worker "$master" --host 127.0.0.1 --cores "$cores" \
        --memory "$memory" --webui-port $((8080 + i)) --work-dir "$dir/work-$i"
    await "worker-$i" "Successfully registered with master"
done
echo "$master"
echo "start-cluster: master and $workers workers up (logs in $dir; UI http://127.0.0.1:8080)" >&2
