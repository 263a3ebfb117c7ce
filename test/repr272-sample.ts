// The bundled AMASS sample (test/fixtures/repr272-sample), shared by test/repr272.test.ts and
// scripts/docs/format-example.ts: its folder and metadata, and the frame the position inverse answers in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const sampleDir = join(import.meta.dirname, 'fixtures', 'repr272-sample');
export const sampleMeta = JSON.parse(readFileSync(join(sampleDir, 'meta.json'), 'utf8')) as {
  floorY: number;
  frames: number;
};

// Joints (x, y, z per joint, frame after frame) moved so the floor is y = 0 and frame 0's pelvis x, z is the origin:
// what recoverJoints returns for them.
export function atFloorOrigin(joints: ArrayLike<number>, floorY: number): Float64Array {
  const out = Float64Array.from(joints);
  const [ox, oz] = [joints[0], joints[2]];
  for (let i = 0; i < out.length; i += 3) {
    out[i] -= ox;
    out[i + 1] -= floorY;
    out[i + 2] -= oz;
  }
  return out;
}
