/**
 * The second thread of the bench's `fill` section (bench/fill.ts). Why this module exists: a
 * worker thread needs a script of its own; this one does the steps of a shared fill of a larger
 * table that a search's worker does (searchWorker.ts), on a store the bench made, without a model.
 */
import { parentPort } from 'node:worker_threads';
import { StateStore, type StoreBuffers } from '../checker/explicit/stateStore.js';

/** A step of the fill: hash the stored states (ids claimed from `ctrl[0]`), or put part `part` of `parts`. */
export interface FillStep {
  readonly step: 'hash' | 'put';
  readonly words: number;
  readonly buffers: StoreBuffers;
  readonly table: SharedArrayBuffer;
  readonly ctrl: SharedArrayBuffer;
  readonly part: number;
  readonly parts: number;
}

parentPort?.on('message', (m: FillStep) => {
  const store = new StateStore(m.words, { buffers: m.buffers });
  if (m.step === 'hash') {
    store.hashShared(new Uint32Array(m.ctrl), 0);
    parentPort?.postMessage([]);
  } else parentPort?.postMessage(store.fillPart(m.table, m.part, m.parts));
});
