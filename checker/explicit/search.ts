/**
 * The search over the state space, shared by the safety check (explicit.ts) and the liveness graph
 * builder (graph.ts). Why this module exists: it owns the visited set and the order of the walk
 * (start states, then breadth-first levels or a depth-first stack) and coordinates the threads that
 * expand states; what is checked on a state or an edge is the expander's (expander.ts). It never
 * prints and returns what it found as data.
 *
 * Breadth-first search runs level by level: every state of level d is expanded (by this thread and
 * by worker threads, claiming chunks of the level from a shared cursor) before any state of level
 * d + 1, so a violation found is at the smallest depth where one exists, and the states stored are
 * the same set whatever the number of threads. The walk is a generator that yields where it waits
 * (for worker threads, or for a turn of the event loop so that a signal can stop it): the
 * synchronous entry point runs it to the end without threads, the asynchronous one awaits.
 */
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type CompiledModel, type Kinded, compileModel } from '../../model/lang/compile.js';
import type { Hooks, Limits, Progress, StoreKind } from '../engine.js';
import { BitstateSet } from './bitstate.js';
import { DFS_STACK, DfsStack } from './dfsStack.js';
import { CTRL, CTRL_SIZE, Expander, type ExpanderFigures, type ExpanderStores, type Finding, claimChunk, firstFinding } from './expander.js';
import { FingerprintSet } from './fingerprintSet.js';
import { LevelSpill } from './levelSpill.js';
import { PartialOrder, type ReductionData } from './partialOrder.js';
import { ID_BLOCK, StateStore } from './stateStore.js';
import { StoreFullError, allocate, refusedWhenFull, type MemoryLimit } from './storeMemory.js';
import { Canonicalizer } from './symmetry.js';
import type { SeenBuffers, WorkerInit, WorkerRound } from './workerPool.js';

/** How the search walks the state space. */
export interface SearchOptions {
  readonly strategy: 'bfs' | 'dfs';
  /** Store one canonical state per symmetry class. */
  readonly symmetry: boolean;
  /** Report a state with no enabled rule that is not a legal end state. */
  readonly deadlock: boolean;
  /** Default `exact`. */
  readonly store?: StoreKind;
  /** Bitstate: bytes of the bit array. */
  readonly memoryBytes?: number;
  /** Exact store: keep each state as the id of its first words and its last word (`StateStore`'s collapse). */
  readonly collapse?: boolean;
  /** Keep the parent of every state (depth-first search does anyway). */
  readonly parents?: boolean;
  /** The most table slots of the exact store (default 2^30; tests set fewer to see it full). */
  readonly maxTableSlots?: number;
  /**
   * The memory past which the stores do not grow (storeMemory.ts): the search then ends as a
   * limit; MC030 when not even the first table fits. None: only an allocation that fails ends it.
   */
  readonly memoryLimit?: MemoryLimit;
  /** Called for every transition explored, with the ids of its source and target states (graph building; exact store, one thread). */
  readonly onEdge?: (from: number, to: number, instance: number) => void;
  /** Partial-order reduction of the successors explored (breadth-first only). */
  readonly reduction?: ReductionData | null;
  /** Compact stores: the folder for the level files (a temporary one when absent). */
  readonly spillDir?: string;
  /** Bitstate: a seed that diversifies the hash functions (swarm shards). */
  readonly hashSeed?: number;
  /** Explore only shard `index` (0-based) of `count` (see expander.ts). */
  readonly shard?: { readonly index: number; readonly count: number } | null;
  /** Symmetry reduction: keep the permutation of each canonicalisation (`canon.permutation()`, read by `onEdge`). */
  readonly trackPermutation?: boolean;
  /** Exact store: the number of states expected (the liveness graph knows it from the safety search): its index is made at its final size, never rehashed. */
  readonly expectedStates?: number;
}

/** How a search ended. */
export type SearchEnd =
  | { readonly kind: 'complete' }
  | { readonly kind: 'found'; readonly finding: Finding }
  | { readonly kind: 'limit'; readonly reason: string };

/** What the walk waits for: a worker round to finish (a promise), or a turn of the event loop. */
export type Wait = Promise<void> | 'turn';

/** What the walk needs from outside while it runs. */
export interface WalkControl {
  /** Returns a reason to stop (time limit, interrupt), or null; called about every thousand states. */
  readonly tick: () => string | null;
  /** Worker threads for breadth-first levels (none: this thread alone). */
  readonly pool?: LevelPool | null;
  /** Smallest level handed to the worker threads (default 4096 states). */
  readonly parallelFrom?: number;
  /** Yield to the event loop after this many milliseconds of work (asynchronous runs). */
  readonly sliceMs?: number;
  /** Called at a pause (all threads idle, every claimed chunk done) when it is due; may save the search. */
  readonly atPause?: { due: () => boolean; run: () => void };
}

