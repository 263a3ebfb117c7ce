// The `torchmotion pfnn play` page: a PFNN drives the SMPL-22 character while a person steers it with the keyboard
// (W/↑ forward, S/↓ back, A/← and D/→ turn, Shift runs). The network runs here, in the page, on the exported weights
// embedded in #pfnn-data (the 4 control points, blended into the 50 phases the original runtime uses when the page
// loads); the skeleton is drawn as `torchmotion view` draws it, with the future trajectory and the foot contacts.
// scripts/build-viewer.js bundles this file with three.js, so the page needs no network. window.pfnn exposes the
// controller's state and a per-frame log for tests.
import * as THREE from 'three';

import { JOINTS } from '../../motion/skeleton.js';
import { JOINT_RADIUS, jointGeometry, material, StickFigure, TRAJECTORY } from '../../view/page/stick-figure.js';
import { FPS, PfnnController } from '../controller.js';
import { blendLayer } from '../runtime.js';

const CONTACT = 0xf4a261;
const FEET = [7, 10, 8, 11]; // the order of the contacts: L heel, L toe, R heel, R toe
const LOG_FRAMES = 3000;

const floats = (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
};

function readNetwork() {
  const data = JSON.parse(document.getElementById('pfnn-data').textContent);
  const layers = data.layers.map((l) => ({ W: floats(l.W), b: floats(l.b), out: l.shape[0], in: l.shape[1] }));
  const phases = Array.from({ length: data.phases }, (_, i) =>
    layers.map((l) => blendLayer(l.W, l.b, l.out, l.in, i / data.phases))
  );
  return {
    phases,
    Xmean: floats(data.Xmean),
    Xstd: floats(data.Xstd),
    Ymean: floats(data.Ymean),
    Ystd: floats(data.Ystd),
    title: data.title,
  };
}

// The stick figure, its foot joints orange and larger while their contact is on, and the 6 future trajectory samples.
class Figure {
  constructor(scene) {
    this.figure = new StickFigure();
    this.future = Array.from({ length: 6 }, () => new THREE.Mesh(jointGeometry, material(TRAJECTORY)));
    this.future.forEach((m) => m.scale.setScalar(0.03));
    scene.add(...this.figure.meshes, ...this.future);
  }

  pose(c) {
    this.figure.pose(
      Array.from(
        { length: JOINTS },
        (_, j) => new THREE.Vector3(c.joints[3 * j], c.joints[3 * j + 1], c.joints[3 * j + 2])
      )
    );
    FEET.forEach((j, k) => {
      const on = c.contacts[k] > 0.5;
      this.figure.joints[j].material = material(on ? CONTACT : this.figure.colours[j]);
      this.figure.joints[j].scale.setScalar(on ? 1.6 * JOINT_RADIUS : JOINT_RADIUS);
    });
    this.future.forEach((m, s) => m.position.set(c.traj.x[30 + 1 + 5 * s], 0.01, c.traj.z[30 + 1 + 5 * s]));
  }
}

function main() {
  const net = readNetwork();
  const controller = new PfnnController(net);
  const view = document.getElementById('view');
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(window.devicePixelRatio);
  view.appendChild(renderer.domElement);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xffffff);
  const grid = new THREE.GridHelper(200, 200, 0xcccccc, 0xe8e8e8);
  scene.add(grid);
  const camera = new THREE.PerspectiveCamera(45, 1, 0.05, 200);
  const figure = new Figure(scene);
  const resize = () => {
    renderer.setSize(view.clientWidth, view.clientHeight);
    camera.aspect = view.clientWidth / Math.max(1, view.clientHeight);
    camera.updateProjectionMatrix();
  };
  window.addEventListener('resize', resize);
  resize();

  const keys = new Set();
  const KEYS = {
    KeyW: 'f',
    ArrowUp: 'f',
    KeyS: 'b',
    ArrowDown: 'b',
    KeyA: 'l',
    ArrowLeft: 'l',
    KeyD: 'r',
    ArrowRight: 'r',
    ShiftLeft: 'run',
    ShiftRight: 'run',
  };
  window.addEventListener('keydown', (e) => {
    if (KEYS[e.code]) {
      keys.add(KEYS[e.code]);
      e.preventDefault();
    }
  });
  window.addEventListener('keyup', (e) => {
    if (KEYS[e.code]) keys.delete(KEYS[e.code]);
  });
  window.addEventListener('blur', () => keys.clear());
  const input = () => ({
    forward: (keys.has('f') ? 1 : 0) - (keys.has('b') ? 1 : 0),
    turn: (keys.has('l') ? 1 : 0) - (keys.has('r') ? 1 : 0),
    run: keys.has('run'),
  });

  const log = [];
  const hud = document.getElementById('hud');
  let networkMs = 0;
  let last = performance.now();
  let owed = 0;
  window.pfnn = {
    controller,
    log,
    get networkMs() {
      return networkMs;
    },
  };

  const frame = (now) => {
    owed = Math.min(owed + (now - last) / 1000, 4 / FPS); // a stalled tab catches up at most 4 frames
    last = now;
    while (owed >= 1 / FPS) {
      owed -= 1 / FPS;
      const i = input();
      controller.update(i);
      networkMs = 0.95 * networkMs + 0.05 * controller.networkMs;
      log.push({
        t: now,
        frame: controller.frame,
        x: controller.rootX,
        z: controller.rootZ,
        yaw: controller.yaw,
        phase: controller.phase,
        contacts: Array.from(controller.contacts),
        ms: controller.networkMs,
        input: i,
      });
      if (log.length > LOG_FRAMES) log.shift();
    }
    figure.pose(controller);
    const pelvis = new THREE.Vector3(controller.joints[0], 0.9, controller.joints[2]);
    const behind = new THREE.Vector3(-Math.sin(controller.yaw), 0, -Math.cos(controller.yaw)).multiplyScalar(4);
    camera.position.lerp(
      pelvis
        .clone()
        .add(behind)
        .add(new THREE.Vector3(1.5, 1.2, 0)),
      0.1
    );
    camera.lookAt(pelvis);
    renderer.render(scene, camera);
    const c = controller.contacts.map((v) => (v > 0.5 ? '●' : '○')).join('');
    hud.textContent =
      `phase ${controller.phase.toFixed(2)}  contacts L ${c.slice(0, 2)} R ${c.slice(2)}  ` +
      `network ${networkMs.toFixed(2)} ms/frame  — W/↑ forward, S/↓ back, A/← D/→ turn, Shift run`;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  document.title = net.title;
}

try {
  main();
} catch (err) {
  document.getElementById('hud').textContent = `cannot start the controller: ${err.message}`;
  throw err;
}
