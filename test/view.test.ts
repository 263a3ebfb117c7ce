// `torchmotion view`: the page's HTML, the command, the server, and the page itself in headless Chromium, where a
// screenshot must show the skeleton's colours where the camera projects its bones.
import { existsSync, readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';

import { Command } from 'commander';
import { type Browser, chromium, type Page } from 'playwright-core';
import pngjs from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readMeanStd, readMotion272 } from '../ts/data/motion-files.js';
import { writeNpy } from '../ts/data/npy.js';
import { normalize } from '../ts/motion/normalize.js';
import { registerViewCommand } from '../ts/view/commands.js';
import { viewerHtml } from '../ts/view/html.js';
import { loadViewMotions } from '../ts/view/motions.js';
import { serveViewer } from '../ts/view/serve.js';
import { errorOf, tempDir } from './helpers.js';

const fixture = join(import.meta.dirname, 'fixtures', 'repr272-sample');
const statsDir = join(import.meta.dirname, 'fixtures', 'mean_std', 'humanml3d_272');
const dir = tempDir('tm-view-');
const HOSTILE = '</script><b>bold</b><script>window.hacked = 1</script> & "quotes"';

// The fixture is a raw 272 motion. Normalised with real statistics it stands in for a generated motion, so that
// loading it with --mean/--std takes the path users take.
const mean = join(statsDir, 'mean.npy');
const std = join(statsDir, 'std.npy');
const normalised = join(dir, 'jump.npy');
writeNpy(normalised, {
  data: normalize(readMotion272(join(fixture, 'repr272.npy')), readMeanStd(mean, std)),
  shape: [300, 272],
});
const jointsFile = join(fixture, 'joints22_facez.npy');

async function view(...args: string[]): Promise<string[]> {
  const program = new Command().exitOverride();
  registerViewCommand(program);
  const printed: string[] = [];
  const log = console.log;
  console.log = (line: string) => void printed.push(line);
  try {
    await program.parseAsync(['view', ...args], { from: 'user' });
  } finally {
    console.log = log;
  }
  return printed;
}

function embeddedData(html: string): {
  fps: number;
  motions: Array<{ caption: string; frames: number; joints: string }>;
} {
  const match = /<script type="application\/json" id="torchmotion-data">(.*?)<\/script>/s.exec(html);
  assert.ok(match, 'the page embeds its motions in #torchmotion-data');
  return JSON.parse(match[1]);
}

test('the page embeds the frames and a hostile caption as data, never as markup', () => {
  const motions = loadViewMotions([normalised], { stats: readMeanStd(mean, std), captions: [HOSTILE] });
  const html = viewerHtml(motions);
  assert.not.ok(html.includes('<b>bold</b>'), 'the caption is escaped');
  assert.is(html.match(/<\/script>/g)?.length, 2, 'only the data and the bundle close a script element');
  assert.ok(html.includes('<title>torchmotion view: &lt;/script&gt;&lt;b&gt;bold'), 'the title is escaped too');
  const data = embeddedData(html);
  assert.is(data.fps, 30);
  assert.is(data.motions[0].caption, HOSTILE);
  assert.is(data.motions[0].frames, 300);
  const joints = new Float32Array(Uint8Array.from(Buffer.from(data.motions[0].joints, 'base64')).buffer);
  assert.is(joints.length, 300 * 22 * 3);
  for (const i of [0, 1, 2, 1000, joints.length - 1])
    assert.ok(Math.abs(joints[i] - motions[0].joints[i]) < 1e-6, `joint value ${i}`);
  assert.not.match(html, /https?:\/\/(?!www\.w3\.org)/, 'nothing is fetched from the network');
});

test('view --out writes one self-contained page and prints its path', async () => {
  const out = join(dir, 'pages', 'jump.html');
  const printed = await view(
    normalised,
    '--mean',
    mean,
    '--std',
    std,
    '--caption',
    'a person jumps forward',
    '--out',
    out
  );
  assert.match(printed[0], `${out}: 1 motion(s), 300 frames`);
  const data = embeddedData(readFileSync(out, 'utf8'));
  assert.equal(
    data.motions.map((m) => [m.caption, m.frames]),
    [['a person jumps forward', 300]]
  );
});

test('view names the file and the fix for bad input', async () => {
  const bad = join(dir, 'wrong-shape.npy');
  writeNpy(bad, { data: new Float32Array(50), shape: [10, 5] });
  assert.is(
    await errorOf(() => view(bad, '--out', join(dir, 'bad.html'))),
    `${bad}: expected a (T, 272) motion or (T, 22, 3) joints, found (10, 5)`
  );
  assert.is(
    await errorOf(() => view(normalised, '--mean', mean, '--out', join(dir, 'bad.html'))),
    '--mean and --std go together: give both or neither'
  );
  assert.is(
    await errorOf(() => view(normalised, '--caption', 'a', '--caption', 'b', '--out', join(dir, 'bad.html'))),
    '2 captions for 1 file(s): give at most one --caption per file'
  );
  assert.is(
    await errorOf(() => view(jointsFile, '--mean', mean, '--std', std, '--out', join(dir, 'bad.html'))),
    `${jointsFile}: --mean/--std apply to 272 motions, but this is a joints file (300, 22, 3); drop them`
  );
});

