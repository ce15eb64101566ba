/**
 * The visited set of the explicit engine. Why this module exists: millions of states must be kept
 * without a JavaScript object per state, and several threads must insert into the same set. States
 * are packed into 32-bit words in chunks of shared memory (ids are dense, in discovery order, so a
 * BFS level is a range of ids), with an open-addressing hash table of ids. Parent ids and the rule
 * instance that produced each state are kept only when asked for (depth-first search and the
 * liveness graph read them); breadth-first traces are rebuilt level by level instead (traces.ts).
 *
 * Concurrency: `insertShared` may run in several threads at once. A thread claims an empty slot by
 * compare-and-swap (marking it busy), takes the next id, writes the words, then publishes the id;
 * a thread meeting a busy slot waits for the id. Ids are taken from the shared count a block at a
 * time (`ID_BLOCK`), so that the threads do not fight over the count's cache line at every new
 * state and each writes its states into memory of its own; at the end of a round every thread
 * gives back what is left of its block (`releaseIds`) and the coordinator moves the last states
 * into those holes (`settle`), so the ids are dense again. Growing (more chunks, a larger table)
 * happens only while no thread inserts (`reserve`, called between rounds of work).
 *
 * Collapse (`collapse`, like SPIN's COLLAPSE): a state of three or more words is kept as two, the id
 * of its first words in a second store of their own (the head store; states share heads, e.g. 328 k
 * heads for 3.8 M states of fence-migrate) and its last word. The ids, hashes and table of this
 * store are then those of the two-word form; `read`, `slices` and `evict` give the whole state
 * back. The head store's ids never move (it is not `settle`d: a block given back stays unused).
 *
 * Once nothing more is inserted, the packed states can be moved to a temporary file (`evict`):
 * the liveness analysis reads them only in one pass and to print a lasso, and their 16 bytes a
 * state (fence-migrate) are then free for its own arrays.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWords } from './fileWrites.js';
import { type MemoryLimit, StoreFullError, allocate, sharedBuffer } from './storeMemory.js';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
const NO_PARENT = 0xffffffff;
/** A slot being filled: its id is not published yet. */
const BUSY = -1;
/** Ids a thread takes from the shared count at a time in `insertShared`. */
export const ID_BLOCK = 64;
/** Ids a thread claims at a time when the threads hash the stored states together (`hashShared`). */
const REHASH_CHUNK = 16384;
/** log2 of the regions `putIdsByRegion` sorts a batch of ids into. */
const REGION_BITS = 8;
const REGIONS = 1 << REGION_BITS;
/** Ids `putIdsByRegion` and `fillPart` sort at a time (16 bytes each while they run). */
const REGION_BATCH = 1 << 19;
/** Tables smaller than this (in slots: 4 MiB) fit in the cache: `putIds` fills them in id order. */
const REGION_MIN_TABLE = 1 << 20;
/** Blocks given back between two `settle`s at most (a thread gives back one a round). */
const MAX_RELEASED = 256;
/** The table grows past this load (ids of 4 bytes: 5.3 to 10.7 bytes of table per state). */
const MAX_LOAD = 0.75;
/** Load a table may reach during a round of several threads (`reserve`). */
const RESERVE_LOAD = 0.85;

/** The shared buffers of a store, to attach another thread's view to the same store. */
export interface StoreBuffers {
  readonly words: number;
  readonly chunks: readonly SharedArrayBuffer[];
  readonly table: SharedArrayBuffer;
  /** Int32 [count, blocks given back, then (first, end) of each block given back]. */
  readonly meta: SharedArrayBuffer;
  /** A collapsing store's head store (the first `words - 1` words of each state). */
  readonly head?: StoreBuffers;
}

/** Options of a `StateStore`. */
export interface StoreOptions {
  /** Keep the parent and the producing rule instance (or init index) of each state. */
  readonly parents?: boolean;
  /** The largest rule instance or init index kept with `parents`. */
  readonly maxVia?: number;
  /** log2 of the first table size. */
  readonly tableBits?: number;
  /** Another thread's store to view (`buffers()` of it). */
  readonly buffers?: StoreBuffers;
  /** Keep states of three or more words as two: the id of their first words (interned) and the last word. */
  readonly collapse?: boolean;
  /** False for a head store: ids given back are not reused, so that ids never move. Default true. */
  readonly dense?: boolean;
  /** The most table slots the store may grow to (default 2^30; tests set fewer). */
  readonly maxTableSlots?: number;
  /** The memory past which the store does not grow (`StoreFullError`; storeMemory.ts). None: no limit. */
  readonly memoryLimit?: MemoryLimit;
  /** What the states are, in the messages of `StoreFullError` (default "the states"). */
  readonly label?: string;
}

/** The most slots of an exact store's table: 2^30 (ids take 30 bits of a slot), about 805 million states. */
const MAX_TABLE_SLOTS = 2 ** 30;

/**
 * A counting sort of hashes (with their ids) by the region of a table of `size` slots their home
 * slot falls into (`REGIONS` regions, by the high bits of the home slot). Within a region the
 * order given is kept. Its arrays are reused from batch to batch.
 */
class RegionSort {
  readonly hashes: Int32Array;
  readonly ids: Int32Array;
  private readonly start = new Int32Array(REGIONS + 1);
  private readonly mask: number;
  private readonly shift: number;

