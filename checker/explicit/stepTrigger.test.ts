/**
 * The trigger of a step property (stepTrigger.ts): the claim "a step that leaves v unchanged cannot
 * break it" must be true whenever it is made (else partial-order reduction skips a violation), and
 * it must be made for the change-shaped properties the protocols write (else nothing is reduced).
 * Soundness is checked against brute force: for random formulas over a small state, every claim is
 * tried on every pair of states that agree on v.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Expr,
  add,
  and,
  count,
  eq,
  exists,
  forall,
  ge,
  gt,
  implies,
  isNone,
  isSome,
  ite,
  le,
  lt,
  ne,
  not,
  or,
  ord,
  pre,
  some,
  unwrap,
} from '../../model/lang/expr.js';
import { holds } from '../../model/lang/interp.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { arrayOf, bool, option, range, record } from '../../model/lang/types.js';
import { postReadVariables, unbreakableWithout } from './stepTrigger.js';

/** a[0..1]: option(P), b: bool, c: 0..2, k: P (slots 0, 1, 2, 3, 4); 108 states. */
const small = buildModel(
  defineProtocol({
    name: 'trigger',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 2);
      const a = b.v('a', arrayOf(P, option(P)));
      const flag = b.v('b', bool);
      const c = b.v('c', range(0, 2));
      const k = b.v('k', P);
      b.init('zero', () => []);
      b.rule('Tick', {}, () => ({ guard: true, body: [] }));
      return { P, a, flag, c, k };
    },
  }),
);
const { P, a, flag, c, k } = small.handles;
const A = 0;
const B = 1;
const C = 2;
const K = 3;

/** d[0..1]: record { on: bool }, e: bool (slots 0, 1, 2); 8 states. */
const rec = buildModel(
  defineProtocol({
    name: 'trigger-record',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const R = b.index('R', 2);
      const d = b.v('d', arrayOf(R, record({ on: bool })));
      const e = b.v('e', bool);
      b.init('zero', () => []);
      b.rule('Tick', {}, () => ({ guard: true, body: [] }));
      return { R, d, e };
    },
  }),
);
const { R, d, e } = rec.handles;
const D = 0;
const E = 1;

/** A model with every one of its states and the slots of each of its variables, for brute force. */
interface World {
  readonly model: typeof small | typeof rec;
  readonly states: readonly Int32Array[];
  readonly slotsOf: readonly (readonly number[])[];
}
const smallStates: Int32Array[] = [];
for (const a0 of [-1, 0, 1])
  for (const a1 of [-1, 0, 1])
    for (const bv of [0, 1]) for (const cv of [0, 1, 2]) for (const kv of [0, 1]) smallStates.push(Int32Array.of(a0, a1, bv, cv, kv));
const smallWorld: World = { model: small, states: smallStates, slotsOf: [[0, 1], [2], [3], [4]] };
const recWorld: World = {
  model: rec,
  states: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Int32Array.of(i & 1, (i >> 1) & 1, (i >> 2) & 1)),
  slotsOf: [[0, 1], [2]],
};

/** A pair (pre, post) of the world's states that agrees on variable v and breaks `pred`, or null. */
function breakingPair(pred: Expr, v: number, { model, states, slotsOf }: World = smallWorld): [Int32Array, Int32Array] | null {
  for (const s0 of states)
    for (const s1 of states) {
      if ((slotsOf[v] as readonly number[]).some((k) => s0[k] !== s1[k])) continue;
      let ok: boolean;
      try {
        ok = holds(model, pred, s1, s0);
      } catch {
        continue; // a run-time model error is not a verdict on the formula
      }
      if (!ok) return [s0, s1];
    }
  return null;
}

/** Installs-like: slot q gets a value it did not have. */
const changes = (q: Expr | number) => and(isSome(a.at(q)), or(isNone(pre(a.at(q))), ne(a.at(q), pre(a.at(q)))));

