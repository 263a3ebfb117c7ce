// A TorchScript caption encoder run by the addon. Captions are tokenised in TypeScript with the word rule of the
// built-in encoder ([<bos>, words…]) against the module's own vocab.txt (one token per line, line number = id;
// line 0 must be <pad>, and <bos> and <unk> must be present). See docs/text-to-motion.md for exporting one.
import { existsSync, readFileSync } from 'node:fs';

import { TorchmotionError, withCallerStack } from '../errors.js';
import { native, type NativeTextScript } from '../native.js';
import { checkDevice } from '../runtime.js';
import { words } from './vocab.js';

export class TextScriptEncoder {
  private constructor(private readonly net: NativeTextScript, private readonly ids: Map<string, number>, readonly script: string) {}

  static async load(script: string, vocabFile: string, device = 'cpu'): Promise<TextScriptEncoder> {
    for (const f of [script, vocabFile]) if (!existsSync(f)) throw new TorchmotionError(`${f}: no such file`);
    const tokens = readFileSync(vocabFile, 'utf8').split('\n').map((l) => l.trim());
    while (tokens.length > 0 && tokens[tokens.length - 1] === '') tokens.pop();
    if (tokens[0] !== '<pad>' || !tokens.includes('<bos>') || !tokens.includes('<unk>')) {
      throw new TorchmotionError(`${vocabFile}: line 1 must be <pad>, and <bos> and <unk> must be listed (one token per line, line number = id)`);
    }
    const net = new (native().TextScript)({ device: checkDevice(device) });
    await withCallerStack(() => net.load(script)).catch((err: Error) => {
      throw new TorchmotionError(`${script}: cannot load a TorchScript module (${err.message.split('\n')[0]})`);
    });
    return new TextScriptEncoder(net, new Map(tokens.map((t, i) => [t, i])), script);
  }

  tokenize(caption: string, maxTokens: number): number[] {
    const unk = this.ids.get('<unk>')!;
    return [this.ids.get('<bos>')!, ...words(caption).map((w) => this.ids.get(w) ?? unk)].slice(0, maxTokens);
  }

  // One (L_i, D) float32 block per caption: the embeddings of its real tokens, padding dropped.
  async embed(captions: string[], maxTokens: number, threads?: number): Promise<{ rows: Float32Array[]; dim: number }> {
    const toks = captions.map((c) => this.tokenize(c, maxTokens));
    const L = Math.max(1, ...toks.map((t) => t.length));
    const ids = new Int32Array(captions.length * L);
    const mask = new Uint8Array(captions.length * L);
    toks.forEach((t, b) => { ids.set(t, b * L); mask.fill(1, b * L, b * L + t.length); });
    const out = await withCallerStack(() => this.net.encode({ ids: { data: ids, shape: [captions.length, L] }, mask: { data: mask, shape: [captions.length, L] } },
      threads ? { threads } : {}));
    const dim = out.shape[2];
    const data = out.data as Float32Array;
    return { dim, rows: toks.map((t, b) => data.slice(b * L * dim, (b * L + t.length) * dim)) };
  }
}
