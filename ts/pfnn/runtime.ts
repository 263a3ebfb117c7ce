// The PFNN at run time, in plain TypeScript with no Node.js or native code, so the browser controller and the tests
// share it: the cyclic Catmull-Rom phase function, blending control points into one phase's weights, and the forward
// pass (ELU between layers, no dropout at run time: training scaled the kept units by 1/keep already).

export interface LayerWeights {
  W: Float32Array;
  b: Float32Array;
  out: number;
  in: number;
} // W row-major (out, in)
export type PhaseWeights = [LayerWeights, LayerWeights, LayerWeights];

// The weights of control points 0 … 3 at phase φ: the cubic between k1 = ⌊4φ⌋ mod 4 and k1 + 1 at w = frac(4φ).
export function catmullRom(phase: number): [number, number, number, number] {
  const p = 4 * phase;
  const k1 = ((Math.floor(p) % 4) + 4) % 4;
  const w = p - Math.floor(p);
  const [w2, w3] = [w * w, w * w * w];
  const c = [-0.5 * w3 + w2 - 0.5 * w, 1.5 * w3 - 2.5 * w2 + 1, -1.5 * w3 + 2 * w2 + 0.5 * w, 0.5 * w3 - 0.5 * w2];
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let j = 0; j < 4; j++) out[(k1 + j + 3) % 4] += c[j];
  return out;
}

// Control points: W (4, out, in) and b (4, out) of one layer → its weights at `phase`.
export function blendLayer(W: Float32Array, b: Float32Array, out: number, inputs: number, phase: number): LayerWeights {
  const c = catmullRom(phase);
  const n = out * inputs;
  const w = new Float32Array(n);
  const bias = new Float32Array(out);
  for (let i = 0; i < n; i++) w[i] = c[0] * W[i] + c[1] * W[n + i] + c[2] * W[2 * n + i] + c[3] * W[3 * n + i];
  for (let i = 0; i < out; i++)
    bias[i] = c[0] * b[i] + c[1] * b[out + i] + c[2] * b[2 * out + i] + c[3] * b[3 * out + i];
  return { W: w, b: bias, out, in: inputs };
}

const elu = (v: number) => (v > 0 ? v : Math.expm1(v));

function dense(l: LayerWeights, x: Float32Array, y: Float32Array, activate: boolean): void {
  for (let o = 0; o < l.out; o++) {
    let s = l.b[o];
    const row = o * l.in;
    for (let i = 0; i < l.in; i++) s += l.W[row + i] * x[i];
    y[o] = activate ? elu(s) : s;
  }
}

// One normalised input row → one normalised output row with one phase's weights.
export function forward(
  weights: PhaseWeights,
  x: Float32Array,
  scratch?: { h0: Float32Array; h1: Float32Array }
): Float32Array {
  const h0 = scratch?.h0 ?? new Float32Array(weights[0].out);
  const h1 = scratch?.h1 ?? new Float32Array(weights[1].out);
  const y = new Float32Array(weights[2].out);
  dense(weights[0], x, h0, true);
  dense(weights[1], h0, h1, true);
  dense(weights[2], h1, y, false);
  return y;
}

// The index of the pre-evaluated phase a runtime with `phases` tables uses at φ (the original demo's constant mode).
export function phaseIndex(phase: number, phases: number): number {
  return Math.floor((((phase % 1) + 1) % 1) * phases) % phases;
}
