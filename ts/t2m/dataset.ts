// Text-to-motion samples: codes from `tokenizer encode` (read on demand, so memory stays flat) and captions from
// the dataset's texts (HumanML3D-style time ranges crop the codes). Batches follow the reference layout: text prefix,
// codes, END, PAD to the longest in the batch.
import { existsSync, readFileSync } from 'node:fs';

import { readSplit } from '../data/dataset.js';
import { splitFile, textFile } from '../data/layout.js';
import { parseCaptions } from '../data/texts.js';
import { TorchmotionError } from '../errors.js';
import type { Rng } from '../rng.js';
import { EncodedCodes } from '../tokenizer/encode.js';
import type { TextBatch } from './text.js';

export interface T2MSample {
  clip: number;
  caption: string;
  start: number;
  end: number;
} // token range [start, end)

export class T2MDataset {
  readonly samples: T2MSample[] = [];
  readonly codes: EncodedCodes;
  readonly skipped: string[] = [];

  constructor(codesDir: string, root: string, split: string, maxTokens: number) {
    this.codes = new EncodedCodes(codesDir);
    if (this.codes.info.layers !== undefined) {
      this.codes.close();
      throw new TorchmotionError(
        `${codesDir} holds residual-VQ codes (T', Q) from a tokenizer with quantizer rvq: the text-to-motion decoder ` +
          'reads one code per step (FSQ or VQ); train the tokenizer with quantizer fsq or vq for text-to-motion'
      );
    }
    const wanted = new Set(readSplit(splitFile(root, split, 't2m')));
    const ds = this.codes.info.downsampling;
    this.codes.names.forEach((name, clip) => {
      if (!wanted.has(name)) return;
      const file = textFile(root, name);
      if (!existsSync(file)) {
        this.skipped.push(name);
        return;
      }
      const n = Number(this.codes.offsets[clip + 1] - this.codes.offsets[clip]);
      for (const c of parseCaptions(readFileSync(file, 'utf8'))) {
        const start = c.start === undefined ? 0 : Math.floor(c.start / ds);
        const end = Math.min(n, c.end === undefined ? n : Math.floor(c.end / ds));
        if (end - start >= 1)
          this.samples.push({ clip, caption: c.text, start, end: Math.min(end, start + maxTokens) });
      }
    });
    if (this.samples.length === 0) {
      throw new TorchmotionError(
        `no (caption, codes) pair for split '${split}': are ${codesDir} (encoded clips) ` +
          `and ${root}/texts from the same dataset?`
      );
    }
    this.byLength = Int32Array.from(this.samples.keys()).sort(
      (a, b) => this.samples[a].end - this.samples[a].start - (this.samples[b].end - this.samples[b].start)
    );
  }

  // Sample indices ordered by code length: a batch takes neighbours in this order, so padding (and the compute
  // spent on it) stays small; which neighbours is random.
  private readonly byLength: Int32Array;

  captions(): string[] {
    return this.samples.map((s) => s.caption);
  }

  // Held-out batches: up to `limit` samples spread evenly over the split, grouped by length, with no token or
  // caption dropout, the same every time; made one at a time (a cached-embedding prefix is up to 1.2 MB a caption).
  *heldOut(size: number, limit: number, o: { text: (captions: string[]) => TextBatch; end: number; pad: number }) {
    const n = this.samples.length;
    const count = Math.min(n, limit);
    const picked = Array.from({ length: count }, (_, k) => Math.floor((k * n) / count)).map((i) => this.byLength[i]);
    for (let at = 0; at < count; at += size)
      yield this.assemble(
        picked.slice(at, at + size).map((i) => this.samples[i]),
        o
      );
  }

  // (caption, codes) samples → the model's batch: text prefix, codes, END, PAD to the longest.
  private assemble(
    picked: T2MSample[],
    o: { text: (captions: string[]) => TextBatch; end: number; pad: number },
    seqs?: Int32Array[],
    captions?: string[]
  ) {
    const codesOf = seqs ?? picked.map((s) => this.codes.codes(s.clip).subarray(s.start, s.end));
    const size = picked.length;
    const Lc = Math.max(...codesOf.map((c) => c.length)) + 1;
    const codes = new Int32Array(size * Lc).fill(o.pad);
    codesOf.forEach((c, b) => {
      codes.set(c, b * Lc);
      codes[b * Lc + c.length] = o.end;
    });
    return {
      ...o.text(captions ?? picked.map((s) => s.caption)),
      codes: { data: codes, shape: [size, Lc] },
      tokens: codesOf.reduce((s, c) => s + c.length + 1, 0),
    };
  }

  // A training step's samples: `size` random samples drawn as one batch, the 1/3 head-or-tail token drop, and
  // caption dropout for guidance; `text` turns the captions into the model's prefix (word ids or cached embeddings).
  // Each of `slices` (the micro-batches of an accumulated step, each a data-parallel rank's share of one) is assembled
  // from samples [from, to) of that draw, so any split equals one process drawing the whole batch.
  batches(
    rng: Rng,
    size: number,
    o: { text: (captions: string[]) => TextBatch; end: number; pad: number; tokenDrop: number; condDrop: number },
    slices: Array<{ from: number; to: number }>
  ) {
    const n = this.samples.length;
    const first = rng.int(n);
    const picked = Array.from({ length: size }, (_, k) => this.samples[this.byLength[(first + k) % n]]);
    const seqs = picked.map((s) => {
      let codes = this.codes.codes(s.clip).subarray(s.start, s.end);
      if (codes.length > 1 && rng.next() < o.tokenDrop)
        codes = rng.next() < 0.5 ? codes.subarray(1) : codes.subarray(0, codes.length - 1);
      return codes;
    });
    const captions = picked.map((s) => (rng.next() < o.condDrop ? '' : s.caption));
    return slices.map((slice) => {
      const mine = picked.slice(slice.from, slice.to);
      return {
        ...this.assemble(mine, o, seqs.slice(slice.from, slice.to), captions.slice(slice.from, slice.to)),
        clips: mine.map((s) => this.codes.names[s.clip]),
      };
    });
  }
}
