"""Writes torch.save files the way PyTorch users have them, for the reader's tests, plus what they hold as JSON.

checkpoint.pth: {'net': state dict with a `module.` prefix (fp32, bf16, fp16, int64, a transposed view, two slices
of one storage, a 0-d tensor, an empty one), 'optimizer': {...}, 'scheduler': a state with a collections.Counter,
'nb_iter': int, 'custom': an instance of a class defined here (unknown to any reader), 'hostile': objects whose
__reduce__ names os.system, builtins.eval and subprocess.Popen with a command that would create `marker`}.
Usage: python3 torch_checkpoints.py <out dir>
"""
import collections
import json
import os
import subprocess
import sys

import torch


class Custom:
    def __init__(self):
        self.value = 3


class Hostile:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def main(out):
    torch.manual_seed(0)
    marker = os.path.join(out, 'marker')
    base = torch.randn(6, 5)
    shared = torch.arange(12, dtype=torch.float32)
    net = collections.OrderedDict([
        ('module.encoder.weight', torch.randn(4, 3, 2)),
        ('module.encoder.bias_bf16', torch.randn(7).to(torch.bfloat16)),
        ('module.half', torch.randn(2, 3).to(torch.float16)),
        ('module.steps', torch.tensor([1, -2, 3_000_000_000], dtype=torch.int64)),
        ('module.transposed', base.t()),
        ('module.first_half', shared[:6]),
        ('module.second_half', shared[6:].view(2, 3)),
        ('module.scalar', torch.tensor(2.5)),
        ('module.empty', torch.zeros(0, 4)),
    ])
    param = torch.nn.Parameter(torch.randn(3))
    opt = torch.optim.Adam([param], lr=1e-3)
    param.sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[10, 10, 20])
    ckpt = {
        'net': net,
        'optimizer': opt.state_dict(),
        'scheduler': sched.state_dict(),
        'nb_iter': 6000000,
        'custom': Custom(),
        'hostile': [Hostile(os.system, (f'touch {marker}',)), Hostile(eval, (f"open({marker!r}, 'w')",)),
                    Hostile(subprocess.Popen, (['touch', marker],))],
    }
    torch.save(ckpt, os.path.join(out, 'checkpoint.pth'))
    expected = {k[len('module.'):]: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.float().flatten().tolist()}
                for k, v in net.items()}
    optimizer_state = [[f'0.{k}', list(v.shape)] for k, v in opt.state_dict()['state'][0].items() if torch.is_tensor(v)]
    with open(os.path.join(out, 'expected.json'), 'w') as f:
        json.dump({'tensors': expected, 'milestones': dict(sched.state_dict()['milestones']), 'optimizerState': optimizer_state}, f)


if __name__ == '__main__':
    main(sys.argv[1])
