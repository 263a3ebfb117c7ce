// 3×3 rotations as row-major arrays of 9 numbers. Active rotations on column vectors; 6D means the first two
// ROWS [R00 R01 R02 R10 R11 R12] (the 272 representation's convention; HumanML3D uses columns).
export type Mat3 = Float64Array<ArrayBufferLike>; // length 9, row-major

export type Vec3 = [number, number, number];

export const dot = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

export function ry(angle: number, out: Mat3 = new Float64Array(9)): Mat3 {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  out.set([c, 0, s, 0, 1, 0, -s, 0, c]);
  return out;
}

// Rodrigues: axis-angle (x, y, z) → matrix.
export function axisAngleToMatrix(x: number, y: number, z: number, out: Mat3 = new Float64Array(9)): Mat3 {
  const angle = Math.hypot(x, y, z);
  if (angle < 1e-12) {
    // First-order term keeps the result smooth near the identity.
    out.set([1, -z, y, z, 1, -x, -y, x, 1]);
    return out;
  }
  const [kx, ky, kz] = [x / angle, y / angle, z / angle];
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  out.set([
    c + kx * kx * t,
    kx * ky * t - kz * s,
    kx * kz * t + ky * s,
    ky * kx * t + kz * s,
    c + ky * ky * t,
    ky * kz * t - kx * s,
    kz * kx * t - ky * s,
    kz * ky * t + kx * s,
    c + kz * kz * t,
  ]);
  return out;
}

// Matrix → axis-angle with angle in [0, π]; stable near 0 and near π.
export function matrixToAxisAngle(r: ArrayLike<number>): [number, number, number] {
  const cos = Math.max(-1, Math.min(1, (r[0] + r[4] + r[8] - 1) / 2));
  const angle = Math.acos(cos);
  const [sx, sy, sz] = [r[7] - r[5], r[2] - r[6], r[3] - r[1]]; // 2 sin(angle) · axis
  const sin2 = Math.hypot(sx, sy, sz);
  if (angle < 1e-6) return [sx / 2, sy / 2, sz / 2];
  if (Math.PI - angle > 1e-4 && sin2 > 1e-9) {
    const k = angle / sin2;
    return [sx * k, sy * k, sz * k];
  }
  // Near π the antisymmetric part vanishes: take the axis from the symmetric part (R + I)/2 = a aᵀ.
  const d = [(r[0] + 1) / 2, (r[4] + 1) / 2, (r[8] + 1) / 2];
  const i = d[0] >= d[1] && d[0] >= d[2] ? 0 : d[1] >= d[2] ? 1 : 2;
  const axis = [0, 0, 0];
  axis[i] = Math.sqrt(Math.max(d[i], 0));
  for (let j = 0; j < 3; j++) if (j !== i) axis[j] = (r[3 * i + j] + r[3 * j + i]) / (4 * axis[i]);
  // Fix the sign with the (small) antisymmetric part so that angles just below π round-trip.
  const sign = axis[0] * sx + axis[1] * sy + axis[2] * sz < 0 ? -1 : 1;
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  return [(sign * axis[0] * angle) / n, (sign * axis[1] * angle) / n, (sign * axis[2] * angle) / n];
}

export function rows01(r: ArrayLike<number>, out: Float64Array | Float32Array, offset: number): void {
  for (let i = 0; i < 6; i++) out[offset + i] = r[i];
}

// 6D (two rows) → matrix by Gram–Schmidt: b1 = n(d0:3), b2 = n(d3:6 − (b1·d3:6) b1), b3 = b1 × b2.
export function sixDToMatrix(d: ArrayLike<number>, offset = 0, out: Mat3 = new Float64Array(9)): Mat3 {
  let [ax, ay, az] = [d[offset], d[offset + 1], d[offset + 2]];
  const na = Math.hypot(ax, ay, az) || 1;
  ax /= na;
  ay /= na;
  az /= na;
  let [bx, by, bz] = [d[offset + 3], d[offset + 4], d[offset + 5]];
  const dot = ax * bx + ay * by + az * bz;
  bx -= dot * ax;
  by -= dot * ay;
  bz -= dot * az;
  const nb = Math.hypot(bx, by, bz) || 1;
  bx /= nb;
  by /= nb;
  bz /= nb;
  out.set([ax, ay, az, bx, by, bz, ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx]);
  return out;
}

export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, out: Mat3 = new Float64Array(9)): Mat3 {
  const r = new Float64Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  }
  out.set(r);
  return out;
}

export function transpose(a: ArrayLike<number>, out: Mat3 = new Float64Array(9)): Mat3 {
  const r = [a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]];
  out.set(r);
  return out;
}

// out = M·v for a 3-vector stored at v[vo..vo+2], written to out[oo..oo+2].
export function applyMat(
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  vo: number,
  out: Float64Array | Float32Array,
  oo: number
): void {
  const [x, y, z] = [v[vo], v[vo + 1], v[vo + 2]];
  out[oo] = m[0] * x + m[1] * y + m[2] * z;
  out[oo + 1] = m[3] * x + m[4] * y + m[5] * z;
  out[oo + 2] = m[6] * x + m[7] * y + m[8] * z;
}
