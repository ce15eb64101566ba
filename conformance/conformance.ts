/**
 * Conformance of a reference driver on the simulated hardware to its model, for any protocol package.
 * Why this module exists: the model is checked exhaustively, the reference driver is code; this is
 * the bridge. A schedule (a choice list, or any scheduler) runs the package's system (its harness
 * binding builds it for the model); after every driver step the system state is mapped to a model
 * state by the binding's abstraction function, and the step must be one the model allows, up to
 * stuttering:
 *
 * - a step that leaves the mapped state unchanged is a stutter: the driver did something the model
 *   does not see (took a lock the model has no variable for, noticed a completion, woke up);
 * - a step that changes it must give exactly the successor of some model rule instance enabled in
 *   the mapped state (`applyRule`, model/lang/interp.ts, in its compiled form). A step's label is
 *   only a hint: when it names an enabled instance whose successor matches, that instance is the
 *   one taken; otherwise every enabled instance is tried. So one model step may be several driver
 *   steps, and a driver's atomic sections are only what its own scheduling points leave atomic;
 * - when the system can do nothing, the model must not be able to either.
 *
 * On the mapped states the model's safety properties are checked too (a step property on the model
 * step a driver step was matched to), and the system's own monitor reports concrete damage. A
 * report says which of these failed first; it never throws for a mismatch.
 */
import type { HarnessBinding } from '../harness/binding.js';
import { type Action, type Scheduler, choiceListScheduler } from '../harness/scheduler.js';
import type { Damage, SimSystem } from '../harness/simSystem.js';
import { type CompiledModel, compileModel } from '../model/lang/compile.js';
import { McError } from '../model/lang/errors.js';
import { applyRule, enabled, initState } from '../model/lang/interp.js';
import { sameState, stateDiffs } from '../model/lang/layout.js';
import type { Model, RuleInstance } from '../model/lang/protocol.js';
import { DEADLOCK, type Property } from '../properties/property.js';

/** The first way a run stopped matching the model. */
export interface ConformanceFailure {
  /**
   * `not-allowed`: the step changed the mapped state, its label names a model rule instance, and
   * that instance is not enabled (nor does any other enabled instance give the new state);
   * `wrong-effect`: the labelled instance is enabled but gives another state (and no other instance
   * gives the new one); `internal-changed`: an unlabelled step changed the mapped state to one no
   * enabled instance gives; `stuck`: the system cannot move but the model can.
   */
  readonly kind: 'unmappable' | 'wrong-start' | 'not-allowed' | 'wrong-effect' | 'internal-changed' | 'stuck' | 'model-error';
  /** 1-based step (0: the start state). */
  readonly step: number;
  readonly label: string | null;
  readonly message: string;
}

/** A model property broken on the mapped states. */
export interface MappedViolation {
  readonly step: number;
  readonly property: string;
  readonly requirement: string;
}

/** How a run went against the model. */
export interface ConformanceRun {
  /** Driver steps executed (model steps plus stutters). */
  readonly steps: number;
  /** Driver steps matched to a model rule instance. */
  readonly modelSteps: number;
  /** The model rule instance each driver step was matched to (null for a stutter), in order. */
  readonly matched: readonly (string | null)[];
  readonly labels: readonly string[];
  readonly failure: ConformanceFailure | null;
  /** The first model property broken on a mapped state or step. */
  readonly violation: MappedViolation | null;
}

interface Prepared {
  readonly props: readonly Property[];
  readonly cm: CompiledModel<Property>;
  readonly byLabel: Map<string, RuleInstance>;
  readonly init: Int32Array;
}
const compiled = new WeakMap<Model, Prepared>();

function prepare(model: Model, properties: readonly Property[]): Prepared {
  const c = compiled.get(model);
  if (c && c.props === properties) return c;
  const fresh = {
    props: properties,
    cm: compileModel(model, properties),
    byLabel: new Map(model.instances.map((i) => [i.label, i])),
    init: initState(model, model.inits[0] as Model['inits'][number]),
  };
  compiled.set(model, fresh);
  return fresh;
}

/** The fields where the model's state and the system's mapped state differ, in words (at most four). */
export function stateDiff(model: Model, want: Int32Array, got: Int32Array): string {
  const out = stateDiffs(model.layout, want, got, ['model', 'system']);
  return out.slice(0, 4).join('; ') + (out.length > 4 ? `; ... (${out.length} fields)` : '');
}

/** A model step that explains a driver step: the instance and the first step property it breaks (-1: none). */
interface Match {
  readonly inst: RuleInstance;
  readonly stepFail: number;
}

/**
 * The enabled instance whose successor of `from` is `to`, preferring `hint`; null when none is.
 * Throws McError when a rule raises a model error in `from` (the interpreter names the rule).
 */
function successorMatch(model: Model, cm: CompiledModel<Property>, from: Int32Array, to: Int32Array, hint: RuleInstance | undefined): Match | null {
  const t = new Int32Array(from.length);
  let found: Match | null = null;
  let hinted: Match | null = null;
  try {
    cm.expand(from, t, (id, stepFail) => {
      if (!sameState(t, to)) return;
      const inst = model.instances[id] as RuleInstance;
      if (inst === hint) hinted = { inst, stepFail };
      else if (!found) found = { inst, stepFail };
    });
  } catch (e) {
    if (!(e instanceof McError)) throw e;
    // The compiled code does not know which rule failed; the interpreter does.
    for (const inst of model.instances) if (enabled(model, inst, from)) applyRule(model, inst, from);
    throw e;
  }
  return hinted ?? found;
}

