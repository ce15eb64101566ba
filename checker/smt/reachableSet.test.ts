/**
 * The reachable set of invariant inference (reachableSet.ts) against a breadth-first search of its
 * own, with the interpreter, on random tiny protocols. Why this file exists: inference takes a cube
 * as a lemma exactly when this module says no reachable state matches it, so a wrong count, a lost
 * state, a widening one value too far or a cube that still meets a state would be a lemma that is
 * false (z3 re-proves every lemma, so the damage is a failed or slower proof, but it must not be
 * relied on). Every query is compared with the same question answered over the list of states.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, eq, lt, not } from '../../model/lang/expr.js';
import { applyRule, enabled, holds, initState } from '../../model/lang/interp.js';
import { type Model, type ProtocolDef, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type ScalarType, cardinality, fromCode, range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import { build, orError, planArb } from './randomProtocol.testkit.js';
import { type SlotLit, buildReachableSet } from './reachableSet.js';

interface Brute {
  /** The reachable states, or 'error' when a start state or an enabled rule raises a model error. */
  readonly states: Int32Array[] | 'error';
  readonly depth: number;
  readonly deadlocks: number;
}

/** Breadth-first search with the interpreter. */
function brute(model: Model): Brute {
  const seen = new Map<string, number>();
  const states: Int32Array[] = [];
  const add = (s: Int32Array, d: number) => {
    const k = s.join(',');
    if (seen.has(k)) return;
    seen.set(k, d);
    states.push(s);
  };
  for (const init of model.inits) {
    const s = orError(() => initState(model, init));
    if (s === 'error') return { states: 'error', depth: 0, deadlocks: 0 };
    add(s, 0);
  }
  let deadlocks = 0;
  for (let i = 0; i < states.length; i++) {
    const s = states[i] as Int32Array;
    const d = seen.get(s.join(',')) as number;
    let any = false;
    for (const inst of model.instances) {
      const next = orError(() => (enabled(model, inst, s) ? applyRule(model, inst, s) : null));
      if (next === 'error') return { states: 'error', depth: 0, deadlocks: 0 };
      if (next === null) continue;
      any = true;
      add(next, d + 1);
    }
    if (!any && !(model.endState && holds(model, model.endState, s))) deadlocks++;
  }
  return { states, depth: Math.max(...seen.values()), deadlocks };
}

/** A protocol of this file's: no parameters, no variants. */
function testProtocol<H>(name: string, summary: string, def: Pick<ProtocolDef<H>, 'build'>): ProtocolDef<H> {
  return defineProtocol({ name, summary, spec: 'checker/smt/reachableSet.test.ts', params: {}, variants: [], ...def });
}

/** A generator of numbers in [0, 1) from a seed (a linear congruential one: reproducible, no state shared between tests). */
function uniform(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) / 2 ** 24;
  };
}

/**
 * `unreachableCube` as its documentation states it, over a list of states: from the literals of
 * `start`, add the literal of `s` that leaves the fewest states matching (it must leave fewer than
 * now; ties: the earliest place in `prefer`, then the lowest slot) until none match (null if no
 * literal leaves fewer: `s` is reachable); then drop each literal, latest first, that is not needed.
 */
function greedyCube(states: readonly Int32Array[], s: Int32Array, start: readonly number[], prefer: readonly number[]): SlotLit[] | null {
  const chosen = [...start];
  const lits = () => chosen.map((j) => ({ slot: j, value: s[j] as number }));
  let left = states.filter((z) => matches(z, lits()));
  const rank = (j: number) => (prefer.includes(j) ? prefer.indexOf(j) : Number.POSITIVE_INFINITY);
  while (left.length > 0) {
    const options = Array.from({ length: s.length }, (_, j) => j)
      .filter((j) => !chosen.includes(j))
      .map((j) => ({ j, c: left.filter((z) => z[j] === s[j]).length }))
      .filter((o) => o.c < left.length)
      .sort((a, b) => a.c - b.c || rank(a.j) - rank(b.j) || a.j - b.j);
    const best = options[0];
    if (!best) return null;
    chosen.push(best.j);
    left = left.filter((z) => z[best.j] === s[best.j]);
  }
  let cube = lits();
  for (let i = cube.length - 1; i >= 0 && cube.length > 1; i--) {
    const without = cube.filter((_, k) => k !== i);
    if (!states.some((z) => matches(z, without))) cube = without;
  }
  return cube.sort((a, b) => a.slot - b.slot);
}

