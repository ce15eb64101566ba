/**
 * Liveness with symmetry reduction against liveness on the full graph, on random symmetric
 * protocols. Why this file exists: the reduced check (livenessSymmetry.ts, annotatedQuotient.ts)
 * splits fairness into requirements the permutations map onto themselves (read on the quotient)
 * and per-instance requirements of renamed rules (followed as threads), and tracks a value of the
 * symmetric type for a property checked for each one; the hand-made lock ring of
 * livenessSymmetry.test.ts has one shape of each. Here rules with and without a symmetric
 * parameter (some with a second parameter of a type no permutation renames, some enabled at two
 * values of a process's pc, so that an instance can stay enabled while the canonical numbering of
 * the processes changes), without fairness, with weak or strong fairness over the rule or per
 * instance, and properties over all processes or for each one, are mixed at random, and the
 * reduced check must give the full graph's verdict for every property, with lassos that replay
 * under the declared fairness.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { type Expr, and, eq, exists, forall, none, not, some } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, enumOf, option } from '../../model/lang/types.js';
import { type Liveness, alwaysEventually, eventually, leadsTo, leadsToEach } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { livenessCheck } from './liveness.js';

const PC = ['a', 'b', 'c'] as const;
type Pc = (typeof PC)[number];

interface RulePlan {
  /** A parameter of the symmetric type Proc (else the rule acts on the shared variables only). */
  readonly param: boolean;
  /** With `param`, a second parameter of the type Side, which no permutation renames: the instance records it in `last`. */
  readonly side: boolean;
  /** With `param`, the guard is "not at `to`" (enabled at two values of pc) instead of "at `from`". */
  readonly away: boolean;
  readonly from: Pc;
  readonly to: Pc;
  /** The lock: must be free (and is taken), must be held by this process (and is freed), or is ignored. */
  readonly lock: 'take' | 'free' | 'ignore';
  readonly fairness: 'none' | 'weak' | 'strong';
  readonly scope: 'rule' | 'instance';
}

interface PropPlan {
  readonly form: 'alwaysEventually' | 'eventually' | 'leadsTo' | 'leadsToEach';
  readonly a: Pc;
  readonly b: Pc;
  readonly lockFree: boolean;
}

const rulePlan: fc.Arbitrary<RulePlan> = fc.record({
  param: fc.boolean(),
  side: fc.boolean(),
  away: fc.boolean(),
  from: fc.constantFrom(...PC),
  to: fc.constantFrom(...PC),
  lock: fc.constantFrom('take', 'free', 'ignore'),
  fairness: fc.constantFrom('none', 'weak', 'strong'),
  scope: fc.constantFrom('rule', 'instance'),
});
const propPlan: fc.Arbitrary<PropPlan> = fc.record({
  form: fc.constantFrom('alwaysEventually', 'eventually', 'leadsTo', 'leadsToEach'),
  a: fc.constantFrom(...PC),
  b: fc.constantFrom(...PC),
  lockFree: fc.boolean(),
});
const plan = fc.record({
  n: fc.integer({ min: 2, max: 3 }),
  rules: fc.array(rulePlan, { minLength: 1, maxLength: 4 }),
  props: fc.array(propPlan, { minLength: 1, maxLength: 3 }),
});