/** Runs `sys` under `scheduler` and checks each step against `model` (see the module header). */
function checkRun<S extends SimSystem>(
  model: Model,
  properties: readonly Property[],
  scheduler: Scheduler,
  sys: S,
  stateOf: (model: Model, sys: S) => Int32Array | string,
  maxSteps: number,
): ConformanceRun {
  const { cm, byLabel, init } = prepare(model, properties);
  const labels: string[] = [];
  const matched: (string | null)[] = [];
  let modelSteps = 0;
  let violation: MappedViolation | null = null;
  const done = (failure: ConformanceFailure | null): ConformanceRun => ({ steps: labels.length, modelSteps, matched, labels, failure, violation });
  const checkInvariants = (s: Int32Array, step: number) => {
    if (violation) return;
    const k = cm.firstViolated(s);
    if (k >= 0) {
      const p = cm.invariants[k] as Property;
      violation = { step, property: p.name, requirement: p.requirement };
    }
  };

  let m0 = stateOf(model, sys);
  if (typeof m0 === 'string') return done({ kind: 'unmappable', step: 0, label: null, message: m0 });
  if (!sameState(init, m0)) return done({ kind: 'wrong-start', step: 0, label: null, message: stateDiff(model, init, m0) });
  checkInvariants(m0, 0);
  while (labels.length < maxSteps) {
    const acts = sys.enabled();
    if (acts.length === 0) {
      const cur = m0;
      const movable = model.instances.find((i) => enabled(model, i, cur));
      if (movable)
        return done({ kind: 'stuck', step: labels.length, label: null, message: `the system can do nothing, but the model can take ${movable.label}` });
      sys.reportHung();
      if (!violation && !cm.isEnd(cur)) violation = { step: labels.length, property: DEADLOCK, requirement: 'deadlock' };
      break;
    }
    const k = scheduler.choose(acts);
    if (k === null) break;
    const a = acts[k] as Action;
    const step = labels.length + 1;
    const hint = byLabel.get(a.label);
    sys.perform(a);
    labels.push(a.label);
    const m1 = stateOf(model, sys);
    if (typeof m1 === 'string') return done({ kind: 'unmappable', step, label: a.label, message: m1 });
    let match: Match | null;
    try {
      match = successorMatch(model, cm, m0, m1, hint);
    } catch (e) {
      if (e instanceof McError) return done({ kind: 'model-error', step, label: a.label, message: e.message });
      throw e;
    }
    if (match === null && !sameState(m0, m1)) {
      if (hint && !enabled(model, hint, m0))
        return done({ kind: 'not-allowed', step, label: a.label, message: `the system took ${a.label}, which the model does not allow in this state` });
      if (hint) return done({ kind: 'wrong-effect', step, label: a.label, message: stateDiff(model, applyRule(model, hint, m0), m1) });
      return done({ kind: 'internal-changed', step, label: a.label, message: stateDiff(model, m0, m1) });
    }
    // An unchanged state is a model step only when the hint names an enabled instance that leaves
    // the state as it is (a rule with no effect on the state); otherwise it is a stutter.
    const isModelStep = match !== null && (!sameState(m0, m1) || match.inst === hint);
    matched.push(isModelStep && match ? match.inst.label : null);
    if (isModelStep && match) {
      modelSteps++;
      if (!violation && match.stepFail >= 0) {
        const p = cm.steps[match.stepFail] as Property;
        violation = { step, property: p.name, requirement: p.requirement };
      }
    }
    checkInvariants(m1, step);
    m0 = m1;
  }
  return done(null);
}

/** Options of `runConformance`. */
export interface ConformanceOptions {
  /** Stop after this many steps (default: when the schedule ends or nothing can run). */
  readonly maxSteps?: number;
  /**
   * The reference driver's knob (default: the model's variant). Running a knob against the correct
   * model, or the correct driver against a variant, shows that the check is not vacuous.
   */
  readonly knob?: string | null;
}

/** A conformance run with what the system's monitor saw. */
export interface ConformanceReport<S extends SimSystem = SimSystem> extends ConformanceRun {
  /** Concrete damage, in the order seen. */
  readonly damage: readonly Damage[];
  /** The system after the run (for reports). */
  readonly system: S;
}

/**
 * Runs a package's reference driver on the simulated hardware, built by `binding` for `model`, under
 * `schedule` (a scheduler, or a choice list: entry i picks action `choices[i] mod n` among the n
 * enabled), and checks every step against `model` as the module header says. Throws only what the
 * binding throws for a model its harness does not simulate (McError).
 */
export function runConformance<S extends SimSystem>(
  binding: HarnessBinding<S>,
  model: Model,
  properties: readonly Property[],
  schedule: Scheduler | readonly number[],
  opts: ConformanceOptions = {},
): ConformanceReport<S> {
  const sys = binding.system(model, { knob: opts.knob, describe: false });
  const scheduler = 'choose' in schedule ? schedule : choiceListScheduler(schedule);
  const run = checkRun(model, properties, scheduler, sys, (m, s) => binding.stateOf(m, s), opts.maxSteps ?? Number.POSITIVE_INFINITY);
  return { ...run, damage: sys.damage, system: sys };
}
