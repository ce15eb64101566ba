/**
 * The inner loop of the explicit engine: expand states, check what must be checked on each new
 * state and step, store the successors. Why this module exists: the main thread and every worker
 * thread run exactly this loop over the same shared stores, so it lives apart from the
 * coordination (search.ts) and reads only plain data (compiled functions, typed arrays), which a
 * worker can rebuild.
 *
 * Positions: every state has a global position in breadth-first order (its id in the exact store;
 * for the compact stores, the states before its level plus its index in its level's set). A
 * frontier store holds the states being expanded and a target store receives new states; for the
 * exact store both are the one visited set. For the compact stores, `seen` answers whether a
 * state of an earlier level was already stored (fingerprints or bits), and the target is the
 * exact set of the next level.
 *
 * Batches: a breadth-first expansion (`expandRange`) holds the successors it meets and stores them
 * BATCH at a time, first reading the table slots and stored states they will meet in one pass
 * (`StateStore.touch`) so that the cache misses overlap; the order of storing, and so every id,
 * count, finding and figure, is that of storing each successor at once (expanderBatch.test.ts).
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import type { LoadedModel } from '../../model/lang/compile.js';
import { type StateStore, hashWords } from './stateStore.js';
import { StoreFullError } from './storeMemory.js';
import type { Canonicalizer } from './symmetry.js';

/** Something found that ends the search: a broken property or a model error (plain data: it crosses threads). */
export type Finding =
  /** A new state `pos`, reached from `from` by instance `via`, breaks invariant `index`. */
  | { readonly kind: 'invariant'; readonly index: number; readonly pos: number; readonly from: number; readonly via: number }
  /** The step from `from` by `via` to `state` (not stored) breaks step property `index`. */
  | { readonly kind: 'step'; readonly index: number; readonly from: number; readonly via: number; readonly state: Int32Array }
  | { readonly kind: 'deadlock'; readonly pos: number }
  /** A model error while expanding `at` (null: while building a start state). */
  | { readonly kind: 'error'; readonly code: string; readonly message: string; readonly runtime: boolean; readonly at: number | null };

/** The finding of a model error raised while expanding the state at `at` (or checking one of its successors). */
function modelError(e: ModelRuntimeError, at: number): Finding {
  return { kind: 'error', code: e.code, message: e.message, runtime: true, at };
}

/** The order in which a single thread meets findings: by the state expanded, then by rule instance (an error first). */
export function findingKey(f: Finding): [number, number] {
  switch (f.kind) {
    case 'invariant':
    case 'step':
      return [f.from, f.via];
    case 'deadlock':
      return [f.pos, Number.MAX_SAFE_INTEGER];
    case 'error':
      return [f.at ?? -1, -1];
  }
}

/** The first of two findings in single-thread order. */
export function firstFinding(a: Finding | null, b: Finding | null): Finding | null {
  if (!a || !b) return a ?? b;
  const [x, y] = findingKey(a);
  const [u, v] = findingKey(b);
  return x < u || (x === u && y <= v) ? a : b;
}

/**
 * A reduction of the successors explored (partial-order reduction): emits the successors of `s`
 * through a subset of the enabled rule instances, and returns how many instances are enabled (so
 * that deadlocks are still found).
 */
export interface Reduction {
  expand(s: Int32Array, t: Int32Array, emit: (k: number, f: number) => void): number;
}

/** Whether a state of an earlier level is stored (compact stores; read-only while a level is expanded). */
export interface SeenSet {
  has(w: Uint32Array): boolean;
}

/** Where the expander reads and writes states. */
export interface ExpanderStores {
  /** Holds the states being expanded, at `frontierBase + id`. */
  readonly frontier: StateStore;
  readonly frontierBase: number;
  /** Receives new states, at `targetBase + id`. */
  readonly target: StateStore;
  readonly targetBase: number;
  /** Compact stores: the states of earlier levels. */
  readonly seen: SeenSet | null;
}

