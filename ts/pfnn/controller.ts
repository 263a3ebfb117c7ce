// The PFNN character controller (the original demo's loop, for the SMPL-22 database at 30 fps), in plain TypeScript
// so the browser page and the tests run the same code. Each frame: the player's input bends the desired future
// trajectory (blended from what the network predicted last frame towards the target velocity and facing, more so
// further ahead), the network reads that trajectory, the gait labels and its own previous pose at the current phase,
// and returns this frame's pose, the root's motion to the next frame, the phase change, foot contacts and its own
// prediction of the next trajectory, which becomes the future the next frame's input starts from.
import { forward, phaseIndex, type PhaseWeights } from './runtime.js';

export interface ControllerNetwork {
  phases: PhaseWeights[]; // the weights at φ = i / phases.length
  Xmean: Float32Array;
  Xstd: Float32Array;
  Ymean: Float32Array;
  Ystd: Float32Array;
}

export interface ControllerInput {
  forward: number; // −1 … 1: back … forward
  turn: number; // −1 … 1: right … left (counter-clockwise seen from above)
  run: boolean;
}

export const FPS = 30;
const PAST = 30; // trajectory frames kept behind the current one (the database's window)
const FUTURE = 30;
const STEP = 5;
const SAMPLES = 12;
const NEXT = 6;
const J = 22;
const GAITS = 5; // stand, walk, run, crouch, jump
export const SPEEDS = { walk: 1.4, run: 3.2, back: 0.8 }; // m/s
const TURN_RATE = 1.6; // rad/s of the desired facing while a turn key is held
const BIAS_POS = 0.75; // how early the future trajectory bends towards the target (the original's values)
const BIAS_DIR = 1.25;
const GAIT_SMOOTH = 0.19; // per frame, the current gait label's approach to the target (the original's 0.1 at 60 fps)

// Offsets of X and Y (ts/pfnn/database-layout.ts).
const X_GAIT = 4 * SAMPLES;
const X_JOINTS = 9 * SAMPLES;
const X_VEL = X_JOINTS + 3 * J;
const Y_CONTACTS = 4;
const Y_NEXT = 8;
const Y_JOINTS = 32;
const Y_VEL = 98;

export class PfnnController {
  frame = 0;
  phase = 0;
  rootX = 0;
  rootZ = 0;
  yaw = 0; // facing = (sin yaw, cos yaw) on the ground
  desiredYaw = 0;
  contacts = new Float32Array(4); // L heel, L toe, R heel, R toe
  joints = new Float32Array(3 * J); // this frame's pose in world space
  networkMs = 0; // the last frame's network time
  readonly traj = {
    x: new Float64Array(PAST + FUTURE + 1),
    z: new Float64Array(PAST + FUTURE + 1),
    dx: new Float64Array(PAST + FUTURE + 1),
    dz: new Float64Array(PAST + FUTURE + 1).fill(1),
    gait: new Float64Array((PAST + FUTURE + 1) * GAITS),
  };
  private local = new Float32Array(3 * J); // this frame's pose in its root space (the next input)
  private velocity = new Float32Array(3 * J); // joint displacement to the next frame, in this frame's root space
  private velocityWorld = new Float32Array(3 * J);
  private readonly x: Float32Array;
  private readonly scratch: { h0: Float32Array; h1: Float32Array };

  constructor(private readonly net: ControllerNetwork) {
    this.x = new Float32Array(net.Xmean.length);
    this.scratch = { h0: new Float32Array(net.phases[0][0].out), h1: new Float32Array(net.phases[0][1].out) };
    for (let k = 0; k < 3 * J; k++) this.local[k] = net.Ymean[Y_JOINTS + k]; // the database's mean pose, at rest
    for (let f = 0; f <= PAST + FUTURE; f++) this.traj.gait[f * GAITS] = 1;
    this.toWorld();
  }

  // (x, z) of world space into the root space of facing `yaw`, and back.
  private static toRoot(yaw: number, x: number, z: number): [number, number] {
    return [Math.cos(yaw) * x - Math.sin(yaw) * z, Math.sin(yaw) * x + Math.cos(yaw) * z];
  }
  private static fromRoot(yaw: number, x: number, z: number): [number, number] {
    return [Math.cos(yaw) * x + Math.sin(yaw) * z, -Math.sin(yaw) * x + Math.cos(yaw) * z];
  }

