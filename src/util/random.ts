/**
 * Seeded pseudo-random numbers (mulberry32) for reproducible generated inputs.
 *
 * Public API (internal): rng(seed) → a function returning floats in [0, 1);
 * the same seed always yields the same sequence. Not for anything that needs
 * unpredictability (ids, secrets): it is a 32-bit state generator.
 * Integration points: the benchmarks (bench/*.ts) generate their repos with it,
 * and the property/fuzz tests and test fixtures use it so a failure reproduces
 * from its seed.
 * Dependencies: none.
 */

/** mulberry32: a small seeded PRNG; every call of the returned function advances the state. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
