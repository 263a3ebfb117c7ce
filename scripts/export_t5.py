"""One-time export of the released decoder's text encoder (Flan-T5-XL's encoder, 2048-wide token states) for
torchmotion, run where PyTorch and Hugging Face `transformers` are installed (and the weights can be downloaded):

    python3 scripts/export_t5.py google/flan-t5-xl t5/

writes t5/encoder.pt (TorchScript: forward(ids (B, L) int64, mask (B, L) bool) -> (B, L, 2048) float32) and
t5/tokenizer.json (the fast tokenizer's file, which torchmotion reads with @huggingface/tokenizers). Afterwards no
Python is needed: `torchmotion t2m embed --script t5/encoder.pt --vocab t5/tokenizer.json …`.

The module is traced, then checked against the eager model on captions of other lengths, so a trace that froze a
length fails here rather than in torchmotion. Not run in torchmotion's CI (no `transformers`, no download there);
test/t5-text.test.ts covers the same contract with scripts/reference/t5_standin.py.
"""
import os
import sys

import torch
import torch.nn as nn


class TokenStates(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=ids, attention_mask=mask.long())[0]


def main(name, out):
    from transformers import AutoTokenizer, T5EncoderModel  # only here: the export is the one step that needs it

    os.makedirs(out, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(name, use_fast=True)
    tokenizer.save_pretrained(out)
    if not os.path.exists(os.path.join(out, 'tokenizer.json')):
        sys.exit(f'{name}: no fast tokenizer, so no tokenizer.json was written')
    model = TokenStates(T5EncoderModel.from_pretrained(name, torch_dtype=torch.float32, torchscript=True).eval())
    example = tokenizer(['a person walks forward and turns left'], return_tensors='pt')
    with torch.no_grad():
        traced = torch.jit.trace(model, (example.input_ids, example.attention_mask.bool()), check_trace=False)
        for captions in (['a man jumps'], ['someone waves with the right hand, then sits down on a chair', 'a person runs']):
            batch = tokenizer(captions, return_tensors='pt', padding=True, truncation=True, max_length=150)
            want = model(batch.input_ids, batch.attention_mask.bool())
            got = traced(batch.input_ids, batch.attention_mask.bool())
            err = ((got - want).abs().max() / want.abs().max()).item()
            if err > 1e-5:
                sys.exit(f'the traced encoder differs from the eager one by {err:.2e} at length {batch.input_ids.shape[1]}')
    traced.save(os.path.join(out, 'encoder.pt'))
    print(f'{out}/encoder.pt and {out}/tokenizer.json: {want.shape[-1]}-wide token states')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