  private toWorld(): void {
    for (let j = 0; j < J; j++) {
      const [x, z] = PfnnController.fromRoot(this.yaw, this.local[3 * j], this.local[3 * j + 2]);
      this.joints.set([this.rootX + x, this.local[3 * j + 1], this.rootZ + z], 3 * j);
    }
  }

  // The stand/walk/run labels the input asks for.
  private static targetGait(speed: number, run: boolean): number[] {
    const moving = Math.min(1, Math.abs(speed) / 0.3);
    return [1 - moving, run ? 0 : moving, run ? moving : 0, 0, 0];
  }

  // Bends the future trajectory towards the target velocity and facing (the original's blend: the further ahead,
  // the more of the target), and the gait labels towards the target gait.
  private steer(input: ControllerInput): void {
    const t = this.traj;
    this.desiredYaw += (input.turn * TURN_RATE) / FPS;
    const f = Math.max(-1, Math.min(1, input.forward));
    const speed = f >= 0 ? f * (input.run ? SPEEDS.run : SPEEDS.walk) : f * SPEEDS.back;
    const [tdx, tdz] = [Math.sin(this.desiredYaw), Math.cos(this.desiredYaw)];
    const [vx, vz] = [(tdx * speed) / FPS, (tdz * speed) / FPS];
    const gait = PfnnController.targetGait(speed, input.run);
    const c = PAST;
    for (let g = 0; g < GAITS; g++) t.gait[c * GAITS + g] += GAIT_SMOOTH * (gait[g] - t.gait[c * GAITS + g]);
    let [px, pz] = [t.x[c], t.z[c]];
    let [prevX, prevZ] = [t.x[c], t.z[c]];
    for (let k = 1; k <= FUTURE; k++) {
      const i = c + k;
      const sp = 1 - (1 - k / FUTURE) ** BIAS_POS;
      const sd = 1 - (1 - k / FUTURE) ** BIAS_DIR;
      const [ox, oz] = [t.x[i] - prevX, t.z[i] - prevZ];
      [prevX, prevZ] = [t.x[i], t.z[i]];
      px += ox + sp * (vx - ox);
      pz += oz + sp * (vz - oz);
      t.x[i] = px;
      t.z[i] = pz;
      const [dx, dz] = [t.dx[i] + sd * (tdx - t.dx[i]), t.dz[i] + sd * (tdz - t.dz[i])];
      const n = Math.hypot(dx, dz) || 1;
      t.dx[i] = dx / n;
      t.dz[i] = dz / n;
      for (let g = 0; g < GAITS; g++)
        t.gait[i * GAITS + g] = t.gait[c * GAITS + g] + sp * (gait[g] - t.gait[c * GAITS + g]);
    }
  }

