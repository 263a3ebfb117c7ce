// The MotionMillion reference's tokenizer names against torchmotion's, and its configuration read from the shapes.
// The reference nests the model as `vqvae.{encoder,decoder,quantizer}`; with its patch size of 1 a parameter-free
// Haar patcher sits at `encoder.model.0` (and an un-patcher ends the decoder), so every encoder index is one higher
// than torchmotion's; the patchers' buffers (`wavelets`, `_arange`) carry no learned values and are ignored.
import { printable, TorchmotionError } from '../errors.js';
import { FSQ_LEVELS, tokenizerModel, type TokenizerModelConfig } from '../tokenizer/config.js';

export interface ReferenceTokenizer {
  config: TokenizerModelConfig;
  ignored: string[]; // the file's names that carry no learned values (the patchers' buffers)
}

const PATCHER_BUFFER = /^(encoder|decoder)\.model\.\d+\.(wavelets|_arange)$/;

export interface TokenizerImportOptions {
  codes?: number;
  levels?: number[];
  dilationGrowth?: number;
  activation?: 'relu' | 'gelu' | 'silu';
}

// Far above the reference (272 inputs, width 512, depth 3, one 2× down-sampling stage) and anything that trains on
// one machine: shapes beyond these describe no tokenizer torchmotion could run, whatever bytes back them.
const LIMITS = { inputDim: 16384, width: 16384, downT: 8, strideT: 16, depth: 16 };

