/**
 * The liveness check over many goals at once, against a brute-force oracle. Why this file exists:
 * fairCycles.test.ts checks the verdict of one property of each form on random graphs; the check
 * also evaluates the goals four to a pass (their p and q bits share a byte), checks a per-instance
 * property once for each value of its index and stops at the first value that fails, starts from
 * several start states, tells a deadlock from a legal end state, works without fairness, and writes
 * the result: one violation per property, in the properties' order, with a lasso, its kind, the
 * index value and the message's step numbers. Those are checked here, on random small graphs, each
 * verdict against a brute force over every set of states, each lasso by replaying it
 * (counterexamples/lasso.ts), and the lasso's fields against the replay's findings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { type Expr, type Operand, and, eq, ite, lit, or, ord } from '../../model/lang/expr.js';
import type { FairnessMode } from '../../model/lang/fairness.js';
import { type Fairness, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { index, range } from '../../model/lang/types.js';
import { type Liveness, alwaysEventually, eventually, leadsTo, leadsToEach } from '../../properties/property.js';
import { livenessCheck } from './liveness.js';

/** A random labelled graph: states 0..n-1, some of them start states, rules as partial maps with a fairness each, some legal end states. */
interface RandomGraph {
  readonly n: number;
  readonly starts: readonly number[];
  readonly rules: readonly { readonly map: readonly (number | null)[]; readonly fairness: Fairness }[];
  readonly end: readonly boolean[];
}

/** A goal of the random properties: the form, and p and q as sets of states (one pair per index value for a per-instance property). */
interface Goal {
  readonly form: Liveness['form'];
  readonly pq: readonly { readonly p: readonly boolean[]; readonly q: readonly boolean[] }[];
  readonly each: boolean;
}

const SIZE = 3;

const bits = (n: number) => fc.array(fc.boolean(), { minLength: n, maxLength: n });

const caseArb = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    g: fc.record({
      n: fc.constant(n),
      starts: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: Math.min(2, n) }),
      rules: fc.array(
        fc.record({
          map: fc.array(fc.option(fc.integer({ min: 0, max: n - 1 }), { freq: 2 }), { minLength: n, maxLength: n }),
          fairness: fc.constantFrom<Fairness>('none', 'weak', 'strong'),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      end: bits(n),
    }),
    goals: fc.array(
      fc.oneof(
        fc.record({
          form: fc.constantFrom<Liveness['form']>('eventually', 'leadsTo', 'alwaysEventually'),
          pq: fc.tuple(fc.record({ p: bits(n), q: bits(n) })),
          each: fc.constant(false),
        }),
        fc.record({
          form: fc.constant<Liveness['form']>('leadsTo'),
          pq: fc.array(fc.record({ p: bits(n), q: bits(n) }), { minLength: SIZE, maxLength: SIZE }),
          each: fc.constant(true),
        }),
      ),
      { minLength: 1, maxLength: 6 },
    ),
    mode: fc.constantFrom<FairnessMode>('declared', 'none'),
  }),
);

function modelOf(g: RandomGraph) {
  const def = defineProtocol({
    name: 'random-goals',
    summary: 'random graph',
    spec: 'checker/explicit/livenessGoals.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, g.n - 1));
      for (const s of g.starts) b.init(`s${s}`, () => (s === 0 ? [] : [assign(x, s)]));
      g.rules.forEach((r, j) => {
        const dom = r.map.map((t, a) => (t === null ? -1 : a)).filter((a) => a >= 0);
        if (dom.length === 0) return;
        let val: Expr = lit(r.map[dom[dom.length - 1] as number] as number);
        for (const a of dom.slice(0, -1).reverse()) val = ite(eq(x, a), r.map[a] as number, val);
        b.rule(`R${j}`, {}, () => ({ guard: or(...dom.map((a) => eq(x, a)), false), body: [assign(x, val)] }), { fairness: r.fairness });
      });
      b.endState(() => setOf(x, g.end));
      return { x };
    },
  });
  return buildModel(def);
}

const setOf = (x: Operand, set: readonly boolean[]): Expr => or(...set.map((b, a) => (b ? eq(x, a) : null)).filter((e): e is Expr => e !== null), false);

const Idx = index('Idx', SIZE);

