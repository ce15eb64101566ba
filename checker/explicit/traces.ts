/**
 * Counterexample traces of the explicit engine. Why this module exists: the engine stores packed
 * (and, under symmetry reduction, canonical) states, and a breadth-first search keeps no parent
 * pointers (4-6 bytes a state saved); a trace must be concrete states that replay exactly on the
 * model, labelled with the rule instances taken. The path to a state is rebuilt level by level:
 * its parent is the first state of the level before (in the order the search stored them) with a
 * successor equal to it, which is the state a single-threaded search reached it from. Earlier
 * levels are read from the exact store, or from the level files of a compact one.
 */
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Search } from './search.js';

/** The property a trace violates (null for the path to a model error). */
export type TraceProperty = { readonly name: string; readonly requirement: string } | null;

/** A final successor that is not stored (the target of a step that breaks a step property). */
export interface ExtraStep {
  readonly via: number;
  readonly state: Int32Array;
  /** The step must break a step property (under symmetry, pick a rule instance whose step fails). */
  readonly stepFail?: boolean;
}

/** A path of stored (canonical) states: packed words, and the init index or rule instance that led to each. */
export interface StoredPath {
  readonly words: readonly Uint32Array[];
  readonly vias: readonly number[];
}

/** The label of a rule instance (or of a start state, for step 0). */
function labelOf(search: Search, via: number, start: boolean): string {
  const { model } = search;
  return start ? `init ${model.inits[via]?.name ?? via}` : (model.instances[via]?.label ?? `#${via}`);
}

/** Packs a state as the search stores it (canonical under symmetry reduction). */
function packStored(search: Search, st: Int32Array, w: Uint32Array): void {
  search.cm.pack(st, w, 0);
  if (search.canon.active) search.canon.canonical(st, w);
}

const sameWords = (a: Uint32Array, b: Uint32Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The packed states of a level, in order (from the exact store, or from the level files of a compact one). */
function levelStates(search: Search, level: number): Iterable<Uint32Array> {
  if (search.kind !== 'exact') return (search.spill as NonNullable<typeof search.spill>).read(level);
  const from = search.levelStarts[level] as number;
  const to = (search.levelStarts[level + 1] as number | undefined) ?? search.store.count;
  return search.store.slices(from, to);
}

/** The first state of `level` with a successor stored as `target`, and the rule instance that leads there. */
function predecessor(search: Search, level: number, target: Uint32Array): { words: Uint32Array; via: number } {
  const { cm, model } = search;
  const W = cm.words;
  const s = new Int32Array(model.layout.nSlots);
  const t = new Int32Array(model.layout.nSlots);
  const w = new Uint32Array(W);
  for (const slice of levelStates(search, level)) {
    for (let off = 0; off < slice.length; off += W) {
      cm.unpack(slice, off, s);
      let via = -1;
      try {
        cm.expand(s, t, (k) => {
          if (via >= 0) return;
          packStored(search, t, w);
          if (sameWords(w, target)) via = k;
        });
      } catch (e) {
        if (!(e instanceof ModelRuntimeError)) throw e;
      }
      if (via >= 0) return { words: slice.slice(off, off + W), via };
    }
  }
  throw new McError('MC040', `internal error: no predecessor of a stored state in level ${level}`);
}

/** The init index whose start state is stored as `target`. */
function startVia(search: Search, target: Uint32Array): number {
  const { model } = search;
  const w = new Uint32Array(search.cm.words);
  for (let i = 0; i < model.inits.length; i++) {
    packStored(search, initState(model, model.inits[i] as (typeof model.inits)[number]), w);
    if (sameWords(w, target)) return i;
  }
  throw new McError('MC040', 'internal error: a stored start state is not a start state');
}

/** The path from a start state to the stored state at position `pos`. */
export function pathTo(search: Search, pos: number): StoredPath {
  const W = search.cm.words;
  const read = (p: number) => {
    const w = new Uint32Array(W);
    search.readPacked(p, w);
    return w;
  };
  if (search.store.keepsParents) {
    const ids = search.store.path(pos);
    return { words: ids.map(read), vias: ids.map((id) => search.store.via(id)) };
  }
  const words: Uint32Array[] = [read(pos)];
  const vias: number[] = [];
  for (let level = search.levelOf(pos); level > 0; level--) {
    const p = predecessor(search, level - 1, words[0] as Uint32Array);
    vias.unshift(p.via);
    words.unshift(p.words);
  }
  vias.unshift(startVia(search, words[0] as Uint32Array));
  return { words, vias };
}

/** Steps of a path without symmetry reduction: the stored states themselves. */
function plainSteps(search: Search, path: StoredPath, extra?: ExtraStep): TraceStep[] {
  const { cm, model } = search;
  const steps: TraceStep[] = path.words.map((w, i) => {
    const s = new Int32Array(model.layout.nSlots);
    cm.unpack(w, 0, s);
    const via = path.vias[i] as number;
    return { choice: via, label: labelOf(search, via, i === 0), state: s };
  });
  if (extra) steps.push({ choice: extra.via, label: labelOf(search, extra.via, false), state: new Int32Array(extra.state) });
  return steps;
}

/**
 * Steps of a path of canonical states: from the concrete start state, take at each step a rule
 * instance whose successor has the next stored canonical form (preferring the instance stored).
 */
function concreteSteps(search: Search, path: StoredPath, extra?: ExtraStep): TraceStep[] {
  const { model, cm } = search;
  const rootVia = path.vias[0] as number;
  let cur = initState(model, model.inits[rootVia] as (typeof model.inits)[number]);
  const steps: TraceStep[] = [{ choice: rootVia, label: labelOf(search, rootVia, true), state: cur }];
  const targets = path.words.slice(1).map((words, i) => ({ words, needStepFail: false, prefer: path.vias[i + 1] as number }));
  if (extra) {
    const x = new Uint32Array(cm.words);
    packStored(search, extra.state, x);
    targets.push({ words: x, needStepFail: extra.stepFail ?? false, prefer: extra.via });
  }
  const t = new Int32Array(model.layout.nSlots);
  const pw = new Uint32Array(cm.words);
  for (const target of targets) {
    let found: { via: number; state: Int32Array } | null = null;
    cm.expand(cur, t, (k, f) => {
      if (found?.via === target.prefer || (target.needStepFail && f < 0)) return;
      packStored(search, t, pw);
      if (!sameWords(pw, target.words)) return;
      found = { via: k, state: new Int32Array(t) };
    });
    const step = found as { via: number; state: Int32Array } | null;
    if (!step) throw new McError('MC040', 'internal error: cannot rebuild a concrete trace under symmetry reduction');
    steps.push({ choice: step.via, label: labelOf(search, step.via, false), state: step.state });
    cur = step.state;
  }
  return steps;
}

/** A trace of the explicit engine on `model` through `steps`, for `prop` (null: a model error). */
export function explicitTrace(model: Pick<Model, 'protocol' | 'variant' | 'params'>, prop: TraceProperty, steps: TraceStep[], note?: string): Trace {
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'explicit',
    property: prop?.name ?? null,
    requirement: prop?.requirement ?? null,
    steps,
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * The trace to the stored state at `pos` (a path from a start state), plus an optional final
 * successor that is not stored. It replays exactly on the model.
 */
export function traceTo(search: Search, pos: number, prop: TraceProperty, extra?: ExtraStep): Trace {
  const path = pathTo(search, pos);
  return explicitTrace(search.model, prop, search.canon.active ? concreteSteps(search, path, extra) : plainSteps(search, path, extra));
}
