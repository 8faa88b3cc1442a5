#!/usr/bin/env bash
# Stops the cluster deploy/start-cluster.sh started: the processes named by its pid files, workers first.
set -euo pipefail
# shellcheck source=deploy/spark-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/spark-common.sh"
dir="${REVIVER_CLUSTER_DIR:-$REVIVER_HOME/runs/cluster}"
shopt -s nullglob
pids=("$dir"/worker-*.pid "$dir"/master.pid)
if [[ ${#pids[@]} -eq 0 ]]; then
    echo "stop-cluster: no pid files in $dir" >&2
    exit 0
fi
for f in "${pids[@]}"; do
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "stopped $(basename "$f" .pid) ($pid)" >&2
    fi
    rm -f "$f"
done
