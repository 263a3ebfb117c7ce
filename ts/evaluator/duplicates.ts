// Which captions of a batch must not be each other's negatives in InfoNCE. TMR masks pairs whose sentence
// embeddings are close (cosine above 0.6 after its rescaling; MotionMillion uses a MiniLM encoder at 0.85); with no
// sentence encoder here the rule is lexical: two captions are near duplicates when the Jaccard similarity of their
// content-word sets (lower-cased words, without articles, subjects and linking words) reaches the threshold, or
// when they describe the same clip. "a man walks forward happily" and "a person walks forward happily" are
// duplicates (1.0); "someone walks straight ahead with joy" is not (1/6): paraphrases stay negatives.
import { words } from '../t2m/vocab.js';

const FUNCTION_WORDS = new Set([
  'a',
  'an',
  'the',
  'person',
  'someone',
  'somebody',
  'man',
  'woman',
  'he',
  'she',
  'they',
  'it',
  'his',
  'her',
  'their',
  'its',
  'is',
  'are',
  'was',
  'and',
  'then',
  'with',
  'of',
  'in',
  'on',
  'to',
  'at',
  'while',
  'as',
  'by',
  'who',
  'that',
  'this',
]);

export function contentWords(caption: string): Set<string> {
  return new Set(words(caption).filter((w) => !FUNCTION_WORDS.has(w)));
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

// (B, B) 0/1: 1 where pair (i, j), i ≠ j, is not a negative.
export function duplicateMask(captions: string[], clips: ArrayLike<number>, threshold: number): Uint8Array {
  const B = captions.length;
  const sets = captions.map(contentWords);
  const out = new Uint8Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = i + 1; j < B; j++) {
      if (clips[i] === clips[j] || jaccard(sets[i], sets[j]) >= threshold) out[i * B + j] = out[j * B + i] = 1;
    }
  }
  return out;
}
