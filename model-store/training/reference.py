"""Writes models/reviver-tiny/reference.json: what the Java engine must reproduce on the bundled model.
torch runs on the dequantised Q8_0 weights in float64. For each prompt the file holds:
  - the prompt text and its token ids (from this project's Python BPE; the Java tokenizer must give the same);
  - the full logits at the last prompt position (to check max relative error <= 1e-3);
  - the greedy continuation (token ids and decoded text), up to `max_new` tokens or EOS.
Prompts: two natural-text openings, a passkey prompt at ~1,024 tokens and a facts prompt at ~512 tokens (evaluation
seed 999, held-out filler).

    /usr/bin/python3 model-store/training/reference.py --ckpt work-cache/train/final.pt \
        --bpe work-cache/train/bpe.json --out models/reviver-tiny/reference.json
"""
import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402
import evaluate  # noqa: E402
import export  # noqa: E402
import tasks  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    cfg, net, _ = export.load(a.ckpt)
    export.dequantized_copy(net)
    net = net.double()
    tok = bpe.Tokenizer.load(a.bpe)
    _, held = corpus.split()
    filler = tasks.Filler([t for _, t in held])
    pk_prompt, pk_answer, _ = tasks.example("passkey", evaluate.EVAL_SEED, 0, tok, filler, 1024)
    f_prompt, f_answer, _ = tasks.example("facts", evaluate.EVAL_SEED, 0, tok, filler, 512)
    prompts = [("text-1", "Fellow-Citizens of the Senate and House of Representatives: In", 32),
               ("text-2", "The state of the Union is strong. We will", 32),
               ("passkey-1024", pk_prompt, 4),
               ("facts-512", f_prompt, 80)]
    runner = evaluate.CachedRunner(net)
    runner.cos, runner.sin = runner.cos.double(), runner.sin.double()
    out = {"model": "reviver-tiny-q8_0.gguf", "precision": "float64 torch on dequantised weights", "prompts": []}
    with torch.no_grad():
        for name, text, max_new in prompts:
            ids = [tok.bos] + tok.encode(text)
            logits = runner.run(ids, {}, 0)[-1]
            cont = runner.greedy(ids, max_new, stop_ids=(tok.eos,))
            out["prompts"].append({"name": name, "text": text, "ids": ids, "last_logits": [float(x) for x in logits],
                                   "greedy_ids": cont, "greedy_text": tok.decode(cont)})
            print(name, len(ids), repr(tok.decode(cont)))
    out["passkey_answer"] = pk_answer
    with open(a.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
