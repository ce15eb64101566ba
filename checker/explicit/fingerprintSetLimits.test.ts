/**
 * Hash compaction's fingerprint set at its edges, each against an oracle of its own: the limit on
 * the number of fingerprints (a set of views over lazily allocated shared memory, so that the
 * 4 GiB array is never touched), workers' views of the same buffers read in this thread beside the
 * owner and a plain Set, and the growth of the bucket index worked out by hand (past 2^16 buckets
 * from a set of 2^20 fingerprints laid out directly in the buffers, without sorting a million).
 */
import { describe, expect, it } from 'vitest';
import { xorshift } from '../../test/referenceHash.js';
import { FingerprintSet } from './fingerprintSet.js';
import { StoreFullError } from './storeMemory.js';

/** The most fingerprints whose 32-bit array stays under 4 GiB (4 n < 2^32). */
const LIMIT = 2 ** 32 / 4 - 1;

/** A growable shared buffer grown to `bytes`, up to `max` (the kind the set allocates; pages not touched are not held). */
function grown(bytes: number, max = bytes): SharedArrayBuffer {
  const buf = new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer & { grow(b: number): void })(0, {
    maxByteLength: max,
  });
  buf.grow(bytes);
  return buf;
}

describe('hash compaction: the limit on fingerprints', () => {
  it('refuses, naming its limit of 2^30 - 1, a commit that would pass it, and grows nothing', () => {
    // A full set as a worker would see it: LIMIT fingerprints, every bucket of 2^16 empty but the
    // last, which holds them all (its start 0; the buckets before it start there too).
    const index = new SharedArrayBuffer(4 * (2 ** 16 + 1));
    new Uint32Array(index).fill(0);
    new Uint32Array(index)[2 ** 16] = LIMIT;
    const lo = grown(4 * LIMIT);
    const mid = grown(2 * LIMIT);
    const full = new FingerprintSet(1, { n: LIMIT, bits: 16, index, lo, mid });
    expect(full.size).toBe(LIMIT);
    // A fingerprint of bucket 0 is not among them (bucket 0 is empty): it would be the one too many.
    expect(full.hasFingerprint(0x00001234, 5)).toBe(false);
    expect(() => full.commit(Uint32Array.of(0x00001234), Uint32Array.of(5))).toThrow(new StoreFullError('entries', `it holds at most ${LIMIT} fingerprints`));
    expect([full.size, lo.byteLength, mid.byteLength]).toEqual([LIMIT, 4 * LIMIT, 2 * LIMIT]);
  });

  it('lets a set one short of the limit take one more: the commit to exactly 2^30 - 1 is not refused on the limit', () => {
    // As above with LIMIT - 1 fingerprints, but buffers that cannot grow past them: the commit passes
    // the limit and then fails to grow them (a RangeError of SharedArrayBuffer's own, which the set
    // reports as out of memory), so the 4 GiB merge is never run; a refusal on the limit would name it.
    const n = LIMIT - 1;
    const index = new SharedArrayBuffer(4 * (2 ** 16 + 1));
    new Uint32Array(index)[2 ** 16] = n;
    const lo = grown(4 * n);
    const mid = grown(2 * n);
    const set = new FingerprintSet(1, { n, bits: 16, index, lo, mid });
    let thrown: unknown;
    try {
      set.commit(Uint32Array.of(0x00001234), Uint32Array.of(5));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StoreFullError);
    expect((thrown as Error).message).toMatch(/^out of memory: .* more for the fingerprints could not be allocated$/);
    expect((thrown as Error).message).not.toContain(String(LIMIT));
    expect([set.size, lo.byteLength, mid.byteLength]).toEqual([n, 4 * n, 2 * n]);
  });
});

/** A fingerprint as one exact number, for the oracle Set. */
const key = (h: number, l: number): bigint => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);

/**
 * The buffers of a set holding `pairs`, laid out by hand as the module header describes: sorted by
 * (hi, lo), cut into 2^bits buckets by the top `bits` bits of hi, the low 16 bits of hi and all of
 * lo stored, and per bucket the position of its first entry (the last entry: the count).
 */
