/**
 * Seeded random numbers: the same seed gives the same sequence on every machine, in
 * every thread and process, which is what lets a resumed run draw what the first one did.
 */

/** A source of numbers in [0, 1), the same sequence for the same seed. */
export type Random = () => number;

/**
 * A random number generator seeded with `seed`, a whole number (both 32-bit halves of it
 * count). mulberry32: small, fast, and good enough to shuffle data.
 */
export function seededRandom(seed: number): Random {
  let state = mix32(Math.trunc(seed) >>> 0, Math.trunc(seed / 2 ** 32) >>> 0);
  const next32 = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (x ^ (x >>> 14)) >>> 0;
  };
  // 53 bits from two draws: picks among many ids then stay as good as uniform.
  return () => ((next32() >>> 5) * 2 ** 26 + (next32() >>> 6)) / 2 ** 53;
}

/** A 32-bit seed made from a text (a run id): FNV-1a, then mixed. */
export function seedOfText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return mix32(hash, text.length);
}

/**
 * Two 32-bit numbers mixed into one (murmur3's finaliser over their combination): folds
 * an index into a seed, so that each operator, epoch or example has its own stream.
 */
export function mix32(a: number, b: number): number {
  let h = (a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
