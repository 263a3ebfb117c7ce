// A TorchScript caption encoder run by the addon. Captions are tokenised in TypeScript, either with the word rule of
// the built-in encoder ([<bos>, words…]) against the module's own vocab.txt (one token per line, line number = id;
// line 0 must be <pad>, and <bos> and <unk> must be present), or by a Hugging Face tokenizer.json (e.g. Flan-T5's,
// written by scripts/export_t5.py) through @huggingface/tokenizers. See docs/text-to-motion.md for exporting one.
import { existsSync, readFileSync } from 'node:fs';

import { Tokenizer } from '@huggingface/tokenizers';

import { TorchmotionError, withCallerStack } from '../errors.js';
import { native, type NativeTextScript } from '../native.js';
import { checkDevice } from '../runtime.js';
import { words } from './vocab.js';

type CaptionTokenizer = (caption: string, maxTokens: number) => number[];

// vocab.txt: [<bos>, words…] with the built-in encoder's word rule.
function wordTokenizer(vocabFile: string): CaptionTokenizer {
  const tokens = readFileSync(vocabFile, 'utf8')
    .split('\n')
    .map((l) => l.trim());
  while (tokens.length > 0 && tokens[tokens.length - 1] === '') tokens.pop();
  if (tokens[0] !== '<pad>' || !tokens.includes('<bos>') || !tokens.includes('<unk>')) {
    throw new TorchmotionError(
      `${vocabFile}: line 1 must be <pad>, and <bos> and <unk> must be listed (one token per line, line number = id)`
    );
  }
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const unk = ids.get('<unk>')!;
  return (caption, max) => [ids.get('<bos>')!, ...words(caption).map((w) => ids.get(w) ?? unk)].slice(0, max);
}

// tokenizer.json: the tokenizer's own pieces and template (T5's appends </s>); a caption longer than the limit keeps
// its first pieces and the template's closing token, as T5's tokenizer truncates.
function jsonTokenizer(file: string): CaptionTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(JSON.parse(readFileSync(file, 'utf8')), {});
  } catch (err) {
    throw new TorchmotionError(
      `${file}: not a Hugging Face tokenizer.json this library reads (${(err as Error).message.split('\n')[0]})`
    );
  }
  return (caption, max) => {
    const ids = tokenizer.encode(caption).ids;
    return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]];
  };
}

export class TextScriptEncoder {
  private constructor(
    private readonly net: NativeTextScript,
    private readonly tokenizer: CaptionTokenizer,
    readonly script: string
  ) {}

  // vocabFile: a vocab.txt, or a Hugging Face tokenizer.json.
  static async load(script: string, vocabFile: string, device = 'cpu'): Promise<TextScriptEncoder> {
    for (const f of [script, vocabFile]) if (!existsSync(f)) throw new TorchmotionError(`${f}: no such file`);
    const tokenizer = vocabFile.endsWith('.json') ? jsonTokenizer(vocabFile) : wordTokenizer(vocabFile);
    const net = new (native().TextScript)({ device: checkDevice(device) });
    await withCallerStack(() => net.load(script)).catch((err: Error) => {
      throw new TorchmotionError(`${script}: cannot load a TorchScript module (${err.message.split('\n')[0]})`);
    });
    return new TextScriptEncoder(net, tokenizer, script);
  }

  tokenize(caption: string, maxTokens: number): number[] {
    return this.tokenizer(caption, maxTokens);
  }

  // One (L_i, D) float32 block per caption: the embeddings of its real tokens, padding dropped.
  async embed(captions: string[], maxTokens: number, threads?: number): Promise<{ rows: Float32Array[]; dim: number }> {
    const toks = captions.map((c) => this.tokenize(c, maxTokens));
    const L = Math.max(1, ...toks.map((t) => t.length));
    const ids = new Int32Array(captions.length * L);
    const mask = new Uint8Array(captions.length * L);
    toks.forEach((t, b) => {
      ids.set(t, b * L);
      mask.fill(1, b * L, b * L + t.length);
    });
    const out = await withCallerStack(() =>
      this.net.encode(
        { ids: { data: ids, shape: [captions.length, L] }, mask: { data: mask, shape: [captions.length, L] } },
        threads ? { threads } : {}
      )
    );
    const dim = out.shape[2];
    const data = out.data as Float32Array;
    return { dim, rows: toks.map((t, b) => data.slice(b * L * dim, (b * L + t.length) * dim)) };
  }
}
