/**
 * The stack of the depth-first walk: every state stored and not yet expanded, with its depth. Why
 * this module exists: the walk once kept them in two JavaScript arrays (the ids, and the depth of
 * every state by id), and V8 aborts the whole process when such an array passes about 112 million
 * entries ("Fatal JavaScript invalid size error": no exception, no statistics, no trace), 8 bytes
 * an entry outside the memory limit. Here the pairs are kept in typed chunks taken through
 * `allocate`, so a walk that outgrows its memory ends as a limit, keeping what it found, and the
 * stack costs 8 bytes a waiting state and nothing for the states already expanded.
 */
import { type MemoryLimit, allocate } from './storeMemory.js';

const CHUNK_BITS = 16;
/** Pairs a chunk holds (512 KiB a chunk). */
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
/** What the stack's chunks are, in the messages of `StoreFullError` (its `what`). */
export const DFS_STACK = 'the depth-first stack';

/** A stack of (state id, depth) pairs, both below 2^32. */
export class DfsStack {
  private readonly chunks: Uint32Array[] = [];
  private n = 0;
  /** The depth of the state `pop` returned last. */
  depth = 0;

  /**
   * @param limit the memory limit the chunks are taken under (`StoreFullError` past it); the first
   *   chunk is taken at once, so that a walk that cannot hold one chunk is refused before it starts.
   */
  constructor(private readonly limit?: MemoryLimit) {
    this.addChunk();
  }

  /** States waiting on the stack. */
  get length(): number {
    return this.n;
  }

  /** Pushes state `id` found at `depth`; `StoreFullError` (nothing pushed) when a new chunk would pass the memory limit. */
  push(id: number, depth: number): void {
    const ci = this.n >>> CHUNK_BITS;
    if (ci === this.chunks.length) this.addChunk();
    const c = this.chunks[ci] as Uint32Array;
    const o = (this.n & MASK) << 1;
    c[o] = id;
    c[o + 1] = depth;
    this.n++;
  }

  /** Pops the state pushed last and returns its id (its depth goes to `depth`), or -1 when the stack is empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const i = --this.n;
    const ci = i >>> CHUNK_BITS;
    // One chunk above the top is kept (a walk going up and down across a chunk's edge does not allocate each time); the rest are freed.
    if (this.chunks.length > ci + 2) this.chunks.length = ci + 2;
    const c = this.chunks[ci] as Uint32Array;
    const o = (i & MASK) << 1;
    this.depth = c[o + 1] as number;
    return c[o] as number;
  }

  /** Chunks held now (the top's, and at most one above it). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  private addChunk(): void {
    this.chunks.push(allocate(CHUNK * 8, DFS_STACK, this.limit, () => new Uint32Array(CHUNK * 2)));
  }
}
