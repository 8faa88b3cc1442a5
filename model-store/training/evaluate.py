"""Evaluates the exported model (torch on the GGUF's dequantised Q8_0 weights) and writes JSON.

    /usr/bin/python3 model-store/training/evaluate.py --ckpt work-cache/train/final.pt \
        --bpe work-cache/train/bpe.json --out models/reviver-tiny/eval.json

Figures (full KV cache, greedy decoding):
  - perplexity on the held-out speeches (non-overlapping 2,048-token windows);
  - passkey and multi-key accuracy at 512, 1,024 and 2,048 tokens, N seeded examples each: an example is correct
    when greedy decoding reproduces the answer's tokens exactly (" 48213.");
  - fact recall of the extractive summary task (5 facts in a 1,024-token document): the fraction of facts that
    appear verbatim in up to 80 greedily generated tokens.
Evaluation examples use seed 999 and the held-out speeches as filler; training used other seeds and speeches.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402
import export  # noqa: E402
import model as M  # noqa: E402
import tasks  # noqa: E402

EVAL_SEED = 999


class CachedRunner:
    """Greedy decoding with a per-layer KV cache over a trained `model.Llama` (inference only)."""

    def __init__(self, net):
        self.net = net
        self.cfg = net.cfg
        self.cos, self.sin = M.rope_tables(self.cfg, self.cfg.context_length + 128)

    @torch.no_grad()
    def run(self, ids, cache, start):
        cfg, net = self.cfg, self.net
        T = len(ids)
        hs = cfg.head_size
        x = net.embed(torch.tensor([ids]))
        cos, sin = self.cos[start:start + T], self.sin[start:start + T]
        for li, b in enumerate(net.blocks):
            h = b.attn_norm(x)
            q = b.wq(h).view(1, T, cfg.n_heads, hs).transpose(1, 2)
            k = b.wk(h).view(1, T, cfg.n_kv_heads, hs).transpose(1, 2)
            v = b.wv(h).view(1, T, cfg.n_kv_heads, hs).transpose(1, 2)
            q, k = M.apply_rope(q, cos, sin), M.apply_rope(k, cos, sin)
            if li in cache:
                k = torch.cat([cache[li][0], k], dim=2)
                v = torch.cat([cache[li][1], v], dim=2)
            cache[li] = (k, v)
            rep = cfg.n_heads // cfg.n_kv_heads
            kk, vv = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            att = (q @ kk.transpose(-2, -1)) / math.sqrt(hs)
            S = kk.shape[2]
            mask = torch.ones(T, S, dtype=torch.bool).triu(S - T + 1)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = (att @ vv).transpose(1, 2).reshape(1, T, cfg.n_heads * hs)
            x = x + b.wo(y)
            h = b.ffn_norm(x)
            x = x + b.w2(F.silu(b.w1(h)) * b.w3(h))
        return (net.norm(x) @ net.output_weight().T)[0]

    def greedy(self, prompt_ids, max_new, stop_ids=()):
        cache = {}
        logits = self.run(prompt_ids, cache, 0)
        out = []
        pos = len(prompt_ids)
        nxt = int(logits[-1].argmax())
        while len(out) < max_new:
            out.append(nxt)
            if nxt in stop_ids:
                break
            logits = self.run([nxt], cache, pos)
            pos += 1
            nxt = int(logits[-1].argmax())
        return out


def perplexity(net, tok, held, window=2048):
    nll, n = 0.0, 0
    with torch.no_grad():
        for _, text in held:
            ids = tok.encode(text)
            for s in range(0, len(ids) - 1, window):
                chunk = [tok.bos] + ids[s:s + window]
                x = torch.tensor([chunk[:-1]])
                y = torch.tensor([chunk[1:]])
                logits = net(x)
                nll += F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1), reduction="sum").item()
                n += y.numel()
    return math.exp(nll / n), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=200, help="examples per task and length")
    ap.add_argument("--lengths", default="512,1024,2048")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-ppl", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg, net, st = export.load(a.ckpt)
    export.dequantized_copy(net)
    tok = bpe.Tokenizer.load(a.bpe)
    _, held = corpus.split()
    filler = tasks.Filler([t for _, t in held])
    runner = CachedRunner(net)
    t0 = time.time()
    result = {"checkpoint_step": st.get("step"), "weights": "Q8_0 matrices (dequantised), F32 norms",
              "examples_per_cell": a.n, "eval_seed": EVAL_SEED}
    if not a.skip_ppl:
        ppl, n = perplexity(net, tok, held)
        result["heldout_perplexity"] = round(ppl, 3)
        result["heldout_tokens"] = n
        result["heldout_speeches"] = [i for i, _ in held]
    lengths = [int(x) for x in a.lengths.split(",")]
    for task in ("passkey", "multikey"):
        result[task] = {}
        for L in lengths:
            correct = 0
            for i in range(a.n):
                prompt, answer, _ = tasks.example(task, EVAL_SEED, i, tok, filler, L)
                p = [tok.bos] + tok.encode(prompt)
                want = tok.encode(answer)
                got = runner.greedy(p, len(want))
                correct += got == want
            result[task][str(L)] = {"accuracy": correct / a.n, "correct": correct, "n": a.n}
            print(task, L, correct / a.n, round(time.time() - t0), flush=True)
    recall, exact = 0.0, 0
    for i in range(a.n):
        prompt, _, meta = tasks.example("facts", EVAL_SEED, i, tok, filler, 1024)
        p = [tok.bos] + tok.encode(prompt)
        out = tok.decode(runner.greedy(p, 80, stop_ids=(tok.eos,)))
        r = tasks.fact_recall(out, meta["facts"])
        recall += r
        exact += r == 1.0
    result["facts"] = {"doc_tokens": 1024, "n_facts": 5, "mean_recall": recall / a.n, "all_facts_recalled": exact / a.n,
                       "n": a.n}
    print("facts", recall / a.n, flush=True)
    result["eval_seconds"] = round(time.time() - t0)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