test('serveViewer serves the page at / only, and says when the port is taken', async () => {
  const served = await serveViewer('<!doctype html><p>page</p>');
  try {
    assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.is(await (await fetch(served.url)).text(), '<!doctype html><p>page</p>');
    assert.is((await fetch(new URL('/other', served.url))).status, 404);
    const port = Number(new URL(served.url).port);
    // DNS rebinding: a request that names another host is refused; localhost is this server too.
    const statusFor = (host: string) =>
      new Promise<number>((done, fail) => {
        httpGet({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        }).on('error', fail);
      });
    assert.is(await statusFor(`attacker.example:${port}`), 421);
    assert.is(await statusFor(`localhost:${port}`), 200);
    assert.is(await statusFor(`127.0.0.1:${port}`), 200);
    assert.is(
      await errorOf(() => serveViewer('', { port })),
      `cannot serve the viewer on 127.0.0.1:${port}: port ${port} is in use: pick another with --port, ` +
        `or --port 0 for any free one`
    );
  } finally {
    await served.close();
  }
});

// --- The page in headless Chromium ---------------------------------------------------------------------------------

// Software WebGL (SwiftShader through ANGLE): no GPU in CI. Recent Chromium only falls back to it when told it may.
const CHROMIUM_FLAGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];
const VIEWPORT = { width: 960, height: 600 };
let browser: Browser | undefined;

async function launch(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    assert.unreachable(
      `no Chromium at ${executablePath}: run \`bash scripts/setup.sh --with-viewer\` (or set CHROMIUM_PATH)`
    );
  }
  browser ??= await chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
  return browser;
}

interface Viewer {
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

async function openViewer(html: string): Promise<Viewer> {
  const page = await (await launch()).newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const served = await serveViewer(html);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  const close = async () => {
    await page.close();
    await served.close();
  }; // an open server would keep the test alive
  try {
    await page.goto(served.url);
    await page.waitForFunction(() => 'torchmotion' in globalThis, undefined, { timeout: 20_000 });
  } catch (err) {
    await close();
    throw new Error(`the viewer did not start: ${(err as Error).message}; page errors: ${errors.join('; ') || 'none'}`);
  }
  return { page, errors, close };
}

type Point = { x: number; y: number };
type Rgb = [number, number, number];
const tm = (page: Page) => ({
  frame: () => page.evaluate(() => torchmotion.frame()),
  setFrame: (f: number) => page.evaluate((f) => torchmotion.setFrame(f), f),
  pause: () => page.evaluate(() => torchmotion.pause()),
  joint: (motion: number, joint: number) => page.evaluate(([m, j]) => torchmotion.projectJoint(m, j), [motion, joint]),
});

// Where the middle of the bone from joint a to joint b is drawn.
async function boneMiddle(page: Page, motion: number, a: number, b: number): Promise<Point> {
  const [p, q] = [await tm(page).joint(motion, a), await tm(page).joint(motion, b)];
  return { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
}

// Waits until the page has drawn the same projection for three animation frames: a late relayout (fonts, the
// captions) resizes the canvas, and a screenshot taken across it would not match the joints projected after it.
async function settle(page: Page): Promise<void> {
  // A string, not a function: tsx's name-keeping helper (__name) does not exist inside the page.
  await page.evaluate(`new Promise((done) => {
    let last = '';
    let same = 0;
    const tick = () => {
      const p = JSON.stringify([torchmotion.projectJoint(0, 0), innerWidth, innerHeight]);
      same = p === last ? same + 1 : 0;
      last = p;
      if (same >= 3) done();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })`);
}

async function screenshot(page: Page) {
  await settle(page);
  const png = pngjs.PNG.sync.read(await page.screenshot());
  const at = (x: number, y: number): Rgb => {
    const i = (Math.round(y) * png.width + Math.round(x)) * 4;
    return [png.data[i], png.data[i + 1], png.data[i + 2]];
  };
  // Pixels of the given colour within `radius` px of p (the bones are about 10 px wide at this distance).
  const count = (p: Point, colour: (c: Rgb) => boolean, radius = 5) => {
    let n = 0;
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++)
        if (dx * dx + dy * dy <= radius * radius && colour(at(p.x + dx, p.y + dy))) n++;
    }
    return n;
  };
  return { count };
}

// The viewer's unlit colours: right limbs #d62728, left limbs #1f77b4, spine #3a3a3a, on white.
const red = ([r, g, b]: Rgb) => r > 170 && g < 80 && b < 80;
const blue = ([r, g, b]: Rgb) => b > 140 && r < 80 && b - g > 40;
const dark = ([r, g, b]: Rgb) => r < 90 && g < 90 && b < 90;
const white = ([r, g, b]: Rgb) => r === 255 && g === 255 && b === 255;
const [PELVIS, L_HIP, R_HIP, SPINE1, L_KNEE, R_KNEE, SPINE2, L_SHOULDER, L_ELBOW] = [0, 1, 2, 3, 4, 5, 6, 16, 18];

