#!/usr/bin/env bash
# Runs every test of the project (unit, equivalence, golden end-to-end, torch reference, OpenCL on PoCL, Spark with
# real S3/HDFS/cluster), then the engine benchmark on its small setting (a smoke run: figures are written to
# target/ci-bench, never asserted as timings; deploy/check-bench.py checks that both JSON files parse and hold every
# section).
# Installs what the tests need first, idempotently: gcc (the native int8 kernels), Debian's python3-torch (independent reference),
# python3-numpy, python3-regex, OpenBLAS and the PoCL OpenCL runtime; Node.js packages for the tokenizer check
# are fetched by the test setup itself (see model-store/src/test/node).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/deploy/install-prereqs.sh"
cd "$here"
mvn -B -ntp verify "$@"
./reviver bench --quick --prefill 256 --seconds 0.3 --documents 2 --repeats 1 --out target/ci-bench
python3 deploy/check-bench.py target/ci-bench # the JSON's shape, never its timings