/** Worker threads that expand chunks of a level alongside this thread (workerPool.ts). */
export interface LevelPool {
  readonly size: number;
  /** Starts the worker threads (ahead of the first round, so that they start while small levels run). */
  start(): void;
  /** Resolves when every worker thread can take part in a round (starting them if needed). */
  whenReady(): Promise<void>;
  /** Starts a round: every worker claims chunks of the current level until none is left, or the search pauses or stops. */
  startRound(search: Search): void;
  /**
   * Starts a step of the fill of the target store's larger table `table`: `hash`, every worker hashes stored states
   * (`StateStore.hashShared`); `put`, worker i (from 1) puts the ids of part i (`StateStore.fillPart`), handing the ids it
   * could not put to `Search.addOverflow`. Returns the workers that take part.
   */
  startRehash(search: Search, table: SharedArrayBuffer, step: 'hash' | 'put'): number;
  /** Resolves when every worker is idle again; their figures and findings are then in the search. */
  idle(): Promise<void>;
}

/**
 * The most states a thread claims at once in a round: 4,096, or 2^18 / the rule instances when that
 * is smaller, but never fewer than 256. Large claims keep the successors of neighbouring states
 * (which meet the same states again: two orders of two independent steps) in one thread's caches
 * instead of two cores' (at the bench size with two threads, 4,096 against 256 cost 10-20 % less CPU
 * in three pairs of runs); a round reserves room for every successor of every claim in flight.
 */
function maxChunk(instances: number): number {
  return Math.min(4096, Math.max(256, Math.floor(2 ** 18 / Math.max(1, instances))));
}

/** Smallest level handed to worker threads by default (smaller levels are not worth a round trip). */
const PARALLEL_FROM = 4096;
/** States expanded between two ticks (progress reports, time limit, interrupt) of a one-thread walk. */
const TICK_EVERY = 1024;

/** The walk over the reachable states of one model. */
export class Search<P extends Kinded = Kinded> {
  readonly model: Model;
  readonly cm: CompiledModel<P>;
  readonly canon: Canonicalizer;
  readonly opts: SearchOptions;
  readonly kind: StoreKind;
  /** Exact store: every state. Compact stores: the states of the level being expanded. */
  readonly store: StateStore;
  /** Compact stores: the states found for the next level. */
  private next: StateStore | null = null;
  /** Compact stores: earlier levels, and the level files. */
  readonly seen: FingerprintSet | BitstateSet | null = null;
  readonly spill: LevelSpill | null = null;
  /** BFS: the first position of each level; the last entry is the end of the level being expanded. */
  readonly levelStarts: number[] = [0];
  /** The level being expanded. */
  depth = 0;
  /** Shared control words (cursor, end of level, stop/pause flags), read by the worker threads. */
  readonly ctrl = new Uint32Array(new SharedArrayBuffer(4 * CTRL_SIZE));
  /** This thread's expander. */
  readonly expander: Expander;
  /** This thread's partial-order reduction, when on. */
  readonly reduction: PartialOrder | null;
  /** 1 for each cover reached in a finished level (the reduction stops looking for it). */
  readonly coversDone: Uint8Array;
  /** Figures of earlier runs resumed from a checkpoint (slot 0), and of the worker threads (their latest totals). */
  readonly otherFigures: ExpanderFigures[] = [];
  /** Elapsed time of the runs this one resumes. */
  elapsedBefore = 0;
  startMs: number;
  private found: Finding | null = null;
  /** The depth-first walk's stack (null for a breadth-first search). */
  private readonly stack: DfsStack | null;

