/**
 * A worker thread of the breadth-first search (started by workerPool.ts). Why this module exists:
 * it is the entry point of the thread: it rebuilds the compiled rules from their source, then for
 * each round attaches to the shared stores of the level and claims chunks like the coordinating
 * thread, reporting its figures and its finding when none is left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCompiled } from '../../model/lang/compile.js';
import { BitstateSet } from './bitstate.js';
import { CTRL, type Claim, Expander, type ExpanderStores, type SeenSet, claimChunk } from './expander.js';
import { FingerprintSet } from './fingerprintSet.js';
import { PartialOrder } from './partialOrder.js';
import { StateStore, type StoreBuffers } from './stateStore.js';
import { Canonicalizer } from './symmetry.js';
import type { SeenBuffers, WorkerIdle, WorkerInit, WorkerRehash, WorkerRehashed, WorkerRound } from './workerPool.js';

const init = workerData as WorkerInit;
const cm = loadCompiled(init.sources, init.slotNames);
const noSymmetry = { indexes: [], layout: { vars: [], nSlots: init.nSlots, slotTypes: [], slotNames: init.slotNames } };
const canon = new Canonicalizer(init.symmetry ?? noSymmetry, cm.words, cm.pack);
const ctrl = new Uint32Array(init.ctrl);
const reduction = init.reduction ? new PartialOrder(init.reduction, cm.expand, new Uint8Array(init.coversDone)) : null;
let expander: Expander | null = null;

/**
 * A view of a shared store for one round. A fresh view each round, never kept: a shared buffer
 * arrives in each message as a new object (the same memory), so views cached by buffer were never
 * found again, and the cache kept every view of every round, and with them every table the store
 * had replaced, for the life of the thread. A view holds nothing across rounds (its block of ids is
 * given back at the end of each).
 */
function storeOf(b: StoreBuffers): StateStore {
  return new StateStore(b.words, { buffers: b });
}

function seenOf(b: SeenBuffers | null): SeenSet | null {
  if (!b) return null;
  if (b.kind === 'fingerprints') return new FingerprintSet(cm.words, b.buffers);
  return new BitstateSet(cm.words, 0, b.seed, b.buffers);
}

function round(m: WorkerRound): WorkerIdle {
  const target = storeOf(m.target);
  const st: ExpanderStores = {
    frontier: storeOf(m.frontier),
    frontierBase: m.frontierBase,
    target,
    targetBase: m.targetBase,
    seen: seenOf(m.seen),
  };
  expander ??= new Expander(cm, canon, reduction, init.nSlots, st, { deadlock: init.deadlock, shared: true, parents: false, shard: init.shard });
  expander.setStores(st);
  let claim: Claim;
  do claim = claimChunk(expander, ctrl, target);
  while (claim === 'expanded');
  target.releaseIds();
  const finding = expander.finding;
  expander.finding = null;
  const f = expander.figures;
  return { type: 'idle', figures: { expanded: f.expanded, generated: f.generated, maxDepth: f.maxDepth, coverDepth: Array.from(f.coverDepth) }, finding };
}

/** This thread's share of a step of the fill of a larger table: hashing stored states, or putting those of its part. */
function rehash(m: WorkerRehash): WorkerRehashed {
  const store = storeOf(m.target);
  if (m.step === 'hash') {
    store.hashShared(ctrl, CTRL.rehash);
    return { type: 'rehashed', overflow: [] };
  }
  return { type: 'rehashed', overflow: store.fillPart(m.table, m.part, m.parts) };
}

parentPort?.on('message', (m: WorkerRound | WorkerRehash) => parentPort?.postMessage(m.type === 'round' ? round(m) : rehash(m)));
parentPort?.postMessage({ type: 'ready' });
