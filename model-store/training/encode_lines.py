"""Encodes each line of a UTF-8 text file with the project's Python BPE and writes one line of space-separated
ids per input line (used by the Java tokenizer equivalence test).

    /usr/bin/python3 model-store/training/encode_lines.py BPE_JSON IN_LINES OUT_IDS
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

tok = bpe.Tokenizer.load(sys.argv[1])
with open(sys.argv[2], encoding="utf-8", newline="\n") as f:
    lines = f.read().split("\n")
with open(sys.argv[3], "w") as out:
    out.write("\n".join(" ".join(map(str, tok.encode(line))) for line in lines))
