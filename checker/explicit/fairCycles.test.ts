import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { type Expr, eq, ite, lit, or } from '../../model/lang/expr.js';
import { type Fairness, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Liveness, alwaysEventually, eventually, leadsTo } from '../../properties/property.js';
import { livenessCheck } from './liveness.js';

/** A random labelled graph: states 0..n-1 (start 0), rules as partial maps with a fairness each. */
interface RandomGraph {
  readonly n: number;
  readonly rules: readonly { readonly map: readonly (number | null)[]; readonly fairness: Fairness }[];
  readonly p: readonly boolean[];
  readonly q: readonly boolean[];
}

const graphArb: fc.Arbitrary<RandomGraph> = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    rules: fc.array(
      fc.record({
        map: fc.array(fc.option(fc.integer({ min: 0, max: n - 1 }), { freq: 2 }), { minLength: n, maxLength: n }),
        fairness: fc.constantFrom<Fairness>('none', 'weak', 'strong'),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    p: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    q: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
  }),
);

function modelOf(g: RandomGraph) {
  const def = defineProtocol({
    name: 'random-graph',
    summary: 'random graph',
    spec: '-',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, g.n - 1));
      b.init('zero', () => []);
      g.rules.forEach((r, j) => {
        const dom = r.map.map((t, a) => (t === null ? -1 : a)).filter((a) => a >= 0);
        if (dom.length === 0) return;
        let val: Expr = lit(r.map[dom[dom.length - 1] as number] as number);
        for (const a of dom.slice(0, -1).reverse()) val = ite(eq(x, a), r.map[a] as number, val);
        b.rule(`R${j}`, {}, () => ({ guard: or(...dom.map((a) => eq(x, a)), false), body: [assign(x, val)] }), { fairness: r.fairness });
      });
      return { x };
    },
  });
  return buildModel(def);
}

const setOf = (x: Expr, bits: readonly boolean[]): Expr => or(...bits.map((b, a) => (b ? eq(x, a) : null)).filter((e): e is Expr => e !== null), false);

/**
 * The oracle: a fair run avoiding q from a seed exists iff the region (states reachable from a seed
 * through non-q states) holds a state with no successor, or a set S of region states, reachable
 * from a seed inside the region, strongly connected through its internal edges (at least one),
 * such that the cycle using all internal edges is fair. Brute force over every subset S.
 */
function oracle(g: RandomGraph, form: Liveness['form']): boolean {
  const edges: { from: number; to: number; rule: number }[] = [];
  g.rules.forEach((r, j) => {
    r.map.forEach((t, a) => {
      if (t !== null) edges.push({ from: a, to: t, rule: j });
    });
  });
  const reach = new Set([0]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of edges)
      if (reach.has(e.from) && !reach.has(e.to)) {
        reach.add(e.to);
        changed = true;
      }
  }
  const seeds = [...reach].filter((v) => !g.q[v] && (form === 'eventually' ? v === 0 : form === 'leadsTo' ? g.p[v] : true));
  const region = new Set(seeds);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of edges)
      if (region.has(e.from) && !region.has(e.to) && !g.q[e.to]) {
        region.add(e.to);
        changed = true;
      }
  }
  if ([...region].some((v) => !edges.some((e) => e.from === v))) return true;
  const rs = [...region];
  for (let mask = 1; mask < 1 << rs.length; mask++) {
    const S = rs.filter((_, i) => mask & (1 << i));
    const inS = new Set(S);
    const internal = edges.filter((e) => inS.has(e.from) && inS.has(e.to));
    if (internal.length === 0) continue;
    const reachIn = (from: number) => {
      const seen = new Set([from]);
      for (let changed = true; changed; ) {
        changed = false;
        for (const e of internal)
          if (seen.has(e.from) && !seen.has(e.to)) {
            seen.add(e.to);
            changed = true;
          }
      }
      return seen;
    };
    if (!S.every((a) => S.every((b) => reachIn(a).has(b)))) continue;
    const fair = g.rules.every((r, j) => {
      if (r.fairness === 'none' || internal.some((e) => e.rule === j)) return true;
      const en = S.map((v) => r.map[v] !== null);
      return r.fairness === 'weak' ? en.some((x) => !x) : en.every((x) => !x);
    });
    if (fair) return true;
  }
  return false;
}

describe('fair-cycle search agrees with a brute-force oracle on random graphs', () => {
  it('same verdict for eventually, leadsTo and alwaysEventually; every lasso replays', () => {
    fc.assert(
      fc.property(graphArb, (g) => {
        const model = modelOf(g);
        const x = model.handles.x;
        const props: Liveness[] = [
          eventually('ev', 'T', 't', setOf(x as never, g.q)),
          leadsTo('lt', 'T', 't', setOf(x as never, g.p), setOf(x as never, g.q)),
          alwaysEventually('ae', 'T', 't', setOf(x as never, g.q)),
        ];
        const r = livenessCheck({ model, properties: props, limits: {} });
        expect(r.status === 'ok' || r.status === 'violated').toBe(true);
        const violated = new Set(r.status === 'violated' ? r.violations.map((v) => v.property) : []);
        for (const p of props) expect([p.name, violated.has(p.name)]).toEqual([p.name, oracle(g, p.form)]);
        if (r.status === 'violated') {
          for (const v of r.violations) {
            const chk = checkLasso(model, v.trace as Trace, props.find((p) => p.name === v.property) as Liveness);
            expect(chk).toMatchObject({ ok: true });
          }
        }
      }),
      { numRuns: 1500, seed: 20261128 },
    );
  });
});
