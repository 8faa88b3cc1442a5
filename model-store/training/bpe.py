"""Byte-level BPE tokenizer trained by the project, in GGUF `gpt2` form with the `llama-bpe` pre-tokenizer.

Encoding semantics are llama.cpp's for tokenizer.ggml.model = gpt2: split text with the Llama-3 regex, map each
piece's UTF-8 bytes to printable characters with the GPT-2 byte<->unicode table, then repeatedly apply the merge of
lowest rank among adjacent symbol pairs. Token ids: 256 byte tokens first (in byte order), then one token per merge,
then the special tokens.
"""
import collections
import json

import regex

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
PRE = regex.compile(LLAMA3_PATTERN)
SPECIALS = ["<|bos|>", "<|eos|>", "<|pad|>"]


def bytes_to_unicode():
    """GPT-2's reversible map from the 256 byte values to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


B2U = bytes_to_unicode()
U2B = {v: k for k, v in B2U.items()}


def pretokenize(text):
    return PRE.findall(text)


def to_symbols(piece):
    return tuple(B2U[b] for b in piece.encode("utf-8"))


def train(texts, n_merges):
    """Learns n_merges merges from an iterable of texts. Returns the list of (a, b) merges in rank order."""
    words = collections.Counter()
    for t in texts:
        words.update(pretokenize(t))
    vocab = [(list(to_symbols(w)), c) for w, c in words.items()]
    pairs = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for i, (syms, c) in enumerate(vocab):
        for p in zip(syms, syms[1:]):
            pairs[p] += c
            where[p].add(i)
    merges = []
    for _ in range(n_merges):
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]  # ties: deterministic by symbol order
        if pairs[best] < 2:
            break
        merges.append(best)
        a, b = best
        merged = a + b
        for i in list(where[best]):
            syms, c = vocab[i]
            for p in zip(syms, syms[1:]):  # remove this word's old pair counts
                pairs[p] -= c
                if pairs[p] <= 0:
                    del pairs[p]
                where[p].discard(i)
            out = []
            j = 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            vocab[i] = (out, c)
            for p in zip(out, out[1:]):
                pairs[p] += c
                where[p].add(i)
        where.pop(best, None)
    return merges


class Tokenizer:
    """Encoder/decoder over a trained merge list."""

    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.tokens = [B2U[b] for b in range(256)] + [a + b for a, b in self.merges] + SPECIALS
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.bos = self.ids["<|bos|>"]
        self.eos = self.ids["<|eos|>"]
        self.pad = self.ids["<|pad|>"]
        self.cache = {}

    def __len__(self):
        return len(self.tokens)

    def _word(self, piece):
        hit = self.cache.get(piece)
        if hit is not None:
            return hit
        syms = list(to_symbols(piece))
        while len(syms) > 1:
            best, best_rank = None, None
            for j in range(len(syms) - 1):
                r = self.ranks.get((syms[j], syms[j + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = j, r
            if best is None:
                break
            syms[best:best + 2] = [syms[best] + syms[best + 1]]
        ids = [self.ids[s] for s in syms]
        if len(self.cache) < 500000:
            self.cache[piece] = ids
        return ids

    def encode(self, text):
        out = []
        for piece in pretokenize(text):
            out.extend(self._word(piece))
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.tokens[i]
            if t in SPECIALS:
                continue
            bs.extend(U2B[ch] for ch in t)
        return bs.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"merges": [" ".join(m) for m in self.merges]}, f)

    @staticmethod
    def load(path):
        with open(path, encoding="utf-8") as f:
            return Tokenizer([tuple(m.split(" ")) for m in json.load(f)["merges"]])
