/**
 * Hash compaction: the visited set as 64-bit fingerprints, at 6 bytes each plus an index. Why this
 * module exists: past a few hundred million states the packed states themselves no longer fit;
 * SPIN's -DHC and TLC keep a fingerprint per state instead and accept a small, computable
 * probability that two states share one (the second is then never explored).
 *
 * Layout: the fingerprints are kept sorted in one array, cut into 2^B buckets by their top B bits
 * (B >= 16), so the top 16 bits of each fingerprint are implied by its bucket and only the other 48
 * are stored (a 32-bit and a 16-bit array). A lookup reads the bucket's bounds from the index and
 * binary-searches about 8-16 entries. The array grows in place (growable shared memory), exactly
 * as far as needed, so memory per state stays near 6.5 bytes at every size. The set only changes
 * between breadth-first levels (`commit`), so threads read it without locks while a level runs.
 */
import { hashWords } from './stateStore.js';
import { type MemoryLimit, StoreFullError, allocate } from './storeMemory.js';

/** Seeds of the two 32-bit halves of a fingerprint (and of the bitstate hash functions). */
export const SEED_HI = 0x2545f491;
export const SEED_LO = 0x6c8e9cf5;

/** Largest number of fingerprints (the 32-bit array must fit in 4 GiB). */
const MAX_ENTRIES = 2 ** 30 - 1;

/** The shared buffers of a fingerprint set, for a worker's read-only view. */
export interface FingerprintBuffers {
  readonly n: number;
  readonly bits: number;
  readonly index: SharedArrayBuffer;
  readonly lo: SharedArrayBuffer;
  readonly mid: SharedArrayBuffer;
}

/** A shared buffer that grows in place (ES2024; Node 20 has it, the compiler's library here does not). */
type GrowableBuffer = SharedArrayBuffer & { grow(bytes: number): void };
const growableBuffer = (maxBytes: number): GrowableBuffer =>
  new (SharedArrayBuffer as unknown as new (bytes: number, opts: { maxByteLength: number }) => GrowableBuffer)(0, { maxByteLength: maxBytes });

/** Bucket bits for `n` fingerprints: about 16 per bucket, at least 2^16 buckets. */
function bucketBits(n: number): number {
  return Math.min(30, Math.max(16, Math.ceil(Math.log2(Math.max(1, n) / 16))));
}

/** Sorts fingerprint pairs (hi, lo) ascending, in place: LSD radix sort on 16-bit digits. */
export function sortFingerprints(hi: Uint32Array, lo: Uint32Array): void {
  const m = hi.length;
  if (m < 2) return;
  let aHi: Uint32Array = hi;
  let aLo: Uint32Array = lo;
  let bHi: Uint32Array = new Uint32Array(m);
  let bLo: Uint32Array = new Uint32Array(m);
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const src = pass < 2 ? aLo : aHi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    // (Not `(count[k] as number)++`: Stryker prints that back without its parentheses, which does not parse.)
    for (let i = 0; i < m; i++) {
      const k = (((src[i] as number) >>> shift) & 0xffff) + 1;
      count[k] = (count[k] as number) + 1;
    }
    for (let d = 0; d < 65536; d++) count[d + 1] = (count[d + 1] as number) + (count[d] as number);
    for (let i = 0; i < m; i++) {
      const d = ((src[i] as number) >>> shift) & 0xffff;
      const at = count[d] as number;
      count[d] = at + 1;
      bHi[at] = aHi[i] as number;
      bLo[at] = aLo[i] as number;
    }
    [aHi, bHi] = [bHi, aHi];
    [aLo, bLo] = [bLo, aLo];
  }
  // Four passes: the sorted data is back in the caller's arrays.
}

export class FingerprintSet {
  /** Fingerprints stored. */
  private n = 0;
  private bits: number;
  private index: Uint32Array;
  private loBuf: GrowableBuffer;
  private midBuf: GrowableBuffer;
  private lo: Uint32Array;
  private mid: Uint16Array;
  private readonly words: number;

  /** The memory past which the set does not grow (`StoreFullError`). */
  private readonly memoryLimit: MemoryLimit | undefined;

  /** An empty set of the fingerprints of states of `words` words, or a view of another thread's (`from`); `memoryLimit` as `StateStore`'s. */
  constructor(words: number, from?: FingerprintBuffers, memoryLimit?: MemoryLimit) {
    this.words = words;
    this.memoryLimit = memoryLimit;
    if (from) {
      this.bits = from.bits;
      this.index = new Uint32Array(from.index);
      this.loBuf = from.lo as GrowableBuffer;
      this.midBuf = from.mid as GrowableBuffer;
      this.n = from.n;
      this.lo = new Uint32Array(this.loBuf, 0, this.n);
      this.mid = new Uint16Array(this.midBuf, 0, this.n);
      return;
    }
    this.bits = bucketBits(0);
    this.index = new Uint32Array(new SharedArrayBuffer(4 * ((1 << this.bits) + 1)));
    this.loBuf = growableBuffer(4 * MAX_ENTRIES);
    this.midBuf = growableBuffer(2 * MAX_ENTRIES);
    this.lo = new Uint32Array(this.loBuf, 0, 0);
    this.mid = new Uint16Array(this.midBuf, 0, 0);
  }

  /** Number of fingerprints stored. */
  get size(): number {
    return this.n;
  }

