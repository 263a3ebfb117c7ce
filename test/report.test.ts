// `torchmotion data report` on the demo data, in headless Chromium with the network off: the page loads without a
// request beyond itself, its renders decode, and every bar of every chart has its colour exactly as tall (or as
// long) as its count says, measured on the screenshot's pixels.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';
import pngjs from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildDatasetReport, reportHtml } from '../ts/data/report.js';
import { BAR_COLOR, barRect, CHART, hbarRect } from '../ts/data/report-charts.js';
import type { SubsetStats } from '../ts/data/stats.js';
import { tempDir } from './helpers.js';
import { DEMO } from './release-fixture.js';

const dir = tempDir('tm-report-');
const file = join(dir, 'report.html');
const report = await buildDatasetReport(DEMO, { renders: 3 });
writeFileSync(file, reportHtml(report));

// Counted here by walking the folder, independently of the stats code.
function countClips(d: string): number {
  return readdirSync(d, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? countClips(join(d, e.name)) : e.name.endsWith('.npy') ? 1 : 0),
    0
  );
}

const [R, G, B] = [1, 3, 5].map((i) => parseInt(BAR_COLOR.slice(i, i + 2), 16));
const isBar = (png: pngjs.PNG, x: number, y: number) => {
  const o = (Math.round(y) * png.width + Math.round(x)) * 4;
  return Math.abs(png.data[o] - R) + Math.abs(png.data[o + 1] - G) + Math.abs(png.data[o + 2] - B) < 40;
};

// Bar-coloured pixels in a run from (x, y) stepping by (dx, dy).
function run(png: pngjs.PNG, x: number, y: number, dx: number, dy: number): number {
  let n = 0;
  while (x >= 0 && y >= 0 && x < png.width && y < png.height && isBar(png, x + n * dx, y + n * dy)) n++;
  return n;
}

test('the page loads offline, with nothing fetched but itself, and its renders decode', async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
  });
  try {
    const context = await browser.newContext({
      offline: true,
      viewport: { width: 1200, height: 900 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => void (r.url().startsWith('data:') || requests.push(r.url())));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    assert.equal(requests, [`file://${file}`]);
    assert.equal(errors, []);
    const widths = await page.$$eval('img.render', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    assert.is(widths.length, 1);
    assert.ok(widths[0] > 500, `render decoded: ${widths[0]} px wide`);
    const data = JSON.parse(await page.$eval('#report-data', (e) => e.textContent ?? '')) as {
      subsets: Record<string, SubsetStats>;
    };
    const s = data.subsets.BandaiNamco;
    assert.is(s.clips, countClips(join(DEMO, 'motion_data', 'vector_272')));

    const charts = await page.$$('svg[data-chart]');
    assert.is(charts.length, 2 + 5, 'two overview charts and five per subset');
    const checked: string[] = [];
    for (const chart of charts) {
      const id = (await chart.getAttribute('data-chart'))!;
      const png = pngjs.PNG.sync.read(await chart.screenshot());
      // The element's screenshot includes its CSS border: chart pixel (x, y) is at (x + bx, y + by).
      const [bx, by] = await chart.evaluate((e) => [e.clientLeft, e.clientTop]);
      const values = id.startsWith('overview')
        ? [id === 'overview-clips' ? s.clips : s.hours]
        : id.endsWith('-types')
          ? Object.values(s.motionTypes.counts)
              .filter((v) => v > 0)
              .sort((a, b) => b - a)
          : id.endsWith('-length')
            ? Object.values(s.lengthHistogram)
            : s.distributions[id.split('-')[1] as keyof SubsetStats['distributions']].counts;
      const max = Math.max(...values);
      values.forEach((v, i) => {
        if (id.startsWith('overview') || id.endsWith('-types')) {
          const [x, y, w, h] = hbarRect(i, v, max);
          const measured = run(png, bx + x, by + y + h / 2, 1, 0);
          assert.ok(
            v === 0 ? measured === 0 : Math.abs(measured - w) <= 1.5,
            `${id} row ${i}: ${measured} px of bar for ${v} (expected ${w.toFixed(1)})`
          );
        } else {
          const [x, , w, h] = barRect(i, values.length, v, max);
          const measured = run(png, bx + x + w / 2, by + CHART.height - CHART.bottom - 1, 0, -1);
          assert.ok(
            v === 0 ? measured === 0 : Math.abs(measured - h) <= 1.5,
            `${id} bin ${i}: ${measured} px of bar for ${v} (expected ${h.toFixed(1)})`
          );
        }
      });
      checked.push(`${id}:${values.length}`);
    }
    assert.is(checked.length, 7, checked.join(' '));
  } finally {
    await browser.close();
  }
});

test.run();
