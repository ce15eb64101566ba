/**
 * The search core of the explicit engine, shared by the safety check (explicit.ts) and the liveness
 * graph builder (graph.ts). Why this module exists: both walk the same state space the same way
 * (start states, then breadth-first levels or a depth-first stack, successors from the compiled
 * rules, a visited set of packed states), so the walk is written once; what each caller does with
 * a state or an edge is a hook. It never prints and returns findings as data.
 */
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type CompiledModel, type Kinded, compileModel } from '../../model/lang/compile.js';
import type { Hooks, Limits } from '../engine.js';
import { StateStore } from './stateStore.js';
import { Canonicalizer } from './symmetry.js';

/** How the search walks the state space. */
export interface SearchOptions {
  readonly strategy: 'bfs' | 'dfs';
  /** Store one canonical state per symmetry class. */
  readonly symmetry: boolean;
  /** Report a state with no enabled rule that is not a legal end state. */
  readonly deadlock: boolean;
  /** Called for every transition explored, with the ids of its source and target states (graph building). */
  readonly onEdge?: (from: number, to: number, instance: number) => void;
}

/** The first thing found that ends the search early: a broken property or a model error. */
export type Finding =
  | { readonly kind: 'invariant'; readonly index: number; readonly id: number }
  | { readonly kind: 'step'; readonly index: number; readonly from: number; readonly via: number; readonly state: Int32Array }
  | { readonly kind: 'deadlock'; readonly id: number }
  /** `at`: the state whose expansion failed, or null when a start state could not be built. */
  | { readonly kind: 'error'; readonly error: McError; readonly at: number | null };

/** How a search ended. */
export type SearchEnd =
  | { readonly kind: 'complete' }
  | { readonly kind: 'found'; readonly finding: Finding }
  | { readonly kind: 'limit'; readonly reason: string };

/** The walk over the reachable states of one model. */
export class Search<P extends Kinded = Kinded> {
  readonly model: Model;
  readonly cm: CompiledModel<P>;
  readonly store: StateStore;
  readonly canon: Canonicalizer;
  readonly opts: SearchOptions;
  /** Transitions explored. */
  generated = 0;
  /** Largest depth of a stored state. */
  maxDepth = 0;
  /** BFS: the first id of each level (level d holds ids levelStarts[d] .. levelStarts[d + 1] - 1). */
  readonly levelStarts: number[] = [0];
  /** Depth at which each cover was first reached, or null. */
  readonly coverDepth: (number | null)[];
  readonly startMs: number;
  private found: Finding | null = null;
  private readonly tmp: Uint32Array;
  private readonly s: Int32Array;
  private readonly t: Int32Array;
  private curId = -1;
  private curDepth = 0;
  private cursor = 0;
  private readonly stack: number[] = [];
  private readonly dfsDepth: number[] = [];
  private readonly emitFn: (k: number, f: number) => void;

  constructor(model: Model, properties: readonly P[], opts: SearchOptions) {
    this.model = model;
    this.opts = opts;
    this.cm = compileModel(model, properties);
    this.store = new StateStore(this.cm.words, Math.max(model.instances.length, model.inits.length));
    this.canon = new Canonicalizer(opts.symmetry ? model : { ...model, indexes: [] }, this.cm.words, this.cm.pack);
    this.coverDepth = this.cm.coverProps.map(() => null);
    this.tmp = new Uint32Array(this.cm.words);
    this.s = new Int32Array(model.layout.nSlots);
    this.t = new Int32Array(model.layout.nSlots);
    this.emitFn = (k, f) => this.emit(k, f);
    this.startMs = Date.now();
  }

  /** What ended the search early, if anything did. */
  get finding(): Finding | null {
    return this.found;
  }

  /** States expanded or waiting: BFS queue length or DFS stack size. */
  get queued(): number {
    return this.opts.strategy === 'bfs' ? this.store.count - this.cursor : this.stack.length;
  }

  /** Depth of the state being expanded. */
  get depth(): number {
    return this.curDepth;
  }

  /** Stores the start states (checking each). Returns false when the search must stop. */
  insertStarts(): boolean {
    const { model } = this;
    for (let i = 0; i < model.inits.length && !this.found; i++) {
      let st: Int32Array;
      try {
        st = initState(model, model.inits[i] as (typeof model.inits)[number]);
      } catch (e) {
        if (!(e instanceof McError)) throw e;
        this.found = { kind: 'error', error: e, at: null };
        return false;
      }
      this.packCanonical(st);
      const r = this.store.insert(this.tmp, 0, -1, i);
      if (r >= 0) this.onNew(r, st, 0);
    }
    this.levelStarts.push(this.store.count);
    return !this.found;
  }

