"""Writes a GGUF fixture for the Java reader tests: one tensor of each supported type with seeded random values,
metadata of every GGUF value type (incl. arrays and a nested array), and for each tensor the expected float32
values decoded independently in numpy (<out>/<tensor name>.f32, little-endian).

usage: make_gguf_fixtures.py OUT_DIR [--version 3] [--seed 7]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer as g  # noqa: E402
import gguf_kquants as k  # noqa: E402


def decode(raw, t):
    if t == g.F32:
        return np.frombuffer(raw, dtype="<f4")
    if t == g.F16:
        return np.frombuffer(raw, dtype="<f2").astype(np.float32)
    if t == g.BF16:
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    if t == g.Q8_0:
        return g.dequantize_q8_0(raw)
    if t == g.Q4_0:
        return g.dequantize_q4_0(raw)
    return k.decode(raw, t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--version", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.RandomState(a.seed)
    w = g.GgufWriter(version=a.version)
    w.add_kv("general.architecture", g.STRING, "llama")
    w.add_kv("test.u8", g.UINT8, 200)
    w.add_kv("test.i8", g.INT8, -100)
    w.add_kv("test.u16", g.UINT16, 60000)
    w.add_kv("test.i16", g.INT16, -30000)
    w.add_kv("test.u32", g.UINT32, 4000000000)
    w.add_kv("test.i32", g.INT32, -2000000000)
    w.add_kv("test.f32", g.FLOAT32, 0.15625)
    w.add_kv("test.bool", g.BOOL, True)
    w.add_kv("test.string", g.STRING, "héllo ✓ 🌍")
    w.add_kv("test.u64", g.UINT64, 2 ** 63 + 5)
    w.add_kv("test.i64", g.INT64, -(2 ** 40))
    w.add_kv("test.f64", g.FLOAT64, 2.5e-300)
    w.add_kv("test.arr_str", g.ARRAY, ["a", "", "ü", "<0x0A>"], g.STRING)
    w.add_kv("test.arr_f32", g.ARRAY, [1.5, -2.25, 3.0], g.FLOAT32)
    w.add_kv("test.arr_i32", g.ARRAY, [1, -2, 3, 2147483647], g.INT32)
    w.add_kv("test.arr_u8", g.ARRAY, [0, 255], g.UINT8)
    w.add_kv("test.arr_bool", g.ARRAY, [True, False], g.BOOL)
    # nested: ARRAY of 2 ARRAYs of INT16, encoded by hand (element: type id + count + values)
    import struct
    nested = struct.pack("<IIQ", g.ARRAY, g.ARRAY, 2)  # kv type, element type, count
    for vals in ([1, 2, 3], [-4]):
        nested += struct.pack("<IQ", g.INT16, len(vals)) + np.asarray(vals, dtype="<i2").tobytes()
    w.kv.append(("test.nested", "raw", nested, None))
    types = {"t_f32": g.F32, "t_f16": g.F16, "t_bf16": g.BF16, "t_q8_0": g.Q8_0, "t_q4_0": g.Q4_0,
             "t_q4_k": g.Q4_K, "t_q6_k": g.Q6_K}
    os.makedirs(a.out, exist_ok=True)
    for name, t in types.items():
        shape = (3, 512)  # rows, cols: GGUF dims (512, 3)
        x = (rng.randn(*shape) * rng.uniform(0.01, 4.0)).astype(np.float32)
        raw = g.encode_tensor(x, t)
        w.add_raw_tensor(name, shape, t, raw)
        decode(raw, t).astype("<f4").tofile(os.path.join(a.out, name + ".f32"))
    w.write(os.path.join(a.out, "fixture.gguf"))


if __name__ == "__main__":
    main()