  // One frame at 30 fps.
  update(input: ControllerInput): void {
    this.steer(input);
    const t = this.traj;
    const net = this.net;
    const x = this.x;
    for (let s = 0; s < SAMPLES; s++) {
      const f = s * STEP; // offsets −30 … +25 from the current frame (index PAST)
      const [px, pz] = PfnnController.toRoot(this.yaw, t.x[f] - this.rootX, t.z[f] - this.rootZ);
      const [dx, dz] = PfnnController.toRoot(this.yaw, t.dx[f], t.dz[f]);
      x[s] = px;
      x[SAMPLES + s] = pz;
      x[2 * SAMPLES + s] = dx;
      x[3 * SAMPLES + s] = dz;
      for (let g = 0; g < GAITS; g++) x[X_GAIT + g * SAMPLES + s] = t.gait[f * GAITS + g];
    }
    x.set(this.local, X_JOINTS);
    x.set(this.velocity, X_VEL);
    for (let k = 0; k < x.length; k++) x[k] = (x[k] - net.Xmean[k]) / net.Xstd[k];
    const t0 = typeof performance !== 'undefined' ? performance.now() : 0;
    const yn = forward(net.phases[phaseIndex(this.phase, net.phases.length)], x, this.scratch);
    this.networkMs = typeof performance !== 'undefined' ? performance.now() - t0 : 0;
    const y = yn.map((v, k) => v * net.Ystd[k] + net.Ymean[k]);

    // This frame's pose: half the prediction, half the last pose moved by its velocity (the original's blend).
    for (let j = 0; j < J; j++) {
      let [cx, cz] = [y[Y_JOINTS + 3 * j], y[Y_JOINTS + 3 * j + 2]];
      let cy = y[Y_JOINTS + 3 * j + 1];
      if (this.frame > 0) {
        const [wx, wz] = [
          this.joints[3 * j] + this.velocityWorld[3 * j] - this.rootX,
          this.joints[3 * j + 2] + this.velocityWorld[3 * j + 2] - this.rootZ,
        ];
        const [lx, lz] = PfnnController.toRoot(this.yaw, wx, wz);
        cx = 0.5 * cx + 0.5 * lx;
        cz = 0.5 * cz + 0.5 * lz;
        cy = 0.5 * cy + 0.5 * (this.joints[3 * j + 1] + this.velocityWorld[3 * j + 1]);
      }
      this.local.set([cx, cy, cz], 3 * j);
      this.velocity.set([y[Y_VEL + 3 * j], y[Y_VEL + 3 * j + 1], y[Y_VEL + 3 * j + 2]], 3 * j);
      const [vx, vz] = PfnnController.fromRoot(this.yaw, y[Y_VEL + 3 * j], y[Y_VEL + 3 * j + 2]);
      this.velocityWorld.set([vx, y[Y_VEL + 3 * j + 1], vz], 3 * j);
    }
    this.toWorld();
    this.contacts.set(y.subarray(Y_CONTACTS, Y_CONTACTS + 4));

    // The root moves to the next frame and the phase advances by the predicted change (wrapped into [0, 1)), both
    // held back as the current gait label says "stand", as in the original: a standing character neither drifts nor
    // turns, and its phase creeps at a tenth of the predicted rate.
    const stand = (1 - Math.min(1, Math.max(0, t.gait[PAST * GAITS]))) ** 0.25;
    const [mx, mz] = PfnnController.fromRoot(this.yaw, y[0], y[1]);
    this.rootX += stand * mx;
    this.rootZ += stand * mz;
    this.yaw += stand * y[2];
    const dphase = y[3] > 0.5 ? y[3] - 1 : y[3];
    this.phase = (((this.phase + (0.9 * stand + 0.1) * dphase) % 1) + 1) % 1;

    // The past moves back a frame; the future is the network's next trajectory, between its samples at +1, +6, …, +26.
    for (let f = 0; f < PAST; f++) {
      t.x[f] = t.x[f + 1];
      t.z[f] = t.z[f + 1];
      t.dx[f] = t.dx[f + 1];
      t.dz[f] = t.dz[f + 1];
      for (let g = 0; g < GAITS; g++) t.gait[f * GAITS + g] = t.gait[(f + 1) * GAITS + g];
    }
    t.x[PAST] = this.rootX;
    t.z[PAST] = this.rootZ;
    [t.dx[PAST], t.dz[PAST]] = [Math.sin(this.yaw), Math.cos(this.yaw)];
    for (let g = 0; g < GAITS; g++) t.gait[PAST * GAITS + g] = t.gait[(PAST + 1) * GAITS + g];
    for (let k = 1; k <= FUTURE; k++) {
      const at = Math.min(NEXT - 1, (k - 1) / STEP);
      const s0 = Math.min(NEXT - 2, Math.floor(at));
      const m = at - s0;
      const sample = (o: number) => (1 - m) * y[Y_NEXT + o + s0] + m * y[Y_NEXT + o + s0 + 1];
      const [px, pz] = PfnnController.fromRoot(this.yaw, sample(0), sample(NEXT));
      const [dx, dz] = PfnnController.fromRoot(this.yaw, sample(2 * NEXT), sample(3 * NEXT));
      const n = Math.hypot(dx, dz) || 1;
      t.x[PAST + k] = this.rootX + px;
      t.z[PAST + k] = this.rootZ + pz;
      t.dx[PAST + k] = dx / n;
      t.dz[PAST + k] = dz / n;
    }
    this.frame++;
  }
}
