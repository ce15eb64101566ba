/**
 * An independent walk over a model's reachable states, for the tests of the explicit search
 * (checker/explicit/search.test.ts, searchResume.test.ts): the interpreter, not the compiled rules,
 * states as strings in a Set, in the order the engine documents (start states in init order, then
 * breadth-first levels, each state's rule instances in order; depth-first: a stack). It also makes
 * the random small protocols those tests run, and compares an engine result with the walk's.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { CheckResult, ExplicitStats, Limits, StoreKind } from '../checker/engine.js';
import { type Expr, type Ref, add, and, eq, exists, ite, le, lt, ne, not, or, pre } from '../model/lang/expr.js';
import { applyRule, enabled, holds, initState, instanceBindings } from '../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../model/lang/protocol.js';
import { type Stmt, assign } from '../model/lang/stmt.js';
import { arrayOf, bool, range } from '../model/lang/types.js';
import { type Property, cover, invariant, stepProperty } from '../properties/property.js';

// --- Random small protocols: two counters, a flag and a local counter per process (not symmetric).

type Lit = { k: 'a<'; v: number } | { k: 'b='; v: number } | { k: 'flag'; v: boolean } | { k: 'x<'; v: number };
type Act = { k: 'a+' } | { k: 'b+' } | { k: 'x+' } | { k: 'flip' } | { k: 'a:=b' } | { k: 'b:=0' } | { k: 'a++' };
export interface Plan {
  readonly rules: readonly { readonly guard: readonly Lit[]; readonly body: readonly Act[] }[];
  /** The invariant: never a = inv[0] and b = inv[1]. */
  readonly inv: readonly [number, number] | null;
  /** A second invariant: never x[1] = 2 with the flag set. */
  readonly inv2: boolean;
  /** The rule whose steps must not leave b at 3 when the flag was set before. */
  readonly step: number | null;
  readonly coverA: number;
  readonly endOk: boolean;
  readonly deadlock: boolean;
}

