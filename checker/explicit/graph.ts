/**
 * The reachable state graph, kept for liveness checking. Why this module exists: a liveness
 * property is a statement about cycles, so unlike the safety search the whole successor relation
 * must be kept after the search. It is stored as CSR in typed arrays (an offset per state, then a
 * target state and a rule instance per edge, the instance in the narrowest array that holds it),
 * next to the search's own StateStore that holds the packed states; there is no JavaScript object
 * per state or per edge.
 *
 * Memory (the liveness budget is 64 bytes a state in all): no parent or rule array per state (the
 * BFS parents are rebuilt from the edges when a trace needs them: graphPath), the store's hash
 * index is dropped once the search is over, and the edge arrays are made once, at the size the
 * safety search of the same check counted or as a large reservation of untouched memory (only
 * what is written takes memory), so they are never copied.
 *
 * The search (search.ts, the walk the safety check uses) is a BFS without partial-order
 * reduction, so the graph is the exact reachable graph, or under symmetry reduction its quotient
 * (livenessSymmetry.ts says when that is exact for liveness). Each enabled rule instance gives
 * exactly one edge, so "rule instance i is enabled in state s" is "s has an out-edge labelled i",
 * which is what the fairness checks read.
 */
import { type ErrorCode, McError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Hooks, Limits, MemoryLimit } from '../engine.js';
import type { CompiledModel } from '../../model/lang/compile.js';
import type { Property } from '../../properties/property.js';
import { CTRL } from './expander.js';
import { Search, type SearchEnd } from './search.js';
import type { StateStore } from './stateStore.js';
import { StoreFullError, allocate, checkLimit } from './storeMemory.js';
import type { Canonicalizer } from './symmetry.js';

/** The reachable graph: states in `store` (ids 0..n-1, BFS order), edges in CSR form. */
export interface StateGraph {
  readonly model: Model;
  readonly cm: CompiledModel<Property>;
  /** The packed states (the search's own store: its words are not copied; its hash index is dropped once the graph is complete). */
  readonly store: StateStore;
  /** Number of states. */
  readonly n: number;
  /** Number of start states: ids 0 .. nInit - 1. */
  readonly nInit: number;
  /** Number of edges. */
  readonly m: number;
  /** Edges of state v are `offsets[v] .. offsets[v + 1]`. Length n + 1. */
  readonly offsets: Uint32Array;
  /** Target state of each edge. */
  readonly targets: Uint32Array;
  /** Rule instance (`Model.instances` index) of each edge, in the narrowest array that holds every instance. */
  readonly labels: Uint8Array | Uint16Array | Uint32Array;
  /** The first id of each BFS level (the last entry is n). */
  readonly levelStarts: readonly number[];
  /** BFS depth of each state (saturating at 65535), computed when first read (the liveness check does not need it). */
  readonly depth: Uint16Array;
  /** Largest BFS depth. */
  readonly maxDepth: number;
  /** Bytes held by the store and the edge arrays once the graph is complete. */
  readonly bytes: number;
  /** Most bytes held at once while the graph was built (the store with its hash index, the edges in chunks, and their copy into the final arrays). */
  readonly buildPeakBytes: number;
  /**
   * Under symmetry reduction, the canonical forms (states are canonical representatives, and an
   * edge c -k-> c' means instance k taken in c leads to a state of canonical form c'); null for the
   * full graph.
   */
  readonly canon: Canonicalizer | null;
  /**
   * The annotated quotient (Emerson and Sistla), when asked for under symmetry reduction: per edge,
   * the permutation that maps the concrete successor (instance k taken in the canonical state) to
   * its canonical form, as an index into `perms` (each a permutation per type of `canon.types`:
   * element i goes to `[t][i]`); null otherwise.
   */
  readonly ann: Uint8Array | Uint16Array | null;
  readonly perms: readonly (readonly Int32Array[])[];
}

/** Outcome of building the graph: complete, stopped by a limit, or stopped by a model error. */
export type GraphBuild =
  | { readonly status: 'complete'; readonly graph: StateGraph; readonly elapsedMs: number }
  | { readonly status: 'incomplete'; readonly reason: string; readonly graph: StateGraph; readonly elapsedMs: number }
  | {
      readonly status: 'error';
      /** The run-time model error (MC011). */
      readonly error: McError;
      readonly graph: StateGraph;
      /** The state whose expansion failed (its path is in the store), or -1 for a start state. */
      readonly at: number;
      readonly elapsedMs: number;
    };

