// `torchmotion import`: a reference PyTorch checkpoint (or a safetensors file) becomes a torchmotion run. The state
// dict is found (`net` for the tokenizer, `trans` for the decoder), its names mapped, the configuration read from the
// shapes, every tensor read from the file one at a time into the model (fp32), and a report of what was mapped and
// what was ignored written beside the checkpoint. Nothing is sized from the file before its shapes are weighed against
// its bytes: the configuration they give must be within bounds, and the model it describes no larger than the file.
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { z } from 'zod';

import { printable, TorchmotionError } from '../errors.js';
import { makeDirs } from '../files.js';
import { countParameters, nativeOptions, t2mConfig } from '../t2m/config.js';
import { T2MModel } from '../t2m/model.js';
import type { HostTensor } from '../tensor.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { fsqLevels, tokenizerConfig } from '../tokenizer/config.js';
import { TokenizerModel } from '../tokenizer/model.js';
import { referenceDecoder, toReferenceT2MName } from './reference-t2m.js';
import {
  mapTokenizerNames,
  referenceTokenizer,
  type TokenizerImportOptions,
  tokenizerParameters,
} from './reference-tokenizer.js';
import { ITEM_SIZE } from './unpickle.js';
import { openWeights, type WeightsFile } from './weights.js';

export const importSettings = z
  .object({
    kind: z.enum(['tokenizer', 't2m']).optional(), // default: read from the names
    // decoder: fp32 (trains and generates) or bf16 (kept as stored: generates only, half the memory)
    dtype: z.enum(['fp32', 'bf16']).default('fp32'),
  })
  .strict();
export type ImportKind = NonNullable<z.output<typeof importSettings>['kind']>;

export interface ImportOptions extends TokenizerImportOptions, Partial<z.output<typeof importSettings>> {
  heads?: number; // decoder attention heads (default: the matching preset's)
  tokenizer?: string; // decoder: the tokenizer run its codes come from (recorded for generate)
  embeddings?: string; // decoder: a caption-embedding cache for its prompts (recorded for generate)
  data?: string; // tokenizer: the dataset root whose mean_std/ normalises its input (recorded)
}

export interface ImportReport {
  source: string;
  kind: ImportKind;
  config: unknown;
  mapped: Array<{ from: string; to: string; shape: number[]; dtype: string }>;
  ignored: string[]; // tensors that carry no learned values
  skippedClasses: string[]; // Python classes in the file that were read as placeholders
  otherEntries: string[]; // top-level keys besides the state dict (optimizer, scheduler, nb_iter …)
  nbIter?: number;
  checkpoint: string;
}

export function kindOf(w: WeightsFile): ImportKind {
  if (w.tensors.has('transformer.wte.weight')) return 't2m';
  if ([...w.tensors.keys()].some((k) => /^(vqvae\.)?(encoder|decoder)\.model\./.test(k))) return 'tokenizer';
  throw new TorchmotionError(
    `${w.file}: neither a MotionMillion tokenizer (vqvae.encoder.model.…) nor a decoder (transformer.wte.weight); ` +
      `its first names are ${[...w.tensors.keys()].slice(0, 4).map(printable).join(', ') || 'none'}`
  );
}

export async function importCheckpoint(file: string, out: string, options: ImportOptions = {}): Promise<ImportReport> {
  const o = { ...options, ...importSettings.parse({ kind: options.kind, dtype: options.dtype }) };
  const w = await openWeights(file);
  try {
    const kind = o.kind ?? kindOf(w);
    const r = kind === 'tokenizer' ? await importTokenizerWeights(w, out, o) : await importDecoderWeights(w, out, o);
    const report: ImportReport = {
      source: file,
      kind,
      ...r,
      skippedClasses: w.skippedClasses,
      otherEntries: w.otherEntries,
      ...(w.nbIter !== undefined && { nbIter: w.nbIter }),
    };
    writeFileSync(join(out, 'import-report.json'), JSON.stringify(report, null, 2) + '\n');
    return report;
  } finally {
    w.close();
  }
}

type Imported = Pick<ImportReport, 'config' | 'mapped' | 'ignored' | 'checkpoint'>;

// A model the shapes describe, weighed before it is built: every parameter is read from the file, so one with more
// parameters than the file has bytes for (at the file's smallest item size) is refused.
function checkBacked(w: WeightsFile, parameters: number, what: string): void {
  const item = Math.min(...[...w.tensors.values()].map((t) => ITEM_SIZE[t.dtype]));
  const bytes = statSync(w.file).size;
  if (parameters * item > bytes) {
    throw new TorchmotionError(
      `${w.file}: its shapes describe a ${what} of ${parameters} parameters ` +
        `(${parameters * item} bytes at ${item} bytes each), but the file holds ${bytes} bytes`
    );
  }
}

