/**
 * Test helpers for the explicit engine's stores: the state hash written again independently (exact
 * BigInt arithmetic modulo 2^32 instead of Math.imul and int32 wrapping), and a small deterministic
 * generator for inputs too large to draw with fast-check.
 */

/** MurmurHash3's block mix and finalizer over 32-bit words, the seed xor the number of words (as stateStore.ts documents its hash). */
export function referenceHash(words: readonly number[], seed = 0x9e3779b9): number {
  const M = (1n << 32n) - 1n;
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & M;
  let h = (BigInt(seed >>> 0) ^ BigInt(words.length)) & M;
  for (const x of words) {
    let k = mul(BigInt(x >>> 0), 0xcc9e2d51n);
    k = mul(rotl(k, 15n), 0x1b873593n);
    h = rotl(h ^ k, 13n);
    h = (mul(h, 5n) + 0xe6546b64n) & M;
  }
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h);
}

/** xorshift32 from `seed` (0 is taken as 1). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
