// The MotionMillion reference's tokenizer names against torchmotion's, and its configuration read from the shapes.
// The reference nests the model as `vqvae.{encoder,decoder,quantizer}`; with its patch size of 1 a parameter-free
// Haar patcher sits at `encoder.model.0` (and an un-patcher ends the decoder), so every encoder index is one higher
// than torchmotion's; the patchers' buffers (`wavelets`, `_arange`) carry no learned values and are ignored.
import { TorchmotionError } from '../errors.js';
import { FSQ_LEVELS, tokenizerModel, type TokenizerModelConfig } from '../tokenizer/config.js';

export interface ReferenceTokenizer {
  config: TokenizerModelConfig;
  ignored: string[]; // the file's names that carry no learned values (the patchers' buffers)
}

const PATCHER_BUFFER = /^(encoder|decoder)\.model\.\d+\.(wavelets|_arange)$/;

export interface TokenizerImportOptions { codes?: number; levels?: number[]; dilationGrowth?: number; activation?: 'relu' | 'gelu' | 'silu' }

// keys: the file's state-dict names (module. already stripped); shape(name) its shapes.
export function referenceTokenizer(keys: string[], shape: (name: string) => number[], o: TokenizerImportOptions = {}): ReferenceTokenizer {
  const plain = new Map(keys.map((k) => [k.replace(/^vqvae\./, ''), k]));
  if ([...plain.keys()].some((k) => k.startsWith('quantizer.codebook') || k.startsWith('quantizer.embed'))) {
    throw new TorchmotionError('this tokenizer has a VQ codebook; only the reference\'s FSQ tokenizers can be imported');
  }
  const offset = plain.has('encoder.model.0.weight') ? 0 : 1;
  const at = (name: string) => name.replace(/^encoder\.model\.(\d+)/, (_, i) => `encoder.model.${Number(i) + offset}`);
  const get = (name: string) => {
    const k = plain.get(at(name));
    if (!k) throw new TorchmotionError(`not a MotionMillion FSQ tokenizer: no ${at(name)} (looked for vqvae.${at(name)} too)`);
    return shape(k);
  };
  const [width, inputDim] = get('encoder.model.0.weight');
  let downT = 0;
  while (plain.has(at(`encoder.model.${2 + downT}.0.weight`))) downT++;
  const strideT = downT > 0 ? get('encoder.model.2.0.weight')[2] / 2 : 2;
  let depth = 0;
  while (plain.has(at(`encoder.model.2.1.model.${depth}.conv1.weight`))) depth++;
  const norm = plain.has(at('encoder.model.2.1.model.0.norm1.weight')) ? 'LN' : 'none';
  const dims = get('quantizer.project_in.weight')[0];
  const candidates = Object.entries(FSQ_LEVELS).filter(([, l]) => l.length === dims);
  let levels: number[];
  if (o.levels) {
    if (o.levels.length !== dims) throw new TorchmotionError(`FSQ levels ${o.levels.join(',')}: the file's FSQ has ${dims} dimensions`);
    levels = o.levels;
  } else if (o.codes !== undefined) {
    const l = FSQ_LEVELS[o.codes];
    if (!l || l.length !== dims) {
      throw new TorchmotionError(`--codes ${o.codes}: the file's FSQ has ${dims} dimensions; the reference's table has ${candidates.map(([c]) => c).join(', ') || 'no size'} for that`);
    }
    levels = l;
  } else if (candidates.length === 1) {
    levels = candidates[0][1];
  } else {
    throw new TorchmotionError(`the file's FSQ has ${dims} dimensions, which the reference's table gives to ${candidates.length ? candidates.map(([c, l]) => `${c} codes (${l.join('×')})`).join(' and ') : 'no codebook size'}: ` +
      'say which with --codes (or give the levels with --levels)');
  }
  const config = tokenizerModel.parse({ inputDim, width, downT, strideT, depth, norm, levels, quantizer: 'fsq',
    dilationGrowth: o.dilationGrowth ?? 3, activation: o.activation ?? 'relu' });
  return { config, ignored: [...plain.keys()].filter((k) => PATCHER_BUFFER.test(k)).map((k) => plain.get(k)!) };
}

// torchmotion name → the file's name, for every tensor of torchmotion's model; a file name left over (other than the patchers' buffers) is an error.
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
  if (absent.length) throw new TorchmotionError(`the file lacks ${absent.length} tensor(s) this configuration needs: ${absent.slice(0, 6).join(', ')}`);
  const used = new Set([...names.values(), ...ref.ignored]);
  const left = keys.filter((k) => !used.has(k));
  if (left.length) {
    throw new TorchmotionError(`${left.length} tensor(s) in the file map to nothing in torchmotion's tokenizer: ${left.slice(0, 8).join(', ')}` +
      (left.length > 8 ? ', …' : '') + ' (nothing was written)');
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
