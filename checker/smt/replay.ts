/**
 * The soundness guard of the SMT engines. Why this module exists: a satisfying assignment is only a
 * claim of the translation; before it is shown to anyone it is decoded into an ordinary trace and
 * re-executed by the reference interpreter (model/lang/interp.ts). Every state must be reproduced and
 * the violation (or model error, or deadlock) must really happen there; otherwise the encodings
 * disagree and the engine reports an internal error (MC040), never a counterexample.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { applyRule, enabled, holds, initState, instanceBindings } from '../../model/lang/interp.js';
import { sameState, stateDiffs } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Cover, Invariant, StepProperty } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import { DEADLOCK } from '../../properties/property.js';
import { type Violation, deadlockViolation, modelErrorMessage } from '../engine.js';

/** A path decoded from a z3 model: choices `[init, instance...]` and the states they lead to. */
export interface DecodedPath {
  readonly choices: readonly number[];
  readonly states: readonly Int32Array[];
  /** False for a counterexample to induction, whose first state is arbitrary (choice 0 is -1). */
  readonly fromInit: boolean;
}

/** What the interpreter finds at the end of a path. */
export type Finding =
  | { readonly kind: 'invariant'; readonly property: Invariant }
  | { readonly kind: 'step'; readonly property: StepProperty }
  | { readonly kind: 'deadlock' }
  | { readonly kind: 'error'; readonly via: number; readonly message: string };

/** The first four slots where z3's state `got` differs from the interpreter's `want`, in words. */
const diff = (model: Model, want: Int32Array, got: Int32Array): string => stateDiffs(model.layout, got, want, ['z3', 'interpreter']).slice(0, 4).join('; ');

/** Re-executes a decoded path; returns why it does not replay, or null when every state matches. */
export function replayPath(model: Model, path: DecodedPath): string | null {
  const { choices, states } = path;
  if (states.length !== choices.length || states.length === 0) return 'decoded path has no states or mismatched choices';
  try {
    if (path.fromInit) {
      const init = model.inits[choices[0] as number];
      if (!init) return `choice 0 names no start state (${choices[0]})`;
      const s0 = initState(model, init);
      if (!sameState(s0, states[0] as Int32Array)) return `start state differs: ${diff(model, s0, states[0] as Int32Array)}`;
    }
    for (let j = 1; j < states.length; j++) {
      const inst = model.instances[choices[j] as number];
      if (!inst) return `step ${j}: choice ${choices[j]} names no rule instance`;
      const prev = states[j - 1] as Int32Array;
      if (!enabled(model, inst, prev)) return `step ${j}: ${inst.label} is not enabled`;
      const next = applyRule(model, inst, prev);
      if (!sameState(next, states[j] as Int32Array)) return `step ${j} (${inst.label}) differs: ${diff(model, next, states[j] as Int32Array)}`;
    }
  } catch (e) {
    if (e instanceof ModelRuntimeError) return `the interpreter raises a model error on the path: ${e.message}`;
    throw e;
  }
  return null;
}

/** Whether state `s` is stuck: an enabled instance raises a model error, or (if checked) a deadlock. */
export function stuckFinding(model: Model, s: Int32Array, checkDeadlock: boolean): Finding | null {
  let any = false;
  for (const inst of model.instances) {
    try {
      if (enabled(model, inst, s)) {
        any = true;
        applyRule(model, inst, s);
      }
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { kind: 'error', via: inst.id, message: e.message };
      throw e;
    }
  }
  if (any || !checkDeadlock) return null;
  try {
    if (model.endState && holds(model, model.endState, s)) return null;
  } catch (e) {
    if (e instanceof ModelRuntimeError) return { kind: 'error', via: -1, message: e.message };
    throw e;
  }
  return { kind: 'deadlock' };
}

/**
 * A model error evaluating a cover's predicate in state `s` (an unwrap of none), or null. The
 * unrolling counts such an error as one of the state (as the explicit engine, which evaluates every
 * cover in every stored state), so a stuck state may be stuck for this reason alone.
 */
export function coverErrorFinding(model: Model, covers: readonly Cover[], s: Int32Array): Finding | null {
  for (const c of covers) {
    const f = orModelError(() => {
      holds(model, c.pred, s);
      return null;
    }, `evaluating cover ${c.name}: `);
    if (f) return f;
  }
  return null;
}

/** Runs `evaluate`; a model error it raises becomes an error finding (its message after `context`). */
function orModelError(evaluate: () => Finding | null, context = ''): Finding | null {
  try {
    return evaluate();
  } catch (e) {
    if (e instanceof ModelRuntimeError) return { kind: 'error', via: -1, message: `${context}${e.message}` };
    throw e;
  }
}

/**
 * The property broken at the end of a path: a step property of the last step first (as the explicit
 * engine checks them before storing a state), then the invariants of the last state, in order.
 */
export function violationFinding(model: Model, invariants: readonly Invariant[], steps: readonly StepProperty[], path: DecodedPath): Finding | null {
  const n = path.states.length;
  const last = path.states[n - 1] as Int32Array;
  return orModelError(() => {
    if (n >= 2) {
      const inst = model.instances[path.choices[n - 1] as number];
      const prev = path.states[n - 2] as Int32Array;
      if (inst) {
        for (const p of steps) {
          if (p.rule !== null && p.rule !== inst.rule.name) continue;
          if (!holds(model, p.pred, last, prev, instanceBindings(inst))) return { kind: 'step', property: p };
        }
      }
    }
    for (const p of invariants) if (!holds(model, p.pred, last)) return { kind: 'invariant', property: p };
    return null;
  });
}

/** An ordinary trace of a decoded path. */
export function traceOf(
  model: Model,
  path: DecodedPath,
  prop: { name: string; requirement: string } | null,
  extra: Record<string, unknown>,
  note?: string,
): Trace {
  const steps: TraceStep[] = path.states.map((state, j) => {
    const c = path.choices[j] as number;
    const label =
      j === 0 ? (path.fromInit ? `init ${model.inits[c]?.name ?? c}` : 'arbitrary state (not necessarily reachable)') : (model.instances[c]?.label ?? `#${c}`);
    return { choice: c, label, state };
  });
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'smt',
    property: prop?.name ?? null,
    requirement: prop?.requirement ?? null,
    steps,
    extra,
    ...(note === undefined ? {} : { note }),
  };
}

/** The violation a (non-error) finding at the end of `path` reports, worded as the explicit engine words it. */
export function violationOf(model: Model, f: Exclude<Finding, { kind: 'error' }>, path: DecodedPath, extra: Record<string, unknown>): Violation {
  if (f.kind === 'deadlock') {
    return deadlockViolation(traceOf(model, path, { name: DEADLOCK, requirement: 'deadlock' }, extra));
  }
  const p = f.property;
  const last = model.instances[path.choices[path.choices.length - 1] as number];
  const message =
    f.kind === 'step'
      ? `step property ${p.name} (${p.requirement}) violated by ${last?.label}: ${p.doc}`
      : `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`;
  return { property: p.name, requirement: p.requirement, kind: f.kind, message, trace: traceOf(model, path, p, extra) };
}

/** The message and trace of a model error found at the end of `path`. */
export function modelErrorOf(
  model: Model,
  f: Extract<Finding, { kind: 'error' }>,
  path: DecodedPath,
  extra: Record<string, unknown>,
): { message: string; trace: Trace } {
  return {
    message: modelErrorMessage(f.message, path.states.length - 1),
    trace: traceOf(model, path, null, f.via >= 0 ? { ...extra, failingChoice: f.via } : extra, f.message),
  };
}