  constructor(batch: number, size: number) {
    this.hashes = new Int32Array(batch);
    this.ids = new Int32Array(batch);
    this.mask = size - 1;
    this.shift = Math.log2(size) - REGION_BITS;
  }

  /** Sorts the first `k` of `hs` and `ids` into `this.hashes` and `this.ids`. */
  sort(hs: Int32Array, ids: Int32Array, k: number): void {
    const { start, mask, shift } = this;
    start.fill(0);
    for (let i = 0; i < k; i++) {
      const r = (((hs[i] as number) & mask) >>> shift) + 1;
      start[r] = (start[r] as number) + 1;
    }
    for (let r = 0; r < REGIONS; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number);
    for (let i = 0; i < k; i++) {
      const h = hs[i] as number;
      const r = (h & mask) >>> shift;
      const at = start[r] as number;
      start[r] = at + 1;
      this.hashes[at] = h;
      this.ids[at] = ids[i] as number;
    }
  }
}

/**
 * Puts the entry of state `id` (its tag, the high bits of its hash `h`, and `id + 1`) at the first
 * free slot of `tab` (2^`bits` slots) from its home, round the table's end: how one thread fills a
 * table no other thread writes.
 */
function putEntry(tab: Int32Array, bits: number, h: number, id: number): void {
  const mask = tab.length - 1;
  let slot = h & mask;
  while ((tab[slot] as number) !== 0) slot = (slot + 1) & mask;
  tab[slot] = ((h >>> bits) << bits) | (id + 1);
}

