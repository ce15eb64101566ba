/**
 * Fairness requirements of a model. Why this module exists: the liveness checker (which searches
 * for fair cycles) and lasso replay (which re-checks a cycle with the interpreter) must agree on
 * what the rules' fairness declarations mean, so both read them from here.
 *
 * A requirement is a set of rule instances: one per instance of a rule declared fair with scope
 * `instance` (the default: one requirement per actor, e.g. per page or per DMA slot), or one for
 * all instances of a rule declared with scope `rule`. On an infinite run that ends in a loop:
 * - weak: if the set is enabled (some instance enabled) in every loop state, an instance of the
 *   set is taken on the loop ("a runnable thread eventually runs");
 * - strong: if the set is enabled in some loop state, an instance of the set is taken on the loop
 *   ("a lock that is free infinitely often is eventually taken").
 * A step of an instance counts as taken even when it leaves the state unchanged.
 */
import type { Model } from './protocol.js';

/** `declared`: the fairness the rules declare; `none`: every rule unfair (any infinite run counts). */
export type FairnessMode = 'declared' | 'none';

/** One fairness requirement: a kind and the rule instances it covers. */
export interface FairnessRequirement {
  readonly kind: 'weak' | 'strong';
  /** Printed form, e.g. `weak HcaCompleteDma(d=0)` or `strong Acquire(*)` for a whole rule. */
  readonly label: string;
  /** Ids of the rule instances (`Model.instances`) in the set. */
  readonly instances: readonly number[];
}

/** The fairness requirements a model declares (none at all in mode `none`). */
export function fairnessRequirements(model: Model, mode: FairnessMode = 'declared'): FairnessRequirement[] {
  if (mode === 'none') return [];
  const out: FairnessRequirement[] = [];
  model.rules.forEach((rule, ruleIdx) => {
    if (rule.fairness === 'none') return;
    const kind = rule.fairness;
    const insts = model.instances.filter((i) => i.ruleIdx === ruleIdx);
    if (rule.fairnessScope === 'rule') {
      out.push({ kind, label: `${kind} ${rule.name}(*)`, instances: insts.map((i) => i.id) });
    } else {
      for (const i of insts) out.push({ kind, label: `${kind} ${i.label}`, instances: [i.id] });
    }
  });
  return out;
}

/**
 * Whether a requirement is met on a loop, given the rule instances enabled in each loop state and
 * the instances taken on the loop's steps.
 */
export function metOnLoop(req: FairnessRequirement, enabledPerState: readonly ReadonlySet<number>[], taken: ReadonlySet<number>): boolean {
  if (req.instances.some((i) => taken.has(i))) return true;
  const enabledAt = enabledPerState.map((en) => req.instances.some((i) => en.has(i)));
  return req.kind === 'weak' ? enabledAt.some((x) => !x) : enabledAt.every((x) => !x);
}
