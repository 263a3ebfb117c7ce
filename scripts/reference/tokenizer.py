"""Independent PyTorch reference of the MotionMillion tokenizer (FSQ) and its training step.

Written from the architecture description (T2M-GPT Encoder/Decoder with Resnet1D, lucidrains-style FSQ), not from
torchmotion's C++. Used by the golden tests and by the tokenizer benchmark.

  golden <dir>     read weights.npz, input.npz, config.json from <dir>; write reference.npz with the forward
                   outputs, FSQ codes, loss and the parameters after one AdamW step, then the loss and parameters
                   after a second step.
  bench <threads> <steps> onehot|bincount [cpu|cuda] [fp32|bf16]
                   time training steps on the MotionMillion config (batch 64 × 96), with and without the
                   reference's dense one-hot usage logging; bf16 is autocast on CUDA (as MotionMillion's
                   mixed precision); prints JSON.
  profile          the step's time by ATen op (torch.profiler, one thread).
  channelnorm <dir>
                   read cn-input.npz (x, weight, bias, grad); write cn-reference.npz with relu(LayerNorm over the
                   channels of x) and the gradients of x, weight and bias for the upstream gradient `grad`.
  conv1d <dir>     read conv-input.npz (x, weight, bias, grad, stride, padding, dilation); write conv-reference.npz
                   with F.conv1d and the gradients of x, weight and bias for `grad`.
"""
import contextlib
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ResConv1DBlock(nn.Module):
    def __init__(self, width, dilation, norm, activation):
        super().__init__()
        self.norm = norm
        self.act = activation
        if norm:
            self.norm1 = nn.LayerNorm(width)
        self.conv1 = nn.Conv1d(width, width, 3, 1, dilation, dilation)
        if norm:
            self.norm2 = nn.LayerNorm(width)
        self.conv2 = nn.Conv1d(width, width, 1, 1, 0)

    def forward(self, x):
        h = self.norm1(x.transpose(1, 2)).transpose(1, 2) if self.norm else x
        h = self.conv1(self.act(h))
        h = self.norm2(h.transpose(1, 2)).transpose(1, 2) if self.norm else h
        h = self.conv2(self.act(h))
        return h + x


