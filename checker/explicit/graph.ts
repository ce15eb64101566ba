/**
 * The reachable state graph, kept for liveness checking. Why this module exists: a liveness
 * property is a statement about cycles, so unlike the safety search the whole successor relation
 * must be kept after the search. It is stored as CSR in typed arrays (an offset per state, then a
 * target state and a rule instance per edge), next to the StateStore that holds the packed states
 * and the BFS parent of each; there is no JavaScript object per state or per edge.
 *
 * The search (search.ts, the walk the safety check uses) is a BFS without partial-order
 * reduction, so the graph is the exact reachable graph, or under symmetry reduction its quotient
 * (livenessSymmetry.ts says when that is exact for liveness). Each enabled rule instance gives
 * exactly one edge, so "rule instance i is enabled in state s" is "s has an out-edge labelled i",
 * which is what the fairness checks read.
 */
import { type ErrorCode, McError } from '../../model/lang/errors.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Hooks, Limits } from '../engine.js';
import type { CompiledModel } from '../../model/lang/compile.js';
import type { Property } from '../../properties/property.js';
import { Search, type SearchEnd } from './search.js';
import type { StateStore } from './stateStore.js';
import type { Canonicalizer } from './symmetry.js';

/** The reachable graph: states in `store` (ids 0..n-1, BFS order), edges in CSR form. */
export interface StateGraph {
  readonly model: Model;
  readonly cm: CompiledModel<Property>;
  readonly store: StateStore;
  /** Number of states. */
  readonly n: number;
  /** Number of edges. */
  readonly m: number;
  /** Edges of state v are `offsets[v] .. offsets[v + 1]`. Length n + 1. */
  readonly offsets: Uint32Array;
  /** Target state of each edge. */
  readonly targets: Uint32Array;
  /** Rule instance (`Model.instances` index) of each edge. */
  readonly labels: Uint16Array | Uint32Array;
  /** BFS depth of each state (saturating at 65535). */
  readonly depth: Uint16Array;
  /** Largest BFS depth. */
  readonly maxDepth: number;
  /** Bytes held by the store and the edge arrays. */
  readonly bytes: number;
  /**
   * Under symmetry reduction, the canonical forms (states are canonical representatives, and an
   * edge c -k-> c' means instance k taken in c leads to a state of canonical form c'); null for the
   * full graph.
   */
  readonly canon: Canonicalizer | null;
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

function grow<T extends Uint32Array | Uint16Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let size = a.length;
  while (size < need) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** The edges recorded while the search runs, in CSR form (states are expanded in id order). */
class EdgeRecorder {
  offsets = new Uint32Array(1 << 16);
  targets = new Uint32Array(1 << 18);
  labels: Uint16Array | Uint32Array;
  m = 0;
  /** States whose first edge offset is set: 0 .. next - 1. */
  private next = 0;

  constructor(nInst: number) {
    this.labels = nInst < 0xffff ? new Uint16Array(1 << 18) : new Uint32Array(1 << 18);
  }

  add(from: number, to: number, k: number): void {
    this.startState(from);
    if (this.m === this.targets.length) {
      this.targets = grow(this.targets, this.m + 1);
      this.labels = grow(this.labels, this.m + 1);
    }
    this.targets[this.m] = to;
    this.labels[this.m] = k;
    this.m++;
  }

  /** Marks the edges of states up to `v` as started (states without an edge get an empty range). */
  private startState(v: number): void {
    if (v < this.next) return;
    this.offsets = grow(this.offsets, v + 2);
    while (this.next <= v) this.offsets[this.next++] = this.m;
  }

  /** Drops the edges recorded for state `v` (whose expansion failed). */
  dropEdgesOf(v: number): void {
    if (v < this.next) this.m = this.offsets[v] as number;
  }

  /** Closes the CSR arrays for `n` states (states not expanded get no edges). */
  finish(n: number): void {
    this.startState(n);
  }
}

/** BFS depth of each state, from the first id of each level. */
function depthsOf(levelStarts: readonly number[], n: number): Uint16Array {
  const depth = new Uint16Array(Math.max(n, 1));
  for (let d = 0; d < levelStarts.length; d++) {
    const end = Math.min(levelStarts[d + 1] ?? n, n);
    depth.fill(Math.min(d, 0xffff), levelStarts[d] as number, end);
  }
  return depth;
}

/** The graph held by a finished (or stopped) search and its edges. */
function graphOf(search: Search, edges: EdgeRecorder): StateGraph {
  const n = search.store.count;
  edges.finish(n);
  const depth = depthsOf(search.levelStarts, n);
  return {
    model: search.model,
    cm: search.cm as CompiledModel<Property>,
    store: search.store,
    n,
    m: edges.m,
    offsets: edges.offsets.subarray(0, n + 1),
    targets: edges.targets.subarray(0, edges.m),
    labels: edges.labels.subarray(0, edges.m),
    depth: depth.subarray(0, n),
    maxDepth: search.figures().maxDepth,
    bytes: search.store.bytes() + edges.offsets.byteLength + edges.targets.byteLength + edges.labels.byteLength + depth.byteLength,
    canon: search.canon.active ? search.canon : null,
  };
}

/**
 * Explores every reachable state of `model` breadth-first and records all edges. Limits stop the
 * search with status `incomplete` (the graph then holds what was explored). Progress goes through
 * `hooks.onProgress`.
 */
export function buildGraph(model: Model, limits: Limits, hooks: Hooks = {}, symmetry = false): GraphBuild {
  const { search, edges } = graphSearch(model, symmetry);
  return graphBuilt(search, edges, search.runSync(limits, { tick: search.ticker(limits, hooks) }));
}

/** `buildGraph` that gives the event loop turns; `stop` returns a reason to stop (an interrupt). */
export async function buildGraphAsync(model: Model, limits: Limits, hooks: Hooks, stop: () => string | null, symmetry = false): Promise<GraphBuild> {
  const { search, edges } = graphSearch(model, symmetry);
  return graphBuilt(search, edges, await search.runAsync(limits, { tick: search.ticker(limits, hooks, stop), sliceMs: 100 }));
}

/** A breadth-first search without partial-order reduction (with symmetry reduction when asked) that records every edge. */
function graphSearch(model: Model, symmetry: boolean): { search: Search; edges: EdgeRecorder } {
  const edges = new EdgeRecorder(model.instances.length);
  const search = new Search(model, [], {
    strategy: 'bfs',
    symmetry,
    deadlock: false,
    parents: true,
    onEdge: (from, to, k) => edges.add(from, to, k),
  });
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
    return { status: 'error', error: new McError(f.code as ErrorCode, f.message), graph: graphOf(search, edges), at: f.at ?? -1, elapsedMs: elapsedMs() };
  }
  const graph = graphOf(search, edges);
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
