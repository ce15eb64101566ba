/**
 * The bench's `fill` section: what filling a grown table costs one thread and two. Why this module
 * exists: a search with worker threads stops every thread while they fill the store's larger table
 * together (search.ts `parallelRehash`), and that fill was the largest part of a two-thread run
 * that did not scale (bench/README.md, "Two threads against the machine"); timed here apart from
 * the search, on a store of random four-word states (fence-migrate's width at the bench size).
 */
import { Worker } from 'node:worker_threads';
import { StateStore } from '../checker/explicit/stateStore.js';
import type { FillStep } from './fillWorker.js';

/** The figures of `fillFigures`: milliseconds of each run, one thread and two, and the ids left to the coordinator. */
export interface FillFigures {
  readonly states: number;
  readonly slots: number;
  readonly oneMs: readonly number[];
  readonly twoMs: readonly number[];
  /** Ids whose probe run left their part (put by the coordinator at the end), in the last two-thread run. */
  readonly overflow: number;
}

/**
 * Stores `states` random states of `words` words, then fills the table a search grows to next
 * (twice the store's present one), `repeat` times each way in turn: one thread as a one-thread search grows its
 * table (`rehash`), and two threads as a search with a worker does (`hashShared`, `fillPart`,
 * `fillOverflow`). Every two-thread table is checked to hold one entry a state.
 */
export async function fillFigures(states: number, words: number, repeat: number): Promise<FillFigures> {
  const store = new StateStore(words);
  store.reserveChunks(states);
  const w = new Uint32Array(words);
  let x = 0x2545f491;
  for (let i = 0; i < states; i++) {
    for (let j = 0; j < words; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      w[j] = x >>> 0;
    }
    store.insert(w, 0);
  }
  const n = store.count;
  const oldTable = new Int32Array(store.buffers().table);
  const slots = oldTable.length * 2;
  const saved = oldTable.slice();
  // The bench runs compiled (npm run bench): the worker's script is the compiled one beside this module.
  const worker = new Worker(new URL('./fillWorker.js', import.meta.url));
  // One error listener for the worker's life (one added a call would pass Node's limit of ten at --repeat 6).
  let failed: (e: Error) => void = () => {};
  worker.on('error', (e) => failed(e));
  const call = (m: FillStep) =>
    new Promise<number[]>((resolve, reject) => {
      failed = reject;
      worker.once('message', resolve);
      worker.postMessage(m);
    });
  const oneMs: number[] = [];
  const twoMs: number[] = [];
  let overflow = 0;
  try {
    for (let r = 0; r < repeat; r++) {
      // One thread: a view of the store grows its own table (the store's stays as it is).
      const view = new StateStore(words, { buffers: store.buffers() });
      let t0 = performance.now();
      view.rehash(slots);
      oneMs.push(performance.now() - t0);
      // Two threads: this one (part 0) and the worker (part 1).
      const table = store.newTable(slots);
      const ctrl = new SharedArrayBuffer(4);
      const base = { words, buffers: store.buffers(), table, ctrl, parts: 2 };
      t0 = performance.now();
      let reply = call({ ...base, step: 'hash', part: 1 });
      store.hashShared(new Uint32Array(ctrl), 0);
      await reply;
      reply = call({ ...base, step: 'put', part: 1 });
      const left = store.fillPart(table, 0, 2);
      left.push(...(await reply));
      store.fillOverflow(table, left);
      twoMs.push(performance.now() - t0);
      overflow = left.length;
      const held = new Int32Array(table).reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
      if (held !== n) throw new Error(`internal: two threads filled ${held} slots for ${n} states`);
      oldTable.set(saved);
    }
  } finally {
    await worker.terminate();
  }
  return { states: n, slots, oneMs, twoMs, overflow };
}
