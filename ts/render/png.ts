// pureimage bitmaps are RGBA bytes already: wrap them for pngjs without copying.
import { writeFileSync } from 'node:fs';

import { PNG } from 'pngjs';
import type { Bitmap } from 'pureimage';

export function writePng(file: string, bitmap: Bitmap): void {
  const png = new PNG({ width: bitmap.width, height: bitmap.height });
  png.data = Buffer.from(bitmap.data.buffer, bitmap.data.byteOffset, bitmap.data.byteLength);
  writeFileSync(file, PNG.sync.write(png));
}
