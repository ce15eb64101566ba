/**
 * The reachable state graph, kept for liveness checking. Why this module exists: a liveness
 * property is a statement about cycles, so unlike the safety search the whole successor relation
 * must be kept after the search. It is stored as CSR in typed arrays (an offset per state, then a
 * target state and a rule instance per edge), next to the StateStore that holds the packed states
 * and the BFS parent of each; there is no JavaScript object per state or per edge.
 *
 * The search is a plain BFS without reductions (no symmetry or partial-order reduction), so the
 * graph is the exact reachable graph. Each enabled rule instance gives exactly one edge, so "rule
 * instance i is enabled in state s" is "s has an out-edge labelled i", which is what the fairness
 * checks read.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Hooks, Limits } from '../engine.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import type { Property } from '../../properties/property.js';
import { StateStore } from './stateStore.js';

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
}

/** Outcome of building the graph: complete, stopped by a limit, or stopped by a model error. */
export type GraphBuild =
  | { readonly status: 'complete'; readonly graph: StateGraph; readonly elapsedMs: number }
  | { readonly status: 'incomplete'; readonly reason: string; readonly graph: StateGraph; readonly elapsedMs: number }
  | {
      readonly status: 'error';
      readonly error: ModelRuntimeError;
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

/**
 * Explores every reachable state of `model` breadth-first and records all edges. Limits stop the
 * search with status `incomplete` (the graph then holds what was explored). Progress goes through
 * `hooks.onProgress`.
 */
export function buildGraph(model: Model, limits: Limits, hooks: Hooks = {}): GraphBuild {
  const cm = compileModel(model, []);
  const nInst = model.instances.length;
  const store = new StateStore(cm.words, Math.max(nInst, model.inits.length));
  const tmp = new Uint32Array(cm.words);
  const s = new Int32Array(model.layout.nSlots);
  const t = new Int32Array(model.layout.nSlots);
  let offsets = new Uint32Array(1 << 16);
  let depth = new Uint16Array(1 << 16);
  let targets = new Uint32Array(1 << 18);
  let labels: Uint16Array | Uint32Array = nInst < 0xffff ? new Uint16Array(1 << 18) : new Uint32Array(1 << 18);
  let m = 0;
  let cur = 0;
  let maxDepth = 0;
  const start = Date.now();

  const emit = (k: number) => {
    cm.pack(t, tmp, 0);
    const r = store.insert(tmp, 0, cur, k);
    const id = r >= 0 ? r : -(r + 1);
    if (r >= 0) {
      depth = grow(depth, id + 1);
      const d = (depth[cur] as number) + 1;
      depth[id] = Math.min(d, 0xffff);
      if (d > maxDepth) maxDepth = d;
    }
    if (m === targets.length) {
      targets = grow(targets, m + 1);
      labels = grow(labels, m + 1);
    }
    targets[m] = id;
    labels[m] = k;
    m++;
  };

  const finish = (): StateGraph => {
    const n = store.count;
    offsets = grow(offsets, n + 1);
    // States not expanded (a limit stopped the search) get no edges.
    for (let v = cur; v <= n; v++) offsets[v] = m;
    const g: StateGraph = {
      model,
      cm,
      store,
      n,
      m,
      offsets: offsets.subarray(0, n + 1),
      targets: targets.subarray(0, m),
      labels: labels.subarray(0, m),
      depth: depth.subarray(0, n),
      maxDepth,
      bytes: store.bytes() + offsets.byteLength + targets.byteLength + labels.byteLength + depth.byteLength,
    };
    return g;
  };

  for (let i = 0; i < model.inits.length; i++) {
    let st: Int32Array;
    try {
      st = initState(model, model.inits[i] as (typeof model.inits)[number]);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { status: 'error', error: e, graph: finish(), at: -1, elapsedMs: Date.now() - start };
      throw e;
    }
    cm.pack(st, tmp, 0);
    const r = store.insert(tmp, 0, -1, i);
    if (r >= 0) depth[r] = 0;
  }

  const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
  let lastReport = start;
  let reason: string | null = null;
  for (; cur < store.count; cur++) {
    if ((depth[cur] as number) >= depthLimit) {
      reason = `depth limit ${depthLimit} reached with ${store.count - cur} states unexplored`;
      break;
    }
    if (limits.maxStates !== undefined && store.count >= limits.maxStates) {
      reason = `state limit of ${limits.maxStates} reached`;
      break;
    }
    if ((cur & 1023) === 0) {
      const now = Date.now();
      if (limits.timeLimitSec !== undefined && now - start >= limits.timeLimitSec * 1000) {
        reason = `time limit of ${limits.timeLimitSec}s reached`;
        break;
      }
      if (hooks.onProgress && now - lastReport >= 1000) {
        lastReport = now;
        const el = now - start;
        hooks.onProgress({
          generated: m,
          distinct: store.count,
          queue: store.count - cur,
          depth: depth[cur] as number,
          elapsedMs: el,
          statesPerSec: Math.round((store.count * 1000) / Math.max(1, el)),
        });
      }
    }
    offsets = grow(offsets, cur + 2);
    offsets[cur] = m;
    store.read(cur, tmp, 0);
    cm.unpack(tmp, 0, s);
    try {
      cm.expand(s, t, emit);
    } catch (e) {
      if (e instanceof ModelRuntimeError) {
        m = offsets[cur] as number;
        return { status: 'error', error: e, graph: finish(), at: cur, elapsedMs: Date.now() - start };
      }
      throw e;
    }
  }
  const graph = finish();
  const elapsedMs = Date.now() - start;
  return reason === null ? { status: 'complete', graph, elapsedMs } : { status: 'incomplete', reason, graph, elapsedMs };
}

/** Reads state `id` of the graph into a fresh Int32Array. */
export function graphState(g: StateGraph, id: number): Int32Array {
  const w = new Uint32Array(g.cm.words);
  const s = new Int32Array(g.model.layout.nSlots);
  g.store.read(id, w, 0);
  g.cm.unpack(w, 0, s);
  return s;
}
