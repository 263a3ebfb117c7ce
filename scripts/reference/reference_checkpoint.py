"""Checkpoints in exactly the MotionMillion reference's structure, and the reference-named module trees that load them
with load_state_dict(strict=True), for torchmotion's import/export golden tests.

The module trees reuse this folder's independent models (tokenizer.py, t2m.py) for the arithmetic and carry the
reference's names: the tokenizer as `vqvae.{encoder,quantizer,decoder}` with a parameter-free Haar patcher (patch size
1, an identity holding persistent `wavelets`/`_arange` buffers) at `encoder.model.0` and an un-patcher ending the
decoder; the decoder as `transformer.wte`, `transformer.h.{i}.{rms_1,attn,rms_2,mlp}`, `transformer.ln_f`, `lm_head`,
`llama_proj`. The files add what released ones hold: a `module.` prefix, an optimizer, a MultiStepLR scheduler (its
milestones a collections.Counter), iteration counts, an instance of a class no reader knows, bf16 tensors.

  write-tokenizer <out dir> <config json>      fsq_net.pth + reference-run.npz (motion, reconstruction, codes)
  write-t2m <out dir> <config json>            net_t2m.pth (bf16 weights) + reference-run.npz (text, lengths, codes,
                                               logits, greedy tokens) computed with the bf16 weights widened to fp32
  check-tokenizer <file> <config json> <npz in> <npz out>   strict load (.pth under `net`, or .safetensors), then run
  check-t2m <file> <config json> <npz in> <npz out>         strict load (.pth under `trans`, or .safetensors), then run
"""
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from t2m import prefix_masks, rope  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from torch_load import load_safetensors  # noqa: E402


class TrainerState:
    def __init__(self):
        self.note = 'unknown to any reader'


class HaarPatcher(nn.Module):
    """Patch size 1: the identity, with the buffers the reference's patchers register."""

    def __init__(self):
        super().__init__()
        self.register_buffer('wavelets', torch.tensor([0.7071067811865476, 0.7071067811865476]))
        self.register_buffer('_arange', torch.arange(2))

    def forward(self, x):
        return x


class ReferenceTokenizer(nn.Module):
    def __init__(self, c):
        super().__init__()
        t = Tokenizer(c)
        t.encoder.model = nn.Sequential(HaarPatcher(), *t.encoder.model)
        t.decoder.model = nn.Sequential(*t.decoder.model, HaarPatcher())
        self.vqvae = t

    def forward(self, motion):
        return self.vqvae(motion)


class Rms(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.scale


class Attn(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.h = heads
        self.c_attn = nn.Linear(dim, 3 * dim, bias=False)
        self.c_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x, pos, allowed, base):
        B, L, D = x.shape
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.view(B, L, self.h, D // self.h) for t in (q, k, v))
        q, k = rope(q, pos, base).transpose(1, 2), rope(k, pos, base).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / (D // self.h) ** 0.5
        y = att.masked_fill(~allowed[:, None], float('-inf')).softmax(-1) @ v.transpose(1, 2)
        return self.c_proj(y.transpose(1, 2).reshape(B, L, D))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.c_fc1 = nn.Linear(dim, hidden, bias=False)
        self.c_fc2 = nn.Linear(dim, hidden, bias=False)
        self.c_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.c_proj(F.silu(self.c_fc1(x)) * self.c_fc2(x))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.rms_1 = Rms(dim)
        self.attn = Attn(dim, heads)
        self.rms_2 = Rms(dim)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x, pos, allowed, base):
        x = x + self.attn(self.rms_1(x), pos, allowed, base)
        return x + self.mlp(self.rms_2(x))


class ReferenceDecoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.base = c.get('ropeBase', 10000.0)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c['vocab'], c['dim']),
            h=nn.ModuleList([Block(c['dim'], c['heads'], c['hidden']) for _ in range(c['layers'])]),
            ln_f=Rms(c['dim'])))
        self.lm_head = nn.Linear(c['dim'], c['vocab'] - 1, bias=False)
        self.llama_proj = nn.Linear(c['textDim'], c['dim'])

    def hidden(self, text, lengths, codes_in):
        x = self.llama_proj(text)
        if codes_in.shape[1]:
            x = torch.cat([x, self.transformer.wte(codes_in)], 1)
        pos, allowed = prefix_masks(text, lengths, x.shape[1])
        for block in self.transformer.h:
            x = block(x, pos, allowed, self.base)
        return x

    def head(self, h):
        return self.lm_head(self.transformer.ln_f(h))