type Narrow = Uint8Array | Uint16Array | Uint32Array;

/** The narrowest unsigned typed array constructor that holds values up to `max`. */
function narrowFor(max: number): new (n: number) => Narrow {
  return max <= 0xff ? Uint8Array : max <= 0xffff ? Uint16Array : Uint32Array;
}

/**
 * Entries reserved without an estimate of the graph's size (per array: targets and labels hold
 * one entry an edge, offsets one a state). A large typed array is mapped by the system without
 * being touched: only the entries written take memory, so a generous reservation costs nothing
 * and spares the copy (and its doubled peak) that growing would need.
 */
const RESERVE_EDGES = 2 ** 27;
const RESERVE_STATES = 2 ** 25;
const MIB = 2 ** 20;

/**
 * A list of numbers appended to one typed array reserved at a size that is rarely exceeded (the
 * size the safety search counted, or a large reservation of untouched memory); past it, the array
 * is copied into one twice as large. The final array is a view of the first `length` entries.
 */
class ReservedArray<T extends Narrow> {
  private a: T;
  length = 0;
  /** The length at which `push` next asks the limit (inside the reservation, before each MiB written: its pages are mapped as they are written). */
  private nextAsk = 0;
  /** Most bytes written at once: twice the entries while a full reservation is copied into a larger one. */
  peakBytes = 0;
  constructor(
    private readonly make: new (n: number) => T,
    reserve: number,
    /** Asked before the array grows past its reservation (`StoreFullError` past it). */
    private readonly limit?: MemoryLimit,
  ) {
    this.a = ReservedArray.allocate(make, Math.max(1024, reserve));
  }

  /** The reservation, or a smaller one where the system refuses to map that much (strict overcommit). */
  private static allocate<T>(make: new (n: number) => T, size: number): T {
    for (let s = size; ; s = Math.floor(s / 4)) {
      try {
        return new make(s);
      } catch (e) {
        if (!(e instanceof RangeError) || s <= 1024) throw e;
      }
    }
  }

  /** Appends `x`; `StoreFullError` (nothing appended) when the memory it needs is past the limit, unless `unlimited`. */
  push(x: number, unlimited = false): void {
    if (this.length === this.nextAsk) this.grow(unlimited ? undefined : this.limit);
    this.a[this.length++] = x;
  }

  /** Makes room for the next MiB of entries: asks `limit` for it, and past the reservation copies the entries into an array twice as large. */
  private grow(limit: MemoryLimit | undefined): void {
    const what = "the liveness graph's edges";
    if (this.length === this.a.length) {
      this.peakBytes = Math.max(this.peakBytes, 2 * this.bytes);
      const b = allocate(2 * this.a.byteLength, what, limit, () => new this.make(this.a.length * 2));
      b.set(this.a as unknown as ArrayLike<number>);
      this.a = b;
    }
    const next = Math.min(this.a.length, this.length + MIB / this.a.BYTES_PER_ELEMENT);
    checkLimit((next - this.length) * this.a.BYTES_PER_ELEMENT, what, limit);
    this.nextAsk = next;
  }

  get(i: number): number {
    return this.a[i] as number;
  }

  /** Forgets the entries from `len` on. */
  truncate(len: number): void {
    if (len < this.length) this.length = len;
  }

  /** Bytes written (the untouched rest of the reservation takes no memory). */
  get bytes(): number {
    return this.length * this.a.BYTES_PER_ELEMENT;
  }

  /** The entries, as a view of the reservation (no copy). */
  toArray(): T {
    return this.a.subarray(0, this.length) as T;
  }
}

/**
 * The most transitions a liveness graph holds: the fair-cycle search numbers them, and the end of
 * the last one, in 31 bits below its mask (its frames and the lasso search keep a flag in the
 * 32nd; fairCycles.ts refuses a graph of 2^31 - 1). A graph that would hold more ends its build as
 * full, as at the memory limit.
 */
export const MAX_GRAPH_EDGES = 2 ** 31 - 2;

/** The size of the graph when known before it is built (from the safety search of the same check): its arrays are then made once, at their final size. */
export interface GraphSizeHint {
  readonly states: number;
  readonly edges: number;
}

/** The edges recorded while the search runs, in CSR form (states are expanded in id order). */
class EdgeRecorder {
  readonly offsets: ReservedArray<Uint32Array>;
  readonly targets: ReservedArray<Uint32Array>;
  readonly labels: ReservedArray<Narrow>;
  /** States whose first edge offset is set: 0 .. next - 1. */
  private next = 0;

