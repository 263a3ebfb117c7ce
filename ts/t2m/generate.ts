// Text → codes (KV-cached sampling in the addon) → motion (the tokenizer's decoder) → 272 file and global joints.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { readDatasetMeanStd } from '../data/motion-files.js';
import { writeNpy } from '../data/npy.js';
import { TorchmotionError } from '../errors.js';
import { denormalize } from '../motion/normalize.js';
import { DIM, FPS, recoverJoints } from '../motion/repr272.js';
import { checkpointFor } from '../pytorch/on-the-fly.js';
import { loadTokenizer } from '../tokenizer/model.js';
import { loadT2M, type GenerateOptions } from './model.js';
import { generationSettings } from './config.js';
import { EmbeddingCache } from './embedding-cache.js';
import { builtinBatch, promptBatch, type TextBatch } from './text.js';
import { TextScriptEncoder } from './text-script.js';

export interface Generated {
  text: string;
  codes: Int32Array;
  motion: Float64Array;
  joints: Float64Array;
  frames: number;
  files?: string[];
}

export interface GenerateRequest extends GenerateOptions {
  ckpt: string;
  tokenizer?: string; // default: the tokenizer the codes were encoded with (a run, or a .pth/.safetensors file)
  embeddings?: string; // a caption-embedding cache for the prompts (default: the model's data.embeddings)
  texts: string[];
  seconds?: number; // length cap; default the model's maximum (300 tokens = 20 s)
  minSeconds?: number; // END is not accepted before this
  out?: string;
  device?: string;
}

// Where `t2m generate` writes when not told (the API writes files only when given `out`).
export const generateOutput = z
  .object({
    out: z.string().default('generated'),
  })
  .strict();

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48) || 'empty';

// The prompts' text prefix, from the built-in encoder or from the embedding cache the model was trained with.
export async function promptPrefix(
  t2m: Awaited<ReturnType<typeof loadT2M>>,
  ckpt: string,
  captions: string[],
  device?: string,
  embeddings = t2m.state.config.data.embeddings
): Promise<TextBatch> {
  const m = t2m.state.config.model;
  if (m.text === 'builtin') return builtinBatch(t2m.vocab, captions, m.textMaxLen);
  if (!embeddings)
    throw new TorchmotionError(
      `${ckpt}: the model reads embeddings but its config names no data.embeddings cache: ` +
        `pass one with --embeddings <cache>`
    );
  const cache = new EmbeddingCache(embeddings);
  try {
    const enc = cache.index.encoder;
    const script =
      enc && captions.some((c) => !cache.has(c))
        ? await TextScriptEncoder.load(enc.script, enc.vocab, device)
        : undefined;
    return await promptBatch(cache, script, captions);
  } finally {
    cache.close();
  }
}

// The tokenizer a decoder's codes decode with: the one given, else the one it was trained (or imported) with.
async function tokenizerFor(ckpt: string, given: string | undefined, recorded: string): Promise<string> {
  if (!given && !recorded)
    throw new TorchmotionError(
      `${ckpt}: the decoder names no tokenizer (imported without --tokenizer): pass --tokenizer <run|file.pth>`
    );
  return checkpointFor(given ?? recorded, 'tokenizer');
}

// A text-to-motion checkpoint with the tokenizer its codes decode with (`tokenizer` overrides the recorded one),
// checked to agree on the codebook.
export async function loadDecoder(ckpt: string, tokenizerGiven: string | undefined, device?: string) {
  const t2mDir = await checkpointFor(ckpt, 't2m');
  const t2m = await loadT2M(t2mDir, device);
  const tokDir = await tokenizerFor(ckpt, tokenizerGiven, t2m.state.tokenizer);
  const { model: tokenizer, state: tokState } = await loadTokenizer(tokDir, device);
  if (tokenizer.codebookSize !== t2m.model.options.vocab - 2) {
    throw new TorchmotionError(
      `tokenizer ${tokDir} has ${tokenizer.codebookSize} codes but the text-to-motion model ` +
        `expects ${t2m.model.options.vocab - 2}`
    );
  }
  return { t2mDir, t2m, tokDir, tokenizer, tokState };
}

export async function generateMotions(r: GenerateRequest): Promise<Generated[]> {
  if (r.texts.length === 0) throw new TorchmotionError('give at least one --text prompt');
  const { t2m, tokenizer, tokState } = await loadDecoder(r.ckpt, r.tokenizer, r.device);
  const stats = readDatasetMeanStd(tokState.dataRoot);
  const maxTokens = Math.min(
    t2m.state.config.model.maxMotionTokens,
    r.seconds
      ? Math.max(1, Math.round((r.seconds * FPS) / tokenizer.downsampling))
      : t2m.state.config.model.maxMotionTokens
  );
  const sampling = generationSettings.parse(
    Object.fromEntries(
      Object.entries({
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        cfgScale: r.cfgScale,
        seed: r.seed,
        cache: r.cache,
      }).filter(([, v]) => v !== undefined)
    )
  );
  const guided = sampling.cfgScale > 0;
  const captions = guided ? [...r.texts, ...r.texts.map(() => '')] : r.texts;
  const batch = await promptPrefix(t2m, r.ckpt, captions, r.device, r.embeddings ?? t2m.state.config.data.embeddings);
  const minTokens = Math.min(maxTokens, Math.round(((r.minSeconds ?? 0) * FPS) / tokenizer.downsampling));
  const out = await t2m.model.generate(batch, { ...sampling, threads: r.threads, maxTokens, minTokens });
  const tokens = out.tokens.data as Int32Array;
  const width = out.tokens.shape[1];
  const results: Generated[] = [];
  for (let b = 0; b < r.texts.length; b++) {
    const n = (out.lengths.data as Int32Array)[b];
    const codes = tokens.slice(b * width, b * width + n);
    let motion = new Float64Array(0);
    if (n > 0) {
      const decoded = await tokenizer.decode({ data: codes, shape: [1, n] }, r.threads);
      motion = denormalize(Float64Array.from(decoded.data as Float32Array), stats);
    }
    const joints = recoverJoints(motion);
    const item: Generated = { text: r.texts[b], codes, motion, joints, frames: motion.length / DIM };
    if (r.out) {
      mkdirSync(r.out, { recursive: true });
      const base = join(r.out, `${String(b).padStart(2, '0')}_${slug(r.texts[b])}`);
      writeNpy(`${base}.npy`, { data: Float32Array.from(motion), shape: [item.frames, DIM] });
      writeNpy(`${base}_joints.npy`, { data: Float32Array.from(joints), shape: [item.frames, 22, 3] });
      item.files = [`${base}.npy`, `${base}_joints.npy`];
    }
    results.push(item);
  }
  if (r.out) {
    writeFileSync(
      join(r.out, 'prompts.json'),
      JSON.stringify(
        results.map((g) => ({ text: g.text, frames: g.frames, tokens: g.codes.length, files: g.files })),
        null,
        2
      )
    );
  }
  return results;
}
