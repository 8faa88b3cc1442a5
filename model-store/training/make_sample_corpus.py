"""Writes the committed sample corpus data/sample-corpus/sample.jsonl (one JSON object per line: id, text, and
for generated fact documents the list of facts in order):
  - the 12 held-out State of the Union speeches (never seen in training);
  - 40 generated fact documents (seed 4242, held-out speech text as filler, 5 facts each, ~1,500 tokens).

    /usr/bin/python3 model-store/training/make_sample_corpus.py --bpe work-cache/train/bpe.json
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import corpus  # noqa: E402
import tasks  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--out", default=os.path.join(corpus.ROOT, "data", "sample-corpus", "sample.jsonl"))
    a = ap.parse_args()
    tok = bpe.Tokenizer.load(a.bpe)
    _, held = corpus.split()
    filler = tasks.Filler([t for _, t in held])
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for sid, text in held:
            f.write(json.dumps({"id": "sotu-" + sid, "text": text}) + "\n")
        for i in range(40):
            prompt, _, meta = tasks.example("facts", 4242, i, tok, filler, 1500)
            doc = prompt[: -len(tasks.FACTS_QUESTION)]
            f.write(json.dumps({"id": "facts-%03d" % i, "text": doc, "facts": meta["facts"]}) + "\n")
    print(a.out, os.path.getsize(a.out))


if __name__ == "__main__":
    main()
