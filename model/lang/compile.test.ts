import fc from 'fast-check';
import type { ScalarType } from './types.js';
import { describe, expect, it } from 'vitest';
import { type Invariant, type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import { build, orError, planArb, statesOf } from '../../checker/smt/randomProtocol.testkit.js';
import { ModelRuntimeError } from './errors.js';
import { add, and, count, eq, exists, freshVar, ge, isSome, ite, lt, not, some, unwrap } from './expr.js';
import { applyRule, enabled, holds, instanceBindings } from './interp.js';
import { type Model, buildModel, defineProtocol } from './protocol.js';
import { assign, forEach, reset, when } from './stmt.js';
import { arrayOf, bool, option, range, record } from './types.js';
import { fenceMigrate } from '../protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../protocols/fenceMigrate/fenceMigrateProperties.js';
import { stateArb } from '../../test/arbitraries.js';
import { compileModel, compilePredicate } from './compile.js';

const configs: { variant: string | null; params: Record<string, string | number> }[] = [
  { variant: null, params: {} },
  { variant: null, params: { mode: 'zap-and-fault', pages: 3, frames: 4, slots: 2 } },
  { variant: 'unblock-before-copy', params: { pages: 2, slots: 2 } },
  { variant: 'no-invalidate', params: { mode: 'zap-and-fault' } },
  // As many zaps as pages: the model has an end-state predicate.
  { variant: null, params: { pages: 2, discards: 2 } },
];

/**
 * Compiles `model` with `properties` and compares the compiled functions with the interpreter on
 * each of `states`: successors in order with the first failing step property of each (or a model
 * error on both sides), the first violated invariant, every cover, the end-state predicate, and
 * pack then unpack; and that `t` is back to the state once `expand` is done. Compiling happens
 * here, inside the test that calls it, so that every part of the compiler a test reaches is
 * credited to that test.
 */
function agreesWithInterpreter(model: Model, properties: readonly Property[], states: Iterable<Int32Array>): number {
  const cm = compileModel(model, properties);
  const covers = properties.filter((p) => p.kind === 'cover');
  expect(cm.covers.length).toBe(covers.length);
  const w = new Uint32Array(cm.words);
  const u = new Int32Array(model.layout.nSlots);
  let compared = 0;
  for (const s of states) {
    const got: string[] = [];
    // Whatever t holds before: expand starts from s.
    const t = new Int32Array(s.length).fill(-7);
    let err: unknown = null;
    try {
      cm.expand(s, t, (k, f) => got.push(`${k}:${f}:${t.join()}`));
    } catch (e) {
      err = e;
    }
    const want: string[] = [];
    let werr: unknown = null;
    try {
      for (const inst of model.instances) {
        if (!enabled(model, inst, s)) continue;
        const n = applyRule(model, inst, s);
        const f = cm.steps.findIndex(
          (p) => p.kind === 'step' && (p.rule === null || p.rule === inst.rule.name) && !holds(model, p.pred, n, s, instanceBindings(inst)),
        );
        want.push(`${inst.id}:${f}:${n.join()}`);
      }
    } catch (e) {
      werr = e;
    }
    // Arbitrary (unreachable) states can make a rule fail at run time: both must then fail, with a model error.
    expect(err === null, `compiled ${String(err)}, interpreted ${String(werr)}`).toBe(werr === null);
    if (err !== null) expect(err).toBeInstanceOf(ModelRuntimeError);
    if (err === null) expect(got).toEqual(want);
    // Each successor's writes are put back after its emit: t ends as s (when no rule failed).
    if (err === null && want.length > 0) expect(Array.from(t)).toEqual(Array.from(s));
    const inv = cm.invariants.findIndex((p) => p.kind === 'invariant' && !holds(model, p.pred, s));
    expect(cm.firstViolated(s)).toBe(inv);
    expect(cm.covers.map((c) => c(s))).toEqual(covers.map((c) => holds(model, c.pred, s)));
    expect(cm.isEnd(s)).toBe(model.endState ? holds(model, model.endState, s) : false);
    cm.pack(s, w, 0);
    cm.unpack(w, 0, u);
    expect(Array.from(u)).toEqual(Array.from(s));
    compared++;
  }
  return compared;
}

describe('compiled rules agree with the interpreter (the reference semantics)', () => {
  for (const cfg of configs) {
    it(`${cfg.variant ?? 'correct'} ${JSON.stringify(cfg.params)}: same successors, step verdicts, invariants, covers, end states and packing on arbitrary states`, () => {
      const model = buildModel(fenceMigrate, cfg);
      const properties = fenceMigrateProperties.build(model);
      expect(properties.some((p) => p.kind === 'cover')).toBe(true);
      expect(model.endState !== null).toBe(cfg.params.discards === 2);
      const states = fc.sample(stateArb(model.layout), { numRuns: 400, seed: 42 });
      expect(agreesWithInterpreter(model, properties, states)).toBe(400);
    });
  }

  it('200 random small protocols (options, unwraps, arrays, quantifiers, values out of range): the same on reachable and arbitrary states, with a step property of every rule and of one rule, and covers', () => {
    let withErrors = 0;
    fc.assert(
      fc.property(planArb(), fc.integer({ min: 1, max: 1000 }), (plan, seed) => {
        const { model, props } = build(plan);
        const rule = model.rules[0] as { name: string };
        const inv = props[0] as Invariant;
        const extra: Property[] = [
          cover('holds', 'T-4', 'the invariant holds', inv.pred),
          cover('broken', 'T-5', 'the invariant is broken', not(inv.pred)),
          stepProperty(model, 'one', 'T-3', 'a step property of the first rule only', rule.name, () => inv.pred),
        ];
        const states = statesOf(model, 40, 30, seed);
        const compared = agreesWithInterpreter(model, [...props, ...extra], states);
        expect(compared).toBe(states.length);
        if (states.some((s) => orError(() => model.instances.map((i) => enabled(model, i, s) && applyRule(model, i, s))) === 'error')) withErrors++;
      }),
      { numRuns: 200, seed: 11 },
    );
    // The sample reaches model errors (so both sides' error paths are compared), not only clean steps.
    expect(withErrors).toBeGreaterThan(10);
  });

  it('a hand-made model of every statement and storage shape (records, arrays of records, forEach, reset, if/else, a one-value slot, narrowing assignments): the same on every state sampled', () => {
    const proto = defineProtocol({
      name: 'shapes',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const I = b.index('I', 2);
        const slot = b.v('slot', arrayOf(I, record({ on: bool, n: range(1, 3), owner: option(I) })));
        // tail right before other slots: a loop or an index one past its end would write them.
        const tail = b.v('tail', arrayOf(I, bool));
        const one = b.v('one', range(5, 5));
        const wide = b.v('wide', range(0, 6));
        const narrow = b.v('narrow', range(2, 4));
        const small = b.v('small', option(range(0, 2)));
        b.init('start', () => []);
        b.rule('Fill', { i: I }, ({ i }) => ({
          guard: not(slot.at(i).f('on')),
          body: [
            forEach(I, (j) => assign(tail.at(j), not(tail.at(j)))),
            when(eq(wide, 0), assign(slot.at(i).f('owner'), some(i)), [assign(slot.at(i).f('n'), 3), assign(slot.at(i).f('on'), true)]),
          ],
        }));
        b.rule('Clear', { i: I }, ({ i }) => ({ guard: slot.at(i).f('on'), body: [reset(slot.at(i)), assign(wide, add(wide, one))] }));
        b.rule('Wipe', {}, () => ({ guard: tail.at(0), body: [reset(slot), reset(tail)] }));
        // Out of range when wide is outside 2..4: a model error on both sides.
        b.rule('Narrow', {}, () => ({ guard: true, body: [assign(narrow, wide), assign(wide, ite(lt(wide, 6), add(wide, 1), 0))] }));
        b.rule('Own', { i: I }, ({ i }) => ({ guard: isSome(slot.at(i).f('owner')), body: [assign(tail.at(unwrap(slot.at(i).f('owner'))), true)] }));
        // A count used as a number; an ite of two bools that can be false; an option narrowed (out of range past 2).
        b.rule('Count', {}, () => ({
          guard: ite(
            ge(
              count(I, (j) => slot.at(j).f('on')),
              1,
            ),
            not(tail.at(1)),
            eq(wide, 3),
          ),
          body: [
            assign(small, some(wide, option(range(0, 6)))),
            assign(
              wide,
              count(I, (j) => tail.at(j)),
            ),
          ],
        }));
        return { I, wide, slot, small };
      },
    });
    const model = buildModel(proto);
    const { I, wide, slot, small } = model.handles;
    // A step property of Clear alone, which most steps of the other rules would break.
    const properties = [
      stepProperty(model, 'clear-zeroes', 'T-6', 'after Clear, wide is 0', 'Clear', () => eq(wide, 0)),
      invariant(
        'some-on',
        'T-7',
        'a slot is on',
        exists(I, (j) => slot.at(j).f('on')),
      ),
      cover(
        'two-on',
        'T-8',
        'both slots on',
        eq(
          count(I, (j) => slot.at(j).f('on')),
          2,
        ),
      ),
    ];
    const states = fc.sample(stateArb(model.layout), { numRuns: 600, seed: 5 });
    expect(agreesWithInterpreter(model, properties, states)).toBe(600);

    // One predicate compiled on its own (as liveness goals and partial-order guards are), with a
    // free index variable bound, against the interpreter; an unwrap of none is a model error.
    const j = freshVar(I, 'j');
    const goal = and(
      slot.at(j).f('on'),
      eq(unwrap(small), 1),
      ite(
        ge(
          count(I, (k) => slot.at(k).f('on')),
          2,
        ),
        true,
        false,
      ),
    );
    for (const v of [0, 1]) {
      const bind = new Map([[(j as { id: number }).id, v]]);
      const pred = compilePredicate(model, goal, bind);
      for (const s of states) {
        const want = orError(() => holds(model, goal, s, null, bind));
        let got: boolean | 'error';
        try {
          got = pred(s);
        } catch (e) {
          expect(e).toBeInstanceOf(ModelRuntimeError);
          got = 'error';
        }
        expect(got).toBe(want);
      }
    }
    expect(states.some((s) => orError(() => holds(model, goal, s, null, new Map([[(j as { id: number }).id, 0]]))) === true)).toBe(true);
    expect(states.some((s) => orError(() => holds(model, goal, s, null, new Map([[(j as { id: number }).id, 0]]))) === 'error')).toBe(true);
  });

  it('a slot that fills its word to exactly 32 bits stays in that word; one bit more starts the next', () => {
    const wordsOf = (n: number) => {
      const proto = defineProtocol({
        name: 'bits',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const I = b.index('I', n);
          // A bool per value of I (1 bit each), then a one-value slot (no bits) that must not open a word.
          const flag = b.v('flag', arrayOf(I, bool));
          b.v('fixed', range(7, 7));
          b.init('start', () => []);
          b.rule('Set', { i: I }, ({ i }) => ({ guard: not(flag.at(i)), body: [assign(flag.at(i), true)] }));
          return {};
        },
      });
      const model = buildModel(proto);
      const cm = compileModel(model, []);
      const w = new Uint32Array(cm.words);
      const u = new Int32Array(model.layout.nSlots);
      const s = Int32Array.from({ length: n + 1 }, (_, k) => (k === n ? 7 : k % 3 === 0 ? 1 : 0));
      cm.pack(s, w, 0);
      cm.unpack(w, 0, u);
      expect(Array.from(u)).toEqual(Array.from(s));
      return [cm.bits, cm.words];
    };
    expect(wordsOf(31)).toEqual([31, 1]);
    expect(wordsOf(32)).toEqual([32, 1]);
    expect(wordsOf(33)).toEqual([33, 2]);
  });

  it('packs states into words sized from the schema', () => {
    const model = buildModel(fenceMigrate);
    const cm = compileModel(model, []);
    // Each slot takes the bits its type's values need (e.g. Frame of 3: 2 bits, option(Frame): 2
    // bits, bool: 1 bit), computed here from the schema on its own.
    const values = (t: ScalarType): number => {
      switch (t.kind) {
        case 'bool':
          return 2;
        case 'enum':
          return t.values.length;
        case 'range':
          return t.hi - t.lo + 1;
        case 'index':
          return t.size;
        case 'option':
          return values(t.inner) + 1;
      }
    };
    const bits = model.layout.slotTypes.reduce((n, t) => n + Math.max(1, Math.ceil(Math.log2(values(t)))), 0);
    expect(cm.bits).toBe(bits);
    expect(cm.words).toBe(Math.ceil(bits / 32));
  });
});
