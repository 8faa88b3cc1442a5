"""Recipe v5 of the bundled model (see MODEL_CARD.md): make copying (induction) form first in a small, shallow model,
then grow it and train the retrieval tasks with a length curriculum.

    /usr/bin/python3 model-store/training/train_grow.py --out work-cache/train5 --bpe models/reviver-tiny/bpe.json

Why: recipes v2-v4 (4 layers, dim 192, from the start) never formed induction heads within 750-1,700 steps, while a
2-layer toy did after 750-900 steps of dense copy data. So:

  A. 2 layers, dim 128, pure copy data (a random span of 8-32 tokens repeated over 128 tokens), the span tokens drawn
     from a 64-token subset, 32 sequences per step, constant learning rate; until the mean copy loss of the last 25
     steps is below --copy-target nats, or --max-a steps.
  B. the same with span tokens drawn from the whole vocabulary (digits and words included), until the same target or
     --max-b steps.
  G. grow to 4 layers: two new blocks appended, their output projections (wo, w2) zero, so the grown model computes
     exactly what the 2-layer one did (checked), and the new blocks start learning from there.
  C-F. the task mixture of train.py (text, copy, passkey, multi-key, facts) at 256, 512, 1,024 and 2,048 tokens
     (4,096 tokens per step), learning rate cosine from 1e-3 to 1e-4, with the extra answer loss of train.py.

Deterministic given the seed and thread count. Checkpoints (model, optimiser, phase, step) every 25 steps to
<out>/ckpt.pt; --resume continues. Logs JSON lines to <out>/train.log.jsonl and stdout. Writes <out>/final.pt.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import model as M  # noqa: E402
import tasks  # noqa: E402
import train  # noqa: E402

MIX_C = [("text", 0.15), ("copy", 0.30), ("passkey", 0.30), ("multikey", 0.25)]
MIX = [("text", 0.15), ("copy", 0.20), ("passkey", 0.25), ("multikey", 0.20), ("facts", 0.20)]
# (phase name, context length, steps, mixture) after growing
CURRICULUM = [("C", 256, 400, MIX_C), ("D", 512, 200, MIX), ("E", 1024, 150, MIX), ("F", 2048, 120, MIX)]
TOKENS_PER_STEP = 4096


def copy_batch(rng, tokens, B=32, T=128):
    ids, mask = [], []
    for _ in range(B):
        span = [rng.choice(tokens) for _ in range(rng.randint(8, 32))]
        ids.append([1] + (span * (T // len(span) + 2))[:T])
        mask.append([0] * (1 + len(span)) + [1] * (T - len(span)))
    return torch.tensor(ids), torch.tensor(mask, dtype=torch.float32)[:, 1:]


def grow(net, n_layers):
    """Appends blocks whose residual outputs are zero: the function is unchanged."""
    cfg = M.Config(**{**net.cfg.__dict__, "n_layers": n_layers})
    big = M.Llama(cfg)
    sd = big.state_dict()
    for k, v in net.state_dict().items():
        sd[k] = v
    for i in range(net.cfg.n_layers, n_layers):
        sd["blocks.%d.wo.weight" % i].zero_()
        sd["blocks.%d.w2.weight" % i].zero_()
    big.load_state_dict(sd)
    return big


def save(path, net, opt, state):
    torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "config": net.cfg.__dict__,
                "torch_rng": torch.get_rng_state(), **state}, path + ".tmp")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--bpe", required=True, help="the tokenizer's merges (bpe.json)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--copy-target", type=float, default=0.5)
    ap.add_argument("--max-a", type=int, default=3000)
    ap.add_argument("--max-b", type=int, default=800)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the curriculum's steps (smoke runs: 0.005)")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tok = bpe.Tokenizer.load(a.bpe)
    shutil.copyfile(a.bpe, os.path.join(a.out, "bpe.json"))
    train_s, _ = corpus.split()
    filler = tasks.Filler([t for _, t in train_s])
    text_ids = []
    for _, t in train_s:
        text_ids.extend(tok.encode(t) + [tok.eos])
    vocab = len(tok)
    cfg = M.Config(vocab=vocab, dim=128, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=384, context_length=2048)
    net = M.Llama(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, betas=(0.9, 0.95), weight_decay=0.05)
    state = {"phase": "A", "step": 0, "phase_step": 0, "elapsed": 0.0, "window": []}
    ckpt = os.path.join(a.out, "ckpt.pt")
    if a.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        if st["config"]["n_layers"] != cfg.n_layers:
            net = M.Llama(M.Config(**st["config"]))
            opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        torch.set_rng_state(st["torch_rng"])
        state = {k: st[k] for k in ("phase", "step", "phase_step", "elapsed", "window")}
    log = open(os.path.join(a.out, "train.log.jsonl"), "a")
    t_start = time.time() - state["elapsed"]
    print(json.dumps({"recipe": "v5", "vocab": vocab, "start": state["phase"], "step": state["step"]}), flush=True)

    def record(rec):
        rec["elapsed_s"] = round(time.time() - t_start)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if rec["step"] % 25 == 0 or "event" in rec:
            print(json.dumps(rec), flush=True)

    def checkpoint():
        state["elapsed"] = time.time() - t_start
        save(ckpt, net, opt, state)

    subset = list(range(256, 256 + 64))
    full = list(range(256, vocab - len(bpe.SPECIALS)))
    # Phases A and B: copy data on the 2-layer model.
    for phase, tokens, limit in (("A", subset, a.max_a), ("B", full, a.max_b)):
        if state["phase"] != phase:
            continue
        while state["phase_step"] < limit:
            rng = random.Random("v5/%d/%s/%d" % (a.seed, phase, state["phase_step"]))
            ids, m = copy_batch(rng, tokens)
            ce = F.cross_entropy(net(ids[:, :-1]).reshape(-1, vocab), ids[:, 1:].reshape(-1),
                                 reduction="none").view(ids.shape[0], -1)
            loss = (ce * m).sum() / m.sum()
            for g in opt.param_groups:
                g["lr"] = 2e-3 * min(1.0, (state["step"] + 1) / 30)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            state["phase_step"] += 1
            state["window"] = (state["window"] + [loss.item()])[-25:]
            mean = sum(state["window"]) / len(state["window"])
            record({"step": state["step"], "phase": phase, "copy_loss": round(loss.item(), 4),
                    "copy_loss_25": round(mean, 4)})
            if state["step"] % 25 == 0:
                checkpoint()
            if len(state["window"]) == 25 and mean < a.copy_target:
                break
        record({"step": state["step"], "event": "phase %s done" % phase, "phase_steps": state["phase_step"],
                "copy_loss_25": round(sum(state["window"]) / len(state["window"]), 4)})
        state.update(phase="B" if phase == "A" else "G", phase_step=0, window=[])
        checkpoint()

    if state["phase"] == "G":
        probe = torch.randint(256, vocab - 3, (2, 64))
        with torch.no_grad():
            before = net(probe)
            net = grow(net, 4)
            after = net(probe)
        diff = (before - after).abs().max().item()
        assert diff < 1e-4, "growing changed the function by %g" % diff
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05)
        record({"step": state["step"], "event": "grown to 4 layers", "max_logit_change": diff,
                "params": net.n_params()})
        state.update(phase="C", phase_step=0)
        checkpoint()

    curriculum = [(p, T, max(1, round(n * a.scale)), mix) for p, T, n, mix in CURRICULUM]
    total = sum(n for _, _, n, _ in curriculum)
    done_before = 0
    for phase, T, n, mix in curriculum:
        if state["phase"] != phase:
            done_before += n
            continue
        B = TOKENS_PER_STEP // T
        while state["phase_step"] < n:
            k = done_before + state["phase_step"]
            lr = 1e-4 + (1e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi * k / total))
            rng = random.Random("v5/%d/%s/%d" % (a.seed, phase, state["phase_step"]))
            kinds = rng.choices([x for x, _ in mix], weights=[w for _, w in mix], k=B)
            seqs = [train.make_sequence(rng, kind, T, tok, filler, text_ids) for kind in kinds]
            ids = torch.tensor([s[0] for s in seqs])
            ans = torch.tensor([s[1] for s in seqs], dtype=torch.float32)[:, 1:]
            lmask = torch.tensor([s[2] for s in seqs], dtype=torch.float32)[:, 1:]
            ce = F.cross_entropy(net(ids[:, :-1]).reshape(-1, vocab), ids[:, 1:].reshape(-1),
                                 reduction="none").view(B, T)
            lm = (ce * lmask).sum() / lmask.sum()
            an = (ce * ans).sum() / ans.sum().clamp(min=1)
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            (lm + an).backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            state["phase_step"] += 1
            record({"step": state["step"], "phase": phase, "T": T, "lm": round(lm.item(), 4),
                    "answer": round(an.item(), 4), "lr": round(lr, 6)})
            if state["step"] % 25 == 0:
                checkpoint()
        done_before += n
        idx = [p for p, _, _, _ in curriculum].index(phase)
        state.update(phase=curriculum[idx + 1][0] if idx + 1 < len(curriculum) else "done", phase_step=0)
        checkpoint()
    torch.save({"model": net.state_dict(), "config": net.cfg.__dict__, "step": state["step"],
                "elapsed": time.time() - t_start}, os.path.join(a.out, "final.pt"))
    print(json.dumps({"done": True, "steps": state["step"], "train_seconds": round(time.time() - t_start)}),
          flush=True)


if __name__ == "__main__":
    main()
