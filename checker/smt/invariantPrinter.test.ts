import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as lang from '../../model/lang/expr.js';
import {
  type Expr,
  add,
  and,
  count,
  eq,
  exists,
  forall,
  freshVar,
  ge,
  gt,
  implies,
  isSome,
  ite,
  le,
  lit,
  lt,
  mul,
  ne,
  none,
  not,
  or,
  ord,
  pre,
  some,
  sub,
  unwrap,
} from '../../model/lang/expr.js';
import { holds } from '../../model/lang/interp.js';
import { type ScalarType, bool, enumOf, option, range } from '../../model/lang/types.js';
import { comparable, inferenceModel, reachableStates, rng, sampleStates, slotValues } from './inferenceModel.testkit.js';
import { exprOfLits, exprSource, printFacts, typeSource } from './invariantPrinter.js';
import { buildReachableSet } from './reachableSet.js';
import { type Fact, type SetLit, factHolds, mineFacts } from './stateFacts.js';

const model = inferenceModel;
const h = model.handles;
const types = model.layout.slotTypes;
const nSlots = model.layout.nSlots;
const reach = reachableStates(model);

/** The states facts are evaluated on: the reachable ones, some one slot away from them, and random ones. */
const states = (() => {
  const all = sampleStates(model, reach, 400, 11);
  const r = rng(3);
  const near = all.slice(reach.length, all.length - 400).filter(() => r(6) === 0);
  return [...reach, ...near, ...all.slice(all.length - 400)];
})();
/** Fewer states, for the properties checked on many random facts. */
const few = [...states.slice(0, reach.length + 300), ...states.slice(states.length - 200)];

/** Whether `e` holds in `s`, or 'error' when evaluating it raises. */
function evalIn(e: Expr, s: Int32Array, p: Int32Array | null = null): boolean | 'error' {
  try {
    return holds(model, e, s, p);
  } catch {
    return 'error';
  }
}

/** The names a hints module or a property file has in scope: the language's constructors, types, index types and variables. */
const scope: Record<string, unknown> = {
  ...lang,
  bool,
  enumOf,
  option,
  range,
  Page: h.Page,
  Frame: h.Frame,
  ...Object.fromEntries(model.vars.map((v) => [v.name, (h as unknown as Record<string, unknown>)[v.name]])),
};

/** Evaluates model source text, as a module importing the constructors would. */
function parse(src: string): unknown {
  const names = Object.keys(scope);
  const fn = new Function(...names, `return (${src});`) as (...xs: unknown[]) => unknown;
  return fn(...names.map((n) => scope[n]));
}

/** A truth vector of `pred` over `states`, as bits. */
function vector(pred: (s: Int32Array) => boolean): Uint32Array {
  const out = new Uint32Array((states.length + 31) >>> 5);
  states.forEach((s, i) => {
    if (pred(s)) out[i >>> 5] = (out[i >>> 5] as number) | (1 << (i & 31));
  });
  return out;
}

const sameVector = (a: Uint32Array, b: Uint32Array) => a.every((x, i) => x === b[i]);

// --- Random facts over the model's slots ------------------------------------------------------

const slotArb = fc.integer({ min: 0, max: nSlots - 1 });
const litArb = slotArb.chain((slot) => fc.constantFrom(...slotValues(model, slot)).map((value) => ({ slot, value })));
const distinctSlots = (min: number, max: number) => fc.uniqueArray(slotArb, { minLength: min, maxLength: max });
/** A proper, non-empty subset of the slot's values. */
const setLitArb = (slot: number) => {
  const vals = slotValues(model, slot);
  return fc.subarray(vals, { minLength: 1, maxLength: vals.length - 1 }).map((values) => ({ slot, values }));
};
const pairs: [number, number][] = [];
for (let a = 0; a < nSlots; a++) {
  for (let b = a + 1; b < nSlots; b++) {
    const vb = slotValues(model, b);
    if (comparable(types[a] as ScalarType, types[b] as ScalarType) && slotValues(model, a).some((v) => vb.includes(v))) pairs.push([a, b]);
  }
}
const factArb: fc.Arbitrary<Fact> = fc.oneof(
  distinctSlots(1, 3).chain((slots) =>
    fc
      .tuple(...slots.map((slot) => fc.constantFrom(...slotValues(model, slot)).map((value) => ({ slot, value }))))
      .map((lits) => ({ kind: 'cube' as const, lits })),
  ),
  distinctSlots(1, 3).chain((slots) => fc.tuple(...slots.map(setLitArb)).map((lits) => ({ kind: 'sets' as const, lits }))),
  fc
    .record({
      kind: fc.constantFrom('eq' as const, 'ne' as const),
      pair: fc.constantFrom(...pairs),
      swap: fc.boolean(),
      when: fc.option(litArb, { nil: null }),
    })
    .filter(({ pair, when }) => !when || !pair.includes(when.slot))
    .map(({ kind, pair, swap, when }) => ({ kind, when, a: swap ? pair[1] : pair[0], b: swap ? pair[0] : pair[1] })),
);

