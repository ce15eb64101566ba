/**
 * The compact visited sets on their own, with figures computed independently of the code: hash
 * compaction's fingerprints (the two seeded halves of the state hash), its bytes per fingerprint
 * and bucket, lookups at bucket edges, the birthday bound; bitstate's array size, the exact bits
 * it sets (double hashing, three positions), when a state counts as present, and the expected
 * losses summed state by state.
 */
import { describe, expect, it } from 'vitest';
import { referenceHash, xorshift } from '../../test/referenceHash.js';
import { BitstateSet, SEED_A, SEED_B } from './bitstate.js';
import { FingerprintSet, SEED_HI, SEED_LO } from './fingerprintSet.js';

/** Index bytes of a set of `n` fingerprints: about 16 a bucket, between 2^16 and 2^30 buckets, plus one end entry. */
const indexBytes = (n: number): number => {
  let bits = 16;
  while (bits < 30 && n / 16 > 2 ** bits) bits++;
  return 4 * (2 ** bits + 1);
};

describe('hash compaction: figures', () => {
  it("a fingerprint is the state hash under two seeds, of exactly the state's words, and a committed state is found by its words", () => {
    const set = new FingerprintSet(2);
    const buf = Uint32Array.of(0xaaaa, 5, 6, 0xbbbb);
    expect(set.fingerprint(buf, 1)).toEqual([referenceHash([5, 6], SEED_HI), referenceHash([5, 6], SEED_LO)]);
    expect(set.fingerprint(Uint32Array.of(5, 6))).toEqual(set.fingerprint(buf, 1));
    const [h, l] = set.fingerprint(buf, 1);
    expect(set.has(Uint32Array.of(5, 6))).toBe(false);
    expect(set.commit(Uint32Array.of(h), Uint32Array.of(l))).toBe(1);
    expect(set.has(Uint32Array.of(5, 6))).toBe(true);
    expect(set.has(Uint32Array.of(6, 5))).toBe(false);
    expect(set.hasFingerprint(h, l)).toBe(true);
    expect(set.hasFingerprint(h, (l + 1) >>> 0)).toBe(false);
  });

  it('holds 6 bytes a fingerprint and 4 an index bucket, exactly; a commit of known fingerprints adds nothing', () => {
    const set = new FingerprintSet(1);
    expect([set.size, set.bytes()]).toEqual([0, indexBytes(0)]);
    const next = xorshift(17);
    const hi = Uint32Array.from({ length: 1000 }, next);
    const lo = Uint32Array.from({ length: 1000 }, next);
    expect(set.commit(hi.slice(), lo.slice())).toBe(1000);
    expect([set.size, set.bytes()]).toEqual([1000, 6 * 1000 + indexBytes(1000)]);
    expect(set.commit(hi.slice(0, 10), lo.slice(0, 10))).toBe(0);
    expect([set.size, set.bytes()]).toEqual([1000, 6 * 1000 + indexBytes(1000)]);
    // A worker's view of the buffers sees the same fingerprints.
    const view = new FingerprintSet(1, set.buffers());
    expect([view.size, view.bytes()]).toEqual([1000, set.bytes()]);
    let found = 0;
    for (let i = 0; i < 1000; i++) if (view.hasFingerprint(hi[i] as number, lo[i] as number)) found++;
    expect(found).toBe(1000);
  });

  it("never takes a neighbour bucket's fingerprint with the same low bits for the one looked up", () => {
    // Buckets are the top 16 bits; these share their low 16 bits of hi and their lo.
    const set = new FingerprintSet(1);
    set.commit(Uint32Array.of(0x00020005, 0x00000005, 0xffff0005), Uint32Array.of(9, 9, 9));
    expect([0x00010005, 0x00030005, 0xfffe0005, 0x00020005, 0x00000005, 0xffff0005].map((h) => set.hasFingerprint(h, 9))).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    // Within a bucket: every entry found, those between them not.
    const hi = Uint32Array.from({ length: 40 }, (_, i) => 0x12340000 + 2 * i);
    const lo = Uint32Array.from({ length: 40 }, (_, i) => (i % 3) * 2);
    const inBucket = new FingerprintSet(1);
    inBucket.commit(hi.slice(), lo.slice());
    const wrong: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (!inBucket.hasFingerprint(hi[i] as number, lo[i] as number)) wrong.push(i);
      if (inBucket.hasFingerprint((hi[i] as number) + 1, lo[i] as number)) wrong.push(100 + i);
      if (inBucket.hasFingerprint(hi[i] as number, (lo[i] as number) + 1)) wrong.push(200 + i);
    }
    expect(wrong).toEqual([]);
  });

  it('past 2^20 fingerprints cuts 2^17 buckets, and still finds exactly the fingerprints committed, in order', () => {
    // Distinct his: an odd multiplier is a bijection modulo 2^32.
    const n1 = 2 ** 20;
    const n2 = 2 ** 16 + 1;
    const hiOf = (i: number) => Math.imul(i, 0x9e3779b1) >>> 0;
    const set = new FingerprintSet(1);
    expect(
      set.commit(
        Uint32Array.from({ length: n1 }, (_, i) => hiOf(i)),
        Uint32Array.from({ length: n1 }, (_, i) => i),
      ),
    ).toBe(n1);
    expect(set.bytes()).toBe(6 * n1 + indexBytes(n1));
    // The second batch: new fingerprints and 100 known ones.
    const i2 = (k: number) => (k < n2 ? n1 + k : (k - n2) * 1000);
    const hi2 = Uint32Array.from({ length: n2 + 100 }, (_, k) => hiOf(i2(k)));
    const lo2 = Uint32Array.from({ length: n2 + 100 }, (_, k) => i2(k));
    expect(set.commit(hi2, lo2)).toBe(n2);
    const n = n1 + n2;
    expect(indexBytes(n)).toBe(4 * (2 ** 17 + 1));
    expect([set.size, set.bytes()]).toEqual([n, 6 * n + indexBytes(n)]);
    let missing = 0;
    let extra = 0;
    for (let i = 0; i < n; i++) {
      if (!set.hasFingerprint(hiOf(i), i)) missing++;
      if (set.hasFingerprint(hiOf(i), i + 1)) extra++;
    }
    expect([missing, extra]).toEqual([0, 0]);
    const d = set.dump();
    expect(d.hi.length).toBe(n);
    let unordered = 0;
    let unknown = 0;
    for (let k = 0; k < n; k++) {
      const h = d.hi[k] as number;
      const l = d.lo[k] as number;
      if (hiOf(l) !== h) unknown++;
      if (k > 0 && ((d.hi[k - 1] as number) > h || ((d.hi[k - 1] as number) === h && (d.lo[k - 1] as number) >= l))) unordered++;
    }
    expect([unordered, unknown]).toEqual([0, 0]);
  });

  it('bounds the probability of a missed state by the birthday bound n(n-1)/2 pairs over 2^64 fingerprints, at most 1', () => {
    const set = new FingerprintSet(1);
    for (const n of [0, 1, 2, 3, 1000, 2 ** 20, 6e9]) expect(set.omissionProbability(n)).toBe((n * (n - 1)) / 2 / 2 ** 64);
    expect(set.omissionProbability(2 ** 33)).toBe(1);
    expect(set.omissionProbability(2 ** 40)).toBe(1);
  });
});

