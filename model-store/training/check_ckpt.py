"""Quick progress check of a training checkpoint: greedy token accuracy and mean loss on the answer tokens of 16
sequences each of copy data (128 tokens), passkey (128 and 512) and multi-key (256), generated with
`train.make_sequence` from `random.Random(5)` with the held-out speeches as filler. The model card's "When copying
formed" table comes from it.

    /usr/bin/python3 model-store/training/check_ckpt.py work-cache/train6/ckpt.pt
"""
import os
import random
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402
import model as M  # noqa: E402
import tasks  # noqa: E402
import train  # noqa: E402


def main():
    torch.set_num_threads(1)
    st = torch.load(sys.argv[1])
    cfg = M.Config(**st["config"])
    net = M.Llama(cfg)
    net.load_state_dict(st["model"])
    net.eval()
    tok = bpe.Tokenizer.load(os.path.join(HERE, "..", "..", "models", "reviver-tiny", "bpe.json"))
    rng = random.Random(5)
    _, held = corpus.split()
    filler = tasks.Filler([t for _, t in held])
    with torch.no_grad():
        for kind, T in (("copy", 128), ("passkey", 128), ("multikey", 256), ("passkey", 512)):
            seqs = [train.make_sequence(rng, kind, T, tok, filler, [0] * 10000, (12, 32, True)) for _ in range(16)]
            logits, y, ce, ans, _ = train.batch_losses(net, seqs, cfg.vocab)
            acc = ((logits.argmax(-1) == y).float() * ans).sum() / ans.sum()
            print("step %s %s@%d: answer loss %.3f, token accuracy %.3f"
                  % (st["step"], kind, T, ((ce * ans).sum() / ans.sum()).item(), acc.item()))


if __name__ == "__main__":
    main()
