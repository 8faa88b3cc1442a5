"""Trains the bundled model (see MODEL_CARD.md). Reproduce with:

    /usr/bin/python3 model-store/training/train.py --out work-cache/train

Deterministic given the seed and thread count (--threads, default 1). Checkpoints every 25 steps to
<out>/ckpt.pt; --resume continues from it. Curriculum: context 128 (stage 0, mostly copy/retrieval) -> 256 -> 512 -> 1024 -> 2048 tokens, a mixture of
natural text (State of the Union speeches) and the synthetic retrieval tasks of tasks.py, with an extra loss term
on the task answers so the retrieval signal is not drowned by the filler's language-model loss.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import model as M  # noqa: E402
import tasks  # noqa: E402

# Retrieval needs induction heads (a previous-token head composed with a look-up head). They form in a sudden phase
# change after on the order of a thousand steps of dense repeated-span data (measured on a toy of this model class:
# loss flat for 750 steps, then copying works by step 900-1500). Recipe v2 had 750 steps in all with 15% copy data
# and never got there (0% retrieval), so recipe v3 opens with a short-context stage 0 that is mostly copy and
# retrieval data, then runs the length curriculum with copy data kept in the mixture.
# Stage 0 mixture: no "facts" (its answer alone is ~60 tokens, longer than a 128-token document leaves room for).
MIX0 = [("text", 0.10), ("copy", 0.40), ("passkey", 0.30), ("multikey", 0.20)]
# later stages
MIX = [("text", 0.15), ("copy", 0.20), ("passkey", 0.25), ("multikey", 0.20), ("facts", 0.20)]
# (context length, steps, tokens per step, mixture) per curriculum stage
STAGES_V3 = [(128, 1200, 2048, MIX0), (256, 200, 4096, MIX), (512, 150, 4096, MIX), (1024, 100, 4096, MIX),
             (2048, 100, 4096, MIX)]
# Recipe v3 was stopped at step 1,050 (answer loss still ~7.3 nats: no induction yet). Its stage 0 gave ~6 copy
# sequences per step, while the toy that formed induction heads saw 32 per step. Recipe v4 starts from v3's step-1,050
# weights (--init) with a stage of almost pure copy data at 32 sequences per step and a constant learning rate, then
# the length curriculum with the usual mixture.
MIX_COPY = [("copy", 0.85), ("passkey", 0.15)]
STAGES_V4 = [(128, 1000, 4096, MIX_COPY), (256, 250, 4096, MIX), (512, 150, 4096, MIX), (1024, 100, 4096, MIX),
             (2048, 80, 4096, MIX)]
# Recipes v2-v5 never formed induction heads. Probes (probe_copy.py; MODEL_CARD.md, "How recipe v6 came about")
# found why: copy data drawn from a small token subset (v5) kept the loss on the in-context-unigram plateau,
# while copy spans of distinct tokens drawn from the whole vocabulary, at learning rate 1e-3 without weight decay, go
# through the phase change in ~500 steps of 32 sequences (2-layer and 4-layer models alike). Recipe v6 trains a fresh
# model that way: stage 0 is mostly such copy data at 128 tokens with the retrieval tasks beside it, then the length
# curriculum keeps copy data in the mixture.
MIX6_0 = [("text", 0.15), ("copy", 0.45), ("passkey", 0.25), ("multikey", 0.15)]
MIX6 = [("text", 0.20), ("copy", 0.15), ("passkey", 0.25), ("multikey", 0.20), ("facts", 0.20)]
STAGES_V6 = [(128, 1400, 4096, MIX6_0), (256, 700, 4096, MIX6), (512, 450, 4096, MIX6), (1024, 100, 4096, MIX6),
             (2048, 130, 4096, MIX6)]
RECIPES = {"v3": STAGES_V3, "v4": STAGES_V4, "v6": STAGES_V6}
# optimiser and copy-data settings per recipe: peak lr, weight decay, distinct copy spans (min, max length)
SETTINGS = {"v3": dict(lr=2e-3, wd=0.05, copy=(8, 64, False)), "v4": dict(lr=2e-3, wd=0.05, copy=(8, 64, False)),
            "v6": dict(lr=1e-3, wd=0.0, copy=(12, 32, True))}
N_MERGES = 3800


def model_config(vocab):
    """The shape of every recipe (v6 trains it afresh): 4 layers, dim 192, 6 heads of 32, 2 KV heads."""
    return M.Config(vocab=vocab, dim=192, n_layers=4, n_heads=6, n_kv_heads=2, hidden_dim=512,
                    context_length=2048)


def tokenizer(out):
    path = os.path.join(out, "bpe.json")
    if os.path.exists(path):
        return bpe.Tokenizer.load(path)
    train_s, _ = corpus.split()
    tok = bpe.Tokenizer(bpe.train((t for _, t in train_s), N_MERGES))
    tok.save(path)
    return tok


def lr_at(step, total, peak=2e-3, warmup=30, hold=0):
    """Linear warm-up, constant until step `hold` (the copy stage of v4), then cosine decay to 10% at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    if step < hold:
        return peak
    start = max(warmup, hold)
    p = (step - start) / max(1, total - start)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def make_sequence(rng, kind, T, tok, filler, text_ids, copy=(8, 64, False)):
    """Returns (ids[T+1], answer_mask[T+1], loss_mask[T+1]) as lists."""
    if kind == "text":
        start = rng.randrange(len(text_ids) - T - 1)
        ids = [tok.bos] + text_ids[start:start + T]
        return ids, [0] * (T + 1), [1] * (T + 1)
    if kind == "copy":
        lo, hi, distinct = copy
        n = rng.randint(lo, hi)
        pool = range(256, len(tok) - len(bpe.SPECIALS))
        span = rng.sample(pool, n) if distinct else [rng.choice(pool) for _ in range(n)]
        ids = [tok.bos] + (span * (T // len(span) + 2))[:T]
        ans = [0] * (1 + len(span)) + [1] * (T - len(span))  # the repeats are predictable only by copying
        return ids, ans, [1] * (T + 1)
    gen = tasks.TASKS[kind]
    # leave room for the answer (facts answers are ~60 tokens)
    reserve = 80 if kind == "facts" else 8
    prompt, answer, _ = gen(rng, tok, filler, T - reserve)
    p = [tok.bos] + tok.encode(prompt)
    a = tok.encode(answer) + [tok.eos]
    ids = (p + a)[:T + 1]
    ans = ([0] * len(p) + [1] * len(a))[:T + 1]
    loss = [1] * len(ids)
    pad = T + 1 - len(ids)
    return ids + [tok.pad] * pad, ans + [0] * pad, loss + [0] * pad


def batch_losses(net, seqs, vocab):
    """Runs a batch of `make_sequence` results through `net`: returns (logits of the inputs (B, T, vocab), next-token
    targets (B, T), per-token cross-entropy (B, T), answer mask (B, T), language-model mask (B, T)), the masks as
    float 0/1 over the target positions."""
    ids = torch.tensor([s[0] for s in seqs])
    ans = torch.tensor([s[1] for s in seqs], dtype=torch.float32)[:, 1:]
    lmask = torch.tensor([s[2] for s in seqs], dtype=torch.float32)[:, 1:]
    x, y = ids[:, :-1], ids[:, 1:]
    logits = net(x)
    ce = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction="none").view(y.shape)
    return logits, y, ce, ans, lmask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(corpus.ROOT, "work-cache", "train"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every stage's steps (quick trials: 0.02)")
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="v6")
    ap.add_argument("--init", help="start from this checkpoint's model weights (fresh optimiser and schedule)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tok = tokenizer(a.out)
    train_s, _ = corpus.split()
    filler = tasks.Filler([t for _, t in train_s])
    text_ids = []
    for _, t in train_s:
        text_ids.extend(tok.encode(t) + [tok.eos])
    cfg = model_config(len(tok))
    net = M.Llama(cfg)
    settings = SETTINGS[a.recipe]
    opt = torch.optim.AdamW(net.parameters(), lr=settings["lr"], betas=(0.9, 0.95), weight_decay=settings["wd"])
    stages = [(T, max(1, int(round(n * a.scale))), tps, mix) for T, n, tps, mix in RECIPES[a.recipe]]
    total = sum(n for _, n, _, _ in stages)
    hold = stages[0][1] if a.recipe in ("v4", "v6") else 0
    peak = settings["lr"]
    if a.init and not (a.resume and os.path.exists(os.path.join(a.out, "ckpt.pt"))):
        net.load_state_dict(torch.load(a.init)["model"])
    step, elapsed = 0, 0.0
    ckpt = os.path.join(a.out, "ckpt.pt")
    if a.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, elapsed = st["step"], st["elapsed"]
        torch.set_rng_state(st["torch_rng"])
    print(json.dumps({"recipe": a.recipe, "init": a.init, "params": net.n_params(), "config": cfg.__dict__, "vocab": len(tok), "text_tokens": len(text_ids),
                      "stages": [(T, n, tps) for T, n, tps, _ in stages]}), flush=True)
    log = open(os.path.join(a.out, "train.log.jsonl"), "a")
    t_start = time.time() - elapsed
    s0 = 0
    for T, n, tps, mix in stages:
        B = tps // T
        for _ in range(n):
            if step < s0 + n and step >= s0:
                rng = random.Random("train/%d/%d" % (a.seed, step))
                kinds = rng.choices([k for k, _ in mix], weights=[w for _, w in mix], k=B)
                seqs = [make_sequence(rng, k, T, tok, filler, text_ids, settings["copy"]) for k in kinds]
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, total, peak=peak, hold=hold)
                t0 = time.time()
                _, _, ce, ans, lmask = batch_losses(net, seqs, cfg.vocab)
                lm = (ce * lmask).sum() / lmask.sum()
                an = (ce * ans).sum() / ans.sum().clamp(min=1)
                loss = lm + an
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                step += 1
                dt = time.time() - t0
                rec = {"step": step, "T": T, "lm": round(lm.item(), 4), "answer": round(an.item(), 4),
                       "lr": round(lr_at(step - 1, total, peak=peak, hold=hold), 6), "tok_s": round(B * T / dt), "elapsed_s": round(time.time() - t_start)}
                log.write(json.dumps(rec) + "\n")
                log.flush()
                if step % 10 == 0:
                    print(json.dumps(rec), flush=True)
                if step % 25 == 0 or step == total:
                    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step,
                                "elapsed": time.time() - t_start, "torch_rng": torch.get_rng_state(),
                                "config": cfg.__dict__}, ckpt + ".tmp")
                    os.replace(ckpt + ".tmp", ckpt)
        s0 += n
    torch.save({"model": net.state_dict(), "config": cfg.__dict__, "step": step,
                "elapsed": time.time() - t_start}, os.path.join(a.out, "final.pt"))
    print(json.dumps({"done": True, "steps": step, "train_seconds": round(time.time() - t_start)}), flush=True)


if __name__ == "__main__":
    main()