function build(p: typeof plan extends fc.Arbitrary<infer T> ? T : never) {
  const proto = defineProtocol({
    name: 'random-symmetric',
    summary: 'random processes around a lock',
    spec: 'checker/explicit/livenessSymmetryRandom.test.ts',
    params: {},
    variants: [],
    build(b) {
      const Proc = b.index('Proc', p.n, { symmetric: true });
      const pc = b.v('pc', arrayOf(Proc, enumOf('Pc', [...PC])));
      const owner = b.v('owner', option(Proc));
      const busy = b.v('busy', bool);
      const Side = b.index('Side', 2);
      const last = b.v('last', Side);
      b.init('start', () => []);
      p.rules.forEach((r, k) => {
        const at = (i: Expr) => (r.away ? not(eq(pc.at(i), r.to)) : eq(pc.at(i), r.from));
        const fair = r.fairness === 'none' ? undefined : { fairness: r.fairness, fairnessScope: r.scope };
        if (r.param && r.side) {
          // Instances (i, s) of one process differ by the `last` they leave: a permutation renames i and never s.
          b.rule(`R${k}`, { i: Proc, s: Side }, ({ i, s }) => ({ guard: at(i), body: [assign(pc.at(i), r.to), assign(last, s)] }), fair);
        } else if (r.param) {
          b.rule(
            `R${k}`,
            { i: Proc },
            ({ i }) => {
              const lockGuard: Expr[] = r.lock === 'take' ? [eq(owner, none)] : r.lock === 'free' ? [eq(owner, some(i))] : [];
              const lockBody = r.lock === 'take' ? [assign(owner, some(i))] : r.lock === 'free' ? [assign(owner, none)] : [];
              return { guard: and(at(i), ...lockGuard), body: [assign(pc.at(i), r.to), ...lockBody] };
            },
            fair,
          );
        } else {
          // A rule of no process: flips `busy` when some process is at `from`.
          b.rule(
            `R${k}`,
            {},
            () => ({ guard: exists(Proc, (i) => eq(pc.at(i), r.from)), body: [assign(busy, not(busy))] }),
            fair && { fairness: fair.fairness },
          );
        }
      });
      return { Proc, pc, owner, busy, last };
    },
  });
  const model = buildModel(proto);
  const { Proc, pc, owner } = model.handles;
  const props: Liveness[] = p.props.map((q, k) => {
    const name = `P${k}`;
    const free = q.lockFree ? eq(owner, none) : not(eq(owner, none));
    switch (q.form) {
      case 'alwaysEventually':
        return alwaysEventually(name, 'T', 'random', q.lockFree ? free : forall(Proc, (i) => not(eq(pc.at(i), q.a))));
      case 'eventually':
        return eventually(
          name,
          'T',
          'random',
          exists(Proc, (i) => eq(pc.at(i), q.a)),
        );
      case 'leadsTo':
        return leadsTo(
          name,
          'T',
          'random',
          exists(Proc, (i) => eq(pc.at(i), q.a)),
          and(
            free,
            exists(Proc, (i) => eq(pc.at(i), q.b)),
          ),
        );
      default:
        return leadsToEach(name, 'T', 'random', Proc, (i) => [eq(pc.at(i), q.a), eq(pc.at(i), q.b)]);
    }
  });
  return { model, props };
}

const verdict = (r: CheckResult) => ({ status: r.status, violated: r.status === 'violated' ? r.violations.map((v) => v.property).sort() : [] });

describe('liveness with symmetry reduction on random symmetric protocols', () => {
  it("gives the full graph's verdict for every property, and its lassos replay under the declared fairness", () => {
    const plans = fc.sample(plan, { numRuns: 150, seed: 20261206 });
    const bad: string[] = [];
    const seen = { violated: 0, ok: 0, reduced: 0, perInstance: 0 };
    for (const [k, p] of plans.entries()) {
      const { model, props } = build(p);
      const full = livenessCheck({ model, properties: props, limits: {} });
      const reduced = livenessCheck({ model, properties: props, limits: {}, symmetry: true });
      const [vf, vr] = [verdict(full), verdict(reduced)];
      if (JSON.stringify(vf) !== JSON.stringify(vr)) bad.push(`plan ${k}: full ${JSON.stringify(vf)}, reduced ${JSON.stringify(vr)}: ${JSON.stringify(p)}`);
      if (full.status === 'violated') seen.violated++;
      else seen.ok++;
      if (reduced.stats.symmetry) seen.reduced++;
      if (p.rules.some((r) => r.param && r.fairness !== 'none' && r.scope === 'instance') || p.props.some((q) => q.form === 'leadsToEach')) seen.perInstance++;
      if (reduced.status !== 'violated') continue;
      for (const v of reduced.violations) {
        const prop = props.find((q) => q.name === v.property) as Liveness;
        const chk = checkLasso(model, v.trace as Trace, prop);
        if (!chk.ok) bad.push(`plan ${k}: the lasso of ${v.property} does not replay: ${JSON.stringify(chk)}`);
      }
    }
    expect(bad).toEqual([]);
    expect(seen.violated > 20 && seen.ok > 20 && seen.reduced > 50 && seen.perInstance > 50, JSON.stringify(seen)).toBe(true);
  });
});
