// BVH motion capture files: parsing (any channel order, end sites, frame time), forward kinematics to global
// joint positions and rotations, and writing.

import { TorchmotionError } from '../errors.js';
import { readTextFile } from '../files.js';
import { matMul, type Mat3 } from '../motion/rotation.js';

export type Channel = 'Xposition' | 'Yposition' | 'Zposition' | 'Xrotation' | 'Yrotation' | 'Zrotation';
const CHANNELS: readonly Channel[] = ['Xposition', 'Yposition', 'Zposition', 'Xrotation', 'Yrotation', 'Zrotation'];

export interface BvhJoint {
  name: string;
  parent: number; // -1 for the root
  offset: [number, number, number];
  channels: Channel[];
  channelStart: number; // index of the first channel in a frame's values
  endSite?: [number, number, number];
}

export interface Bvh {
  joints: BvhJoint[];
  frameTime: number;
  frames: number;
  values: Float64Array; // frames × channel count
  channelCount: number;
}

// Hierarchies deeper than this are refused (a human skeleton has about 10 levels; the parse is iterative anyway).
const MAX_DEPTH = 256;

export function parseBvh(text: string, file = 'BVH'): Bvh {
  const tokens: string[] = [];
  const starts: number[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    tokens.push(m[0]);
    starts.push(m.index!);
  }
  let i = 0;
  const lineOf = (t: number) => {
    const end = t < starts.length ? starts[t] : text.length;
    let line = 1;
    for (let k = text.indexOf('\n'); k >= 0 && k < end; k = text.indexOf('\n', k + 1)) line++;
    return line;
  };
  const fail = (what: string, at = i): never => {
    throw new TorchmotionError(`${file}:${lineOf(at)}: ${what} (found '${tokens[at] ?? 'end of file'}')`);
  };
  const expect = (t: string) => {
    if (tokens[i] !== t) fail(`expected '${t}'`);
    i++;
  };
  const num = () => {
    const v = Number(tokens[i]);
    if (tokens[i] === undefined || !Number.isFinite(v)) fail('expected a number');
    i++;
    return v;
  };
  expect('HIERARCHY');
  const joints: BvhJoint[] = [];
  let channelCount = 0;
  // Open joints, innermost last: an explicit stack instead of recursion, so no file can overflow the call stack.
  const open: number[] = [];
  const openJoint = (parent: number) => {
    const kind = tokens[i];
    if (kind !== (parent < 0 ? 'ROOT' : 'JOINT')) fail(`expected ${parent < 0 ? 'ROOT' : 'JOINT'}`);
    i++;
    if (tokens[i] === undefined || tokens[i] === '{') fail('expected a joint name');
    const name = tokens[i++];
    expect('{');
    expect('OFFSET');
    const joint: BvhJoint = { name, parent, offset: [num(), num(), num()], channels: [], channelStart: channelCount };
    if (tokens[i] === 'CHANNELS') {
      i++;
      const at = i;
      const n = num();
      if (!Number.isInteger(n) || n < 1 || n > CHANNELS.length)
        fail(`CHANNELS of joint ${name} must be a whole number from 1 to 6`, at);
      for (let c = 0; c < n; c++) {
        const ch = tokens[i] as Channel;
        if (!CHANNELS.includes(ch))
          fail(`joint ${name} lists ${n} channels, but this is not one of ${CHANNELS.join(', ')}`);
        if (joint.channels.includes(ch)) fail(`joint ${name} lists channel ${ch} twice`);
        joint.channels.push(ch);
        i++;
      }
      channelCount += n;
    }
    open.push(joints.push(joint) - 1);
    if (open.length > MAX_DEPTH) fail(`the hierarchy nests deeper than ${MAX_DEPTH} joints`);
  };
  openJoint(-1);
  while (open.length > 0) {
    const current = open[open.length - 1];
    if (tokens[i] === 'JOINT') openJoint(current);
    else if (tokens[i] === 'End') {
      i++;
      expect('Site');
      expect('{');
      expect('OFFSET');
      joints[current].endSite = [num(), num(), num()];
      expect('}');
    } else if (tokens[i] === '}') {
      i++;
      open.pop();
    } else fail(`unexpected token in joint ${joints[current].name}`);
  }
  expect('MOTION');
  expect('Frames:');
  const framesAt = i;
  const frames = num();
  if (!Number.isInteger(frames) || frames < 1) fail('Frames: must be a whole number of at least 1', framesAt);
  expect('Frame');
  expect('Time:');
  const timeAt = i;
  const frameTime = num();
  if (!(frameTime > 0)) fail('Frame Time: must be a positive number of seconds', timeAt);
  const available = tokens.length - i;
  const needed = frames * channelCount;
  if (available < needed) {
    throw new TorchmotionError(
      `${file}: truncated: ${frames} frames × ${channelCount} channels need ${needed} values, found ${available}`
    );
  }
  if (available > needed) {
    fail(`${available - needed} values more than Frames: ${frames} × ${channelCount} channels declare`, i + needed);
  }
  const values = new Float64Array(needed);
  for (let k = 0; k < needed; k++) {
    const v = Number(tokens[i + k]);
    if (!Number.isFinite(v))
      fail(`frame ${Math.floor(k / channelCount)} holds a value that is not a finite number`, i + k);
    values[k] = v;
  }
  return { joints, frameTime, frames, values, channelCount };
}

