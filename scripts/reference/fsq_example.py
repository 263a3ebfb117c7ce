"""The worked FSQ example of docs/fsq-vs-vq.md: z -> bounded value -> level -> index for MotionMillion's levels.

  python3 scripts/reference/fsq_example.py     prints the table's rows and the token
"""
import math

LEVELS = [8, 8, 8, 5, 5, 5]
Z = [0.9, -1.7, 0.2, 2.5, -0.4, 0.05]
EPS = 1e-3

basis = [1]
for level in LEVELS[:-1]:
    basis.append(basis[-1] * level)
token = 0
for channel, (level, z, b) in enumerate(zip(LEVELS, Z, basis), 1):
    half = (level - 1) * (1 + EPS) / 2
    offset = 0.5 if level % 2 == 0 else 0.0
    bounded = math.tanh(z + math.atanh(offset / half)) * half - offset
    rounded = round(bounded)
    digit = rounded + level // 2
    token += digit * b
    print(f'channel {channel}: L {level}, z {z}, bounded {bounded:.3f}, round {rounded}, zhat {rounded / (level // 2):.2f}, level {digit}, basis {b}')
print(f'basis {basis}, token {token} of {math.prod(LEVELS)}')
