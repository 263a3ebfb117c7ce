// Bundles the pages torchmotion writes — `view` (ts/view/page/viewer.js) and `pfnn play`
// (ts/pfnn/page/controller-page.js), each with three.js — into dist/viewer/<name>.js, one minified script each that
// ts/view/html.ts inlines into a self-contained HTML file. Next to each, <name>.meta.json lists the bundle's inputs, so
// html.ts can tell when the bundle is older than its sources and rebuild it.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const entries = {
  viewer: join(root, 'ts', 'view', 'page', 'viewer.js'),
  pfnn: join(root, 'ts', 'pfnn', 'page', 'controller-page.js'),
};
const outDir = join(root, 'dist', 'viewer');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error(
    'build-viewer: esbuild is not installed (it is a devDependency): run `npm install --include=dev` in ' +
      `${root}, then \`npm run build:ts\``
  );
  process.exit(1);
}

// Write then rename: a concurrent reader sees the old bundle or the new one, never half of one.
mkdirSync(outDir, { recursive: true });
const write = (name, text) => {
  const tmp = join(outDir, `.${name}.${process.pid}`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(outDir, name));
};
for (const [name, entry] of Object.entries(entries)) {
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      minify: true,
      target: 'es2022',
      write: false,
      metafile: true,
      absWorkingDir: root,
      logLevel: 'silent',
    });
  } catch (err) {
    const messages = err.errors ? await esbuild.formatMessages(err.errors, { kind: 'error' }) : [String(err)];
    console.error(`build-viewer: cannot bundle ${entry}:\n${messages.join('\n')}`);
    process.exit(1);
  }
  const code = result.outputFiles[0].text;
  write(`${name}.js`, code);
  write(`${name}.meta.json`, `${JSON.stringify({ inputs: Object.keys(result.metafile.inputs).sort() }, null, 2)}\n`);
  console.log(`build-viewer: dist/viewer/${name}.js (${(code.length / 1024).toFixed(0)} KiB)`);
}
