// The `torchmotion view` page. Plays the motions embedded in #torchmotion-data side by side, each with its caption,
// with play/pause, scrubbing, speed, an orbit camera and a frame counter. scripts/build-viewer.js bundles this file
// with three.js into one script, so the page needs no network.
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

import { JOINTS } from '../../motion/skeleton.js';
import { HEAD_RADIUS, material, StickFigure, TRAJECTORY } from './stick-figure.js';

const BACKGROUND = 0xffffff;
const GROUND_MARK = 0xe4e4e4;
const PELVIS = 0;
const GAP = 0.6; // metres between the x-extents of neighbouring motions
const SPEEDS = [0.25, 0.5, 1, 1.5, 2];

// { fps, motions: [{ caption, frames, joints }] }, joints = base64 of little-endian float32 (frames, 22, 3), Y up.
function readMotions() {
  const data = JSON.parse(document.getElementById('torchmotion-data').textContent);
  const motions = data.motions.map((m) => {
    const bytes = Uint8Array.from(atob(m.joints), (c) => c.charCodeAt(0));
    return { caption: m.caption, frames: m.frames, joints: new Float32Array(bytes.buffer) };
  });
  return { fps: data.fps, motions };
}

// Moves each motion to its place, in a copy of its joints: its lowest joint on the ground, its first pelvis at z = 0
// (joint files keep their capture's floor and origin), and the motions in a row along x, spaced by their x-extents
// over the whole clip.
function placeSideBySide(motions) {
  const extents = motions.map(({ joints }) => {
    let minX = Infinity,
      maxX = -Infinity,
      minY = Infinity;
    for (let i = 0; i < joints.length; i += 3) {
      minX = Math.min(minX, joints[i]);
      maxX = Math.max(maxX, joints[i]);
      minY = Math.min(minY, joints[i + 1]);
    }
    return { minX, maxX, minY };
  });
  const width = extents.reduce((w, e) => w + e.maxX - e.minX, 0) + GAP * (motions.length - 1);
  let left = -width / 2;
  return motions.map((m, i) => {
    const { minX, maxX, minY } = extents[i];
    const shift = [left - minX, -minY, -m.joints[2]];
    left += maxX - minX + GAP;
    return { ...m, joints: m.joints.map((v, k) => v + shift[k % 3]) };
  });
}

