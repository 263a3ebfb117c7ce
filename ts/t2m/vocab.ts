// The built-in text encoder's word vocabulary, built from the training captions: 0 PAD, 1 BOS, 2 UNK, then words
// by frequency. A caption becomes [BOS, words…]; the empty caption is [BOS] (the unconditional prompt).
export const PAD = 0;
export const BOS = 1;
export const UNK = 2;

export function words(caption: string): string[] {
  return caption.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

export class Vocabulary {
  private readonly index: Map<string, number>;

  constructor(readonly words: string[]) {
    this.index = new Map(words.map((w, i) => [w, i + 3]));
  }

  static build(captions: Iterable<string>): Vocabulary {
    const counts = new Map<string, number>();
    for (const c of captions) for (const w of words(c)) counts.set(w, (counts.get(w) ?? 0) + 1);
    return new Vocabulary([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([w]) => w));
  }

  get size(): number {
    return this.words.length + 3;
  }

  encode(caption: string, maxWords: number): number[] {
    return [
      BOS,
      ...words(caption)
        .slice(0, maxWords)
        .map((w) => this.index.get(w) ?? UNK),
    ];
  }
}

// Left-pads encoded captions into (B, Lt) int32 ids and their lengths.
export function padCaptions(encoded: number[][]): { ids: Int32Array; lengths: Int32Array; slots: number } {
  const slots = Math.max(1, ...encoded.map((e) => e.length));
  const ids = new Int32Array(encoded.length * slots);
  encoded.forEach((e, b) => ids.set(e, b * slots + slots - e.length));
  return { ids, lengths: Int32Array.from(encoded.map((e) => e.length)), slots };
}
