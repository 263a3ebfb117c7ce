import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { zipSync } from 'fflate';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  encodeNpy,
  encodeNpyHeader,
  NpyFile,
  readNpy,
  readNpyHeader,
  readNpyRows,
  writeNpy,
  type NpyData,
  type NpyDtype,
} from '../ts/data/npy.js';
import { readNpz, writeNpz } from '../ts/data/npz.js';
import { errorOf, tempDir } from './helpers.js';

const dir = tempDir('tm-npy-');
const path = (name: string) => join(dir, name);

const arrays: Array<[NpyDtype, NpyData]> = [
  ['f4', new Float32Array([1.5, -2, 3.25, 0, -0, 1e-30])],
  ['f8', new Float64Array([Math.PI, -1e300, 5e-324, 7, 8, 9])],
  ['i4', new Int32Array([2147483647, -2147483648, 0, 1, -1, 42])],
  ['i8', new BigInt64Array([9223372036854775807n, -9223372036854775808n, 0n, 1n, -1n, 42n])],
  ['u1', new Uint8Array([0, 255, 7, 8, 9, 10])],
  ['b1', new Uint8Array([1, 0, 1, 1, 0, 0])],
];

for (const [dtype, data] of arrays) {
  for (const bigEndian of [false, true]) {
    for (const fortranOrder of [false, true]) {
      for (const version of [1, 2, 3] as const) {
        test(`round trip ${dtype} ${bigEndian ? 'big' : 'little'}-endian ${fortranOrder ? 'F' : 'C'} \
order v${version}`, () => {
          const file = path(`${dtype}-${bigEndian}-${fortranOrder}-${version}.npy`);
          writeNpy(file, { data, shape: [3, 2] }, { dtype, bigEndian, fortranOrder, version });
          const back = readNpy(file);
          assert.is(back.dtype, dtype);
          assert.equal(back.shape, [3, 2]);
          assert.equal(Array.from(back.data as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>));
          const rows = readNpyRows(file, 1, 2);
          assert.equal(rows.shape, [2, 2]);
          assert.equal(Array.from(rows.data as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>).slice(2));
        });
      }
    }
  }
}

test('reads a file written by NumPy (the real sample) and only the rows asked for', () => {
  const file = join(import.meta.dirname, 'fixtures', 'repr272-sample', 'repr272.npy');
  const h = readNpyHeader(file);
  assert.equal([h.version, h.dtype, h.littleEndian, h.fortranOrder, h.shape], [1, 'f8', true, false, [300, 272]]);
  const f = new NpyFile(file);
  const rows = f.readRows(1, 1);
  f.close();
  // Frame 1's heading increment starts with cos(Δh), within 1e-4 of 1 for this clip.
  assert.ok(Math.abs((rows.data as Float64Array)[2] - 0.999983668) < 1e-8);
});

test('3-D arrays in Fortran order are transposed to C order', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  writeNpy(path('f3.npy'), { data, shape: [2, 3, 4] }, { fortranOrder: true });
  assert.equal(Array.from(readNpy(path('f3.npy')).data as Float32Array), Array.from(data));
  assert.equal(Array.from(readNpyRows(path('f3.npy'), 1, 1).data as Float32Array), Array.from(data.slice(12)));
});

test('scalars (0-d) and 1-D arrays', () => {
  writeNpy(path('s.npy'), { data: new Float64Array([2.5]), shape: [] });
  assert.equal(readNpy(path('s.npy')).shape, []);
  writeNpy(path('v.npy'), { data: new Int32Array([4, 5, 6]), shape: [3] });
  assert.equal(Array.from(readNpyRows(path('v.npy'), 1, 2).data as Int32Array), [5, 6]);
});

test('a truncated file names the file and how many bytes are missing', async () => {
  const bytes = encodeNpy({ data: new Float64Array(20), shape: [10, 2] });
  writeFileSync(path('cut.npy'), bytes.subarray(0, bytes.length - 8));
  assert.is(
    await errorOf(() => readNpy(path('cut.npy'))),
    `${path('cut.npy')}: truncated: shape (10, 2) of f8 needs ${bytes.length} bytes, the file has ${bytes.length - 8}`
  );
});