/** What the expander does besides storing: options of the search. */
export interface ExpanderOptions {
  readonly deadlock: boolean;
  /** Insert with compare-and-swap (other threads insert into the same target); `Expander.shared` changes it. */
  readonly shared: boolean;
  /** Store parents (the target keeps them): depth-first search and graph building. */
  readonly parents: boolean;
  /** Called with each new state's position (depth-first search queues it). */
  readonly onNew?: (pos: number) => void;
  /** Called for each transition explored, with source and target positions (graph building). */
  readonly onEdge?: (from: number, to: number, instance: number) => void;
  /**
   * Shard `index` of `count`: of the successors of the start states (depth 1), keep only those
   * whose hash falls to this shard (every reachable state is reachable through some shard's).
   */
  readonly shard?: { readonly index: number; readonly count: number } | null;
}

/**
 * Successors a breadth-first expansion holds before it stores them (`Expander.flush`): their table
 * slots and stored states are read as one batch (`StateStore.touch`), so the cache misses of their
 * lookups overlap instead of coming one after another. 256 successors touch at most 32 KiB
 * (64 to 256 were as fast in a micro-benchmark of lookups; 1,024 slower).
 */
const BATCH = 256;

/** Seed of the hash that splits the start states' successors among shards. */
const SHARD_SEED = 0x3c6ef372;

/** The shard (0-based) of `count` a packed state of depth 1 belongs to. */
export function shardOf(w: Uint32Array, count: number): number {
  return hashWords(w, 0, w.length, SHARD_SEED) % count;
}

/** The figures one thread gathers; the coordinator adds them up. */
export interface ExpanderFigures {
  /** States expanded. */
  expanded: number;
  generated: number;
  maxDepth: number;
  /** Depth at which each cover was first reached, -1 when not (yet). */
  readonly coverDepth: Int32Array;
}

export class Expander {
  readonly figures: ExpanderFigures;
  finding: Finding | null = null;
  /**
   * Set when the target store could not grow while a state was expanded: that state counts as not
   * expanded (its figures are taken back; the successors it stored stay, as they are reachable), and
   * the search ends there (`expandRange` returns its position).
   */
  full: StoreFullError | null = null;
  /** Insert with compare-and-swap: other threads insert into the same target (a parallel round). */
  shared: boolean;
  private stores: ExpanderStores;
  private readonly s: Int32Array;
  private readonly t: Int32Array;
  private readonly w: Uint32Array;
  private readonly r: Uint32Array;
  private curPos = 0;
  private childDepth = 0;
  private readonly emitFn: (k: number, f: number) => void;
  /**
   * The successors held while `expandRange` runs, in the order they were met (stored in that order
   * by `flush`, so ids, counts, findings and figures are those of storing each at once): packed
   * words, the position and rule instance they came from, and the figures to go back to if storing
   * one of them ends the search (`generated` and `expanded` just after it was met, `generated` before
   * its parent was expanded).
   */
  private batching = false;
  private held = 0;
  private readonly heldWords: Uint32Array;
  private readonly heldFrom = new Float64Array(BATCH);
  private readonly heldVia = new Int32Array(BATCH);
  private readonly heldGenerated = new Float64Array(BATCH);
  private readonly heldExpanded = new Float64Array(BATCH);
  private readonly heldGeneratedBefore = new Float64Array(BATCH);
  private readonly heldHashes = new Int32Array(BATCH);
  /** The two-word forms of the successors held, for a collapsing target (`StateStore.touchCollapsed`). */
  private readonly heldForms = new Uint32Array(2 * BATCH);
  /** A successor held, unpacked again to check it once stored. */
  private readonly u: Int32Array;
  /** Generated before the state being expanded. */
  private generatedBefore = 0;
  /** Where `expandRange` stops when storing a held successor ended the search: its parent's position. */
  private stoppedAt = -1;
  /** What `StateStore.touch` read (kept so that the reads are not optimised away). */
  touched = 0;