  /**
   * Expands states until the search ends: everything explored, a finding, or a limit. `tick` is
   * called every 1024 expansions and returns a reason to stop (a time limit), or null.
   */
  run(limits: Limits, tick: () => string | null): SearchEnd {
    const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
    let expansions = 0;
    for (;;) {
      const id = this.next(depthLimit);
      if (typeof id === 'string') return { kind: 'limit', reason: id };
      if (id < 0) return { kind: 'complete' };
      this.expandOne(id);
      if (this.found) return { kind: 'found', finding: this.found };
      if (limits.maxStates !== undefined && this.store.count >= limits.maxStates)
        return { kind: 'limit', reason: `state limit of ${limits.maxStates} reached` };
      if ((++expansions & 1023) === 0) {
        const stop = tick();
        if (stop !== null) return { kind: 'limit', reason: stop };
      }
    }
  }

  /** The next state to expand, -1 when none is left, or the reason a depth limit stops the search. */
  private next(depthLimit: number): number | string {
    if (this.opts.strategy === 'bfs') {
      if (this.cursor >= this.store.count) return -1;
      if (this.cursor === this.levelStarts[this.levelStarts.length - 1]) {
        this.curDepth++;
        this.levelStarts.push(this.store.count);
      }
      if (this.curDepth >= depthLimit) return `depth limit ${depthLimit} reached with ${this.store.count - this.cursor} states unexplored`;
      return this.cursor++;
    }
    const id = this.stack.pop();
    if (id === undefined) return -1;
    this.curDepth = this.dfsDepth[id] as number;
    if (this.curDepth >= depthLimit) return `depth limit ${depthLimit} reached`;
    return id;
  }

  /** Expands state `id`: stores its successors and checks the state for a deadlock. */
  private expandOne(id: number): void {
    this.curId = id;
    this.store.read(id, this.tmp, 0);
    this.cm.unpack(this.tmp, 0, this.s);
    let n: number;
    try {
      n = this.cm.expand(this.s, this.t, this.emitFn);
    } catch (e) {
      if (!(e instanceof ModelRuntimeError)) throw e;
      this.found = { kind: 'error', error: e, at: id };
      return;
    }
    if (n === 0 && this.opts.deadlock && !this.found && !this.cm.isEnd(this.s)) this.found = { kind: 'deadlock', id };
  }

  /** One successor of the state being expanded, in `t`: checks the step, stores the state. */
  private emit(k: number, f: number): void {
    if (this.found) return;
    this.generated++;
    this.packCanonical(this.t);
    if (f >= 0) {
      this.found = { kind: 'step', index: f, from: this.curId, via: k, state: new Int32Array(this.t) };
      return;
    }
    const r = this.store.insert(this.tmp, 0, this.curId, k);
    if (r >= 0) this.onNew(r, this.t, this.curDepth + 1);
    this.opts.onEdge?.(this.curId, r >= 0 ? r : -(r + 1), k);
  }

  /** Packs `st` into `tmp`, in canonical form under symmetry reduction. */
  private packCanonical(st: Int32Array): void {
    this.cm.pack(st, this.tmp, 0);
    if (this.canon.active) this.canon.canonical(st, this.tmp);
  }

  /** Checks a newly stored state: invariants and covers; queues it for DFS. */
  private onNew(id: number, st: Int32Array, depth: number): void {
    if (depth > this.maxDepth) this.maxDepth = depth;
    const bad = this.cm.firstViolated(st);
    if (bad >= 0) {
      this.found = { kind: 'invariant', index: bad, id };
      return;
    }
    const { coverDepth } = this;
    for (let i = 0; i < coverDepth.length; i++) if (coverDepth[i] === null && (this.cm.covers[i] as (x: Int32Array) => boolean)(st)) coverDepth[i] = depth;
    if (this.opts.strategy === 'dfs') {
      this.dfsDepth[id] = depth;
      this.stack.push(id);
    }
  }

  /** Reads state `id` into a fresh array. */
  state(id: number): Int32Array {
    const w = new Uint32Array(this.cm.words);
    const s = new Int32Array(this.model.layout.nSlots);
    this.store.read(id, w, 0);
    this.cm.unpack(w, 0, s);
    return s;
  }

  /** Calls the progress hook about once a second and returns the reason a time limit stops the search (for `run`). */
  ticker(limits: Limits, hooks: Hooks): () => string | null {
    let lastReport = this.startMs;
    const limit = limits.timeLimitSec;
    return () => {
      const now = Date.now();
      if (hooks.onProgress && now - lastReport >= 1000) {
        lastReport = now;
        hooks.onProgress(this.progress());
      }
      return limit !== undefined && now - this.startMs >= limit * 1000 ? `time limit of ${limit}s reached` : null;
    };
  }

  /** Progress figures for hooks. */
  progress(): Parameters<NonNullable<Hooks['onProgress']>>[0] {
    const el = Date.now() - this.startMs;
    return {
      generated: this.generated,
      distinct: this.store.count,
      queue: this.queued,
      depth: this.curDepth,
      elapsedMs: el,
      statesPerSec: Math.round((this.store.count * 1000) / Math.max(1, el)),
    };
  }
}