  /** Annotated quotient: the permutation of each edge (an index into `perms`). */
  readonly ann: ReservedArray<Uint8Array | Uint16Array> | null;
  readonly perms: Int32Array[][] = [];
  private readonly permIds = new Map<string, number>();

  constructor(
    nInst: number,
    hint: GraphSizeHint | null,
    annotate: { readonly group: number } | null,
    limit?: MemoryLimit,
    private readonly maxEdges = MAX_GRAPH_EDGES,
  ) {
    this.offsets = new ReservedArray(Uint32Array, hint ? hint.states + 1 : RESERVE_STATES, limit);
    this.targets = new ReservedArray(Uint32Array, hint?.edges ?? RESERVE_EDGES, limit);
    this.labels = new ReservedArray(narrowFor(Math.max(0, nInst - 1)), hint?.edges ?? RESERVE_EDGES, limit);
    const annType = (annotate && annotate.group <= 0x100 ? Uint8Array : Uint16Array) as new (n: number) => Uint8Array | Uint16Array;
    this.ann = annotate ? new ReservedArray(annType, hint?.edges ?? RESERVE_EDGES, limit) : null;
  }

  /** Records the permutation of the edge just added. */
  annotate(perm: readonly Int32Array[]): void {
    let key = '';
    for (const p of perm) key += `${p.join(',')};`;
    let id = this.permIds.get(key);
    if (id === undefined) {
      id = this.perms.length;
      this.permIds.set(key, id);
      this.perms.push(perm.map((p) => Int32Array.from(p)));
    }
    (this.ann as ReservedArray<Uint8Array | Uint16Array>).push(id);
  }

  get m(): number {
    return this.targets.length;
  }

  add(from: number, to: number, k: number): void {
    if (this.targets.length >= this.maxEdges)
      throw new StoreFullError('entries', `it holds at most ${this.maxEdges} transitions (the fair-cycle search numbers them in 31 bits)`);
    this.startState(from);
    this.targets.push(to);
    this.labels.push(k);
  }

  /**
   * Marks the edges of states up to `v` as started (states without an edge get an empty range).
   * `unlimited` when the graph is closed: the states stored but not expanded need their (empty)
   * ranges whatever the limit, 4 bytes each.
   */
  private startState(v: number, unlimited = false): void {
    while (this.next <= v) {
      this.offsets.push(this.m, unlimited);
      this.next++;
    }
  }

  /** Drops the edges recorded for state `v` (whose expansion failed). */
  dropEdgesOf(v: number): void {
    if (v >= this.next) return;
    const keep = this.offsetOf(v);
    this.targets.truncate(keep);
    this.labels.truncate(keep);
    this.ann?.truncate(keep);
    this.offsets.truncate(v + 1);
    this.next = v + 1;
  }

  private offsetOf(v: number): number {
    return this.offsets.get(v);
  }

  /** Bytes held while recording. */
  get bytes(): number {
    return this.offsets.bytes + this.targets.bytes + this.labels.bytes + (this.ann?.bytes ?? 0);
  }

  /**
   * Most bytes held while recording, an upper bound: a growth past the reservation holds the old array and the new one
   * (the array's own peak), counted with what every other array holds at the end.
   */
  get peakBytes(): number {
    const all = this.bytes;
    let peak = all;
    for (const a of [this.offsets, this.targets, this.labels, this.ann]) if (a) peak = Math.max(peak, all - a.bytes + a.peakBytes);
    return peak;
  }

  /** Closes the CSR arrays for `n` states (states not expanded get no edges). */
  finish(n: number): { offsets: Uint32Array; targets: Uint32Array; labels: Narrow; ann: Uint8Array | Uint16Array | null } {
    this.startState(n, true);
    this.offsets.truncate(n + 1);
    return { offsets: this.offsets.toArray(), targets: this.targets.toArray(), labels: this.labels.toArray(), ann: this.ann?.toArray() ?? null };
  }
}

/** BFS depth of each state, from the first id of each level (ascending, the last one `n`). */
function depthsOf(levelStarts: readonly number[], n: number): Uint16Array {
  const depth = new Uint16Array(n);
  for (let d = 0; d + 1 < levelStarts.length; d++) depth.fill(Math.min(d, 0xffff), levelStarts[d], levelStarts[d + 1]);
  return depth;
}

/**
 * The graph held by a finished (or stopped) search and its edges. The store's hash index is only
 * needed to find states while searching: it is dropped once the search is complete.
 */