  constructor(
    private readonly cm: LoadedModel,
    private readonly canon: Canonicalizer,
    private readonly por: Reduction | null,
    nSlots: number,
    stores: ExpanderStores,
    private readonly opts: ExpanderOptions,
  ) {
    this.stores = stores;
    this.shared = opts.shared;
    this.s = new Int32Array(nSlots);
    this.t = new Int32Array(nSlots);
    this.w = new Uint32Array(cm.words);
    this.r = new Uint32Array(cm.words);
    this.u = new Int32Array(nSlots);
    this.heldWords = new Uint32Array(BATCH * cm.words);
    this.figures = { expanded: 0, generated: 0, maxDepth: 0, coverDepth: new Int32Array(cm.covers.length).fill(-1) };
    this.emitFn = (k, f) => this.emit(k, f);
  }

  setShared(shared: boolean): void {
    this.shared = shared;
  }

  /** Points the expander at other stores (a new level of a compact store, or grown buffers). */
  setStores(stores: ExpanderStores): void {
    this.stores = stores;
  }

  /**
   * Checks and stores a start state (init index `via`) given in `st`; returns its position when
   * new, -1 otherwise.
   */
  insertStart(st: Int32Array, via: number): number {
    this.packCanonical(st, this.w);
    if (this.stores.seen?.has(this.w)) return -1;
    const r = this.shared ? this.stores.target.insertShared(this.w, 0) : this.stores.target.insert(this.w, 0, -1, via);
    if (r < 0) return -1;
    this.childDepth = 0;
    this.curPos = -1;
    const pos = this.stores.targetBase + r;
    this.onNew(pos, st, -1, via);
    return pos;
  }

  /**
   * Expands the states at positions `lo .. hi-1` of the frontier (at breadth-first depth `depth`).
   * Stops at the first finding, or after the state at which `maxStates` states are stored. Returns
   * the position after the last state fully expanded. The successors are held and stored in
   * batches, with the same outcome as storing each at once (not when `onEdge` is given: a graph
   * is built one successor at a time).
   */
  expandRange(lo: number, hi: number, depth: number, maxStates = Number.POSITIVE_INFINITY): number {
    this.childDepth = depth + 1;
    // Not when building a graph: `onEdge` may read what the canonicalisation of its edge's successor left (its permutation).
    this.batching = this.opts.onEdge === undefined;
    this.stoppedAt = -1;
    try {
      for (let p = lo; p < hi; p++) {
        if (!this.expandAt(p)) return this.stoppedAt >= 0 ? this.stoppedAt : p;
        // The held successors can add at most `held` states: store them only when that could reach the limit.
        const { target, targetBase } = this.stores;
        if (targetBase + target.count + this.held >= maxStates) {
          if (!this.flush()) return this.stoppedAt;
          if (targetBase + target.count >= maxStates) return p + 1;
        }
      }
      return this.flush() ? hi : this.stoppedAt;
    } finally {
      this.held = 0;
      this.batching = false;
    }
  }

  /** Depth of the successors of the state being expanded. */
  get currentChildDepth(): number {
    return this.childDepth;
  }

  /**
   * Expands the state at position `pos` whose successors are at depth `childDepth` (depth-first
   * search). Its successors are held and stored together, as `expandRange` does (so their lookups
   * overlap), with the same outcome as storing each at once; not when `onEdge` is given.
   */
  expandOne(pos: number, childDepth: number): boolean {
    this.childDepth = childDepth;
    this.batching = this.opts.onEdge === undefined;
    // Nothing is left held: `flush` empties the batch, and a search that ends (a finding, a full store) drops the rest.
    return this.expandAt(pos) && this.flush();
  }

  private expandAt(p: number): boolean {
    const { frontier, frontierBase } = this.stores;
    frontier.read(p - frontierBase, this.r, 0);
    this.cm.unpack(this.r, 0, this.s);
    this.curPos = p;
    this.figures.expanded++;
    const generated = this.figures.generated;
    this.generatedBefore = generated;
    let n: number;
    try {
      n = (this.por ?? this.cm).expand(this.s, this.t, this.emitFn);
    } catch (e) {
      if (e instanceof StoreFullError) {
        this.figures.expanded--;
        this.figures.generated = generated;
        this.full = e;
        return false;
      }
      if (!(e instanceof ModelRuntimeError)) throw e;
      // The successors met before the error are stored first, as they would have been at once.
      if (!this.flush()) return false;
      this.finding = modelError(e, p);
      return false;
    }
    if (this.finding || this.full) return false;
    if (n === 0 && this.opts.deadlock && !this.cm.isEnd(this.s)) {
      if (!this.flush()) return false;
      this.finding = { kind: 'deadlock', pos: p };
    }
    return this.finding === null;
  }

