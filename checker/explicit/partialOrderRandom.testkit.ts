/**
 * Random small protocols for the partial-order reduction's tests: processes (a symmetric index or
 * not) with local state, a lock, a counter and a flag, with invariants, a cover and step properties;
 * and the comparison of a reduced search with the full one. Why this module exists: the tests of
 * every protocol (partialOrder.test.ts, minutes) and the quick ones that a mutation run can afford
 * (partialOrderWords.test.ts) draw from the same plans.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { type Expr, add, and, count, eq, exists, forall, implies, isSome, ite, le, lt, ne, none, not, pre, some } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type Stmt, assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, enumOf, option, range } from '../../model/lang/types.js';
import { type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { explicitCheck } from './explicit.js';

export type Lit =
  | { k: 'pc'; v: number }
  | { k: 'x'; lt: number }
  | { k: 'free' }
  | { k: 'mine' }
  | { k: 'cnt'; lt: number }
  | { k: 'flag'; v: boolean }
  | { k: 'other'; v: number };
export type Act = { k: 'pc'; v: number } | { k: 'x+' } | { k: 'take' } | { k: 'drop' } | { k: 'cnt+' } | { k: 'flip' };
export interface Plan {
  readonly n: number;
  readonly symmetric: boolean;
  readonly rules: readonly { readonly guard: readonly Lit[]; readonly body: readonly Act[] }[];
  readonly inv: readonly { readonly k: 'local' | 'count' | 'flag'; readonly a: number; readonly b: number }[];
  readonly coverPc: number;
  readonly stepRule: number | null;
  /** A step property of every rule about a change of one variable (pc, x, flag or lock), bounding cnt. */
  readonly change: { readonly v: 'pc' | 'x' | 'flag' | 'lock'; readonly k: number } | null;
  readonly endOk: boolean;
}

const lit: fc.Arbitrary<Lit> = fc.oneof(
  fc.record({ k: fc.constant('pc' as const), v: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('x' as const), lt: fc.integer({ min: 1, max: 2 }) }),
  fc.constant({ k: 'free' as const }),
  fc.constant({ k: 'mine' as const }),
  fc.record({ k: fc.constant('cnt' as const), lt: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('flag' as const), v: fc.boolean() }),
  fc.record({ k: fc.constant('other' as const), v: fc.integer({ min: 0, max: 2 }) }),
);
const act: fc.Arbitrary<Act> = fc.oneof(
  fc.record({ k: fc.constant('pc' as const), v: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ k: 'x+' as const }),
  fc.constant({ k: 'take' as const }),
  fc.constant({ k: 'drop' as const }),
  fc.constant({ k: 'cnt+' as const }),
  fc.constant({ k: 'flip' as const }),
);
export const planArb: fc.Arbitrary<Plan> = fc.record({
  n: fc.integer({ min: 2, max: 3 }),
  symmetric: fc.boolean(),
  rules: fc.array(fc.record({ guard: fc.array(lit, { minLength: 1, maxLength: 3 }), body: fc.array(act, { minLength: 1, maxLength: 3 }) }), {
    minLength: 2,
    maxLength: 5,
  }),
  inv: fc.array(
    fc.record({
      k: fc.constantFrom('local' as const, 'count' as const, 'flag' as const),
      a: fc.integer({ min: 0, max: 2 }),
      b: fc.integer({ min: 0, max: 2 }),
    }),
    {
      maxLength: 2,
    },
  ),
  coverPc: fc.integer({ min: 0, max: 2 }),
  stepRule: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  change: fc.option(fc.record({ v: fc.constantFrom('pc' as const, 'x' as const, 'flag' as const, 'lock' as const), k: fc.integer({ min: 0, max: 2 }) }), {
    nil: null,
  }),
  endOk: fc.boolean(),
});

/**
 * Builds a plan; its rules never raise a run-time error (counters saturate), which the reduction could skip.
 * With `pad`, a rule `Idle` of `pad` instances that are never enabled and touch nothing comes first,
 * so the plan's own instances sit past the first 32-bit word of every instance set.
 */
