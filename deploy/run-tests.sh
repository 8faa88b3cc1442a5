#!/usr/bin/env bash
# Runs every test of the project (unit, equivalence, golden end-to-end, torch reference).
# Installs what the tests need first, idempotently: Debian's python3-torch (independent reference),
# python3-numpy, python3-regex, and the PoCL OpenCL runtime; Node.js packages for the tokenizer check
# are fetched by the test setup itself (see model-store/src/test/node).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/deploy/install-prereqs.sh"
cd "$here"
exec mvn -B -ntp verify "$@"
