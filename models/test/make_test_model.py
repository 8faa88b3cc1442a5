#!/usr/bin/env python3
"""Writes models/test/tiny-llama-q8_0.gguf: a tiny, seeded, random-weight llama-architecture model with a small
byte-level GPT-2 style BPE tokenizer, so that `reviver generate` can run end to end without a trained model.

The text it generates is gibberish (the weights are random); it exists to exercise the whole path (GGUF
parsing, tokenizer, forward pass, sampling, CLI). Deterministic: the same script writes the same bytes.

Model: llama, dim 128, 2 layers, 4 heads / 2 KV heads, FFN 384, context 512, vocab 512 (256 byte tokens, 254
BPE merges learned from the small corpus below, 2 control tokens), matrices Q8_0, norms F32.
Usage: /usr/bin/python3 models/test/make_test_model.py   (writes the .gguf and its .sha256 beside this file)
"""
import collections
import hashlib
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import gguf_writer as gw  # noqa: E402

NAME = "tiny-llama-q8_0.gguf"
SEED = 20240601
DIM, LAYERS, HEADS, KV_HEADS, HIDDEN, CONTEXT = 128, 2, 4, 2, 384, 512
N_MERGES = 254
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>"]

CORPUS = """
Reviver runs large language models in batch on a cluster. Each worker loads the model once, reads a slice
of the prompts, and writes the answers back. The engine is written in Java and keeps the weights in the
compressed form of the file, so that a small machine can hold a large model. The key and value cache grows
with every token of the answer; compressing it lets longer answers fit in the same memory.
The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. A stitch in time saves
nine. The rain in Spain stays mainly in the plain. Hello, world! How are you today? I am fine, thank you.
Once upon a time there was a little model that wanted to talk. It learned the letters first, then the
words, and then the stories that the words could tell when they were put together in the right order.
"""

# GPT-2's pre-tokenisation pattern (contractions, letter runs, digit runs, other runs, whitespace)
PRE_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = {}
    extra = 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


def train_bpe(corpus, n_merges):
    """Plain BPE on byte-level words: repeatedly merge the most frequent adjacent pair (ties: smallest pair)."""
    import regex
    b2u = bytes_to_unicode()
    words = collections.Counter()
    for piece in regex.findall(PRE_PATTERN, corpus):
        words[tuple(b2u[b] for b in piece.encode("utf-8"))] += 1
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        merged = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        words = merged
    return merges


def main():
    b2u = bytes_to_unicode()
    merges = train_bpe(CORPUS, N_MERGES)
    tokens = [b2u[b] for b in range(256)]
    for a, b in merges:
        if a + b not in tokens:
            tokens.append(a + b)
    tokens += SPECIALS
    types = [1] * (len(tokens) - len(SPECIALS)) + [3] * len(SPECIALS)
    vocab = len(tokens)

    rng = np.random.default_rng(SEED)
    hs = DIM // HEADS

    def mat(rows, cols, gain=1.0):
        return (rng.standard_normal((rows, cols)) * gain / math.sqrt(cols)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    g = gw.GgufWriter()
    g.add_kv("general.architecture", gw.STRING, "llama")
    g.add_kv("general.name", gw.STRING, "reviver tiny random test model")
    g.add_kv("general.file_type", gw.UINT32, 7)
    g.add_kv("llama.context_length", gw.UINT32, CONTEXT)
    g.add_kv("llama.embedding_length", gw.UINT32, DIM)
    g.add_kv("llama.block_count", gw.UINT32, LAYERS)
    g.add_kv("llama.feed_forward_length", gw.UINT32, HIDDEN)
    g.add_kv("llama.attention.head_count", gw.UINT32, HEADS)
    g.add_kv("llama.attention.head_count_kv", gw.UINT32, KV_HEADS)
    g.add_kv("llama.attention.layer_norm_rms_epsilon", gw.FLOAT32, 1e-5)
    g.add_kv("llama.rope.freq_base", gw.FLOAT32, 10000.0)
    g.add_kv("llama.rope.dimension_count", gw.UINT32, hs)
    g.add_kv("llama.vocab_size", gw.UINT32, vocab)
    g.add_kv("tokenizer.ggml.model", gw.STRING, "gpt2")
    g.add_kv("tokenizer.ggml.pre", gw.STRING, "gpt2")
    g.add_kv("tokenizer.ggml.tokens", gw.ARRAY, tokens, gw.STRING)
    g.add_kv("tokenizer.ggml.token_type", gw.ARRAY, types, gw.INT32)
    g.add_kv("tokenizer.ggml.merges", gw.ARRAY, ["%s %s" % m for m in merges], gw.STRING)
    g.add_kv("tokenizer.ggml.bos_token_id", gw.UINT32, tokens.index(SPECIALS[0]))
    g.add_kv("tokenizer.ggml.eos_token_id", gw.UINT32, tokens.index(SPECIALS[1]))
    g.add_kv("tokenizer.ggml.add_bos_token", gw.BOOL, True)

    g.add_tensor("token_embd.weight", rng.standard_normal((vocab, DIM)).astype(np.float32), gw.Q8_0)
    for i in range(LAYERS):
        p = "blk.%d." % i
        g.add_tensor(p + "attn_norm.weight", norm(DIM), gw.F32)
        g.add_tensor(p + "attn_q.weight", mat(DIM, DIM, 1.5), gw.Q8_0)
        g.add_tensor(p + "attn_k.weight", mat(KV_HEADS * hs, DIM, 1.5), gw.Q8_0)
        g.add_tensor(p + "attn_v.weight", mat(KV_HEADS * hs, DIM), gw.Q8_0)
        g.add_tensor(p + "attn_output.weight", mat(DIM, DIM), gw.Q8_0)
        g.add_tensor(p + "ffn_norm.weight", norm(DIM), gw.F32)
        g.add_tensor(p + "ffn_gate.weight", mat(HIDDEN, DIM), gw.Q8_0)
        g.add_tensor(p + "ffn_up.weight", mat(HIDDEN, DIM), gw.Q8_0)
        g.add_tensor(p + "ffn_down.weight", mat(DIM, HIDDEN), gw.Q8_0)
    g.add_tensor("output_norm.weight", norm(DIM), gw.F32)
    g.add_tensor("output.weight", mat(vocab, DIM, 3.0), gw.Q8_0)

    data = g.to_bytes()
    path = os.path.join(HERE, NAME)
    with open(path, "wb") as f:
        f.write(data)
    with open(path + ".sha256", "w") as f:
        f.write("%s  %s\n" % (hashlib.sha256(data).hexdigest(), NAME))
    print("wrote %s (%d bytes, vocab %d, %d merges)" % (path, len(data), vocab, len(merges)))


if __name__ == "__main__":
    main()
