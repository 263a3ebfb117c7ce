// Hostile PFNN inputs (issue 30, cases 10, 11 and 14): a damaged or crafted database.npz is refused naming the
// member, pfnn.json cannot lead outside its export folder, and a broken clips.json, normalisation or layout is refused
// in one sentence naming the file, the field and the value. A tiny database of random rows trains 2 steps of an
// 8-wide network for the runtime export.
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { zipSync } from 'fflate';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz } from '../ts/data/npz.js';
import { X_DIM, Y_DIM } from '../ts/pfnn/database-layout.js';
import { readPfnnDatabase } from '../ts/pfnn/database.js';
import { writePfnnRuntime } from '../ts/pfnn/runtime-files.js';
import { pfnnPageData } from '../ts/pfnn/play.js';
import { pfnnQuality } from '../ts/pfnn/quality.js';
import { trainPfnn } from '../ts/pfnn/train.js';
import { errorOf, tempDir } from './helpers.js';
import { tinyPfnnDatabase } from './pfnn-tiny.js';

const dir = tempDir('tm-pfnn-hostile-');
const db = join(dir, 'db');
tinyPfnnDatabase(db);
const run = join(dir, 'run');
const rt = join(dir, 'x', 'rt'); // two levels down, so that ../../../ from rt/cubic is `dir`

const npzError = (file: string, why: string) => `${file}: not a readable .npz (zip) archive: ${why}`;
const copyOf = (from: string, name: string) => {
  const to = join(dir, name);
  cpSync(from, to, { recursive: true });
  return to;
};
const setBytes = (file: string, edit: (b: Buffer) => void) => {
  const b = readFileSync(file);
  edit(b);
  writeFileSync(file, b);
};

// np.savez_compressed(x=[[1.5, -2], [3, 4]] float32, c=[7, 8] int32): zip64 local headers, sizes in their extra field.
const NUMPY_NPZ = [
  'UEsDBC0AAAAIAAAAIQDwDMxS//////////8FABQAeC5ucHkBABAAkAAAAAAAAABVAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6l',
  'oG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CkaaOgq1CmQDLgaGA/YMQIKBwcGBgaHBAQBQSwMELQAAAAgA',
  'AAAhAOgQeIT//////////wUAFABjLm5weQEAEACIAAAAAAAAAEsAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNpoq6joJ6W',
  'X1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjqaOgq1ChQALnYGBgYOIAYAUEsBAi0DLQAAAAgAAAAhAPAMzFJVAAAAkAAAAAUA',
  'AAAAAAAAAAAAAIABAAAAAHgubnB5UEsBAi0DLQAAAAgAAAAhAOgQeIRLAAAAiAAAAAUAAAAAAAAAAAAAAIABjAAAAGMubnB5UEsF',
  'BgAAAAACAAIAZgAAAA4BAAAAAA==',
].join('');

