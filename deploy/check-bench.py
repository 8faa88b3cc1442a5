#!/usr/bin/env python3
"""Checks the shape of `reviver bench` output (never its timings): both JSON files parse, and bench.json holds
every section the engine page and the Spark report read, each with its ratio fields. Usage: check-bench.py DIR"""
import json
import os
import sys


def fail(msg):
    sys.exit("check-bench: " + msg)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")


def need(obj, keys, where):
    for k in keys:
        if k not in obj:
            fail(f"{where}: missing '{k}'")
        v = obj[k]
        if isinstance(v, (int, float)) and not (v == v and abs(v) != float("inf")):
            fail(f"{where}.{k}: not a finite number ({v})")


def main():
    if len(sys.argv) != 2:
        fail("usage: check-bench.py DIR")
    out = sys.argv[1]
    bench = load(os.path.join(out, "bench.json"))
    load(os.path.join(out, "attention-bench.json"))
    need(bench, ["engine", "end_to_end"], "bench.json")
    e = bench["engine"]
    need(e, ["memory_peak_gbs", "fma_peak_gflops", "decode_b1", "matvec_kernel", "prefill", "batched_decode",
             "sequences_per_gib", "decode_step_vs_full_b1"], "engine")
    need(e["decode_b1"], ["tokens_per_s", "weight_gbs", "fraction_of_memory_peak"], "engine.decode_b1")
    need(e["matvec_kernel"], ["one_thread_in_cache_gbs", "one_thread_output_matrix_gbs",
                              "threads_times_in_cache_gbs", "fraction_of_memory_peak"], "engine.matvec_kernel")
    need(e["prefill"], ["gflops", "fraction_of_fma_peak"], "engine.prefill")
    if not e["batched_decode"]:
        fail("engine.batched_decode: empty")
    for row in e["batched_decode"]:
        need(row, ["batch", "tokens_per_s", "over_b1"], "engine.batched_decode[]")
    n = e.get("native_int8")
    if n is None:
        fail("engine: missing 'native_int8'")
    need(n, ["available", "status"], "engine.native_int8")
    if n["available"]:
        need(n, ["isa", "memory_peak_gbs", "decode_b1", "batched_decode", "prefill"], "engine.native_int8")
        need(n["decode_b1"], ["tokens_per_s", "weight_gbs", "fraction_of_memory_peak",
                              "fraction_of_adjacent_peak_median", "rounds"], "engine.native_int8.decode_b1")
        for row in n["decode_b1"]["rounds"]:
            need(row, ["tokens_per_s", "probe_before_gbs", "probe_after_gbs", "fraction_of_adjacent_peak"],
                 "engine.native_int8.decode_b1.rounds[]")
        for row in n["batched_decode"]:
            need(row, ["batch", "tokens_per_s", "over_b1"], "engine.native_int8.batched_decode[]")
        need(n, ["b8_over_b1_pairs", "b8_over_b1_paired_median"], "engine.native_int8")
        if not n["b8_over_b1_pairs"]:
            fail("engine.native_int8.b8_over_b1_pairs: empty")
        for row in n["b8_over_b1_pairs"]:
            need(row, ["b1_tokens_per_s", "b8_tokens_per_s", "b8_over_b1"], "engine.native_int8.b8_over_b1_pairs[]")
        need(n["prefill"], ["seconds", "speedup_over_java"], "engine.native_int8.prefill")
        if "decode_attention" in n:  # absent where the native attention kernel does not run (no AVX-512F)
            need(n["decode_attention"], ["batch", "positions", "vector_ms_median", "native_ms_median",
                                         "native_kv_gbs", "native_fraction_of_memory_peak"],
                 "engine.native_int8.decode_attention")
    runs = bench["end_to_end"].get("runs")
    if not runs:
        fail("end_to_end.runs: missing or empty")
    for row in runs:
        need(row, ["press", "budget", "documents_per_hour"], "end_to_end.runs[]")
    print(f"check-bench: {out} holds every section ({len(e['batched_decode'])} batch sizes, {len(runs)} "
          f"end-to-end configurations)")


main()