function propertyOf(x: Operand, goal: Goal, k: number): Liveness {
  const name = `g${k}`;
  const [first] = goal.pq as [Goal['pq'][number]];
  if (goal.each)
    return leadsToEach(name, `R-${k}`, 'per index', Idx, (i) => [
      or(...goal.pq.map((s, v) => and(eq(ord(i), v), setOf(x, s.p)))),
      or(...goal.pq.map((s, v) => and(eq(ord(i), v), setOf(x, s.q)))),
    ]);
  if (goal.form === 'eventually') return eventually(name, `R-${k}`, 'eventually', setOf(x, first.q));
  if (goal.form === 'alwaysEventually') return alwaysEventually(name, `R-${k}`, 'always eventually', setOf(x, first.q));
  return leadsTo(name, `R-${k}`, 'leads to', setOf(x, first.p), setOf(x, first.q));
}

/**
 * The oracle: a fair run that avoids q after a seed exists iff the region (states reachable from a
 * seed through states where q fails) holds a state with no successor, or a set S of region states,
 * strongly connected through its internal edges (at least one), such that the run using every
 * internal edge of S forever is fair (under `none`, every such S). Brute force over every subset S.
 */
function violated(g: RandomGraph, form: Liveness['form'], p: readonly boolean[], q: readonly boolean[], mode: FairnessMode): boolean {
  const edges: { from: number; to: number; rule: number }[] = [];
  g.rules.forEach((r, j) => {
    r.map.forEach((t, a) => {
      if (t !== null) edges.push({ from: a, to: t, rule: j });
    });
  });
  const closure = (from: Iterable<number>, step: (e: (typeof edges)[number]) => boolean, among = edges) => {
    const seen = new Set(from);
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of among)
        if (seen.has(e.from) && !seen.has(e.to) && step(e)) {
          seen.add(e.to);
          changed = true;
        }
    }
    return seen;
  };
  const reach = closure(g.starts, () => true);
  const seeds = [...reach].filter((v) => !q[v] && (form === 'eventually' ? g.starts.includes(v) : form === 'leadsTo' ? p[v] : true));
  const region = [...closure(seeds, (e) => !q[e.to])];
  if (region.some((v) => !edges.some((e) => e.from === v))) return true;
  for (let mask = 1; mask < 1 << region.length; mask++) {
    const S = region.filter((_, i) => mask & (1 << i));
    const inS = new Set(S);
    const internal = edges.filter((e) => inS.has(e.from) && inS.has(e.to));
    if (internal.length === 0) continue;
    if (!S.every((a) => S.every((b) => closure([a], () => true, internal).has(b)))) continue;
    const fair = g.rules.every((r, j) => {
      if (mode === 'none' || r.fairness === 'none' || internal.some((e) => e.rule === j)) return true;
      const en = S.map((v) => r.map[v] !== null);
      return r.fairness === 'weak' ? en.some((e) => !e) : en.every((e) => !e);
    });
    if (fair) return true;
  }
  return false;
}