/** The three bit positions of a state under double hashing (h1 + i h2, h2 odd), from the reference hash. */
function bitsOf(words: readonly number[], logBits: number, seed = 0): number[] {
  const a = BigInt(referenceHash(words, (SEED_HI ^ seed) >>> 0));
  const b = BigInt(referenceHash(words, (SEED_LO ^ seed) >>> 0) | 1) & 0xffffffffn;
  // Past 2^32 bits, the upper part of a position comes from two more hashes the same way.
  const c = BigInt(referenceHash(words, (SEED_A ^ seed) >>> 0));
  const d = BigInt(referenceHash(words, (SEED_B ^ seed) >>> 0));
  const upper = logBits > 32 ? 2n ** BigInt(logBits - 32) : 1n;
  return [0n, 1n, 2n].map((i) =>
    Number((((c + i * d) & 0xffffffffn) % upper) * 2n ** 32n + (((a + i * b) & 0xffffffffn) % 2n ** BigInt(Math.min(32, logBits)))),
  );
}

/** The positions of the bits set in an array of 32-bit words. */
const setBits = (arr: Uint32Array): number[] => {
  const out: number[] = [];
  arr.forEach((x, k) => {
    for (let j = 0; j < 32; j++) if ((x >>> j) & 1) out.push(32 * k + j);
  });
  return out;
};