test('database.npz: a flipped byte, repeated or overlapping members, a disagreeing local header: refused', async () => {
  const file = join(copyOf(db, 'flipped'), 'database.npz');
  // The members are stored: a byte well inside Xun's data changes a value and nothing else.
  setBytes(file, (b) => void (b[b.indexOf('Xun.npy') + 7 + 128 + 1000] ^= 0x10));
  assert.is(
    await errorOf(() => readPfnnDatabase(join(dir, 'flipped'))),
    npzError(file, 'member Xun.npy fails its CRC-32 check (the archive is damaged)')
  );

  const twice = join(copyOf(db, 'twice'), 'database.npz');
  setBytes(twice, (b) => {
    for (let at = b.indexOf('Yun.npy'); at >= 0; at = b.indexOf('Yun.npy', at + 1)) b.write('Pun.npy', at, 'latin1');
  });
  assert.is(
    await errorOf(() => readNpz(twice)),
    npzError(twice, 'member Pun.npy appears twice (reading either would be a silent choice)')
  );

  const renamed = join(copyOf(db, 'renamed'), 'database.npz');
  setBytes(renamed, (b) => void b.write('Qun.npy', b.indexOf('Pun.npy'), 'latin1')); // the local header only
  assert.is(
    await errorOf(() => readNpz(renamed)),
    npzError(renamed, 'member Pun.npy has a local header that names it Qun.npy')
  );

  // b.npy hidden inside a.bin's stored bytes: both are listed, and b's bytes are also a's.
  const CD = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  const inner = Buffer.from(zipSync({ 'b.npy': [new Uint8Array(200).fill(7), { level: 0 }] }));
  const innerLocal = inner.subarray(0, inner.indexOf(CD));
  const outer = Buffer.from(zipSync({ 'a.bin': [innerLocal, { level: 0 }] }));
  const entries = (zip: Buffer) => zip.subarray(zip.indexOf(CD), zip.length - 22);
  const bEntry = Buffer.from(entries(inner));
  bEntry.writeUInt32LE(30 + 'a.bin'.length, 42); // b's local header: the start of a's data
  const end = Buffer.from(outer.subarray(outer.length - 22));
  end.writeUInt16LE(2, 8);
  end.writeUInt16LE(2, 10);
  end.writeUInt32LE(entries(outer).length + bEntry.length, 12);
  const overlapping = join(dir, 'overlap.npz');
  writeFileSync(overlapping, Buffer.concat([outer.subarray(0, outer.indexOf(CD)), entries(outer), bEntry, end]));
  assert.is(
    await errorOf(() => readNpz(overlapping)),
    npzError(overlapping, `members a.bin (bytes 0–${35 + innerLocal.length}) and b.npy (from 35) overlap`)
  );

  const numpy = join(dir, 'numpy.npz');
  writeFileSync(numpy, Buffer.from(NUMPY_NPZ, 'base64'));
  const back = readNpz(numpy);
  assert.equal(
    [Array.from(back.x.data as Float32Array), back.x.shape, Array.from(back.c.data as Int32Array)],
    [
      [1.5, -2, 3, 4],
      [2, 2],
      [7, 8],
    ]
  );
});

test('pfnn.json: a layer name leading out of the export folder, or a file linked outside it, is refused', async () => {
  const train = { steps: 2, batch: 4, checkpointEvery: 2, threads: 1 };
  await trainPfnn({ data: { root: db }, model: { hidden: 8 }, train }, { out: run, log: () => {} });
  await writePfnnRuntime(run, rt);
  // What the crafted name points at exists, with the sizes a layer of this export would have.
  mkdirSync(join(dir, 'secret', 'cubic'), { recursive: true });
  for (let c = 0; c < 4; c++) {
    writeFileSync(join(dir, 'secret', 'cubic', `SECRET_00${c}.bin`), new Uint8Array(4 * 8 * X_DIM));
  }
  const info = JSON.parse(readFileSync(join(rt, 'pfnn.json'), 'utf8'));
  const hostile = copyOf(rt, 'hostile');
  for (const name of ['../../../secret/cubic/SECRET', '/etc/passwd', 'W0\u0000']) {
    info.layers[0].W = name;
    writeFileSync(join(hostile, 'pfnn.json'), JSON.stringify(info));
    assert.is(
      await errorOf(() => pfnnPageData(hostile)),
      `${join(hostile, 'pfnn.json')}: layers[0].W is ` +
        `'${name.replace('\u0000', '\\x00')}'; expected a plain name (letters, digits and _)`
    );
  }
  const linked = copyOf(rt, 'linked');
  const outside = join(dir, 'secret', 'b2.bin');
  writeFileSync(outside, readFileSync(join(rt, 'cubic', 'b2_001.bin')));
  rmSync(join(linked, 'cubic', 'b2_001.bin'));
  symlinkSync(outside, join(linked, 'cubic', 'b2_001.bin'));
  assert.is(
    await errorOf(() => pfnnPageData(linked)),
    `${join(linked, 'cubic', 'b2_001.bin')} leads to ${outside}, ` +
      `outside the export folder ${linked}: export the network again`
  );
  assert.equal(
    pfnnPageData(rt).layers.map((l) => l.shape),
    [
      [8, X_DIM],
      [8, 8],
      [Y_DIM, 8],
    ]
  );
});