export function build(plan: Plan, pad = 0): { model: Model; properties: Property[] } {
  const def = defineProtocol({
    name: 'por-random',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', plan.n, { symmetric: plan.symmetric });
      const pc = b.v('pc', arrayOf(P, enumOf('Pc', ['a', 'b', 'c'])));
      const x = b.v('x', arrayOf(P, range(0, 2)));
      const lock = b.v('lock', option(P));
      const cnt = b.v('cnt', range(0, 3));
      const flag = b.v('flag', bool);
      b.init('start', () => []);
      if (pad > 0) b.rule('Idle', { i: b.index('Pad', pad) }, () => ({ guard: false, body: [] }));
      const names = ['a', 'b', 'c'];
      plan.rules.forEach((r, i) => {
        b.rule(`R${i}`, { p: P }, ({ p }) => {
          const litExpr = (l: Lit): Expr => {
            switch (l.k) {
              case 'pc':
                return eq(pc.at(p), names[l.v] as string);
              case 'x':
                return lt(x.at(p), l.lt);
              case 'free':
                return not(isSome(lock));
              case 'mine':
                return eq(lock, some(p));
              case 'cnt':
                return lt(cnt, l.lt);
              case 'flag':
                return l.v ? and(flag) : not(flag);
              case 'other':
                return exists(P, (q) => and(ne(q, p), eq(pc.at(q), names[l.v] as string)));
            }
          };
          const stmt = (a: Act): Stmt => {
            switch (a.k) {
              case 'pc':
                return assign(pc.at(p), names[a.v] as string);
              case 'x+':
                return assign(x.at(p), ite(lt(x.at(p), 2), add(x.at(p), 1), 0));
              case 'take':
                return assign(lock, some(p));
              case 'drop':
                return assign(lock, ite(eq(lock, some(p)), none, lock));
              case 'cnt+':
                return assign(cnt, ite(lt(cnt, 3), add(cnt, 1), 0));
              case 'flip':
                return assign(flag, not(flag));
            }
          };
          return { guard: and(...r.guard.map(litExpr)), body: r.body.map(stmt) };
        });
      });
      if (plan.endOk) b.endState(() => true);
      return { P, pc, x, lock, cnt, flag };
    },
  });
  const model = buildModel(def);
  const { P, pc, x, cnt, flag, lock } = model.handles;
  const names = ['a', 'b', 'c'];
  const properties: Property[] = plan.inv.map((iv, i) =>
    invariant(
      `inv${i}`,
      `R${i}`,
      '',
      iv.k === 'local'
        ? forall(P, (p) => implies(eq(pc.at(p), names[iv.a] as string), le(x.at(p), iv.b)))
        : iv.k === 'count'
          ? le(
              count(P, (p) => eq(pc.at(p), names[iv.a] as string)),
              iv.b,
            )
          : implies(flag, ne(cnt, iv.b + 1)),
    ),
  );
  properties.push(
    cover(
      'reach',
      'C',
      '',
      exists(P, (p) => eq(pc.at(p), names[plan.coverPc] as string)),
    ),
  );
  if (plan.stepRule !== null && plan.stepRule < plan.rules.length) {
    properties.push(stepProperty(model, 'step', 'S', '', `R${plan.stepRule}`, () => implies(pre(flag), le(pre(cnt), 2))));
  }
  if (plan.change) {
    const { v, k } = plan.change;
    // "A step that <changes v> leaves cnt <= k": only the writers of v can break it (stepTrigger.ts).
    const changed =
      v === 'pc'
        ? exists(P, (p) => and(eq(pre(pc.at(p)), 'a'), ne(pc.at(p), 'a')))
        : v === 'x'
          ? exists(P, (p) => lt(pre(x.at(p)), x.at(p)))
          : v === 'flag'
            ? and(flag, not(pre(flag)))
            : and(isSome(lock), ne(lock, pre(lock)));
    properties.push(stepProperty(model, 'change', 'S', '', null, () => implies(changed, le(cnt, k))));
  }
  return { model, properties };
}

export const verdict = (r: CheckResult) => ({
  status: r.status,
  violations: r.status === 'violated' ? r.violations.map((v) => [v.property, v.kind, v.trace?.steps.length ?? null]) : [],
});

/** Checks with and without the reduction: same verdict; the reduced search's traces replay and break what they name. */
export function compare(model: Model, properties: Property[], symmetry: boolean) {
  const full = explicitCheck({ model, properties, limits: {}, symmetry });
  const reduced = explicitCheck({ model, properties, limits: {}, symmetry, explicit: { por: true, shortest: false } });
  const shortest = explicitCheck({ model, properties, limits: {}, symmetry, explicit: { por: true } });
  expect(reduced.status).toBe(full.status);
  expect(verdict(shortest)).toEqual(verdict(full));
  if (reduced.status === 'violated') {
    for (const v of reduced.violations) {
      if (!v.trace) continue;
      const replay = replayTrace(model, properties, v.trace);
      expect(replay.mismatch).toBe(null);
      expect(replay.violation?.property).toBe(v.property);
    }
  }
  return { full, reduced };
}
