// The SMPL-22 stick figure both pages draw (`view` and `pfnn play`): unlit colours — right limbs red, left blue, spine
// and head dark grey, as in the rest of torchmotion's plots, so a screenshot pixel shows the colour given here —
// joint spheres and bone cylinders placed from 22 points a frame.
import * as THREE from 'three';

import { CHAINS, JOINTS } from '../../motion/skeleton.js';

export const RIGHT = 0xd62728;
export const LEFT = 0x1f77b4;
export const SPINE = 0x3a3a3a;
export const TRAJECTORY = 0x2a9d8f;
const CHAIN_COLOURS = [RIGHT, LEFT, SPINE, RIGHT, LEFT];
export const HEAD = 15;
const BONE_RADIUS = 0.022; // metres
export const JOINT_RADIUS = 0.032; // wider than the bones, so the spheres cap the open cylinders
export const HEAD_RADIUS = 0.09;

const UP = new THREE.Vector3(0, 1, 0);
const boneGeometry = new THREE.CylinderGeometry(1, 1, 1, 14, 1, true); // unit cylinder along y, scaled per frame
export const jointGeometry = new THREE.SphereGeometry(1, 16, 12);
const materials = new Map();
export const material = (colour) => {
  if (!materials.has(colour)) materials.set(colour, new THREE.MeshBasicMaterial({ color: colour }));
  return materials.get(colour);
};

export class StickFigure {
  constructor() {
    // Each joint sphere takes the colour of the bone that ends at it; the pelvis ends none and counts as spine.
    this.colours = new Array(JOINTS).fill(SPINE);
    CHAINS.forEach((chain, c) =>
      chain.slice(1).forEach((j) => {
        this.colours[j] = CHAIN_COLOURS[c];
      })
    );
    this.joints = this.colours.map((colour, j) => {
      const sphere = new THREE.Mesh(jointGeometry, material(colour));
      sphere.scale.setScalar(j === HEAD ? HEAD_RADIUS : JOINT_RADIUS);
      return sphere;
    });
    this.bones = CHAINS.flatMap((chain, c) =>
      chain.slice(1).map((j, k) => ({
        from: chain[k],
        to: j,
        mesh: new THREE.Mesh(boneGeometry, material(CHAIN_COLOURS[c])),
      }))
    );
    this.meshes = [...this.joints, ...this.bones.map((b) => b.mesh)];
  }

  // points: 22 THREE.Vector3 in world space.
  pose(points) {
    points.forEach((point, j) => this.joints[j].position.copy(point));
    for (const { from, to, mesh } of this.bones) {
      const direction = new THREE.Vector3().subVectors(points[to], points[from]);
      const length = direction.length();
      mesh.visible = length > 1e-6;
      if (!mesh.visible) continue;
      mesh.position.addVectors(points[from], points[to]).multiplyScalar(0.5);
      mesh.scale.set(BONE_RADIUS, length, BONE_RADIUS);
      mesh.quaternion.setFromUnitVectors(UP, direction.divideScalar(length));
    }
  }
}
