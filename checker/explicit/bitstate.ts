/**
 * Bitstate hashing (Holzmann's supertrace): the visited set as a fixed array of bits, three bits
 * set per state. Why this module exists: when even fingerprints do not fit, a fixed memory budget
 * still explores most of a state space; a state whose three bits are all set already (by others)
 * is taken as visited and never explored. The set only changes between breadth-first levels
 * (`commit`), so threads read it without locks while a level runs. The coverage estimate is the
 * expected fraction of lookups that found a new state's bits already set (the Bloom filter's false
 * positive rate when each state was added, summed: the expected number of states lost).
 */
import { type MemoryLimit, sharedBuffer } from './storeMemory.js';
import { SEED_HI, SEED_LO } from './fingerprintSet.js';
import { hashWords } from './stateStore.js';

/** Bits set per state. */
const K = 3;
export const SEED_A = 0x1b873593;
export const SEED_B = 0x85ebca6b;

/** The shared buffer of a bitstate set, for a worker's view. */
export interface BitstateBuffers {
  readonly bits: SharedArrayBuffer;
}

export class BitstateSet {
  private readonly arr: Uint32Array;
  /** log2 of the number of bits. */
  private readonly logBits: number;
  private readonly words: number;
  private readonly seedShift: number;
  /** Bit positions of the state being looked up (up to 2^35: kept as doubles). */
  private readonly pos = new Float64Array(K);
  /** States added, and the expected number of them that were lost to full bits. */
  private added = 0;
  private expectedLost = 0;

  /**
   * A set of the largest power-of-two number of bits that fits in `memoryBytes` (at most 4 GiB).
   * `seed` diversifies the hash functions (swarm shards). `StoreFullError` when the bits would pass
   * `memoryLimit` or cannot be allocated.
   */
  constructor(words: number, memoryBytes: number, seed = 0, from?: BitstateBuffers, memoryLimit?: MemoryLimit) {
    this.words = words;
    this.seedShift = seed;
    const bytes = from ? from.bits.byteLength : 2 ** Math.min(32, Math.max(3, Math.floor(Math.log2(memoryBytes))));
    this.logBits = Math.log2(bytes * 8);
    this.arr = new Uint32Array(from ? from.bits : sharedBuffer(bytes, 'the bit array', memoryLimit));
  }

  buffers(): BitstateBuffers {
    return { bits: this.arr.buffer as SharedArrayBuffer };
  }

  bytes(): number {
    return this.arr.byteLength;
  }

  /** Number of bits. */
  get size(): number {
    return 2 ** this.logBits;
  }

  /** Computes the bit positions of a packed state into `this.pos`. */
  private positions(w: Uint32Array): void {
    const W = this.words;
    const s = this.seedShift;
    const a = hashWords(w, 0, W, SEED_HI ^ s);
    const b = hashWords(w, 0, W, SEED_LO ^ s) | 1;
    const c = hashWords(w, 0, W, SEED_A ^ s);
    const d = hashWords(w, 0, W, SEED_B ^ s);
    const high = this.logBits > 32 ? 2 ** (this.logBits - 32) - 1 : 0;
    const lowMask = this.logBits >= 32 ? 0xffffffff : 2 ** this.logBits - 1;
    for (let i = 0; i < K; i++) {
      // `>>> 0` last: at 2^32 bits and more the mask is all ones, and `&` alone would give a negative position for half the states.
      const low = ((a + Math.imul(i, b)) & lowMask) >>> 0;
      const up = ((c + Math.imul(i, d)) >>> 0) & high;
      this.pos[i] = up * 2 ** 32 + low;
    }
  }

  /** Whether all the state's bits are set. */
  has(w: Uint32Array): boolean {
    this.positions(w);
    const { arr, pos } = this;
    for (let i = 0; i < K; i++) {
      const bit = pos[i] as number;
      if (((arr[Math.floor(bit / 32)] as number) & (1 << (bit % 32))) === 0) return false;
    }
    return true;
  }

  /** Sets the bits of every state of `states` (packed, `words` each). Not while other threads read. */
  commit(states: Iterable<Uint32Array>): void {
    const { arr, pos } = this;
    const W = this.words;
    const one = new Uint32Array(W);
    for (const slice of states) {
      for (let off = 0; off < slice.length; off += W) {
        one.set(slice.subarray(off, off + W));
        this.expectedLost += this.falsePositiveRate();
        this.added++;
        this.positions(one);
        for (let i = 0; i < K; i++) {
          const bit = pos[i] as number;
          const word = Math.floor(bit / 32);
          arr[word] = (arr[word] as number) | (1 << (bit % 32));
        }
      }
    }
  }

  /** Probability that a new state's bits are all set already, with the states added so far. */
  private falsePositiveRate(): number {
    return (1 - Math.exp((-K * this.added) / this.size)) ** K;
  }

  /** Expected fraction of the reachable states explored: states added / (added + expected losses). */
  coverage(): number {
    return this.added === 0 ? 1 : this.added / (this.added + this.expectedLost);
  }

  /** States added (for checkpoints) and the expected losses. */
  counters(): { added: number; expectedLost: number } {
    return { added: this.added, expectedLost: this.expectedLost };
  }

  restoreCounters(c: { added: number; expectedLost: number }): void {
    this.added = c.added;
    this.expectedLost = c.expectedLost;
  }

  /** The bit array, for a checkpoint. */
  raw(): Uint32Array {
    return this.arr;
  }
}
