"""Builds corpus.txt for the tokenizer reference test (run once; the output is committed):
real text lines from the project's seed documents and docs, source lines from this repository, and seeded
generated lines covering scripts, digits, whitespace runs, contractions, code and emoji. NFC, no empty lines."""
import glob
import os
import random
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
lines = []
for pattern in ["/work/shared/seeds/*.txt", "/work/shared/docs/*.md", ROOT + "/README.md",
                ROOT + "/model-store/src/main/java/**/*.java", ROOT + "/kernel/src/main/java/**/*.java",
                ROOT + "/model-store/training/*.py"]:
    for path in sorted(glob.glob(pattern, recursive=True)):
        with open(path, encoding="utf-8") as f:
            lines.extend(l.rstrip("\r\n") for l in f)
rng = random.Random(20261124)
scripts = ["日本語のテキストと漢字", "中文分词测试，数字１２３", "Привет, мир! Ёжик в тумане", "مرحبا بالعالم ١٢٣",
           "नमस्ते दुनिया", "Ελληνικά γράμματα", "한국어 문장입니다", "café naïve façade coöperate Zürich Ærøskøbing",
           "שלום עולם", "ไทยภาษา", "Tiếng Việt có dấu"]
emoji = ["👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🌍", "🤖", "❤️", "🇫🇷", "😀😃😄", "🧑🏿‍💻"]
words = ["the", "I'm", "you're", "WE'VE", "they'll", "it's", "O'Neil", "don't", "ISN'T", "x", "y", "=", "==", "->"]
for i in range(1200):
    parts = []
    for _ in range(rng.randint(2, 9)):
        k = rng.random()
        if k < 0.2:
            parts.append(rng.choice(scripts))
        elif k < 0.35:
            parts.append(rng.choice(emoji))
        elif k < 0.55:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))) + rng.choice(["", ".5", ",000", "%", "th"]))
        elif k < 0.75:
            parts.append(rng.choice(words))
        else:
            parts.append(rng.choice(["for (int i = 0; i < n; i++) {", "x += y[i];", "}", "def f(a, b):", "return a**2",
                                     "#include <stdio.h>", "<div class=\"a\">", "SELECT * FROM t;", "\\n", "a_b-c.d"]))
    sep = rng.choice([" ", "  ", "   ", "\t", " \t ", ""])
    lines.append(sep.join(parts) + rng.choice(["", " ", "  ", "\t", "!", "?"]))
lines = [unicodedata.normalize("NFC", l) for l in lines if l.strip()]
with open(os.path.join(HERE, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
    f.write("\n".join(lines) + "\n")
print(len(lines), sum(len(l) for l in lines))
