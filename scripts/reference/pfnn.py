"""Independent PyTorch reference of the Phase-Functioned Neural Network (Holden et al. 2017) and its training step.

Written from the paper and the original Theano code's description (../shared/docs/pfnn.md), not from torchmotion's C++:
each sample's weights are blended from the 4 control points by the cyclic Catmull-Rom cubic of its phase (the
original's per-sample gather and blend), ELU, dropout with keep probability `keep` before each layer, loss = MSE +
gamma · the mean |W| of each layer averaged over the layers, Adam.

  golden <dir>      read weights.npz (W0, b0, W1, b1, W2, b2), input.npz (x, phase, y) and config.json (gamma, lr);
                    write reference.npz: `forward` (eval mode) for the batch, the loss and its parts (keep = 1, so no
                    dropout), and every parameter after one Adam step.
  bench <threads> <steps> <batch> blend|mix
                    time training steps of the 240 → 512 → 512 → 296 network on random rows; `blend` builds each
                    sample's weights (as the original and public ports do), `mix` mixes the 4 control points' outputs
                    (the same arithmetic torchmotion uses). Prints JSON.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def cubic_indices(phase):
    p = phase * 4
    k1 = torch.floor(p).long() % 4
    w = p - torch.floor(p)
    return [(k1 - 1) % 4, k1, (k1 + 1) % 4, (k1 + 2) % 4], w


def cubic(y0, y1, y2, y3, mu):
    return ((-0.5 * y0 + 1.5 * y1 - 1.5 * y2 + 0.5 * y3) * mu ** 3 + (y0 - 2.5 * y1 + 2 * y2 - 0.5 * y3) * mu ** 2 +
            (-0.5 * y0 + 0.5 * y2) * mu + y1)


def mix_weights(idx, w):
    """(B, 4): how much each control point's output contributes at each sample's phase."""
    one = torch.ones_like(w)
    parts = [cubic(one, 0 * one, 0 * one, 0 * one, w), cubic(0 * one, one, 0 * one, 0 * one, w),
             cubic(0 * one, 0 * one, one, 0 * one, w), cubic(0 * one, 0 * one, 0 * one, one, w)]
    out = torch.zeros(w.shape[0], 4, dtype=w.dtype)
    for k, c in zip(idx, parts):
        out.scatter_add_(1, k[:, None], c[:, None])
    return out


class PFNN(nn.Module):
    def __init__(self, n_in, n_out, hidden=512, keep=0.7, mode='blend'):
        super().__init__()
        self.keep, self.mode = keep, mode
        shapes = [(hidden, n_in), (hidden, hidden), (n_out, hidden)]
        for i, (o, n) in enumerate(shapes):
            bound = (6.0 / (n + o)) ** 0.5
            setattr(self, f'W{i}', nn.Parameter(torch.empty(4, o, n).uniform_(-bound, bound)))
            setattr(self, f'b{i}', nn.Parameter(torch.zeros(4, o)))

    def layer(self, x, i, idx, w):
        W, b = getattr(self, f'W{i}'), getattr(self, f'b{i}')
        x = F.dropout(x, 1 - self.keep, self.training)
        mu = w[:, None, None]
        if self.mode == 'blend':
            Wp = cubic(W[idx[0]], W[idx[1]], W[idx[2]], W[idx[3]], mu)            # (B, out, in)
            bp = cubic(b[idx[0]], b[idx[1]], b[idx[2]], b[idx[3]], w[:, None])     # (B, out)
            return torch.bmm(Wp, x[:, :, None])[:, :, 0] + bp
        h = (x @ W.reshape(4 * W.shape[1], W.shape[2]).t()).view(x.shape[0], 4, W.shape[1]) + b[None]   # (B, 4, out)
        return (mix_weights(idx, w).to(x.dtype)[:, :, None] * h).sum(1)

    def forward(self, x, phase):
        idx, w = cubic_indices(phase)
        h = F.elu(self.layer(x, 0, idx, w))
        h = F.elu(self.layer(h, 1, idx, w))
        return self.layer(h, 2, idx, w)

    def penalty(self):
        return (self.W0.abs().mean() + self.W1.abs().mean() + self.W2.abs().mean()) / 3


def golden(folder):
    weights = np.load(f'{folder}/weights.npz')
    data = np.load(f'{folder}/input.npz')
    cfg = json.load(open(f'{folder}/config.json'))
    x = torch.tensor(data['x'], dtype=torch.float64)
    y = torch.tensor(data['y'], dtype=torch.float64)
    phase = torch.tensor(data['phase'], dtype=torch.float64)
    net = PFNN(x.shape[1], y.shape[1], weights['W0'].shape[1], keep=1.0).double()
    with torch.no_grad():
        for k in ['W0', 'b0', 'W1', 'b1', 'W2', 'b2']:
            getattr(net, k).copy_(torch.tensor(weights[k], dtype=torch.float64))
    net.eval()
    with torch.no_grad():
        out = net(x, phase)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=cfg['lr'], betas=(0.9, 0.999), eps=1e-8)
    mse = F.mse_loss(net(x, phase), y)
    penalty = net.penalty()
    loss = mse + cfg['gamma'] * penalty
    opt.zero_grad()
    loss.backward()
    opt.step()
    result = {'forward': out.numpy(), 'loss': loss.item(), 'mse': mse.item(), 'penalty': penalty.item()}
    for k in ['W0', 'b0', 'W1', 'b1', 'W2', 'b2']:
        result[f'after_{k}'] = getattr(net, k).detach().numpy()
    np.savez(f'{folder}/reference.npz', **result)


def bench(threads, steps, batch, mode):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = PFNN(240, 296, 512, mode=mode)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x, y, phase = torch.randn(batch, 240), torch.randn(batch, 296), torch.rand(batch)

    def step():
        loss = F.mse_loss(net(x, phase), y) + 0.01 * net.penalty()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - t0) / steps
    print(json.dumps({'side': 'pytorch', 'mode': mode, 'threads': threads, 'batch': batch, 'secondsPerStep': seconds,
                      'rowsPerSecond': batch / seconds, 'torch': torch.__version__}))


if __name__ == '__main__':
    if sys.argv[1] == 'golden':
        golden(sys.argv[2])
    elif sys.argv[1] == 'bench':
        bench(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
