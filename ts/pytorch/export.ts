// `torchmotion export <run> --format pth|safetensors`: a torchmotion model back in the reference's layout — the
// tokenizer's state dict under `net` with the reference's names and its patchers' buffers, the decoder's under
// `trans`, so that the reference's own classes load them with load_state_dict(strict=True) — or the same names in a
// safetensors file.
import { TorchmotionError } from '../errors.js';
import { requireCheckpoint, readCheckpointState } from '../train/checkpoint.js';
import { loadT2M } from '../t2m/model.js';
import { loadTokenizer } from '../tokenizer/model.js';
import { toReferenceT2MName } from './reference-t2m.js';
import { HAAR_WAVELETS, toReferenceName, unpatcherIndex } from './reference-tokenizer.js';
import { type PickleValue, type TensorOut, writeSafetensors, writeTorchFile } from './write.js';

export interface ExportReport {
  file: string;
  format: 'pth' | 'safetensors';
  tensors: number;
  names: string[];
}

const f32 = (name: string, shape: number[], data: Float32Array): TensorOut => ({
  name,
  dtype: 'f4',
  shape,
  data: () => new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});
const bf16 = (name: string, shape: number[], data: Float32Array): TensorOut => ({
  name,
  dtype: 'bf16',
  shape,
  data: () => {
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer); // exact: the values are bf16 already
  },
});
const i64 = (name: string, values: number[]): TensorOut => ({
  name,
  dtype: 'i8',
  shape: [values.length],
  data: () => new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
});

export async function exportRun(run: string, file: string, format: 'pth' | 'safetensors'): Promise<ExportReport> {
  const dir = requireCheckpoint(run);
  const state = readCheckpointState(dir);
  if (state.kind === 't2m') return exportDecoder(run, dir, file, format);
  if (state.kind !== 'tokenizer')
    throw new TorchmotionError(
      `${run}: a ${String(state.kind)} run; export to PyTorch handles tokenizers and text-to-motion decoders`
    );
  const { model } = await loadTokenizer(dir);
  const sd = model.stateDict();
  const quantizer = (state.model as { quantizer?: string }).quantizer;
  if (quantizer !== 'fsq') {
    throw new TorchmotionError(
      `${run}: a tokenizer with quantizer ${quantizer}; the reference's layout holds FSQ ones only`
    );
  }
  const names = Object.keys(sd);
  const last = unpatcherIndex(names);
  const patcher = (prefix: string) => [
    f32(`${prefix}.wavelets`, [2], Float32Array.from(HAAR_WAVELETS)),
    i64(`${prefix}._arange`, [0, 1]),
  ];
  const tensors: TensorOut[] = [
    ...patcher('vqvae.encoder.model.0'),
    ...names.map((n) => f32(toReferenceName(n), sd[n].shape, sd[n].data as Float32Array)),
    ...patcher(`vqvae.decoder.model.${last}`),
  ];
  if (format === 'pth') {
    writeTorchFile(
      file,
      new Map<string, PickleValue>([
        ['net', new Map(tensors.map((t) => [t.name, t]))],
        ['nb_iter', state.step],
        ['fsq_levels', (state.model as { levels: number[] }).levels],
      ])
    );
  } else {
    writeSafetensors(file, tensors, {
      format: 'pt',
      source: 'torchmotion',
      kind: 'tokenizer',
      levels: JSON.stringify((state.model as { levels: number[] }).levels),
    });
  }
  return { file, format, tensors: tensors.length, names: tensors.map((t) => t.name) };
}

async function exportDecoder(
  run: string,
  dir: string,
  file: string,
  format: 'pth' | 'safetensors'
): Promise<ExportReport> {
  const { model, state } = await loadT2M(dir);
  if (state.config.model.text === 'builtin') {
    throw new TorchmotionError(
      `${run}: this decoder has torchmotion's built-in text encoder, which the reference has no place for ` +
        '(it conditions on Flan-T5 token states): train it with model.text = embeddings to export it'
    );
  }
  const sd = model.stateDict();
  // A bf16 decoder's weights come out of the addon widened to fp32 (exact); they go back into the file as bf16.
  const keep = model.options.dtype === 'bfloat16' ? bf16 : f32;
  const tensors = Object.keys(sd).map((n) => keep(toReferenceT2MName(n)!, sd[n].shape, sd[n].data as Float32Array));
  if (format === 'pth') {
    writeTorchFile(
      file,
      new Map<string, PickleValue>([
        ['trans', new Map(tensors.map((t) => [t.name, t]))],
        ['nb_iter', state.step],
      ])
    );
  } else {
    writeSafetensors(file, tensors, {
      format: 'pt',
      source: 'torchmotion',
      kind: 't2m',
      heads: String(model.options.heads),
    });
  }
  return { file, format, tensors: tensors.length, names: tensors.map((t) => t.name) };
}
