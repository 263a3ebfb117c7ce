// The MotionMillion reference's text-to-motion decoder names against torchmotion's, and its shape read from the
// tensors. Head counts are not in the shapes: they come from the preset whose width, depth and hidden size match,
// or from --heads.
import { TorchmotionError } from '../errors.js';
import { T2M_PRESETS } from '../t2m/config.js';
import { MAX_FSQ_CODES } from '../tokenizer/config.js';

// torchmotion's per-layer names → the reference's (SwiGLU: torchmotion w2(silu(w1 x) · w3 x) is the reference's
// c_proj(silu(c_fc1 x) · c_fc2 x)).
const LAYER_NAMES: Record<string, string> = {
  'attention_norm.weight': 'rms_1.scale',
  'attention.wqkv.weight': 'attn.c_attn.weight',
  'attention.wo.weight': 'attn.c_proj.weight',
  'ffn_norm.weight': 'rms_2.scale',
  'feed_forward.w1.weight': 'mlp.c_fc1.weight',
  'feed_forward.w3.weight': 'mlp.c_fc2.weight',
  'feed_forward.w2.weight': 'mlp.c_proj.weight',
};
const TOP_NAMES: Record<string, string> = {
  'tok_embeddings.weight': 'transformer.wte.weight',
  'norm.weight': 'transformer.ln_f.scale',
  'output.weight': 'lm_head.weight',
  'text_proj.weight': 'llama_proj.weight',
  'text_proj.bias': 'llama_proj.bias',
};

// A torchmotion decoder name → the reference's; undefined for what the reference has no place for (the built-in
// text encoder).
export function toReferenceT2MName(name: string): string | undefined {
  if (name in TOP_NAMES) return TOP_NAMES[name];
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (m && m[2] in LAYER_NAMES) return `transformer.h.${m[1]}.${LAYER_NAMES[m[2]]}`;
  return undefined;
}

export interface ReferenceDecoderShape {
  preset: string;
  vocab: number;
  dim: number;
  layers: number;
  hidden: number;
  heads: number;
  textDim: number;
}

// Far above the released 7B decoder (a 64,002-token vocabulary, Flan-T5-XL's 2048-wide states): the vocabulary is
// at most the largest FSQ codebook and its two specials; the width, depth and MLP must be a preset's.
const MAX_TEXT_DIM = 16384;

// file: the weights file, for messages; keys: its state-dict names; shape(name) its shapes.
export function referenceDecoder(
  file: string,
  keys: string[],
  shape: (name: string) => number[],
  o: { heads?: number } = {}
): ReferenceDecoderShape {
  const has = new Set(keys);
  const get = (name: string) => {
    if (!has.has(name)) throw new TorchmotionError(`${file}: not a MotionMillion text-to-motion decoder: no ${name}`);
    const s = shape(name);
    if (s.length !== 2) throw new TorchmotionError(`${file}: ${name} is (${s.join(', ')}), not a matrix`);
    return s;
  };
  const [vocab, dim] = get('transformer.wte.weight');
  const [, textDim] = get('llama_proj.weight');
  if (vocab < 4 || vocab > MAX_FSQ_CODES + 2) {
    throw new TorchmotionError(
      `${file}: transformer.wte.weight gives a vocabulary of ${vocab}; torchmotion imports ` +
        `4 to ${MAX_FSQ_CODES + 2} (the largest FSQ codebook and the two special tokens)`
    );
  }
  if (textDim < 1 || textDim > MAX_TEXT_DIM) {
    throw new TorchmotionError(
      `${file}: llama_proj.weight takes ${textDim}-wide text states; torchmotion imports 1 ` + `to ${MAX_TEXT_DIM}`
    );
  }
  let layers = 0;
  while (has.has(`transformer.h.${layers}.attn.c_attn.weight`)) layers++;
  if (layers === 0) {
    throw new TorchmotionError(
      `${file}: not a MotionMillion text-to-motion decoder: no ` + 'transformer.h.0.attn.c_attn.weight'
    );
  }
  const [hidden] = get('transformer.h.0.mlp.c_fc1.weight');
  const match = Object.entries(T2M_PRESETS).find(
    ([, p]) => p.dim === dim && p.layers === layers && p.hidden === hidden
  );
  if (!match) {
    const presets = Object.entries(T2M_PRESETS)
      .map(([k, p]) => `${k} ${p.dim}/${p.layers}/${p.hidden}`)
      .join(', ');
    throw new TorchmotionError(
      `${file}: the decoder is ${dim} wide with ${layers} layers and a ${hidden}-wide MLP, ` +
        `which no preset has (${presets})`
    );
  }
  const heads = o.heads ?? match[1].heads;
  if (dim % heads !== 0) throw new TorchmotionError(`--heads ${heads}: the width ${dim} is not a multiple of it`);
  return { preset: match[0], vocab, dim, layers, hidden, heads, textDim };
}