describe('printFacts: one fact', () => {
  it('a fact printed alone is one conjunct standing for it, true in exactly the states where the fact holds', () => {
    fc.assert(
      fc.property(factArb, (f) => {
        const out = printFacts(model, [f]);
        expect(out.length).toBe(1);
        const c = out[0] as (typeof out)[number];
        expect(c.covers).toBe(1);
        for (const s of few) expect(evalIn(c.expr, s), `${c.source} in ${s.join(',')}`).toBe(factHolds(f, s));
      }),
      { numRuns: 120, seed: 1414 },
    );
  });

  it('a fact listed twice is printed once', () => {
    const f: Fact = { kind: 'cube', lits: [{ slot: model.layout.slotNames.indexOf('n'), value: 2 }] };
    expect(printFacts(model, [f, f]).map((c) => c.covers)).toEqual([1]);
  });
});

describe('printFacts: the facts mined from the reachable states', () => {
  const mined = () => {
    const built = buildReachableSet(model, [], 100_000, null);
    if (built.status !== 'complete') throw new Error(built.status);
    return mineFacts(model, built.set);
  };

  /**
   * Checks the printer's contract on `facts`: every conjunct is exactly the conjunction of the input
   * facts it implies (on the sample states: it claims nothing else), together they are exactly the
   * conjunction of all the facts, and the facts they stand for add up to the facts given.
   */
  const checkContract = (facts: readonly Fact[]) => {
    const out = printFacts(model, facts);
    const fv = facts.map((f) => vector((s) => factHolds(f, s)));
    const words = fv[0]?.length ?? 0;
    const all = new Uint32Array(words).fill(0xffffffff);
    for (const v of fv) for (let w = 0; w < words; w++) all[w] = (all[w] as number) & (v[w] as number);
    const conj = new Uint32Array(words).fill(0xffffffff);
    for (const c of out) {
      const cv = vector((s) => evalIn(c.expr, s) === true);
      const implied = new Uint32Array(words).fill(0xffffffff);
      for (const v of fv) {
        if (cv.every((x, w) => (x & ~(v[w] as number)) === 0)) for (let w = 0; w < words; w++) implied[w] = (implied[w] as number) & (v[w] as number);
      }
      // Masked to the states sampled (the last word's spare bits are 0 in cv).
      const last = states.length & 31;
      if (last) implied[words - 1] = (implied[words - 1] as number) & ((1 << last) - 1);
      expect(sameVector(cv, implied), c.source).toBe(true);
      for (let w = 0; w < words; w++) conj[w] = (conj[w] as number) & (cv[w] as number);
    }
    const last = states.length & 31;
    if (last) {
      all[words - 1] = (all[words - 1] as number) & ((1 << last) - 1);
      conj[words - 1] = (conj[words - 1] as number) & ((1 << last) - 1);
    }
    expect(sameVector(conj, all)).toBe(true);
    const distinct = new Set(facts.map((f) => JSON.stringify(f))).size;
    expect(out.reduce((n, c) => n + c.covers, 0)).toBe(distinct);
    return out;
  };

  it('every conjunct holds in every reachable state', () => {
    for (const c of printFacts(model, mined())) {
      expect(
        reach.every((s) => evalIn(c.expr, s) === true),
        c.source,
      ).toBe(true);
    }
  });

  it('all the facts: each conjunct is the conjunction of the facts it implies, all of them that of every fact, covering each fact once; families are quantified', () => {
    const out = checkContract(mined());
    const quantified = out.filter((c) => c.covers > 1);
    expect(quantified.length).toBeGreaterThan(0);
    for (const c of quantified) expect(c.expr.op, c.source).toBe('quant');
    expect(out.length).toBeLessThan(mined().length);
  });

  it('random subsets of the facts (families broken up): the same contract', () => {
    const facts = mined();
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      checkContract(facts.filter(() => r(3) !== 0));
    }
  });
});

