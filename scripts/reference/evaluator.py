"""Independent PyTorch reference of the retrieval evaluator, for golden tests.

Written from the architecture description (TMR's ACTOR-style encoder): Linear(input -> latent), two learned tokens
in front, sinusoidal positions (sin on even, cos on odd channels), post-norm transformer layers (attention with a
key-padding mask, LayerNorm eps 1e-5, feed-forward with exact GELU), the first token as the embedding, L2-normalised;
a word-embedding table on the built-in text side. Loss: symmetric InfoNCE over cosine similarity / temperature with
excluded pairs set to -inf. One AdamW step after gradient-norm clipping (torch.optim.AdamW, torch's clip_grad_norm_).
Attention and the layers are written out here, not taken from nn.TransformerEncoderLayer.

  golden <dir>   reads weights.npz, input.npz, config.json; writes reference.npz with the text and motion
                 embeddings (eval mode), the loss and gradient norm of one training step (dropout 0), and every
                 parameter after that step.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def positions(length, dim):
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * rate)
    table[:, 1::2] = torch.cos(pos * rate)
    return table


def layer(p, prefix, x, padded, heads):
    B, L, D = x.shape
    hd = D // heads
    qkv = x @ p[prefix + 'self_attn.in_proj_weight'].T + p[prefix + 'self_attn.in_proj_bias']
    q, k, v = (t.reshape(B, L, heads, hd).transpose(1, 2) for t in qkv.split(D, -1))
    scores = (q / math.sqrt(hd)) @ k.transpose(-1, -2)
    scores = scores.masked_fill(padded[:, None, None, :], float('-inf'))
    attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, L, D)
    attended = attended @ p[prefix + 'self_attn.out_proj.weight'].T + p[prefix + 'self_attn.out_proj.bias']
    x = F.layer_norm(x + attended, (D,), p[prefix + 'norm1.weight'], p[prefix + 'norm1.bias'], 1e-5)
    ff = F.gelu(x @ p[prefix + 'linear1.weight'].T + p[prefix + 'linear1.bias'])
    ff = ff @ p[prefix + 'linear2.weight'].T + p[prefix + 'linear2.bias']
    return F.layer_norm(x + ff, (D,), p[prefix + 'norm2.weight'], p[prefix + 'norm2.bias'], 1e-5)


def encode(p, side, x, lengths, cfg):
    B, L, _ = x.shape
    h = x @ p[side + '.projection.weight'].T + p[side + '.projection.bias']
    tokens = p[side + '.tokens']
    h = torch.cat([tokens[None].expand(B, 2, tokens.shape[1]), h], 1)
    h = h + positions(L + 2, h.shape[-1])[None]
    padded = torch.arange(L + 2)[None, :] >= (lengths[:, None] + 2)
    n = cfg[side.replace('encoder', '') + 'Layers']
    for i in range(n):
        h = layer(p, f'{side}.seqTransEncoder.layers.{i}.', h, padded, cfg['heads'])
    return F.normalize(h[:, 0], dim=1)


def embed_text(p, ids_or_emb, lengths, cfg):
    x = p['words.weight'][ids_or_emb] if 'words.weight' in p else ids_or_emb
    return encode(p, 'textencoder', x, lengths, cfg)


def info_nce(t, m, exclude, temperature):
    sim = (t @ m.T) / temperature
    eye = torch.eye(len(t), dtype=torch.bool)
    sim = sim.masked_fill(exclude & ~eye, float('-inf'))
    labels = torch.arange(len(t))
    return 0.5 * (F.cross_entropy(sim, labels) + F.cross_entropy(sim.T, labels))


def golden(folder):
    cfg = json.load(open(os.path.join(folder, 'config.json')))
    w = np.load(os.path.join(folder, 'weights.npz'))
    inp = np.load(os.path.join(folder, 'input.npz'))
    names = list(w.keys())
    p = {k: torch.tensor(w[k], requires_grad=True) for k in names}
    text = torch.tensor(inp['text']).long() if 'words.weight' in p else torch.tensor(inp['text'])
    tlen, motion, mlen = torch.tensor(inp['textLengths']).long(), torch.tensor(inp['motion']), torch.tensor(inp['motionLengths']).long()
    exclude = torch.tensor(inp['exclude']).bool()
    with torch.no_grad():
        t_emb = embed_text(p, text, tlen, cfg['model'])
        m_emb = encode(p, 'motionencoder', motion, mlen, cfg['model'])
    s = cfg['step']
    opt = torch.optim.AdamW([p[k] for k in names], lr=s['lr'], betas=(s['beta1'], s['beta2']), eps=s['eps'], weight_decay=s['weightDecay'])
    loss = info_nce(embed_text(p, text, tlen, cfg['model']), encode(p, 'motionencoder', motion, mlen, cfg['model']), exclude, s['temperature'])
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_([p[k] for k in names], s['clip'])
    opt.step()
    out = {'textEmbedding': t_emb.numpy(), 'motionEmbedding': m_emb.numpy(), 'loss': np.array([loss.item()]), 'gradNorm': np.array([norm.item()])}
    out.update({'after.' + k: p[k].detach().numpy() for k in names})
    np.savez(os.path.join(folder, 'reference.npz'), **out)


if __name__ == '__main__':
    torch.manual_seed(0)
    if len(sys.argv) != 3 or sys.argv[1] != 'golden':
        sys.exit('usage: evaluator.py golden <dir>')
    golden(sys.argv[2])