  constructor(model: Model, properties: readonly P[], opts: SearchOptions) {
    this.model = model;
    this.opts = opts;
    this.kind = opts.store ?? 'exact';
    this.cm = compileModel(model, properties);
    this.canon = new Canonicalizer(opts.symmetry ? model : { ...model, indexes: [] }, this.cm.words, this.cm.pack, { track: opts.trackPermutation ?? false });
    const parents = opts.strategy === 'dfs' || (opts.parents ?? false);
    const maxVia = Math.max(model.instances.length, model.inits.length);
    const expected = opts.expectedStates ?? 0;
    // The size the index would reach (it grows past a load of 0.75): made at once, no old index left for the collector.
    const tableBits = expected > 0 ? Math.max(16, Math.ceil(Math.log2(expected / 0.75 + 1))) : undefined;
    const collapse = this.kind === 'exact' && (opts.collapse ?? false);
    const memoryLimit = opts.memoryLimit;
    const limit = memoryLimit !== undefined ? { memoryLimit } : {};
    const label = this.kind === 'exact' ? 'the states' : "a level's states";
    // A search whose first tables, bit array or start states do not fit is refused (MC030): there is no search to keep.
    const cannotStart = '--max-memory: the search cannot start';
    this.store = refusedWhenFull(
      'MC030',
      cannotStart,
      () =>
        new StateStore(this.cm.words, {
          parents,
          maxVia,
          collapse,
          label,
          ...limit,
          ...(tableBits !== undefined ? { tableBits } : {}),
          ...(opts.maxTableSlots !== undefined ? { maxTableSlots: opts.maxTableSlots } : {}),
        }),
    );
    if (this.kind !== 'exact') {
      this.next = refusedWhenFull('MC030', cannotStart, () => new StateStore(this.cm.words, { label, ...limit }));
      this.seen =
        this.kind === 'hash-compaction'
          ? new FingerprintSet(this.cm.words, undefined, memoryLimit)
          : refusedWhenFull(
              'MC030',
              '--memory: the bit array does not fit',
              () => new BitstateSet(this.cm.words, opts.memoryBytes ?? 2 ** 30, opts.hashSeed ?? 0, undefined, memoryLimit),
            );
      this.spill = new LevelSpill(this.cm.words, opts.spillDir);
    }
    this.stack = opts.strategy === 'dfs' ? refusedWhenFull('MC030', cannotStart, () => new DfsStack(memoryLimit)) : null;
    this.coversDone = new Uint8Array(new SharedArrayBuffer(Math.max(1, this.cm.coverProps.length)));
    this.reduction = opts.reduction ? new PartialOrder(opts.reduction, this.cm.expand, this.coversDone) : null;
    this.expander = new Expander(this.cm, this.canon, this.reduction, model.layout.nSlots, this.storesFor(), {
      deadlock: opts.deadlock,
      shared: false,
      parents,
      ...(opts.strategy === 'dfs' ? { onNew: (pos: number) => this.queueDfs(pos) } : {}),
      ...(opts.onEdge ? { onEdge: opts.onEdge } : {}),
      shard: opts.shard ?? null,
    });
    this.startMs = Date.now();
  }

  /** Where states of the current level are read and new ones written. */
  storesFor(): ExpanderStores {
    const base = this.levelStarts[this.levelStarts.length - 1] as number;
    if (this.kind === 'exact') return { frontier: this.store, frontierBase: 0, target: this.store, targetBase: 0, seen: null };
    const frontierBase = this.levelStarts[this.levelStarts.length - 2] ?? 0;
    return { frontier: this.store, frontierBase, target: this.next as StateStore, targetBase: base, seen: this.seen };
  }

  /** The store receiving new states. */
  get target(): StateStore {
    return this.next ?? this.store;
  }

  /** What ended the search early, if anything did. */
  get finding(): Finding | null {
    return this.found;
  }

  /** States stored so far (distinct states, or canonical representatives under symmetry reduction). */
  get count(): number {
    if (this.kind === 'exact') return this.store.count;
    return (this.levelStarts[this.levelStarts.length - 1] as number) + (this.next as StateStore).count;
  }

  /** States expanded or waiting: the rest of the level and the next one (BFS), or the stack (DFS). */
  get queued(): number {
    return this.opts.strategy === 'bfs' ? this.count - Math.min(this.ctrl[CTRL.cursor] as number, this.count) : (this.stack?.length ?? 0);
  }

  /** The figures of all threads added up (and of the runs this one resumes). */
  figures(): { expanded: number; byOthers: number; generated: number; maxDepth: number; coverDepth: (number | null)[] } {
    const all = [this.expander.figures, ...this.otherFigures.filter((f): f is ExpanderFigures => f !== undefined)];
    const coverDepth = Array.from(this.expander.figures.coverDepth, (_, i) => {
      let best = -1;
      for (const f of all) {
        const d = f.coverDepth[i] as number;
        if (d >= 0 && (best < 0 || d < best)) best = d;
      }
      return best < 0 ? null : best;
    });
    const workers = this.otherFigures.slice(1).filter((f): f is ExpanderFigures => f !== undefined);
    return {
      expanded: all.reduce((n, f) => n + f.expanded, 0),
      byOthers: workers.reduce((n, f) => n + f.expanded, 0),
      generated: all.reduce((n, f) => n + f.generated, 0),
      maxDepth: Math.max(...all.map((f) => f.maxDepth)),
      coverDepth,
    };
  }

