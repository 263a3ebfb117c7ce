// Foot contacts and the gait phase for PFNN, from global joint positions (Y up, metres, 30 fps).
import { z } from 'zod';

import { FPS } from '../motion/repr272.js';

export const contactSettings = z
  .object({
    speed: z.number().positive().default(0.2), // m/s below which a foot joint may be in contact
    heelHeight: z.number().positive().default(0.12), // m, ankle height limit
    toeHeight: z.number().positive().default(0.06), // m, foot (toe) joint height limit
    medianWindow: z.number().int().positive().default(5), // frames, odd
  })
  .strict();
export type ContactOptions = z.output<typeof contactSettings>;
export const DEFAULT_CONTACTS: ContactOptions = contactSettings.parse({});

export const phaseSettings = z
  .object({
    // debounce: a touch-down needs the foot off the ground at least this long before
    minStepFrames: z.number().int().positive().default(4),
    standingRate: z.number().positive().default(1), // cycles per second for clips without a walking cycle
  })
  .strict();
export type PhaseOptions = z.output<typeof phaseSettings>;
export const DEFAULT_PHASE: PhaseOptions = phaseSettings.parse({});

// Contact per frame for L heel, L toe, R heel, R toe (ankles 7/8, feet 10/11) as 0/1 floats, (T,4).
export function footContacts(joints: ArrayLike<number>, o: ContactOptions = DEFAULT_CONTACTS): Float32Array {
  const T = joints.length / 66;
  const spec: Array<[number, number]> = [
    [7, o.heelHeight],
    [10, o.toeHeight],
    [8, o.heelHeight],
    [11, o.toeHeight],
  ];
  const raw = new Float32Array(T * 4);
  for (let t = 0; t < T; t++) {
    spec.forEach(([j, h], k) => {
      const p = t * 66 + 3 * j;
      const q = (t < T - 1 ? t + 1 : t - 1) * 66 + 3 * j; // forward difference, backward at the last frame
      const speed =
        Math.hypot(joints[q] - joints[p], joints[q + 1] - joints[p + 1], joints[q + 2] - joints[p + 2]) * FPS;
      raw[t * 4 + k] = speed < o.speed && joints[p + 1] < h ? 1 : 0;
    });
  }
  // Median filter per channel removes single-frame flickers.
  const half = Math.floor(o.medianWindow / 2);
  const out = new Float32Array(T * 4);
  for (let k = 0; k < 4; k++) {
    for (let t = 0; t < T; t++) {
      let ones = 0;
      let n = 0;
      for (let d = -half; d <= half; d++) {
        const s = t + d;
        if (s >= 0 && s < T) {
          ones += raw[s * 4 + k];
          n++;
        }
      }
      out[t * 4 + k] = ones * 2 > n ? 1 : 0;
    }
  }
  return out;
}

export interface Touchdown {
  frame: number;
  foot: 'L' | 'R';
}

// Frames where a foot (heel or toe) lands after at least minStepFrames in the air, kept alternating R/L:
// of two same-foot touch-downs in a row, the first stays.
export function touchdowns(contacts: Float32Array, o: PhaseOptions = DEFAULT_PHASE): Touchdown[] {
  const T = contacts.length / 4;
  const events: Touchdown[] = [];
  for (const [foot, a, b] of [
    ['L', 0, 1],
    ['R', 2, 3],
  ] as const) {
    let air = 0;
    for (let t = 0; t < T; t++) {
      const down = contacts[t * 4 + a] > 0 || contacts[t * 4 + b] > 0;
      if (down && air >= o.minStepFrames && t > 0) events.push({ frame: t, foot });
      air = down ? 0 : air + 1;
    }
  }
  events.sort((x, y) => x.frame - y.frame);
  return events.filter((e, i, all) => i === 0 || e.foot !== all[i - 1].foot);
}

export interface PhaseResult {
  phase: Float32Array;
  cyclic: boolean;
  touchdowns: Touchdown[];
}

// Phase in [0,1): 0 at right touch-downs, 0.5 at left ones, linear in between. Between two touch-downs the
// advance is their phase difference plus whole cycles chosen to keep the rate nearest the clip's median
// half-cycle rate (so a long stand keeps a plausible rate and the phase stays continuous). Before the first and
// after the last touch-down, the nearest rate is continued. Without two touch-downs the clip is non-cyclic:
// the phase advances at standingRate from 0.
export function gaitPhase(contacts: Float32Array, o: PhaseOptions = DEFAULT_PHASE): PhaseResult {
  const T = contacts.length / 4;
  const tds = touchdowns(contacts, o);
  const phase = new Float32Array(T);
  if (tds.length < 2) {
    for (let t = 0; t < T; t++) phase[t] = ((t * o.standingRate) / FPS) % 1;
    return { phase, cyclic: false, touchdowns: tds };
  }
  const value = (td: Touchdown) => (td.foot === 'R' ? 0 : 0.5);
  const gaps = tds
    .slice(1)
    .map((td, i) => td.frame - tds[i].frame)
    .sort((a, b) => a - b);
  const rate = 0.5 / gaps[Math.floor(gaps.length / 2)]; // phase per frame of a typical half cycle
  const anchors: Array<[number, number]> = [[tds[0].frame, value(tds[0])]]; // frame, unwrapped phase
  for (let i = 1; i < tds.length; i++) {
    const [f0, p0] = anchors[i - 1];
    const frames = tds[i].frame - f0;
    const base = (((value(tds[i]) - p0) % 1) + 1) % 1 || 1;
    const cycles = Math.max(0, Math.round(frames * rate - base));
    anchors.push([tds[i].frame, p0 + base + cycles]);
  }
  for (let t = 0; t < T; t++) {
    let p: number;
    if (t <= anchors[0][0]) p = anchors[0][1] - (anchors[0][0] - t) * rate;
    else if (t >= anchors[anchors.length - 1][0])
      p = anchors[anchors.length - 1][1] + (t - anchors[anchors.length - 1][0]) * rate;
    else {
      let k = 1;
      while (anchors[k][0] < t) k++;
      const [f0, p0] = anchors[k - 1];
      const [f1, p1] = anchors[k];
      p = p0 + ((p1 - p0) * (t - f0)) / (f1 - f0);
    }
    phase[t] = ((p % 1) + 1) % 1;
  }
  return { phase, cyclic: true, touchdowns: tds };
}
