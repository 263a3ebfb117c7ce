#!/usr/bin/env node
// Runs the compiled CLI from dist/; `npm run setup` (or `npm run build:ts`) produces it.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/ts/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(
    'torchmotion: the TypeScript sources are not compiled yet: run `npm run setup` (or `npm run build:ts`)'
  );
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv);