describe('exprOfLits', () => {
  it('holds exactly in the states where every slot holds one of its values (and the two slots named are equal)', () => {
    const arb = fc.record({
      lits: distinctSlots(1, 3).chain((slots) => fc.tuple(...slots.map(setLitArb))),
      same: fc.option(fc.constantFrom(...pairs), { nil: undefined }),
    });
    fc.assert(
      fc.property(arb, ({ lits, same }) => {
        const e = exprOfLits(model, lits as SetLit[], same);
        for (const s of few) {
          const want = lits.every((l) => l.values.includes(s[l.slot] as number)) && (!same || s[same[0]] === s[same[1]]);
          expect(evalIn(e, s)).toBe(want);
        }
      }),
      { numRuns: 50, seed: 99 },
    );
  });
});

describe('exprSource', () => {
  const { mig, owner, busy, n, cnt, hi, last, top, Page, Frame } = h;
  const ModeT = enumOf('Mode', ['off', 'on', 'auto']);
  const optRange: Expr = { op: 'some', type: option(range(0, 2)), e: { op: 'lit', type: range(0, 2), value: 1 } };
  const cases: [string, Expr][] = [
    ['nested quantifiers over one index type', forall(Page, (p) => forall(Page, (q) => implies(ne(p, q), ne(mig.at(p).f('dst'), mig.at(q).f('dst')))))],
    [
      'quantifiers over two index types',
      forall(Page, (p) => exists(Frame, (f) => or(eq(mig.at(p).f('dst'), some(f, option(Frame))), eq(owner.at(f), some(p, option(Page)))))),
    ],
    [
      'a count',
      eq(
        count(Frame, (f) => busy.at(f)),
        2,
      ),
    ],
    ['arithmetic and orderings', and(lt(add(n, 1), top), le(sub(top, 1), n), gt(mul(n, 2), 1), ge(hi, n))],
    ['ite, isSome, not', ite(busy.at(0), eq(mig.at(0).f('step'), 'copy'), not(isSome(cnt)))],
    ['unwrap and ord', eq(unwrap(mig.at(1).f('dst')), last)],
    ['ord', eq(ord(last), n)],
    ['a Boolean slot compared with true and false', and(eq(busy.at(1), true), eq(busy.at(2), false), ne(busy.at(0), true), eq(true, busy.at(2)))],
    ['a Boolean slot equal to another', eq(busy.at(0), busy.at(1))],
    ['a range slot equal to 1', eq(n, 1)],
    ['none and enum values', and(eq(owner.at(2), none), ne(mig.at(0).f('step'), 'idle'))],
    ['an option of a range holding a literal', eq(cnt, optRange)],
    ['an option of a range holding a slot', eq(cnt, some(n, option(range(0, 2))))],
    ['an option of a Boolean', eq(some(busy.at(0), option(bool)), some(true, option(bool)))],
    ['an option of an enum', ne(some('on', option(ModeT)), some(h.mode, option(ModeT)))],
    ['pre', eq(pre(n), n)],
  ];
  it.each(cases)('%s: the printed source, evaluated with the constructors, prints the same and holds in the same states', (_, e) => {
    const src = exprSource(e);
    const back = lit(parse(src) as never);
    expect(exprSource(back)).toBe(src);
    const r = rng(5);
    for (const s of states.slice(0, 600)) {
      const p = states[r(states.length)] as Int32Array;
      expect(evalIn(back, s, p)).toBe(evalIn(e, s, p));
    }
  });

  it('names quantified variables by their index type, numbered when one is nested in another of the same type', () => {
    const e = forall(h.Page, (p) => forall(h.Frame, (f) => exists(h.Page, (q) => and(ne(p, q), eq(h.owner.at(f), some(q, option(h.Page)))))));
    expect(exprSource(e)).toBe('forall(Page, (p) => forall(Frame, (f) => exists(Page, (p2) => and(ne(p, p2), eq(owner.at(f), some(p2, option(Page)))))))');
  });

  it('a variable bound outside the expression keeps its own name', () => {
    const v = freshVar(h.Page, 'page');
    expect(exprSource(eq(h.mig.at(v).f('step'), 'done'))).toBe("eq(mig.at(page).f('step'), 'done')");
  });
});

describe('typeSource', () => {
  it('the source of every scalar type evaluates to the same type', () => {
    const ts: ScalarType[] = [
      bool,
      enumOf('Mode', ['off', 'on', 'auto']),
      range(1, 3),
      h.Frame,
      option(bool),
      option(enumOf('S', ['a', 'b'])),
      option(range(0, 2)),
      option(h.Page),
    ];
    for (const t of ts) expect(parse(typeSource(t))).toEqual(t);
  });
});
