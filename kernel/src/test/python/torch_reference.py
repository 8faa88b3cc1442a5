#!/usr/bin/env python3
"""Independent torch reference for the Java Llama-family engine.

Builds small, seeded, random-weight models with real architecture shapes at small sizes, writes each as a
GGUF file (F32, Q8_0, Q4_0) with the shared numpy writer (python/gguf_writer.py), and computes reference
logits with a plain float64 torch implementation written the Hugging Face way:

* ``llama3``: Llama-3 shaped. GQA (8 query heads, 2 KV heads), Llama-3 RoPE frequency scaling, untied
  output matrix. The torch model uses HF's ``rotate_half`` (pairs (j, j + headSize/2)); the q/k weights
  are written PERMUTED the way llama.cpp's converter does, so that the GGUF holds the adjacent-pair
  ("NORMAL") layout of a genuine llama GGUF. The Llama-3 frequency factors are written as the
  ``rope_freqs.weight`` tensor (as the converter does) and also as ``llama.rope.scaling.*`` metadata.
* ``qwen2``: Qwen2 shaped. q/k/v biases, tied embeddings (no ``output.weight``), NEOX RoPE (no permutation).

For the quantised variants the torch model runs on the DEQUANTISED weights, so the comparison measures
the Java engine, not the quantisation error. The teacher-forced reference logits come from ONE cache-free
causal pass over the whole sequence, which independently checks the Java cache and batching; the greedy
continuation uses a torch-side cache whose prompt logits are asserted equal to that pass.

Outputs in --out DIR, per model NAME:
  NAME.gguf           the model
  NAME.logits.f64     float64 little-endian, (prompt + decode, vocab) row-major: logits at every position of
                      the teacher-forced sequence ``tokens``
  reference.properties  NAME.tokens (comma ids, prompt + decode), NAME.prompt (prompt length),
                      NAME.greedy (greedy continuation ids after the prompt), NAME.greedyMinMargin (smallest
                      top-1 minus top-2 logit gap seen in the greedy run), NAME.vocab
Usage: /usr/bin/python3 torch_reference.py --out DIR [--repo-root ROOT]
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

PROMPT = 64
DECODE = 32
GREEDY = 32

SPECS = {
    "llama3": dict(arch="llama", dim=256, n_layers=3, n_heads=8, n_kv_heads=2, hidden_dim=704, vocab=768,
                   context_length=256, eps=1e-5, rope_base=500000.0, tied=False, bias=False,
                   rope_scaling=dict(factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                                     original_context_length=64), seed=1234,
                   embed_scale=1.0, residual_gain=1.0),
    "qwen2": dict(arch="qwen2", dim=192, n_layers=2, n_heads=6, n_kv_heads=2, hidden_dim=512, vocab=700,
                  context_length=256, eps=1e-6, rope_base=1000000.0, tied=True, bias=True,
                  rope_scaling=None, seed=4321, embed_scale=0.2, residual_gain=2.0),
}


def f32(x):
    """The float32 value the GGUF file will hold, as a Python float."""
    return float(np.float32(x))


def make_weights(spec):
    """Seeded HF-layout weights (float32 numpy); matrices are (out_features, in_features)."""
    rng = np.random.default_rng(spec["seed"])
    dim, hidden, hs = spec["dim"], spec["hidden_dim"], spec["dim"] // spec["n_heads"]
    kv_dim = spec["n_kv_heads"] * hs

    def mat(rows, cols, gain=1.0):
        return (rng.standard_normal((rows, cols)) * gain / math.sqrt(cols)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    # embed_scale < 1 with residual_gain > 1 keeps a tied-embedding model from just predicting its input
    rg = spec["residual_gain"]
    w = {"embed": (spec["embed_scale"] * rng.standard_normal((spec["vocab"], dim))).astype(np.float32),
         "layers": []}
    for _ in range(spec["n_layers"]):
        layer = dict(attn_norm=norm(dim), wq=mat(dim, dim, 1.5), wk=mat(kv_dim, dim, 1.5), wv=mat(kv_dim, dim),
                     wo=mat(dim, dim, rg), ffn_norm=norm(dim), w1=mat(hidden, dim), w3=mat(hidden, dim),
                     w2=mat(dim, hidden, rg))
        if spec["bias"]:
            layer["bq"] = (0.5 * rng.standard_normal(dim)).astype(np.float32)
            layer["bk"] = (0.5 * rng.standard_normal(kv_dim)).astype(np.float32)
            layer["bv"] = (0.5 * rng.standard_normal(kv_dim)).astype(np.float32)
        w["layers"].append(layer)
    w["out_norm"] = norm(dim)
    if not spec["tied"]:
        w["output"] = mat(spec["vocab"], dim, 3.0)
    return w


def llama_permute(m, n_head):
    """HF (halves) row order -> llama.cpp GGUF (adjacent pairs): within each head, row (half, j) moves to
    (j, half). This is the reordering llama.cpp's converter applies to llama q/k weights."""
    rows, cols = m.shape
    return m.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def llama_unpermute(m, n_head):
    rows, cols = m.shape
    return m.reshape(n_head, rows // n_head // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def base_inv_freq(spec):
    hs = spec["dim"] // spec["n_heads"]
    base = f32(spec["rope_base"])
    return 1.0 / (base ** (np.arange(0, hs, 2, dtype=np.float64) / hs))


def llama3_inv_freq(spec):
    """Llama-3 frequency scaling (Meta's reference / HF 'llama3' rope type) in float64."""
    rs = spec["rope_scaling"]
    inv = base_inv_freq(spec)
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_context_length"]
    lo_wavelen, hi_wavelen = old / lo, old / hi
    out = np.empty_like(inv)
    for i, f in enumerate(inv):
        wavelen = 2 * math.pi / f
        if wavelen < hi_wavelen:
            out[i] = f
        elif wavelen > lo_wavelen:
            out[i] = f / factor
        else:
            smooth = (old / wavelen - lo) / (hi - lo)
            out[i] = (1 - smooth) * f / factor + smooth * f
    return out


def encode_matrix(m, qtype, gw):
    """Encodes m for the file and returns (raw bytes, the float32 values a reader decodes)."""
    raw = gw.encode_tensor(m, qtype)
    if qtype == gw.F32:
        return raw, m
    deq = gw.dequantize_q8_0(raw) if qtype == gw.Q8_0 else gw.dequantize_q4_0(raw)
    return raw, deq.reshape(m.shape).astype(np.float32)


def write_model(spec, w, qtype, path, gw):
    """Writes the GGUF and returns the weights as the file holds them (dequantised, HF layout) for torch."""
    arch = spec["arch"]
    hs = spec["dim"] // spec["n_heads"]
    g = gw.GgufWriter()
    g.add_kv("general.architecture", gw.STRING, arch)
    g.add_kv("general.name", gw.STRING, "reviver-test-" + arch)
    g.add_kv(arch + ".context_length", gw.UINT32, spec["context_length"])
    g.add_kv(arch + ".embedding_length", gw.UINT32, spec["dim"])
    g.add_kv(arch + ".block_count", gw.UINT32, spec["n_layers"])
    g.add_kv(arch + ".feed_forward_length", gw.UINT32, spec["hidden_dim"])
    g.add_kv(arch + ".attention.head_count", gw.UINT32, spec["n_heads"])
    g.add_kv(arch + ".attention.head_count_kv", gw.UINT32, spec["n_kv_heads"])
    g.add_kv(arch + ".attention.layer_norm_rms_epsilon", gw.FLOAT32, spec["eps"])
    g.add_kv(arch + ".rope.freq_base", gw.FLOAT32, spec["rope_base"])
    g.add_kv(arch + ".rope.dimension_count", gw.UINT32, hs)
    rs = spec["rope_scaling"]
    if rs is not None:
        g.add_kv(arch + ".rope.scaling.type", gw.STRING, "llama3")
        g.add_kv(arch + ".rope.scaling.factor", gw.FLOAT32, rs["factor"])
        g.add_kv(arch + ".rope.scaling.low_freq_factor", gw.FLOAT32, rs["low_freq_factor"])
        g.add_kv(arch + ".rope.scaling.high_freq_factor", gw.FLOAT32, rs["high_freq_factor"])
        g.add_kv(arch + ".rope.scaling.original_context_length", gw.UINT32, rs["original_context_length"])
    g.add_kv("general.file_type", gw.UINT32, {gw.F32: 0, gw.Q8_0: 7, gw.Q4_0: 2}[qtype])

    seen = {"layers": []}

    def put_matrix(name, m):
        raw, deq = encode_matrix(m, qtype, gw)
        g.add_raw_tensor(name, m.shape, qtype, raw)
        return deq

    def put_vector(name, v):
        g.add_tensor(name, v, gw.F32)
        return v

    seen["embed"] = put_matrix("token_embd.weight", w["embed"])
    if rs is not None:
        factors = (base_inv_freq(spec) / llama3_inv_freq(spec)).astype(np.float32)
        g.add_tensor("rope_freqs.weight", factors, gw.F32)
    permute = arch == "llama"
    for i, L in enumerate(w["layers"]):
        p = "blk.%d." % i
        s = {}
        s["attn_norm"] = put_vector(p + "attn_norm.weight", L["attn_norm"])
        wq, wk = L["wq"], L["wk"]
        if permute:
            s["wq"] = llama_unpermute(put_matrix(p + "attn_q.weight", llama_permute(wq, spec["n_heads"])),
                                      spec["n_heads"])
            s["wk"] = llama_unpermute(put_matrix(p + "attn_k.weight", llama_permute(wk, spec["n_kv_heads"])),
                                      spec["n_kv_heads"])
        else:
            s["wq"] = put_matrix(p + "attn_q.weight", wq)
            s["wk"] = put_matrix(p + "attn_k.weight", wk)
        s["wv"] = put_matrix(p + "attn_v.weight", L["wv"])
        if spec["bias"]:
            s["bq"] = put_vector(p + "attn_q.bias", L["bq"])
            s["bk"] = put_vector(p + "attn_k.bias", L["bk"])
            s["bv"] = put_vector(p + "attn_v.bias", L["bv"])
        s["wo"] = put_matrix(p + "attn_output.weight", L["wo"])
        s["ffn_norm"] = put_vector(p + "ffn_norm.weight", L["ffn_norm"])
        s["w1"] = put_matrix(p + "ffn_gate.weight", L["w1"])
        s["w3"] = put_matrix(p + "ffn_up.weight", L["w3"])
        s["w2"] = put_matrix(p + "ffn_down.weight", L["w2"])
        seen["layers"].append(s)
    seen["out_norm"] = put_vector("output_norm.weight", w["out_norm"])
    seen["output"] = seen["embed"] if spec["tied"] else put_matrix("output.weight", w["output"])
    g.write(path)
    return seen


class TorchLlama:
    """Plain float64 Llama/Qwen2 decoder, HF style (rotate_half RoPE, repeat_interleave for GQA)."""

    def __init__(self, spec, seen):
        t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))
        self.spec = spec
        self.embed = t(seen["embed"])
        self.layers = [{k: t(v) for k, v in s.items()} for s in seen["layers"]]
        self.out_norm = t(seen["out_norm"])
        self.output = t(seen["output"])
        inv = llama3_inv_freq(spec) if spec["rope_scaling"] is not None else base_inv_freq(spec)
        self.inv_freq = torch.tensor(inv, dtype=torch.float64)
        self.eps = f32(spec["eps"])

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    @staticmethod
    def rotate_half(x):
        half = x.shape[-1] // 2
        return torch.cat((-x[..., half:], x[..., :half]), dim=-1)

    def forward(self, tokens, cache=None):
        """tokens: list of ids at positions [start, start + T) where start is the length already held in
        ``cache`` (a list of per-layer [K, V] tensors, each (nKvHeads, start, hs), or None for a fresh pass
        from position 0). Returns logits (T, vocab) float64; appends this chunk's K/V to ``cache``."""
        s = self.spec
        n_t, nh, nkv = len(tokens), s["n_heads"], s["n_kv_heads"]
        hs = s["dim"] // nh
        start = 0 if not cache else cache[0][0].shape[1]
        pos = torch.arange(start, start + n_t, dtype=torch.float64)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None], emb.sin()[None]              # (1, T, hs)
        # causal mask over all start + T keys: query t sees keys [0, start + t]
        mask = torch.full((n_t, start + n_t), float("-inf"), dtype=torch.float64).triu(start + 1)
        h = self.embed[torch.tensor(tokens)]                      # (T, dim)
        for li, L in enumerate(self.layers):
            x = self.rms(h, L["attn_norm"])
            q, k, v = x @ L["wq"].T, x @ L["wk"].T, x @ L["wv"].T
            if "bq" in L:
                q, k, v = q + L["bq"], k + L["bk"], v + L["bv"]
            q = q.view(n_t, nh, hs).transpose(0, 1)                # (nh, T, hs)
            k = k.view(n_t, nkv, hs).transpose(0, 1)
            v = v.view(n_t, nkv, hs).transpose(0, 1)
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            if cache is not None:
                if len(cache) <= li:
                    cache.append([k, v])
                else:
                    cache[li] = [torch.cat((cache[li][0], k), dim=1), torch.cat((cache[li][1], v), dim=1)]
                k, v = cache[li]
            k = k.repeat_interleave(nh // nkv, dim=0)
            v = v.repeat_interleave(nh // nkv, dim=0)
            att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hs) + mask, dim=-1)
            o = (att @ v).transpose(0, 1).reshape(n_t, nh * hs)
            h = h + o @ L["wo"].T
            x = self.rms(h, L["ffn_norm"])
            h = h + (torch.nn.functional.silu(x @ L["w1"].T) * (x @ L["w3"].T)) @ L["w2"].T
        return self.rms(h, self.out_norm) @ self.output.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--repo-root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".."))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(args.repo_root), "python"))
    import gguf_writer as gw

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    props = []
    for arch_name, spec in SPECS.items():
        w = make_weights(spec)
        rng = np.random.default_rng(spec["seed"] + 1)
        tokens = [int(t) for t in rng.integers(0, spec["vocab"], PROMPT + DECODE)]
        for qname, qtype in (("f32", gw.F32), ("q8_0", gw.Q8_0), ("q4_0", gw.Q4_0)):
            name = "%s-%s" % (arch_name, qname)
            seen = write_model(spec, w, qtype, os.path.join(args.out, name + ".gguf"), gw)
            model = TorchLlama(spec, seen)
            with torch.no_grad():
                # teacher-forced reference: ONE cache-free causal pass over prompt + decode tokens
                logits = model.forward(tokens).numpy()
                # greedy continuation with a torch-side cache; its prompt logits must equal the full pass
                cache = []
                last = model.forward(tokens[:PROMPT], cache)
                assert np.allclose(last.numpy(), logits[:PROMPT], rtol=0, atol=1e-9), name
                last = last[-1].numpy()
                greedy, margin = [], float("inf")
                for _ in range(GREEDY):
                    order = np.argsort(-last, kind="stable")
                    margin = min(margin, float(last[order[0]] - last[order[1]]))
                    greedy.append(int(order[0]))
                    last = model.forward([greedy[-1]], cache)[-1].numpy()
            logits.astype("<f8").tofile(os.path.join(args.out, name + ".logits.f64"))
            props.append("%s.tokens=%s" % (name, ",".join(map(str, tokens))))
            props.append("%s.prompt=%d" % (name, PROMPT))
            props.append("%s.greedy=%s" % (name, ",".join(map(str, greedy))))
            props.append("%s.greedyMinMargin=%r" % (name, margin))
            props.append("%s.vocab=%d" % (name, spec["vocab"]))
            if spec["rope_scaling"] is not None:
                factors = base_inv_freq(spec) / llama3_inv_freq(spec)
                props.append("%s.ropeFactors=%s" % (name, ",".join(repr(float(f)) for f in factors)))
    with open(os.path.join(args.out, "reference.properties"), "w") as f:
        f.write("\n".join(props) + "\n")


if __name__ == "__main__":
    main()