  /** One successor of the state being expanded, in `t`: checks the step, stores the state (or holds it, see `flush`). */
  private emit(k: number, f: number): void {
    if (this.finding || this.full) return;
    this.figures.generated++;
    const { t, w } = this;
    // The state expanded is canonical: a successor that agrees with it wherever a permutation acts is too.
    this.cm.pack(t, w, 0);
    if (this.canon.active && !this.canon.unchangedFrom(this.r, w)) this.canon.canonical(t, w);
    const shard = this.opts.shard;
    if (shard && this.childDepth === 1 && shardOf(w, shard.count) !== shard.index) return;
    if (f >= 0) {
      // A successor held before this step comes first in the order of a search that stores at once.
      if (!this.flush()) return;
      this.finding = { kind: 'step', index: f, from: this.curPos, via: k, state: new Int32Array(t) };
      return;
    }
    const { seen, target, targetBase } = this.stores;
    if (seen?.has(w)) return;
    if (this.batching) {
      const i = this.held++;
      const hw = this.heldWords;
      const nw = w.length;
      for (let j = 0, o = i * nw; j < nw; j++) hw[o + j] = w[j] as number;
      this.heldFrom[i] = this.curPos;
      this.heldVia[i] = k;
      this.heldGenerated[i] = this.figures.generated;
      this.heldExpanded[i] = this.figures.expanded;
      this.heldGeneratedBefore[i] = this.generatedBefore;
      if (this.held === BATCH) this.flush();
      return;
    }
    const r = this.shared ? target.insertShared(w, 0) : target.insert(w, 0, this.curPos, k);
    if (r >= 0) this.onNew(targetBase + r, t, this.curPos, k);
    this.opts.onEdge?.(this.curPos, targetBase + (r >= 0 ? r : -(r + 1)), k);
  }

  /**
   * Stores the successors held, in the order they were met, and checks the new ones. Returns false
   * when that ended the search (a finding, or a store that could not grow): the figures are then
   * those of a search that had stored each successor at once and stopped there, and `stoppedAt` is
   * the position of the state whose successor it was.
   */
  private flush(): boolean {
    const n = this.held;
    if (n === 0) return this.finding === null && this.full === null;
    this.held = 0;
    const { target, targetBase } = this.stores;
    const words = this.cm.words;
    const hw = this.heldWords;
    const hs = this.heldHashes;
    // A collapsing store looks up a state's two-word form, known once its head is stored: the
    // heads are stored first (up to `heads`, fewer when the head store could not grow).
    const collapsing = target.collapsing;
    const forms = collapsing ? this.heldForms : hw;
    const stride = collapsing ? 2 : words;
    let heads = n;
    if (collapsing) heads = target.touchCollapsed(hw, n, forms, hs, this.shared);
    else this.touched ^= target.touch(hw, n, hs);
    for (let i = 0; i < n; i++) {
      const from = this.heldFrom[i] as number;
      const via = this.heldVia[i] as number;
      const off = i * words;
      const fo = i * stride;
      let r: number;
      try {
        if (i === heads) throw target.headFull;
        r = this.shared ? target.insertSharedHashed(forms, fo, hs[i] as number) : target.insertHashed(forms, fo, hs[i] as number, from, via);
      } catch (e) {
        if (!(e instanceof StoreFullError)) throw e;
        return this.fullAt(i, e);
      }
      if (r >= 0) {
        this.cm.unpack(hw, off, this.u);
        try {
          this.onNew(targetBase + r, this.u, from, via);
        } catch (e) {
          // Stored and checked but not queued (the depth-first stack could not grow): the search ends there, as when stored at once.
          if (e instanceof StoreFullError) return this.fullAt(i, e);
          // A property that cannot be evaluated on the new state: a model error of its parent's expansion, as when stored at once.
          if (!(e instanceof ModelRuntimeError)) throw e;
          this.finding = modelError(e, from);
        }
        if (this.finding) {
          this.figures.generated = this.heldGenerated[i] as number;
          this.figures.expanded = this.heldExpanded[i] as number;
          this.stoppedAt = from;
          return false;
        }
      }
    }
    return this.finding === null && this.full === null;
  }

