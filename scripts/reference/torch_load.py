"""Loads a .pth with torch.load (weights_only where this torch has it) or a .safetensors file by its spec (8-byte
header length, JSON header, raw little-endian data), and prints every tensor as JSON: dtype, shape, values as floats.
Usage: python3 torch_load.py <file> [dotted key of the dict to list, e.g. net]
"""
import json
import struct
import sys

import torch

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64,
          'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8, 'BOOL': torch.bool}


def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        b, e = h['data_offsets']
        t = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[h['dtype']]) if e > b else torch.empty(0, dtype=DTYPES[h['dtype']])
        out[name] = t.reshape(h['shape'])
    return out, header.get('__metadata__', {})


def main(path, key=None):
    if path.endswith('.safetensors'):
        tensors, meta = load_safetensors(path)
        extra = {'metadata': meta}
    else:
        root = torch.load(path, map_location='cpu')
        tensors = root
        for k in (key.split('.') if key else []):
            tensors = tensors[k]
        extra = {'rootKeys': list(root.keys()), 'plain': {k: v for k, v in root.items() if isinstance(v, (int, float, str))}}
    print(json.dumps({'tensors': {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.float().flatten().tolist()}
                                  for k, v in tensors.items()}, **extra}))


if __name__ == '__main__':
    main(*sys.argv[1:])
