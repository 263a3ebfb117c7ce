"""A small randomly initialised T5-style encoder and a tokenizer.json in T5's format, standing in for Flan-T5-XL in
the tests of the TorchScript text path (the real weights cannot be downloaded in CI; scripts/export_t5.py exports the
real one where `transformers` is installed, with the same contract).

The encoder is T5's: token embeddings, pre-RMSNorm blocks of self-attention with bucketed relative position biases
(computed once in the first block, shared by all) and a gated-GELU feed-forward (Flan-T5's wi_0/wi_1/wo), a final
RMSNorm; no absolute positions, no scaling of the attention logits. Contract: forward(ids (B, L) int64, mask (B, L)
bool) -> (B, L, D) float32.

The tokenizer is a Unigram model over SentencePiece pieces ("▁" starts a word), a Metaspace pre-tokenizer and a
template that appends </s>, as T5's tokenizer.json has them (T5's precompiled normaliser is left out). This script
tokenises with its own Viterbi search over the pieces' log-probabilities (a run of characters no piece covers is one
<unk>, as SentencePiece fuses them), independently of the npm library that torchmotion uses.

  export <dir> <caption>...   writes encoder.pt, tokenizer.json and golden.json (ids and (L, D) embeddings per caption)
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

D, HEADS, FF, LAYERS, BUCKETS, MAX_DISTANCE = 32, 4, 48, 2, 8, 20


class RmsNorm(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim) + 0.1 * torch.randn(dim))

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


def relative_bucket(relative: torch.Tensor, buckets: int, max_distance: int) -> torch.Tensor:
    """T5's bidirectional buckets: half for each sign, exact for small distances, logarithmic up to max_distance."""
    half = buckets // 2
    bucket = (relative > 0).long() * half
    n = relative.abs()
    exact = half // 2
    large = exact + (torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (half - exact)).long()
    large = large.clamp(max=half - 1)
    return bucket + torch.where(n < exact, n, large)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads, self.head_dim = HEADS, D // HEADS
        self.norm1 = RmsNorm(D)
        self.q = nn.Linear(D, D, bias=False)
        self.k = nn.Linear(D, D, bias=False)
        self.v = nn.Linear(D, D, bias=False)
        self.o = nn.Linear(D, D, bias=False)
        self.norm2 = RmsNorm(D)
        self.wi_0 = nn.Linear(D, FF, bias=False)
        self.wi_1 = nn.Linear(D, FF, bias=False)
        self.wo = nn.Linear(FF, D, bias=False)

    def forward(self, x, bias, mask):
        B, L, _ = x.shape
        h = self.norm1(x)
        q = self.q(h).view(B, L, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(h).view(B, L, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(h).view(B, L, self.heads, self.head_dim).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) + bias
        scores = scores.masked_fill(~mask[:, None, None, :], -1e9)
        x = x + self.o((scores.softmax(-1) @ v).transpose(1, 2).reshape(B, L, self.heads * self.head_dim))
        h = self.norm2(x)
        return x + self.wo(F.gelu(self.wi_0(h), approximate='tanh') * self.wi_1(h))


class T5StyleEncoder(nn.Module):
    def __init__(self, vocab: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, D)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.final_norm = RmsNorm(D)
        # T5 keeps the bias table in its first block and shares it; here it sits beside the blocks.
        self.relative_bias = nn.Embedding(BUCKETS, HEADS)
        self.buckets, self.max_distance = BUCKETS, MAX_DISTANCE

    def position_bias(self, L: int) -> torch.Tensor:
        pos = torch.arange(L)
        buckets = relative_bucket(pos[None, :] - pos[:, None], self.buckets, self.max_distance)
        return self.relative_bias(buckets).permute(2, 0, 1)[None]  # (1, H, L, L)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        bias = self.position_bias(ids.shape[1])
        for block in self.blocks:
            x = block(x, bias, mask)
        return self.final_norm(x)


def pieces_for(captions):
    """Whole words, and for every word its first three letters and the rest, so Viterbi has choices to make."""
    scores = {}
    for c in captions:
        for w in c.split():
            scores['▁' + w] = -8.0 - 0.5 * len(w)
            if len(w) > 4:
                scores['▁' + w[:3]] = -3.0
                scores[w[3:]] = -3.5
            for ch in w:
                scores.setdefault(ch, -12.0)
    scores['▁'] = -6.0
    return sorted(scores.items())


def viterbi(word, index, score, unk):
    best = [(0.0, [])] + [(-math.inf, None)] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            piece = word[start:end]
            if piece in index and best[start][1] is not None and best[start][0] + score[piece] > best[end][0]:
                best[end] = (best[start][0] + score[piece], best[start][1] + [index[piece]])
        if best[end][1] is None:  # no piece ends here: the character is unknown; a run of them is one <unk>
            ids = best[end - 1][1]
            best[end] = (best[end - 1][0] - 10.0, ids if ids and ids[-1] == unk else ids + [unk])
    return best[-1][1]


def main():
    if len(sys.argv) < 3 or sys.argv[1] != 'export':
        sys.exit(__doc__)
    out, captions = sys.argv[2], sys.argv[3:]
    vocab = [('<pad>', 0.0), ('</s>', 0.0), ('<unk>', 0.0)] + pieces_for(captions[:-1])  # the last caption has words unseen
    index = {p: i for i, (p, _) in enumerate(vocab)}
    score = dict(vocab)
    tokenizer = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False,
                          'special': True} for i, t in enumerate(['<pad>', '</s>', '<unk>'])],
        'normalizer': None,
        'pre_tokenizer': {'type': 'Metaspace', 'replacement': '▁', 'prepend_scheme': 'always', 'split': True},
        'post_processor': {'type': 'TemplateProcessing', 'single': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'pair': [{'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                                    {'Sequence': {'id': 'B', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
                           'special_tokens': {'</s>': {'id': '</s>', 'ids': [1], 'tokens': ['</s>']}}},
        'decoder': {'type': 'Metaspace', 'replacement': '▁', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': 2, 'vocab': [[p, s] for p, s in vocab], 'byte_fallback': False},
    }
    with open(f'{out}/tokenizer.json', 'w') as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    torch.manual_seed(0)
    model = T5StyleEncoder(len(vocab)).eval()
    scripted = torch.jit.script(model)
    scripted.save(f'{out}/encoder.pt')
    golden = []
    with torch.no_grad():
        for c in captions:
            ids = [i for w in c.split() for i in viterbi('▁' + w, index, score, 2)] + [1]
            padded = torch.tensor([ids + [0, 0, 0]])  # padding on the right must not change the real tokens' states
            mask = torch.tensor([[True] * len(ids) + [False] * 3])
            e = scripted(padded, mask)[0, :len(ids)]
            golden.append({'caption': c, 'ids': ids, 'embeddings': e.flatten().tolist()})
    with open(f'{out}/golden.json', 'w') as f:
        json.dump({'dim': D, 'captions': golden}, f)


if __name__ == '__main__':
    main()
