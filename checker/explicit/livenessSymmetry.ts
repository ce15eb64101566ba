/**
 * Liveness on the symmetry-reduced graph. Why this module exists: the liveness graph keeps every
 * state and edge, so it is where symmetry reduction saves the most memory; but a fair cycle is a
 * statement about rule instances, and a permutation of a symmetric type renames instances. This
 * module says when the reduced graph gives exactly the verdicts of the full one, and turns a lasso
 * of canonical states into a concrete lasso that replays.
 *
 * The reduced graph has an edge c -k-> c' when instance k, taken in the canonical state c, leads to
 * a state whose canonical form is c'. A run of the full graph maps to a walk of the reduced one and
 * back (a walk lifts to a run by taking, at each step, the permuted instance), and a closed walk
 * lifts to a run from x to a permutation of x, which repeated returns to x. Verdicts agree when
 * everything the liveness check reads of a run is the same for a state and its permutations:
 * - the property's predicates (checkSymmetric: no symmetric value used as a number);
 * - fairness requirements that every permutation maps onto itself: a requirement per rule
 *   (`fairness scope: rule`), or per instance of a rule with no parameter of a symmetric type.
 * Then the plain reduced graph is used. A property checked for each value of a symmetric type (per
 * DMA slot, per CPU), or a requirement per instance of a rule with a symmetric parameter, is
 * renamed by the permutations: then the graph keeps the permutation of each edge (Emerson and
 * Sistla's annotated quotient) and annotatedQuotient.ts decides, exactly (its header gives the
 * procedure and the argument). This is refused only past what the annotations hold (more than
 * 65536 permutations, or an orbit of more than 32 renamed requirements), with the reason in the
 * statistics.
 */
import { McError } from '../../model/lang/errors.js';
import { type FairnessMode, fairnessRequirements } from '../../model/lang/fairness.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Liveness } from '../../properties/property.js';
import type { TraceStep } from '../../counterexamples/trace.js';
import { type StateGraph, initVia } from './graph.js';

/**
 * Whether the liveness check may run on the symmetry-reduced graph, and if not, why. `annotated`:
 * the graph must keep each edge's permutation and the verdicts are those of annotatedQuotient.ts
 * (a property checked for each value of a symmetric type, or fairness per instance of a rule with
 * a symmetric parameter); otherwise the plain reduced graph gives them.
 */
export type LivenessSymmetry = { readonly use: true; readonly annotated: boolean } | { readonly use: false; readonly reason: string };

/** Largest orbit of renamed fairness requirements the threads follow (a bit each). */
const MAX_ORBIT = 32;

/** Decides whether the reduced graph gives the full graph's liveness verdicts for these properties and fairness, and how. */
export function livenessSymmetry(model: Model, props: readonly Liveness[], mode: FairnessMode): LivenessSymmetry {
  const permuted = model.indexes.filter((i) => i.symmetric && i.size > 1);
  if (permuted.length === 0) return { use: false, reason: 'no symmetric type' };
  const symmetric = new Map(permuted.map((i) => [i.name, i.size]));
  let annotated = props.some((p) => p.each && symmetric.has(p.each.index.name));
  for (const req of fairnessRequirements(model, mode)) {
    if (req.instances.length !== 1) continue;
    const inst = model.instances[req.instances[0] as number];
    if (!inst || inst.rule.fairnessScope === 'rule') continue;
    const sizes = inst.rule.params.map((x) => symmetric.get(x.index.name) ?? 1);
    if (sizes.every((x) => x === 1)) continue;
    annotated = true;
    const orbit = sizes.reduce((a, x) => a * x, 1);
    if (orbit > MAX_ORBIT)
      return {
        use: false,
        reason: `${req.kind} fairness per instance of ${inst.rule.name}: ${orbit} renamed instances, more than the ${MAX_ORBIT} the threads follow`,
      };
  }
  const group = permuted.reduce((a, i) => a * factorial(i.size), 1);
  if (annotated && group > 0x10000) return { use: false, reason: `${group} permutations: more than an edge's permutation index holds (65536)` };
  return { use: true, annotated };
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

const sameWords = (a: Uint32Array, b: Uint32Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * The concrete steps of a lasso of the reduced graph: from the concrete start state, at each edge
 * the rule instance of the edge's rule whose successor has the edge target's canonical form (the
 * edge's own instance when it fits: it always does for a rule without symmetric parameters), so
 * every step takes an instance of the same fairness requirement as the edge. The loop is walked
 * again until its first state comes back (a closed walk of canonical states may end in a
 * permutation of where it began); when the walk returns to an earlier pass's start instead, the
 * passes before it join the prefix. Returns the steps and the index of the loop's first state.
 */
export function concreteLasso(g: StateGraph, root: number, prefix: readonly number[], loop: readonly number[]): { steps: TraceStep[]; loopAt: number } {
  const { model, cm } = g;
  const canon = g.canon;
  if (!canon) throw new McError('MC040', 'internal error: a concrete lasso needs the reduced graph');
  const rootVia = initVia(g, root);
  let cur = initState(model, model.inits[rootVia] as (typeof model.inits)[number]);
  const steps: TraceStep[] = [{ choice: rootVia, label: `init ${model.inits[rootVia]?.name ?? rootVia}`, state: cur }];
  const t = new Int32Array(model.layout.nSlots);
  const pw = new Uint32Array(cm.words);
  const target = new Uint32Array(cm.words);
  const step = (e: number) => {
    const k = g.labels[e] as number;
    const rule = model.instances[k]?.ruleIdx;
    g.store.read(g.targets[e] as number, target, 0);
    let found: { via: number; state: Int32Array } | null = null;
    cm.expand(cur, t, (j) => {
      if (found?.via === k || model.instances[j]?.ruleIdx !== rule) return;
      cm.pack(t, pw, 0);
      canon.canonical(t, pw);
      if (sameWords(pw, target)) found = { via: j, state: new Int32Array(t) };
    });
    const f = found as { via: number; state: Int32Array } | null;
    if (!f) throw new McError('MC040', 'internal error: cannot rebuild a concrete lasso under symmetry reduction');
    steps.push({ choice: f.via, label: model.instances[f.via]?.label ?? `#${f.via}`, state: f.state });
    cur = f.state;
  };
  for (const e of prefix) step(e);
  if (loop.length === 0) return { steps, loopAt: steps.length - 1 };
  // The first state of each pass around the loop, by its contents: a pass that starts where an
  // earlier one started closes the concrete loop there. The passes stay within one orbit, so
  // there are at most as many as the orbit has states.
  const passStart = new Map<string, number>();
  for (let pass = 0; ; pass++) {
    const key = cur.join(',');
    const at = passStart.get(key);
    if (at !== undefined) return { steps, loopAt: at };
    passStart.set(key, steps.length - 1);
    if (pass > 100_000) throw new McError('MC040', 'internal error: a concrete lasso under symmetry reduction does not close');
    for (const e of loop) step(e);
  }
}
