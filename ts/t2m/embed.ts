// `t2m embed`: fill a caption-embedding cache once, from arrays computed elsewhere (--from) or by running a
// TorchScript encoder over every caption of a dataset split plus the empty caption (--script).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { z } from 'zod';

import { clipNameProblem, readSplit } from '../data/dataset.js';
import { splitFile, textFile } from '../data/layout.js';
import { parseCaptions } from '../data/texts.js';
import { TorchmotionError } from '../errors.js';
import { EMBEDDING_SLOTS } from './config.js';
import { EmbeddingCacheWriter, readEmbeddingManifest, type CacheIndex } from './embedding-cache.js';
import { TextScriptEncoder } from './text-script.js';

export interface EmbedRequest {
  out: string;
  from?: string; // folder with captions.jsonl + .npy arrays
  script?: string;
  vocab?: string; // TorchScript encoder and its vocab.txt or tokenizer.json
  data?: string;
  split?: string; // captions to embed with --script
  device?: string;
  batch?: number;
  threads?: number;
}

export const embedSettings = z
  .object({
    split: z.string().default('all'), // the split of --data whose captions --script embeds
    batch: z.number().int().positive().default(64),
  })
  .strict();

export function splitCaptions(root: string, split: string): string[] {
  const out = new Set<string>();
  for (const name of readSplit(splitFile(root, split, 't2m'))) {
    if (clipNameProblem(name)) continue; // never read outside the root (`data index` reports such entries)
    const f = textFile(root, name);
    if (existsSync(f)) for (const c of parseCaptions(readFileSync(f, 'utf8'))) out.add(c.text);
  }
  return [...out];
}

export async function buildEmbeddingCache(r: EmbedRequest): Promise<CacheIndex> {
  if (!!r.from === !!r.script)
    throw new TorchmotionError(
      't2m embed: give either --from <folder of .npy embeddings> or --script <encoder.pt> ' +
        '--vocab <vocab.txt|tokenizer.json>'
    );
  let writer: EmbeddingCacheWriter | undefined;
  try {
    if (r.from) {
      for (const e of readEmbeddingManifest(r.from)) {
        writer ??= new EmbeddingCacheWriter(r.out, e.dim);
        if (e.dim !== writer.dim)
          throw new TorchmotionError(`${e.where}: ${e.dim}-wide embeddings, but earlier ones are ${writer.dim}-wide`);
        writer.add(e.text, e.rows, e.where);
      }
      if (!writer) throw new TorchmotionError(`${r.from}/captions.jsonl lists no caption`);
      return writer.finish();
    }
    if (!r.vocab || !r.data)
      throw new TorchmotionError(
        't2m embed --script also needs --vocab <vocab.txt|tokenizer.json> and --data <dataset root>'
      );
    const encoder = await TextScriptEncoder.load(r.script!, r.vocab, r.device);
    const { split, batch } = embedSettings.parse({ split: r.split, batch: r.batch });
    const captions = ['', ...splitCaptions(r.data, split)];
    for (let i = 0; i < captions.length; i += batch) {
      const part = captions.slice(i, i + batch);
      const { rows, dim } = await encoder.embed(part, EMBEDDING_SLOTS, r.threads);
      writer ??= new EmbeddingCacheWriter(r.out, dim);
      part.forEach((c, k) => writer!.add(c, rows[k], r.script!));
    }
    return writer!.finish({ script: resolve(r.script!), vocab: resolve(r.vocab) });
  } catch (err) {
    writer?.abort();
    throw err;
  }
}
