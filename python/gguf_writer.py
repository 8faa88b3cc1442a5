"""Minimal, independent GGUF v3 writer (numpy only) used by the test tree and the training export.

It is written from the GGUF specification, not from the Java reader, so that files it writes are an
independent check of the Java side. Quantisers for Q8_0 and Q4_0 follow ggml's reference
(round-to-nearest with one fp16 scale per block of 32); Q4_K and Q6_K encoders live in
`gguf_kquants.py`.

Tensor shapes are given numpy-style (outermost first, e.g. (rows, cols) for a matrix whose rows are
contiguous); GGUF stores dims innermost first, so the header writes them reversed.
"""
import struct

import numpy as np

GGUF_MAGIC = 0x46554747  # "GGUF" little-endian
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)

# ggml tensor types (ids from ggml.h)
F32, F16, Q4_0, Q8_0, Q4_K, Q6_K, BF16 = 0, 1, 2, 8, 12, 14, 30

_SCALAR_FMT = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
               FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}


def _pack_string(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value, elem_type=None):
    if vtype == STRING:
        return _pack_string(value)
    if vtype == ARRAY:
        out = struct.pack("<IQ", elem_type, len(value))
        if elem_type == STRING:
            return out + b"".join(_pack_string(v) for v in value)
        if elem_type == ARRAY:
            raise ValueError("nested arrays: pass (elem_type, values) tuples via write_raw_kv")
        fmt = _SCALAR_FMT[elem_type]
        return out + np.asarray(value, dtype=np.dtype(fmt)).tobytes()
    return struct.pack(_SCALAR_FMT[vtype], value)


def _f16_bits(x):
    return np.asarray(x, dtype=np.float32).astype(np.float16).view(np.uint16)


def quantize_q8_0(x):
    """x: float32 array with size % 32 == 0 -> bytes (per block: fp16 d, 32 x int8)."""
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    q = np.rint(blocks * inv[:, None]).astype(np.int8)
    dt = np.dtype([("d", "<u2"), ("q", "i1", 32)])
    out = np.empty(blocks.shape[0], dtype=dt)
    out["d"] = _f16_bits(d)
    out["q"] = q
    return out.tobytes()


def quantize_q4_0(x):
    """x: float32, size % 32 == 0 -> bytes (per block: fp16 d, 16 bytes of nibbles; low nibbles hold
    elements 0..15, high nibbles 16..31; value = (nibble - 8) * d)."""
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, 32)
    idx = np.argmax(np.abs(blocks), axis=1)
    maxv = blocks[np.arange(blocks.shape[0]), idx]  # signed value of largest magnitude
    d = maxv / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1.0), 0.0)
    q = np.clip(np.floor(blocks * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    packed = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    dt = np.dtype([("d", "<u2"), ("qs", "u1", 16)])
    out = np.empty(blocks.shape[0], dtype=dt)
    out["d"] = _f16_bits(d)
    out["qs"] = packed
    return out.tobytes()


def dequantize_q8_0(raw):
    dt = np.dtype([("d", "<u2"), ("q", "i1", 32)])
    b = np.frombuffer(raw, dtype=dt)
    d = b["d"].view(np.float16).astype(np.float32)
    return (b["q"].astype(np.float32) * d[:, None]).reshape(-1)


def dequantize_q4_0(raw):
    dt = np.dtype([("d", "<u2"), ("qs", "u1", 16)])
    b = np.frombuffer(raw, dtype=dt)
    d = b["d"].view(np.float16).astype(np.float32)
    lo = (b["qs"] & 0x0F).astype(np.int32) - 8
    hi = (b["qs"] >> 4).astype(np.int32) - 8
    return (np.concatenate([lo, hi], axis=1).astype(np.float32) * d[:, None]).reshape(-1)


def encode_tensor(array, ggml_type):
    """Returns the raw bytes of `array` (float32 numpy) encoded as ggml_type."""
    a = np.ascontiguousarray(array, dtype=np.float32)
    if ggml_type == F32:
        return a.astype("<f4").tobytes()
    if ggml_type == F16:
        return a.astype("<f2").tobytes()
    if ggml_type == BF16:
        bits = a.view(np.uint32)
        # round to nearest even, as torch does
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
        return rounded.tobytes()
    if ggml_type == Q8_0:
        return quantize_q8_0(a.reshape(-1))
    if ggml_type == Q4_0:
        return quantize_q4_0(a.reshape(-1))
    if ggml_type in (Q4_K, Q6_K):
        import gguf_kquants  # noqa: local module beside this one
        return gguf_kquants.encode(a.reshape(-1), ggml_type)
    raise ValueError("unsupported ggml type %d" % ggml_type)


class GgufWriter:
    """Collects metadata and tensors, then writes one GGUF v3 (or v2) file.

    kv values: add_kv(key, vtype, value[, elem_type]). Tensors: add_tensor(name, np_array, ggml_type) or
    add_raw_tensor(name, shape, ggml_type, raw_bytes) for bytes encoded elsewhere.
    """

    def __init__(self, alignment=DEFAULT_ALIGNMENT, version=3):
        self.kv = []
        self.tensors = []
        self.alignment = alignment
        self.version = version
        if alignment != DEFAULT_ALIGNMENT:
            self.add_kv("general.alignment", UINT32, alignment)

    def add_kv(self, key, vtype, value, elem_type=None):
        self.kv.append((key, vtype, value, elem_type))

    def add_tensor(self, name, array, ggml_type=F32):
        array = np.asarray(array, dtype=np.float32)
        self.add_raw_tensor(name, array.shape, ggml_type, encode_tensor(array, ggml_type))

    def add_raw_tensor(self, name, shape, ggml_type, raw):
        self.tensors.append((name, tuple(int(s) for s in shape), ggml_type, bytes(raw)))

    def to_bytes(self):
        count_fmt = "<Q" if self.version >= 3 else "<Q"
        head = struct.pack("<II", GGUF_MAGIC, self.version)
        head += struct.pack(count_fmt, len(self.tensors)) + struct.pack(count_fmt, len(self.kv))
        for key, vtype, value, elem_type in self.kv:
            if vtype == "raw":  # value = the type id and payload already encoded (e.g. nested arrays)
                head += _pack_string(key) + value
                continue
            head += _pack_string(key) + struct.pack("<I", vtype) + _pack_value(vtype, value, elem_type)
        offset = 0
        offsets = []
        for name, shape, ggml_type, raw in self.tensors:
            offset = (offset + self.alignment - 1) // self.alignment * self.alignment
            offsets.append(offset)
            dims = list(reversed(shape))
            head += _pack_string(name) + struct.pack("<I", len(dims))
            head += b"".join(struct.pack("<Q", d) for d in dims)
            head += struct.pack("<IQ", ggml_type, offset)
            offset += len(raw)
        pad = (-len(head)) % self.alignment
        out = bytearray(head + b"\0" * pad)
        base = len(out)
        for (name, shape, ggml_type, raw), off in zip(self.tensors, offsets):
            out += b"\0" * (base + off - len(out))
            out += raw
        return bytes(out)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.to_bytes())
