// `data report` in bounded memory: the report (stats over every clip, three renders, the page) on the loader
// benchmark's dataset — N sparse clips of 60–300 frames in one subset, written once and shared with loader.ts.
// Usage: npx tsx scripts/bench/report-memory.ts [--clips 200000] [--dir /tmp/tm-loader-bench]
// Peak RSS is the kernel's high-water mark (VmHWM) after the dataset exists; the clips are holes of zeros served
// from the page cache, so this measures the report's CPU and memory, not the disk.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { buildDatasetReport, reportHtml } from '../../ts/data/report.js';
import { writeSparseClips, writeSplit } from '../../ts/data/synthetic.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const clips = Number(arg('clips', '200000'));
const root = arg('dir', '/tmp/tm-loader-bench');

const marker = join(root, `.written-${clips}`);
if (!existsSync(marker)) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeSplit(root, 'tokenizer_96', 'train', writeSparseClips(root, clips, 1));
  writeFileSync(marker, '');
}
// Writing the dataset is not the report's: reset the high-water mark (Linux: writing 5 to clear_refs).
try {
  writeFileSync('/proc/self/clear_refs', '5');
} catch {
  /* not Linux: the mark then includes the writing */
}
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

const t0 = performance.now();
const report = await buildDatasetReport(root, { renders: 3 });
const html = reportHtml(report);
writeFileSync(join(root, 'report.html'), html);
const seconds = (performance.now() - t0) / 1000;
const s = Object.values(report.subsets)[0];
console.log(
  JSON.stringify(
    {
      clips,
      counted: s.clips,
      hours: Number(s.hours.toFixed(1)),
      seconds: Number(seconds.toFixed(1)),
      clipsPerSecond: Math.round(s.clips / seconds),
      pageKB: Math.round(html.length / 1024),
      peakRssMB: Number(hwm().toFixed(1)),
      machine: `${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB`,
    },
    null,
    2
  )
);
