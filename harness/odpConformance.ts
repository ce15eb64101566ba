/**
 * Conformance of the odp-mirror reference driver on the simulated hardware to the odp-mirror model.
 * Why this module exists: the model is checked exhaustively, the driver is code; this checks, one
 * schedule at a time, that every step of the code is a step of the model (the same check
 * harness/conformance.ts makes for fence-migrate):
 *
 * - a step with a model label must be an enabled rule instance of that label, and the mapped next
 *   state (harness/odpModelMapping.ts) must equal `applyRule` of that instance on the mapped state;
 * - an internal step must leave the mapped state unchanged;
 * - when the system can do nothing, the model must not be able to either (then it is a deadlock).
 *
 * The model's safety properties (and its step property) are evaluated on the mapped states, and the
 * system's monitor reports concrete damage. A report says what failed first; it never throws for a
 * mismatch.
 */
import { type CompiledModel, compileModel } from '../checker/explicit/compile.js';
import { McError } from '../model/lang/errors.js';
import { applyRule, enabled, holds, initState, instanceBindings } from '../model/lang/interp.js';
import type { Model, RuleInstance } from '../model/lang/protocol.js';
import { DEADLOCK, type Property } from '../properties/property.js';
import type { ConformanceFailure, MappedViolation } from './conformance.js';
import { odpModelStateOf, odpSystemConfigFor } from './odpModelMapping.js';
import { type OdpDamage, OdpSystem, type OdpSystemConfig } from './odpSystem.js';
import { type Action, type Scheduler, choiceListScheduler } from './scheduler.js';

export interface OdpConformanceReport {
  readonly steps: number;
  readonly labels: readonly string[];
  readonly failure: ConformanceFailure | null;
  /** The first model property broken on a mapped state or step. */
  readonly violation: MappedViolation | null;
  readonly damage: readonly OdpDamage[];
  /** The system after the run (for reports). */
  readonly system: OdpSystem;
}

interface Prepared {
  readonly props: readonly Property[];
  readonly cm: CompiledModel;
  readonly byLabel: Map<string, RuleInstance>;
  readonly init: Int32Array;
}
const cache = new WeakMap<Model, Prepared>();

function prepare(model: Model, properties: readonly Property[]): Prepared {
  const c = cache.get(model);
  if (c && c.props === properties) return c;
  const fresh = {
    props: properties,
    cm: compileModel(model, properties),
    byLabel: new Map(model.instances.map((i) => [i.label, i])),
    init: initState(model, model.inits[0] as Model['inits'][number]),
  };
  cache.set(model, fresh);
  return fresh;
}

function same(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The fields where two model states differ, in words (at most four). */
export function stateDiff(model: Model, want: Int32Array, got: Int32Array): string {
  const out: string[] = [];
  for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) out.push(`${model.layout.slotNames[i]}: model ${want[i]}, system ${got[i]}`);
  return out.slice(0, 4).join('; ') + (out.length > 4 ? `; ... (${out.length} fields)` : '');
}

/**
 * Runs the system under `scheduler` (at most `maxSteps` steps) and checks every step against
 * `model`. `config` overrides the system configuration derived from the model (for example a knob
 * run against the correct model).
 */
export function checkOdpConformanceWith(
  model: Model,
  properties: readonly Property[],
  scheduler: Scheduler,
  opts: { maxSteps?: number; config?: Partial<OdpSystemConfig> } = {},
): OdpConformanceReport {
  const { cm, byLabel, init } = prepare(model, properties);
  const stepProps = properties.filter((p) => p.kind === 'step');
  const sys = new OdpSystem({ ...odpSystemConfigFor(model), ...opts.config });
  const labels: string[] = [];
  let violation: MappedViolation | null = null;
  const done = (failure: ConformanceFailure | null): OdpConformanceReport => ({ steps: labels.length, labels, failure, violation, damage: sys.damage, system: sys });
  const checkInvariants = (s: Int32Array, step: number) => {
    if (violation) return;
    const k = cm.firstViolated(s);
    if (k >= 0) {
      const p = cm.invariants[k] as Property;
      violation = { step, property: p.name, requirement: p.requirement };
    }
  };
  let m0 = odpModelStateOf(model, sys);
  if (typeof m0 === 'string') return done({ kind: 'unmappable', step: 0, label: null, message: m0 });
  if (!same(init, m0)) return done({ kind: 'wrong-start', step: 0, label: null, message: stateDiff(model, init, m0) });
  checkInvariants(m0, 0);
  const max = opts.maxSteps ?? Number.POSITIVE_INFINITY;
  while (labels.length < max) {
    const acts = sys.enabled();
    if (acts.length === 0) {
      const cur = m0;
      const movable = model.instances.find((i) => enabled(model, i, cur));
      if (movable) return done({ kind: 'stuck', step: labels.length, label: null, message: `the system can do nothing, but the model can take ${movable.label}` });
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
        if (!enabled(model, inst, m0)) return done({ kind: 'not-allowed', step, label: a.label, message: `the system took ${a.label}, which the model does not allow in this state` });
        expected = applyRule(model, inst, m0);
      }
    } catch (e) {
      if (e instanceof McError) return done({ kind: 'model-error', step, label: a.label, message: e.message });
      throw e;
    }
    sys.perform(a);
    labels.push(a.label);
    const m1 = odpModelStateOf(model, sys);
    if (typeof m1 === 'string') return done({ kind: 'unmappable', step, label: a.label, message: m1 });
    if (inst && expected) {
      if (!same(expected, m1)) return done({ kind: 'wrong-effect', step, label: a.label, message: stateDiff(model, expected, m1) });
      if (!violation) {
        for (const p of stepProps) {
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

/** Runs one schedule given as a choice list (entry i picks action `choices[i] mod n`). */
export function checkOdpConformance(
  model: Model,
  properties: readonly Property[],
  choices: readonly number[],
  opts: { config?: Partial<OdpSystemConfig> } = {},
): OdpConformanceReport {
  return checkOdpConformanceWith(model, properties, choiceListScheduler(choices), opts);
}
