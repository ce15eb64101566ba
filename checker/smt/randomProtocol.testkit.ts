/**
 * A generator of tiny random protocols, for differential tests of the SMT engines against explicit
 * search. Why this module exists: BMC (smtDifferential.test.ts) and invariant inference
 * (proveInfer.test.ts) are both checked against explicit BFS on the same few hundred random
 * protocols; a plan is plain data, so a failing run prints the protocol it built.
 */
import fc from 'fast-check';
import { type Expr, type Ref, add, and, exists, forall, isSome, ite, le, lit, lt, none, not, or, pre, some, sub, unwrap, eq } from '../../model/lang/expr.js';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { applyRule, enabled, initState } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type Stmt, assign, reset, when } from '../../model/lang/stmt.js';
import { type EnumType, type IndexType, arrayOf, bool, cardinality, enumOf, fromCode, option, range } from '../../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../../properties/property.js';

// `raw` marks the few places that may raise a model error (unwrap of none, a value out of range).
export type IExp = { k: 'param' } | { k: 'lit'; v: number } | { k: 'ite'; c: BExp; v: number } | { k: 'unwrap'; raw: boolean };
export type NExp = { k: 'n' } | { k: 'c'; v: number } | { k: 'inc' | 'dec'; a: NExp } | { k: 'arr'; i: IExp } | { k: 'sum'; a: NExp; b: NExp };
export type BExp =
  | { k: 'b' }
  | { k: 'not'; a: BExp }
  | { k: 'and' | 'or'; a: BExp; b: BExp }
  | { k: 'nEq' | 'nLt'; n: NExp; c: number }
  | { k: 'eEq'; v: number }
  | { k: 'some' }
  | { k: 'flag'; i: IExp }
  | { k: 'exists' }
  | { k: 'forall'; c: number }
  | { k: 'oEq'; i: IExp }
  | { k: 'arrEq'; i: IExp; c: number };
export type St =
  | { k: 'setB'; e: BExp }
  | { k: 'setN'; e: NExp; raw: boolean }
  | { k: 'setE'; v: number }
  | { k: 'setO'; i: IExp | null }
  | { k: 'incN'; raw: boolean }
  | { k: 'incArr'; i: IExp; raw: boolean }
  | { k: 'cycleE' }
  | { k: 'setArr'; i: IExp; e: NExp; raw: boolean }
  | { k: 'setFlag'; i: IExp; e: BExp }
  | { k: 'when'; c: BExp; t: St[]; f: St[] }
  | { k: 'resetArr'; i: IExp };
export interface Plan {
  size: number;
  nMax: number;
  inits: St[][];
  rules: { param: boolean; guard: BExp; body: St[] }[];
  inv: BExp[];
  step: { pre: BExp; post: BExp } | null;
}

