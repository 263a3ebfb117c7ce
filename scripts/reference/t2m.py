"""Independent PyTorch reference of the text-to-motion decoder (LLaMA-style prefix LM), for golden tests.

Written from the architecture description: pre-RMSNorm, fused QKV without bias, rotary embeddings on interleaved
pairs (base 10000), SwiGLU, final RMSNorm, a 64,001-way head; the text prefix (left-padded token embeddings
through Linear(text_dim -> dim)) attends fully among its valid tokens, everything else causally.

  golden <dir>   reads weights.npz, input.npz, config.json; writes reference.npz with the code-slot logits and the
                 greedy tokens generated WITHOUT a KV cache.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight


def rope(x, pos, base):
    hd = x.shape[-1]
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = pos.double()[..., None] * inv  # (B, L, hd/2)
    c, s = ang.cos().float()[:, :, None, :], ang.sin().float()[:, :, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.h, self.hd = heads, dim // heads
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, pos, allowed, base):
        B, L, D = x.shape
        q, k, v = self.wqkv(x).view(B, L, 3, self.h, self.hd).unbind(2)
        q, k = rope(q, pos, base).transpose(1, 2), rope(k, pos, base).transpose(1, 2)
        v = v.transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)
        att = att.masked_fill(~allowed[:, None], float('-inf')).softmax(-1)
        return self.wo((att @ v).transpose(1, 2).reshape(B, L, D))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.attention = Attention(dim, heads)
        self.feed_forward = FeedForward(dim, hidden)
        self.attention_norm = RMSNorm(dim)
        self.ffn_norm = RMSNorm(dim)

    def forward(self, x, pos, allowed, base):
        h = x + self.attention(self.attention_norm(x), pos, allowed, base)
        return h + self.feed_forward(self.ffn_norm(h))


def prefix_masks(text, lengths, L):
    """Positions and the (B, L, L) attention mask of a left-padded text prefix followed by codes."""
    Lt = text.shape[1]
    first_valid = (Lt - lengths)[:, None]               # left padding ends here
    slot = torch.arange(L)[None]
    pos = (slot - first_valid).clamp(min=0)
    pad = slot < first_valid                            # (B, L)
    text_slot = slot < Lt                               # (1, L)
    i, j = torch.arange(L)[:, None], torch.arange(L)[None, :]
    both_text = text_slot[0][:, None] & text_slot[0][None, :]
    allowed = ((j <= i) | both_text)[None] & ~pad[:, None, :]
    return pos, allowed | (i == j)[None]


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.base = c.get('ropeBase', 10000.0)
        self.tok_embeddings = nn.Embedding(c['vocab'], c['dim'])
        self.text_proj = nn.Linear(c['textDim'], c['dim'])
        self.layers = nn.ModuleList([Block(c['dim'], c['heads'], c['hidden']) for _ in range(c['layers'])])
        self.norm = RMSNorm(c['dim'])
        self.output = nn.Linear(c['dim'], c['vocab'] - 1, bias=False)

    def hidden(self, text, lengths, codes_in):
        B, Lt, _ = text.shape
        x = self.text_proj(text)
        if codes_in.shape[1]:
            x = torch.cat([x, self.tok_embeddings(codes_in)], 1)
        pos, allowed = prefix_masks(text, lengths, x.shape[1])
        for layer in self.layers:
            x = layer(x, pos, allowed, self.base)
        return x

    def head(self, h):
        return self.output(self.norm(h))


def golden(folder):
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    model = Decoder(cfg['model'])
    w = np.load(os.path.join(folder, 'weights.npz'))
    model.load_state_dict({k: torch.from_numpy(w[k]) for k in w.files}, strict=True)
    model.eval()
    inp = np.load(os.path.join(folder, 'input.npz'))
    text = torch.from_numpy(inp['text'])
    lengths = torch.from_numpy(inp['lengths']).long()
    codes = torch.from_numpy(inp['codes']).long()
    Lt, Lc = text.shape[1], codes.shape[1]
    with torch.no_grad():
        logits = model.head(model.hidden(text, lengths, codes[:, :-1])[:, Lt - 1:Lt - 1 + Lc])
        # Greedy decoding, recomputing the whole sequence every step (no cache).
        end = cfg['model']['vocab'] - 2
        pad = cfg['model']['vocab'] - 1
        out = torch.full((text.shape[0], cfg['maxTokens']), pad, dtype=torch.long)
        done = torch.zeros(text.shape[0], dtype=torch.bool)
        for t in range(cfg['maxTokens']):
            h = model.hidden(text, lengths, out[:, :t])
            nxt = model.head(h[:, -1]).argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, pad), nxt)
            out[:, t] = nxt
            done |= nxt == end
            if done.all():
                break
    np.savez(os.path.join(folder, 'reference.npz'), logits=logits.numpy(), tokens=out.numpy().astype(np.int32))


def bench(what, steps_or_tokens):
    # The reference as measured in the brief: 44M config, vocabulary 64,002, text width 2048, one thread.
    import resource
    import time
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = dict(vocab=64002, dim=512, layers=8, heads=8, hidden=1536, textDim=2048)
    model = Decoder(cfg)
    if what == 'train':
        # Batch 8 x 301: 150 text slots + 150 codes + END; the head and cross-entropy run on every position.
        opt = torch.optim.AdamW(model.parameters(), lr=4e-4, betas=(0.9, 0.95), eps=1e-6, weight_decay=1e-6)
        text = torch.randn(8, 150, 2048)
        lengths = torch.full((8,), 150)
        codes = torch.randint(0, 64000, (8, 151))
        codes[:, -1] = 64000
        times = []
        for k in range(steps_or_tokens + 1):
            t0 = time.perf_counter()
            h = model.hidden(text, lengths, codes[:, :-1])
            logits = model.head(h)                                   # all 300 positions
            targets = torch.cat([torch.full((8, 149), 64001), codes], 1)  # text slots ignored via PAD
            loss = F.cross_entropy(logits.reshape(-1, 64001), targets.reshape(-1), ignore_index=64001)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if k > 0:
                times.append(time.perf_counter() - t0)
        times.sort()
        result = {'what': 'train', 'medianSeconds': times[len(times) // 2]}
    else:
        model.eval()
        text = torch.randn(1, 150, 2048)
        lengths = torch.full((1,), 150)
        out = torch.zeros(1, 0, dtype=torch.long)
        t0 = time.perf_counter()
        with torch.no_grad():
            for t in range(steps_or_tokens):   # greedy, no KV cache: the whole sequence every step
                nxt = model.head(model.hidden(text, lengths, out)[:, -1])[:, :64000].argmax(-1)
                out = torch.cat([out, nxt[:, None]], 1)
        result = {'what': 'generate', 'tokens': steps_or_tokens, 'seconds': time.perf_counter() - t0}
    result['peakRssMB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == '__main__':
    if sys.argv[1] == 'golden':
        golden(sys.argv[2])
    elif sys.argv[1] == 'bench':
        bench(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit('usage: t2m.py golden <dir> | bench train <steps> | bench generate <tokens>')
