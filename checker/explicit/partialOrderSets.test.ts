/**
 * The stubborn sets of partial-order reduction (partialOrder.ts) on one small model whose tables
 * are worked out by hand from the definitions in the module's header: which instances are
 * dependent (one writes a slot the other reads or writes), which instances can enable each guard
 * conjunct (writers of the slots it reads), which atoms the goals seed, and, state by state, the
 * successors a stubborn set keeps. partialOrder.test.ts checks the verdicts on random protocols;
 * here a set larger than needed (a weaker reduction) or smaller (an unsound one) fails too.
 *
 * The model: three bits x[p] (an ordinary index, not symmetric), a bit y, a counter z in 0..2.
 *   Set(p):  guard !x[p];        body x[p] := true     reads x[p]     writes x[p]
 *   Flip:    guard true;         body y := !y          reads y        writes y
 *   Copy(p): guard x[p] && y;    body x[p] := false    reads x[p], y  writes x[p]
 *   Bump:    guard z < 2;        body z := z + 1       reads z        writes z
 * Instances in order: Set(0..2) = 0..2, Flip = 3, Copy(0..2) = 4..6, Bump = 7; slots x[0..2] =
 * 0..2, y = 3, z = 4.
 */
import { describe, expect, it } from 'vitest';
import { add, and, eq, implies, lt, not, or, pre, unwrap } from '../../model/lang/expr.js';
import { compileModel } from '../../model/lang/compile.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, option, range } from '../../model/lang/types.js';
import { type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import { PartialOrder, reductionData } from './partialOrder.js';

const tiles = buildModel(
  defineProtocol({
    name: 'tiles',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 3);
      const x = b.v('x', arrayOf(P, bool));
      const y = b.v('y', bool);
      const z = b.v('z', range(0, 2));
      b.init('zero', () => []);
      b.rule('Set', { p: P }, ({ p }) => ({ guard: not(x.at(p)), body: [assign(x.at(p), true)] }));
      b.rule('Flip', {}, () => ({ guard: true, body: [assign(y, not(y))] }));
      b.rule('Copy', { p: P }, ({ p }) => ({ guard: and(x.at(p), y), body: [assign(x.at(p), false)] }));
      b.rule('Bump', {}, () => ({ guard: lt(z, 2), body: [assign(z, add(z, 1))] }));
      return { x, y, z };
    },
  }),
);
const { x, y, z } = tiles.handles;
const [SET0, SET1, SET2, FLIP, COPY0, COPY1, COPY2, BUMP] = [0, 1, 2, 3, 4, 5, 6, 7];

/** Invariant: never y and x[0] together. */
const notBoth = invariant('notBoth', 'T-1', '', not(and(y, x.at(0))));

/** A state from x[0..2], y, z. */
const st = (x0: number, x1: number, x2: number, yv: number, zv: number) => Int32Array.of(x0, x1, x2, yv, zv);

/** The instances whose successors the reduction keeps at `s`, the number enabled, and the successor states it gave. */
function kept(properties: Property[], s: Int32Array, coversDone = new Uint8Array(1)) {
  const cm = compileModel(tiles, properties);
  const po = new PartialOrder(reductionData(tiles, properties), cm.expand, coversDone);
  const t = new Int32Array(tiles.layout.nSlots);
  const ks: number[] = [];
  const succ: string[] = [];
  const enabled = po.expand(s, t, (k) => {
    ks.push(k);
    succ.push(t.join());
  });
  return { ks, enabled, succ, po };
}

/** The list of instance i from a table of starts and entries. */
const listOf = (start: Int32Array, list: Int32Array, i: number) => Array.from(list.subarray(start[i] as number, start[i + 1] as number));