/** Random plans: an index type of 1..3 values, a counter, an enum, an option, an array, flags; 2..5 rules. */
export function planArb(): fc.Arbitrary<Plan> {
  return fc.record({ size: fc.integer({ min: 1, max: 3 }), nMax: fc.integer({ min: 1, max: 4 }) }).chain(({ size, nMax }) => {
    const raw = fc.integer({ min: 0, max: 5 }).map((x) => x === 0);
    const idx: fc.Arbitrary<IExp> = fc.oneof(
      { arbitrary: fc.constant({ k: 'param' } as IExp), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: size - 1 }).map((v) => ({ k: 'lit', v }) as IExp), weight: 2 },
      { arbitrary: raw.map((r) => ({ k: 'unwrap', raw: r }) as IExp), weight: 1 },
    );
    const { b: bexp, n: nexp } = fc.letrec<{ b: BExp; n: NExp }>((tie) => ({
      b: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant({ k: 'b' } as BExp),
        fc.record({ k: fc.constant('not' as const), a: tie('b') }),
        fc.record({ k: fc.constantFrom('and' as const, 'or' as const), a: tie('b'), b: tie('b') }),
        fc.record({ k: fc.constantFrom('nEq' as const, 'nLt' as const), n: tie('n'), c: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ k: fc.constant('eEq' as const), v: fc.integer({ min: 0, max: 2 }) }),
        fc.constant({ k: 'some' } as BExp),
        fc.record({ k: fc.constant('flag' as const), i: idx }),
        fc.constant({ k: 'exists' } as BExp),
        fc.record({ k: fc.constant('forall' as const), c: fc.integer({ min: 0, max: 2 }) }),
        fc.record({ k: fc.constant('oEq' as const), i: idx }),
      ) as fc.Arbitrary<BExp>,
      n: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant({ k: 'n' } as NExp),
        fc.record({ k: fc.constant('c' as const), v: fc.integer({ min: 0, max: nMax }) }),
        fc.record({ k: fc.constantFrom('inc' as const, 'dec' as const), a: tie('n') }),
        fc.record({ k: fc.constant('arr' as const), i: idx }),
        fc.record({ k: fc.constant('sum' as const), a: tie('n'), b: tie('n') }),
      ) as fc.Arbitrary<NExp>,
    }));
    const { s: stmt } = fc.letrec<{ s: St }>((tie) => ({
      // Counters and a cycling enum give behaviours many steps long.
      s: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { arbitrary: fc.record({ k: fc.constant('incN' as const), raw }), weight: 4 },
        { arbitrary: fc.record({ k: fc.constant('incArr' as const), i: idx, raw }), weight: 4 },
        { arbitrary: fc.constant({ k: 'cycleE' } as St), weight: 2 },
        fc.record({ k: fc.constant('setB' as const), e: bexp }),
        fc.record({ k: fc.constant('setN' as const), e: nexp, raw }),
        fc.record({ k: fc.constant('setE' as const), v: fc.integer({ min: 0, max: 2 }) }),
        fc.record({ k: fc.constant('setO' as const), i: fc.option(idx, { nil: null }) }),
        fc.record({ k: fc.constant('setArr' as const), i: idx, e: nexp, raw }),
        fc.record({ k: fc.constant('setFlag' as const), i: idx, e: bexp }),
        fc.record({ k: fc.constant('when' as const), c: bexp, t: fc.array(tie('s'), { maxLength: 2 }), f: fc.array(tie('s'), { maxLength: 1 }) }),
        fc.record({ k: fc.constant('resetArr' as const), i: idx }),
      ) as fc.Arbitrary<St>,
    }));
    const constSt = fc.oneof(
      fc.record({
        k: fc.constant('setN' as const),
        e: fc.record({ k: fc.constant('c' as const), v: fc.integer({ min: 0, max: nMax }) }),
        raw: fc.constant(false),
      }),
      fc.record({ k: fc.constant('setB' as const), e: fc.constant({ k: 'not', a: { k: 'b' } } as BExp) }),
      fc.record({ k: fc.constant('setE' as const), v: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ k: fc.constant('setO' as const), i: fc.integer({ min: 0, max: size - 1 }).map((v) => ({ k: 'lit', v }) as IExp) }),
    ) as fc.Arbitrary<St>;
    const lit = fc.integer({ min: 0, max: size - 1 }).map((v) => ({ k: 'lit', v }) as IExp);
    const atom = fc.oneof(
      fc.constant({ k: 'b' } as BExp),
      fc.record({ k: fc.constant('nEq' as const), n: fc.constant({ k: 'n' } as NExp), c: fc.integer({ min: 1, max: nMax }) }),
      fc.record({ k: fc.constant('eEq' as const), v: fc.integer({ min: 1, max: 2 }) }),
      fc.constant({ k: 'some' } as BExp),
      fc.record({ k: fc.constant('flag' as const), i: lit }),
      fc.record({ k: fc.constant('arrEq' as const), i: lit, c: fc.integer({ min: 1, max: 3 }) }),
    ) as fc.Arbitrary<BExp>;
    return fc.record({
      size: fc.constant(size),
      nMax: fc.constant(nMax),
      inits: fc.array(fc.array(constSt, { maxLength: 2 }), { minLength: 1, maxLength: 2 }),
      rules: fc.array(
        fc.record({
          param: fc.boolean(),
          guard: fc.oneof(
            { arbitrary: fc.constant({ k: 'not', a: { k: 'nEq', n: { k: 'c', v: 0 }, c: 1 } } as BExp), weight: 1 },
            { arbitrary: bexp, weight: 2 },
          ),
          body: fc.array(stmt, { minLength: 1, maxLength: 3 }),
        }),
        { minLength: 2, maxLength: 5 },
      ),
      // The bad states: a conjunction of conditions false at the start, so reaching one takes steps.
      inv: fc.array(atom, { minLength: 1, maxLength: 3 }),
      // A forbidden step: from a state where `pre` holds to one where `post` holds.
      step: fc.option(fc.record({ pre: atom, post: atom }), { nil: null }),
    });
  });
}