const lit: fc.Arbitrary<Lit> = fc.oneof(
  fc.record({ k: fc.constant('a<' as const), v: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant('b=' as const), v: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ k: fc.constant('flag' as const), v: fc.boolean() }),
  fc.record({ k: fc.constant('x<' as const), v: fc.integer({ min: 1, max: 2 }) }),
);
const act: fc.Arbitrary<Act> = fc.constantFrom<Act>({ k: 'a+' }, { k: 'b+' }, { k: 'x+' }, { k: 'flip' }, { k: 'a:=b' }, { k: 'b:=0' });
export const planArb = (errors: boolean): fc.Arbitrary<Plan> =>
  fc.record({
    rules: fc.array(
      fc.record({
        guard: fc.array(lit, { maxLength: 2 }),
        // `a++` (no wrap) raises a model error at a = 3.
        body: fc.array(errors ? fc.oneof(act, fc.constant<Act>({ k: 'a++' })) : act, { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    inv: fc.option(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { nil: null }),
    inv2: fc.boolean(),
    step: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
    coverA: fc.integer({ min: 0, max: 3 }),
    endOk: fc.boolean(),
    deadlock: fc.boolean(),
  });

export function build(plan: Plan): { model: Model; properties: Property[] } {
  const def = defineProtocol({
    name: 'search-random',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 2);
      const a = b.v('a', range(0, 3));
      const c = b.v('b', range(0, 3));
      const flag = b.v('flag', bool);
      const x = b.v('x', arrayOf(P, range(0, 2)));
      b.init('zero', () => []);
      b.init('two', () => [assign(a, 2), assign(flag, true)]);
      // The same state as `zero`: stored once.
      b.init('zero-again', () => [assign(c, 0)]);
      plan.rules.forEach((r, i) => {
        b.rule(`R${i}`, { p: P }, ({ p }) => {
          const l = (g: Lit): Expr =>
            g.k === 'a<' ? lt(a, g.v) : g.k === 'b=' ? eq(c, g.v) : g.k === 'flag' ? (g.v ? and(flag) : not(flag)) : lt(x.at(p), g.v);
          const s = (t: Act): Stmt => {
            switch (t.k) {
              case 'a+':
                return assign(a, ite(lt(a, 3), add(a, 1), 0));
              case 'a++':
                return assign(a, add(a, 1));
              case 'b+':
                return assign(c, ite(lt(c, 3), add(c, 1), 3));
              case 'x+':
                return assign(x.at(p), ite(lt(x.at(p), 2), add(x.at(p), 1), 0));
              case 'flip':
                return assign(flag, not(flag));
              case 'a:=b':
                return assign(a, c);
              case 'b:=0':
                return assign(c, 0);
            }
          };
          return { guard: and(true, ...r.guard.map(l)), body: r.body.map(s) };
        });
      });
      if (plan.endOk) b.endState(() => eq(c, 3));
      return { a, b: c, flag, x };
    },
  });
  const model = buildModel(def);
  const h = model.handles;
  const properties: Property[] = [];
  if (plan.inv) properties.push(invariant('not-ab', 'I-1', '', not(and(eq(h.a, plan.inv[0]), eq(h.b, plan.inv[1])))));
  if (plan.inv2) properties.push(invariant('not-x1', 'I-2', '', not(and(eq(h.x.at(1), 2), h.flag))));
  properties.push(cover('reach-a', 'C-1', '', and(eq(h.a, plan.coverA), eq(h.x.at(0), 1))));
  if (plan.step !== null && plan.step < plan.rules.length)
    properties.push(stepProperty(model, 'step', 'S-1', '', `R${plan.step}`, () => or(not(pre(h.flag)), ne(h.b, 3))));
  return { model, properties };
}

// --- The independent walk.

type Found =
  | { kind: 'invariant' | 'step'; property: string; state: Int32Array; depth: number }
  | { kind: 'deadlock'; state: Int32Array; depth: number }
  /** `via`: the rule instance that fails (the first enabled one whose step is out of range). */
  | { kind: 'error'; state: Int32Array; depth: number; via: number };
export interface Walked {
  end: 'complete' | 'found' | 'limit';
  found: Found | null;
  /** Why a limit stopped the walk, and how many stored states were left unexplored (depth limit, breadth-first). */
  limit: { kind: 'depth' | 'states'; unexplored: number } | null;
  states: number;
  transitions: number;
  maxDepth: number;
  coverDepth: (number | null)[];
  /** The states stored, in the order stored (their ids), with their depth. */
  order: { s: Int32Array; d: number }[];
  /** The transitions explored: from and to as ids, k the rule instance (the edges of a state whose expansion failed are dropped). */
  edges: { from: number; to: number; k: number }[];
}

export function walk(
  model: Model,
  properties: readonly Property[],
  deadlock: boolean,
  strategy: 'bfs' | 'dfs',
  limits: Limits,
  key: (s: Int32Array) => string = (s) => s.join(),
): Walked {
  const invs = properties.filter((p) => p.kind === 'invariant');
  const steps = properties.filter((p) => p.kind === 'step');
  const covers = properties.filter((p) => p.kind === 'cover');
  const seen = new Map<string, number>();
  const order: { s: Int32Array; d: number }[] = [];
  const edges: Walked['edges'] = [];
  const coverDepth: (number | null)[] = covers.map(() => null);
  let transitions = 0;
  let maxDepth = 0;
  let found: Found | null = null;
  const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
  // The states to expand with their depth: a queue read in order (bfs) or a stack (dfs).
  const pending: { s: Int32Array; d: number }[] = [];
  /** Stores a state when new; returns false when it breaks an invariant (the walk ends). */
  const store = (s: Int32Array, d: number): boolean => {
    const k = key(s);
    if (seen.has(k)) return true;
    seen.set(k, seen.size);
    order.push({ s, d });
    maxDepth = Math.max(maxDepth, d);
    const bad = invs.find((p) => !holds(model, p.pred, s));
    if (bad) {
      found = { kind: 'invariant', property: bad.name, state: s, depth: d };
      return false;
    }
    covers.forEach((p, i) => {
      if (coverDepth[i] === null && holds(model, p.pred, s)) coverDepth[i] = d;
    });
    pending.push({ s, d });
    return true;
  };
  const result = (end: Walked['end'], limit: Walked['limit'] = null): Walked => ({
    end,
    found,
    limit,
    states: seen.size,
    transitions,
    maxDepth,
    coverDepth,
    order,
    edges,
  });
  for (const init of model.inits) if (!store(initState(model, init), 0)) return result('found');
  let head = 0;
  let level = 0;
  for (;;) {
    let next: { s: Int32Array; d: number } | undefined;
    if (strategy === 'bfs') {
      next = pending[head];
      if (next && next.d >= depthLimit) return result('limit', { kind: 'depth', unexplored: pending.length - head });
      head++;
      level = next?.d ?? level;
    } else {
      next = pending.pop();
      if (next && next.d >= depthLimit) return result('limit', { kind: 'depth', unexplored: 0 });
    }
    if (!next) return result('complete');
    const { s, d } = next;
    let any = false;
    let error = -1;
    for (const inst of model.instances) {
      if (!enabled(model, inst, s)) continue;
      any = true;
      let t: Int32Array;
      try {
        t = applyRule(model, inst, s);
      } catch {
        // The compiled rules stop at the instance that fails; a model error comes before any violation in this state.
        error = model.instances.indexOf(inst);
        const from = seen.get(key(s));
        while (edges.length && edges[edges.length - 1]?.from === from) edges.pop();
        break;
      }
      if (found) continue;
      transitions++;
      const bad = steps.find((p) => p.kind === 'step' && (p.rule === null || p.rule === inst.rule.name) && !holds(model, p.pred, t, s, instanceBindings(inst)));
      if (bad) {
        found = { kind: 'step', property: bad.name, state: t, depth: d + 1 };
        continue;
      }
      store(t, d + 1);
      edges.push({ from: seen.get(key(s)) as number, to: seen.get(key(t)) as number, k: model.instances.indexOf(inst) });
    }
    if (error >= 0) {
      found = { kind: 'error', state: s, depth: d, via: error };
      return result('found');
    }
    if (found) return result('found');
    if (!any && deadlock && !(model.endState && holds(model, model.endState, s))) {
      found = { kind: 'deadlock', state: s, depth: d };
      return result('found');
    }
    if (limits.maxStates !== undefined && seen.size >= limits.maxStates) return result('limit', { kind: 'states', unexplored: 0 });
  }
}

// --- Comparing the engine's result with the walk's.

export function expectSame(r: CheckResult<ExplicitStats>, w: Walked, covers: readonly string[], limits: Limits, what: unknown): void {
  const last = (steps: readonly { state: Int32Array }[] | undefined) => Array.from(steps?.[steps.length - 1]?.state ?? []);
  const got: Record<string, unknown> = { what, status: r.status };
  const want: Record<string, unknown> = { what };
  if (w.end === 'found' && w.found) {
    const f = w.found;
    want.status = f.kind === 'error' ? 'error' : 'violated';
    want.end = [f.kind === 'invariant' || f.kind === 'step' ? f.property : f.kind, Array.from(f.state), f.depth];
    if (r.status === 'violated') {
      const v = r.violations[0];
      got.end = [v?.property, last(v?.trace?.steps), (v?.trace?.steps.length ?? 0) - 1];
    } else if (r.status === 'error') {
      const steps = r.trace?.steps.length ?? 0;
      got.end = ['error', last(r.trace?.steps), steps - 1];
      // The trace names the rule instance that fails in its last state, and the message counts the steps.
      got.error = [r.code, r.trace?.extra?.failingChoice, r.message.endsWith(`(after ${steps - 1} steps; the trace leads to the state where it fails)`)];
      if (f.kind === 'error') want.error = ['MC011', f.via, true];
    }
  } else if (w.end === 'limit') {
    want.status = 'incomplete';
    want.reason =
      w.limit?.kind === 'states'
        ? `state limit of ${limits.maxStates} reached`
        : `depth limit ${limits.depth} reached${w.limit && w.limit.unexplored > 0 ? ` with ${w.limit.unexplored} states unexplored` : ''}`;
    if (r.status === 'incomplete') got.reason = r.reason;
  } else {
    const unreached = covers.filter((_, i) => w.coverDepth[i] === null);
    want.status = unreached.length ? 'violated' : 'ok';
    if (r.status === 'violated') got.unreached = r.violations.map((v) => [v.property, v.kind]);
    if (unreached.length) want.unreached = unreached.map((c) => [c, 'cover']);
  }
  // Figures too after a model error: the states stored before the failing rule instance count.
  got.figures = [r.stats.states, r.stats.transitions, r.stats.depth];
  want.figures = [w.states, w.transitions, w.maxDepth];
  if (w.found?.kind !== 'error') {
    if (r.status !== 'error') got.covers = r.covers.map((c) => [c.name, c.reached, c.depth]);
    want.covers = covers.map((c, i) => [c, w.coverDepth[i] !== null, w.coverDepth[i]]);
  }
  expect(got).toEqual(want);
}

export const STORES: StoreKind[] = ['exact', 'hash-compaction', 'bitstate'];

/**
 * `n` symmetric counters (0..3) and their total (0..top, wrapping); `Bump` raises one, `Reset`
 * takes a full one back to 0 when the total is even. Two states are one symmetry class exactly
 * when their counters are the same multiset and their totals are equal.
 */
export function counters(n: number, top: number, bad: number) {
  const model = buildModel(
    defineProtocol({
      name: 'search-counters',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', n, { symmetric: true });
        const cnt = b.v('cnt', arrayOf(P, range(0, 3)));
        const total = b.v('total', range(0, top));
        b.init('cold', () => []);
        b.init('warm', () => [assign(total, 1)]);
        b.rule('Bump', { p: P }, ({ p }) => ({
          guard: lt(cnt.at(p as never), 3),
          body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1)), assign(total, ite(lt(total, top), add(total, 1), 0))],
        }));
        b.rule('Reset', { p: P }, ({ p }) => ({
          guard: and(eq(cnt.at(p as never), 3), or(eq(total, 0), eq(total, 2), eq(total, 4), eq(total, 6))),
          body: [assign(cnt.at(p as never), 0)],
        }));
        b.endState(() => le(total, top));
        return { P, cnt, total };
      },
    }),
  );
  const h = model.handles;
  const P = h.P;
  const properties: Property[] = [
    cover(
      'one-full',
      'C-2',
      '',
      exists(P, (p) => and(eq(h.cnt.at(p as never), 3), eq(h.total, 3))),
    ),
  ];
  if (bad >= 0) properties.unshift(invariant('total-not', 'I-3', '', ne(h.total, bad)));
  const key = (s: Int32Array) => `${Array.from(s.subarray(0, n)).sort().join()};${s[n]}`;
  return { model, properties, key };
}

