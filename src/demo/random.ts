/**
 * A small seeded PRNG (sfc32, Chris Doty-Humphrey's "small fast counter") and the draws the demo needs. The demo's
 * promise is "same seed, byte-identical files", so every random choice goes through one of these generators and
 * never through Math.random or crypto.
 */

const HEX = Array.from({ length: 256 }, (_v, i) => i.toString(16).padStart(2, '0'));

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    // Seed the four words from splitmix32 so that nearby seeds give unrelated sequences.
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform float in [min, max). */
  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight; weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Exponentially distributed with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Lower-case hex string of `chars` characters. */
  hex(chars: number): string {
    let out = '';
    while (out.length < chars) {
      const u = this.u32();
      out += HEX[u >>> 24]! + HEX[(u >>> 16) & 255]! + HEX[(u >>> 8) & 255]! + HEX[u & 255]!;
    }
    return out.length === chars ? out : out.slice(0, chars);
  }

  /** A positive 63-bit integer in [min, max). */
  bigint(min: bigint, max: bigint): bigint {
    const r = (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    return min + (r % (max - min));
  }
}
