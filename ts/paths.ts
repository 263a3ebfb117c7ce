import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Sources run from ts/ (tsx) and compiled code from dist/ts/: find the package root by its package.json.
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`torchmotion: cannot find package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}