describe('bitstate: figures', () => {
  it('takes the largest power of two of bytes that fits the budget, at least 8', () => {
    for (const [budget, bytes] of [
      [4096, 4096],
      [5000, 4096],
      [8191, 4096],
      [9, 8],
      [1, 8],
      [0, 8],
    ] as const) {
      const s = new BitstateSet(1, budget);
      expect([budget, s.bytes(), s.size, s.raw().length]).toEqual([budget, bytes, 8 * bytes, bytes / 4]);
    }
  });

  it('sets exactly the three double-hashing bits of each state (computed from the reference hash), under each seed', () => {
    for (const seed of [0, 0x5bd1e995]) {
      for (const words of [
        [1, 2],
        [0, 0],
        [0xffffffff, 7],
        [123456, 654321],
      ]) {
        const s = new BitstateSet(2, 1 << 16, seed);
        s.commit([Uint32Array.from(words)]);
        expect([seed, words, setBits(s.raw())]).toEqual([seed, words, [...new Set(bitsOf(words, 19, seed))].sort((x, y) => x - y)]);
      }
    }
    // Several states in several slices: the union of their bits.
    const next = xorshift(23);
    const states = Array.from({ length: 30 }, () => [next(), next()]);
    const s = new BitstateSet(2, 256);
    s.commit([Uint32Array.from(states.slice(0, 7).flat()), Uint32Array.from(states.slice(7).flat())]);
    expect(setBits(s.raw())).toEqual([...new Set(states.flatMap((w) => bitsOf(w, 11)))].sort((x, y) => x - y));
  });

  it('at 2^32 bits (512 MiB) positions take all 32 bits of a hash, and past it (1 GiB, 2^33 bits) their upper part comes from two more hashes: each state sets its three reference bits, about half of them in the upper half', () => {
    for (const [bytes, logBits] of [
      [2 ** 29, 32],
      [2 ** 30, 33],
    ] as const) {
      const s = new BitstateSet(2, bytes);
      expect(s.size).toBe(2 ** logBits);
      const next = xorshift(41);
      const states = Array.from({ length: 200 }, () => [next(), next()]);
      s.commit([Uint32Array.from(states.flat())]);
      const raw = s.raw();
      const isSet = (bit: number) => ((raw[Math.floor(bit / 32)] as number) >>> (bit % 32)) & 1;
      const want = states.flatMap((w) => bitsOf(w, logBits));
      expect([logBits, want.filter((bit) => !(bit >= 0 && bit < 2 ** logBits && isSet(bit) === 1))]).toEqual([logBits, []]);
      expect([logBits, states.filter((w) => !s.has(Uint32Array.from(w)))]).toEqual([logBits, []]);
      // 600 positions: at 2^32 bits, the top bit of the low hash is used too; at 2^33, the upper half is reached.
      const above = want.filter((bit) => bit >= 2 ** (logBits - 1)).length;
      expect([logBits, above > 200 && above < 400]).toEqual([logBits, true]);
    }
  });

  it('has a state exactly when all three of its bits are set', () => {
    const words = [77, 88];
    const s = new BitstateSet(2, 64);
    const w = Uint32Array.from(words);
    const bits = bitsOf(words, 9);
    expect(new Set(bits).size).toBe(3);
    for (const leftOut of [0, 1, 2]) {
      s.raw().fill(0);
      for (const [k, b] of bits.entries()) if (k !== leftOut) s.raw()[b >>> 5] = (s.raw()[b >>> 5] as number) | (1 << (b & 31));
      expect([leftOut, s.has(w)]).toEqual([leftOut, false]);
    }
    // The last round left out the third bit: set it too.
    const b = bits[2] as number;
    s.raw()[b >>> 5] = (s.raw()[b >>> 5] as number) | (1 << (b & 31));
    expect(s.has(w)).toBe(true);
    // A worker's view shares the bits.
    const view = new BitstateSet(2, 0, 0, s.buffers());
    expect([view.size, view.has(w), view.has(Uint32Array.of(88, 77))]).toEqual([s.size, true, s.has(Uint32Array.of(88, 77))]);
  });

  it('sums the expected losses state by state ((1 - e^(-3j/m))^3 for the j-th state) and gives the coverage they imply', () => {
    const s = new BitstateSet(2, 512);
    expect(s.coverage()).toBe(1);
    const next = xorshift(31);
    const n = 700;
    const m = 512 * 8;
    const flat = Uint32Array.from({ length: 2 * n }, next);
    s.commit([flat.subarray(0, 2 * 300), flat.subarray(2 * 300)]);
    let lost = 0;
    for (let j = 0; j < n; j++) lost += (1 - Math.exp((-3 * j) / m)) ** 3;
    const c = s.counters();
    expect(c.added).toBe(n);
    expect(c.expectedLost).toBeCloseTo(lost, 9);
    expect(s.coverage()).toBeCloseTo(n / (n + lost), 12);
    const fresh = new BitstateSet(2, 512);
    fresh.restoreCounters(c);
    expect([fresh.counters(), fresh.coverage()]).toEqual([c, s.coverage()]);
  });
});
