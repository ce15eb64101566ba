import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitstateSet } from './bitstate.js';
import { FingerprintSet, sortFingerprints } from './fingerprintSet.js';

/** A fingerprint as one exact number (a double would lose the low bits). */
const key = (h: number, l: number): bigint => (BigInt(h) << 32n) | BigInt(l);
const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** A fingerprint set whose fingerprints are given directly (as if of one-word states), with a reference Set beside it. */
function filled(batches: readonly (readonly [number, number][])[]): { set: FingerprintSet; ref: Set<bigint>; added: number[] } {
  const set = new FingerprintSet(1);
  const ref = new Set<bigint>();
  const added: number[] = [];
  for (const batch of batches) {
    const hi = Uint32Array.from(batch.map((p) => p[0]));
    const lo = Uint32Array.from(batch.map((p) => p[1]));
    const before = ref.size;
    for (const [h, l] of batch) ref.add(key(h, l));
    added.push(set.commit(hi, lo));
    expect(added[added.length - 1]).toBe(ref.size - before);
  }
  return { set, ref, added };
}

/** A small deterministic generator (xorshift), for sets too large to draw with fast-check. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe('hash compaction: the sorted fingerprint set', () => {
  it('sorts fingerprint pairs by (hi, lo)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })), { maxLength: 300 }), (pairs) => {
        const hi = Uint32Array.from(pairs.map((p) => p[0]));
        const lo = Uint32Array.from(pairs.map((p) => p[1]));
        sortFingerprints(hi, lo);
        const want = pairs.map(([h, l]) => key(h, l)).sort(ascending);
        expect(Array.from(hi, (h, i) => key(h, lo[i] as number))).toEqual(want);
      }),
    );
  });

  it('finds exactly the fingerprints committed, batch after batch (duplicates counted once)', () => {
    const word = fc.nat({ max: 0xffffffff });
    // Few distinct high words, so that buckets hold many fingerprints and the same pair repeats.
    const pair = fc.tuple(fc.oneof(word, fc.constantFrom(0, 1, 0xffffffff, 0x80000000)), fc.oneof(word, fc.constantFrom(0, 7)));
    fc.assert(
      fc.property(fc.array(fc.array(pair, { maxLength: 60 }), { maxLength: 6 }), fc.array(pair, { maxLength: 30 }), (batches, probes) => {
        const { set, ref } = filled(batches);
        expect(set.size).toBe(ref.size);
        for (const [h, l] of [...batches.flat(), ...probes]) expect(set.hasFingerprint(h, l)).toBe(ref.has(key(h, l)));
        const d = set.dump();
        expect(Array.from(d.hi, (h, i) => key(h, d.lo[i] as number))).toEqual([...ref].sort(ascending));
      }),
    );
  });

  it('keeps working past a million fingerprints, when the buckets are re-cut (more index bits)', () => {
    const next = xorshift(2024);
    const batches: [number, number][][] = [];
    for (let b = 0; b < 5; b++) batches.push(Array.from({ length: 260_000 }, () => [next(), next()] as [number, number]));
    const { set, ref } = filled(batches);
    expect(set.size).toBe(ref.size);
    for (const batch of batches) for (let i = 0; i < batch.length; i += 97) expect(set.hasFingerprint(...(batch[i] as [number, number]))).toBe(true);
    let absent = 0;
    for (let i = 0; i < 20_000; i++) if (!set.hasFingerprint(next(), next())) absent++;
    expect(absent).toBe(20_000);
    // 6 bytes a fingerprint and 4 a bucket (about 16 fingerprints a bucket): under 7 bytes each.
    expect(set.bytes() / set.size).toBeLessThan(7);
  });
});

describe('bitstate: a fixed array of bits', () => {
  it('never forgets a state it was given, and estimates its coverage', () => {
    const next = xorshift(7);
    const bits = new BitstateSet(3, 4096);
    const states = Array.from({ length: 2000 }, () => Uint32Array.of(next(), next(), next()));
    for (let i = 0; i < states.length; i += 500) bits.commit([Uint32Array.from(states.slice(i, i + 500).flatMap((s) => [...s]))]);
    for (const s of states) expect(bits.has(s)).toBe(true);
    // 2000 states in 32768 bits: about 1 % of new states would find their bits set already.
    expect(bits.coverage()).toBeLessThan(0.999);
    expect(bits.coverage()).toBeGreaterThan(0.95);
    const roomy = new BitstateSet(3, 2 ** 20);
    roomy.commit([Uint32Array.from(states.flatMap((s) => [...s]))]);
    expect(roomy.coverage()).toBeGreaterThan(0.99999);
  });

  it('uses other hash functions under another seed (swarm shards lose different states)', () => {
    const next = xorshift(11);
    const a = new BitstateSet(2, 64, 0);
    const b = new BitstateSet(2, 64, 0x5bd1e995);
    const states = Array.from({ length: 40 }, () => Uint32Array.of(next(), next()));
    a.commit([Uint32Array.from(states.flatMap((s) => [...s]))]);
    b.commit([Uint32Array.from(states.flatMap((s) => [...s]))]);
    const probes = Array.from({ length: 200 }, () => Uint32Array.of(next(), next()));
    expect(probes.filter((p) => a.has(p)).length).not.toBe(probes.filter((p) => b.has(p)).length);
  });
});