function layout(pairs: readonly (readonly [number, number])[], bits: number) {
  const sorted = [...new Map(pairs.map(([h, l]) => [key(h, l), [h >>> 0, l >>> 0] as const])).entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map((e) => e[1]);
  const n = sorted.length;
  const lo = grown(4 * n, 4 * 2 ** 20);
  const mid = grown(2 * n, 2 * 2 ** 20);
  const index = new SharedArrayBuffer(4 * (2 ** bits + 1));
  const loA = new Uint32Array(lo);
  const midA = new Uint16Array(mid);
  const idx = new Uint32Array(index);
  sorted.forEach(([h, l], k) => {
    loA[k] = l;
    midA[k] = h % 2 ** 16;
  });
  // Entries per bucket, then the running sum: the first position of each bucket.
  const count = new Array<number>(2 ** bits + 1).fill(0);
  for (const [h] of sorted) {
    const b = Math.floor(h / 2 ** (32 - bits)) + 1;
    count[b] = (count[b] as number) + 1;
  }
  for (let b = 0, at = 0; b <= 2 ** bits; b++) {
    at += count[b] as number;
    idx[b] = at;
  }
  return { n, bits, index, lo, mid };
}

describe('hash compaction: views of the same buffers', () => {
  it('reads a set cut into 2^18 buckets (as for 2^21 to 2^22 fingerprints), and merges into it, as a Set of the fingerprints does', () => {
    const next = xorshift(99);
    const base: [number, number][] = [
      [0, 0],
      [0x3fff, 1],
      [0x4000, 1],
      [0xffffffff, 0xffffffff],
      [0xfffe0000, 3],
    ];
    for (let k = 0; k < 40; k++) {
      const h = next();
      const l = k % 4 === 0 ? 7 : next();
      // The same low 16 bits (so the same stored part) in the neighbour buckets, and the same hi with another lo.
      base.push([h, l], [(h ^ 0x10000) >>> 0, l], [(h ^ 0x4000) >>> 0, l], [h, (l + 2) >>> 0]);
    }
    const ref = new Set(base.map(([h, l]) => key(h, l)));
    const view = new FingerprintSet(1, layout(base, 18));
    const other = new FingerprintSet(1, view.buffers());
    const probes: [number, number][] = base.flatMap(([h, l]) => [
      [h, l] as [number, number],
      ...Array.from({ length: 32 }, (_, k) => [(h ^ (1 << k)) >>> 0, l] as [number, number]),
      [h, (l + 1) >>> 0],
    ]);
    const wrong = probes.filter(([h, l]) => view.hasFingerprint(h, l) !== ref.has(key(h, l)) || other.hasFingerprint(h, l) !== ref.has(key(h, l)));
    expect(wrong).toEqual([]);
    const sortedRef = [...ref].sort((a, b) => (a < b ? -1 : 1));
    const d = view.dump();
    expect(Array.from(d.hi, (h, k) => key(h, d.lo[k] as number))).toEqual(sortedRef);
    expect([view.size, other.size]).toEqual([ref.size, ref.size]);

    // A commit through the view: the stored entries are read under their 2^18 buckets and merged with
    // the new ones under the 2^16 buckets of this size (bucket bits follow the count).
    const batch: [number, number][] = [
      ...base.slice(0, 30),
      ...Array.from({ length: 50 }, () => [next(), next()] as [number, number]),
      [0x3fff, 2],
      [0x4000, 0],
    ];
    const before = ref.size;
    for (const [h, l] of batch) ref.add(key(h, l));
    expect(
      view.commit(
        Uint32Array.from(batch, (p) => p[0]),
        Uint32Array.from(batch, (p) => p[1]),
      ),
    ).toBe(ref.size - before);
    expect([view.size, view.bytes()]).toEqual([ref.size, 6 * ref.size + 4 * (2 ** 16 + 1)]);
    const after = view.dump();
    expect(Array.from(after.hi, (h, k) => key(h, after.lo[k] as number))).toEqual([...ref].sort((a, b) => (a < b ? -1 : 1)));
    const fresh = new FingerprintSet(1, view.buffers());
    const wrongAfter = [...probes, ...batch].filter(
      ([h, l]) => view.hasFingerprint(h, l) !== ref.has(key(h, l)) || fresh.hasFingerprint(h, l) !== ref.has(key(h, l)),
    );
    expect(wrongAfter).toEqual([]);
  });
});

describe('hash compaction: the dump', () => {
  it('is a copy: a later commit, which merges into the same memory, leaves it as it was, and writing into it changes nothing in the set', () => {
    const first: [number, number][] = [
      [0x80000000, 9],
      [0x80000000, 4],
      [0xffff0001, 1],
      [5, 6],
    ];
    const set = new FingerprintSet(1);
    set.commit(
      Uint32Array.from(first, (p) => p[0]),
      Uint32Array.from(first, (p) => p[1]),
    );
    const sorted = (ps: [number, number][]) => ps.map(([h, l]) => key(h, l)).sort((a, b) => (a < b ? -1 : 1));
    const pairs = (d: { hi: Uint32Array; lo: Uint32Array }) => Array.from(d.hi, (h, k) => key(h, d.lo[k] as number));
    const d = set.dump();
    expect(pairs(d)).toEqual(sorted(first));
    // New fingerprints that sort before every stored one: the merge moves each stored entry up.
    const more: [number, number][] = [
      [0, 1],
      [1, 0],
      [2, 2],
    ];
    set.commit(
      Uint32Array.from(more, (p) => p[0]),
      Uint32Array.from(more, (p) => p[1]),
    );
    expect(pairs(d)).toEqual(sorted(first));
    d.hi.fill(0);
    d.lo.fill(0);
    expect(pairs(set.dump())).toEqual(sorted([...first, ...more]));
    expect([...first, ...more].every(([h, l]) => set.hasFingerprint(h, l))).toBe(true);
  });
});

describe('hash compaction: the bucket cut at 2^20 fingerprints', () => {
  it('keeps 2^16 buckets up to 2^20 fingerprints and cuts 2^17 past it, merging into a set laid out by hand', () => {
    // Fingerprint k has hi = k 2^12 + 0x800 (ascending, 16 in each of the 2^16 buckets of its top 16
    // bits) and lo = 7k. Laid out as the header describes: the low 16 bits of hi and lo stored, the
    // first position of bucket b at 16 b; the set starts one short of 2^20, as a worker's view.
    const N = 2 ** 20;
    const hiOf = (k: number) => k * 2 ** 12 + 0x800;
    const loOf = (k: number) => 7 * k;
    const lo = grown(4 * (N - 1), 4 * (N + 2));
    const mid = grown(2 * (N - 1), 2 * (N + 2));
    const loA = new Uint32Array(lo);
    const midA = new Uint16Array(mid);
    for (let k = 0; k < N - 1; k++) {
      loA[k] = loOf(k);
      midA[k] = hiOf(k) % 2 ** 16;
    }
    const index = new SharedArrayBuffer(4 * (2 ** 16 + 1));
    const idx = new Uint32Array(index);
    for (let b = 0; b < 2 ** 16; b++) idx[b] = 16 * b;
    idx[2 ** 16] = N - 1;
    const set = new FingerprintSet(1, { n: N - 1, bits: 16, index, lo, mid });

    // 2^20 fingerprints: about 16 a bucket still fits 2^16 buckets (6 bytes each, 4 a bucket and one end).
    expect(set.commit(Uint32Array.of(hiOf(N - 1), hiOf(5)), Uint32Array.of(loOf(N - 1), loOf(5)))).toBe(1);
    expect([set.size, set.bytes()]).toEqual([N, 6 * N + 4 * (2 ** 16 + 1)]);
    // One more (between fingerprints 0 and 1, in bucket 0): past 16 a bucket, 2^17 buckets.
    const extra = [0x801, 3] as const;
    expect(set.commit(Uint32Array.of(extra[0]), Uint32Array.of(extra[1]))).toBe(1);
    expect([set.size, set.bytes()]).toEqual([N + 1, 6 * (N + 1) + 4 * (2 ** 17 + 1)]);

    // The dump: every fingerprint, in order, the extra one second.
    const d = set.dump();
    let wrong = d.hi.length === N + 1 && d.lo.length === N + 1 ? 0 : 1;
    for (let p = 0; p < N + 1; p++) {
      const [h, l] = p === 1 ? extra : [hiOf(p === 0 ? 0 : p - 1), loOf(p === 0 ? 0 : p - 1)];
      if (d.hi[p] !== h || d.lo[p] !== l) wrong++;
    }
    expect(wrong).toBe(0);
    // Lookups, in the set and in a fresh view cut into 2^17 buckets: fingerprints of every bucket of
    // 2^17 (the even and odd halves of the old buckets), and beside them what is not stored (hi + 1,
    // lo + 1, and the same stored part in the neighbouring buckets of 2^17).
    const view = new FingerprintSet(1, set.buffers());
    /** Whether (h, l) is among the fingerprints committed, from their formula. */
    const member = (h: number, l: number): boolean => {
      const k = (h - 0x800) / 2 ** 12;
      return (h === extra[0] && l === extra[1]) || (Number.isInteger(k) && k >= 0 && k < N && l === loOf(k));
    };
    const misread: [number, number][] = [];
    const probe = (h: number, l: number) => {
      if ((set.hasFingerprint(h, l) !== member(h, l) || view.hasFingerprint(h, l) !== member(h, l)) && misread.length < 10) misread.push([h, l]);
    };
    probe(extra[0], extra[1]);
    for (let k = 0; k < N; k += 3) {
      const h = hiOf(k);
      const l = loOf(k);
      probe(h, l);
      probe(h + 1, l);
      probe(h, l + 1);
      probe((h ^ 0x8000) >>> 0, l);
      probe((h ^ 0x10000) >>> 0, l);
    }
    expect(misread).toEqual([]);
  });
});