function graphOf(search: Search, edges: EdgeRecorder, complete: boolean): StateGraph {
  const n = search.store.count;
  const searchBytes = search.store.bytes() + edges.peakBytes;
  if (complete) search.store.dropIndex();
  const wordsBytes = search.store.bytes();
  const { offsets, targets, labels, ann } = edges.finish(n);
  const exact = offsets.byteLength + targets.byteLength + labels.byteLength + (ann?.byteLength ?? 0);
  const levelStarts = [...search.levelStarts.filter((x) => x <= n)];
  if (levelStarts[levelStarts.length - 1] !== n) levelStarts.push(n);
  let depth: Uint16Array | null = null;
  return {
    model: search.model,
    cm: search.cm as CompiledModel<Property>,
    store: search.store,
    n,
    nInit: Math.min(search.levelStarts[1] ?? n, n),
    m: targets.length,
    offsets,
    targets,
    labels,
    levelStarts,
    get depth(): Uint16Array {
      depth ??= depthsOf(levelStarts, n);
      return depth;
    },
    maxDepth: search.figures().maxDepth,
    bytes: wordsBytes + exact,
    buildPeakBytes: Math.max(searchBytes, wordsBytes + exact),
    canon: search.canon.active ? search.canon : null,
    ann: search.canon.active ? ann : null,
    perms: edges.perms,
  };
}

/** The init (index into `Model.inits`) that gives start state `root`: the first whose state (canonical under symmetry) has its words. */
export function initVia(g: StateGraph, root: number): number {
  const w = new Uint32Array(g.cm.words);
  const x = new Uint32Array(g.cm.words);
  g.store.read(root, x, 0);
  for (let i = 0; i < g.model.inits.length; i++) {
    const s = initState(g.model, g.model.inits[i] as (typeof g.model.inits)[number]);
    g.cm.pack(s, w, 0);
    if (g.canon) g.canon.canonical(s, w);
    if (w.every((v, k) => v === x[k])) return i;
  }
  throw new Error(`internal: start state ${root} comes from no init`);
}

/**
 * The path of edges from a start state to `id`, and that start state: the edges by which the
 * search first reached each state. The search expands states in id order and numbers new states
 * as it meets them, so the first edge into each state, in id order, is the one that found it:
 * these are the BFS parents the search would have kept, rebuilt without an array per state
 * during the search. `scratch` (at least id + 1 entries), when given, holds the parents.
 */
export function graphPath(g: StateGraph, id: number, scratch: Uint32Array | null = null): { root: number; edges: number[] } {
  const { offsets, targets } = g;
  const len = Math.max(id + 1, 1);
  const parentEdge = (scratch && scratch.length >= len ? new Int32Array(scratch.buffer, scratch.byteOffset, len) : new Int32Array(len)).fill(-1);
  let found = id < g.nInit;
  for (let v = 0; v < g.n && !found; v++) {
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const w = targets[j] as number;
      if (w > id || w < g.nInit || parentEdge[w] !== -1) continue;
      parentEdge[w] = j;
      if (w === id) found = true;
    }
  }
  if (!found) throw new Error(`internal: state ${id} is not reachable in the graph`);
  const edges: number[] = [];
  let x = id;
  while (x >= g.nInit) {
    const j = parentEdge[x] as number;
    edges.push(j);
    x = sourceOf(g, j);
  }
  return { root: x, edges: edges.reverse() };
}

/** The state whose edge list holds edge `j` (a binary search of the offsets: no source array is kept). */
export function sourceOf(g: StateGraph, j: number): number {
  const { offsets } = g;
  let a = 0;
  let b = g.n - 1;
  while (a < b) {
    const c = (a + b + 1) >>> 1;
    if ((offsets[c] as number) <= j) a = c;
    else b = c - 1;
  }
  // States without edges share their offset with the next state: the last state at that offset owns j.
  return a;
}

/**
 * Explores every reachable state of `model` breadth-first and records all edges. Limits stop the
 * search with status `incomplete` (the graph then holds what was explored), and so does a graph
 * past `memoryLimit` or past `maxEdges` transitions (`MAX_GRAPH_EDGES`; tests set fewer). Progress
 * goes through `hooks.onProgress`.
 */