export function readBvh(file: string): Bvh {
  const text = readTextFile(
    file,
    (err) =>
      new TorchmotionError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  );
  return parseBvh(text, file);
}

function axisRotation(axis: 'X' | 'Y' | 'Z', degrees: number): Mat3 {
  const a = (degrees * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  if (axis === 'X') return new Float64Array([1, 0, 0, 0, c, -s, 0, s, c]);
  if (axis === 'Y') return new Float64Array([c, 0, s, 0, 1, 0, -s, 0, c]);
  return new Float64Array([c, -s, 0, s, c, 0, 0, 0, 1]);
}

// A joint's local rotation at a frame: its rotation channels multiplied in the order they are listed.
export function localRotation(bvh: Bvh, j: number, frame: number): Mat3 {
  const joint = bvh.joints[j];
  let r: Mat3 = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  joint.channels.forEach((ch, k) => {
    if (ch.endsWith('rotation'))
      r = matMul(
        r,
        axisRotation(ch[0] as 'X' | 'Y' | 'Z', bvh.values[frame * bvh.channelCount + joint.channelStart + k])
      );
  });
  return r;
}

// Global positions (frames × joints × 3) and rotations (frames × joints × 9), in the file's units and axes.
// Position channels, where a joint has them, replace its offset (as in the Bandai Namco files).
export function forwardKinematics(bvh: Bvh): { positions: Float64Array; rotations: Float64Array } {
  const J = bvh.joints.length;
  const positions = new Float64Array(bvh.frames * J * 3);
  const rotations = new Float64Array(bvh.frames * J * 9);
  for (let f = 0; f < bvh.frames; f++) {
    for (let j = 0; j < J; j++) {
      const joint = bvh.joints[j];
      const t = [...joint.offset];
      joint.channels.forEach((ch, k) => {
        if (ch.endsWith('position'))
          t['XYZ'.indexOf(ch[0])] = bvh.values[f * bvh.channelCount + joint.channelStart + k];
      });
      const local = localRotation(bvh, j, f);
      const g = (f * J + j) * 9;
      const p = (f * J + j) * 3;
      if (joint.parent < 0) {
        rotations.set(local, g);
        positions.set(t, p);
      } else {
        const pg = (f * J + joint.parent) * 9;
        const pr = rotations.subarray(pg, pg + 9);
        rotations.set(matMul(pr, local), g);
        const pp = (f * J + joint.parent) * 3;
        for (let a = 0; a < 3; a++)
          positions[p + a] = positions[pp + a] + pr[3 * a] * t[0] + pr[3 * a + 1] * t[1] + pr[3 * a + 2] * t[2];
      }
    }
  }
  return { positions, rotations };
}

const fmt = (v: number) => (Math.abs(v) < 5e-13 ? '0' : v.toFixed(6).replace(/\.?0+$/, ''));

export function writeBvhText(bvh: Bvh): string {
  const lines = ['HIERARCHY'];
  const children = bvh.joints.map((_, j) => bvh.joints.flatMap((c, k) => (c.parent === j ? [k] : [])));
  const order: number[] = []; // file order of the joints: depth first, which is also the order of their channels
  const emit = (j: number, depth: number) => {
    order.push(j);
    const pad = '  '.repeat(depth);
    const joint = bvh.joints[j];
    lines.push(`${pad}${joint.parent < 0 ? 'ROOT' : 'JOINT'} ${joint.name}`, `${pad}{`);
    lines.push(`${pad}  OFFSET ${joint.offset.map(fmt).join(' ')}`);
    lines.push(`${pad}  CHANNELS ${joint.channels.length} ${joint.channels.join(' ')}`);
    for (const c of children[j]) emit(c, depth + 1);
    if (joint.endSite)
      lines.push(`${pad}  End Site`, `${pad}  {`, `${pad}    OFFSET ${joint.endSite.map(fmt).join(' ')}`, `${pad}  }`);
    lines.push(`${pad}}`);
  };
  emit(0, 0);
  lines.push('MOTION', `Frames: ${bvh.frames}`, `Frame Time: ${bvh.frameTime.toPrecision(10)}`);
  for (let f = 0; f < bvh.frames; f++) {
    const row: string[] = [];
    for (const j of order) {
      const { channelStart, channels } = bvh.joints[j];
      for (let k = 0; k < channels.length; k++) row.push(fmt(bvh.values[f * bvh.channelCount + channelStart + k]));
    }
    lines.push(row.join(' '));
  }
  return lines.join('\n') + '\n';
}
