// A SMPL-22 rest skeleton: each joint's offset from its parent (metres, Y up, facing +Z, rest rotations identity).
// Derived from the real AMASS sample in test/fixtures/repr272-sample (SMPL-X neutral joints with that subject's
// betas): offset_j = G_parent(t)ᵀ (P_j(t) − P_parent(t)), constant over the clip to 5e-8 m, averaged over 300 frames.
// Inverse kinematics needs only the directions; bone lengths always come from the motion being converted.
export const SMPL_REST_OFFSETS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0],
  [0.060758, -0.104788, -0.026771],
  [-0.065653, -0.118329, -0.020401],
  [-0.00317, 0.126516, -0.031887],
  [0.056566, -0.400002, -0.00602],
  [-0.045446, -0.380639, -0.015117],
  [0.012039, 0.166901, -0.00772],
  [-0.047776, -0.429028, -0.034209],
  [0.016858, -0.437616, -0.021376],
  [-0.012639, 0.064259, 0.029137],
  [0.052491, -0.062578, 0.129875],
  [-0.042256, -0.062529, 0.130587],
  [-0.014261, 0.185183, -0.029834],
  [0.050631, 0.095591, -0.004708],
  [-0.053673, 0.095021, -0.011255],
  [0.028121, 0.168941, 0.019871],
  [0.136968, 0.065424, -0.018599],
  [-0.118268, 0.059966, -0.015602],
  [0.269833, -0.076459, -0.046734],
  [-0.289772, -0.036401, -0.029384],
  [0.274523, 0.025399, 0.000503],
  [-0.270716, -0.005347, -0.013416],
];
