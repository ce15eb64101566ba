/**
 * Lasso replay. Why this module exists: a liveness counterexample claims that a run repeats a
 * loop forever without reaching the goal while every fairness requirement is met. Each part of
 * that claim is re-checked here with the reference interpreter (model/lang/interp.ts), so a lasso
 * is accepted only if the plain semantics agrees, whatever engine produced it.
 *
 * Convention (the one checker/explicit/liveness.ts writes): `trace.loop = L`.
 * - L < last: the last state equals state L, and the last choice is the step that closes the loop;
 *   steps L+1..last repeat forever.
 * - L = last: no rule is enabled in the last state, and the run stutters there forever (a run that
 *   stops: a deadlock or a legal end state). Fairness holds trivially: nothing is enabled.
 */
import { McError } from '../model/lang/errors.js';
import { type FairnessMode, fairnessRequirements, metOnLoop } from '../model/lang/fairness.js';
import { applyRule, enabled, holds, initState } from '../model/lang/interp.js';
import type { Model } from '../model/lang/protocol.js';
import type { Liveness } from '../properties/property.js';
import type { Trace } from './trace.js';

/** The verdict of `checkLasso`. */
export type LassoCheck =
  | {
      readonly ok: true;
      /** `cycle`: a loop of steps; `stop`: the last state has no enabled rule (stuttering). */
      readonly kind: 'cycle' | 'stop';
      /** Index of the loop's first state. */
      readonly loop: number;
      /** Steps that repeat forever (0 for `stop`). */
      readonly loopSteps: number;
      /** For a per-instance property: the index value whose goal is never reached. */
      readonly each: number | null;
      readonly fairness: FairnessMode;
    }
  | {
      readonly ok: false;
      /** The step where the check failed, when one step is to blame. */
      readonly step: number | null;
      readonly message: string;
    };

const same = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function fail(step: number | null, message: string): LassoCheck {
  return { ok: false, step, message };
}

/**
 * Checks a lasso trace against a liveness property: every step is enabled and reproduces the
 * stored state; the loop closes (or the last state has no enabled rule); the goal is never
 * reached as the property requires; and every fairness requirement is met on the loop.
 * `opts.fairness` defaults to the mode stored in the trace (`extra.fairness`), else `declared`.
 */
export function checkLasso(model: Model, trace: Trace, property: Liveness, opts: { fairness?: FairnessMode } = {}): LassoCheck {
  const steps = trace.steps;
  const last = steps.length - 1;
  const L = trace.loop;
  if (L === undefined || !Number.isInteger(L) || L < 0 || L > last) return fail(null, 'the trace has no valid loop index: it is not a lasso');
  const stored = trace.extra?.fairness;
  const mode: FairnessMode = opts.fairness ?? (stored === 'none' || stored === 'declared' ? stored : 'declared');

  // 1. Replay every step through the interpreter.
  try {
    for (let k = 0; k <= last; k++) {
      const st = steps[k] as (typeof steps)[number];
      if (k === 0) {
        const init = model.inits[st.choice];
        if (!init) return fail(0, `start choice ${st.choice} names no start state (the model has ${model.inits.length})`);
        if (!same(initState(model, init), st.state)) return fail(0, `the stored start state differs from start state '${init.name}'`);
        continue;
      }
      const inst = model.instances[st.choice];
      if (!inst) return fail(k, `choice ${st.choice} names no rule instance (the model has ${model.instances.length})`);
      const prev = (steps[k - 1] as (typeof steps)[number]).state;
      if (!enabled(model, inst, prev)) return fail(k, `${inst.label} is not enabled in the state before step ${k}`);
      if (!same(applyRule(model, inst, prev), st.state)) return fail(k, `${inst.label} does not produce the stored state of step ${k}`);
    }
  } catch (e) {
    if (e instanceof McError) return fail(null, `replay raised a model error: ${e.message}`);
    throw e;
  }

  // 2. The loop closes, or the run stops.
  const enabledSets: Set<number>[] = [];
  for (let k = L; k < Math.max(last, L + 1); k++) {
    const s = (steps[k] as (typeof steps)[number]).state;
    enabledSets.push(new Set(model.instances.filter((i) => enabled(model, i, s)).map((i) => i.id)));
  }
  if (L === last) {
    const en = enabledSets[0] as Set<number>;
    if (en.size) {
      const names = model.instances.filter((i) => en.has(i.id)).map((i) => i.label);
      return fail(
        last,
        `the loop is the last state alone, but it is not a stopping state: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''} enabled`,
      );
    }
  } else if (!same((steps[last] as (typeof steps)[number]).state, (steps[L] as (typeof steps)[number]).state)) {
    return fail(last, `the loop does not close: the last state differs from state ${L}`);
  }

  // 3. The goal is never reached as the property requires.
  const values = property.each ? Array.from({ length: property.each.index.size }, (_, i) => i) : [null];
  let each: number | null | undefined;
  for (const val of values) {
    const bind = () => {
      const m = new Map<number, number>();
      if (property.each && val !== null) m.set((property.each.v as { id: number }).id, val);
      return m;
    };
    const q = steps.map((st) => holds(model, property.q, st.state, null, bind()));
    const qNeverFrom = (from: number) => q.slice(from).every((x) => !x);
    let violated: boolean;
    if (property.form === 'eventually') violated = qNeverFrom(0);
    else if (property.form === 'alwaysEventually') violated = qNeverFrom(L);
    else violated = steps.some((st, i) => holds(model, property.p, st.state, null, bind()) && qNeverFrom(Math.min(i, L)));
    if (violated) {
      each = val;
      break;
    }
  }
  if (each === undefined) return fail(null, `the run reaches the goal of ${property.name}: it is not a counterexample`);

  // 4. Fairness on the loop.
  if (L < last) {
    const taken = new Set(steps.slice(L + 1).map((st) => st.choice));
    const unmet = fairnessRequirements(model, mode).filter((r) => !metOnLoop(r, enabledSets, taken));
    if (unmet.length) {
      return fail(
        null,
        `the loop is unfair: ${unmet
          .slice(0, 3)
          .map((r) => r.label)
          .join(', ')}${unmet.length > 3 ? `, and ${unmet.length - 3} more` : ''} not met`,
      );
    }
  }
  return { ok: true, kind: L === last ? 'stop' : 'cycle', loop: L, loopSteps: last - L, each, fairness: mode };
}
