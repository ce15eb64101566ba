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
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { type ScalarType, arrayOf, bool, enumOf, option, range } from '../../model/lang/types.js';
import { comparable, inferenceModel, reachableStates, rng, sampleStates, slotValues } from './inferenceModel.testkit.js';
import { type PrintedFact, exprOfLits, exprSource, printFacts, typeSource } from './invariantPrinter.js';
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

/**
 * Checks the printer's contract on `facts`: every conjunct is exactly the conjunction of the input
 * facts it implies (on the sample states: it claims nothing else), together they are exactly the
 * conjunction of all the facts, and the facts they stand for add up to the facts given.
 */
function checkContract(facts: readonly Fact[], seen: Map<string, Uint32Array> = new Map()): PrintedFact[] {
  const out = printFacts(model, facts);
  const fv = facts.map((f) => vector((s) => factHolds(f, s)));
  const words = fv[0]?.length ?? 0;
  const all = new Uint32Array(words).fill(0xffffffff);
  for (const v of fv) for (let w = 0; w < words; w++) all[w] = (all[w] as number) & (v[w] as number);
  const conj = new Uint32Array(words).fill(0xffffffff);
  for (const c of out) {
    // Conjuncts printed alike in several calls of one test are evaluated once.
    const cv = seen.get(c.source) ?? vector((s) => evalIn(c.expr, s) === true);
    seen.set(c.source, cv);
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
}

describe('printFacts: one fact', () => {
  it('a fact printed alone is one conjunct standing for it, true in exactly the states where the fact holds', () => {
    fc.assert(
      fc.property(factArb, (f) => {
        const out = printFacts(model, [f]);
        expect(out.length).toBe(1);
        const c = out[0] as (typeof out)[number];
        expect(c.covers).toBe(1);
        // Alone, a fact has no family: it is printed as is, not quantified.
        expect(c.expr.op).not.toBe('quant');
        const bad = few.find((s) => evalIn(c.expr, s) !== factHolds(f, s));
        expect(bad?.join(','), c.source).toBeUndefined();
      }),
      { numRuns: 120, seed: 1414 },
    );
  });

  it('a fact of several literals is written as an implication: the first ones imply that the last takes another value; one literal alone is no implication; a condition implies the (dis)equality', () => {
    const litHolds = (s: Int32Array, l: { slot: number; value: number }) => s[l.slot] === l.value;
    const setHolds = (s: Int32Array, l: SetLit) => l.values.includes(s[l.slot] as number);
    fc.assert(
      fc.property(factArb, (f) => {
        const e = (printFacts(model, [f])[0] as PrintedFact).expr;
        let premise: ((s: Int32Array) => boolean) | null = null;
        let conclusion: (s: Int32Array) => boolean;
        if (f.kind === 'cube' || f.kind === 'sets') {
          const holdsLit = (s: Int32Array, l: (typeof f.lits)[number]) => ('values' in l ? setHolds(s, l) : litHolds(s, l));
          const ls: readonly (typeof f.lits)[number][] = f.lits;
          const last = ls[ls.length - 1] as (typeof ls)[number];
          if (ls.length > 1) premise = (s) => ls.slice(0, -1).every((l) => holdsLit(s, l));
          conclusion = (s) => !holdsLit(s, last);
        } else {
          const { when, a, b, kind } = f;
          if (when) premise = (s) => litHolds(s, when);
          conclusion = (s) => (s[a] === s[b]) === (kind === 'eq');
        }
        if (!premise) {
          expect(e.op).not.toBe('implies');
          return;
        }
        if (e.op !== 'implies') throw new Error(`not an implication: ${exprSource(e)}`);
        const p = premise;
        expect(few.find((s) => evalIn(e.a, s) !== p(s))?.join(','), exprSource(e)).toBeUndefined();
        expect(few.find((s) => evalIn(e.b, s) !== conclusion(s))?.join(','), exprSource(e)).toBeUndefined();
      }),
      { numRuns: 80, seed: 2718 },
    );
  });

  it('the source of a printed fact evaluates back to the same source and the same truth', () => {
    fc.assert(
      fc.property(factArb, (f) => {
        const c = printFacts(model, [f])[0] as PrintedFact;
        const back = lit(parse(c.source) as never);
        expect(exprSource(back)).toBe(c.source);
        expect(few.find((s) => evalIn(back, s) !== evalIn(c.expr, s))?.join(','), c.source).toBeUndefined();
      }),
      { numRuns: 80, seed: 3141 },
    );
  });

  it('Booleans are written the short way: the slot, or not(slot)', () => {
    const busy0 = model.layout.slotNames.indexOf('busy[0]');
    const n = model.layout.slotNames.indexOf('n');
    const src = (f: Fact) => (printFacts(model, [f])[0] as PrintedFact).source;
    expect(src({ kind: 'cube', lits: [{ slot: busy0, value: 0 }] })).toBe('busy.at(0)');
    expect(src({ kind: 'cube', lits: [{ slot: busy0, value: 1 }] })).toBe('not(busy.at(0))');
    expect(
      src({
        kind: 'cube',
        lits: [
          { slot: busy0, value: 0 },
          { slot: n, value: 2 },
        ],
      }),
    ).toBe('implies(not(busy.at(0)), ne(n, 2))');
    expect(
      src({
        kind: 'cube',
        lits: [
          { slot: busy0, value: 1 },
          { slot: n, value: 2 },
        ],
      }),
    ).toBe('implies(busy.at(0), ne(n, 2))');
    expect(exprSource(exprOfLits(model, [{ slot: busy0, values: [0] }]))).toBe('not(busy.at(0))');
    expect(exprSource(exprOfLits(model, [{ slot: busy0, values: [1] }]))).toBe('busy.at(0)');
  });

  it('a slot taking some of its values is written with the shorter list: the values allowed, or the values excluded', () => {
    /** The comparisons in an expression (a Boolean written as itself or its negation counts as one). */
    const comparisons = (e: Expr): number => {
      if (e.op === 'cmp' || e.op === 'not' || e.op === 'read') return 1;
      if (e.op === 'and' || e.op === 'or') return e.args.reduce((k, x) => k + comparisons(x), 0);
      throw new Error(`unexpected ${e.op}`);
    };
    for (let j = 0; j < nSlots; j++) {
      const vals = slotValues(model, j);
      for (let mask = 1; mask < (1 << vals.length) - 1; mask++) {
        const values = vals.filter((_, i) => mask & (1 << i));
        const e = exprOfLits(model, [{ slot: j, values }]);
        expect(comparisons(e), `${model.layout.slotNames[j]} in ${values}`).toBe(Math.min(values.length, vals.length - values.length));
        expect(few.find((s) => evalIn(e, s) !== values.includes(s[j] as number))).toBeUndefined();
      }
    }
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

  it('the source of every conjunct evaluates back to the same source and the same truth', () => {
    for (const c of printFacts(model, mined())) {
      const back = lit(parse(c.source) as never);
      expect(exprSource(back)).toBe(c.source);
      expect(few.find((s) => evalIn(back, s) !== evalIn(c.expr, s))?.join(','), c.source).toBeUndefined();
    }
  });

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
    const seen = new Map<string, Uint32Array>();
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      checkContract(
        facts.filter(() => r(3) !== 0),
        seen,
      );
    }
  });
});