  /** The shared buffers (a worker's view is valid until the next `commit`). */
  buffers(): FingerprintBuffers {
    return { n: this.n, bits: this.bits, index: this.index.buffer as SharedArrayBuffer, lo: this.loBuf, mid: this.midBuf };
  }

  /** Bytes held: 6 per fingerprint and 4 per bucket. */
  bytes(): number {
    return this.loBuf.byteLength + this.midBuf.byteLength + this.index.byteLength;
  }

  /** The fingerprint of a packed state: [hi, lo]. */
  fingerprint(w: Uint32Array, off = 0): [number, number] {
    return [hashWords(w, off, this.words, SEED_HI), hashWords(w, off, this.words, SEED_LO)];
  }

  /** Whether the fingerprint of the packed state `w` is stored. */
  has(w: Uint32Array): boolean {
    return this.hasFingerprint(hashWords(w, 0, this.words, SEED_HI), hashWords(w, 0, this.words, SEED_LO));
  }

  hasFingerprint(h: number, l: number): boolean {
    const b = this.bits === 32 ? h : h >>> (32 - this.bits);
    let a = this.index[b] as number;
    let z = this.index[b + 1] as number;
    const m = h & 0xffff;
    const { lo, mid } = this;
    while (a < z) {
      const c = (a + z) >>> 1;
      const cm = mid[c] as number;
      const cl = lo[c] as number;
      if (cm === m && cl === l) return true;
      if (cm < m || (cm === m && cl < l)) a = c + 1;
      else z = c;
    }
    return false;
  }

  /**
   * Adds fingerprints (pairs hi, lo; sorted here, in place) and returns how many were new. Not
   * while other threads read the set.
   */
  commit(hi: Uint32Array, lo: Uint32Array): number {
    sortFingerprints(hi, lo);
    let m = 0;
    for (let i = 0; i < hi.length; i++) {
      const h = hi[i] as number;
      const l = lo[i] as number;
      if (i > 0 && h === hi[m - 1] && l === lo[m - 1]) continue;
      if (this.hasFingerprint(h, l)) continue;
      hi[m] = h;
      lo[m] = l;
      m++;
    }
    if (m === 0) return 0;
    const total = this.n + m;
    if (total > MAX_ENTRIES) throw new StoreFullError('entries', `it holds at most ${MAX_ENTRIES} fingerprints`);
    const bits = bucketBits(total);
    // Nothing is merged before all the memory is had: the set stays as it was when it cannot grow.
    const index = allocate(6 * m + 4 * ((1 << bits) + 1), 'the fingerprints', this.memoryLimit, () => {
      this.loBuf.grow(4 * total);
      this.midBuf.grow(2 * total);
      return new Uint32Array(new SharedArrayBuffer(4 * ((1 << bits) + 1)));
    });
    this.mergeBackward(hi.subarray(0, m), lo.subarray(0, m), total, index, bits);
    return m;
  }

  /** Merges `m` sorted new fingerprints into the stored ones, from the end, rebuilding the index into `index` (of `bits` bucket bits, for `total`). */
  private mergeBackward(nHi: Uint32Array, nLo: Uint32Array, total: number, index: Uint32Array, bits: number): void {
    const oldBits = this.bits;
    const oldIndex = this.index;
    index.fill(0xffffffff);
    index[1 << bits] = total;
    const lo = new Uint32Array(this.loBuf, 0, total);
    const mid = new Uint16Array(this.midBuf, 0, total);
    const lowMask = oldBits >= 32 ? 0 : 2 ** (32 - oldBits) - 1;
    const shift = 32 - bits;
    let i = this.n - 1;
    let j = nHi.length - 1;
    let ob = (1 << oldBits) - 1;
    for (let w = total - 1; w >= 0; w--) {
      while (i >= 0 && i < (oldIndex[ob] as number)) ob--;
      const oHi = i >= 0 ? (ob * (lowMask + 1) + ((mid[i] as number) & lowMask)) >>> 0 : -1;
      const takeOld = i >= 0 && (j < 0 || oHi > (nHi[j] as number) || (oHi === nHi[j] && (lo[i] as number) > (nLo[j] as number)));
      let h: number;
      if (takeOld) {
        h = oHi;
        lo[w] = lo[i] as number;
        mid[w] = mid[i] as number;
        i--;
      } else {
        h = nHi[j] as number;
        lo[w] = nLo[j] as number;
        mid[w] = h & 0xffff;
        j--;
      }
      index[shift === 0 ? h : h >>> shift] = w;
    }
    for (let b = (1 << bits) - 1; b >= 0; b--) if (index[b] === 0xffffffff) index[b] = index[b + 1] as number;
    this.index = index;
    this.bits = bits;
    this.lo = lo;
    this.mid = mid;
    this.n = total;
  }

  /** The stored fingerprints as (hi, lo) pairs, for a checkpoint. */
  dump(): { hi: Uint32Array; lo: Uint32Array } {
    const hi = new Uint32Array(this.n);
    const lowMask = this.bits >= 32 ? 0 : 2 ** (32 - this.bits) - 1;
    for (let b = 0; b < 1 << this.bits; b++) {
      for (let k = this.index[b] as number; k < (this.index[b + 1] as number); k++) hi[k] = (b * (lowMask + 1) + ((this.mid[k] as number) & lowMask)) >>> 0;
    }
    return { hi, lo: this.lo.slice() };
  }

  /** Probability that some state was never explored because its fingerprint equals another's (birthday bound). */
  omissionProbability(states: number): number {
    return Math.min(1, (states * (states - 1)) / 2 ** 65);
  }
}