/**
 * Two counters a and b, 0..40 (1681 states, 3280 transitions; start states a = 0 and a = 7: the
 * deepest state, (40, 40), at depth 73); with `start`, the second start state sets a to it (out of
 * range past 40: a model error); with `null`, there is no second start state (depth 80). `wide`
 * adds two slots no rule writes (21 bits each), so that a state takes three words (a and b in the
 * first, each added slot in a word of its own).
 */
export function grid(start: number | null = 7, opts: { wide?: boolean } = {}) {
  const model = buildModel(
    defineProtocol({
      name: opts.wide ? 'search-grid-wide' : 'search-grid',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const a = b.v('a', range(0, 40));
        const c = b.v('b', range(0, 40));
        if (opts.wide) b.v('pad', arrayOf(b.index('P', 2), range(0, 2 ** 21 - 1)));
        b.init('zero', () => []);
        if (start !== null) b.init('start', () => [assign(a, add(a, start))]);
        b.rule('IncA', {}, () => ({ guard: lt(a, 40), body: [assign(a, add(a, 1))] }));
        b.rule('IncB', {}, () => ({ guard: lt(c, 40), body: [assign(c, add(c, 1))] }));
        b.endState(() => eq(a, 40));
        return { a, b: c };
      },
    }),
  );
  return { model };
}

/** Three counters, 0..top each, one rule bumping each (top 9: 1,000 states; levels of up to 75 states, 0 to 27 steps deep); the handle `x` names the first. */
export function cube(top = 9) {
  return buildModel(
    defineProtocol({
      name: 'search-cube',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const [x, y, z] = ['x', 'y', 'z'].map((n) => b.v(n, range(0, top))) as [Ref, Ref, Ref];
        b.init('zero', () => []);
        for (const [i, v] of [x, y, z].entries()) b.rule(`Inc${i}`, {}, () => ({ guard: lt(v, top), body: [assign(v, add(v, 1))] }));
        return { x };
      },
    }),
  );
}
