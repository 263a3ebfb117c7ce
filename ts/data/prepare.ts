// Unpacks a MotionMillion download (split.tar.gz, texts.tar.gz, mean_std/, motion_272rpr/<subset>.tar.gz) into
// the reference layout. A damaged or partial archive is reported and skipped; what it did unpack is left for
// the index to check file by file.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

import * as tar from 'tar';

import { TorchmotionError } from '../errors.js';

export interface PrepareReport {
  extracted: Array<{ archive: string; into: string; entries: number }>;
  failed: Array<{ archive: string; reason: string }>;
  copied: string[];
}

function* archives(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* archives(p);
    else if (/\.(tar\.gz|tgz|tar)$/.test(e.name)) yield p;
  }
}

async function firstEntry(file: string): Promise<string | undefined> {
  let first: string | undefined;
  await tar.t({ file, onReadEntry: (entry) => { first ??= entry.path; } }).catch(() => undefined);
  return first;
}

// Motion archives go under motion_data/vector_272 whatever their internal prefix; others keep their own
// top folder (split/, texts/, mean_std/), or get one named after the archive when they have none.
async function destination(file: string, downloadDir: string, out: string): Promise<{ cwd: string; strip: number }> {
  const rel = relative(downloadDir, file).split(/[\\/]/);
  const first = (await firstEntry(file))?.replace(/^\.\//, '') ?? '';
  const motion = join(out, 'motion_data', 'vector_272');
  if (first.startsWith('motion_data/vector_272/')) return { cwd: motion, strip: 2 };
  if (first.startsWith('motion_272rpr/') || first.startsWith('vector_272/')) return { cwd: motion, strip: 1 };
  if (rel.includes('motion_272rpr') || rel.includes('vector_272')) return { cwd: motion, strip: 0 };
  const name = basename(file).replace(/\.(tar\.gz|tgz|tar)$/, '');
  if (first.split('/')[0] === name || ['split', 'texts', 'mean_std'].includes(first.split('/')[0])) return { cwd: out, strip: 0 };
  return { cwd: join(out, name), strip: 0 };
}

export async function prepareDataset(downloadDir: string, out: string, onArchive?: (archive: string) => void): Promise<PrepareReport> {
  if (!existsSync(downloadDir) || !statSync(downloadDir).isDirectory()) {
    throw new TorchmotionError(`download folder ${downloadDir} does not exist: pass the folder holding the .tar.gz files`);
  }
  const report: PrepareReport = { extracted: [], failed: [], copied: [] };
  for (const file of archives(downloadDir)) {
    onArchive?.(file);
    try {
      const { cwd, strip } = await destination(file, downloadDir, out);
      mkdirSync(cwd, { recursive: true });
      let entries = 0;
      await tar.x({ file, cwd, strip, strict: true, onReadEntry: () => { entries++; } });
      report.extracted.push({ archive: file, into: cwd, entries });
    } catch (err) {
      report.failed.push({ archive: file, reason: (err as Error).message });
    }
  }
  // mean_std is published as plain .npy files next to the archives.
  for (const stats of ['mean_std']) {
    const src = join(downloadDir, stats);
    if (existsSync(src) && statSync(src).isDirectory()) {
      const hasTop = existsSync(join(src, 'mean.npy')) || existsSync(join(src, 'Mean.npy'));
      const dst = hasTop ? join(out, 'mean_std', 'vector_272') : join(out, 'mean_std');
      mkdirSync(dirname(dst), { recursive: true });
      cpSync(src, dst, { recursive: true, filter: (s) => !/\.(tar\.gz|tgz|tar)$/.test(s) });
      report.copied.push(dst);
    }
  }
  if (report.extracted.length === 0 && report.copied.length === 0) {
    throw new TorchmotionError(`${downloadDir} holds no .tar.gz archives or mean_std folder to prepare` +
      (report.failed.length ? ` (${report.failed.length} archive(s) failed: ${report.failed[0].reason})` : ''));
  }
  return report;
}
