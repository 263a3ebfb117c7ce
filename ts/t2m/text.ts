// Text conditioning, pluggable: the built-in trainable encoder reads word ids; the `embeddings` mode reads
// precomputed token embeddings from the cache (and embeds new prompts with the cache's TorchScript encoder, if it
// was built with one). Either way a batch is a left-padded prefix plus its lengths.
import { TorchmotionError } from '../errors.js';
import { EMBEDDING_SLOTS } from './config.js';
import type { HostTensor } from '../tensor.js';
import { captionKey, EmbeddingCache } from './embedding-cache.js';
import type { TextScriptEncoder } from './text-script.js';
import { padCaptions, type Vocabulary } from './vocab.js';

export interface TextBatch {
  text: HostTensor;
  textLengths: HostTensor<Int32Array>;
}

export function builtinBatch(vocab: Vocabulary, captions: string[], maxWords: number): TextBatch {
  const { ids, lengths, slots } = padCaptions(captions.map((c) => vocab.encode(c, maxWords)));
  return {
    text: { data: ids, shape: [captions.length, slots] },
    textLengths: { data: lengths, shape: [captions.length] },
  };
}

// Left-pads (L_i, D) blocks into (B, Lt, D).
function padEmbeddings(blocks: Float32Array[], dim: number): TextBatch {
  const lens = blocks.map((r) => Math.min(EMBEDDING_SLOTS, r.length / dim));
  const Lt = Math.max(1, ...lens);
  const data = new Float32Array(blocks.length * Lt * dim);
  blocks.forEach((r, b) => data.set(r.subarray(0, lens[b] * dim), (b * Lt + Lt - lens[b]) * dim));
  return {
    text: { data, shape: [blocks.length, Lt, dim] },
    textLengths: { data: Int32Array.from(lens), shape: [blocks.length] },
  };
}

// Training: every caption must already be in the cache (checked up front, so a run never stops half way).
export function checkCacheCovers(cache: EmbeddingCache, captions: Iterable<string>, needEmpty: boolean): void {
  const missing = new Set<string>();
  for (const c of captions) if (!cache.has(c)) missing.add(captionKey(c));
  if (needEmpty && !cache.has('')) missing.add('');
  if (missing.size === 0) return;
  const list = [...missing]
    .slice(0, 3)
    .map((c) => `"${c}"`)
    .join(', ');
  throw new TorchmotionError(
    `${missing.size} caption(s) have no embedding in ${cache.dir} (e.g. ${list})` +
      (missing.has('')
        ? '; the empty caption "" is needed for condition dropout (train.condDrop > 0) and guidance'
        : '') +
      ': add them and rebuild the cache with `torchmotion t2m embed`'
  );
}

export function cachedBatch(cache: EmbeddingCache, captions: string[]): TextBatch {
  return padEmbeddings(
    captions.map((c) => cache.rows(c)),
    cache.dim
  );
}

// Generation: cached prompts are read, others embedded with the cache's encoder when it has one.
export async function promptBatch(
  cache: EmbeddingCache,
  script: TextScriptEncoder | undefined,
  prompts: string[]
): Promise<TextBatch> {
  const missing = prompts.filter((p) => !cache.has(p));
  const fresh = new Map<string, Float32Array>();
  if (missing.length > 0 && script) {
    const { rows, dim } = await script.embed(missing, EMBEDDING_SLOTS);
    if (dim !== cache.dim)
      throw new TorchmotionError(
        `${script.script} gives ${dim}-wide embeddings but the cache ${cache.dir} holds ${cache.dim}`
      );
    missing.forEach((p, i) => fresh.set(p, rows[i]));
  }
  return padEmbeddings(
    prompts.map((p) => fresh.get(p) ?? cache.rows(p)),
    cache.dim
  );
}