  /** Bytes of the visited set: all of the exact store, the fingerprints or bits of a compact one. */
  storeBytes(): number {
    return this.seen ? this.seen.bytes() : this.store.bytes();
  }

  /** Compact stores: the most bytes the two levels in memory (being expanded, being found) held at once. */
  queueBytes(): number {
    return Math.max(this.peakQueueBytes, this.store.bytes() + (this.next?.bytes() ?? 0));
  }
  private peakQueueBytes = 0;

  /** The slot of worker `i`'s figures in `otherFigures`. */
  workerSlot(i: number): number {
    return 1 + i;
  }

  /** What a worker thread needs to expand states of this search. */
  workerInit(): WorkerInit {
    const { model } = this;
    return {
      sources: this.cm.sources,
      slotNames: model.layout.slotNames,
      nSlots: model.layout.nSlots,
      symmetry: this.canon.active ? { indexes: model.indexes, layout: model.layout } : null,
      deadlock: this.opts.deadlock,
      ctrl: this.ctrl.buffer as SharedArrayBuffer,
      reduction: this.opts.reduction ?? null,
      coversDone: this.coversDone.buffer as SharedArrayBuffer,
      shard: this.opts.shard ?? null,
    };
  }

  /** The stores of the current level, for a worker round. */
  roundMessage(): WorkerRound {
    const st = this.storesFor();
    const seen: SeenBuffers | null =
      this.seen instanceof FingerprintSet
        ? { kind: 'fingerprints', buffers: this.seen.buffers() }
        : this.seen instanceof BitstateSet
          ? { kind: 'bits', buffers: this.seen.buffers(), seed: this.opts.hashSeed ?? 0 }
          : null;
    return {
      type: 'round',
      frontier: st.frontier.buffers(),
      frontierBase: st.frontierBase,
      target: st.target.buffers(),
      targetBase: st.targetBase,
      seen,
    };
  }

