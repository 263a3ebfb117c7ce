// Text conditioning beyond the built-in encoder: a TorchScript encoder loaded by the addon (golden against the
// PyTorch script that exported it), the caption-embedding cache, training on cached embeddings, and generation that
// reads cached prompts or embeds new ones with the cache's encoder.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { writeNpy } from '../ts/data/npy.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { buildEmbeddingCache, splitCaptions } from '../ts/t2m/embed.js';
import { EmbeddingCache } from '../ts/t2m/embedding-cache.js';
import { generateMotions } from '../ts/t2m/generate.js';
import { TextScriptEncoder } from '../ts/t2m/text-script.js';
import { trainT2M } from '../ts/t2m/train.js';
import { encodeDataset } from '../ts/tokenizer/encode.js';
import { loadTokenizer } from '../ts/tokenizer/model.js';
import { trainTokenizer } from '../ts/tokenizer/train.js';
import { device, errorOf, tempDir } from './helpers.js';
import { runPython } from './python.js';

const work = tempDir('tm-t2m-text-');
const root = join(work, 'data');
writeSyntheticDataset(root, 12, 4);
const quiet = () => {};
const script = join(work, 'script');
mkdirSync(script);
const captions = splitCaptions(root, 'all');
runPython([
  join(import.meta.dirname, '..', 'scripts', 'reference', 'text_script.py'),
  'export',
  script,
  '24',
  '',
  ...captions,
  'a person waves the left hand',
]);
const golden = JSON.parse(readFileSync(join(script, 'golden.json'), 'utf8')) as {
  dim: number;
  unk: string;
  captions: Array<{ caption: string; ids: number[]; embeddings: number[] }>;
};

test(`TorchScript encoder in the addon = the PyTorch module that exported it (ids, \
<unk>, padding ignored)`, async () => {
  const enc = await TextScriptEncoder.load(join(script, 'encoder.pt'), join(script, 'vocab.txt'), device);
  const all = golden.captions.map((g) => g.caption);
  assert.equal(
    all.map((c) => enc.tokenize(c, 150)),
    golden.captions.map((g) => g.ids)
  );
  assert.is(golden.unk, 'hand');
  assert.is(enc.tokenize('a person waves the left hand', 150).at(-1), 2, '"hand" is not in vocab.txt: <unk>');
  const { rows, dim } = await enc.embed(all, 150);
  assert.is(dim, 24);
  let worst = 0;
  rows.forEach((r, i) => {
    assert.is(r.length, golden.captions[i].embeddings.length);
    r.forEach((v, k) => {
      worst = Math.max(worst, Math.abs(v - golden.captions[i].embeddings[k]));
    });
  });
  assert.ok(worst < 1e-5, `max |difference| ${worst}`);
});

test('TorchScript errors name the file and the contract', async () => {
  const bad = join(work, 'not-a-script.pt');
  writeFileSync(bad, 'hello');
  assert.match(
    await errorOf(() => TextScriptEncoder.load(bad, join(script, 'vocab.txt'))),
    `${bad}: cannot load a TorchScript module (`
  );
  const vocab = join(work, 'vocab-bad.txt');
  writeFileSync(vocab, 'a\nb\n');
  assert.is(
    await errorOf(() => TextScriptEncoder.load(join(script, 'encoder.pt'), vocab)),
    `${vocab}: line 1 must be <pad>, and <bos> and <unk> must be listed (one token per line, line number = id)`
  );
});

