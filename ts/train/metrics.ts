// metrics.jsonl: one JSON object per training step. On resume, lines past the checkpoint's step are dropped so
// the file reads as one uninterrupted run.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

import { fileError } from '../files.js';

export class MetricsLog {
  constructor(readonly file: string) {}

  append(entry: Record<string, number | string>): void {
    try {
      appendFileSync(this.file, JSON.stringify(entry) + '\n');
    } catch (err) {
      throw fileError(err, 'writing', this.file);
    }
  }

  truncateAfter(step: number): void {
    if (!existsSync(this.file)) return;
    const kept = readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step < step);
    writeFileSync(this.file, kept.map((l) => l + '\n').join(''));
  }

  static read(file: string): Array<Record<string, number>> {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  }
}
