"""A Llama-architecture decoder in torch: RMSNorm, RoPE on adjacent pairs (GGUF `llama` layout: pairs (2i, 2i+1)
of each head rotated by pos * base^(-2i/headSize)), grouped-query attention (nKvHeads < nHeads), SwiGLU FFN, no
biases, input/output embedding tied unless `Config.tied` is false."""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: int = 4059
    dim: int = 256
    n_layers: int = 4
    n_heads: int = 8
    n_kv_heads: int = 2
    hidden_dim: int = 768
    context_length: int = 2048
    rope_base: float = 10000.0
    eps: float = 1e-5
    tied: bool = True  # output projection shares the token embedding (else a separate `output.weight`)

    @property
    def head_size(self):
        return self.dim // self.n_heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n, device=None):
    hs = cfg.head_size
    inv = cfg.rope_base ** (-torch.arange(0, hs, 2, dtype=torch.float64) / hs)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]  # (n, hs/2)
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    """x: (B, H, T, hs); rotates adjacent pairs (x[2i], x[2i+1])."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hs = cfg.head_size
        self.attn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * hs, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * hs, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * hs, bias=False)
        self.wo = nn.Linear(cfg.n_heads * hs, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.eps)
        self.w1 = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)  # gate
        self.w3 = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)  # up
        self.w2 = nn.Linear(cfg.hidden_dim, cfg.dim, bias=False)  # down

    def forward(self, x, cos, sin, mask):
        cfg = self.cfg
        B, T, _ = x.shape
        hs = cfg.head_size
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, cfg.n_heads, hs).transpose(1, 2)
        k = self.wk(h).view(B, T, cfg.n_kv_heads, hs).transpose(1, 2)
        v = self.wv(h).view(B, T, cfg.n_kv_heads, hs).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = cfg.n_heads // cfg.n_kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, cfg.n_heads * hs)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        self.head = None if cfg.tied else nn.Linear(cfg.dim, cfg.vocab, bias=False)
        self.apply(self._init)
        for b in self.blocks:  # scaled init of residual projections
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(b.w2.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        B, T = ids.shape
        cos, sin = rope_tables(self.cfg, T)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return self.norm(x) @ self.output_weight().T

    def output_weight(self):
        """The output projection (vocab, dim): the token embedding when tied."""
        return self.embed.weight if self.head is None else self.head.weight

    def n_params(self):
        return sum(p.numel() for p in self.parameters())
