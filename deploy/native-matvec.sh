#!/usr/bin/env bash
# Native reference for the decode kernel (not part of the product or of CI): builds deploy/native/q8_matvec.c with
# gcc (AVX2, FMA, OpenMP) and measures a Q8_0 mat-vec as the Java engine computes it, the llama.cpp-style int8
# form, and a plain read of the same bytes, on one thread from cache and from memory and on two threads from
# memory. Writes one JSON array (default runs/native-matvec.json) and prints it.
# usage: deploy/native-matvec.sh [OUT.json]
set -euo pipefail
home="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$home/runs/native-matvec.json}"
command -v gcc >/dev/null || { echo "native-matvec: gcc is required" >&2; exit 1; }
grep -qw avx2 /proc/cpuinfo || { echo "native-matvec: this CPU has no AVX2" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gcc -O2 -mavx2 -mfma -fopenmp -Wall -Werror -o "$work/q8_matvec" "$home/deploy/native/q8_matvec.c"
mkdir -p "$(dirname "$out")"
{
    # rows threads passes: 278 KB (cache-resident), then 268 MB (about the 1B model's output matrix)
    "$work/q8_matvec" 128 1 400
    "$work/q8_matvec" 131072 1 8
    "$work/q8_matvec" 131072 2 8
} | python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in sys.stdin], indent=1))' > "$out"
cat "$out"