describe('partial-order reduction: the static tables', () => {
  // Built inside each test, not when the tests are collected: a mutation run activates a mutant
  // only while the tests that reach it run.
  const tables = () => reductionData(tiles, [notBoth]);

  it('makes two instances dependent exactly when one writes a slot the other reads or writes', () => {
    const d = tables();
    expect(tiles.instances.map((i) => i.label)).toEqual(['Set(p=0)', 'Set(p=1)', 'Set(p=2)', 'Flip()', 'Copy(p=0)', 'Copy(p=1)', 'Copy(p=2)', 'Bump()']);
    expect([d.nInst, d.nSlots]).toEqual([8, 5]);
    const deps = tiles.instances.map((_, i) => listOf(d.depStart, d.depList, i));
    expect(deps).toEqual([
      [COPY0], // Set(0) and Copy(0) both write x[0]
      [COPY1],
      [COPY2],
      [COPY0, COPY1, COPY2], // Flip writes y, which every Copy reads
      [SET0, FLIP],
      [SET1, FLIP],
      [SET2, FLIP],
      [], // Bump alone touches z
    ]);
  });

  it('gives each guard conjunct, in order, the instances that write a slot it reads (its only possible enablers)', () => {
    const d = tables();
    const enablers = tiles.instances.map((_, i) =>
      Array.from({ length: (d.conjStart[i + 1] as number) - (d.conjStart[i] as number) }, (_, j) =>
        listOf(d.nesStart, d.nesList, (d.conjStart[i] as number) + j),
      ),
    );
    expect(enablers).toEqual([
      [[SET0, COPY0]], // !x[0]
      [[SET1, COPY1]],
      [[SET2, COPY2]],
      [[]], // true: nothing enables it (it is never false)
      [[SET0, COPY0], [FLIP]], // x[0], then y
      [[SET1, COPY1], [FLIP]],
      [[SET2, COPY2], [FLIP]],
      [[BUMP]], // z < 2
    ]);
    const firstFalse = new Function('U', `return function (k, s) {\n${d.firstFalseSource}\n};`)(() => 0) as (k: number, s: Int32Array) => number;
    // Copy(0) at x[0] = 1, y = 0: its second conjunct is the first false one; Flip's guard is never false; Bump at z = 2: its only one.
    expect([
      firstFalse(COPY0, st(1, 0, 0, 0, 0)),
      firstFalse(COPY0, st(0, 0, 0, 1, 0)),
      firstFalse(FLIP, st(0, 0, 0, 0, 0)),
      firstFalse(BUMP, st(0, 0, 0, 0, 2)),
    ]).toEqual([1, 0, -1, 0]);
    expect(firstFalse(COPY0, st(1, 0, 0, 1, 0))).toBe(-1);
  });

  it('seeds an invariant with the writers of its cheapest true disjunct (¬y: Flip; ¬x[0]: Set(0), Copy(0)), and a step property with its rule and readers', () => {
    const d = tables();
    // Two atoms, y (one writer) before x[0] (two): the cheaper disjunct is tried first.
    expect(listOf(d.atomStart, d.atomList, 0)).toEqual([FLIP]);
    expect(listOf(d.atomStart, d.atomList, 1)).toEqual([SET0, COPY0]);
    expect(d.atomStart.length).toBe(3);
    const seed = new Function('U', `return function (s, o, done) {\n${d.seedSource}\n};`)(() => 0) as (
      s: Int32Array,
      o: Int32Array,
      done: Uint8Array,
    ) => number;
    const o = new Int32Array(4);
    // y false: ¬y is the true disjunct that must turn false, atom y; y true, x[0] false: atom x[0]; both true: broken already, nothing.
    expect([seed(st(0, 0, 0, 0, 0), o, new Uint8Array(1)), o[0]]).toEqual([1, 0]);
    expect([seed(st(0, 0, 0, 1, 0), o, new Uint8Array(1)), o[0]]).toEqual([1, 1]);
    expect(seed(st(1, 0, 0, 1, 0), o, new Uint8Array(1))).toBe(0);
    const step = stepProperty(tiles, 'copyWithY', 'T-2', '', 'Copy', () => y);
    const any = stepProperty(tiles, 'anyStep', 'T-3', '', null, () => lt(z, 3));
    const ds = reductionData(tiles, [step, any]);
    expect(ds.steps.map((x) => [Array.from(x.instances), Array.from(x.writers)])).toEqual([
      [[COPY0, COPY1, COPY2], [FLIP]],
      [[SET0, SET1, SET2, FLIP, COPY0, COPY1, COPY2, BUMP], [BUMP]],
    ]);
  });
});

