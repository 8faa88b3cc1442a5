#!/usr/bin/env bash
# The README's quick run: summarises the bundled sample corpus with the bundled model in local mode and writes
# runs/<UTC timestamp>/summaries (JSON Lines), its report and the job log. Builds what it needs on first use.
# Settings: conf/reviver-job.properties, then the defaults below (absolute paths, a small run), then your flags.
#   deploy/summarize.sh [job flags]      e.g. --limit 0 (all 52 documents) --max-new-tokens 32 --output-format parquet
# Later flags override the defaults below; REVIVER_MASTER overrides the master (default local[2]).
set -euo pipefail
# shellcheck source=deploy/spark-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/spark-common.sh"
if [[ " $* " == *" --help "* ]]; then
    exec "$REVIVER_HOME/deploy/submit.sh" --master local[1] -- --help
fi
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}" # local mode: no need to resolve the host name
run="$REVIVER_HOME/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run"
set +e
"$REVIVER_HOME/deploy/submit.sh" --master "${REVIVER_MASTER:-local[2]}" --conf spark.ui.showConsoleProgress=false -- \
    --config "$REVIVER_HOME/conf/reviver-job.properties" \
    --model "$REVIVER_HOME/models/reviver-tiny/reviver-tiny-q8_0.gguf" \
    --input "$REVIVER_HOME/data/sample-corpus/sample.jsonl" \
    --output "$run/summaries" --output-format jsonl \
    --model-cache-dir "$run/model-cache" \
    --max-new-tokens 48 --limit 12 --progress-seconds 5 \
    "$@" 2> >(tee "$run/job.log" >&2)
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
    echo "summarize: failed (exit $rc); log: $run/job.log" >&2
    exit $rc
fi
echo "summaries: $run/summaries (JSON Lines part files)"
echo "report:    $run/summaries/_reviver_report.json (page: _reviver_report.html)"
echo "log:       $run/job.log"
