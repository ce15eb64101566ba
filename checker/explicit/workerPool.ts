/**
 * Worker threads for the breadth-first search. Why this module exists: one core expands about a
 * million states a second; the others should help. Each worker rebuilds the compiled rules from
 * their generated source (plain strings: `CompiledModel.sources`), so it needs neither the
 * protocol's package nor its syntax tree — a model built in a test, loaded from a file or built in
 * works alike — and attaches to the search's stores in shared memory. A round: the coordinator
 * posts the stores of the current level; every worker claims chunks from the shared cursor
 * (expander.ts `claimChunk`) until none is left or the search pauses or stops, then posts its
 * figures and its finding and waits for the next round. When the visited set needs a larger table,
 * a round of its own has every thread fill it. Threads start when the levels reach an
 * eighth of the size worth sharing (a small search starts none), and the first round waits until
 * every one has started.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { CompiledSources } from '../../model/lang/compile.js';
import { McError } from '../../model/lang/errors.js';
import type { Model } from '../../model/lang/protocol.js';
import type { BitstateBuffers } from './bitstate.js';
import type { ExpanderFigures, Finding } from './expander.js';
import type { FingerprintBuffers } from './fingerprintSet.js';
import type { ReductionData } from './partialOrder.js';
import type { LevelPool, Search } from './search.js';
import type { StoreBuffers } from './stateStore.js';

/** What a worker needs to expand states: plain data only (it crosses to another thread). */
export interface WorkerInit {
  readonly sources: CompiledSources;
  readonly slotNames: readonly string[];
  readonly nSlots: number;
  /** The symmetric index types and the layout, under symmetry reduction. */
  readonly symmetry: Pick<Model, 'indexes' | 'layout'> | null;
  readonly deadlock: boolean;
  readonly ctrl: SharedArrayBuffer;
  /** The partial-order reduction's tables, when it is on, and the covers reached (shared). */
  readonly reduction: ReductionData | null;
  readonly coversDone: SharedArrayBuffer;
  /** Explore only this shard (see expander.ts). */
  readonly shard: { readonly index: number; readonly count: number } | null;
}

/** The visited set of earlier levels of a compact store, as a worker attaches to it. */
export type SeenBuffers =
  | { readonly kind: 'fingerprints'; readonly buffers: FingerprintBuffers }
  | { readonly kind: 'bits'; readonly buffers: BitstateBuffers; readonly seed: number };

/** One round: the stores of the level being expanded. */
export interface WorkerRound {
  readonly type: 'round';
  readonly frontier: StoreBuffers;
  readonly frontierBase: number;
  readonly target: StoreBuffers;
  readonly targetBase: number;
  readonly seen: SeenBuffers | null;
}

/** A step of the fill of a larger table of the target store: every worker hashes stored states, or puts those of its part. */
export interface WorkerRehash {
  readonly type: 'rehash';
  readonly step: 'hash' | 'put';
  readonly target: StoreBuffers;
  readonly table: SharedArrayBuffer;
  /** The worker's part of the table in the `put` step (the coordinating thread's is 0), of `parts`. */
  readonly part: number;
  readonly parts: number;
}

/** A worker's step of a fill done: the ids whose probe run left its part (none for the `hash` step). */
export interface WorkerRehashed {
  readonly type: 'rehashed';
  readonly overflow: readonly number[];
}

/** A worker's report at the end of a round: its figures so far and what it found. */
export interface WorkerIdle {
  readonly type: 'idle';
  readonly figures: { readonly expanded: number; readonly generated: number; readonly maxDepth: number; readonly coverDepth: readonly number[] };
  readonly finding: Finding | null;
}

/** What a worker posts: started, a round's end, or its share of a larger table done. */
type WorkerReply = { readonly type: 'ready' } | WorkerIdle | WorkerRehashed;

/** Starts the worker script: compiled JavaScript next to this module, or the TypeScript source through tsx (tests run the sources). */
function startWorker(init: WorkerInit): Worker {
  const js = new URL('./searchWorker.js', import.meta.url);
  if (existsSync(js)) return new Worker(js, { workerData: init });
  const ts = new URL('./searchWorker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData: init });
}

export class WorkerPool implements LevelPool {
  private readonly workers: Worker[] = [];
  private readonly ready: boolean[] = [];
  /** Workers in the current round, and the promise of its end. */
  private pending = 0;
  private roundDone: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private search: Search | null = null;

  /**
   * A pool of `n` worker threads (besides the thread that coordinates), started on the first call
   * of `start` (the search calls it when its levels grow, so a small search starts no thread).
   */
  constructor(
    private readonly n: number,
    private readonly init: WorkerInit,
  ) {}

  /** Starts the worker threads unless they are started already. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.n; i++) {
      const w = startWorker(this.init);
      this.ready.push(false);
      w.on('message', (m: WorkerReply) => this.onMessage(i, m));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0 && this.workers.length) this.fail(new Error(`worker thread ${i} exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }
  private started = false;

  /** Worker threads (besides the coordinator). */
  get size(): number {
    return this.n;
  }

  /** Resolves when every worker has started (the first parallel round waits for them: levels before it are small). */
  whenReady(): Promise<void> {
    this.start();
    if (this.ready.every(Boolean)) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject });
    });
  }
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  private onMessage(i: number, m: WorkerReply): void {
    if (m.type === 'ready') {
      this.ready[i] = true;
      if (this.ready.every(Boolean)) for (const w of this.readyWaiters.splice(0)) w.resolve();
      return;
    }
    if (m.type === 'rehashed') {
      (this.search as Search).addOverflow(m.overflow);
      if (--this.pending === 0) this.roundDone?.resolve();
      return;
    }
    const search = this.search as Search;
    const figures: ExpanderFigures = { ...m.figures, coverDepth: Int32Array.from(m.figures.coverDepth) };
    search.otherFigures[search.workerSlot(i)] = figures;
    search.addFinding(m.finding);
    if (--this.pending === 0) this.roundDone?.resolve();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.roundDone?.reject(e);
    for (const w of this.readyWaiters.splice(0)) w.reject(e);
  }

  startRound(search: Search): void {
    this.post(search, search.roundMessage());
  }

  startRehash(search: Search, table: SharedArrayBuffer, step: 'hash' | 'put'): number {
    const target = search.target.buffers();
    const parts = 1 + this.ready.filter(Boolean).length;
    return this.post(search, (part) => ({ type: 'rehash', step, target, table, part, parts }));
  }

  /** Sends a round's message to every worker that has started (the `k`th of them from 1 gets `msg(k)`); returns how many. */
  private post(search: Search, msg: WorkerRound | WorkerRehash | ((k: number) => WorkerRehash)): number {
    if (this.failure) throw new McError('MC040', `internal error in a worker thread: ${this.failure.message}`);
    this.search = search;
    this.pending = 0;
    this.workers.forEach((w, i) => {
      if (!this.ready[i]) return;
      this.pending++;
      w.postMessage(typeof msg === 'function' ? msg(this.pending) : msg);
    });
    return this.pending;
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.roundDone = { resolve, reject };
    }).finally(() => {
      this.roundDone = null;
    });
  }

  /** Workers that took part in the rounds so far are counted by the caller; this stops them all. */
  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
