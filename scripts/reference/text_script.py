"""A small TorchScript caption encoder, for the TorchScript text-conditioning path and its golden test.

It shows the contract torchmotion expects from any exported encoder:
  forward(ids: (B, L) int64, mask: (B, L) bool) -> (B, L, D) float   (padding positions are ignored)
plus a vocab.txt with one token per line (line number = id; line 1 is <pad>; <bos> and <unk> are listed).
Captions are tokenised as [<bos>, words...] with words = lower-cased [a-z]+('[a-z]+)? matches.

  export <dir> <dim> <caption>...   writes encoder.pt, vocab.txt (from the captions' words) and golden.json: the
                                    ids and the (L, D) embeddings this script computes for every caption.
"""
import json
import re
import sys

import torch
import torch.nn as nn


class MaskedMeanEncoder(nn.Module):
    """Each token sees itself and the mean of the caption's valid tokens (so the mask matters)."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.token = nn.Linear(dim, dim)
        self.context = nn.Linear(dim, dim, bias=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(torch.float32)
        x = self.embed(ids) * m
        mean = x.sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
        return self.norm(torch.tanh(self.token(x) + self.context(mean)))


def words(caption):
    return re.findall(r"[a-z]+(?:'[a-z]+)?", caption.lower())


def main():
    if len(sys.argv) < 4 or sys.argv[1] != "export":
        sys.exit(__doc__)
    out, dim, captions = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    tokens = ["<pad>", "<bos>", "<unk>"]
    for c in captions:
        for w in words(c):
            if w not in tokens:
                tokens.append(w)
    # Leave the last caption's last word out of the vocabulary, so the test also covers <unk>.
    dropped = words(captions[-1])[-1] if captions and words(captions[-1]) else None
    if dropped:
        tokens.remove(dropped)
    torch.manual_seed(0)
    model = MaskedMeanEncoder(len(tokens), dim).eval()
    scripted = torch.jit.script(model)
    scripted.save(f"{out}/encoder.pt")
    with open(f"{out}/vocab.txt", "w") as f:
        f.write("\n".join(tokens) + "\n")
    index = {t: i for i, t in enumerate(tokens)}
    golden = []
    with torch.no_grad():
        for c in captions:
            ids = [1] + [index.get(w, 2) for w in words(c)]
            # Padded on the right with junk ids: masked positions must not change the result.
            padded = torch.tensor([ids + [3, 4]])
            mask = torch.tensor([[True] * len(ids) + [False, False]])
            e = scripted(padded, mask)[0, : len(ids)]
            golden.append({"caption": c, "ids": ids, "embeddings": e.flatten().tolist()})
    with open(f"{out}/golden.json", "w") as f:
        json.dump({"dim": dim, "unk": dropped, "captions": golden}, f)


if __name__ == "__main__":
    main()