/** Builds the protocol a plan describes, and its properties. */
export function build(plan: Plan) {
  let inProperty = false;
  let refs!: { I: IndexType; b: Ref; n: Ref; e: Ref; o: Ref; arr: Ref; flag: Ref };
  const proto = defineProtocol({
    name: 'random',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(bd) {
      const I = bd.index('I', plan.size);
      refs = {
        I,
        b: bd.v('b', bool),
        n: bd.v('n', range(0, plan.nMax)),
        e: bd.v('e', enumOf('E', ['x', 'y', 'z'])),
        o: bd.v('o', option(I)),
        arr: bd.v('arr', arrayOf(I, range(0, 3))),
        flag: bd.v('flag', arrayOf(I, bool)),
      };
      plan.inits.forEach((st, i) => {
        bd.init(`i${i}`, () => st.map((s) => stmt(s, null)));
      });
      plan.rules.forEach((r, i) => {
        if (r.param) bd.rule(`R${i}`, { p: I }, ({ p }) => ({ guard: bexp(r.guard, p), body: r.body.map((s) => stmt(s, p)) }));
        else bd.rule(`R${i}`, {}, () => ({ guard: bexp(r.guard, null), body: r.body.map((s) => stmt(s, null)) }));
      });
      return refs;
    },
  });
  function iexp(x: IExp, p: Expr | null): Expr | number {
    switch (x.k) {
      case 'param':
        return p ?? 0;
      case 'lit':
        return x.v;
      case 'ite':
        return ite(bexp(x.c, p), p ?? 0, x.v);
      // Properties take no unguarded unwrap: the explicit engine does not report errors raised
      // while evaluating a property (only while running rules), so there is nothing to compare.
      case 'unwrap':
        return inProperty ? 0 : x.raw ? unwrap(refs.o) : ite(isSome(refs.o), unwrap(refs.o), 0);
    }
  }
  function nexp(x: NExp, p: Expr | null): Expr | Ref | number {
    switch (x.k) {
      case 'n':
        return refs.n;
      case 'c':
        return x.v;
      case 'inc':
        return add(nexp(x.a, p), 1);
      case 'dec':
        return sub(nexp(x.a, p), 1);
      case 'arr':
        return refs.arr.at(iexp(x.i, p));
      case 'sum':
        return add(nexp(x.a, p), nexp(x.b, p));
    }
  }
  function bexp(x: BExp, p: Expr | null): Expr {
    switch (x.k) {
      case 'b':
        return eq(refs.b, true);
      case 'not':
        return not(bexp(x.a, p));
      case 'and':
        return and(bexp(x.a, p), bexp(x.b, p));
      case 'or':
        return or(bexp(x.a, p), bexp(x.b, p));
      case 'nEq':
        return eq(nexp(x.n, p), x.c);
      case 'nLt':
        return lt(nexp(x.n, p), x.c);
      case 'eEq':
        return eq(refs.e, ['x', 'y', 'z'][x.v] as string);
      case 'some':
        return isSome(refs.o);
      case 'flag':
        return eq(refs.flag.at(iexp(x.i, p)), true);
      case 'exists':
        return exists(refs.I, (j) => refs.flag.at(j));
      case 'forall':
        return forall(refs.I, (j) => lt(refs.arr.at(j), x.c));
      case 'oEq':
        return eq(refs.o, some(iexp(x.i, p), option(refs.I)));
      case 'arrEq':
        return eq(refs.arr.at(iexp(x.i, p)), x.c);
    }
  }
  const clamp = (v: Expr | Ref | number, hi: number) => (typeof v === 'number' ? Math.min(Math.max(v, 0), hi) : ite(and(le(0, v), le(v, hi)), v, 0));
  function stmt(x: St, p: Expr | null): Stmt {
    switch (x.k) {
      case 'setB':
        return assign(refs.b, bexp(x.e, p));
      case 'setN':
        return assign(refs.n, x.raw ? nexp(x.e, p) : clamp(nexp(x.e, p), plan.nMax));
      case 'setE':
        return assign(refs.e, ['x', 'y', 'z'][x.v] as string);
      case 'setO':
        return assign(refs.o, x.i === null ? none : some(iexp(x.i, p), option(refs.I)));
      case 'setArr': {
        const v = nexp(x.e, p);
        // A constant out of range is refused when the model is built; keep constants in 0..3.
        return assign(refs.arr.at(iexp(x.i, p)), typeof v === 'number' ? Math.min(v, 3) : x.raw ? v : clamp(v, 3));
      }
      case 'setFlag':
        return assign(refs.flag.at(iexp(x.i, p)), bexp(x.e, p));
      case 'when':
        return when(
          bexp(x.c, p),
          x.t.map((s) => stmt(s, p)),
          x.f.map((s) => stmt(s, p)),
        );
      case 'resetArr':
        return reset(refs.arr.at(iexp(x.i, p)));
      case 'incN':
        return assign(refs.n, x.raw ? add(refs.n, 1) : ite(lt(refs.n, plan.nMax), add(refs.n, 1), refs.n));
      case 'incArr': {
        const a = refs.arr.at(iexp(x.i, p));
        return assign(a, x.raw ? add(a, 1) : ite(lt(a, 3), add(a, 1), a));
      }
      case 'cycleE': {
        const E = refs.e.type as EnumType;
        return assign(refs.e, ite(eq(refs.e, 'x'), lit('y', E), ite(eq(refs.e, 'y'), lit('z', E), lit('x', E))));
      }
    }
  }
  const model = buildModel(proto);
  inProperty = true;
  const props: Property[] = [invariant('inv', 'T-1', 'random invariant', not(and(...plan.inv.map((x) => bexp(x, null)))))];
  if (plan.step) {
    const s = plan.step;
    props.push(stepProperty(model, 'step', 'T-2', 'random step property', null, () => not(and(pre(bexp(s.pre, null)), bexp(s.post, null)))));
  }
  return { model, props };
}

