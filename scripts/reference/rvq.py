"""Independent PyTorch reference of a tokenizer with MoMask's residual VQ (RVQ) and its training step.

Written from MoMask's description (models/vq/residual_vq.py and quantizer.py of EricGuo5513/momask-codes: Q layers
of QuantizeEMAReset, each quantising the residual the layers before it left, the output the sum of the layers'
straight-through outputs, the commitment loss the mean over the layers used, quantizer dropout keeping layers
0..n-1), not from torchmotion's C++. The encoder, decoder and reconstruction loss are scripts/reference/tokenizer.py's.
Two deliberate differences from MoMask, both torchmotion's choices and stated in docs/fsq-vs-vq.md: codes are the
nearest entries (MoMask samples them with Gumbel noise at temperature 0.5 while training), and a dead code is
re-drawn from a random row of the layer's input (MoMask takes the first rows). The re-drawn rows depend on
LibTorch's generator, so this script reports, for each layer, which rows were kept (`kept`) and the layer's input
rows (`input`): a test checks the kept rows exactly and that every re-drawn row is one of the inputs.

  golden <dir>     read weights.npz, input.npz and config.json from <dir>; write reference.npz:
                   eval.*   the eval-mode forward: reconstruction, codes (B, T', Q) per layer, decode of input codes
                   full.*   one training step with every layer: loss, commitment, layer-0 perplexity and codes used,
                            codes, each layer's input and kept rows, the state after the AdamW step and EMA update
                   drop.*   the same with only the first `layersUsed` layers (quantizer dropout's draw, given)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer import decoder, encoder, loss_fn  # noqa: E402  (the FSQ reference's encoder, decoder and loss)


class EmaResetCodebook(nn.Module):
    """One VQ layer: nearest code, EMA of code sums and counts (mu), codes whose count falls below 1 re-drawn."""

    def __init__(self, codes, width, mu):
        super().__init__()
        self.codes, self.width, self.mu = codes, width, mu
        self.register_buffer('codebook', torch.zeros(codes, width))
        self.register_buffer('code_sum', torch.zeros(codes, width))
        self.register_buffer('code_count', torch.zeros(codes))
        self.record = {}

    def nearest(self, x):
        distance = (x ** 2).sum(-1, keepdim=True) - 2 * x @ self.codebook.t() + (self.codebook ** 2).sum(-1)[None, :]
        return distance.argmin(-1)

    @torch.no_grad()
    def learn(self, x, idx):
        one_hot = torch.zeros(self.codes, x.shape[0])
        one_hot[idx, torch.arange(x.shape[0])] = 1.0
        self.code_sum.mul_(self.mu).add_((1 - self.mu) * (one_hot @ x))
        self.code_count.mul_(self.mu).add_((1 - self.mu) * one_hot.sum(-1))
        kept = self.code_count >= 1.0
        centre = self.code_sum / self.code_count[:, None]
        # Re-drawn rows: unknown here (LibTorch's generator picks them); NaN marks them.
        self.codebook.copy_(torch.where(kept[:, None], centre, torch.full_like(centre, float('nan'))))
        self.record = {'kept': kept.numpy().astype(np.uint8), 'input': x.numpy().copy()}

    def forward(self, z):  # z: (B, width, T')
        B, width, T = z.shape
        x = z.permute(0, 2, 1).reshape(-1, width)
        idx = self.nearest(x.detach())
        xd = self.codebook[idx]
        if self.training:
            self.learn(x.detach(), idx)
        commit = F.mse_loss(x, xd.detach())
        out = x + (xd - x).detach()
        return out.reshape(B, T, width).permute(0, 2, 1), idx.reshape(B, T), commit


class ResidualVQ(nn.Module):
    def __init__(self, layers, codes, width, mu):
        super().__init__()
        self.layers = nn.ModuleList([EmaResetCodebook(codes, width, mu) for _ in range(layers)])

    def forward(self, z, used):
        residual, out, losses, codes = z, 0.0, [], []
        for layer in self.layers[:used]:
            q, idx, commit = layer(residual)
            residual = residual - q.detach()
            out = out + q
            losses.append(commit)
            codes.append(idx)
        codes += [torch.full_like(codes[0], -1)] * (len(self.layers) - used)
        return out, torch.stack(codes, -1), sum(losses) / len(losses)

    def dequantize(self, codes):  # (B, T', Q) → (B, width, T')
        return sum(layer.codebook[codes[..., l]] for l, layer in enumerate(self.layers)).permute(0, 2, 1)


class RvqTokenizer(nn.Module):
    def __init__(self, c):
        super().__init__()
        act = {'relu': F.relu, 'gelu': F.gelu, 'silu': F.silu}[c['activation']]
        self.encoder = encoder(c, act)
        self.quantizer = ResidualVQ(c['layers'], c['codes'], c['width'], c['mu'])
        self.decoder = decoder(c, act)

    def forward(self, motion, used):
        q, codes, commit = self.quantizer(self.encoder.model(motion.permute(0, 2, 1)), used)
        return self.decoder.model(q).permute(0, 2, 1), codes, commit

    def decode(self, codes):
        return self.decoder.model(self.quantizer.dequantize(codes)).permute(0, 2, 1)


def load(cfg, weights):
    model = RvqTokenizer(cfg['model'])
    state = {k: torch.from_numpy(weights[k]) for k in weights.files}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # `initialised` flags are torchmotion's (the reference starts from initialised codebooks); nothing else may differ.
    assert not missing and all(k.endswith('.initialised') for k in unexpected), (missing, unexpected)
    return model


def train_step(cfg, weights, x, used, prefix, out):
    model = load(cfg, weights)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg['lr'], betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0)
    recon, codes, commit = model(x, used)
    loss = loss_fn(recon, x, cfg['velWeight']) + cfg['commitBeta'] * commit
    opt.zero_grad()
    loss.backward()
    opt.step()
    counts = torch.bincount(codes[..., 0].reshape(-1), minlength=cfg['model']['codes']).double()
    p = counts / counts.sum()
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum().item()
    out[prefix + 'loss'] = np.array(loss.item())
    out[prefix + 'commitment'] = np.array(commit.item())
    out[prefix + 'perplexity'] = np.array(math.exp(entropy))
    out[prefix + 'codesUsed'] = np.array(int((counts > 0).sum()))
    out[prefix + 'codes'] = codes.numpy().astype(np.int32)
    for k, v in model.state_dict().items():
        out[prefix + 'after.' + k] = v.numpy().copy()
    for l, layer in enumerate(model.quantizer.layers[:used]):
        out[f'{prefix}kept.{l}'] = layer.record['kept']
        out[f'{prefix}input.{l}'] = layer.record['input']


def golden(folder):
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    weights = np.load(os.path.join(folder, 'weights.npz'))
    inputs = np.load(os.path.join(folder, 'input.npz'))
    x = torch.from_numpy(inputs['motion'])
    out = {}
    model = load(cfg, weights)
    model.eval()
    with torch.no_grad():
        recon, codes, _ = model(x, cfg['model']['layers'])
        out['eval.reconstruction'] = recon.numpy()
        out['eval.codes'] = codes.numpy().astype(np.int32)
        out['eval.decode'] = model.decode(torch.from_numpy(inputs['codes']).long()).numpy()
    train_step(cfg, weights, x, cfg['model']['layers'], 'full.', out)
    train_step(cfg, weights, x, cfg['layersUsed'], 'drop.', out)
    np.savez(os.path.join(folder, 'reference.npz'), **out)


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'golden':
        golden(sys.argv[2])
    else:
        sys.exit('usage: rvq.py golden <dir>')