test('the page plays a motion and draws its skeleton where the camera projects it', async () => {
  const motions = loadViewMotions([normalised], {
    stats: readMeanStd(mean, std),
    captions: ['a person jumps forward'],
  });
  const v = await openViewer(viewerHtml(motions));
  try {
    const { page } = v;
    assert.is(await page.evaluate(() => torchmotion.frames), 300);
    // Playing at 30 fps advances 18 frames in 0.6 s. Ask for 5 within a few seconds: software WebGL on a busy
    // machine renders few frames, and each advances the clock by at most 0.1 s.
    const before = await tm(page).frame();
    await page.waitForTimeout(600);
    await page
      .waitForFunction((f) => torchmotion.frame() >= f + 5, before, { timeout: 5_000 })
      .catch(async () => assert.unreachable(`playback stalled: frame ${before} → ${await tm(page).frame()}`));
    const counter = (await page.textContent('#counter')) ?? '';
    assert.ok(/^frame \d+ \/ 300$/.test(counter), `frame counter: '${counter}'`);

    await tm(page).pause();
    await tm(page).setFrame(240); // crouching before the jump
    assert.is(await page.textContent('#counter'), 'frame 241 / 300');
    const crouch = { pelvis: await tm(page).joint(0, PELVIS), thigh: await boneMiddle(page, 0, R_HIP, R_KNEE) };
    let shot = await screenshot(page);
    const leftArm = await boneMiddle(page, 0, L_SHOULDER, L_ELBOW);
    assert.ok(
      shot.count(crouch.thigh, red) >= 30,
      `red right thigh at ${JSON.stringify(crouch.thigh)}: ${shot.count(crouch.thigh, red)} px`
    );
    assert.ok(
      shot.count(leftArm, blue) >= 30,
      `blue left upper arm at ${JSON.stringify(leftArm)}: ${shot.count(leftArm, blue)} px`
    );
    assert.ok(leftArm.x > crouch.thigh.x, "facing the camera, the character's left is on screen right");
    assert.is(
      shot.count({ x: 12, y: 12 }, white, 10),
      shot.count({ x: 12, y: 12 }, () => true, 10),
      'the corner is background'
    );
    const paused = await tm(page).frame();
    await page.waitForTimeout(200);
    assert.is(await tm(page).frame(), paused, 'paused playback stays on its frame');

    await tm(page).setFrame(270); // in the air, further forward
    const jump = { pelvis: await tm(page).joint(0, PELVIS), thigh: await boneMiddle(page, 0, R_HIP, R_KNEE) };
    const moved = Math.hypot(jump.pelvis.x - crouch.pelvis.x, jump.pelvis.y - crouch.pelvis.y);
    assert.ok(moved > 40, `scrubbing moves the pelvis on screen: ${moved.toFixed(0)} px`);
    assert.ok(jump.pelvis.y < crouch.pelvis.y, 'the pelvis is higher in the jump');
    shot = await screenshot(page);
    assert.ok(shot.count(jump.thigh, red) >= 30, `red right thigh follows to ${JSON.stringify(jump.thigh)}`);
    assert.is(shot.count(crouch.thigh, red), 0, 'and is gone from where it was');
    assert.equal(v.errors, []);
  } finally {
    await v.close();
  }
});

test('two motions play side by side, each with its caption', async () => {
  const captions = ['a person jumps forward', HOSTILE];
  const v = await openViewer(viewerHtml(loadViewMotions([join(fixture, 'repr272.npy'), jointsFile], { captions })));
  try {
    const { page } = v;
    await tm(page).pause();
    await tm(page).setFrame(100);
    const shot = await screenshot(page);
    const pelvis = [await tm(page).joint(0, PELVIS), await tm(page).joint(1, PELVIS)];
    assert.ok(
      pelvis[1].x - pelvis[0].x > 100,
      `the second motion stands to the right: ${pelvis[0].x} vs ${pelvis[1].x}`
    );
    for (const m of [0, 1]) {
      const spine = await boneMiddle(page, m, SPINE1, SPINE2);
      const thigh = await boneMiddle(page, m, L_HIP, L_KNEE);
      assert.ok(shot.count(spine, dark) >= 30, `motion ${m}: dark spine at ${JSON.stringify(spine)}`);
      assert.ok(shot.count(thigh, blue) >= 30, `motion ${m}: blue left thigh at ${JSON.stringify(thigh)}`);
    }
    assert.equal(await page.locator('.caption').allTextContents(), captions);
    assert.is(await page.locator('#labels b').count(), 0, "the caption's markup stays text");
    assert.is(await page.evaluate(() => 'hacked' in globalThis), false);
    assert.equal(v.errors, []);
  } finally {
    await v.close();
  }
});

test.after(async () => {
  await browser?.close();
});

// The page's test hook (ts/view/page/viewer.js), as the callbacks run inside the page see it.
declare global {
  var torchmotion: {
    frames: number;
    frame(): number;
    setFrame(f: number): void;
    play(): void;
    pause(): void;
    projectJoint(motion: number, joint: number): { x: number; y: number };
  };
}

test.run();
