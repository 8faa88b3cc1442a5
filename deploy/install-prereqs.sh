#!/usr/bin/env bash
# Installs the Debian packages the tests and the training pipeline use, only when missing.
set -euo pipefail
need=()
# libopenblas0-pthread: without it torch falls back to reference BLAS (measured 6 vs 192 GFLOP/s here).
# chromium: the HTML report's browser test (ReportPageBrowserTest) runs /usr/bin/chromium headless.
# gcc, libc6-dev: the kernel module builds its native int8 kernels (kernel/src/main/c) into the jar where gcc exists;
# its tests then require them to load.
for pkg in gcc libc6-dev python3-torch python3-numpy python3-regex libopenblas0-pthread pocl-opencl-icd clinfo nodejs npm ocl-icd-libopencl1 chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# nodejs/npm may come from outside Debian (e.g. preinstalled): accept any working binaries.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${need[@]:-}"; do [[ "$p" == nodejs || "$p" == npm || -z "$p" ]] || tmp+=("$p"); done
  need=("${tmp[@]:-}")
fi
if [[ ${#need[@]} -gt 0 && -n "${need[0]}" ]]; then
  echo "installing: ${need[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi
/usr/bin/python3 -c "import torch, numpy, regex" 
