// The README written next to an exported PFNN database: every channel, the rules, and the shapes actually written.
import {
  GAITS,
  MIN_FRAMES,
  NEXT_SAMPLES,
  SAMPLES,
  STEP,
  WINDOW,
  X_DIM,
  X_GROUPS,
  Y_DIM,
  Y_GROUPS,
  type PfnnOptions,
} from './database-layout.js';
import type { PfnnReport } from './database-build.js';

export function pfnnReadme(a: { root: string; split: string; report: PfnnReport; options: PfnnOptions }): string {
  const { report: r, options: o } = a;
  const table = (groups: Array<[string, number, number]>) =>
    groups.map(([name, s, e]) => `| ${s}–${e - 1} | ${e - s} | ${name} |`).join('\n');
  return `# PFNN database (SMPL-22, 30 fps)

Exported by torchmotion from \`${a.root}\`, split \`${a.split}\`: ${r.clips} clips \
(${r.mirroredAdded} mirrored copies made
here, phase recomputed on each), ${r.rows} rows. ${r.skipped.length} clip(s) \
shorter than ${MIN_FRAMES} frames were skipped.

## Files
- \`database.npz\`: \`Xun\` (${r.rows}, ${X_DIM}) float32 inputs, \`Yun\` (${r.rows}, ${Y_DIM}) float32 outputs, \
\`Pun\` (${r.rows},) float32 phase in [0, 1),
  \`Cun\` (${r.rows},) int32: the row's clip, numbered as in \`clips.json\` (name, \
the clip it mirrors or is mirrored by, rows).
- \`Xmean.bin\`, \`Xstd.bin\` (${X_DIM} float32 each), \`Ymean.bin\`, \`Ystd.bin\` (${Y_DIM} \
float32 each), raw little-endian.
  Mean per dimension; std averaged within each group below, a group whose std is 0 gets 1; the input joint position
  and velocity stds are further divided by 0.1 (PFNN's joint weights of 1 × 0.1). Train on \`(Xun − Xmean)/Xstd\`
  with the phase appended unnormalised as the last input column, as PFNN does.

## Frames and spaces
Y up, metres, 30 fps. A row is a centre frame i with ${WINDOW} ≤ i < T − ${WINDOW + 1} \
(clips need ≥ ${MIN_FRAMES} frames).
Root space of frame t: origin at the pelvis x, z on the floor; rotated so the facing direction points along +Z.
Facing: across = (L_shoulder − R_shoulder) + (L_hip − R_hip), forward = across × up, smoothed by a Gaussian of
σ = ${o.facingSigma} frames, unit length. Input trajectory: ${SAMPLES} samples at offsets −${WINDOW} … +${WINDOW - STEP}
every ${STEP} frames, in frame i's root space. Next trajectory: ${NEXT_SAMPLES} samples at +1 … \
+${1 + STEP * (NEXT_SAMPLES - 1)} in frame i+1's root space.

## X (${X_DIM})
| dims | count | content |
|---|---|---|
${table(X_GROUPS)}

Trajectory blocks hold the ${SAMPLES} samples in time order. Gait is ${GAITS.length} blocks \
of ${SAMPLES} (${GAITS.join(', ')}),
soft labels (the data has none): stand/walk/run from the root speed with linear ramps \
around ${o.gait.standSpeed} m/s and
${o.gait.runSpeed} m/s; crouch when the head is below ${o.gait.crouchRatio} of the clip's \
standing head height (90th percentile);
jump when no foot joint is in contact while moving. Joint blocks are the 22 SMPL joints × (x, y, z) of frame i−1 in
frame i−1's root space (heights above the floor); velocities are frame differences (per frame, not per second).

## Y (${Y_DIM})
| dims | count | content |
|---|---|---|
${table(Y_GROUPS)}

Root velocity: pelvis displacement from i to i+1 in frame i's root space. Yaw velocity: facing angle change from i
to i+1 (radians, wrapped to (−π, π]). Phase change: φ(i+1) − φ(i) wrapped to [0, 1). Contacts: L heel (ankle 7),
L toe (foot 10), R heel (ankle 8), R toe (foot 11) at frame i. Joint positions and velocities of frame i in frame i's
root space; rotations are the 272 representation's 6D rows (pelvis with heading removed, joints 1–21 SMPL local).

## Contacts
A foot joint is in contact when its speed is below ${o.contacts.speed} m/s and its \
height below ${o.contacts.heelHeight} m
(ankle) or ${o.contacts.toeHeight} m (toe); then a median filter of ${o.contacts.medianWindow} frames removes flicker.

## Phase
A touch-down is a frame where a foot's heel or toe lands after at least ${o.phase.minStepFrames} \
frames in the air; touch-downs
are kept alternating right/left (of two same-foot touch-downs in a row, the first stays). φ = 0 at right touch-downs,
0.5 at left ones, linear in between. Standing and non-cyclic spans: between two touch-downs the phase advances by
their difference plus the whole number of cycles that keeps the rate nearest the clip's median half-cycle rate, so
a pause keeps a plausible rate and the phase stays continuous; before the first and after the last touch-down the
nearest rate continues. A clip with fewer than two touch-downs is non-cyclic: φ advances at ${o.phase.standingRate}
cycle(s) per second from 0 (${r.nonCyclic.length} such clip(s) \
here${r.nonCyclic.length ? `, e.g. ${r.nonCyclic.slice(0, 3).join(', ')}` : ''}).
`;
}
