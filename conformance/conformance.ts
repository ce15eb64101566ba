/**
 * Conformance of a reference driver on the simulated hardware to its model. Why this module exists:
 * the model is checked exhaustively, the reference driver is code; this is the bridge. The check
 * (`runConformance`) serves every protocol; `checkConformance` applies it to fence-migrate and
 * harness/odpConformance.ts to odp-mirror. A schedule (a choice list) runs the system; after every
 * step the system state is mapped to a model state (harness/modelMapping.ts,
 * harness/odpModelMapping.ts) and the step must be one the model allows:
 *
 * - a step with a model label must be an enabled rule instance of that label, and the mapped next
 *   state must equal `applyRule` of that instance on the mapped state (model/lang/interp.ts);
 * - an internal step (a retry of the fault handler, a wait) must leave the mapped state unchanged;
 * - when the system can do nothing, the model must not be able to either.
 *
 * On the mapped states the model's safety properties are checked too, and the harness's own monitor
 * reports concrete damage. A report says which of these failed first; it never throws for a
 * mismatch.
 */
import { compileModel, type CompiledModel } from '../model/lang/compile.js';
import { McError } from '../model/lang/errors.js';
import { applyRule, enabled, holds, initState, instanceBindings } from '../model/lang/interp.js';
import type { Model, RuleInstance } from '../model/lang/protocol.js';
import { DEADLOCK, type Property } from '../properties/property.js';
import type { Action, Scheduler } from '../harness/scheduler.js';

/** The first way a run stopped matching the model. */
export interface ConformanceFailure {
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

/** What the conformance check needs of a simulated system (both protocols' systems have it). */
export interface ConformanceSystem {
  /** The actions that can run now. */
  enabled(): Action[];
  perform(a: Action): unknown;
  /** Records, as damage, that the threads still waiting can never run. */
  reportHung(): unknown;
}

/** The outcome of `runConformance`; each protocol's report adds its system's damage. */
export interface ConformanceRun {
  /** Steps executed (model steps plus internal ones). */
  readonly steps: number;
  readonly modelSteps: number;
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

/** The fields where two model states differ, in words (at most four). */
export function stateDiff(model: Model, want: Int32Array, got: Int32Array): string {
  const out: string[] = [];
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) out.push(`${model.layout.slotNames[i]}: model ${want[i]}, system ${got[i]}`);
  return out.slice(0, 4).join('; ') + (out.length > 4 ? `; ... (${out.length} fields)` : '');
}

function same(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The conformance check itself, for any protocol: runs `sys` under `scheduler` (at most `maxSteps`
 * steps), maps its state to a model state with `stateOf` after every step, and checks each step
 * against `model` as the module header says. It never throws for a mismatch.
 */
export function runConformance<S extends ConformanceSystem>(
  model: Model,
  properties: readonly Property[],
  scheduler: Scheduler,
  sys: S,
  stateOf: (model: Model, sys: S) => Int32Array | string,
  maxSteps = Number.POSITIVE_INFINITY,
): ConformanceRun {
  const { cm, byLabel, init } = prepare(model, properties);
  const steps = properties.filter((p) => p.kind === 'step');
  const labels: string[] = [];
  let modelSteps = 0;
  let violation: MappedViolation | null = null;
  const done = (failure: ConformanceFailure | null): ConformanceRun => ({ steps: labels.length, modelSteps, labels, failure, violation });
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
  if (!same(init, m0)) return done({ kind: 'wrong-start', step: 0, label: null, message: stateDiff(model, init, m0) });
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
    const inst = byLabel.get(a.label);
    if (a.internal === (inst !== undefined)) {
      const message = a.internal ? `internal step ${a.label} has the label of a model rule` : `${a.label} is not a rule instance of the model`;
      return done({ kind: 'not-allowed', step, label: a.label, message });
    }
    let expected: Int32Array | null = null;
    try {
      if (inst) {
        if (!enabled(model, inst, m0))
          return done({ kind: 'not-allowed', step, label: a.label, message: `the system took ${a.label}, which the model does not allow in this state` });
        expected = applyRule(model, inst, m0);
      }
    } catch (e) {
      if (e instanceof McError) return done({ kind: 'model-error', step, label: a.label, message: e.message });
      throw e;
    }
    sys.perform(a);
    labels.push(a.label);
    const m1 = stateOf(model, sys);
    if (typeof m1 === 'string') return done({ kind: 'unmappable', step, label: a.label, message: m1 });
    if (inst && expected) {
      modelSteps++;
      if (!same(expected, m1)) return done({ kind: 'wrong-effect', step, label: a.label, message: stateDiff(model, expected, m1) });
      if (!violation) {
        for (const p of steps) {
          if (p.kind !== 'step' || (p.rule !== null && p.rule !== inst.rule.name)) continue;
          if (!holds(model, p.pred, m1, m0, instanceBindings(inst))) {
            violation = { step, property: p.name, requirement: p.requirement };
            break;
          }
        }
      }
    } else if (!same(m0, m1)) {
      return done({ kind: 'internal-changed', step, label: a.label, message: stateDiff(model, m0, m1) });
    }
    checkInvariants(m1, step);
    m0 = m1;
  }
  return done(null);
}