export function buildGraph(
  model: Model,
  limits: Limits,
  hooks: Hooks = {},
  symmetry = false,
  hint: GraphSizeHint | null = null,
  annotate = false,
  memoryLimit?: MemoryLimit,
  maxEdges = MAX_GRAPH_EDGES,
): GraphBuild {
  const { search, edges } = graphSearch(model, symmetry, hint, annotate, memoryLimit, maxEdges);
  return graphBuilt(search, edges, search.runSync(limits, { tick: search.ticker(limits, hooks) }));
}

/** `buildGraph` that gives the event loop turns; `stop` returns a reason to stop (an interrupt). */
export async function buildGraphAsync(
  model: Model,
  limits: Limits,
  hooks: Hooks,
  stop: () => string | null,
  symmetry = false,
  hint: GraphSizeHint | null = null,
  annotate = false,
  memoryLimit?: MemoryLimit,
  maxEdges = MAX_GRAPH_EDGES,
): Promise<GraphBuild> {
  const { search, edges } = graphSearch(model, symmetry, hint, annotate, memoryLimit, maxEdges);
  return graphBuilt(search, edges, await search.runAsync(limits, { tick: search.ticker(limits, hooks, stop), sliceMs: 100 }));
}

/**
 * A breadth-first search without partial-order reduction (with symmetry reduction when asked) that
 * records every edge, and with `annotate` (under symmetry reduction) the permutation of each.
 */
function graphSearch(
  model: Model,
  symmetry: boolean,
  hint: GraphSizeHint | null,
  annotate: boolean,
  memoryLimit: MemoryLimit | undefined,
  maxEdges: number,
): { search: Search; edges: EdgeRecorder } {
  const track = symmetry && annotate;
  let edges: EdgeRecorder | null = null;
  // The limit holds from the first edge on: the first tables and the start states (which the safety search held already) are
  // never refused, so the liveness phase never fails to start after a safety search that passed; past them it ends as a limit.
  let armed = false;
  const limit: MemoryLimit | undefined = memoryLimit && {
    get bytes() {
      return armed ? memoryLimit.bytes : Number.POSITIVE_INFINITY;
    },
    inUse: memoryLimit.inUse,
    ...(memoryLimit.collect ? { collect: memoryLimit.collect } : {}),
  };
  const search: Search = new Search(model, [], {
    strategy: 'bfs',
    symmetry,
    deadlock: false,
    trackPermutation: track,
    ...(limit ? { memoryLimit: limit } : {}),
    ...(hint ? { expectedStates: hint.states } : {}),
    onEdge: track
      ? (from, to, k) => {
          armed = true;
          const r = edges as EdgeRecorder;
          r.add(from, to, k);
          r.annotate(search.canon.permutation());
        }
      : (from, to, k) => {
          armed = true;
          (edges as EdgeRecorder).add(from, to, k);
        },
  });
  edges = new EdgeRecorder(model.instances.length, hint, track && search.canon.active ? { group: search.canon.group } : null, limit, maxEdges);
  return { search, edges };
}

/** The graph a finished (or stopped) graph search holds. */
function graphBuilt(search: Search, edges: EdgeRecorder, end: SearchEnd): GraphBuild {
  const elapsedMs = () => Date.now() - search.startMs;
  if (end.kind === 'found') {
    const f = end.finding;
    if (f.kind !== 'error' || !f.runtime)
      throw f.kind === 'error' ? new McError(f.code as ErrorCode, f.message) : new Error(`internal: graph search found ${f.kind}`);
    if (f.at !== null) edges.dropEdgesOf(f.at);
    return {
      status: 'error',
      error: new McError(f.code as ErrorCode, f.message),
      graph: graphOf(search, edges, false),
      at: f.at ?? -1,
      elapsedMs: elapsedMs(),
    };
  }
  // The state being expanded when a store or the edges could not grow counts as not expanded: the edges it had are dropped.
  if (end.kind === 'limit' && search.expander.full) edges.dropEdgesOf(search.ctrl[CTRL.cursor] as number);
  const graph = graphOf(search, edges, end.kind === 'complete');
  return end.kind === 'complete'
    ? { status: 'complete', graph, elapsedMs: elapsedMs() }
    : { status: 'incomplete', reason: end.reason, graph, elapsedMs: elapsedMs() };
}

/** Reads state `id` of the graph into a fresh Int32Array. */
export function graphState(g: StateGraph, id: number): Int32Array {
  const w = new Uint32Array(g.cm.words);
  const s = new Int32Array(g.model.layout.nSlots);
  g.store.read(id, w, 0);
  g.cm.unpack(w, 0, s);
  return s;
}
