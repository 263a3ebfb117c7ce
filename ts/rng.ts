// A small seeded generator (mulberry32): data order and synthetic batches must be reproducible from a seed
// and cheap to save in a checkpoint (one 32-bit state).
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  // Uniform in [0, 1).
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  // Integer in [0, n).
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