def state_of(file, key):
    if file.endswith('.safetensors'):
        return load_safetensors(file)[0]
    sd = torch.load(file, map_location='cpu')[key]
    return {k[len('module.'):] if k.startswith('module.') else k: v.float() for k, v in sd.items()}


def training_entries(model, nb_iter):
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[150000, 250000], gamma=0.05)
    assert isinstance(sched.state_dict()['milestones'], collections.Counter)
    return {'optimizer': opt.state_dict(), 'scheduler': sched.state_dict(), 'nb_iter': nb_iter, 'trainer': TrainerState()}


def motion_input():
    return torch.sin(torch.arange(2 * 64 * 272, dtype=torch.float32) * 0.37).reshape(2, 64, 272) * 1.5


def t2m_input(c):
    g = torch.Generator().manual_seed(3)
    text = torch.rand(2, 6, c['textDim'], generator=g) * 2 - 1
    lengths = torch.tensor([3, 6])
    codes = torch.randint(0, c['vocab'] - 2, (2, 7), generator=g)
    codes[0, 4:] = torch.tensor([c['vocab'] - 2, c['vocab'] - 1, c['vocab'] - 1])
    return text, lengths, codes


def run_tokenizer(model, motion):
    with torch.no_grad():
        recon, codes = model(motion)
    return {'reconstruction': recon.numpy(), 'codes': codes.numpy().astype(np.int32)}


def run_t2m(model, text, lengths, codes, max_tokens=12):
    Lt, Lc = text.shape[1], codes.shape[1]
    with torch.no_grad():
        logits = model.head(model.hidden(text, lengths, codes[:, :-1])[:, Lt - 1:Lt - 1 + Lc])
        out = torch.zeros(text.shape[0], 0, dtype=torch.long)
        for _ in range(max_tokens):  # greedy, the whole sequence recomputed every step
            out = torch.cat([out, model.head(model.hidden(text, lengths, out)[:, -1]).argmax(-1, keepdim=True)], 1)
    return {'logits': logits.numpy(), 'tokens': out.numpy().astype(np.int32)}


def write_tokenizer(out, config):
    c = json.loads(config)
    torch.manual_seed(7)
    model = ReferenceTokenizer(c)
    net = collections.OrderedDict(('module.' + k, v) for k, v in model.state_dict().items())
    torch.save({'net': net, **training_entries(model, 6000000)}, os.path.join(out, 'fsq_net.pth'))
    x = motion_input()
    np.savez(os.path.join(out, 'reference-run.npz'), motion=x.numpy(), **run_tokenizer(model, x))


def write_t2m(out, config):
    c = json.loads(config)
    torch.manual_seed(9)
    model = ReferenceDecoder(c)
    with torch.no_grad():  # the file holds bf16; the reference run uses the same values widened
        for p in model.parameters():
            p.copy_(p.bfloat16().float())
    trans = collections.OrderedDict(('module.' + k, v.bfloat16()) for k, v in model.state_dict().items())
    torch.save({'trans': trans, **training_entries(model, 120000), 'actual_nb_iter': 480000}, os.path.join(out, 'net_t2m.pth'))
    text, lengths, codes = t2m_input(c)
    np.savez(os.path.join(out, 'reference-run.npz'), text=text.numpy(), lengths=lengths.numpy().astype(np.int32),
             codes=codes.numpy().astype(np.int32), **run_t2m(model, text, lengths, codes))


def check(kind, file, config, npz_in, npz_out):
    c = json.loads(config)
    model = ReferenceTokenizer(c) if kind == 'tokenizer' else ReferenceDecoder(c)
    sd = state_of(file, 'net' if kind == 'tokenizer' else 'trans')
    model.load_state_dict(sd, strict=True)
    inp = np.load(npz_in)
    if kind == 'tokenizer':
        result = run_tokenizer(model, torch.from_numpy(inp['motion']))
    else:
        result = run_t2m(model, torch.from_numpy(inp['text']), torch.from_numpy(inp['lengths']).long(),
                         torch.from_numpy(inp['codes']).long())
    np.savez(npz_out, **result)


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'write-tokenizer':
        write_tokenizer(*args)
    elif cmd == 'write-t2m':
        write_t2m(*args)
    elif cmd in ('check-tokenizer', 'check-t2m'):
        check(cmd[len('check-'):], *args)
    else:
        sys.exit(f'unknown command {cmd}')
