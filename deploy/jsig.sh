#!/usr/bin/env bash
# Sourced (not run) by the reviver launcher and deploy/spark-common.sh: preloads the JVM's signal-chaining library into
# every JVM started from the sourcing shell.
#
# OpenCL (PoCL) loads LLVM, which installs its own SIGSEGV/SIGBUS/SIGILL handlers over the JVM's; the JVM uses those
# signals internally, and -Xcheck:jni reports "SIGSEGV handler modified!" once an OpenCL kernel has compiled. HotSpot's
# documented remedy is its signal-chaining library preloaded into the process: the JVM's handlers stay in place and
# the library's are chained behind them (with it, -Xcheck:jni no longer reports the modification). Exported, so the
# JVMs started from here and their children (a standalone cluster's executors) inherit it.
reviver_java_bin="$(readlink -f "$(command -v java)" 2>/dev/null || true)"
reviver_jsig_lib="$(dirname "$(dirname "${reviver_java_bin:-/}")")/lib/libjsig.so"
if [[ -n "$reviver_java_bin" && -f "$reviver_jsig_lib" && "${LD_PRELOAD:-}" != *libjsig.so* ]]; then
    export LD_PRELOAD="$reviver_jsig_lib${LD_PRELOAD:+:$LD_PRELOAD}"
fi
unset reviver_java_bin reviver_jsig_lib