test('corrupt headers and wrong files are named', async () => {
  writeFileSync(path('text.npy'), 'hello, not numpy at all');
  assert.is(
    await errorOf(() => readNpy(path('text.npy'))),
    `${path('text.npy')}: not a .npy file (the \\x93NUMPY magic is missing)`
  );
  const good = encodeNpy({ data: new Float32Array(2), shape: [2] });
  const complex = Buffer.from(good);
  complex.write("'<c8'", complex.indexOf("'<f4'"), 'latin1');
  writeFileSync(path('c8.npy'), complex);
  assert.is(
    await errorOf(() => readNpy(path('c8.npy'))),
    `${path('c8.npy')}: unsupported dtype '<c8' (supported: f4, f8, i4, i8, u1, b1)`
  );
  assert.is(await errorOf(() => readNpy(path('missing.npy'))), `${path('missing.npy')}: cannot open (ENOENT)`);
  assert.is(
    await errorOf(() => readNpyRows(path('v.npy'), 2, 5)),
    `${path('v.npy')}: rows [2, 7) are outside the 3 rows of the file`
  );
});

test('npz: several arrays, stored and deflated, and a clear error for a broken archive', async () => {
  const arraysIn = {
    poses: { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] },
    mocap_framerate: { data: new Float64Array([120]), shape: [] },
  };
  for (const compress of [false, true]) {
    writeNpz(path(`a${compress}.npz`), arraysIn, { compress });
    const back = readNpz(path(`a${compress}.npz`));
    assert.equal(Object.keys(back).sort(), ['mocap_framerate', 'poses']);
    assert.equal(Array.from(back.poses.data as Float32Array), [1, 2, 3, 4, 5, 6]);
    assert.is((back.mocap_framerate.data as Float64Array)[0], 120);
  }
  const bytes = readFileSync(path('atrue.npz'));
  writeFileSync(path('broken.npz'), bytes.subarray(0, 40));
  assert.match(
    await errorOf(() => readNpz(path('broken.npz'))),
    new RegExp(`^${path('broken.npz')}: not a readable .npz \\(zip\\) archive`)
  );
});

test('npz: a zip bomb fails on its first chunks, whatever it would inflate to', async () => {
  // A member whose header declares 10 float64 values but inflates to 64 MiB of zeros (a few tens of KiB on disk).
  const header = encodeNpyHeader('f8', [10]);
  const body = new Uint8Array(64 * 2 ** 20);
  body.set(header);
  writeFileSync(path('bomb.npz'), zipSync({ 'x.npy': [body, { level: 9 }] }));
  const t0 = performance.now();
  assert.is(
    await errorOf(() => readNpz(path('bomb.npz'))),
    `${path('bomb.npz')}: not a readable .npz (zip) archive: member x.npy inflates past the ` +
      `${header.length + 80} bytes it declares`
  );
  assert.ok(performance.now() - t0 < 2000, 'it stops early');
  // One whose header declares more than a member may hold.
  const huge = new Uint8Array(4096);
  huge.set(encodeNpyHeader('f8', [2 ** 28, 2]));
  writeFileSync(path('huge.npz'), zipSync({ 'y.npy': [huge, { level: 9 }] }));
  assert.match(
    await errorOf(() => readNpz(path('huge.npz'))),
    'member y.npy declares an array of 4294967424 bytes, more than the 1024 MiB a member may hold'
  );
  // Cut right after its first member, an archive is refused rather than read as a smaller one.
  const two = zipSync({
    'a.npy': encodeNpy({ data: new Float64Array(4), shape: [4] }),
    'b.npy': encodeNpy({ data: new Float64Array(4), shape: [4] }),
  });
  const second = Buffer.from(two).indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), 4); // the second member's local header
  assert.ok(second > 0);
  writeFileSync(path('cut.npz'), two.subarray(0, second));
  assert.is(
    await errorOf(() => readNpz(path('cut.npz'))),
    `${path('cut.npz')}: not a readable .npz (zip) archive: truncated: no end-of-central-directory record`
  );
});

test.run();
