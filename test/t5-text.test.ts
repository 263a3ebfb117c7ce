// The reference's text features without Python at run time: a T5-style TorchScript encoder and a tokenizer.json in
// T5's format (scripts/reference/t5_standin.py, a small random stand-in for Flan-T5-XL) — captions tokenised by
// @huggingface/tokenizers give the ids of the script's own Viterbi search, and the addon's TorchScript path gives
// the states PyTorch computed; the embedding cache built from it feeds an imported decoder's generation.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { writeSyntheticDataset } from '../ts/data/synthetic.js';
import { importCheckpoint } from '../ts/pytorch/import.js';
import { EMBEDDING_SLOTS } from '../ts/t2m/config.js';
import { buildEmbeddingCache, splitCaptions } from '../ts/t2m/embed.js';
import { generateMotions } from '../ts/t2m/generate.js';
import { TextScriptEncoder } from '../ts/t2m/text-script.js';
import { referenceTokenizerConfig } from '../scripts/reference/tokenizer-config.js';
import { device, errorOf, tempDir } from './helpers.js';
import { runPython } from './python.js';

const dir = tempDir('tm-t5-');
const root = join(dir, 'data');
writeSyntheticDataset(root, 6, 1);
const datasetCaptions = splitCaptions(root, 'all');
const captions = [
  'a person walks forward',
  'someone jumps twice then waves',
  'a person walks backward then jumps',
  'a person dances 3x faster!',
]; // the last has words the pieces do not cover: characters and <unk>
mkdirSync(join(dir, 't5'));
runPython([
  join(import.meta.dirname, '..', 'scripts', 'reference', 't5_standin.py'),
  'export',
  join(dir, 't5'),
  ...datasetCaptions,
  ...captions,
]);
const all = JSON.parse(readFileSync(join(dir, 't5', 'golden.json'), 'utf8')) as {
  dim: number;
  captions: Array<{ caption: string; ids: number[]; embeddings: number[] }>;
};
const golden = { dim: all.dim, captions: all.captions.slice(datasetCaptions.length) };

test(`tokenizer.json through @huggingface/tokenizers = the stand-in's own Unigram search (</s> appended, \
<unk> for unseen characters)`, async () => {
  const enc = await TextScriptEncoder.load(join(dir, 't5', 'encoder.pt'), join(dir, 't5', 'tokenizer.json'), device);
  assert.equal(
    captions.map((c) => enc.tokenize(c, EMBEDDING_SLOTS)),
    golden.captions.map((g) => g.ids)
  );
  assert.ok(golden.captions[3].ids.includes(2), 'the last caption reaches <unk>');
  const long = enc.tokenize(captions[1], 4);
  assert.equal(long, [...golden.captions[1].ids.slice(0, 3), 1], 'truncated: the first pieces and </s>');
});

test(`the T5-style TorchScript encoder in the addon = PyTorch (relative position biases, \
gated GELU, padding masked)`, async () => {
  const enc = await TextScriptEncoder.load(join(dir, 't5', 'encoder.pt'), join(dir, 't5', 'tokenizer.json'), device);
  const { rows, dim } = await enc.embed(captions, EMBEDDING_SLOTS);
  assert.is(dim, golden.dim);
  let worst = 0;
  let scale = 0;
  rows.forEach((r, i) => {
    assert.is(r.length, golden.captions[i].embeddings.length, captions[i]);
    r.forEach((v, k) => {
      worst = Math.max(worst, Math.abs(v - golden.captions[i].embeddings[k]));
      scale = Math.max(scale, Math.abs(golden.captions[i].embeddings[k]));
    });
  });
  assert.ok(worst / scale < 1e-5, `relative error ${worst / scale}`);
});

test('a tokenizer.json that is not one names the file', async () => {
  const bad = join(dir, 'bad.json');
  runPython(['-c', 'import sys; open(sys.argv[1], "w").write("{\\"model\\": {\\"type\\": \\"Nonsense\\"}}")', bad]);
  const e = await errorOf(() => TextScriptEncoder.load(join(dir, 't5', 'encoder.pt'), bad, device));
  assert.ok(e.startsWith(`${bad}: not a Hugging Face tokenizer.json this library reads (`), e);
});

test(`import → generate → PyTorch: a bf16 reference decoder, prompts embedded by the T5-style encoder, \
greedy codes equal the reference module's, decoded by an imported tokenizer`, async () => {
  const script = join(import.meta.dirname, '..', 'scripts', 'reference', 'reference_checkpoint.py');
  const tokConfig = referenceTokenizerConfig({ width: 32, depth: 1, levels: [8, 5, 5, 5] });
  const decConfig = { vocab: 1002, dim: 64, layers: 2, heads: 4, hidden: 256, textDim: golden.dim };
  runPython([script, 'write-tokenizer', dir, JSON.stringify(tokConfig)]);
  runPython([script, 'write-t2m', dir, JSON.stringify(decConfig)]);
  const cache = join(dir, 'cache');
  await buildEmbeddingCache({
    out: cache,
    script: join(dir, 't5', 'encoder.pt'),
    vocab: join(dir, 't5', 'tokenizer.json'),
    data: root,
    device,
  });
  await importCheckpoint(join(dir, 'fsq_net.pth'), join(dir, 'tokenizer'), { codes: 1024, data: root });
  await importCheckpoint(join(dir, 'net_t2m.pth'), join(dir, 'decoder'), {
    tokenizer: join(dir, 'tokenizer'),
    embeddings: cache,
  });
  const prompt = captions[0]; // not in the cache: embedded now by the cache's encoder
  const [g] = await generateMotions({ ckpt: join(dir, 'decoder'), texts: [prompt], seconds: 1.6, device });
  assert.ok(g.frames > 0 && g.frames === 4 * g.codes.length, `${g.codes.length} codes, ${g.frames} frames`);
  // The reference module on the prompt's PyTorch-computed states, greedy.
  const states = golden.captions[0];
  const L = states.ids.length;
  writeNpz(join(dir, 'prompt.npz'), {
    text: { data: Float32Array.from(states.embeddings), shape: [1, L, golden.dim] },
    lengths: { data: Int32Array.from([L]), shape: [1] },
    codes: { data: Int32Array.from([0, 1]), shape: [1, 2] },
  });
  runPython([
    script,
    'check-t2m',
    join(dir, 'net_t2m.pth'),
    JSON.stringify(decConfig),
    join(dir, 'prompt.npz'),
    join(dir, 'prompt-out.npz'),
  ]);
  const theirs = Array.from(readNpz(join(dir, 'prompt-out.npz')).tokens.data as Int32Array);
  const end = theirs.indexOf(1000); // END: [8,5,5,5] is 1,000 codes (the reference's table files it under 1024)
  assert.equal(Array.from(g.codes), end < 0 ? theirs : theirs.slice(0, end));
});

test.run();
