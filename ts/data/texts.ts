// Caption files in both formats: MotionMillion (one caption per line) and HumanML3D
// (`caption#word/POS ...#start#end`, times in seconds; 0#0 or NaN = the whole clip).
import { FPS } from '../motion/repr272.js';

export interface Caption {
  text: string;
  // Frame range at 30 fps; undefined = the whole clip.
  start?: number;
  end?: number;
}

export function parseCaptionLine(line: string, fps = FPS): Caption | undefined {
  const trimmed = line.trim();
  if (!trimmed) return undefined;
  const parts = trimmed.split('#');
  if (parts.length >= 4) {
    const [startSec, endSec] = [Number(parts[parts.length - 2]), Number(parts[parts.length - 1])];
    const text = parts
      .slice(0, parts.length - 3)
      .join('#')
      .trim();
    const whole = !Number.isFinite(startSec) || !Number.isFinite(endSec) || (startSec === 0 && endSec === 0);
    if (!Number.isNaN(startSec) || parts[parts.length - 2].trim().toLowerCase() === 'nan') {
      return whole ? { text } : { text, start: Math.trunc(startSec * fps), end: Math.trunc(endSec * fps) };
    }
  }
  return { text: trimmed };
}

export function parseCaptions(content: string, fps = FPS): Caption[] {
  return content
    .split(/\r?\n/)
    .map((l) => parseCaptionLine(l, fps))
    .filter((c): c is Caption => c !== undefined);
}

// A mirrored clip's caption from its source's: sides and turning directions swap ("turns left" → "turns right",
// "clockwise" → "counterclockwise"), case kept. Used where a mirror has no text file of its own.
const MIRRORED_WORDS: Record<string, string> = {
  left: 'right',
  right: 'left',
  leftward: 'rightward',
  rightward: 'leftward',
  leftwards: 'rightwards',
  rightwards: 'leftwards',
  clockwise: 'counterclockwise',
  counterclockwise: 'clockwise',
  anticlockwise: 'clockwise',
};

export function mirrorCaption(text: string): string {
  return text.replace(/[A-Za-z]+/g, (w) => {
    const m = MIRRORED_WORDS[w.toLowerCase()];
    if (!m) return w;
    return w[0] === w[0].toUpperCase() ? m[0].toUpperCase() + m.slice(1) : m;
  });
}
