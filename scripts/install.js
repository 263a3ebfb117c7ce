// npm runs `node-gyp rebuild` on install for any package with a binding.gyp unless an install script exists.
// The addon is built by scripts/setup.sh (cmake-js, only when sources changed), so install only says how.
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../build/Release/torchmotion.node', import.meta.url))) {
  console.log('torchmotion: the LibTorch addon is not built yet: run `npm run setup` (or `npm run build:native`)');
}
