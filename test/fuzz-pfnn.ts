// The pfnn.json fuzz family (imported by test/fuzz.test.ts): a tiny runtime export's description with names holding
// `..`, `/` or NUL, absolute paths, wrong types, huge or negative shapes, missing keys or damaged bytes, read as
// `pfnn play` reads it. Each case is the export's own page data (the weight files are never changed, so a correct load
// is exactly the original one, finite and of the declared shapes) or an error naming the export folder; files of the
// right sizes wait outside it, where a crafted name would lead.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { X_DIM, Y_DIM } from '../ts/pfnn/database-layout.js';
import { writePfnnRuntime } from '../ts/pfnn/runtime-files.js';
import { pfnnPageData } from '../ts/pfnn/play.js';
import { trainPfnn } from '../ts/pfnn/train.js';
import { CASES, classify, dir, randomStream } from './fuzz-harness.js';
import { tinyPfnnDatabase } from './pfnn-tiny.js';

const { rng, pick, mutateBytes } = randomStream('pfnn.json');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const NAMES = [
  'W0',
  'b0',
  'W1',
  'b2',
  'Xmean',
  '..',
  '../W0',
  '../../../secret/cubic/SECRET',
  '/etc/passwd',
  'cubic/W0',
  'W0\u0000',
  'W0/..',
  '',
  ' W0',
  'W0.bin',
  '\uff370',
  '.',
  '~',
  'C:\\W0',
  '%2e%2e',
];
const VALUES: Json[] = [
  null,
  true,
  'x',
  '240',
  0,
  -1,
  1.5,
  8,
  240,
  296,
  50,
  1e9,
  -1e9,
  2 ** 53,
  1e308,
  [],
  [8, 240],
  {},
  { a: 1 },
];
const SHAPES: Json[] = [
  [8, 240],
  [240, 8],
  [8, 8],
  [296, 8],
  [-8, 240],
  [0, 240],
  [1e9, 240],
  [8],
  [8, 240, 1],
  [8.5, 240],
  ['8', 240],
  null,
  [2 ** 31, 2 ** 31],
];

// Every [parent, key] in the document, so that a mutation can reach any field at any depth.
function places(node: Json, out: Array<[Record<string, Json> | Json[], string | number]> = []) {
  if (node !== null && typeof node === 'object') {
    for (const k of Object.keys(node)) {
      const key = Array.isArray(node) ? Number(k) : k;
      out.push([node, key]);
      places((node as Record<string, Json>)[key], out);
    }
  }
  return out;
}

function mutate(info: Record<string, Json>): void {
  // An earlier mutation may have replaced the layers or a layer; then a field elsewhere changes.
  const layers = (Array.isArray(info.layers) ? info.layers : []).filter(
    (l) => l !== null && typeof l === 'object' && !Array.isArray(l)
  );
  const layer = layers.length ? (pick(layers) as Record<string, Json>) : info;
  switch (rng.int(6)) {
    case 0:
      layer[pick(['W', 'b'])] = pick(NAMES);
      break;
    case 1:
      layer.shape = pick(SHAPES);
      break;
    case 2:
      info[pick(['input', 'output', 'hidden', 'phases', 'format'])] = pick(VALUES);
      break;
    case 3: {
      const [parent, key] = pick(places(info as Json));
      (parent as Record<string, Json>)[key] = pick(VALUES);
      break;
    }
    case 4: {
      const [parent, key] = pick(places(info as Json));
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    }
    default:
      info.trainedBy = { run: 'elsewhere', step: rng.int(100), heldOutClips: 0 }; // harmless: a correct load
  }
}

test('pfnn.json: hostile descriptions load the export exactly or are refused naming it, never outside', async () => {
  const root = join(dir, 'pfnn-json');
  tinyPfnnDatabase(join(root, 'db'));
  const train = { steps: 2, batch: 4, checkpointEvery: 2, threads: 1 };
  const run = join(root, 'run');
  await trainPfnn({ data: { root: join(root, 'db') }, model: { hidden: 8 }, train }, { out: run, log: () => {} });
  const rt = join(root, 'x', 'rt'); // ../../../ from rt/cubic is `root`
  await writePfnnRuntime(run, rt);
  mkdirSync(join(root, 'secret', 'cubic'), { recursive: true });
  for (let c = 0; c < 4; c++) {
    writeFileSync(join(root, 'secret', 'cubic', `SECRET_00${c}.bin`), new Float32Array(8 * X_DIM));
  }
  const file = join(rt, 'pfnn.json');
  const text = readFileSync(file, 'utf8');
  const original = pfnnPageData(rt);
  const floats = (b64: string) => new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer);
  for (let k = 0; k < CASES; k++) {
    if (k % 5 === 4) {
      writeFileSync(file, mutateBytes(new TextEncoder().encode(text)));
    } else {
      const info = JSON.parse(text);
      for (let m = 0; m < 1 + rng.int(3); m++) mutate(info);
      writeFileSync(file, JSON.stringify(info));
    }
    classify(
      `pfnn.json case ${k}`,
      rt,
      () => pfnnPageData(rt),
      (page: typeof original) => {
        assert.equal(page, original, `pfnn.json case ${k}: the export's own data`);
        const [hidden, sizes] = [page.layers[0].shape[0], [X_DIM, X_DIM, Y_DIM, Y_DIM]];
        assert.equal(
          page.layers.map((l) => l.shape),
          [
            [hidden, X_DIM],
            [hidden, hidden],
            [Y_DIM, hidden],
          ]
        );
        for (const l of page.layers) {
          const [W, b] = [floats(l.W), floats(l.b)];
          assert.ok(W.length === 4 * l.shape[0] * l.shape[1] && b.length === 4 * l.shape[0], `case ${k}: sizes`);
          assert.ok([...W, ...b].every(Number.isFinite), `pfnn.json case ${k}: finite weights`);
        }
        [page.Xmean, page.Xstd, page.Ymean, page.Ystd].forEach((s, i) => {
          assert.ok(floats(s).length === sizes[i] && floats(s).every(Number.isFinite), `case ${k}: normalisation`);
        });
      }
    );
  }
  writeFileSync(file, text);
});
