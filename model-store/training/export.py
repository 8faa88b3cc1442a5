"""Exports a trained checkpoint to GGUF (`llama` architecture, `gpt2` tokenizer with the `llama-bpe`
pre-tokenizer), weight matrices as Q8_0 and norms as F32; writes <out>.sha256 beside it.

    /usr/bin/python3 model-store/training/export.py --ckpt work-cache/train/final.pt \
        --bpe work-cache/train/bpe.json --out models/reviver-tiny/reviver-tiny-q8_0.gguf
"""
import argparse
import hashlib
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import bpe  # noqa: E402
import gguf_writer as g  # noqa: E402
import model as M  # noqa: E402

MATRIX_TYPE = g.Q8_0


def gguf_tensors(net):
    """[(gguf name, float32 numpy array shaped (out, in) or (n,), ggml type)] in file order."""
    out = [("token_embd.weight", net.embed.weight, MATRIX_TYPE)]
    for i, b in enumerate(net.blocks):
        p = "blk.%d." % i
        out += [(p + "attn_norm.weight", b.attn_norm.weight, g.F32),
                (p + "attn_q.weight", b.wq.weight, MATRIX_TYPE),
                (p + "attn_k.weight", b.wk.weight, MATRIX_TYPE),
                (p + "attn_v.weight", b.wv.weight, MATRIX_TYPE),
                (p + "attn_output.weight", b.wo.weight, MATRIX_TYPE),
                (p + "ffn_norm.weight", b.ffn_norm.weight, g.F32),
                (p + "ffn_gate.weight", b.w1.weight, MATRIX_TYPE),
                (p + "ffn_up.weight", b.w3.weight, MATRIX_TYPE),
                (p + "ffn_down.weight", b.w2.weight, MATRIX_TYPE)]
    out.append(("output_norm.weight", net.norm.weight, g.F32))
    if net.head is not None:  # untied output projection; tied models have none (the engine reuses token_embd)
        out.append(("output.weight", net.head.weight, MATRIX_TYPE))
    return [(n, t.detach().float().numpy(), ty) for n, t, ty in out]


def load(ckpt):
    st = torch.load(ckpt)
    cfg = M.Config(**st["config"])
    net = M.Llama(cfg)
    net.load_state_dict(st["model"])
    net.eval()
    return cfg, net, st


def write_gguf(cfg, net, tok, path, extra=None):
    w = g.GgufWriter()
    kv = w.add_kv
    kv("general.architecture", g.STRING, "llama")
    kv("general.name", g.STRING, "reviver-tiny")
    kv("general.description", g.STRING, "Reviver's bundled long-context retrieval model, trained from scratch on "
       "State of the Union addresses and synthetic retrieval tasks; see MODEL_CARD.md")
    for k, v in (extra or {}).items():
        kv(k, g.STRING, v)
    kv("llama.context_length", g.UINT32, cfg.context_length)
    kv("llama.embedding_length", g.UINT32, cfg.dim)
    kv("llama.block_count", g.UINT32, cfg.n_layers)
    kv("llama.feed_forward_length", g.UINT32, cfg.hidden_dim)
    kv("llama.attention.head_count", g.UINT32, cfg.n_heads)
    kv("llama.attention.head_count_kv", g.UINT32, cfg.n_kv_heads)
    kv("llama.attention.layer_norm_rms_epsilon", g.FLOAT32, cfg.eps)
    kv("llama.rope.freq_base", g.FLOAT32, cfg.rope_base)
    kv("llama.rope.dimension_count", g.UINT32, cfg.head_size)
    kv("llama.vocab_size", g.UINT32, cfg.vocab)
    kv("tokenizer.ggml.model", g.STRING, "gpt2")
    kv("tokenizer.ggml.pre", g.STRING, "llama-bpe")
    kv("tokenizer.ggml.tokens", g.ARRAY, tok.tokens, g.STRING)
    kv("tokenizer.ggml.token_type", g.ARRAY, [3 if t in bpe.SPECIALS else 1 for t in tok.tokens], g.INT32)
    kv("tokenizer.ggml.merges", g.ARRAY, [a + " " + b for a, b in tok.merges], g.STRING)
    kv("tokenizer.ggml.bos_token_id", g.UINT32, tok.bos)
    kv("tokenizer.ggml.eos_token_id", g.UINT32, tok.eos)
    kv("tokenizer.ggml.padding_token_id", g.UINT32, tok.pad)
    kv("tokenizer.ggml.add_bos_token", g.BOOL, True)
    kv("tokenizer.ggml.add_eos_token", g.BOOL, False)
    for name, arr, ty in gguf_tensors(net):
        w.add_tensor(name, arr, ty)
    w.write(path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    with open(path + ".sha256", "w") as f:
        f.write("%s  %s\n" % (digest, os.path.basename(path)))
    return digest


def dequantized_copy(net):
    """The network with every exported matrix replaced by its Q8_0 round trip (what the GGUF holds)."""
    for _, p in net.named_parameters():
        if p.dim() == 2 and MATRIX_TYPE == g.Q8_0:
            a = p.detach().float().numpy()
            p.data = torch.from_numpy(g.dequantize_q8_0(g.quantize_q8_0(a.reshape(-1))).reshape(a.shape))
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg, net, st = load(a.ckpt)
    tok = bpe.Tokenizer.load(a.bpe)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    digest = write_gguf(cfg, net, tok, a.out, {"reviver.training.steps": str(st.get("step"))})
    print(a.out, os.path.getsize(a.out), "bytes, sha256", digest)


if __name__ == "__main__":
    main()