class Act(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Resnet1D(nn.Module):
    def __init__(self, width, depth, growth, norm, activation):
        super().__init__()
        dilations = [growth ** d for d in range(depth)][::-1]
        self.model = nn.Sequential(*[ResConv1DBlock(width, d, norm, activation) for d in dilations])

    def forward(self, x):
        return self.model(x)


def encoder(c, act):
    blocks = [nn.Conv1d(c['inputDim'], c['width'], 3, 1, 1), Act(act)]
    for _ in range(c['downT']):
        s = c['strideT']
        blocks.append(nn.Sequential(nn.Conv1d(c['width'], c['width'], 2 * s, s, s // 2),
                                    Resnet1D(c['width'], c['depth'], c['dilationGrowth'], c['norm'] == 'LN', act)))
    blocks.append(nn.Conv1d(c['width'], c['width'], 3, 1, 1))
    m = nn.Module()
    m.model = nn.Sequential(*blocks)
    return m


def decoder(c, act):
    blocks = [nn.Conv1d(c['width'], c['width'], 3, 1, 1), Act(act)]
    for _ in range(c['downT']):
        blocks.append(nn.Sequential(Resnet1D(c['width'], c['depth'], c['dilationGrowth'], c['norm'] == 'LN', act),
                                    nn.Upsample(scale_factor=c['strideT'], mode='nearest'),
                                    nn.Conv1d(c['width'], c['width'], 3, 1, 1)))
    blocks += [nn.Conv1d(c['width'], c['width'], 3, 1, 1), Act(act), nn.Conv1d(c['width'], c['inputDim'], 3, 1, 1)]
    m = nn.Module()
    m.model = nn.Sequential(*blocks)
    return m


class FSQ(nn.Module):
    def __init__(self, levels, width, eps=1e-3):
        super().__init__()
        # Buffers (not saved) so that .to(device) moves them with the model.
        self.register_buffer('levels', torch.tensor(levels, dtype=torch.int64), persistent=False)
        self.eps = eps
        self.register_buffer('basis', torch.cumprod(torch.tensor([1] + levels[:-1]), 0), persistent=False)
        self.project_in = nn.Linear(width, len(levels))
        self.project_out = nn.Linear(len(levels), width)

    def bound(self, z):
        half_l = (self.levels - 1) * (1 + self.eps) / 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0)
        shift = (offset / half_l).atanh()
        return (z + shift).tanh() * half_l - offset

    def forward(self, x):  # x: (B, width, T')
        z = self.project_in(x.transpose(1, 2).float())
        b = self.bound(z)
        q = b + (b.round() - b).detach()
        half_width = self.levels // 2
        zhat = q / half_width
        codes = ((zhat * half_width + half_width).round().long() * self.basis).sum(-1)
        return self.project_out(zhat).transpose(1, 2), codes


class Tokenizer(nn.Module):
    def __init__(self, c):
        super().__init__()
        act = {'relu': F.relu, 'gelu': F.gelu, 'silu': F.silu}[c['activation']]
        self.encoder = encoder(c, act)
        self.quantizer = FSQ(c['levels'], c['width'])
        self.decoder = decoder(c, act)

    def forward(self, motion):
        q, codes = self.quantizer(self.encoder.model(motion.permute(0, 2, 1)))
        return self.decoder.model(q).permute(0, 2, 1), codes


def loss_fn(pred, target, vel_weight):
    return F.smooth_l1_loss(pred, target) + vel_weight * F.smooth_l1_loss(pred[..., 8:74], target[..., 8:74])


MOTIONMILLION = dict(inputDim=272, width=512, downT=1, strideT=2, depth=3, dilationGrowth=3, norm='LN',
                     activation='relu', levels=[8, 8, 8, 5, 5, 5])


def golden(folder):
    with open(os.path.join(folder, 'config.json')) as f:
        cfg = json.load(f)
    model = Tokenizer(cfg['model'])
    weights = np.load(os.path.join(folder, 'weights.npz'))
    state = {k: torch.from_numpy(weights[k]) for k in weights.files}
    model.load_state_dict(state, strict=True)
    x = torch.from_numpy(np.load(os.path.join(folder, 'input.npz'))['motion'])
    recon, codes = model(x)
    loss = loss_fn(recon, x, cfg['velWeight'])
    opt = torch.optim.AdamW(model.parameters(), lr=cfg['lr'], betas=(0.9, 0.99), weight_decay=0.0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    out = {'reconstruction': recon.detach().numpy(), 'codes': codes.numpy().astype(np.int32), 'loss': np.array(loss.item())}
    for k, v in model.state_dict().items():
        out['after.' + k] = v.numpy().copy()
    # A second step: its update is the first one that reads the moments AdamW carried over.
    recon2, _ = model(x)
    loss2 = loss_fn(recon2, x, cfg['velWeight'])
    opt.zero_grad()
    loss2.backward()
    opt.step()
    out['loss2'] = np.array(loss2.item())
    for k, v in model.state_dict().items():
        out['second.' + k] = v.numpy()
    np.savez(os.path.join(folder, 'reference.npz'), **out)


def bench_setup(threads, device='cpu'):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Tokenizer(MOTIONMILLION).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, betas=(0.9, 0.99), weight_decay=0.0)
    return model, opt, torch.randn(64, 96, 272).to(device)


def train_step(model, opt, x, bf16=False):
    with torch.autocast('cuda', dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
        recon, codes = model(x)
        loss = loss_fn(recon, x, 0.5)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return codes


def bench(threads, steps, one_hot, device='cpu', precision='fp32'):
    bf16 = precision == 'bf16'
    if bf16 and device != 'cuda':
        sys.exit('bf16 autocast is measured on CUDA only')
    model, opt, x = bench_setup(threads, device)
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        codes = train_step(model, opt, x, bf16)
        # The reference logs codebook usage from a dense (tokens × 64,000) one-hot; the fix is bincount.
        flat = codes.reshape(-1)
        if one_hot:
            counts = F.one_hot(flat, 64000).float().sum(0)
        else:
            counts = torch.bincount(flat, minlength=64000).float()
        p = counts / counts.sum()
        _ = torch.exp(-(p * torch.log(p + 1e-7)).sum()).item()  # .item() waits for the device
        if i >= 2:
            times.append(time.perf_counter() - t0)
    times.sort()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {'threads': threads, 'oneHot': one_hot, 'device': device, 'precision': precision,
           'medianSeconds': times[len(times) // 2], 'steps': steps, 'peakRssMB': rss_mb, 'torch': torch.__version__}
    if device == 'cuda':
        out['peakGpuMB'] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(out))


def profile():
    """Where one training step's time goes, by ATen op (two steps after two warm-up steps, one thread)."""
    model, opt, x = bench_setup(1)
    for _ in range(2):
        train_step(model, opt, x)
    from torch.profiler import ProfilerActivity
    with torch.profiler.profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(2):
            train_step(model, opt, x)
    print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=12))


def channel_norm(folder):
    """LayerNorm over dim 1 of (B, C, T) then ReLU, as the residual blocks do it, and its backward."""
    d = np.load(os.path.join(folder, 'cn-input.npz'))
    x, w, b = (torch.from_numpy(d[k]).requires_grad_(True) for k in ('x', 'weight', 'bias'))
    y = F.relu(F.layer_norm(x.transpose(1, 2), (x.shape[1],), w, b, 1e-5).transpose(1, 2))
    y.backward(torch.from_numpy(d['grad']))
    np.savez(os.path.join(folder, 'cn-reference.npz'), y=y.detach().numpy(), dx=x.grad.numpy(), dweight=w.grad.numpy(),
             dbias=b.grad.numpy())


def conv1d(folder):
    """F.conv1d with the stride, padding and dilation in conv-input.npz (of x upsampled by nn.Upsample's nearest mode
    when it holds `upsample`), and its backward for the upstream gradient."""
    d = np.load(os.path.join(folder, 'conv-input.npz'))
    x, w, b = (torch.from_numpy(d[k]).requires_grad_(True) for k in ('x', 'weight', 'bias'))
    up = int(d['upsample']) if 'upsample' in d else 1
    xu = nn.Upsample(scale_factor=up, mode='nearest')(x) if up > 1 else x
    y = F.conv1d(xu, w, b, int(d['stride']), int(d['padding']), int(d['dilation']))
    y.backward(torch.from_numpy(d['grad']))
    np.savez(os.path.join(folder, 'conv-reference.npz'), y=y.detach().numpy(), dx=x.grad.numpy(), dweight=w.grad.numpy(),
             dbias=b.grad.numpy())


USAGE = 'golden <dir> | bench <threads> <steps> onehot|bincount [cpu|cuda] [fp32|bf16] | profile | channelnorm <dir> | conv1d <dir>'


def bench_args(args):
    if len(args) < 3 or args[2] not in ('onehot', 'bincount') or args[3:4] not in ([], ['cpu'], ['cuda']) \
            or args[4:5] not in ([], ['fp32'], ['bf16']):
        sys.exit(f'bench: expected <threads> <steps> onehot|bincount [cpu|cuda] [fp32|bf16], received {" ".join(args)}')
    return int(args[0]), int(args[1]), args[2] == 'onehot', *args[3:5]


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else ''
    if command == 'golden':
        golden(sys.argv[2])
    elif command == 'bench':
        bench(*bench_args(sys.argv[2:]))
    elif command == 'profile':
        profile()
    elif command == 'channelnorm':
        channel_norm(sys.argv[2])
    elif command == 'conv1d':
        conv1d(sys.argv[2])
    else:
        sys.exit(f'unknown command {command!r}: {USAGE}')