describe('many goals at once against a brute-force oracle', () => {
  it('each property violated exactly when the oracle says so, once, in order, with a lasso that replays and says what it is', () => {
    let perIndex = 0;
    let batches = 0;
    fc.assert(
      fc.property(caseArb, ({ g, goals, mode }) => {
        const model = modelOf(g);
        const x = model.handles.x;
        const props = goals.map((goal, k) => propertyOf(x, goal, k));
        if (goals.reduce((s, goal) => s + goal.pq.length, 0) > 4) batches++;
        const r = livenessCheck({ model, properties: props, limits: {} }, {}, { fairness: mode });
        expect(r.status === 'ok' || r.status === 'violated').toBe(true);
        // Covers are the safety search's: the liveness check lists none.
        expect('covers' in r && r.covers).toEqual([]);
        // Per property: the index values whose goal fails.
        const failing = goals.map((goal) => goal.pq.flatMap((s, v) => (violated(g, goal.form, s.p, s.q, mode) ? [v] : [])));
        const vs = r.status === 'violated' ? r.violations : [];
        expect(vs.map((v) => v.property)).toEqual(props.filter((_, k) => (failing[k] as number[]).length > 0).map((p) => p.name));
        for (const v of vs) {
          const k = props.findIndex((p) => p.name === v.property);
          const prop = props[k] as Liveness;
          const t = v.trace as Trace;
          expect([v.kind, v.requirement, t.property, t.requirement, t.engine, t.extra?.fairness]).toEqual([
            'liveness',
            prop.requirement,
            prop.name,
            prop.requirement,
            'explicit',
            mode,
          ]);
          const chk = checkLasso(model, t, prop);
          expect(chk).toMatchObject({ ok: true });
          if (!chk.ok) continue;
          const L = t.loop as number;
          const last = t.steps.length - 1;
          // The index value: one whose goal the oracle says fails, the one the replay finds.
          const each = t.extra?.each as { value: number; index: string } | undefined;
          if (goals[k]?.each) {
            perIndex++;
            expect(failing[k]).toContain(each?.value);
            expect([each?.index, chk.each]).toEqual(['Idx', each?.value]);
            expect(v.message).toContain(`violated for Idx ${each?.value}:`);
          } else {
            expect(each).toBeUndefined();
            expect(v.message).toContain(`violated: `);
          }
          // The kind: a loop of steps, or a stop in a legal end state or not.
          const stopAt = t.steps[last]?.state[0] as number;
          expect(t.extra?.lasso).toBe(chk.kind === 'cycle' ? 'cycle' : g.end[stopAt] ? 'end-state' : 'deadlock');
          // The message's step numbers are the trace's; it says which fairness was assumed, or how the run stopped; so does the note.
          if (chk.kind === 'cycle') {
            expect(v.message).toContain(
              `steps ${L + 1}..${last} repeat forever ${mode === 'none' ? 'with no fairness assumed' : 'under the declared fairness'}`,
            );
            expect(t.note).toBe(`lasso: state ${L} is repeated at the end; steps ${L + 1}..${last} repeat forever`);
          } else {
            expect(v.message).toContain(g.end[stopAt] ? `ends after ${L} steps in a legal end state` : `deadlock: the run stops after ${L} steps`);
            expect(t.note).toMatch(/^stutter: /);
          }
          expect([t.protocol, t.variant, t.params]).toEqual([model.protocol, model.variant, model.params]);
          // Labels: the start state's name, then each instance's label.
          expect(t.steps.map((s) => s.label)).toEqual(
            t.steps.map((s, i) => (i === 0 ? `init ${model.inits[s.choice]?.name}` : model.instances[s.choice]?.label)),
          );
        }
      }),
      { numRuns: 120, seed: 20261206 },
    );
    // The runs did exercise per-instance properties and more than one pass of four goals.
    expect(perIndex).toBeGreaterThan(10);
    expect(batches).toBeGreaterThan(20);
  });
});

/**
 * x goes from 0 to 1 by Go (weakly fair) and stops there (a deadlock). The goals are evaluated
 * four to a pass over the states; A has five index values, so its fifth goal starts the second
 * pass. A fails for its first value, so its other values are skipped: the second pass must still
 * be made for B and C, which share it.
 */
describe('a pass of four goals that starts with a goal of a property already violated', () => {
  const def = defineProtocol({
    name: 'go-once',
    summary: 'x goes from 0 to 1 and stops',
    spec: 'checker/explicit/livenessGoals.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 1));
      b.init('zero', () => []);
      b.rule('Go', {}, () => ({ guard: eq(x, 0), body: [assign(x, 1)] }), { fairness: 'weak' });
      return { x };
    },
  });
  const model = buildModel(def);
  const { x } = model.handles;
  const Five = index('Five', 5);
  // Value 0: x = 1 leads to false (fails: the run stops at 1). Value 2: q holds everywhere. The others: p never holds.
  const A = leadsToEach('A', 'R-A', 'per index', Five, (i) => [and(eq(ord(i), 0), eq(x, 1)), eq(ord(i), 2)]);
  // Holds: the only run goes from 0 to 1.
  const B = eventually('B', 'R-B', 'x reaches 1', eq(x, 1));
  // Fails: the run stops at 1, where x = 0 never holds again.
  const C = alwaysEventually('C', 'R-C', 'x is 0 infinitely often', eq(x, 0));

  it('B holds and C fails, as each does when checked alone; A fails for its value 0', () => {
    const alone = [A, B, C].map((p) => livenessCheck({ model, properties: [p], limits: {} }).status);
    expect(alone).toEqual(['violated', 'ok', 'violated']);
    const r = livenessCheck({ model, properties: [A, B, C], limits: {} });
    expect(r.status === 'violated' && r.violations.map((v) => [v.property, v.trace?.extra?.each])).toEqual([
      ['A', { index: 'Five', name: 'five', value: 0 }],
      ['C', undefined],
    ]);
  });
});