describe('printFacts: families written by hand', () => {
  const slot = (name: string) => {
    const j = model.layout.slotNames.indexOf(name);
    if (j < 0) throw new Error(`no slot ${name}`);
    return j;
  };
  /** A page's destination is frame f while frame f has no owner (one fact per page and frame). */
  const strayDst = (p: number, f: number): Fact => ({
    kind: 'cube',
    lits: [
      { slot: slot(`mig[${p}].dst`), value: f },
      { slot: slot(`owner[${f}]`), value: -1 },
    ],
  });
  /** Frames f and g are both busy (one fact per pair of frames, in either order). */
  const twoBusy = (f: number, g: number): Fact => ({
    kind: 'cube',
    lits: [
      { slot: slot(`busy[${f}]`), value: 1 },
      { slot: slot(`busy[${g}]`), value: 1 },
    ],
  });
  const allHold = (fs: readonly Fact[]) => (s: Int32Array) => fs.every((f) => factHolds(f, s));

  it('a family complete over two index types is printed once, quantified over both, and holds exactly when every member holds', () => {
    const fam = [0, 1].flatMap((p) => [0, 1, 2].map((f) => strayDst(p, f)));
    const out = checkContract(fam);
    expect(out.length).toBe(1);
    const c = out[0] as PrintedFact;
    expect(c.covers).toBe(6);
    expect(c.source).toMatch(/^forall\(Page, \(p\) => forall\(Frame, \(f\) => /);
    expect(states.find((s) => evalIn(c.expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('a family over two values of one index type: the renamings that give the same fact count once, and the bound variables are distinct', () => {
    const fam = [twoBusy(0, 1), twoBusy(0, 2), twoBusy(1, 2)];
    const out = checkContract(fam);
    expect(out.length).toBe(1);
    const c = out[0] as PrintedFact;
    expect(c.covers).toBe(3);
    expect(c.source).toMatch(/^forall\(Frame, \(f\) => forall\(Frame, \(f2\) => implies\(ne\(f, f2\), /);
    expect(states.find((s) => evalIn(c.expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('a family complete over one index type only is quantified over that one', () => {
    const fam = [strayDst(0, 1), strayDst(1, 1)];
    const out = checkContract(fam);
    expect(out.length).toBe(1);
    const c = out[0] as PrintedFact;
    expect(c.covers).toBe(2);
    expect(c.source).toMatch(/^forall\(Page, /);
    expect(c.source).not.toMatch(/forall\(Frame/);
    const byFrame = [0, 1, 2].map((f) => strayDst(0, f));
    const outF = checkContract(byFrame);
    expect(outF.map((x) => x.covers)).toEqual([3]);
    expect((outF[0] as PrintedFact).source).toMatch(/^forall\(Frame, /);
    expect((outF[0] as PrintedFact).source).not.toMatch(/forall\(Page/);
  });

  it('a family over three values of one index type: the three bound variables are pairwise distinct', () => {
    // Frame f busy, frame g free, frame h unowned: one fact per ordering of the three frames.
    const perms = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const fam: Fact[] = perms.map(([f, g, k]) => ({
      kind: 'cube',
      lits: [
        { slot: slot(`owner[${k}]`), value: -1 },
        { slot: slot(`busy[${f}]`), value: 1 },
        { slot: slot(`busy[${g}]`), value: 0 },
      ].sort((a, b) => a.slot - b.slot),
    }));
    const out = checkContract(fam);
    expect(out.map((c) => c.covers)).toEqual([6]);
    const c = out[0] as PrintedFact;
    expect(c.source).toMatch(/implies\(and\(ne\(f, f2\), ne\(f, f3\), ne\(f2, f3\)\), /);
    expect(states.find((s) => evalIn(c.expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('ordered pairs of frames whose literals come in either slot order are one family', () => {
    // Frame f busy and frame g free: the literals listed in slot order, so renaming swaps them.
    const fam: Fact[] = [];
    for (const f of [0, 1, 2])
      for (const g of [0, 1, 2])
        if (f !== g)
          fam.push({
            kind: 'cube',
            lits: [
              { slot: slot(`busy[${f}]`), value: 1 },
              { slot: slot(`busy[${g}]`), value: 0 },
            ].sort((a, b) => a.slot - b.slot),
          });
    const out = checkContract(fam);
    expect(out.map((c) => c.covers)).toEqual([6]);
    expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('a family of value sets, the index values of a set renamed and kept in order', () => {
    // Page p's destination is neither frame f nor frame g (f < g): one fact per page and pair.
    const fam: Fact[] = [];
    for (const p of [0, 1])
      for (const [f, g] of [
        [0, 1],
        [0, 2],
        [1, 2],
      ] as const)
        fam.push({ kind: 'sets', lits: [{ slot: slot(`mig[${p}].dst`), values: [f, g] }] });
    // And with a second literal on another array, listed in slot order: page p copying, frame f free.
    const fam2: Fact[] = [];
    for (const p of [0, 1])
      for (const f of [0, 1, 2])
        fam2.push({
          kind: 'sets',
          lits: [
            { slot: slot(`mig[${p}].step`), values: [1] },
            { slot: slot(`owner[${f}]`), values: [-1, p] },
          ],
        });
    for (const fs of [fam, fam2]) {
      const out = checkContract(fs);
      expect(out.map((c) => c.covers)).toEqual([6]);
      expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fs)(s))?.join(',')).toBeUndefined();
    }
  });

  it('a family whose last literal is a plain index value: its negation names the bound value, not the other values', () => {
    // Page p copying and the latest move was not p's (lastPage is 0 or 1: "not p" is the other page
    // only for one member of the family).
    const fam: Fact[] = [0, 1].map((p) => ({
      kind: 'cube',
      lits: [
        { slot: slot(`mig[${p}].step`), value: 1 },
        { slot: slot('lastPage'), value: p },
      ],
    }));
    const single: Fact[] = [0, 1].map((p) => ({ kind: 'cube', lits: [{ slot: slot('lastPage'), value: p }] }));
    // Frame f busy and the latest frame one of the two others (a set of index values in the hypothesis).
    const sets: Fact[] = [0, 1, 2].map((f) => ({
      kind: 'sets',
      lits: [
        { slot: slot(`busy[${f}]`), values: [1] },
        { slot: slot('last'), values: [f] },
      ],
    }));
    // The latest frame one of f and g (a hypothesis over index values) and frame f busy.
    const hyp: Fact[] = [];
    for (const f of [0, 1, 2])
      for (const g of [0, 1, 2])
        if (f !== g)
          hyp.push({
            kind: 'sets',
            lits: [
              { slot: slot('last'), values: [Math.min(f, g), Math.max(f, g)] },
              { slot: slot(`busy[${f}]`), values: [1] },
            ],
          });
    for (const [fs, n] of [
      [fam, 2],
      [single, 2],
      [sets, 3],
      [hyp, 6],
    ] as const) {
      const out = checkContract(fs);
      expect(out.map((c) => c.covers)).toEqual([n]);
      expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fs)(s))?.join(',')).toBeUndefined();
    }
  });

  it('a family keeps none as none: frame f owned by page p while p has no destination', () => {
    const fam: Fact[] = [];
    for (const p of [0, 1])
      for (const f of [0, 1, 2])
        fam.push({
          kind: 'cube',
          lits: [
            { slot: slot(`mig[${p}].dst`), value: -1 },
            { slot: slot(`owner[${f}]`), value: p },
          ],
        });
    const out = checkContract(fam);
    expect(out.map((c) => c.covers)).toEqual([6]);
    expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('families of equalities: over the index values of the compared slots, of the condition only, and with the two slots listed in either order', () => {
    // Page p holds a frame exactly when frame f is busy, whenever p's destination is f.
    const heldBusy: Fact[] = [];
    for (const p of [0, 1])
      for (const f of [0, 1, 2]) {
        const [a, b] = [slot(`mig[${p}].held`), slot(`busy[${f}]`)];
        heldBusy.push({ kind: 'eq', when: { slot: slot(`mig[${p}].dst`), value: f }, a: (p + f) % 2 ? a : b, b: (p + f) % 2 ? b : a });
      }
    // n differs from hi whenever page p is copying (the condition alone mentions the page).
    const byCondition: Fact[] = [0, 1].map((p) => ({ kind: 'ne', when: { slot: slot(`mig[${p}].step`), value: 1 }, a: slot('n'), b: slot('hi') }));
    for (const [fs, n] of [
      [heldBusy, 6],
      [byCondition, 2],
    ] as const) {
      const out = checkContract(fs);
      expect(out.map((c) => c.covers)).toEqual([n]);
      expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fs)(s))?.join(',')).toBeUndefined();
    }
  });

  it('families of unconditional equalities and disequalities, quantified over the index values of the two compared slots', () => {
    // Page p holds a frame exactly when (or exactly when not) frame f is busy: one fact per page and frame.
    for (const kind of ['eq', 'ne'] as const) {
      const fam: Fact[] = [];
      for (const p of [0, 1]) for (const f of [0, 1, 2]) fam.push({ kind, when: null, a: slot(`mig[${p}].held`), b: slot(`busy[${f}]`) });
      const out = checkContract(fam);
      expect(out.map((c) => c.covers)).toEqual([6]);
      expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
    }
  });

  it('ordered pairs of frames as value sets, whose literals come in either slot order, are one family', () => {
    const fam: Fact[] = [];
    for (const f of [0, 1, 2])
      for (const g of [0, 1, 2])
        if (f !== g)
          fam.push({
            kind: 'sets',
            lits: [
              { slot: slot(`busy[${f}]`), values: [1] },
              { slot: slot(`busy[${g}]`), values: [0] },
            ].sort((a, b) => a.slot - b.slot),
          });
    const out = checkContract(fam);
    expect(out.map((c) => c.covers)).toEqual([6]);
    expect(states.find((s) => evalIn((out[0] as PrintedFact).expr, s) !== allHold(fam)(s))?.join(',')).toBeUndefined();
  });

  it('an index type of one value is not quantified (it gains nothing)', () => {
    const tiny = buildModel(
      defineProtocol({
        name: 'one-value',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const One = b.index('One', 1);
          const P = b.index('P', 2);
          b.v('a', arrayOf(One, arrayOf(P, bool)));
          b.init('start', () => []);
          return {};
        },
      }),
    );
    const fam: Fact[] = [0, 1].map((p) => ({ kind: 'cube', lits: [{ slot: tiny.layout.slotNames.indexOf(`a[0][${p}]`), value: 1 }] }));
    const out = printFacts(tiny, fam);
    expect(out.map((c) => c.source)).toEqual(['forall(P, (p) => not(a.at(0).at(p)))']);
    expect(out.map((c) => c.covers)).toEqual([2]);
  });

  it('a fact that every renaming maps to itself is printed as it is, covering 1', () => {
    const f: Fact = {
      kind: 'cube',
      lits: [
        { slot: slot('mig[0].step'), value: 1 },
        { slot: slot('mig[1].step'), value: 1 },
      ],
    };
    const out = checkContract([f]);
    expect(out.map((c) => c.covers)).toEqual([1]);
    expect((out[0] as PrintedFact).expr.op).toBe('implies');
  });

  it('a family missing a member is not quantified over the types that member needs', () => {
    const fam = [0, 1].flatMap((p) => [0, 1, 2].map((f) => strayDst(p, f))).filter((_, i) => i !== 4);
    const out = checkContract(fam);
    expect(out.every((c) => c.covers < 6)).toBe(true);
    // Frame 1 has only page 0 left: that fact is printed over neither type, or over Frame with page 0 fixed.
    expect(out.length).toBeGreaterThan(1);
  });

  it('facts that mention no index value, or only index types of one value, are printed as they are', () => {
    const nSlot = slot('n');
    const topSlot = slot('top');
    const fs: Fact[] = [
      { kind: 'cube', lits: [{ slot: nSlot, value: 2 }] },
      { kind: 'ne', when: null, a: nSlot, b: topSlot },
    ];
    const out = checkContract(fs);
    expect(out.map((c) => c.covers)).toEqual([1, 1]);
    expect(out.every((c) => c.expr.op !== 'quant')).toBe(true);
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
        const want = (s: Int32Array) => lits.every((l) => l.values.includes(s[l.slot] as number)) && (!same || s[same[0]] === s[same[1]]);
        expect(few.find((s) => evalIn(e, s) !== want(s))?.join(',')).toBeUndefined();
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
    ['a Boolean slot equal to true', eq(busy.at(1), true)],
    ['a Boolean slot equal to false', eq(busy.at(2), false)],
    ['a Boolean slot different from true', ne(busy.at(0), true)],
    ['true equal to a Boolean slot', eq(true, busy.at(2))],
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
    const differ = states.slice(0, 600).filter((s) => {
      const p = states[r(states.length)] as Int32Array;
      return evalIn(back, s, p) !== evalIn(e, s, p);
    });
    expect(differ.length).toBe(0);
  });

  it('names quantified variables by their index type, numbered when one is nested in another of the same type', () => {
    const e = forall(h.Page, (p) => forall(h.Frame, (f) => exists(h.Page, (q) => and(ne(p, q), eq(h.owner.at(f), some(q, option(h.Page)))))));
    expect(exprSource(e)).toBe('forall(Page, (p) => forall(Frame, (f) => exists(Page, (p2) => and(ne(p, p2), eq(owner.at(f), some(p2, option(Page)))))))');
  });

  it('three nested quantifiers over one index type are named p, p2, p3', () => {
    const e = forall(h.Page, (p) => forall(h.Page, (q) => forall(h.Page, (r) => or(eq(p, q), eq(q, r)))));
    expect(exprSource(e)).toBe('forall(Page, (p) => forall(Page, (p2) => forall(Page, (p3) => or(eq(p, p2), eq(p2, p3)))))');
  });

  it('a Boolean slot equal to true is written as the slot alone', () => {
    expect(exprSource(eq(h.busy.at(1), true))).toBe('busy.at(1)');
    expect(exprSource(eq(h.busy.at(1), false))).toBe('eq(busy.at(1), false)');
    expect(exprSource(ne(h.busy.at(1), true))).toBe('ne(busy.at(1), true)');
    expect(exprSource(eq(h.busy.at(1), h.busy.at(2)))).toBe('eq(busy.at(1), busy.at(2))');
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