describe('the trigger of a step property', () => {
  it('a property about a change of a[q] ("a[q] installed => c < 2"; "b turned on => ...") cannot be broken by a step leaving that variable alone', () => {
    const installs = forall(P, (q) => implies(changes(q), lt(c, 2)));
    expect([unbreakableWithout(installs, A), unbreakableWithout(installs, C)]).toEqual([true, false]);
    const turnsOn = implies(and(flag, not(pre(flag))), eq(a.at(0), pre(a.at(1))));
    expect([unbreakableWithout(turnsOn, B), unbreakableWithout(turnsOn, A)]).toEqual([true, false]);
    // Written with le/lt pairs and an ite: c grows => b.
    const grows = ite(lt(pre(c), c), flag, true);
    expect([unbreakableWithout(grows, C), unbreakableWithout(grows, B)]).toEqual([true, false]);
  });

  it('a property a step can break without changing anything ("c < 2" on every step; "a[0] changed or b") has no trigger', () => {
    for (const p of [lt(c, 2), or(ne(a.at(0), pre(a.at(0))), flag), le(pre(c), 1)])
      for (const v of [A, B, C, K]) {
        expect(unbreakableWithout(p, v)).toBe(false);
        expect(breakingPair(p, v)).not.toBe(null);
      }
  });

  it('a read of the trigger indexed by a post-state value is not taken as unchanged (a[k] with k read after the step)', () => {
    // "a[k] unchanged" with k read after the step: when k itself changes, a[k] after and a[k] before name different slots.
    const moved = eq(a.at(k), pre(a.at(k)));
    expect(unbreakableWithout(moved, A)).toBe(false);
    expect(breakingPair(moved, A)).not.toBe(null);
    // With k read before the step, a[k] names the same slot on both sides (however pre is written).
    const fixed = eq(a.at(pre(k)), pre(a.at(k)));
    expect(unbreakableWithout(fixed, A)).toBe(true);
    expect(breakingPair(fixed, A)).toBe(null);
  });

  it('folds comparisons of two literals and of a term with itself, by each operator, both ways', () => {
    const ops = { eq, ne, lt, le, gt, ge } as const;
    for (const [name, op] of Object.entries(ops)) {
      for (const [x, y] of [
        [1, 2],
        [2, 1],
        [1, 1],
      ] as const) {
        const truth = { eq: x === y, ne: x !== y, lt: x < y, le: x <= y, gt: x > y, ge: x >= y }[name] as boolean;
        // Valid exactly when the literal comparison holds: otherwise "c < 2" is left, which a step keeping c breaks.
        const p = or(op(x, y), lt(c, 2));
        expect([name, x, y, unbreakableWithout(p, C)]).toEqual([name, x, y, truth]);
      }
      // c after a step that leaves c alone is c before: compared with itself.
      const self = or(op(c, pre(c)), flag);
      const truth = { eq: true, ne: false, lt: false, le: true, gt: false, ge: true }[name] as boolean;
      expect([name, unbreakableWithout(self, C)]).toEqual([name, truth]);
      if (!truth) expect(breakingPair(self, C)).not.toBe(null);
    }
  });

  it('takes a comparison and its negation as complementary (lt/ge, gt/le, eq/ne with the sides swapped), and a junction of its parts in any order', () => {
    const valid = [
      or(lt(c, 1), ge(c, 1)),
      or(gt(c, 1), le(c, 1)),
      or(eq(c, 1), ne(1, c)),
      or(or(flag, lt(c, 2)), not(or(lt(c, 2), flag))),
      and(eq(c, pre(c)), le(c, pre(c))),
      implies(false, lt(c, 2)),
      or(isSome(some(k)), lt(c, 2)),
    ];
    for (const p of valid) {
      expect(unbreakableWithout(p, C)).toBe(true);
      expect(breakingPair(p, C)).toBe(null);
    }
    for (const p of [or(false, lt(c, 2)), or(lt(c, 1), gt(c, 1)), or(eq(c, 1), ne(c, 2)), or(ne(1, c), flag), or(eq(c, 1), flag)]) {
      expect(unbreakableWithout(p, C)).toBe(false);
      expect(breakingPair(p, C)).not.toBe(null);
    }
  });

  it('folds an ite whose condition is decided, or whose branches agree', () => {
    for (const p of [ite(eq(c, pre(c)), true, flag), ite(ne(c, pre(c)), flag, true), ite(flag, eq(c, pre(c)), le(c, pre(c)))]) {
      expect(unbreakableWithout(p, C)).toBe(true);
      expect(breakingPair(p, C)).toBe(null);
    }
    expect(unbreakableWithout(ite(flag, eq(c, pre(c)), lt(c, pre(c))), C)).toBe(false);
  });

  it('compares values built of arithmetic, ite, ord and counts, and quantifiers equal up to the names of their variables', () => {
    const valid = [
      eq(add(c, 1), add(pre(c), 1)),
      eq(ite(flag, c, 0), ite(flag, pre(c), 0)),
      eq(ord(unwrap(a.at(0))), ord(unwrap(pre(a.at(0))))),
      eq(
        count(P, (q) => isSome(a.at(q))),
        count(P, (q) => isSome(pre(a.at(q)))),
      ),
      // Two quantifiers written separately: the same formula, so one is the other's negation.
      or(
        forall(P, (q) => isSome(a.at(q))),
        not(forall(P, (r) => isSome(pre(a.at(r))))),
      ),
      eq(flag, and(pre(flag))),
    ];
    for (const [i, p] of valid.entries()) {
      const v = i < 2 ? C : i < 5 ? A : B;
      expect([i, unbreakableWithout(p, v)]).toEqual([i, true]);
      expect(breakingPair(p, v)).toBe(null);
    }
    // Over different index types, or counting different things: not the same.
    expect(
      unbreakableWithout(
        eq(
          count(P, (q) => isSome(a.at(q))),
          count(P, (q) => eq(a.at(q), pre(a.at(q)))),
        ),
        A,
      ),
    ).toBe(false);
    expect(
      unbreakableWithout(
        or(
          forall(P, (q) => isSome(a.at(q))),
          not(exists(P, (r) => isSome(pre(a.at(r))))),
        ),
        A,
      ),
    ).toBe(false);
    // As values too: "every a[q] is some" is not "some a[q] is some".
    const allIsAny = eq(
      forall(P, (q) => isSome(a.at(q))),
      exists(P, (q) => isSome(pre(a.at(q)))),
    );
    expect(unbreakableWithout(allIsAny, A)).toBe(false);
    expect(breakingPair(allIsAny, A)).not.toBe(null);
  });

  it('freezes only the trigger: a change of another variable read after the step still counts', () => {
    const both = and(eq(a.at(0), pre(a.at(0))), le(c, pre(c)));
    expect([unbreakableWithout(both, A), unbreakableWithout(both, C)]).toEqual([false, false]);
    expect([breakingPair(both, A) !== null, breakingPair(both, C) !== null]).toEqual([true, true]);
  });

  it('reads a record field of the trigger (d[q].on) as unchanged, as the protocols do (dev[q].frame)', () => {
    const turnsOn = forall(R, (q) => implies(and(d.at(q).f('on'), not(pre(d.at(q).f('on')))), e));
    expect([unbreakableWithout(turnsOn, D), unbreakableWithout(turnsOn, E)]).toEqual([true, false]);
    expect([breakingPair(turnsOn, D, recWorld), breakingPair(turnsOn, E, recWorld) !== null]).toEqual([null, true]);
  });

  it('lists the variables a predicate reads after the step (not those only read before it)', () => {
    expect([...postReadVariables(implies(pre(flag), lt(c, 2)))]).toEqual([C]);
    expect([...postReadVariables(changes(0))].sort()).toEqual([A]);
  });

  it('never claims a trigger that a pair of states agreeing on it refutes (random formulas, brute force), and finds one in many', () => {
    const term = fc.constantFrom<() => Expr>(
      () => eq(a.at(0), pre(a.at(0))),
      () => eq(a.at(1), pre(a.at(0))),
      () => eq(a.at(k), pre(a.at(k))),
      () => isSome(a.at(pre(k))),
      () => isSome(a.at(1)),
      () => isSome(pre(a.at(0))),
      () => and(flag),
      () => pre(flag),
      () => lt(c, 2),
      () => lt(pre(c), c),
      () => le(c, pre(c)),
      () => ne(c, 1),
      () => changes(0),
      () => changes(1),
      () => forall(P, (q) => changes(q)),
      () => exists(P, (q) => eq(a.at(q), pre(a.at(q)))),
      () => and(flag, not(pre(flag))),
    );
    const formula: fc.Arbitrary<() => Expr> = fc.letrec<{ f: () => Expr }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        term,
        tie('f').map((x) => () => not(x())),
        fc.tuple(tie('f'), tie('f')).map(
          ([x, y]) =>
            () =>
              and(x(), y()),
        ),
        fc.tuple(tie('f'), tie('f')).map(
          ([x, y]) =>
            () =>
              or(x(), y()),
        ),
        fc.tuple(tie('f'), tie('f')).map(
          ([x, y]) =>
            () =>
              implies(x(), y()),
        ),
        fc.tuple(tie('f'), tie('f'), tie('f')).map(
          ([x, y, z]) =>
            () =>
              ite(x(), y(), z()),
        ),
      ),
    })).f;
    let claims = 0;
    fc.assert(
      fc.property(formula, (mk) => {
        const pred = mk();
        for (const v of postReadVariables(pred)) {
          if (!unbreakableWithout(pred, v)) continue;
          claims++;
          expect(breakingPair(pred, v)).toBe(null);
        }
      }),
      { numRuns: 400, seed: 27 },
    );
    expect(claims).toBeGreaterThan(40);
  });
});