// file: the weights file, for messages; keys: its state-dict names (module. already stripped); shape(name) its shapes.
export function referenceTokenizer(
  file: string,
  keys: string[],
  shape: (name: string) => number[],
  o: TokenizerImportOptions = {}
): ReferenceTokenizer {
  const plain = new Map(keys.map((k) => [k.replace(/^vqvae\./, ''), k]));
  if ([...plain.keys()].some((k) => k.startsWith('quantizer.codebook') || k.startsWith('quantizer.embed'))) {
    throw new TorchmotionError(
      `${file}: this tokenizer has a VQ codebook; only the reference's FSQ tokenizers can ` + 'be imported'
    );
  }
  const offset = plain.has('encoder.model.0.weight') ? 0 : 1;
  const at = (name: string) => name.replace(/^encoder\.model\.(\d+)/, (_, i) => `encoder.model.${Number(i) + offset}`);
  const get = (name: string, rank: number) => {
    const k = plain.get(at(name));
    if (!k) {
      throw new TorchmotionError(
        `${file}: not a MotionMillion FSQ tokenizer: no ${at(name)} (looked for ` + `vqvae.${at(name)} too)`
      );
    }
    const s = shape(k);
    if (s.length !== rank) {
      throw new TorchmotionError(`${file}: ${printable(k)} is (${s.join(', ')}), not a ${rank}-dimensional weight`);
    }
    return s;
  };
  const [width, inputDim] = get('encoder.model.0.weight', 3);
  let downT = 0;
  while (plain.has(at(`encoder.model.${2 + downT}.0.weight`))) downT++;
  const kernel = downT > 0 ? get('encoder.model.2.0.weight', 3)[2] : 4;
  if (kernel % 2 !== 0) {
    throw new TorchmotionError(
      `${file}: ${at('encoder.model.2.0.weight')} has an odd kernel, ${kernel}; the ` +
        "reference's is twice its stride"
    );
  }
  const strideT = kernel / 2;
  let depth = 0;
  while (plain.has(at(`encoder.model.2.1.model.${depth}.conv1.weight`))) depth++;
  const read = { inputDim, width, downT, strideT, depth };
  for (const [k, v] of Object.entries(read) as Array<[keyof typeof LIMITS, number]>) {
    if (v > LIMITS[k] || (v < 1 && k !== 'downT')) {
      throw new TorchmotionError(
        `${file}: its shapes give the tokenizer's ${k} as ${v}; torchmotion imports 1 to ` + `${LIMITS[k]}`
      );
    }
  }
  const norm = plain.has(at('encoder.model.2.1.model.0.norm1.weight')) ? 'LN' : 'none';
  const dims = get('quantizer.project_in.weight', 2)[0];
  const candidates = Object.entries(FSQ_LEVELS).filter(([, l]) => l.length === dims);
  let levels: number[];
  if (o.levels) {
    if (o.levels.length !== dims) {
      throw new TorchmotionError(`${file}: FSQ levels ${o.levels.join(',')}: the file's FSQ has ${dims} dimensions`);
    }
    levels = o.levels;
  } else if (o.codes !== undefined) {
    const l = FSQ_LEVELS[o.codes];
    if (!l || l.length !== dims) {
      throw new TorchmotionError(
        `--codes ${o.codes}: the file's FSQ has ${dims} dimensions; the reference's table has ` +
          `${candidates.map(([c]) => c).join(', ') || 'no size'} for that`
      );
    }
    levels = l;
  } else if (candidates.length === 1) {
    levels = candidates[0][1];
  } else {
    const given = candidates.length
      ? candidates.map(([c, l]) => `${c} codes (${l.join('×')})`).join(' and ')
      : 'no codebook size';
    throw new TorchmotionError(
      `the file's FSQ has ${dims} dimensions, which the reference's table gives to ${given}: ` +
        'say which with --codes (or give the levels with --levels)'
    );
  }
  const parsed = tokenizerModel.safeParse({
    ...read,
    norm,
    levels,
    quantizer: 'fsq',
    dilationGrowth: o.dilationGrowth ?? 3,
    activation: o.activation ?? 'relu',
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new TorchmotionError(`${file}: the tokenizer read from it is not one torchmotion builds (${problems})`);
  }
  const ignored = [...plain.keys()].filter((k) => PATCHER_BUFFER.test(k)).map((k) => plain.get(k)!);
  return { config: parsed.data, ignored };
}

// Parameters of torchmotion's FSQ tokenizer of this configuration (native/conv_blocks.cc's layout), counted without
// building it, so that a file's shapes can be weighed against its bytes first.
export function tokenizerParameters(c: TokenizerModelConfig): number {
  const W = c.width;
  const conv = (input: number, output: number, kernel: number) => input * output * kernel + output;
  const resnet = c.depth * (conv(W, W, 3) + conv(W, W, 1) + (c.norm === 'LN' ? 4 * W : 0));
  const encoder = conv(c.inputDim, W, 3) + c.downT * (conv(W, W, 2 * c.strideT) + resnet) + conv(W, W, 3);
  const decoder = conv(W, W, 3) + c.downT * (resnet + conv(W, W, 3)) + conv(W, W, 3) + conv(W, c.inputDim, 3);
  const d = c.levels.length;
  return encoder + (W * d + d) + (d * W + W) + decoder;
}

// torchmotion name → the file's name, for every tensor of torchmotion's model; a file name left over (other than the
// patchers' buffers) is an error.
export function mapTokenizerNames(ref: ReferenceTokenizer, ours: string[], keys: string[]): Map<string, string> {
  const plain = new Map(keys.map((k) => [k.replace(/^vqvae\./, ''), k]));
  const offset = plain.has('encoder.model.0.weight') ? 0 : 1;
  const names = new Map<string, string>();
  const absent: string[] = [];
  for (const name of ours) {
    const theirs = name.replace(/^encoder\.model\.(\d+)/, (_, i) => `encoder.model.${Number(i) + offset}`);
    const k = plain.get(theirs);
    if (k) names.set(name, k);
    else absent.push(theirs);
  }
  if (absent.length)
    throw new TorchmotionError(
      `the file lacks ${absent.length} tensor(s) this configuration needs: ${absent.slice(0, 6).join(', ')}`
    );
  const used = new Set([...names.values(), ...ref.ignored]);
  const left = keys.filter((k) => !used.has(k));
  if (left.length) {
    throw new TorchmotionError(
      `${left.length} tensor(s) in the file map to nothing in torchmotion's tokenizer: ` +
        `${left.slice(0, 8).map(printable).join(', ')}${left.length > 8 ? ', …' : ''} (nothing was written)`
    );
  }
  return names;
}

// The reference's parameter-free patchers at patch size 1 (Haar): their buffers, which its state dict holds.
export const HAAR_WAVELETS = [0.7071067811865476, 0.7071067811865476];

// torchmotion name → the reference's (vqvae.…, encoder indices one higher), and the index of the decoder's
// un-patcher (one past torchmotion's last decoder layer).
export function toReferenceName(name: string): string {
  return 'vqvae.' + name.replace(/^encoder\.model\.(\d+)/, (_, i) => `encoder.model.${Number(i) + 1}`);
}

export function unpatcherIndex(names: string[]): number {
  return 1 + Math.max(...names.filter((n) => n.startsWith('decoder.model.')).map((n) => Number(n.split('.')[2])));
}