  /** Records a finding of another thread (keeping the first in single-thread order). */
  addFinding(f: Finding | null): void {
    this.found = firstFinding(this.found, f);
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
        this.found = { kind: 'error', code: e.code, message: e.message, runtime: e.name === 'ModelRuntimeError', at: null };
        return false;
      }
      try {
        this.expander.insertStart(st, i);
      } catch (e) {
        // A property that cannot be evaluated in a start state (a cover's unwrap of none): a model error there.
        if (!(e instanceof ModelRuntimeError)) throw e;
        this.found = { kind: 'error', code: e.code, message: e.message, runtime: true, at: null };
        return false;
      }
      this.found = this.expander.finding;
    }
    if (this.found) return false;
    this.finishLevel();
    return true;
  }

  /** Closes the level just found (the start states, or the successors of the level expanded) and makes it the one to expand. */
  private finishLevel(): void {
    if (this.next && this.seen && this.spill) {
      this.peakQueueBytes = this.queueBytes();
      const level = this.levelStarts.length - 1;
      this.commitSeen(this.next);
      // A file that cannot be written (a full disk) ends the search here; a resumed search finishes the level again (committing
      // its states to the seen set again changes nothing).
      this.spill.write(level, this.next.slices());
      const done = this.store;
      (this as { store: StateStore }).store = this.next;
      this.next = done;
      this.next.clear();
    }
    this.levelStarts.push(this.kind === 'exact' ? this.store.count : (this.levelStarts[this.levelStarts.length - 1] as number) + this.store.count);
    this.expander.setStores(this.storesFor());
    this.figures().coverDepth.forEach((d, i) => {
      if (d !== null) this.coversDone[i] = 1;
    });
  }

  /** Adds the states of a finished level to the fingerprints or bits of the compact store. */
  private commitSeen(level: StateStore): void {
    if (this.seen instanceof BitstateSet) {
      this.seen.commit(level.slices());
      return;
    }
    const fp = this.seen as FingerprintSet;
    const n = level.count;
    const [hi, lo] = allocate(8 * n, "the fingerprints of a level's states", this.opts.memoryLimit, () => [new Uint32Array(n), new Uint32Array(n)]);
    const w = new Uint32Array(this.cm.words);
    for (let id = 0; id < n; id++) {
      level.read(id, w, 0);
      const [h, l] = fp.fingerprint(w);
      hi[id] = h;
      lo[id] = l;
    }
    fp.commit(hi, lo);
  }

  /** The positions of the level being expanded. */
  levelRange(): [number, number] {
    const n = this.levelStarts.length;
    return [this.levelStarts[n - 2] as number, this.levelStarts[n - 1] as number];
  }

  /**
   * The breadth-first walk from the start states (already stored) to the end: expands every level
   * in turn, with worker threads when `ctl.pool` is given. Yields where it waits.
   */
  *bfs(limits: Limits, ctl: WalkControl): Generator<Wait, SearchEnd> {
    const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
    let resumeCursor: number | null = this.resumeCursor;
    this.resumeCursor = null;
    for (;;) {
      const [lo, hi] = this.levelRange();
      if (lo >= hi) return { kind: 'complete' };
      if (this.depth >= depthLimit) return { kind: 'limit', reason: `depth limit ${depthLimit} reached with ${this.count - lo} states unexplored` };
      this.ctrl[CTRL.cursor] = resumeCursor ?? lo;
      this.ctrl[CTRL.end] = hi;
      resumeCursor = null;
      const from = ctl.parallelFrom ?? PARALLEL_FROM;
      if (hi - lo >= from / 8) ctl.pool?.start();
      const end = yield* this.expandLevel(limits, ctl, hi - lo >= from ? (ctl.pool ?? null) : null);
      if (end) return end;
      try {
        this.finishLevel();
      } catch (e) {
        // The level is expanded and kept as it was (a compact store's set did not grow): the search ends here, as at a pause at
        // the end of the level, from which a resumed search finishes the level.
        if (e instanceof StoreFullError) return { kind: 'limit', reason: this.fullReason(e) };
        throw e;
      }
      this.depth++;
    }
  }

  /** The reason a search ends when a store cannot take more states: where, why, and what goes further. */
  private fullReason(e: StoreFullError): string {
    const n = this.count;
    // A file the search keeps (a level's states, a checkpoint) could not be written: more disk, not memory, goes further.
    if (e.because === 'disk') return `the search stopped at ${n} state${n === 1 ? '' : 's'}: ${e.message}`;
    const limit = e.because === 'limit' ? ' (or a higher --max-memory)' : '';
    // The liveness graph's search (the one that records edges): only more memory goes further.
    if (this.opts.onEdge)
      return `the liveness graph is full at ${n} state${n === 1 ? '' : 's'}: ${e.message}${limit ? '; a higher --max-memory goes further' : ''}`;
    // The walk's own stack (8 bytes a waiting state, besides the store's parents): a breadth-first search keeps neither.
    // (Its first chunk is taken before the search starts: it is full only past 65,536 states.)
    if (e.what === DFS_STACK) return `the depth-first stack is full at ${n} states: ${e.message}; the breadth-first strategy goes further${limit}`;
    // Collapsing saves bytes, not table slots: a table at its most slots is passed only by a compact store (breadth-first only).
    const compact = this.opts.strategy === 'dfs' ? 'the breadth-first strategy with --store hash-compaction' : '--store hash-compaction';
    const further =
      this.kind === 'exact'
        ? this.opts.collapse || e.because === 'slots'
          ? `${compact} goes further`
          : `--collapse or ${compact} go further`
        : this.kind === 'hash-compaction'
          ? '--store bitstate goes further'
          : 'a smaller --memory leaves more for the levels';
    return `the ${this.kind} store is full at ${n} state${n === 1 ? '' : 's'}: ${e.message}; ${further}${limit}`;
  }

  /** Set by a resumed checkpoint: the first position of the current level not yet expanded. */
  resumeCursor: number | null = null;

  /** Expands the current level (chunks claimed from the shared cursor). Returns how the search ends, or null when the level is done. */
  private *expandLevel(limits: Limits, ctl: WalkControl, pool: LevelPool | null): Generator<Wait, SearchEnd | null> {
    const ctrl = this.ctrl;
    for (;;) {
      const stopReason = pool ? yield* this.parallelRound(limits, ctl, pool) : this.soloRound(limits, ctl);
      if (stopReason === 'turn') {
        yield 'turn';
        continue;
      }
      // Every chunk claimed is done: a cursor past the end of the level means the level is done.
      const cursor = Math.min(ctrl[CTRL.cursor] as number, ctrl[CTRL.end] as number);
      ctrl[CTRL.cursor] = cursor;
      Atomics.store(ctrl, CTRL.need, 0);
      Atomics.store(ctrl, CTRL.pause, 0);
      if (this.found) return { kind: 'found', finding: this.found };
      if (ctl.atPause?.due()) {
        try {
          ctl.atPause.run();
        } catch (e) {
          // A checkpoint that cannot be written (a full disk): the search ends here, every thread idle.
          if (e instanceof StoreFullError) return { kind: 'limit', reason: this.fullReason(e) };
          throw e;
        }
      }
      if (stopReason !== null) return { kind: 'limit', reason: stopReason };
      if (cursor >= (ctrl[CTRL.end] as number)) return null;
    }
  }

  /**
   * This thread alone expands chunks until the level is done, a finding, a limit (returned), a
   * pause for a checkpoint (null), or its time slice ends ('turn': the caller yields, then calls
   * again). States are counted one by one against the state limit, as the walk always did.
   */
  private soloRound(limits: Limits, ctl: WalkControl): string | null | 'turn' {
    const ctrl = this.ctrl;
    ctrl[CTRL.chunk] = TICK_EVERY;
    ctrl[CTRL.depth] = this.depth;
    ctrl[CTRL.limit] = 0xffffffff;
    ctrl[CTRL.headLimit] = 0xffffffff;
    // The clock is read only where it is needed: a slice of an asynchronous run, and a tick.
    const sliceStart = ctl.sliceMs !== undefined ? Date.now() : 0;
    for (;;) {
      const a = ctrl[CTRL.cursor] as number;
      const end = ctrl[CTRL.end] as number;
      if (a >= end) return null;
      // Chunks end where a tick is due, so that ticks come every TICK_EVERY expansions across levels.
      const b = Math.min(end, a + TICK_EVERY - this.sinceTick);
      const reached = this.expander.expandRange(a, b, this.depth, limits.maxStates);
      ctrl[CTRL.cursor] = reached;
      this.sinceTick += reached - a;
      if (this.expander.finding) {
        this.found = this.expander.finding;
        return null;
      }
      // The state at the cursor is expanded again by a resumed search (its successors stored so far are found again).
      if (this.expander.full) return this.fullReason(this.expander.full);
      // States are counted one by one: the search stops once the store holds the limit, even when
      // the state just expanded was the last one (a limit is never a pass).
      if (limits.maxStates !== undefined && this.count >= limits.maxStates) return `state limit of ${limits.maxStates} reached`;
      if (this.sinceTick >= TICK_EVERY) {
        this.sinceTick = 0;
        const stop = ctl.tick();
        if (stop !== null) return stop;
      }
      if (ctl.atPause?.due()) return null;
      if (ctl.sliceMs !== undefined && Date.now() - sliceStart >= ctl.sliceMs) return 'turn';
    }
  }

  /** Expansions since the last tick of a one-thread round. */
  private sinceTick = 0;

  /**
   * A round with worker threads: every thread claims chunks (a claim: an eighth of a thread's share of the states left in the
   * level, at least 16, at most `maxChunk`) until the level is done, the search stops or pauses, or the room reserved for the
   * round is used up; this thread yields to the event loop between chunks every `sliceMs`. Returns a reason to stop, or null.
   */
  private *parallelRound(limits: Limits, ctl: WalkControl, pool: LevelPool): Generator<Wait, string | null> {
    const ctrl = this.ctrl;
    const left = (ctrl[CTRL.end] as number) - (ctrl[CTRL.cursor] as number);
    ctrl[CTRL.chunk] = Math.max(16, Math.min(maxChunk(this.model.instances.length), Math.floor(left / (8 * (pool.size + 1)))));
    let tableSize: number | null;
    try {
      tableSize = this.reserveRound(pool.size + 1);
    } catch (e) {
      // A chunk that cannot be had is not added: the store is whole, and the search ends here.
      if (e instanceof StoreFullError) return this.fullReason(e);
      throw e;
    }
    ctrl[CTRL.depth] = this.depth;
    yield pool.whenReady();
    if (tableSize !== null) {
      try {
        yield* this.parallelRehash(pool, tableSize);
      } catch (e) {
        // No thread has inserted since the last round: the store is whole, and the search ends here.
        if (e instanceof StoreFullError) return this.fullReason(e);
        throw e;
      }
    }
    this.expander.setShared(true);
    pool.startRound(this);
    let stopReason: string | null = null;
    let sliceStart = ctl.sliceMs !== undefined ? Date.now() : 0;
    for (;;) {
      const claim = claimChunk(this.expander, ctrl, this.target);
      if (claim === 'found') this.addFinding(this.expander.finding);
      if (claim !== 'expanded') break;
      // The count includes ids the threads have taken and not used yet: at the limit by it, the
      // round pauses, and the search stops only if the exact count (after `settle`) is at it too.
      const atLimit = limits.maxStates !== undefined && this.count >= limits.maxStates;
      stopReason ??= ctl.tick();
      if (atLimit || stopReason !== null || ctl.atPause?.due()) {
        Atomics.store(ctrl, CTRL.pause, 1);
        break;
      }
      if (ctl.sliceMs !== undefined && Date.now() - sliceStart >= ctl.sliceMs) {
        yield 'turn';
        sliceStart = Date.now();
      }
    }
    yield pool.idle();
    this.expander.setShared(false);
    this.settleRound();
    if (limits.maxStates !== undefined && this.count >= limits.maxStates) stopReason ??= `state limit of ${limits.maxStates} reached`;
    return stopReason;
  }

  /**
   * After a round (every thread idle, each has given back its unused ids): makes the ids of the
   * target store dense again, and follows a moved state in the finding (an invariant broken by a
   * new state names its position).
   */
  private settleRound(): void {
    const moved = this.target.settle();
    const f = this.found;
    if (f?.kind !== 'invariant') return;
    const base = this.storesFor().targetBase;
    const to = moved.get(f.pos - base);
    if (to !== undefined) this.found = { ...f, pos: base + to };
  }

  /**
   * Makes room for a round of `threads` threads inserting at once (no thread grows a store during a round), and sets the count
   * at which they stop claiming: each claim adds at most a chunk times the rule instances, and each thread holds a block of
   * ids, so a slack of threads × (chunk × instances + ID_BLOCK) covers every chunk in flight. The room is the largest of four
   * times the slack, an eighth of the states stored and 65,536; claims stop at the count plus the room less the slack. A
   * collapsed store's heads get a room of their own, the slack plus the larger of an eighth of the heads and 65,536, and
   * claims stop at its end too (new states mostly share their heads: a room as large as the states' would double the heads' table). Returns
   * the size of the larger table the round needs first (every thread fills it: `parallelRehash`), or null.
   */
  private reserveRound(threads: number): number | null {
    const slack = threads * ((this.ctrl[CTRL.chunk] as number) * Math.max(1, this.model.instances.length) + ID_BLOCK);
    const target = this.target;
    const room = Math.max(4 * slack, target.count >> 3, 1 << 16);
    // The heads of a collapsed store have a room of their own, smaller: new states mostly share heads.
    const headRoom = slack + Math.max(target.headCount >> 3, 1 << 16);
    target.reserveChunks(room, headRoom);
    this.ctrl[CTRL.limit] = target.count + room - slack;
    this.ctrl[CTRL.headLimit] = target.collapsing ? target.headCount + headRoom - slack : 0xffffffff;
    return target.tableSizeFor(room);
  }

  /**
   * Every thread puts the stored states into a larger table of the target store, which then replaces its table: all hash
   * the states, then each puts those whose home slot is in its own part of the table (this thread part 0), then this
   * thread puts the few whose probe run left their part (see `StateStore.fillPart`).
   */
  private *parallelRehash(pool: LevelPool, size: number): Generator<Wait, void> {
    const target = this.target;
    const table = target.newTable(size);
    this.ctrl[CTRL.rehash] = 0;
    pool.startRehash(this, table, 'hash');
    target.hashShared(this.ctrl, CTRL.rehash);
    yield pool.idle();
    // A list of this fill's own, where every part's handed-back ids go: none can be left from an earlier fill.
    const left: number[] = [];
    this.overflow = left;
    const parts = pool.startRehash(this, table, 'put') + 1;
    this.addOverflow(target.fillPart(table, 0, parts));
    yield pool.idle();
    target.fillOverflow(table, left);
    target.useTable(table);
  }

  /** Ids the threads could not put in their part of a larger table (`parallelRehash`). */
  private overflow: number[] = [];

  /** Takes ids a thread could not put in its part of a larger table, for this thread to put once every part is put. */
  addOverflow(ids: readonly number[]): void {
    for (const id of ids) this.overflow.push(id);
  }

  /** The depth-first walk (exact store, this thread only). */
  *dfs(limits: Limits, ctl: WalkControl): Generator<Wait, SearchEnd> {
    const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
    const stack = this.stack as DfsStack;
    let expansions = 0;
    for (;;) {
      const id = stack.pop();
      if (id < 0) return { kind: 'complete' };
      const depth = stack.depth;
      if (depth >= depthLimit) return { kind: 'limit', reason: `depth limit ${depthLimit} reached` };
      this.expander.expandOne(id, depth + 1);
      if (this.expander.finding) {
        this.found = this.expander.finding;
        return { kind: 'found', finding: this.found };
      }
      if (this.expander.full) return { kind: 'limit', reason: this.fullReason(this.expander.full) };
      if (limits.maxStates !== undefined && this.count >= limits.maxStates) return { kind: 'limit', reason: `state limit of ${limits.maxStates} reached` };
      if (++expansions % TICK_EVERY === 0) {
        const stop = ctl.tick();
        if (stop !== null) return { kind: 'limit', reason: stop };
        if (ctl.sliceMs !== undefined) yield 'turn';
      }
    }
  }

  /** Queues a new state for the depth-first walk (`StoreFullError` when the stack cannot grow: the state is stored and checked, not queued). */
  private queueDfs(pos: number): void {
    (this.stack as DfsStack).push(pos, this.expander.currentChildDepth);
  }

  /** The walk this search's strategy asks for. */
  walk(limits: Limits, ctl: WalkControl): Generator<Wait, SearchEnd> {
    return this.opts.strategy === 'dfs' ? this.dfs(limits, ctl) : this.bfs(limits, ctl);
  }

  /** Runs the walk to the end in this thread (no worker threads, no waiting). */
  runSync(limits: Limits, ctl: WalkControl): SearchEnd {
    if (!this.insertStartsOnce()) return { kind: 'found', finding: this.found as Finding };
    const g = this.walk(limits, ctl);
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (r.value !== 'turn') throw new Error('internal: a synchronous search cannot wait for worker threads');
    }
  }

  /** Runs the walk to the end, awaiting worker rounds and giving the event loop a turn now and then. */
  async runAsync(limits: Limits, ctl: WalkControl): Promise<SearchEnd> {
    if (!this.insertStartsOnce()) return { kind: 'found', finding: this.found as Finding };
    const g = this.walk(limits, ctl);
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (r.value === 'turn') await new Promise((resolve) => setImmediate(resolve));
      else await r.value;
    }
  }

  private startsDone = false;
  /** Stores the start states unless a checkpoint already holds them. */
  private insertStartsOnce(): boolean {
    if (this.startsDone) return true;
    this.startsDone = true;
    // The start states and their level do not fit: there is no search to keep.
    return refusedWhenFull('MC030', '--max-memory: the search cannot start', () => this.insertStarts());
  }

  /** Takes up where a checkpoint left off (its stores are loaded already; see checkpoint.ts). */
  restore(r: { levelStarts: readonly number[]; depth: number; cursor: number; elapsedMs: number; figures: ExpanderFigures }): void {
    this.levelStarts.splice(0, this.levelStarts.length, ...r.levelStarts);
    this.depth = r.depth;
    this.resumeCursor = r.cursor;
    this.elapsedBefore = r.elapsedMs;
    this.otherFigures[0] = r.figures;
    this.startsDone = true;
    this.expander.setStores(this.storesFor());
    this.figures().coverDepth.forEach((d, i) => {
      if (d !== null) this.coversDone[i] = 1;
    });
  }

  /** Reads the state at position `pos` into a fresh array (exact store, or the level in memory). */
  state(pos: number): Int32Array {
    const w = new Uint32Array(this.cm.words);
    const s = new Int32Array(this.model.layout.nSlots);
    this.readPacked(pos, w);
    this.cm.unpack(w, 0, s);
    return s;
  }

  /** Reads the packed state at position `pos` (exact store, or a level still in memory). */
  readPacked(pos: number, w: Uint32Array): void {
    if (this.kind === 'exact') {
      this.store.read(pos, w, 0);
      return;
    }
    const [lo, hi] = this.levelRange();
    if (pos >= lo && pos < hi) this.store.read(pos - lo, w, 0);
    else if (pos >= hi) (this.next as StateStore).read(pos - hi, w, 0);
    else throw new Error(`internal: state ${pos} of an earlier level is on disk, not in memory`);
  }

  /** The level (BFS depth) of position `pos`. */
  levelOf(pos: number): number {
    const ls = this.levelStarts;
    let a = 0;
    let b = ls.length - 1;
    while (a < b) {
      const c = (a + b + 1) >>> 1;
      if ((ls[c] as number) <= pos) a = c;
      else b = c - 1;
    }
    return a;
  }

  /** Progress figures for hooks. */
  progress(now = Date.now()): Progress {
    const el = now - this.startMs;
    const n = this.count;
    return {
      generated: this.figures().generated,
      distinct: n,
      queue: this.queued,
      depth: this.depth,
      elapsedMs: el + this.elapsedBefore,
      statesPerSec: Math.round((n * 1000) / Math.max(1, el + this.elapsedBefore)),
    };
  }

  /** Calls the progress hook about once a second and returns the reason a time limit stops the search. */
  ticker(limits: Limits, hooks: Hooks, more: () => string | null = () => null): () => string | null {
    let lastReport = this.startMs;
    const limit = limits.timeLimitSec;
    return () => {
      const now = Date.now();
      if (hooks.onProgress && now - lastReport >= 1000) {
        lastReport = now;
        hooks.onProgress(this.progress(now));
      }
      if (limit !== undefined && now - this.startMs >= limit * 1000) return `time limit of ${limit}s reached`;
      return more();
    };
  }

  /** Removes temporary files (the level files of a compact store without a checkpoint folder). */
  dispose(): void {
    this.spill?.dispose();
  }
}
