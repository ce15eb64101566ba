/**
 * Replay: re-executes a trace's choices on the current model through the interpreter. Why this
 * module exists: a counterexample is only worth something if it still happens. Replay rebuilds every
 * state from the choices, compares it with the stored one, and re-checks every property, so a saved
 * trace either reproduces its violation, replays clean, or is reported as no longer matching the
 * model, never silently passes.
 */
import { ModelRuntimeError } from '../model/lang/errors.js';
import { applyRule, enabled, failingProperty, holds, initState, instanceBindings } from '../model/lang/interp.js';
import { sameState, stateDiffs } from '../model/lang/layout.js';
import type { Model } from '../model/lang/protocol.js';
import { DEADLOCK, DEADLOCK_DOC, type Property } from '../properties/property.js';
import type { Trace } from './trace.js';

/** Where and why a replay stopped matching the model. */
export interface ReplayMismatch {
  readonly step: number;
  readonly message: string;
}

/** A property violation seen during replay. */
export interface ReplayViolation {
  readonly step: number;
  readonly property: string;
  readonly requirement: string;
  readonly kind: string;
  readonly doc: string;
}

/** What `replayTrace` found: the recomputed states, the first violation, or where the trace stopped matching the model. */
export interface ReplayReport {
  /** The states recomputed from the choices (as many as replayed). */
  readonly states: readonly Int32Array[];
  readonly labels: readonly string[];
  /** First violation on the replayed states (safety), if any. */
  readonly violation: ReplayViolation | null;
  /** Set when the trace no longer replays on the model (exit 4). */
  readonly mismatch: ReplayMismatch | null;
  /** Set when replaying raises a run-time model error (range overflow, unwrap of none). */
  readonly modelError: { readonly step: number; readonly message: string } | null;
}

/** The first slot where the recomputed state `a` differs from the stored state `b`, in words. */
const firstDiff = (model: Model, a: Int32Array, b: Int32Array): string => stateDiffs(model.layout, b, a, ['stored', 'recomputed'])[0] ?? '';

/** Re-executes `trace` on `model` and checks the safety properties on every state and step. */
export function replayTrace(model: Model, properties: readonly Property[], trace: Trace, opts: { checkDeadlock?: boolean } = {}): ReplayReport {
  const states: Int32Array[] = [];
  const labels: string[] = [];
  let violation: ReplayViolation | null = null;
  const invariants = properties.filter((p) => p.kind === 'invariant');
  const steps = properties.filter((p) => p.kind === 'step');
  const done = (mismatch: ReplayMismatch | null, modelError: ReplayReport['modelError'] = null): ReplayReport => ({
    states,
    labels,
    violation,
    mismatch,
    modelError,
  });
  const checkState = (s: Int32Array, step: number) => {
    if (violation) return;
    for (const p of invariants) {
      if (!holds(model, p.pred, s)) {
        violation = { step, property: p.name, requirement: p.requirement, kind: 'invariant', doc: p.doc };
        return;
      }
    }
  };
  const first = trace.steps[0];
  if (!first) return done({ step: 0, message: 'the trace has no states' });
  let s: Int32Array;
  if (first.choice === -1) {
    // A counterexample to induction: it starts in the stored state, which need not be reachable.
    s = first.state;
    states.push(s);
    labels.push('start in an arbitrary state (need not be reachable)');
  } else {
    const init = model.inits[first.choice];
    if (!init) return done({ step: 0, message: `start state #${first.choice} does not exist (the model has ${model.inits.length})` });
    try {
      s = initState(model, init);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return done(null, { step: 0, message: e.message });
      throw e;
    }
    if (!sameState(s, first.state)) return done({ step: 0, message: `start state differs: ${firstDiff(model, s, first.state)}` });
    states.push(s);
    labels.push(`init ${init.name}`);
  }
  try {
    checkState(s, 0);
  } catch (e) {
    // A property that cannot be evaluated (an unwrap of none in it) is a model error there, named as the engines name it.
    if (e instanceof ModelRuntimeError) return done(null, { step: 0, message: failingProperty(model, invariants, s, null, null) ?? e.message });
    throw e;
  }
  for (let i = 1; i < trace.steps.length; i++) {
    const st = trace.steps[i] as Trace['steps'][number];
    const inst = model.instances[st.choice];
    if (!inst) return done({ step: i, message: `rule instance #${st.choice} does not exist (the model has ${model.instances.length})` });
    if (st.label !== '?' && st.label !== inst.label) return done({ step: i, message: `choice #${st.choice} is now ${inst.label}, the trace says ${st.label}` });
    let t: Int32Array;
    try {
      if (!enabled(model, inst, s)) return done({ step: i, message: `${inst.label} is not enabled in the state before step ${i}` });
      t = applyRule(model, inst, s);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return done(null, { step: i, message: e.message });
      throw e;
    }
    if (!sameState(t, st.state)) return done({ step: i, message: `state after ${inst.label} differs: ${firstDiff(model, t, st.state)}` });
    states.push(t);
    labels.push(inst.label);
    // A property that cannot be evaluated after the step (an unwrap of none in it) is a model error there.
    try {
      if (!violation) {
        for (const p of steps) {
          if (p.kind !== 'step' || (p.rule !== null && p.rule !== inst.rule.name)) continue;
          if (!holds(model, p.pred, t, s, instanceBindings(inst))) {
            violation = { step: i, property: p.name, requirement: p.requirement, kind: 'step', doc: p.doc };
            break;
          }
        }
      }
      checkState(t, i);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return done(null, { step: i, message: failingProperty(model, [...steps, ...invariants], t, inst, s) ?? e.message });
      throw e;
    }
    s = t;
  }
  const failing = trace.extra?.failingChoice;
  if (typeof failing === 'number') {
    const inst = model.instances[failing];
    if (inst) {
      try {
        if (enabled(model, inst, s)) applyRule(model, inst, s);
      } catch (e) {
        if (e instanceof ModelRuntimeError) return done(null, { step: trace.steps.length, message: e.message });
        throw e;
      }
    }
  }
  if (!violation && (opts.checkDeadlock ?? true) && trace.loop === undefined) {
    const any = model.instances.some((inst) => enabled(model, inst, s));
    const legal = model.endState !== null && holds(model, model.endState, s);
    if (!any && !legal)
      violation = {
        step: trace.steps.length - 1,
        property: DEADLOCK,
        requirement: 'deadlock',
        kind: 'deadlock',
        doc: DEADLOCK_DOC,
      };
  }
  return done(null);
}
