/**
 * Counterexample traces of the explicit engine. Why this module exists: the engine stores packed
 * (and, under symmetry reduction, canonical) states; a trace must be concrete states that replay
 * exactly on the model, labelled with the rule instances taken. This turns a path of stored states
 * into such a trace.
 */
import { McError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
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

/** The label of a rule instance (or of a start state, for step 0). */
function labelOf(search: Search, via: number, start: boolean): string {
  const { model } = search;
  return start ? `init ${model.inits[via]?.name ?? via}` : (model.instances[via]?.label ?? `#${via}`);
}

/** Steps of a path of stored states without symmetry reduction: the stored states themselves. */
function plainSteps(search: Search, ids: readonly number[], extra?: ExtraStep): TraceStep[] {
  const { store } = search;
  const steps: TraceStep[] = ids.map((id, i) => {
    const via = store.via(id);
    return { choice: via, label: labelOf(search, via, i === 0), state: search.state(id) };
  });
  if (extra) steps.push({ choice: extra.via, label: labelOf(search, extra.via, false), state: new Int32Array(extra.state) });
  return steps;
}

/**
 * Steps of a path of canonical states: from the concrete start state, take at each step a rule
 * instance whose successor has the next stored canonical form (preferring the instance stored).
 */
function concreteSteps(search: Search, ids: readonly number[], extra?: ExtraStep): TraceStep[] {
  const { model, cm, canon, store } = search;
  const rootVia = store.via(ids[0] as number);
  let cur = initState(model, model.inits[rootVia] as (typeof model.inits)[number]);
  const steps: TraceStep[] = [{ choice: rootVia, label: labelOf(search, rootVia, true), state: cur }];
  const targets: { words: Uint32Array; needStepFail: boolean; prefer: number }[] = ids.slice(1).map((id) => {
    const x = new Uint32Array(cm.words);
    store.read(id, x, 0);
    return { words: x, needStepFail: false, prefer: store.via(id) };
  });
  if (extra) {
    const x = new Uint32Array(cm.words);
    cm.pack(extra.state, x, 0);
    canon.canonical(extra.state, x);
    targets.push({ words: x, needStepFail: extra.stepFail ?? false, prefer: extra.via });
  }
  const t = new Int32Array(model.layout.nSlots);
  const pw = new Uint32Array(cm.words);
  for (const target of targets) {
    let found: { via: number; state: Int32Array } | null = null;
    cm.expand(cur, t, (k, f) => {
      if (found?.via === target.prefer || (target.needStepFail && f < 0)) return;
      cm.pack(t, pw, 0);
      canon.canonical(t, pw);
      for (let i = 0; i < cm.words; i++) if (pw[i] !== target.words[i]) return;
      found = { via: k, state: new Int32Array(t) };
    });
    const step = found as { via: number; state: Int32Array } | null;
    if (!step) throw new McError('MC040', 'internal error: cannot rebuild a concrete trace under symmetry reduction');
    steps.push({ choice: step.via, label: labelOf(search, step.via, false), state: step.state });
    cur = step.state;
  }
  return steps;
}

/**
 * The trace along stored states `ids` (a path from a start state), plus an optional final
 * successor that is not stored. It replays exactly on the model.
 */
export function traceFrom(search: Search, ids: readonly number[], prop: TraceProperty, extra?: ExtraStep): Trace {
  const { model } = search;
  const steps = search.canon.active ? concreteSteps(search, ids, extra) : plainSteps(search, ids, extra);
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'explicit',
    property: prop?.name ?? null,
    requirement: prop?.requirement ?? null,
    steps,
  };
}