  /**
   * Ends a flush at held successor `i`, which a store (or the depth-first stack) could not take:
   * its parent counts as not expanded, and what was stored before it stays.
   */
  private fullAt(i: number, e: StoreFullError): false {
    this.figures.expanded = (this.heldExpanded[i] as number) - 1;
    this.figures.generated = this.heldGeneratedBefore[i] as number;
    this.full = e;
    this.stoppedAt = this.heldFrom[i] as number;
    return false;
  }

  /** Packs `st` into `w`, in canonical form under symmetry reduction. */
  private packCanonical(st: Int32Array, w: Uint32Array): void {
    this.cm.pack(st, w, 0);
    if (this.canon.active) this.canon.canonical(st, w);
  }

  /** Checks a newly stored state: invariants and covers. */
  private onNew(pos: number, st: Int32Array, from: number, via: number): void {
    const depth = this.childDepth;
    const fig = this.figures;
    if (depth > fig.maxDepth) fig.maxDepth = depth;
    const bad = this.cm.firstViolated(st);
    if (bad >= 0) {
      this.finding = { kind: 'invariant', index: bad, pos, from, via };
      return;
    }
    const cd = fig.coverDepth;
    for (let i = 0; i < cd.length; i++) if (cd[i] === -1 && (this.cm.covers[i] as (x: Int32Array) => boolean)(st)) cd[i] = depth;
    this.opts.onNew?.(pos);
  }
}

/** Slots of the control array that threads share while a level is expanded. */
export const CTRL = {
  /** Next position of the level to claim (claimed with an atomic add). */
  cursor: 0,
  /** End of the level. */
  end: 1,
  /** Set when a finding ends the search. */
  stop: 2,
  /** Set when the coordinator wants every thread idle (a limit, an interrupt, a checkpoint). */
  pause: 3,
  /** Threads stop claiming when the target store holds this many states (room reserved for a round). */
  limit: 4,
  /** Set by a thread that stopped for want of room. */
  need: 5,
  /** States a claim takes. */
  chunk: 6,
  /** Depth of the level. */
  depth: 7,
  /** Next id to claim when the threads hash the stored states for a larger table (`StateStore.hashShared`). */
  rehash: 8,
  /** Threads stop claiming when a collapsed target store holds this many heads (their room, reserved apart; not read for a plain store). */
  headLimit: 9,
} as const;
export const CTRL_SIZE = 10;

/** What one claim did. */
export type Claim = 'expanded' | 'level-done' | 'found' | 'halted' | 'need-room';

/**
 * Claims the next chunk of the level from the shared cursor and expands it (every thread's step).
 * `halted`: the search is stopping or pausing; `need-room`: the round's reserved room is used up.
 * A chunk claimed is always expanded to its end (or to a finding), so after every thread is idle,
 * every position before the cursor is done.
 */
export function claimChunk(expander: Expander, ctrl: Uint32Array, target: StateStore): Claim {
  if (Atomics.load(ctrl, CTRL.stop) || Atomics.load(ctrl, CTRL.pause)) return 'halted';
  if (target.count >= (ctrl[CTRL.limit] as number) || (target.collapsing && target.headCount >= (ctrl[CTRL.headLimit] as number))) {
    Atomics.store(ctrl, CTRL.need, 1);
    return 'need-room';
  }
  const chunk = ctrl[CTRL.chunk] as number;
  const a = Atomics.add(ctrl, CTRL.cursor, chunk);
  const end = ctrl[CTRL.end] as number;
  if (a >= end) return 'level-done';
  expander.expandRange(a, Math.min(end, a + chunk), ctrl[CTRL.depth] as number);
  if (expander.finding) {
    Atomics.store(ctrl, CTRL.stop, 1);
    return 'found';
  }
  return 'expanded';
}