describe('partial-order reduction: the stubborn set kept, state by state', () => {
  it('an invariant far from broken: Flip, and the Sets that can enable the Copies Flip depends on; Bump is left for later', () => {
    const r = kept([notBoth], st(0, 0, 0, 0, 0));
    expect([r.enabled, r.ks]).toEqual([5, [SET0, SET1, SET2, FLIP]]);
    // The successors are those of the instances kept.
    expect(r.succ).toEqual(['1,0,0,0,0', '0,1,0,0,0', '0,0,1,0,0', '0,0,0,1,0']);
    expect([r.po.expanded, r.po.reduced]).toEqual([1, 1]);
  });

  it('the cheaper true disjunct is the one seeded, whatever the order they are written in', () => {
    // ¬x[0] ∨ ¬y with x[0] written first: ¬y (one writer, Flip) still goes first; seeding ¬x[0]
    // instead would keep Set(0) alone.
    const reversed = invariant('notBothReversed', 'T-6', '', not(and(x.at(0), y)));
    expect(kept([reversed], st(0, 0, 0, 0, 0)).ks).toEqual([SET0, SET1, SET2, FLIP]);
  });

  it('one step from breaking it (y set): only Set(0), the step that breaks it', () => {
    const r = kept([notBoth], st(0, 0, 0, 1, 0));
    expect([r.enabled, r.ks]).toEqual([5, [SET0]]);
  });

  it('no goal: the smallest set over the enabled instances, each tried alone (Bump, after Flip and the Copies gave four)', () => {
    // x all set and y set: Set(p) disabled; Flip, Copy(0..2), Bump enabled. Flip and each Copy bring each other (4); Bump alone is 1.
    const r = kept([], st(1, 1, 1, 1, 0));
    expect([r.enabled, r.ks]).toEqual([5, [BUMP]]);
    // At the start state the first instance tried, Set(0), is already alone.
    expect(kept([], st(0, 0, 0, 0, 0)).ks).toEqual([SET0]);
  });

  it('a cover not yet reached seeds the writers of what it reads (Bump); once reached in an earlier level, it seeds nothing', () => {
    const c = cover('zFull', 'T-4', '', eq(z, 2));
    expect(kept([c], st(0, 0, 0, 0, 0)).ks).toEqual([BUMP]);
    expect(kept([c], st(0, 0, 0, 0, 0), Uint8Array.of(1)).ks).toEqual([SET0]);
    // At z = 2 it holds: nothing to reach.
    expect(kept([c], st(0, 0, 0, 0, 2)).ks).toEqual([SET0]);
  });

  it("a step property: its rule's instances and, when one is enabled, the writers of what it reads", () => {
    const step = stepProperty(tiles, 'copyWithY', 'T-2', '', 'Copy', () => y);
    // x[0] and y set: Copy(0) enabled, so Flip (writes y) too; the disabled Copy(1), Copy(2) bring Set(1), Set(2).
    const r = kept([step], st(1, 0, 0, 1, 0));
    expect([r.enabled, r.ks]).toEqual([5, [SET1, SET2, FLIP, COPY0]]);
    // No Copy enabled (x clear): the Copies bring only the enablers of their first false conjunct,
    // x[p]: the Sets; not Flip (y is their second conjunct) nor Bump.
    expect(kept([step], st(0, 0, 0, 0, 0)).ks).toEqual([SET0, SET1, SET2]);
  });

  it('a step property of every rule about a change of y ("y turned on => z < 2") is only Flip\'s: a step leaving y alone cannot break it', () => {
    const turnsOn = stepProperty(tiles, 'yOnWithZ', 'T-5', '', null, () => implies(and(y, not(pre(y))), lt(z, 2)));
    const d = reductionData(tiles, [turnsOn]);
    // Its steps: Flip alone (the writer of y); the writers of what it reads: Flip (y) and Bump (z).
    expect(d.steps.map((s) => [Array.from(s.instances), Array.from(s.writers)])).toEqual([[[FLIP], [FLIP, BUMP]]]);
    // Flip enabled: it and Bump come in, and the Copies Flip depends on, with the Sets that enable them.
    expect(kept([turnsOn], st(0, 0, 0, 0, 0)).ks).toEqual([SET0, SET1, SET2, FLIP, BUMP]);
    // "z < 2 on every step" can be broken by any step once z = 2: every instance is its step.
    const always = stepProperty(tiles, 'zSmall', 'T-6', '', null, () => lt(z, 2));
    expect(Array.from(reductionData(tiles, [always]).steps[0]?.instances ?? [])).toEqual([SET0, SET1, SET2, FLIP, COPY0, COPY1, COPY2, BUMP]);
  });

  it('a disabled instance brings the enablers of its first false conjunct, whichever it is: Copy(0) waiting for y brings Flip', () => {
    const step = stepProperty(tiles, 'copyWithY', 'T-2', '', 'Copy', () => y);
    // x[0] set, y clear: Copy(0)'s first false conjunct is its second (y), whose writer is Flip;
    // Copy(1), Copy(2) wait for x[1], x[2] (Set(1), Set(2)). Bump stays out.
    expect(kept([step], st(1, 0, 0, 0, 0)).ks).toEqual([SET1, SET2, FLIP]);
  });

  it('one enabled instance, or none: nothing to choose, nothing reduced', () => {
    // x all set, y clear, z = 2: only Flip.
    const one = kept([notBoth], st(1, 1, 1, 0, 2));
    expect([one.enabled, one.ks, one.po.reduced, one.po.expanded]).toEqual([1, [FLIP], 0, 1]);
  });
});

describe('partial-order reduction: where a goal cannot be walked', () => {
  it('an invariant that unwraps a none at this state: every successor is kept', () => {
    const m = buildModel(
      defineProtocol({
        name: 'unwrapping',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 2);
          const o = b.v('o', option(range(0, 1)));
          const a = b.v('a', arrayOf(P, bool));
          b.init('none', () => []);
          b.rule('Set', { p: P }, ({ p }) => ({ guard: not(a.at(p)), body: [assign(a.at(p), true)] }));
          return { o, a };
        },
      }),
    );
    // A disjunction turning false: the walk evaluates each disjunct at the state to find a true one.
    const inv = invariant('unwrapped', 'T-5', '', or(eq(unwrap(m.handles.o), 0), m.handles.a.at(0)));
    const cm = compileModel(m, [inv]);
    const d = reductionData(m, [inv]);
    const po = new PartialOrder(d, cm.expand, new Uint8Array(1));
    const ks: number[] = [];
    // o = none: the seed cannot be computed; both Sets (independent, one would do) are kept.
    po.expand(Int32Array.of(-1, 0, 0), new Int32Array(3), (k) => ks.push(k));
    expect(ks).toEqual([0, 1]);
    // o = some(0): the disjunct on o is true and must change, and no instance writes o: one Set is enough.
    const ks2: number[] = [];
    po.expand(Int32Array.of(0, 0, 0), new Int32Array(3), (k) => ks2.push(k));
    expect(ks2).toEqual([0]);
  });
});