// A flat band on the ground through the pelvis positions (WebGL lines are 1 px wide whatever the width asked for).
function trajectoryMesh(joints, frames, width) {
  const positions = [];
  for (let t = 1; t < frames; t++) {
    const [x0, z0, x1, z1] = [
      joints[(t - 1) * JOINTS * 3],
      joints[(t - 1) * JOINTS * 3 + 2],
      joints[t * JOINTS * 3],
      joints[t * JOINTS * 3 + 2],
    ];
    const length = Math.hypot(x1 - x0, z1 - z0);
    if (length < 1e-6) continue;
    const [nx, nz] = [((-(z1 - z0) / length) * width) / 2, (((x1 - x0) / length) * width) / 2];
    positions.push(x0 - nx, 0, z0 - nz, x1 - nx, 0, z1 - nz, x1 + nx, 0, z1 + nz);
    positions.push(x0 - nx, 0, z0 - nz, x1 + nx, 0, z1 + nz, x0 + nx, 0, z0 + nz);
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  const mesh = new THREE.Mesh(geometry, new THREE.MeshBasicMaterial({ color: TRAJECTORY, side: THREE.DoubleSide }));
  mesh.position.y = 0.004; // above the ground mark and the grid, so neither flickers through it
  return mesh;
}

class Skeleton {
  constructor(motion, label) {
    this.motion = motion;
    this.label = label;
    this.group = new THREE.Group();
    this.figure = new StickFigure();
    this.groundMark = new THREE.Mesh(new THREE.CircleGeometry(0.18, 32), material(GROUND_MARK));
    this.groundMark.rotation.x = -Math.PI / 2;
    this.group.add(...this.figure.meshes, this.groundMark, trajectoryMesh(motion.joints, motion.frames, 0.025));
    let top = 0;
    for (let i = 1; i < motion.joints.length; i += 3) top = Math.max(top, motion.joints[i]);
    this.labelHeight = top + HEAD_RADIUS + 0.05; // above the highest the head gets, so the label stays still
  }

  // The joint in world coordinates; shorter motions hold their last frame.
  jointAt(frame, j, out = new THREE.Vector3()) {
    const i = (Math.min(frame, this.motion.frames - 1) * JOINTS + j) * 3;
    return out.fromArray(this.motion.joints, i);
  }

  pose(frame) {
    const f = Math.min(frame, this.motion.frames - 1);
    const p = (j) => new THREE.Vector3().fromArray(this.motion.joints, (f * JOINTS + j) * 3);
    const points = Array.from({ length: JOINTS }, (_, j) => p(j));
    this.figure.pose(points);
    this.groundMark.position.set(points[PELVIS].x, 0.002, points[PELVIS].z);
  }
}

// A camera in front of the row of motions (they face +z), a little above and to the side, far enough back that every
// joint of every frame is in view, captions included.
function frameCamera(camera, skeletons) {
  const box = new THREE.Box3();
  const v = new THREE.Vector3();
  for (const s of skeletons) {
    for (let t = 0; t < s.motion.frames; t++) for (let j = 0; j < JOINTS; j++) box.expandByPoint(s.jointAt(t, j, v));
    box.expandByPoint(v.set(0, s.labelHeight + 0.2, 0)); // room for the caption
  }
  box.min.y = 0;
  const size = box.getSize(new THREE.Vector3());
  const target = box.getCenter(new THREE.Vector3());
  const tan = Math.tan(THREE.MathUtils.degToRad(camera.fov / 2));
  const distance = 1.05 * Math.max(size.y / 2 / tan, size.x / 2 / (tan * camera.aspect)) + size.z / 3;
  camera.position.copy(target).addScaledVector(new THREE.Vector3(0.25, 0.2, 1).normalize(), distance);
  camera.lookAt(target);
  return { target, box };
}

function groundGrid(box) {
  const size = 2 * Math.ceil(Math.max(box.max.x - box.min.x, box.max.z - box.min.z) / 2 + 1);
  const grid = new THREE.GridHelper(size, size * 2, 0xb8b8b8, 0xdcdcdc); // 0.5 m squares
  grid.position.set(Math.round((box.min.x + box.max.x) / 2), 0, Math.round((box.min.z + box.max.z) / 2));
  return grid;
}

function start() {
  const { fps, motions } = readMotions();
  const frames = Math.max(...motions.map((m) => m.frames));
  const view = document.getElementById('view');
  const labels = document.getElementById('labels');
  const playButton = document.getElementById('play');
  const scrub = document.getElementById('scrub');
  const speedSelect = document.getElementById('speed');
  const counter = document.getElementById('counter');
  // Playback state: `time` counts frames (fractional while playing), `frame` is the one on screen.
  let time = 0;
  let frame = -1;
  let playing = true;
  let speed = 1;

  let renderer;
  try {
    renderer = new THREE.WebGLRenderer({ antialias: true });
  } catch (err) {
    document.getElementById('message').textContent = 'This browser cannot draw the motions: WebGL is not available.';
    throw err;
  }
  renderer.setPixelRatio(window.devicePixelRatio);
  renderer.setClearColor(BACKGROUND);
  view.prepend(renderer.domElement);

  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(35, view.clientWidth / view.clientHeight, 0.05, 200);
  const skeletons = placeSideBySide(motions).map((m) => {
    const label = document.createElement('div');
    label.className = 'caption';
    label.textContent = m.caption; // text, never markup: captions are user data
    labels.append(label);
    const s = new Skeleton(m, label);
    scene.add(s.group);
    return s;
  });
  const { target, box } = frameCamera(camera, skeletons);
  scene.add(groundGrid(box));
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.copy(target);
  controls.enableDamping = true;

  function resize() {
    renderer.setSize(view.clientWidth, view.clientHeight);
    camera.aspect = view.clientWidth / view.clientHeight;
    camera.updateProjectionMatrix();
  }
  resize();
  new ResizeObserver(resize).observe(view);

  const anchor = new THREE.Vector3();
  function placeLabels() {
    for (const s of skeletons) {
      s.jointAt(frame, PELVIS, anchor);
      anchor.y = s.labelHeight;
      anchor.project(camera);
      s.label.hidden = anchor.z > 1; // behind the camera
      s.label.style.left = `${((anchor.x + 1) / 2) * view.clientWidth}px`;
      s.label.style.top = `${((1 - anchor.y) / 2) * view.clientHeight}px`;
    }
  }

  function render() {
    controls.update();
    renderer.render(scene, camera);
    placeLabels();
  }

  scrub.max = String(frames - 1);
  SPEEDS.forEach((s) => speedSelect.add(new Option(`${s}×`, String(s), s === 1, s === 1)));

  function show(f) {
    if (f === frame) return;
    frame = f;
    for (const s of skeletons) s.pose(frame);
    scrub.value = String(frame);
    counter.textContent = `frame ${frame + 1} / ${frames}`;
  }
  function setFrame(f) {
    time = Math.max(0, Math.min(frames - 1, Math.round(f)));
    show(time);
    render();
  }
  function setPlaying(p) {
    playing = p;
    playButton.textContent = playing ? '❚❚ Pause' : '▶ Play';
  }

  playButton.addEventListener('click', () => setPlaying(!playing));
  scrub.addEventListener('input', () => setFrame(Number(scrub.value)));
  speedSelect.addEventListener('change', () => {
    speed = Number(speedSelect.value);
  });
  window.addEventListener('keydown', (e) => {
    // A focused button or select handles the space bar itself; doing it here as well would toggle twice.
    if (e.target instanceof HTMLButtonElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === ' ') setPlaying(!playing);
    else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      setPlaying(false);
      setFrame(frame + (e.key === 'ArrowRight' ? 1 : -1));
    } else return;
    e.preventDefault();
  });

  let last = performance.now();
  renderer.setAnimationLoop((now) => {
    // At most 0.1 s per step, so a page coming back from a background tab does not jump ahead; never negative, as
    // the first frame's timestamp can precede the performance.now() taken before it.
    const dt = Math.max(0, Math.min(0.1, (now - last) / 1000));
    last = now;
    if (playing) {
      time = (time + dt * fps * speed) % frames;
      show(Math.floor(time));
    }
    render();
  });
  setPlaying(true);
  setFrame(0);

  // For tests and scripts: drive playback and find where a joint is drawn (CSS pixels in the page).
  window.torchmotion = {
    frames,
    fps,
    play: () => setPlaying(true),
    pause: () => setPlaying(false),
    playing: () => playing,
    setFrame,
    frame: () => frame,
    projectJoint(motion, joint) {
      const p = skeletons[motion].jointAt(frame, joint, new THREE.Vector3()).project(camera);
      const rect = renderer.domElement.getBoundingClientRect();
      return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
    },
  };
}

start();