/** Hash of `words` 32-bit words at `w[off..]`. Fixed constants: stable across runs and threads. */
export function hashWords(w: Uint32Array, off: number, words: number, seed = 0x9e3779b9): number {
  let h = seed ^ words;
  for (let i = 0; i < words; i++) {
    let k = w[off + i] as number;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class StateStore {
  /** Words of a packed state (as given to `insert` and returned by `read`). */
  readonly words: number;
  /** Words each state takes in the chunks: `words`, or 2 when collapsing. */
  private readonly sw: number;
  /** The head store of a collapsing store (null otherwise, and once evicted). */
  private head: StateStore | null;
  /** The two-word form of a state being looked up or inserted (collapsing stores; one per view). */
  private readonly form = new Uint32Array(2);
  private readonly dense: boolean;
  private readonly maxSlots: number;
  private readonly memoryLimit: MemoryLimit | undefined;
  private readonly label: string;
  private chunks: Uint32Array[] = [];
  private chunkBuffers: SharedArrayBuffer[] = [];
  private table: Int32Array;
  private tableMask: number;
  /** log2 of the table size: an id (plus one) takes the low `tableBits` bits of a slot, hash bits the rest. */
  private tableBits: number;
  private readonly meta: Int32Array;
  private readonly parents: Uint32Array[] | null;
  private readonly vias: (Uint32Array | Uint16Array)[] | null;
  private readonly wideVia: boolean;
  private indexDropped = false;
  /** After `evict`: the file holding the packed states (`dir` when it could not be unlinked at once), and a state's buffer. */
  private evicted: { fd: number; dir: string | null; one: Uint32Array } | null = null;
  /** This view's block of ids for `insertShared`: the next id to use, and the end of the block. */
  private blockNext = 0;
  private blockEnd = 0;
  /** `touch`'s ids of the states met by each probe. */
  private touchIds = new Int32Array(0);
  /** What `touchCollapsed` read (kept so that the reads are not optimised away). */
  touched = 0;
  /** Set by `touchCollapsed` when the head store could not grow. */
  headFull: StoreFullError | null = null;

  /** A store of states of `words` words each (see `StoreOptions`). */
  constructor(words: number, opts: StoreOptions = {}) {
    this.words = words;
    this.dense = opts.dense ?? true;
    this.maxSlots = opts.maxTableSlots ?? MAX_TABLE_SLOTS;
    this.memoryLimit = opts.memoryLimit;
    this.label = opts.label ?? 'the states';
    const collapse = opts.buffers ? opts.buffers.head !== undefined : (opts.collapse ?? false) && words >= 3;
    this.sw = collapse ? 2 : words;
    this.head = null;
    if (collapse) {
      const hb = opts.buffers?.head;
      const limit = opts.memoryLimit !== undefined ? { memoryLimit: opts.memoryLimit } : {};
      const label = `the heads of ${this.label}`;
      this.head = hb
        ? new StateStore(words - 1, { buffers: hb, dense: false, label })
        : new StateStore(words - 1, { dense: false, tableBits: 10, label, ...limit });
    }
    this.wideVia = (opts.maxVia ?? 0) >= 0xffff;
    this.parents = opts.parents ? [] : null;
    this.vias = opts.parents ? [] : null;
    if (opts.buffers) {
      this.meta = new Int32Array(opts.buffers.meta);
      this.table = new Int32Array(opts.buffers.table);
      this.tableMask = this.table.length - 1;
      this.tableBits = Math.log2(this.table.length);
      this.attach(opts.buffers);
      return;
    }
    this.meta = new Int32Array(new SharedArrayBuffer(4 * (2 + 2 * MAX_RELEASED)));
    this.tableBits = opts.tableBits ?? 16;
    this.table = new Int32Array(sharedBuffer(4 << this.tableBits, `the table of ${this.label}`, this.memoryLimit));
    this.tableMask = this.table.length - 1;
  }

  /**
   * Number of states stored. While threads insert with `insertShared`, it also counts the ids they
   * have taken and not used yet (exact again after `settle`).
   */
  get count(): number {
    return this.meta[0] as number;
  }

  /** Heads stored by a collapsed store (0 for a plain one; like `count`, it includes ids taken by threads and not used yet). */
  get headCount(): number {
    return this.head ? this.head.count : 0;
  }

  /** Whether states are kept collapsed (the option asked for, and three words or more). */
  get collapsing(): boolean {
    return this.sw !== this.words;
  }

  /** States that fit without another chunk. */
  get capacity(): number {
    return this.chunks.length * CHUNK;
  }

  /** The shared buffers (for a worker thread's view of this store). */
  buffers(): StoreBuffers {
    const b = { words: this.words, chunks: this.chunkBuffers, table: this.table.buffer as SharedArrayBuffer, meta: this.meta.buffer as SharedArrayBuffer };
    return this.head ? { ...b, head: this.head.buffers() } : b;
  }

  /** Takes the chunks and the table of `b` (after the owner grew them). */
  attach(b: StoreBuffers): void {
    if (this.head && b.head) this.head.attach(b.head);
    for (let i = this.chunks.length; i < b.chunks.length; i++) {
      const buf = b.chunks[i] as SharedArrayBuffer;
      this.chunkBuffers.push(buf);
      this.chunks.push(new Uint32Array(buf));
    }
    if (b.table !== this.table.buffer) {
      this.table = new Int32Array(b.table);
      this.tableMask = this.table.length - 1;
      this.tableBits = Math.log2(this.table.length);
    }
  }

  /**
   * Makes room for `extra` more states (chunks and table) so that inserts, from any thread, need no
   * growing. Returns true when buffers changed (other threads must `attach` again).
   */
  reserve(extra: number): boolean {
    let changed = this.reserveChunks(extra);
    const size = this.tableSizeFor(extra);
    if (size !== null) {
      this.rehash(size);
      changed = true;
    }
    return changed;
  }

  /**
   * Adds chunks until `extra` more states fit, and makes room for `headExtra` more heads in a
   * collapsed store's head store (default `extra`: one for each new state). Returns true when it
   * added any.
   */
  reserveChunks(extra: number, headExtra = extra): boolean {
    let changed = this.head ? this.head.reserve(headExtra) : false;
    while (this.capacity < this.count + extra) {
      this.addChunk();
      changed = true;
    }
    return changed;
  }

  /**
   * The size of table that `extra` more states need, or null when the table has room for them. A
   * round may fill the table a little past the load at which one thread grows it (it grows as soon
   * as the round ends and one thread inserts again); this keeps the table the size one thread
   * would have.
   */
  tableSizeFor(extra: number): number | null {
    const need = this.count + extra;
    if (need <= this.table.length * RESERVE_LOAD) return null;
    let size = this.table.length * 2;
    while (need > size * MAX_LOAD) size *= 2;
    return size;
  }

  /**
   * An empty table of `size` slots, for the threads to fill together (`hashShared`, `fillPart`,
   * `fillOverflow`, then `useTable`); StoreFullError past the store's most slots, past the memory
   * limit, or when it cannot be allocated.
   */
  newTable(size: number): SharedArrayBuffer {
    if (size > this.maxSlots) throw new StoreFullError('slots', `its table has at most ${this.maxSlots} slots`);
    return sharedBuffer(size * 4, `the table of ${this.label}`, this.memoryLimit);
  }

  /**
   * The first step of a fill by several threads (none inserting): the hash of every stored state,
   * written at its id into the store's present table, which the new one replaces and which no
   * thread reads until then (it has more slots than the store has states, so the hashes take no
   * memory of their own). Ids are claimed `REHASH_CHUNK` at a time from `ctrl[at]`, so a thread
   * that starts late takes what is left.
   */
  hashShared(ctrl: Uint32Array, at: number): void {
    const n = this.count;
    const W = this.sw;
    const out = this.table;
    for (;;) {
      const a = Atomics.add(ctrl, at, REHASH_CHUNK);
      if (a >= n) return;
      const b = Math.min(n, a + REHASH_CHUNK);
      for (let id = a; id < b; id++) out[id] = hashWords(this.chunks[id >>> CHUNK_BITS] as Uint32Array, (id & MASK) * W, W);
    }
  }

  /**
   * The second step, once every thread has done the first: part `part` of `parts` (one a thread)
   * puts, into its own share of the slots of the new table `t`, the ids whose home slot lies in
   * that share, reading their hashes from the first step. No other thread writes there, so the
   * writes are plain ones: a compare-and-swap on every put made a third of the time two threads
   * took to fill a large table, and the threads' writes met in the same cache lines. An id whose
   * probe run reaches the end of the share is not put: it is returned, for `fillOverflow` (rare:
   * only where a run of full slots reaches the share's last slot; none at 3 M and 45 M states in
   * the bench). A large table's share is put by region, as `putIdsByRegion` does for one thread.
   */
  fillPart(t: SharedArrayBuffer, part: number, parts: number): number[] {
    const tab = new Int32Array(t);
    const size = tab.length;
    const lo = Math.floor((size * part) / parts);
    const hi = Math.floor((size * (part + 1)) / parts);
    const mask = size - 1;
    const hashes = this.table;
    const n = this.count;
    const overflow: number[] = [];
    const batch = Math.max(1, Math.min(REGION_BATCH, n));
    const hs = new Int32Array(batch);
    const ids = new Int32Array(batch);
    const sorted = size >= REGION_MIN_TABLE ? new RegionSort(batch, size) : null;
    let k = 0;
    const flush = (): void => {
      if (sorted) sorted.sort(hs, ids, k);
      this.putRange(tab, sorted ? sorted.hashes : hs, sorted ? sorted.ids : ids, k, hi, overflow);
      k = 0;
    };
    for (let id = 0; id < n; id++) {
      const h = hashes[id] as number;
      const home = h & mask;
      if (home < lo || home >= hi) continue;
      hs[k] = h;
      ids[k] = id;
      if (++k === batch) flush();
    }
    if (k > 0) flush();
    return overflow;
  }

  /**
   * The last step, in one thread once every part is put: the ids `fillPart` returned, each put at
   * the first free slot from its home (past the end of its part, into the next one, or round to
   * the table's start). Every slot a probe passes was full before, and stays full: each id is
   * found from its home by the same probing as the ids one thread puts.
   */
  fillOverflow(t: SharedArrayBuffer, overflow: readonly number[]): void {
    const tab = new Int32Array(t);
    const bits = Math.log2(tab.length);
    for (const id of overflow) putEntry(tab, bits, (this.table[id] as number) >>> 0, id);
  }

  /** Puts `k` ids with their hashes (homes below `hi`), in the order given, at free slots below `hi`; an id whose probe run reaches `hi` goes to `overflow`. */
  private putRange(tab: Int32Array, hs: Int32Array, ids: Int32Array, k: number, hi: number, overflow: number[]): void {
    const mask = tab.length - 1;
    const bits = Math.log2(tab.length);
    for (let i = 0; i < k; i++) {
      const h = (hs[i] as number) >>> 0;
      const id = ids[i] as number;
      let slot = h & mask;
      while (slot < hi && (tab[slot] as number) !== 0) slot++;
      if (slot === hi) overflow.push(id);
      else tab[slot] = ((h >>> bits) << bits) | (id + 1);
    }
  }

  /**
   * Puts the ids `from .. to-1` into the table `tab` at their states' hashes (one thread). A large
   * table is filled by region (`putIdsByRegion`).
   */
  private putIds(tab: Int32Array, from: number, to: number): void {
    if (tab.length >= REGION_MIN_TABLE && to - from >= REGION_BATCH / 8) {
      this.putIdsByRegion(tab, from, to);
      return;
    }
    const bits = Math.log2(tab.length);
    const W = this.sw;
    for (let id = from; id < to; id++) putEntry(tab, bits, hashWords(this.chunks[id >>> CHUNK_BITS] as Uint32Array, (id & MASK) * W, W), id);
  }

  /**
   * `putIds` a batch of ids at a time: the batch's hashes are computed in id order (reading the
   * states in the order they are stored), sorted by the region of the table they fall into
   * (`RegionSort`), and then put region by region, so that the writes of each region land in a
   * part of the table small enough to stay in the cache. Put in id order instead, every write is a
   * cache miss (and a TLB miss) into a table of tens of megabytes: 150 ns a state on the bench
   * machine against about 90 this way (a table of 2^24 slots, 4 M states). Within a region the ids
   * keep their order; where a probe run crosses into the next region the slots may differ from
   * those of id order, but the table holds the same entries, each found from its home slot by the
   * same probing. The batch's arrays (16 bytes an id, 8 MiB) live only while it runs.
   */
  private putIdsByRegion(tab: Int32Array, from: number, to: number): void {
    const bits = Math.log2(tab.length);
    const W = this.sw;
    const n = Math.min(REGION_BATCH, to - from);
    const hashes = new Int32Array(n);
    const ids = new Int32Array(n);
    const sorted = new RegionSort(n, tab.length);
    for (let base = from; base < to; base += n) {
      const k = Math.min(n, to - base);
      for (let i = 0; i < k; i++) {
        const id = base + i;
        hashes[i] = hashWords(this.chunks[id >>> CHUNK_BITS] as Uint32Array, (id & MASK) * W, W);
        ids[i] = id;
      }
      sorted.sort(hashes, ids, k);
      for (let i = 0; i < k; i++) putEntry(tab, bits, (sorted.hashes[i] as number) >>> 0, sorted.ids[i] as number);
    }
  }

  /** Takes the table the threads filled (`hashShared`, `fillPart`, `fillOverflow`) in place of the old one. */
  useTable(t: SharedArrayBuffer): void {
    this.table = new Int32Array(t);
    this.tableMask = this.table.length - 1;
    this.tableBits = Math.log2(this.table.length);
  }

  /** Adds room for `CHUNK` more states (every array of the chunk allocated before any is kept, so a failure leaves the store as it was). */
  private addChunk(): void {
    const bytes = CHUNK * (this.sw * 4 + (this.parents ? (this.wideVia ? 8 : 6) : 0));
    const [buf, parents, vias] = allocate(bytes, this.label, this.memoryLimit, () => {
      const b = new SharedArrayBuffer(CHUNK * this.sw * 4);
      if (!this.parents) return [b, null, null] as const;
      return [b, new Uint32Array(CHUNK), this.wideVia ? new Uint32Array(CHUNK) : new Uint16Array(CHUNK)] as const;
    });
    this.chunkBuffers.push(buf);
    this.chunks.push(new Uint32Array(buf));
    if (parents && vias && this.parents && this.vias) {
      this.parents.push(parents);
      this.vias.push(vias);
    }
  }

  /** Hash of a state's stored form held in `w[off..]` (its packed words, or its two-word form when collapsing). */
  hash(w: Uint32Array, off: number): number {
    return hashWords(w, off, this.sw);
  }

  /** The two-word form of the packed state at `w[off..]`, its head inserted (`shared`: by `insertShared`). */
  private collapsed(head: StateStore, w: Uint32Array, off: number, shared: boolean): Uint32Array {
    const r = shared ? head.insertShared(w, off) : head.insert(w, off);
    return this.formOf(r >= 0 ? r : -r - 1, w, off);
  }

  /** The two-word form of the packed state at `w[off..]` whose head has id `hid`. */
  private formOf(hid: number, w: Uint32Array, off: number): Uint32Array {
    const f = this.form;
    f[0] = hid;
    f[1] = w[off + this.words - 1] as number;
    return f;
  }

  private equalAt(id: number, w: Uint32Array, off: number): boolean {
    const c = this.chunks[id >>> CHUNK_BITS] as Uint32Array;
    const base = (id & MASK) * this.sw;
    for (let i = 0; i < this.sw; i++) if (c[base + i] !== w[off + i]) return false;
    return true;
  }

  private write(id: number, w: Uint32Array, off: number, parent: number, via: number): void {
    const ci = id >>> CHUNK_BITS;
    const c = this.chunks[ci] as Uint32Array;
    const base = (id & MASK) * this.sw;
    for (let i = 0; i < this.sw; i++) c[base + i] = w[off + i] as number;
    if (this.parents && this.vias) {
      (this.parents[ci] as Uint32Array)[id & MASK] = parent < 0 ? NO_PARENT : parent;
      (this.vias[ci] as Uint32Array)[id & MASK] = via;
    }
  }

  /**
   * Reads, and changes nothing, what inserting the `n` packed states held one after another in
   * `w` will read: the table slot of each, then the first word of the state each one's probe
   * meets with its tag. A lookup on its own waits for two cache misses in a row (the slot, then the
   * state it names); here the reads of one pass do not depend on each other, so the processor
   * overlaps their misses, and the inserts that follow find both in the cache (a micro-benchmark on
   * the 2-core machine: 10-35 ns a read so, 250 ns one after another). `hs` receives the hashes.
   * Returns a value made of what was read, so that the reads are not optimised away. A collapsing
   * store reads nothing (its table is reached only through the head store's ids).
   */
  touch(w: Uint32Array, n: number, hs: Int32Array): number {
    if (this.head || this.indexDropped) return 0;
    return this.touchTable(w, n, hs, this.sw);
  }

  /**
   * For a collapsing store, what `touch` is for a plain one, in two stages. The heads of the `n`
   * packed states held one after another in `w` are touched in the head store, then stored there
   * in order (`shared`: with `insertSharedHashed`); the two-word form of each goes to `forms` (two
   * words apart), and this store's table is touched for those forms, their hashes going to `hs`.
   * `insertHashed(forms, 2 * i, hs[i], ...)` (or `insertSharedHashed`) then stores state i. Returns
   * how many heads were stored: `n`, or fewer when the head store could not grow (`headFull` is
   * then its error, for the state after the last one returned; storing the states before it goes
   * on as if each had been stored at once, and a head stored for nothing only takes room).
   */
  touchCollapsed(w: Uint32Array, n: number, forms: Uint32Array, hs: Int32Array, shared: boolean): number {
    const head = this.head as StateStore;
    const words = this.words;
    this.headFull = null;
    this.touched ^= head.touchTable(w, n, hs, words);
    let i = 0;
    try {
      for (; i < n; i++) {
        const off = i * words;
        const h = hs[i] as number;
        const r = shared ? head.insertSharedHashed(w, off, h) : head.insertHashed(w, off, h);
        forms[2 * i] = r >= 0 ? r : -r - 1;
        forms[2 * i + 1] = w[off + words - 1] as number;
      }
    } catch (e) {
      if (!(e instanceof StoreFullError)) throw e;
      this.headFull = e;
    }
    // (A dropped index drops the heads' too: their insert has thrown by now.)
    this.touched ^= this.touchTable(forms, i, hs, 2);
    return i;
  }

  /** `touch` of states held `stride` words apart (the first `sw` words of each are looked up). */
  private touchTable(w: Uint32Array, n: number, hs: Int32Array, stride: number): number {
    const sw = this.sw;
    const table = this.table;
    const mask = this.tableMask;
    const bits = this.tableBits;
    // Four passes, so that no hashing and no mispredicted branch (which discards the loads issued
    // after it) comes between the loads that miss: hash, read the slots, follow each probe to the
    // id its tag names (the slots are in the cache by then), read those states' first words.
    for (let i = 0; i < n; i++) hs[i] = hashWords(w, i * stride, sw);
    let acc = 0;
    for (let i = 0; i < n; i++) acc ^= table[(hs[i] as number) & mask] as number;
    if (this.touchIds.length < n) this.touchIds = new Int32Array(n);
    const ids = this.touchIds;
    const chunks = this.chunks;
    for (let i = 0; i < n; i++) {
      const h = hs[i] as number;
      const tag = h >>> bits;
      let slot = h & mask;
      let id = 0;
      for (;;) {
        const v = table[slot] as number;
        if (v === 0 || v === BUSY) break;
        if (v >>> bits === tag) {
          id = (v & mask) - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
      // State 0 stands for none (reading it costs nothing); so does a chunk this view has not attached.
      ids[i] = chunks[id >>> CHUNK_BITS] === undefined ? 0 : id;
    }
    if (chunks.length === 0) return acc;
    for (let i = 0; i < n; i++) {
      const id = ids[i] as number;
      acc ^= (chunks[id >>> CHUNK_BITS] as Uint32Array)[(id & MASK) * sw] as number;
    }
    return acc;
  }

  /**
   * Inserts the packed state in `w[off..]` unless present (one thread only; grows as needed).
   * Returns the new id (>= 0), or `-(id + 1)` of the existing copy. `parent` and `via` are kept
   * when the store keeps parents.
   */
  insert(w: Uint32Array, off: number, parent = -1, via = 0): number {
    if (this.indexDropped) throw new Error('internal: insert into a store whose index was dropped');
    if (this.head) {
      w = this.collapsed(this.head, w, off, false);
      off = 0;
    }
    return this.insertHashed(w, off, this.hash(w, off), parent, via);
  }

  /** `insert` of a state whose hash `h` is known (`touch` gave it; for a collapsing store, of the two-word form `touchCollapsed` wrote). */
  insertHashed(w: Uint32Array, off: number, h: number, parent = -1, via = 0): number {
    if (this.indexDropped) throw new Error('internal: insert into a store whose index was dropped');
    const bits = this.tableBits;
    const tag = h >>> bits;
    const idMask = this.tableMask;
    const table = this.table;
    let slot = h & idMask;
    for (;;) {
      const v = table[slot] as number;
      if (v === 0) break;
      if (v >>> bits === tag && this.equalAt((v & idMask) - 1, w, off)) return -(v & idMask);
      slot = (slot + 1) & idMask;
    }
    const id = this.meta[0] as number;
    if (id === this.capacity) this.addChunk();
    this.meta[0] = id + 1;
    this.write(id, w, off, parent, via);
    table[slot] = (tag << bits) | (id + 1);
    if (id + 1 > table.length * MAX_LOAD) this.rehash(table.length * 2);
    return id;
  }

  /**
   * `insert` for several threads at once. The caller must have reserved room (`reserve`) for what
   * the threads insert plus a block of ids each (`ID_BLOCK`), and, once no thread inserts any more,
   * have each thread call `releaseIds` and then call `settle`. Parents are not kept (stores with
   * parents are used by one thread).
   */
  insertShared(w: Uint32Array, off: number): number {
    if (this.head) {
      w = this.collapsed(this.head, w, off, true);
      off = 0;
    }
    return this.insertSharedHashed(w, off, this.hash(w, off));
  }

  /** `insertShared` of a state whose hash `h` is known (`touch` gave it; for a collapsing store, of the two-word form `touchCollapsed` wrote). */
  insertSharedHashed(w: Uint32Array, off: number, h: number): number {
    const bits = this.tableBits;
    const tag = h >>> bits;
    const idMask = this.tableMask;
    const table = this.table;
    let slot = h & idMask;
    for (;;) {
      let v = Atomics.load(table, slot);
      if (v === 0) {
        if (Atomics.compareExchange(table, slot, 0, BUSY) !== 0) continue;
        if (this.blockNext === this.blockEnd) {
          this.blockNext = Atomics.add(this.meta, 0, ID_BLOCK);
          this.blockEnd = this.blockNext + ID_BLOCK;
        }
        const id = this.blockNext++;
        this.write(id, w, off, -1, 0);
        Atomics.store(table, slot, (tag << bits) | (id + 1));
        return id;
      }
      while (v === BUSY) v = Atomics.load(table, slot);
      if (v >>> bits === tag && this.equalAt((v & idMask) - 1, w, off)) return -(v & idMask);
      slot = (slot + 1) & idMask;
    }
  }

  /** Gives back the ids of this view's block that `insertShared` has not used (each thread, at the end of a round). */
  releaseIds(): void {
    this.head?.releaseIds();
    if (this.dense && this.blockNext < this.blockEnd) {
      const k = Atomics.add(this.meta, 1, 1);
      if (k >= MAX_RELEASED) throw new Error('internal: too many blocks of ids given back before settle');
      Atomics.store(this.meta, 2 + 2 * k, this.blockNext);
      Atomics.store(this.meta, 3 + 2 * k, this.blockEnd);
    }
    this.blockNext = 0;
    this.blockEnd = 0;
  }

  /**
   * Makes the ids dense again after a round of `insertShared` (no thread inserting, every other
   * thread's `releaseIds` done): gives back this view's own block, then moves the states with the
   * highest ids into the ids given back, and returns where each moved state went (old id to new).
   */
  settle(): Map<number, number> {
    this.releaseIds();
    const moved = new Map<number, number>();
    const meta = this.meta;
    const released = Atomics.load(meta, 1);
    if (released === 0) return moved;
    const holes: [number, number][] = [];
    let free = 0;
    for (let k = 0; k < released; k++) {
      const a = Atomics.load(meta, 2 + 2 * k);
      const b = Atomics.load(meta, 3 + 2 * k);
      holes.push([a, b]);
      free += b - a;
    }
    meta[1] = 0;
    const end = meta[0] as number;
    const real = end - free;
    const inHole = (id: number) => holes.some(([a, b]) => id >= a && id < b);
    // Ids below `real` that are holes take the states above it that are not (in any pairing).
    const into: number[] = [];
    for (const [a, b] of holes) for (let id = a; id < Math.min(b, real); id++) into.push(id);
    let from = end - 1;
    for (const to of into) {
      while (inHole(from)) from--;
      this.move(from, to);
      moved.set(from, to);
      from--;
    }
    meta[0] = real;
    return moved;
  }

  /** Moves state `from` to the unused id `to`, and its table entry with it, and clears its old place (one thread, no parents kept). */
  private move(from: number, to: number): void {
    const W = this.sw;
    const c = this.chunks[from >>> CHUNK_BITS] as Uint32Array;
    const base = (from & MASK) * W;
    this.write(to, c, base, -1, 0);
    const h = hashWords(c, base, W);
    const bits = this.tableBits;
    const mask = this.tableMask;
    let slot = h & mask;
    while (((this.table[slot] as number) & mask) !== from + 1) slot = (slot + 1) & mask;
    this.table[slot] = ((h >>> bits) << bits) | (to + 1);
    // The old place is beyond the count now: cleared, so that nothing can read a stale copy there.
    c.fill(0, base, base + W);
  }

  /** Whether the packed state is stored, without inserting it (safe while others insert). */
  has(w: Uint32Array, off: number): boolean {
    return this.find(w, off) >= 0;
  }

  /** The id of the packed state, or -1 when it is not stored (safe while others insert). */
  find(w: Uint32Array, off: number): number {
    if (this.head) {
      const hid = this.head.find(w, off);
      if (hid < 0) return -1;
      w = this.formOf(hid, w, off);
      off = 0;
    }
    const h = this.hash(w, off);
    const bits = this.tableBits;
    const tag = h >>> bits;
    const idMask = this.tableMask;
    let slot = h & idMask;
    for (;;) {
      let v = Atomics.load(this.table, slot);
      if (v === 0) return -1;
      while (v === BUSY) v = Atomics.load(this.table, slot);
      if (v >>> bits === tag && this.equalAt((v & idMask) - 1, w, off)) return (v & idMask) - 1;
      slot = (slot + 1) & idMask;
    }
  }

  /** Grows the table to `size` slots, this thread alone (no other inserting). */
  rehash(size: number): void {
    const t = this.newTable(size);
    this.putIds(new Int32Array(t), 0, this.count);
    this.useTable(t);
  }

  /**
   * Drops the hash index: the states stay readable by id (`read`), but can no longer be looked up
   * or inserted. The liveness graph does this once its search is over, since it reads states only
   * by id; the index is 5-11 bytes a state.
   */
  dropIndex(): void {
    this.head?.dropIndex();
    this.table = new Int32Array(new SharedArrayBuffer(4));
    this.tableMask = 0;
    this.tableBits = 0;
    this.indexDropped = true;
  }

  /** Forgets every state (the buffers are kept for reuse; the table is cleared). */
  clear(): void {
    this.head?.clear();
    this.meta[0] = 0;
    this.meta[1] = 0;
    this.table.fill(0);
  }

  /** Copies the packed state `id` into `w[off..]`. */
  read(id: number, w: Uint32Array, off: number): void {
    if (this.evicted) {
      this.readEvicted(id, w, off);
      return;
    }
    const c = this.chunks[id >>> CHUNK_BITS] as Uint32Array;
    const base = (id & MASK) * this.sw;
    if (this.head) {
      this.head.read(c[base] as number, w, off);
      w[off + this.words - 1] = c[base + 1] as number;
      return;
    }
    for (let i = 0; i < this.words; i++) w[off + i] = c[base + i] as number;
  }

  /** Whether parents are kept. */
  get keepsParents(): boolean {
    return this.parents !== null;
  }

  /** Parent id of state `id`, or -1 for a start state (stores that keep parents). */
  parent(id: number): number {
    const p = ((this.parents as Uint32Array[])[id >>> CHUNK_BITS] as Uint32Array)[id & MASK] as number;
    return p === NO_PARENT ? -1 : p;
  }

  /** The rule instance (or init index, for a start state) that produced state `id` (stores that keep parents). */
  via(id: number): number {
    return ((this.vias as Uint32Array[])[id >>> CHUNK_BITS] as Uint32Array)[id & MASK] as number;
  }

  /** The ids from a start state to `id`, in order (stores that keep parents). */
  path(id: number): number[] {
    const out: number[] = [];
    for (let x = id; x >= 0; x = this.parent(x)) out.push(x);
    return out.reverse();
  }

  /**
   * Bytes the states need: their words (and parents), and the table. Chunk space not yet used is
   * not counted: the system gives shared memory pages only when they are first written.
   */
  bytes(): number {
    const own = this.count * ((this.evicted ? 0 : this.sw * 4) + (this.parents ? 4 + (this.wideVia ? 4 : 2) : 0)) + this.table.byteLength;
    return own + (this.head ? this.head.bytes() : 0);
  }

  /**
   * Moves the packed states to a temporary file and lets go of their memory (once no more state is
   * inserted: the index must have been dropped). `read` and `slices` then read the file: a state at
   * a time costs a system call, so it is for a pass over all states (`slices`) and a few reads (a
   * trace). The file is unlinked at once where the system allows it, so that it goes away with the
   * process however that ends; `closeEvicted` closes it. Returns the bytes let go.
   */
  evict(dir = tmpdir()): number {
    if (!this.indexDropped) throw new Error('internal: evict the states of a store that can still insert');
    if (this.evicted) return 0;
    const tdir = mkdtempSync(join(dir, 'mirrorcheck-states-'));
    const path = join(tdir, 'states.bin');
    const fd = openSync(path, 'w+');
    let kept: string | null = null;
    try {
      rmSync(tdir, { recursive: true });
    } catch {
      kept = tdir;
    }
    try {
      writeWords(fd, this.slices(), 0);
    } catch (e) {
      closeSync(fd);
      if (kept) rmSync(kept, { recursive: true, force: true });
      throw e;
    }
    const freed = this.count * this.sw * 4 + (this.head ? this.head.bytes() : 0);
    this.chunks = [];
    this.chunkBuffers = [];
    this.head = null;
    this.evicted = { fd, dir: kept, one: new Uint32Array(this.words) };
    return freed;
  }

  /** Whether the states are in a file (`evict`). */
  get isEvicted(): boolean {
    return this.evicted !== null;
  }

  /** Closes (and removes) the file of an evicted store; its states cannot be read any more. */
  closeEvicted(): void {
    const e = this.evicted;
    if (!e || e.fd < 0) return;
    closeSync(e.fd);
    if (e.dir) rmSync(e.dir, { recursive: true, force: true });
    e.fd = -1;
  }

  private readEvicted(id: number, w: Uint32Array, off: number): void {
    if (id < 0 || id >= this.count) throw new RangeError(`internal: state ${id} read from a store of ${this.count}`);
    const one = (this.evicted as { one: Uint32Array }).one;
    this.readStates(id, 1, one);
    w.set(one, off);
  }

  /** Reads states `id .. id+k-1` of an evicted store's file into the start of `buf`. */
  private readStates(id: number, k: number, buf: Uint32Array): void {
    const { fd } = this.evicted as { fd: number };
    if (fd < 0) throw new Error('internal: states read from a store whose file was closed');
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, k * this.words * 4);
    for (let done = 0; done < bytes.length; ) {
      const r = readSync(fd, bytes, done, bytes.length - done, id * this.words * 4 + done);
      if (r <= 0) throw new Error(`internal: the file of evicted states ends before state ${id}`);
      done += r;
    }
  }

  /**
   * The packed words of states `from .. to-1`, chunk by chunk (for checkpoints and spilling). From
   * an evicted or a collapsing store, each slice is read (from the file, or rebuilt from the heads)
   * into the same buffer: valid until the next.
   */
  *slices(from = 0, to = this.count): Generator<Uint32Array> {
    const W = this.words;
    if (this.evicted) {
      yield* this.copiedSlices(from, to, (id, k, buf) => this.readStates(id, k, buf));
      return;
    }
    if (this.head) {
      yield* this.copiedSlices(from, to, (id, k, buf) => {
        for (let i = 0; i < k; i++) this.read(id + i, buf, i * W);
      });
      return;
    }
    for (let id = from; id < to; ) {
      const ci = id >>> CHUNK_BITS;
      const end = Math.min(to, (ci + 1) * CHUNK);
      yield (this.chunks[ci] as Uint32Array).subarray((id & MASK) * W, (end - ci * CHUNK) * W);
      id = end;
    }
  }

  /** Slices of up to a chunk of whole states, each put into the same buffer by `fill(id, k, buf)`: valid until the next. */
  private *copiedSlices(from: number, to: number, fill: (id: number, k: number, buf: Uint32Array) => void): Generator<Uint32Array> {
    const W = this.words;
    const buf = new Uint32Array(Math.min(CHUNK, Math.max(0, to - from)) * W);
    for (let id = from; id < to; ) {
      const k = Math.min(CHUNK, to - id);
      fill(id, k, buf);
      yield buf.subarray(0, k * W);
      id += k;
    }
  }

  /** Appends states given as packed words (a checkpoint's), without looking for duplicates. */
  appendAll(words: Uint32Array): void {
    const n = words.length / this.words;
    this.reserve(n);
    const W = this.words;
    const start = this.count;
    for (let i = 0; i < n; i++) {
      const id = start + i;
      const c = this.chunks[id >>> CHUNK_BITS] as Uint32Array;
      if (this.head) c.set(this.collapsed(this.head, words, i * W, false), (id & MASK) * 2);
      else c.set(words.subarray(i * W, (i + 1) * W), (id & MASK) * W);
    }
    this.meta[0] = start + n;
    this.rehash(this.table.length);
  }
}