// A file torchmotion exported names its levels, which the shapes do not settle (only their count).
function namedLevels(w: WeightsFile): number[] | undefined {
  const text = w.metadata.levels;
  if (text === undefined) return undefined;
  let levels: unknown;
  try {
    levels = JSON.parse(text);
  } catch {
    levels = text;
  }
  const parsed = fsqLevels.safeParse(levels);
  if (!parsed.success) {
    throw new TorchmotionError(`${w.file}: its FSQ levels, ${printable(text)}: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}

// Every shape is checked against torchmotion's before anything is read; then the tensors go into the fresh model one
// at a time, so the import holds the model and one tensor of the file, never the file.
function loadMapped(
  w: WeightsFile,
  names: Map<string, string>,
  shapes: Record<string, number[]>,
  note: string,
  load: (one: Record<string, HostTensor>) => void
): ImportReport['mapped'] {
  const mapped: ImportReport['mapped'] = [];
  for (const [to, from] of names) {
    const t = w.tensors.get(from)!;
    if (t.shape.join(',') !== shapes[to].join(',')) {
      throw new TorchmotionError(
        `${w.file}: ${from} is (${t.shape.join(', ')}), torchmotion's ${to} is ` +
          `(${shapes[to].join(', ')}) for ${note}`
      );
    }
    mapped.push({ from, to, shape: t.shape, dtype: t.dtype });
  }
  for (const { from, to, shape } of mapped) load({ [to]: { data: w.read(from), shape } });
  return mapped;
}

async function importTokenizerWeights(w: WeightsFile, out: string, o: ImportOptions): Promise<Imported> {
  if (o.dtype === 'bf16')
    throw new TorchmotionError(`${w.file}: tokenizers import as fp32 only (--dtype bf16 is for decoders)`);
  const keys = [...w.tensors.keys()];
  const named = namedLevels(w);
  const ref = referenceTokenizer(w.file, keys, (k) => w.tensors.get(k)!.shape, {
    ...o,
    levels: o.levels ?? (o.codes === undefined ? named : undefined),
  });
  checkBacked(w, tokenizerParameters(ref.config), 'tokenizer');
  const model = new TokenizerModel(ref.config);
  // parameters and buffers
  const shapes = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]));
  const names = mapTokenizerNames(ref, Object.keys(shapes), keys);
  const mapped = loadMapped(w, names, shapes, 'the configuration read from the file', (one) =>
    model.loadStateDict(one, { partial: true })
  );
  const dataRoot = o.data ? resolve(o.data) : '';
  const config = tokenizerConfig.parse({ model: ref.config, data: { root: dataRoot } });
  makeDirs(out);
  const checkpoint = await saveCheckpoint(
    out,
    {
      kind: 'tokenizer',
      step: 0,
      model: ref.config,
      config,
      loader: { epoch: 0, position: 0, rng: 0 },
      dataRoot,
      importedFrom: w.file,
    },
    (f) => model.save(f)
  );
  return { config: ref.config, mapped, ignored: ref.ignored, checkpoint };
}

async function importDecoderWeights(w: WeightsFile, out: string, o: ImportOptions): Promise<Imported> {
  const keys = [...w.tensors.keys()];
  const shape = referenceDecoder(w.file, keys, (k) => w.tensors.get(k)!.shape, o);
  const config = t2mConfig.parse({
    model: { preset: shape.preset, text: 'embeddings', textDim: shape.textDim },
    data: { codes: '', ...(o.embeddings && { embeddings: resolve(o.embeddings) }) },
  });
  const opts = {
    ...nativeOptions(config.model, shape.vocab - 2, 0, shape.textDim),
    heads: shape.heads,
    dtype: o.dtype === 'bf16' ? ('bfloat16' as const) : ('float32' as const),
  };
  checkBacked(w, countParameters(opts).total, `${shape.preset} decoder`);
  const model = new T2MModel(opts);
  // The decoder has parameters only (no buffers): its table gives every name and shape without copying a weight.
  const shapes = Object.fromEntries(model.parameterTable().map((r) => [r.name, r.shape]));
  const names = new Map<string, string>();
  const absent: string[] = [];
  for (const name of Object.keys(shapes)) {
    const theirs = toReferenceT2MName(name);
    if (theirs && w.tensors.has(theirs)) names.set(name, theirs);
    else absent.push(theirs ?? name);
  }
  if (absent.length)
    throw new TorchmotionError(
      `${w.file}: lacks ${absent.length} tensor(s) the ${shape.preset} decoder needs: ${absent.slice(0, 6).join(', ')}`
    );
  const used = new Set(names.values());
  const left = keys.filter((k) => !used.has(k));
  if (left.length) {
    throw new TorchmotionError(
      `${w.file}: ${left.length} tensor(s) map to nothing in torchmotion's decoder: ` +
        `${left.slice(0, 8).map(printable).join(', ')}${left.length > 8 ? ', …' : ''} (nothing was written)`
    );
  }
  const mapped = loadMapped(w, names, shapes, `the ${shape.preset} decoder read from the file`, (one) =>
    model.loadStateDict(one, { partial: true })
  );
  makeDirs(out);
  const checkpoint = await saveCheckpoint(
    out,
    {
      kind: 't2m',
      step: 0,
      config,
      native: opts,
      vocab: [],
      rng: 0,
      tokenizer: o.tokenizer ? resolve(o.tokenizer) : '',
      dataRoot: config.data.root,
      importedFrom: w.file,
    },
    (f) => model.save(f)
  );
  return {
    config: { ...config.model, heads: shape.heads, vocab: shape.vocab, dtype: opts.dtype },
    mapped,
    ignored: [],
    checkpoint,
  };
}