const matches = (s: Int32Array, cube: readonly SlotLit[]) => cube.every((l) => s[l.slot] === l.value);
const matchesSets = (s: Int32Array, cube: readonly { slot: number; values: readonly number[] }[]) => cube.every((l) => l.values.includes(s[l.slot] as number));
const key = (cube: readonly SlotLit[]) =>
  cube
    .map((l) => `${l.slot}=${l.value}`)
    .sort()
    .join('&');

/** Random state of the model's slot types (reachable or not). */
function arbitrary(model: Model, rnd: () => number): Int32Array {
  return Int32Array.from(model.layout.slotTypes, (t) => fromCode(t, Math.floor(rnd() * cardinality(t))));
}

describe('the reachable set', () => {
  const plans = fc.sample(planArb(), { numRuns: 60, seed: 20261206 });

  it('holds exactly the states, depth and deadlocks of a breadth-first search with the interpreter, or stops on the model error it finds', () => {
    let complete = 0;
    let errors = 0;
    for (const [i, plan] of plans.entries()) {
      const { model } = build(plan);
      const b = brute(model);
      const r = buildReachableSet(model, [], 1e6, null);
      if (b.states === 'error') {
        expect(r.status, `plan ${i}`).toBe('error');
        errors++;
        continue;
      }
      expect(r.status, `plan ${i}`).toBe('complete');
      if (r.status !== 'complete') continue;
      complete++;
      const set = r.set;
      expect([set.n, set.depth, set.deadlocks], `plan ${i}: states, depth, deadlocks`).toEqual([b.states.length, b.depth, b.deadlocks]);
      for (const s of b.states) expect(set.has(s), `plan ${i}: ${s}`).toBe(true);
      const reach = new Set(b.states.map((s) => s.join(',')));
      const rnd = uniform(i + 1);
      for (let k = 0; k < 40; k++) {
        const s = arbitrary(model, rnd);
        expect(set.has(s), `plan ${i}: ${s}`).toBe(reach.has(s.join(',')));
      }
    }
    expect(complete, 'complete sets compared').toBeGreaterThan(30);
    expect(errors, 'model errors compared').toBeGreaterThan(0);
  });

  it('count, meets, widen, equalSet, absentCubes and unreachableCube answer as the list of states does', () => {
    let widened = 0;
    let cubes = 0;
    for (const [i, plan] of plans.entries()) {
      const { model } = build(plan);
      const b = brute(model);
      const r = buildReachableSet(model, [], 1e6, null);
      if (b.states === 'error' || r.status !== 'complete') continue;
      const { set } = r;
      const states = b.states;
      const types = model.layout.slotTypes;
      const n = types.length;
      const rnd = uniform(7 * i + 3);
      const litOf = (slot: number): SlotLit => ({
        slot,
        value: fromCode(types[slot] as ScalarType, Math.floor(rnd() * cardinality(types[slot] as ScalarType))),
      });
      expect(set.count([])).toBe(states.length);
      expect(set.meets([])).toBe(states.length > 0);
      for (let k = 0; k < 30; k++) {
        const slots = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * n)))];
        const cube = slots.map(litOf);
        const c = states.filter((s) => matches(s, cube)).length;
        expect(set.count(cube), `plan ${i}: count ${key(cube)}`).toBe(c);
        expect(set.meets(cube), `plan ${i}: meets ${key(cube)}`).toBe(c > 0);
        if (c > 0) continue;
        // Widened: still unreachable, each literal keeps its value, and no value can be added.
        const w = set.widen(cube);
        widened++;
        expect(
          states.some((s) => matchesSets(s, w)),
          `plan ${i}: widened ${JSON.stringify(w)} meets a state`,
        ).toBe(false);
        for (const l of cube) {
          const wl = w.find((z) => z.slot === l.slot);
          const all = cardinality(types[l.slot] as ScalarType);
          if (!wl) continue;
          expect(wl.values.includes(l.value)).toBe(true);
          expect(wl.values.length).toBeLessThan(all);
          expect([...wl.values].sort((p, q) => p - q)).toEqual(wl.values);
          for (let code = 0; code < all; code++) {
            const v = fromCode(types[l.slot] as ScalarType, code);
            if (wl.values.includes(v)) continue;
            const more = w.map((z) => (z === wl ? { slot: z.slot, values: [...z.values, v] } : z));
            expect(
              states.some((s) => matchesSets(s, more)),
              `plan ${i}: ${v} could be added to slot ${l.slot} in ${JSON.stringify(w)}`,
            ).toBe(true);
          }
        }
        // A literal widened to every value is left out: the cube without it is still unreachable.
        expect(w.length).toBeLessThanOrEqual(cube.length);
      }
      // equalSet with subsetOf and disjointFrom, for slots of one type.
      for (let a = 0; a < n; a++)
        for (let c = a + 1; c < n; c++) {
          const ta = types[a] as ScalarType;
          if (JSON.stringify(ta) !== JSON.stringify(types[c])) continue;
          const vals = Array.from({ length: cardinality(ta) }, (_, code) => fromCode(ta, code)).filter(() => rnd() < 0.6);
          const eqSet = set.equalSet(a, c, vals);
          const inSet = (s: Int32Array) => s[a] === s[c] && vals.includes(s[a] as number);
          for (const when of [null, litOf(Math.floor(rnd() * n))]) {
            const scope = states.filter((s) => when === null || matches(s, [when]));
            expect(set.subsetOf(when, eqSet), `plan ${i}: slots ${a}, ${c} equal in ${vals} when ${JSON.stringify(when)}`).toBe(scope.every(inSet));
            expect(set.disjointFrom(when, eqSet), `plan ${i}: slots ${a}, ${c} never equal in ${vals} when ${JSON.stringify(when)}`).toBe(!scope.some(inSet));
          }
        }
      // absentCubes: every value a slot never takes, and every pair of taken values never together.
      const want: string[] = [];
      const present: SlotLit[] = [];
      types.forEach((ty, slot) => {
        for (let code = 0; code < cardinality(ty); code++) {
          const lit = { slot, value: fromCode(ty, code) };
          if (states.some((s) => matches(s, [lit]))) present.push(lit);
          else want.push(key([lit]));
        }
      });
      for (let p = 0; p < present.length; p++)
        for (let q = p + 1; q < present.length; q++) {
          const [A, B] = [present[p] as SlotLit, present[q] as SlotLit];
          if (A.slot !== B.slot && !states.some((s) => matches(s, [A, B]))) want.push(key([A, B]));
        }
      expect(set.absentCubes().map(key).sort(), `plan ${i}: absent cubes`).toEqual(want.sort());
      // unreachableCube: null for a reachable state; else a sub-cube of the state that meets no
      // state, every literal of which is needed.
      for (const s of states.slice(0, 5)) expect(set.unreachableCube(s, [])).toBe(null);
      for (let k = 0; k < 20; k++) {
        const s = Int32Array.from(types, (t) => fromCode(t, Math.floor(rnd() * cardinality(t))));
        const start = [...new Set(Array.from({ length: Math.floor(rnd() * 2) }, () => Math.floor(rnd() * n)))];
        // Some slots, in a random order, some twice (the first place counts).
        const prefer = Array.from({ length: n + 2 }, () => Math.floor(rnd() * n)).slice(0, Math.floor(rnd() * (n + 3)));
        const cube = set.unreachableCube(s, start, prefer);
        expect(cube, `plan ${i}: ${s} from ${start} preferring ${prefer}`).toEqual(greedyCube(states, s, start, prefer));
        const reachable = states.some((z) => z.join(',') === s.join(','));
        if (reachable) {
          expect(cube, `plan ${i}: ${s} is reachable`).toBe(null);
          continue;
        }
        cubes++;
        expect(cube, `plan ${i}: ${s}`).not.toBe(null);
        if (!cube) continue;
        expect(
          cube.every((l) => s[l.slot] === l.value),
          'a sub-cube of the state',
        ).toBe(true);
        expect(cube.map((l) => l.slot)).toEqual([...new Set(cube.map((l) => l.slot))].sort((p, q) => p - q));
        expect(
          states.some((z) => matches(z, cube)),
          `plan ${i}: ${key(cube)} meets a state`,
        ).toBe(false);
        if (cube.length > 1)
          for (const l of cube)
            expect(
              states.some((z) =>
                matches(
                  z,
                  cube.filter((m) => m !== l),
                ),
              ),
              `plan ${i}: ${key(cube)} without slot ${l.slot}`,
            ).toBe(true);
      }
    }
    expect(widened, 'unreachable cubes widened').toBeGreaterThan(100);
    expect(cubes, 'unreachable states cut to a cube').toBeGreaterThan(100);
  });

  it('stops past the state limit (not at it), on a violated invariant, and on a violated step property', () => {
    let violations = 0;
    let stepViolations = 0;
    let limits = 0;
    for (const [i, plan] of plans.entries()) {
      const { model, props } = build(plan);
      const b = brute(model);
      if (b.states === 'error') continue;
      const inv = props.find((p) => p.kind === 'invariant');
      if (inv?.kind !== 'invariant') continue;
      const broken = b.states.some((s) => !holds(model, inv.pred, s));
      const r = buildReachableSet(model, [inv], 1e6, null);
      expect(r.status, `plan ${i}: invariant`).toBe(broken ? 'violation' : 'complete');
      if (broken) violations++;
      const step = props.find((p) => p.kind === 'step');
      if (step && step.kind === 'step') {
        // The step properties of random plans hold on every rule's steps (rule null).
        expect(step.rule).toBe(null);
        const stepBroken = b.states.some((s) =>
          model.instances.some((inst) => enabled(model, inst, s) && !holds(model, step.pred, applyRule(model, inst, s), s)),
        );
        expect(buildReachableSet(model, [step], 1e6, null).status, `plan ${i}: step property`).toBe(stepBroken ? 'violation' : 'complete');
        if (stepBroken) stepViolations++;
      }
      if (b.states.length > 2) {
        const lim = buildReachableSet(model, [], 1, null);
        expect(lim.status, `plan ${i}: limit of 1`).toBe('limit');
        if (lim.status !== 'complete') expect(lim.states).toBeGreaterThan(1);
        expect(buildReachableSet(model, [], b.states.length, null).status, `plan ${i}: limit at the count`).toBe('complete');
        limits++;
      }
    }
    expect([violations > 5, stepViolations > 3, limits > 5]).toEqual([true, true, true]);
  });

  it('a state with no enabled rule is a deadlock unless it is a legal end state', () => {
    for (const end of [3, 2, null]) {
      const proto = testProtocol('reach-counter', 'a counter from 0 to 3', {
        build(b) {
          const n = b.v('n', range(0, 3));
          b.init('zero', () => []);
          b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
          if (end !== null) b.endState(() => eq(n, end));
          return { n };
        },
      });
      const r = buildReachableSet(buildModel(proto), [], 100, null);
      expect(r.status === 'complete' && [r.set.n, r.set.depth, r.set.deadlocks], `end state n = ${end}`).toEqual([4, 3, end === 3 ? 0 : 1]);
    }
  });

  it('a deadline already passed stops the enumeration (checked every 4096 states) with the states found so far', () => {
    const proto = testProtocol('reach-grid', 'two counters from 0 to 99', {
      build(b) {
        const x = b.v('x', range(0, 99));
        const y = b.v('y', range(0, 99));
        b.init('zero', () => []);
        b.rule('IncX', {}, () => ({ guard: lt(x, 99), body: [assign(x, add(x, 1))] }));
        b.rule('IncY', {}, () => ({ guard: lt(y, 99), body: [assign(y, add(y, 1))] }));
        return { x, y };
      },
    });
    const model = buildModel(proto);
    const late = buildReachableSet(model, [], 1e6, Date.now() - 1);
    expect(late.status).toBe('limit');
    if (late.status !== 'complete') {
      expect(late.reason).toBe('time limit reached while enumerating the reachable states');
      expect(late.states).toBeGreaterThan(4096);
      expect(late.states).toBeLessThan(10_000);
    }
    const r = buildReachableSet(model, [], 1e6, Date.now() + 600_000);
    expect(r.status === 'complete' && [r.set.n, r.set.depth, r.set.deadlocks]).toEqual([10_000, 198, 1]);
  });

  it('with 32 states (a whole word of bits), every-state queries still see the last word; a slot value outside its type is refused', () => {
    const proto = testProtocol('reach-32', 'two equal counters from 0 to 31', {
      build(b) {
        const x = b.v('x', range(0, 31));
        const y = b.v('y', range(0, 31));
        b.init('zero', () => []);
        b.rule('Inc', {}, () => ({ guard: lt(x, 31), body: [assign(x, add(x, 1)), assign(y, x)] }));
        return { x, y };
      },
    });
    const r = buildReachableSet(buildModel(proto), [], 100, null);
    expect(r.status === 'complete' && r.set.n).toBe(32);
    if (r.status !== 'complete') return;
    const all = Array.from({ length: 32 }, (_, v) => v);
    expect(r.set.subsetOf(null, r.set.equalSet(0, 1, all)), 'x = y in every state').toBe(true);
    expect(r.set.disjointFrom(null, r.set.equalSet(0, 1, [31])), 'x = y = 31 in the last state found').toBe(false);
    expect(r.set.subsetOf(null, r.set.equalSet(0, 1, all.slice(0, 31))), 'not every state has x = y below 31').toBe(false);
    expect(r.set.unreachableCube(Int32Array.from([31, 30]), [])).toEqual([
      { slot: 0, value: 31 },
      { slot: 1, value: 30 },
    ]);
    expect(() => r.set.count([{ slot: 0, value: 32 }])).toThrow('no such slot value: slot 0 = 32');
    expect(() => r.set.meets([{ slot: 2, value: 0 }])).toThrow('no such slot value: slot 2 = 0');
    expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(r.elapsedMs).toBeLessThan(60_000);
  });

  it('an invariant broken in a start state, or in a state reached only once, is a violation; a start state that fails to build is a model error', () => {
    const counter = (initTo: number) =>
      buildModel(
        testProtocol('reach-line', 'a counter from 0 to 3', {
          build(b) {
            const n = b.v('n', range(0, 3));
            // A computed start value out of range is a model error when the start state is built.
            b.init('start', () => [assign(n, add(n, initTo))]);
            b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
            return { n };
          },
        }),
      );
    for (const [bad, want] of [
      [0, 'violation'],
      [3, 'violation'],
      [null, 'complete'],
    ] as const) {
      const model = counter(0);
      const n = model.layout.slotNames.indexOf('n');
      const props = bad === null ? [] : [invariant('not-bad', 'T-1', `n is never ${bad}`, not(eq(model.handles.n as never, bad)))];
      const r = buildReachableSet(model, props, 100, null);
      expect([n, r.status], `n is never ${bad}`).toEqual([0, want]);
    }
    const broken = buildReachableSet(counter(7), [], 100, null);
    expect(broken.status).toBe('error');
    expect(broken.status !== 'complete' && [broken.states, broken.reason.length > 0]).toEqual([0, true]);
  });
});