test('clips.json, normalisation and layouts: one sentence naming the file, the field and the value', async () => {
  const clipsDb = copyOf(db, 'clips-object');
  const clipsFile = join(clipsDb, 'clips.json');
  writeFileSync(clipsFile, JSON.stringify({ clips: [] }));
  assert.is(
    await errorOf(() => readPfnnDatabase(clipsDb)),
    `${clipsFile}: the top level is an object; expected an array`
  );
  const clips = JSON.parse(readFileSync(join(db, 'clips.json'), 'utf8'));
  writeFileSync(clipsFile, JSON.stringify([...clips.slice(0, 2), { ...clips[2], rows: '12' }, clips[3]]));
  assert.is(await errorOf(() => readPfnnDatabase(clipsDb)), `${clipsFile}: [2].rows is '12'; expected a number`);
  writeFileSync(clipsFile, JSON.stringify([...clips.slice(0, 3), { ...clips[3], rows: 13 }]));
  assert.is(
    await errorOf(() => readPfnnDatabase(clipsDb)),
    `${clipsFile}: [3].rows is 13, but Cun of ${join(clipsDb, 'database.npz')} gives that clip 12 rows`
  );

  // A std of 1e-38 made "joint error 1.99e36 cm" a result: the database, `pfnn quality` and the page refuse it.
  const tiny = copyOf(db, 'tiny-std');
  setBytes(join(tiny, 'Xstd.bin'), (b) => b.writeFloatLE(1e-38, 4 * 3));
  const refusal =
    `${join(tiny, 'Xstd.bin')}: channel 3 is ${Math.fround(1e-38)}, but a std must lie in ` +
    '[1e-8, 1000000]: export the database again';
  assert.is(await errorOf(() => readPfnnDatabase(tiny)), refusal);
  assert.is(await errorOf(() => pfnnQuality(run, { database: tiny })), refusal);
  const page = copyOf(rt, 'page-std');
  setBytes(join(page, 'Xstd.bin'), (b) => b.writeFloatLE(1e-38, 4 * 3));
  assert.is(await errorOf(() => pfnnPageData(page)), refusal.replace(join(tiny, 'Xstd.bin'), join(page, 'Xstd.bin')));
  setBytes(join(page, 'Ystd.bin'), (b) => b.writeFloatLE(Infinity, 4 * 7));
  assert.is(await errorOf(() => pfnnPageData(page)), `${join(page, 'Ystd.bin')}: value 7 is Infinity: export it again`);

  // A 10-column database was read at offsets of the 240-column layout ("offset is out of bounds").
  const narrow = join(dir, 'narrow');
  tinyPfnnDatabase(narrow, { input: 10 });
  assert.is(
    await errorOf(() => pfnnQuality(run, { database: narrow })),
    `${join(narrow, 'database.npz')}: Xun has ` +
      `10 columns and Yun ${Y_DIM}, but a PFNN database has the SMPL-22 layout of \`torchmotion pfnn database\` ` +
      `(${X_DIM} and ${Y_DIM})`
  );

  const info = JSON.parse(readFileSync(join(rt, 'pfnn.json'), 'utf8'));
  const json = copyOf(rt, 'json');
  const refused = async (edit: (i: typeof info) => void) => {
    const copy = structuredClone(info);
    edit(copy);
    writeFileSync(join(json, 'pfnn.json'), JSON.stringify(copy));
    return (await errorOf(() => pfnnPageData(json))).replace(`${join(json, 'pfnn.json')}: `, '');
  };
  assert.is(await refused((i) => void (i.hidden = '8')), "hidden is '8'; expected a number");
  assert.is(
    await refused((i) => void (i.layers[1].shape = [8, 9])),
    `layers[1].shape is [8, 9]; expected [8, 8] (hidden 8, input ${X_DIM}, output ${Y_DIM})`
  );
  assert.is(
    await refused((i) => void (i.layers[2].b = 'b1')),
    "layers[2].b is 'b1'; expected a name no other layer uses"
  );
  assert.is(await refused((i) => void (i.phases = 1e9)), 'phases is number 1000000000; expected 50');
  assert.is(await refused((i) => void delete i.layers), 'layers is missing; expected an array');
  assert.is(
    await refused((i) => void (i.format = 'torchmotion-run-1')),
    'format is \'torchmotion-run-1\'; expected "torchmotion-pfnn-runtime-1"'
  );
});

test.run();
