// Captions need a TrueType font; pureimage rasterises it. No font is bundled: set-up installs Debian's DejaVu, and the
// usual system fonts of macOS and Windows are tried too. Without any, renders carry no text (said once on stderr).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import * as PImage from 'pureimage';

export const FONT_FAMILY = 'TorchmotionSans';

function candidates(): string[] {
  const windows = process.env.WINDIR ?? 'C:\\Windows';
  return [
    process.env.TORCHMOTION_FONT ?? '',
    '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
    '/usr/share/fonts/TTF/DejaVuSans.ttf',
    '/usr/share/fonts/dejavu/DejaVuSans.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
    '/System/Library/Fonts/Supplemental/Arial.ttf',
    '/Library/Fonts/Arial.ttf',
    join(windows, 'Fonts', 'arial.ttf'),
  ].filter((f) => f !== '');
}

let loaded: Promise<boolean> | undefined;

// Resolves true when captions can be drawn.
export function loadFont(): Promise<boolean> {
  loaded ??= (async () => {
    const file = candidates().find((f) => existsSync(f));
    if (!file) {
      console.warn(
        'torchmotion: no TrueType font found, renders will have no captions (install fonts-dejavu-core or ' +
          'set TORCHMOTION_FONT to a .ttf file)'
      );
      return false;
    }
    await PImage.registerFont(file, FONT_FAMILY).load();
    return true;
  })();
  return loaded;
}