test('cache from precomputed arrays: rows read back exactly, duplicates kept once, bad arrays named', async () => {
  const from = join(work, 'from');
  mkdirSync(from);
  const a = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 7);
  const b = Float32Array.from({ length: 2 * 4 }, (_, i) => -i);
  writeNpy(join(from, 'a.npy'), { data: a, shape: [3, 4] });
  writeNpy(join(from, 'b.npy'), { data: Float64Array.from(b), shape: [2, 4] });
  writeFileSync(
    join(from, 'captions.jsonl'),
    [
      { text: 'a  person walks ', file: 'a.npy' },
      { text: '', file: 'b.npy' },
      { text: 'a person walks', file: 'b.npy' },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n')
  );
  const out = join(work, 'cache-from');
  const index = await buildEmbeddingCache({ from, out });
  assert.equal(index, { version: 1, dim: 4, entries: 2, rows: 5 });
  const cache = new EmbeddingCache(out);
  assert.equal(Array.from(cache.rows('a person walks')), Array.from(a));
  assert.equal(Array.from(cache.rows('')), Array.from(b));
  assert.is(
    await errorOf(() => cache.rows('a person jumps')),
    `caption "a person jumps" is not in the embedding cache ${out}: add its embedding and rebuild it (\`torchmotion ` +
      `t2m embed\`), or build the cache with --script so new prompts can be embedded`
  );
  cache.close();
  assert.equal(
    readdirSync(work).filter((f) => f.includes('.tmp-')),
    [],
    'no half-written cache left behind'
  );
  const cut = join(work, 'cache-cut');
  cpSync(out, cut, { recursive: true });
  truncateSync(join(cut, 'embeddings.f32'), 40);
  assert.is(
    await errorOf(() => new EmbeddingCache(cut)),
    `${join(cut, 'embeddings.f32')}: 40 bytes, but the index needs 80 (a truncated copy?); ` +
      `rebuild the cache with \`torchmotion t2m embed\``
  );
  writeNpy(join(from, 'c.npy'), { data: new Float32Array(5), shape: [5] });
  // A good entry first, so the writer exists when the bad one fails and its temporary folder must be removed.
  writeFileSync(
    join(from, 'captions.jsonl'),
    [
      { text: 'w', file: 'a.npy' },
      { text: 'x', file: 'c.npy' },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n')
  );
  assert.is(
    await errorOf(() => buildEmbeddingCache({ from, out: join(work, 'cache-bad') })),
    `${join(from, 'c.npy')}: expected a (L, D) float array, found (5) f4`
  );
  assert.not.ok(existsSync(join(work, 'cache-bad')));
  assert.equal(
    readdirSync(work).filter((f) => f.includes('.tmp-')),
    [],
    'the failed build left no temporary folder'
  );
});

test(`training on cached TorchScript embeddings; generation reads cached prompts and embeds \
new ones identically`, async () => {
  const tok = await trainTokenizer(
    { preset: 'tiny', data: { root }, train: { steps: 3, batch: 2, window: 32, threads: 1, device } },
    { out: join(work, 'tok'), log: quiet }
  );
  const { model } = await loadTokenizer(tok.checkpoint, device);
  await encodeDataset(model, root, join(work, 'codes'), { split: 'all', checkpoint: tok.checkpoint, log: quiet });
  const cacheDir = join(work, 'cache');
  const index = await buildEmbeddingCache({
    script: join(script, 'encoder.pt'),
    vocab: join(script, 'vocab.txt'),
    data: root,
    out: cacheDir,
  });
  assert.is(index.entries, captions.length + 1);
  const config = {
    model: { preset: 'tiny' as const, text: 'embeddings' as const },
    data: { root, codes: join(work, 'codes'), embeddings: cacheDir },
    train: { steps: 4, batch: 3, lr: 3e-3, warmup: 1, checkpointEvery: 4, threads: 1, device },
  };
  const run = await trainT2M(config, { out: join(work, 't2m'), log: quiet });
  assert.ok(Number.isFinite(run.last!.loss) && run.last!.loss > 0);
  const known = captions[0];
  const fresh = 'a person waves the left hand';
  const opts = { ckpt: run.checkpoint, seconds: 2, seed: 1, device, cfgScale: 1.5 };
  const [fromCache] = await generateMotions({ ...opts, texts: [known] });
  // A cache without the prompt but with the encoder embeds it on the fly: same tokens as the cached embedding.
  const [a, b] = await generateMotions({ ...opts, texts: [fresh, known] });
  assert.equal(Array.from(b.codes), Array.from(fromCache.codes));
  assert.ok(a.codes.length >= 1);
  assert.is(
    await errorOf(() =>
      trainT2M({ ...config, data: { ...config.data, embeddings: undefined } }, { out: join(work, 't2m-x'), log: quiet })
    ),
    'model.text "embeddings" needs data.embeddings: a caption-embedding cache built with `torchmotion t2m embed`'
  );
});

test('a cache that misses training captions is refused before any step, naming them', async () => {
  const from = join(work, 'from2');
  mkdirSync(from);
  writeNpy(join(from, 'e.npy'), { data: new Float32Array(8), shape: [2, 4] });
  writeFileSync(join(from, 'captions.jsonl'), JSON.stringify({ text: captions[0], file: 'e.npy' }));
  await buildEmbeddingCache({ from, out: join(work, 'cache-partial') });
  const msg = await errorOf(() =>
    trainT2M(
      {
        model: { preset: 'tiny', text: 'embeddings' },
        data: { root, codes: join(work, 'codes'), embeddings: join(work, 'cache-partial') },
        train: { steps: 1, threads: 1, device },
      },
      { out: join(work, 't2m-y'), log: quiet }
    )
  );
  assert.match(
    msg,
    new RegExp(
      String.raw`^\d+ caption\(s\) have no embedding in .*cache-partial \(e\.g\. ".+"\); the empty caption "" ` +
        String.raw`is needed for condition dropout \(train\.condDrop > 0\) and guidance: add them and rebuild ` +
        String.raw`the cache with \`torchmotion t2m embed\`$`
    )
  );
});

test.run();
