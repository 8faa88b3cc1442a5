"""Probe: does the bundled model class form induction (copying) on pure copy data when the copied spans come from a
small token subset? Trains from scratch on 128-token sequences of a random span (8-32 tokens) repeated, spans drawn
from `--subset` tokens, `--batch` sequences per step (32), constant learning rate `--lr` (2e-3), model shape from
`--dim --layers --heads --kv-heads --hidden` (default: the bundled model's), RoPE base `--rope-base`, and with
`--distinct` spans that never repeat a token (so every position of the copy has one right answer), and logs the loss on the repeated part
(chance = ln(subset)) every 25 steps as JSON lines. See MODEL_CARD.md ("Later attempts").

    /usr/bin/python3 model-store/training/probe_copy.py --steps 600 --subset 64 --out work-cache/probe-64.jsonl
"""
import argparse
import json
import math
import random
import sys
import os
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--subset", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dim", type=int, default=192)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--distinct", action="store_true", help="no token twice within a span")
    ap.add_argument("--vocab", type=int, default=4059, help="embedding rows (the bundled tokenizer has 4059)")
    ap.add_argument("--untied", action="store_true", help="separate output projection")
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--span-min", type=int, default=8)
    ap.add_argument("--span-max", type=int, default=32)
    ap.add_argument("--first-token", type=int, default=256, help="the subset is tokens first..first+subset-1")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = M.Config(vocab=a.vocab, dim=a.dim, n_layers=a.layers, n_heads=a.heads, n_kv_heads=a.kv_heads,
                   hidden_dim=a.hidden, context_length=2048, rope_base=a.rope_base, tied=not a.untied)
    net = M.Llama(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=a.wd)
    rng = random.Random(a.seed)
    tokens = list(range(a.first_token, a.first_token + a.subset))
    T, B = a.seq, a.batch
    t0 = time.time()
    window = []
    with open(a.out, "w") as log:
        for step in range(1, a.steps + 1):
            ids, mask = [], []
            for _ in range(B):
                n = rng.randint(a.span_min, a.span_max)
                span = rng.sample(tokens, n) if a.distinct else [rng.choice(tokens) for _ in range(n)]
                seq = [1] + (span * (T // len(span) + 2))[:T]
                ids.append(seq)
                mask.append([0] * (1 + len(span)) + [1] * (T - len(span)))
            ids = torch.tensor(ids)
            m = torch.tensor(mask, dtype=torch.float32)[:, 1:]
            for g in opt.param_groups:
                g["lr"] = a.lr * min(1.0, step / 30)
            ce = F.cross_entropy(net(ids[:, :-1]).reshape(-1, cfg.vocab), ids[:, 1:].reshape(-1),
                                 reduction="none").view(B, T)
            loss = (ce * m).sum() / m.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            window.append(loss.item())
            if step % 25 == 0:
                rec = {"step": step, "copy_loss": round(sum(window) / len(window), 4),
                       "chance": round(math.log(a.subset), 4), "elapsed_s": round(time.time() - t0)}
                window = []
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
