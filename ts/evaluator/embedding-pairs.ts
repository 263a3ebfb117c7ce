// Real motions and their counterparts (reconstructions, generations) embedded by the evaluator a batch of 32 at a
// time as they come, for an FID at the end: only the embeddings are kept.
import { DIM } from '../motion/repr272.js';
import { concatEmbeddings } from './embed.js';
import { fid, type Embeddings } from './metrics.js';
import { motionBatch, normalizeFor, type LoadedEvaluator } from './model.js';

export class EmbeddingPairs {
  private pending: Array<[Float64Array, Float64Array]> = [];
  private readonly real: Embeddings[] = [];
  private readonly other: Embeddings[] = [];

  constructor(
    private readonly ev: LoadedEvaluator,
    private readonly threads?: number
  ) {}

  // Denormalised 272 motions.
  async add(real: Float64Array, other: Float64Array): Promise<void> {
    this.pending.push([real, other]);
    if (this.pending.length === 32) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const max = this.ev.state.native.maxFrames;
    const prepare = (m: Float64Array) =>
      normalizeFor(this.ev.stats, m.subarray(0, Math.min(m.length / DIM, max) * DIM));
    this.real.push(
      await this.ev.model.embedMotion(
        motionBatch(
          this.pending.map(([r]) => prepare(r)),
          max
        ),
        this.threads
      )
    );
    this.other.push(
      await this.ev.model.embedMotion(
        motionBatch(
          this.pending.map(([, o]) => prepare(o)),
          max
        ),
        this.threads
      )
    );
    this.pending = [];
  }

  async fid(): Promise<number> {
    await this.flush();
    return fid(concatEmbeddings(this.real), concatEmbeddings(this.other));
  }
}
