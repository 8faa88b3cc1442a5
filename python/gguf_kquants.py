"""Independent numpy encoders and decoders for ggml's Q4_K and Q6_K blocks (256 elements per block).

Written from the block layouts (see GgmlType's Javadoc on the Java side for the same description):
  Q4_K: fp16 d, fp16 dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks of 32, 128 bytes of nibbles;
        sub-block pair (2k, 2k+1) shares 32 bytes: low nibbles are sub-block 2k, high nibbles sub-block 2k+1;
        x = d*scale*q - dmin*min.
  Q6_K: ql[128] low 4 bits, qh[64] high 2 bits, 16 int8 scales (one per 16 elements), fp16 d;
        x = d*scale*(q - 32).
The encoders use simple per-sub-block min/max rounding (not ggml's search), which yields valid blocks; the decoders
compute in float32 in the same operation order as ggml so the Java reference must match them bit for bit.
"""
import numpy as np

Q4_K, Q6_K = 12, 14


def _pack_scale_min(sc, mn):
    """sc, mn: (8,) ints in [0, 63] -> 12 bytes in ggml's k4 packing."""
    q = np.zeros(12, dtype=np.uint8)
    for j in range(8):
        if j < 4:
            q[j] |= sc[j] & 63
            q[j + 4] |= mn[j] & 63
        else:
            q[j + 4] |= (sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4)
            q[j - 4] |= (sc[j] >> 4) << 6
            q[j] |= (mn[j] >> 4) << 6
    return q


def _unpack_scale_min(q, j):
    q = q.astype(np.int32)
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


def encode_q4_k(x):
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, 256)
    out = bytearray()
    for blk in blocks:
        sub = blk.reshape(8, 32)
        mins = np.maximum(0.0, -sub.min(axis=1))          # x >= -min
        scales = (sub.max(axis=1) + mins) / 15.0           # q in [0, 15]
        d = np.float16(max(scales.max() / 63.0, 1e-8))
        dmin = np.float16(max(mins.max() / 63.0, 1e-8))
        sc = np.clip(np.rint(scales / np.float32(d)), 0, 63).astype(np.int32)
        mn = np.clip(np.rint(mins / np.float32(dmin)), 0, 63).astype(np.int32)
        q = np.zeros((8, 32), dtype=np.int32)
        for s in range(8):
            ds = np.float32(d) * sc[s]
            ms = np.float32(dmin) * mn[s]
            if ds > 0:
                q[s] = np.clip(np.rint((sub[s] + ms) / ds), 0, 15)
        qs = np.zeros(128, dtype=np.uint8)
        for pair in range(4):
            qs[pair * 32:(pair + 1) * 32] = (q[2 * pair] | (q[2 * pair + 1] << 4)).astype(np.uint8)
        out += np.array([d, dmin], dtype="<f2").tobytes() + _pack_scale_min(sc, mn).tobytes() + qs.tobytes()
    return bytes(out)


def decode_q4_k(raw):
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 144)
    out = np.zeros((b.shape[0], 256), dtype=np.float32)
    for i, blk in enumerate(b):
        d = blk[0:2].view("<f2")[0].astype(np.float32)
        dmin = blk[2:4].view("<f2")[0].astype(np.float32)
        scales = blk[4:16]
        qs = blk[16:144].astype(np.int32)
        for pair in range(4):
            sc0, m0 = _unpack_scale_min(scales, 2 * pair)
            sc1, m1 = _unpack_scale_min(scales, 2 * pair + 1)
            q = qs[pair * 32:(pair + 1) * 32]
            d1, mm1 = np.float32(d * np.float32(sc0)), np.float32(dmin * np.float32(m0))
            d2, mm2 = np.float32(d * np.float32(sc1)), np.float32(dmin * np.float32(m1))
            out[i, pair * 64:pair * 64 + 32] = d1 * (q & 0x0F).astype(np.float32) - mm1
            out[i, pair * 64 + 32:pair * 64 + 64] = d2 * (q >> 4).astype(np.float32) - mm2
    return out.reshape(-1)


def encode_q6_k(x):
    blocks = np.asarray(x, dtype=np.float32).reshape(-1, 256)
    out = bytearray()
    for blk in blocks:
        sub = blk.reshape(16, 16)
        amax = np.abs(sub).max(axis=1)
        scales = amax / 31.0
        d = np.float16(max(scales.max() / 127.0, 1e-8))
        sc = np.clip(np.rint(scales / np.float32(d)), -128, 127).astype(np.int32)
        q = np.full((16, 16), 32, dtype=np.int32)
        for s in range(16):
            ds = np.float32(d) * sc[s]
            if ds != 0:
                q[s] = np.clip(np.rint(sub[s] / ds), -32, 31) + 32
        q = q.reshape(256)
        ql = np.zeros(128, dtype=np.uint8)
        qh = np.zeros(64, dtype=np.uint8)
        for half in range(2):
            qq = q[half * 128:(half + 1) * 128]
            for l in range(32):
                q1, q2, q3, q4 = qq[l], qq[l + 32], qq[l + 64], qq[l + 96]
                ql[half * 64 + l] = (q1 & 0x0F) | ((q3 & 0x0F) << 4)
                ql[half * 64 + l + 32] = (q2 & 0x0F) | ((q4 & 0x0F) << 4)
                qh[half * 32 + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
        out += ql.tobytes() + qh.tobytes() + sc.astype(np.int8).tobytes() + np.array([d], dtype="<f2").tobytes()
    return bytes(out)


def decode_q6_k(raw):
    b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 210)
    out = np.zeros((b.shape[0], 256), dtype=np.float32)
    for i, blk in enumerate(b):
        ql_all, qh_all = blk[0:128].astype(np.int32), blk[128:192].astype(np.int32)
        sc_all = blk[192:208].view(np.int8).astype(np.float32)
        d = blk[208:210].view("<f2")[0].astype(np.float32)
        for half in range(2):
            ql, qh, sc = ql_all[half * 64:], qh_all[half * 32:], sc_all[half * 8:]
            base = half * 128
            for l in range(32):
                is_ = l // 16
                q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32
                q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
                q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                out[i, base + l] = np.float32(d * sc[is_]) * np.float32(q1)
                out[i, base + l + 32] = np.float32(d * sc[is_ + 2]) * np.float32(q2)
                out[i, base + l + 64] = np.float32(d * sc[is_ + 4]) * np.float32(q3)
                out[i, base + l + 96] = np.float32(d * sc[is_ + 6]) * np.float32(q4)
    return out.reshape(-1)


def encode(x, ggml_type):
    if ggml_type == Q4_K:
        return encode_q4_k(x)
    if ggml_type == Q6_K:
        return encode_q6_k(x)
    raise ValueError(ggml_type)


def decode(raw, ggml_type):
    return decode_q4_k(raw) if ggml_type == Q4_K else decode_q6_k(raw)