/** The interpreter's answer, or 'error' when it raises a model error. */
export function orError<T>(f: () => T): T | 'error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelRuntimeError) return 'error';
    throw e;
  }
}

/** Up to `max` states reachable from the start states (BFS with the interpreter), then `extra` arbitrary ones. */
export function statesOf(model: Model, max: number, extra: number, seed: number): Int32Array[] {
  const out: Int32Array[] = [];
  const seen = new Set<string>();
  const add = (s: Int32Array) => {
    const k = s.join(',');
    if (seen.has(k) || out.length >= max) return;
    seen.add(k);
    out.push(s);
  };
  for (const init of model.inits) add(initState(model, init));
  for (let i = 0; i < out.length && out.length < max; i++) {
    const s = out[i] as Int32Array;
    for (const inst of model.instances) {
      const next = orError(() => (enabled(model, inst, s) ? applyRule(model, inst, s) : null));
      if (next !== null && next !== 'error') add(next);
    }
  }
  let x = Math.imul(seed, 0x9e3779b1) >>> 0 || 1;
  const rnd = (n: number) => {
    // xorshift32: every bit of the state is mixed (the low bits of a power-of-two LCG cycle).
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (let i = 0; i < extra; i++) out.push(Int32Array.from(model.layout.slotTypes, (t) => fromCode(t, rnd(cardinality(t)))));
  return out;
}
