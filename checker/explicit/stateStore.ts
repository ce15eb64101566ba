/**
 * The visited set of the explicit engine. Why this module exists: millions of states must be kept
 * without a JavaScript object per state. States are packed into 32-bit words in chunked typed arrays
 * (ids are dense, in discovery order, so a BFS queue is just a cursor over ids), with a parent id and
 * the rule instance that produced each state, and an open-addressing hash table of ids.
 */

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
const NO_PARENT = 0xffffffff;

export class StateStore {
  readonly words: number;
  private wordChunks: Uint32Array[] = [];
  private parentChunks: Uint32Array[] = [];
  private viaChunks: Uint32Array[] | Uint16Array[] = [];
  private readonly wideVia: boolean;
  private table: Int32Array;
  private tableMask: number;
  count = 0;

  /** `words` per packed state; `maxVia` is the largest rule-instance (or init) number stored. */
  constructor(words: number, maxVia: number, initialTableBits = 16) {
    this.words = words;
    this.wideVia = maxVia >= 0xffff;
    this.table = new Int32Array(1 << initialTableBits).fill(-1);
    this.tableMask = (1 << initialTableBits) - 1;
  }

  /** Hash of a packed state held in `w[off..off+words)`. Fixed constants: stable across runs. */
  hash(w: Uint32Array, off: number): number {
    let h = 0x9e3779b9 ^ this.words;
    for (let i = 0; i < this.words; i++) {
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

  private equalAt(id: number, w: Uint32Array, off: number): boolean {
    const c = this.wordChunks[id >>> CHUNK_BITS] as Uint32Array;
    const base = (id & MASK) * this.words;
    for (let i = 0; i < this.words; i++) if (c[base + i] !== w[off + i]) return false;
    return true;
  }

  /**
   * Inserts the packed state in `w[off..]` unless present. Returns the new id (>= 0), or
   * `-(id + 1)` of the existing copy.
   */
  insert(w: Uint32Array, off: number, parent: number, via: number): number {
    let slot = this.hash(w, off) & this.tableMask;
    for (;;) {
      const id = this.table[slot] as number;
      if (id < 0) break;
      if (this.equalAt(id, w, off)) return -(id + 1);
      slot = (slot + 1) & this.tableMask;
    }
    const id = this.count++;
    const ci = id >>> CHUNK_BITS;
    if (ci === this.wordChunks.length) {
      this.wordChunks.push(new Uint32Array(CHUNK * this.words));
      this.parentChunks.push(new Uint32Array(CHUNK));
      (this.viaChunks as (Uint32Array | Uint16Array)[]).push(this.wideVia ? new Uint32Array(CHUNK) : new Uint16Array(CHUNK));
    }
    const c = this.wordChunks[ci] as Uint32Array;
    const base = (id & MASK) * this.words;
    for (let i = 0; i < this.words; i++) c[base + i] = w[off + i] as number;
    (this.parentChunks[ci] as Uint32Array)[id & MASK] = parent < 0 ? NO_PARENT : parent;
    (this.viaChunks[ci] as Uint32Array)[id & MASK] = via;
    this.table[slot] = id;
    if (this.count * 2 > this.table.length) this.grow();
    return id;
  }

  private grow(): void {
    const size = this.table.length * 2;
    const t = new Int32Array(size).fill(-1);
    const mask = size - 1;
    const W = this.words;
    // Hash straight from the chunks (no copy per state): rehashing is a tenth of a search's time.
    for (let ci = 0, id = 0; ci < this.wordChunks.length; ci++) {
      const c = this.wordChunks[ci] as Uint32Array;
      for (let k = 0; k < CHUNK && id < this.count; k++, id++) {
        let slot = this.hash(c, k * W) & mask;
        while ((t[slot] as number) >= 0) slot = (slot + 1) & mask;
        t[slot] = id;
      }
    }
    this.table = t;
    this.tableMask = mask;
  }

  /** Copies the packed state `id` into `w[off..]`. */
  read(id: number, w: Uint32Array, off: number): void {
    const c = this.wordChunks[id >>> CHUNK_BITS] as Uint32Array;
    const base = (id & MASK) * this.words;
    for (let i = 0; i < this.words; i++) w[off + i] = c[base + i] as number;
  }

  /** Parent id of state `id`, or -1 for a start state. */
  parent(id: number): number {
    const p = (this.parentChunks[id >>> CHUNK_BITS] as Uint32Array)[id & MASK] as number;
    return p === NO_PARENT ? -1 : p;
  }

  /** The rule instance (or init index, for a start state) that produced state `id`. */
  via(id: number): number {
    return (this.viaChunks[id >>> CHUNK_BITS] as Uint32Array)[id & MASK] as number;
  }

  /** The ids from a start state to `id`, in order. */
  path(id: number): number[] {
    const out: number[] = [];
    for (let x = id; x >= 0; x = this.parent(x)) out.push(x);
    return out.reverse();
  }

  /** Bytes held by all arrays. */
  bytes(): number {
    let n = this.table.byteLength;
    for (const c of this.wordChunks) n += c.byteLength;
    for (const c of this.parentChunks) n += c.byteLength;
    for (const c of this.viaChunks) n += c.byteLength;
    return n;
  }
}
