// Precomputed token-level caption embeddings (e.g. Flan-T5-XL, or a TorchScript encoder), computed once and stored in
// one folder that numpy can memory-map:
//   embeddings.f32  all rows back to back, little-endian float32, shape (rows, dim)  → np.memmap(..., 'float32')
//   offsets.i64     entry k's rows are [offsets[k], offsets[k+1])                   → np.fromfile(..., 'int64')
//   captions.json   entry k's caption text; index.json: {version, dim, entries, rows, encoder?}
// Training and generation look captions up by their text and read only the rows they need, so memory stays flat.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { readNpy } from '../data/npy.js';
import { TorchmotionError } from '../errors.js';

export interface CacheIndex {
  version: 1;
  dim: number;
  entries: number;
  rows: number;
  encoder?: { script: string; vocab: string };
}

// Captions match after trimming and collapsing white space, so a prompt typed with an extra space still hits.
export const captionKey = (caption: string) => caption.trim().replace(/\s+/g, ' ');

export class EmbeddingCacheWriter {
  private readonly fd: number;
  private readonly offsets: bigint[] = [0n];
  private readonly captions: string[] = [];
  private readonly seen = new Set<string>();
  private rows = 0;
  private readonly tmp: string;

  constructor(
    readonly dir: string,
    readonly dim: number
  ) {
    this.tmp = `${resolve(dir)}.tmp-${process.pid}`;
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
    this.fd = openSync(join(this.tmp, 'embeddings.f32'), 'w');
  }

  // rows: (L, dim) float32, row-major. A caption already added is skipped (the first embedding wins).
  add(caption: string, rows: Float32Array, where: string): void {
    const key = captionKey(caption);
    if (this.seen.has(key)) return;
    if (rows.length === 0 || rows.length % this.dim !== 0) {
      throw new TorchmotionError(
        `${where}: expected (L ≥ 1, ${this.dim}) embeddings for "${caption}", found ${rows.length} values`
      );
    }
    if (!rows.every(Number.isFinite))
      throw new TorchmotionError(`${where}: the embedding of "${caption}" contains NaN or Inf`);
    writeSync(this.fd, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    this.rows += rows.length / this.dim;
    this.offsets.push(BigInt(this.rows));
    this.captions.push(key);
    this.seen.add(key);
  }

  // Writes the index files and moves the folder into place: a cache is complete or absent, never half written.
  finish(encoder?: CacheIndex['encoder']): CacheIndex {
    closeSync(this.fd);
    const index: CacheIndex = {
      version: 1,
      dim: this.dim,
      entries: this.captions.length,
      rows: this.rows,
      ...(encoder && { encoder }),
    };
    writeFileSync(join(this.tmp, 'offsets.i64'), new Uint8Array(BigInt64Array.from(this.offsets).buffer));
    writeFileSync(join(this.tmp, 'captions.json'), JSON.stringify(this.captions));
    writeFileSync(join(this.tmp, 'index.json'), JSON.stringify(index, null, 2));
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(dirname(resolve(this.dir)), { recursive: true });
    renameSync(this.tmp, this.dir);
    return index;
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export class EmbeddingCache {
  readonly index: CacheIndex;
  private readonly fd: number;
  private readonly offsets: BigInt64Array;
  private readonly lookup: Map<string, number>;

  constructor(readonly dir: string) {
    const file = join(dir, 'index.json');
    if (!existsSync(file))
      throw new TorchmotionError(
        `${dir}: not an embedding cache (no index.json); build one with \`torchmotion t2m embed\``
      );
    this.index = JSON.parse(readFileSync(file, 'utf8')) as CacheIndex;
    for (const f of ['offsets.i64', 'captions.json', 'embeddings.f32']) {
      if (!existsSync(join(dir, f)))
        throw new TorchmotionError(`${dir}: ${f} is missing; rebuild the cache with \`torchmotion t2m embed\``);
    }
    const raw = readFileSync(join(dir, 'offsets.i64'));
    this.offsets = new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const captions = JSON.parse(readFileSync(join(dir, 'captions.json'), 'utf8')) as string[];
    if (this.offsets.length !== this.index.entries + 1 || captions.length !== this.index.entries) {
      throw new TorchmotionError(
        `${dir}: index.json says ${this.index.entries} entries but offsets/captions disagree; rebuild the cache`
      );
    }
    const rowsFile = join(dir, 'embeddings.f32');
    const bytes = statSync(rowsFile).size;
    const want = Number(this.offsets[this.index.entries]) * this.index.dim * 4;
    if (bytes !== want) {
      throw new TorchmotionError(
        `${rowsFile}: ${bytes} bytes, but the index needs ${want} (a truncated copy?); ` +
          `rebuild the cache with \`torchmotion t2m embed\``
      );
    }
    this.lookup = new Map(captions.map((c, k) => [c, k]));
    this.fd = openSync(rowsFile, 'r');
  }

  get dim(): number {
    return this.index.dim;
  }
  has(caption: string): boolean {
    return this.lookup.has(captionKey(caption));
  }

  // (L, dim) rows of a caption, read from disk.
  rows(caption: string): Float32Array {
    const k = this.lookup.get(captionKey(caption));
    if (k === undefined) {
      throw new TorchmotionError(
        `caption "${caption}" is not in the embedding cache ${this.dir}: add its embedding and ` +
          `rebuild it (\`torchmotion t2m embed\`)` +
          (this.index.encoder ? '' : ', or build the cache with --script so new prompts can be embedded')
      );
    }
    const [a, b] = [Number(this.offsets[k]), Number(this.offsets[k + 1])];
    const out = new Float32Array((b - a) * this.dim);
    readSync(this.fd, new Uint8Array(out.buffer), 0, out.byteLength, a * this.dim * 4);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

// Embeddings computed elsewhere: <from>/captions.jsonl lines {"text": "...", "file": "relative.npy"} with (L, D)
// arrays.
export function* readEmbeddingManifest(
  from: string
): Generator<{ text: string; rows: Float32Array; dim: number; where: string }> {
  const manifest = join(from, 'captions.jsonl');
  if (!existsSync(manifest))
    throw new TorchmotionError(
      `${from}: no captions.jsonl (one {"text": …, "file": "….npy"} per line, arrays of shape (L, D))`
    );
  const lines = readFileSync(manifest, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const where = `${manifest}:${i + 1}`;
    let entry: { text?: unknown; file?: unknown };
    try {
      entry = JSON.parse(lines[i]);
    } catch {
      throw new TorchmotionError(`${where}: not JSON`);
    }
    if (typeof entry.text !== 'string' || typeof entry.file !== 'string')
      throw new TorchmotionError(`${where}: expected {"text": string, "file": string}`);
    const a = readNpy(join(from, entry.file));
    if (a.shape.length !== 2 || (a.dtype !== 'f4' && a.dtype !== 'f8')) {
      throw new TorchmotionError(
        `${join(from, entry.file)}: expected a (L, D) float array, found (${a.shape.join(', ')}) ${a.dtype}`
      );
    }
    yield {
      text: entry.text,
      rows: Float32Array.from(a.data as Float32Array | Float64Array),
      dim: a.shape[1],
      where: join(from, entry.file),
    };
  }
}
