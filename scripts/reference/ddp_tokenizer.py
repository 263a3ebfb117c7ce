"""PyTorch's own data parallelism on the MotionMillion tokenizer, for scripts/bench/distributed.ts.

One process of a measurement; the benchmark starts one (single), two with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT
set (ddp: DistributedDataParallel over Gloo, bucket_cap_mb 25 as DDP's default), or two without them (alone: the
same two halves of the batch trained side by side with no communication, the baseline the all-reduce adds to).

  python3 ddp_tokenizer.py <batch per process> <window> <steps> <threads> [--reference <checkout> --standins <dir> [--shipped]]

With --reference the model is MotionMillion's own HumanVQVAE (FSQ 65,536, width 512, LayerNorm, Haar patcher of size 1,
its usage logging with bincount instead of its dense one-hot — the same numbers — unless --shipped); the stand-ins folder holds the einops replacement its FSQ imports. Without it, the project's
independent reference (tokenizer.py beside this file). Prints one JSON line: median step seconds after 2 warm-ups.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))


def reference_model(checkout, standins, shipped=False):
    sys.path.insert(0, standins)
    sys.path.insert(0, checkout)
    cwd = os.getcwd()
    os.chdir(checkout)
    import models.FSQ as fsq
    import models.vqvae as vqvae

    @torch.no_grad()
    def usage(self, idx):
        counts = torch.bincount(idx, minlength=self.codebook_size).float()
        p = counts / counts.sum()
        return torch.exp(-torch.sum(p * torch.log(p + 1e-7))), (counts > 0).float().mean()
    if not shipped:
        fsq.FSQ.compute_perplexity = usage

    class Args:
        dataname, quantizer, nb_code, causal, mu = 'motionmillion', 'FSQ', 65536, False, 0.99
    net = vqvae.HumanVQVAE(Args(), nb_code=65536, code_dim=512, output_emb_width=512, down_t=1, stride_t=2, width=512,
                           depth=3, dilation_growth_rate=3, activation='relu', norm='LN', kernel_size=3,
                           use_patcher=True, patch_size=1, patch_method='haar')
    os.chdir(cwd)
    return net, 'MotionMillion HumanVQVAE (' + checkout + (', as shipped' if shipped else ', usage with bincount') + ')'


def project_model():
    sys.path.insert(0, here)
    import tokenizer
    return tokenizer.Tokenizer(tokenizer.MOTIONMILLION), 'scripts/reference/tokenizer.py'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('batch', type=int)
    p.add_argument('window', type=int)
    p.add_argument('steps', type=int)
    p.add_argument('threads', type=int)
    p.add_argument('--reference')
    p.add_argument('--standins')
    p.add_argument('--shipped', action='store_true', help="keep the reference's dense one-hot usage logging")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net, source = reference_model(a.reference, a.standins, a.shipped) if a.reference else project_model()
    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    model = net
    if world > 1:
        torch.distributed.init_process_group('gloo', rank=rank, world_size=world)
        model = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, betas=(0.9, 0.99), weight_decay=0.0)
    g = torch.Generator().manual_seed(1 + rank)
    x = torch.rand(a.batch, a.window, 272, generator=g) * 4 - 2

    def step():
        pred = model(x)[0]
        loss = F.smooth_l1_loss(pred, x) + 0.5 * F.smooth_l1_loss(pred[..., 8:74], x[..., 8:74])
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()

    times = []
    for i in range(a.steps + 2):
        t0 = time.perf_counter()
        step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    times.sort()
    print(json.dumps({'side': 'pytorch', 'model': source, 'torch': torch.__version__, 'rank': rank, 'world': world,
                      'threads': a.threads, 'batch': a.batch, 'medianSeconds': times[len(times) // 2],
                      'params': sum(t.numel() for t in net.parameters())}))


if __name__ == '__main__':
    main()
