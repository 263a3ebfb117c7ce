// What one clip does, in a few numbers read straight from its 272 channels: how fast the root travels and turns,
// how high the pelvis is and how much it moves up and down, and how fast hands and feet move relative to the body.
// Read in chunks of rows, so a long clip costs a chunk of memory.
import { DIM, FPS } from '../motion/repr272.js';
import { NpyFile } from './npy.js';

export interface ClipFeatures {
  frames: number;
  rootSpeed: number; // m/s, mean ground-plane speed of the pelvis
  turningDegPerSec: number; // mean |yaw rate|
  pelvisHeight: number; // m, mean of channel 9
  pelvisHeightStd: number; // m, its standard deviation over the clip (squats, jumps, getting down)
  handSpeed: number; // m/s, wrists' mean speed in the heading-free body frame (channels 74:140)
  footSpeed: number; // m/s, the same for the ankles
}

const WRISTS = [20, 21];
const ANKLES = [7, 8];
const CHUNK = 2048;

// The features, or the reason the clip cannot count (a NaN/Inf, found while the values are read anyway).
export function clipFeatures(file: string): ClipFeatures | { reason: string } {
  const s = { speed: 0, turn: 0, h: 0, h2: 0, hand: 0, foot: 0, moving: 0 };
  const f = new NpyFile(file);
  try {
    for (let r = 0; r < f.rows; r += CHUNK) {
      const n = Math.min(CHUNK, f.rows - r);
      const x = f.readRows(r, n).data as Float32Array | Float64Array;
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite(x[i]))
          return { reason: `frame ${r + Math.floor(i / DIM)}, channel ${i % DIM} is ${x[i]}` };
      }
      for (let t = 0; t < n; t++) {
        const o = t * DIM;
        s.h += x[o + 9];
        s.h2 += x[o + 9] * x[o + 9];
        if (r + t === 0) continue; // frame 0 has no displacement, heading increment or velocity
        s.speed += Math.hypot(x[o], x[o + 1]) * FPS;
        s.turn += Math.abs(Math.atan2(x[o + 4], x[o + 2])) * FPS * (180 / Math.PI);
        for (const j of WRISTS)
          s.hand += (Math.hypot(x[o + 74 + 3 * j], x[o + 75 + 3 * j], x[o + 76 + 3 * j]) * FPS) / WRISTS.length;
        for (const j of ANKLES)
          s.foot += (Math.hypot(x[o + 74 + 3 * j], x[o + 75 + 3 * j], x[o + 76 + 3 * j]) * FPS) / ANKLES.length;
        s.moving++;
      }
    }
    const T = f.rows;
    const mean = T ? s.h / T : 0;
    const m = Math.max(1, s.moving);
    return {
      frames: T,
      rootSpeed: s.speed / m,
      turningDegPerSec: s.turn / m,
      pelvisHeight: mean,
      pelvisHeightStd: T ? Math.sqrt(Math.max(0, s.h2 / T - mean * mean)) : 0,
      handSpeed: s.hand / m,
      footSpeed: s.foot / m,
    };
  } catch (err) {
    return { reason: (err as Error).message.replace(`${file}: `, '') };
  } finally {
    f.close();
  }
}
