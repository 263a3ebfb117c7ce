// A tokenizer configuration in the reference's structure, as `reference_checkpoint.py write-tokenizer` (and
// check-tokenizer) read it: 272 inputs, two ×2 downsamplings, dilation growth 3, no norm, ReLU; width, depth and the
// FSQ levels as given.
export function referenceTokenizerConfig(o: { width: number; depth: number; levels: number[] }) {
  return {
    inputDim: 272,
    width: o.width,
    downT: 2,
    strideT: 2,
    depth: o.depth,
    dilationGrowth: 3,
    norm: 'none',
    activation: 'relu',
    levels: o.levels,
  };
}
