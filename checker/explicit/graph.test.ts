/**
 * The liveness graph (graph.ts) against the independent walk of test/searchWalk.ts, on random small
 * protocols: the graph has the walk's states in the walk's order (ids), each state's edges in
 * rule-instance order with the walk's targets and labels, the levels, depths and deepest level; the
 * BFS path to every state is a path of the walk's first-found edges as long as the state's depth,
 * from the start state its init names; every edge's source is found from its index. With state and
 * depth limits the graph holds what was explored, and a model error drops the failing state's
 * edges and names it. The arrays are made at a size hint or grow past it without losing an entry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eq } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import { type Walked, build, planArb, walk } from '../../test/searchWalk.js';
import type { Limits } from '../engine.js';
import { type GraphBuild, type StateGraph, buildGraph, buildGraphAsync, graphPath, graphState, initVia, sourceOf } from './graph.js';

/** The graph's edges as the walk lists them. */
function edgesOf(g: StateGraph): Walked['edges'] {
  const out: Walked['edges'] = [];
  for (let v = 0; v < g.n; v++)
    for (let j = g.offsets[v] as number; j < (g.offsets[v + 1] as number); j++) out.push({ from: v, to: g.targets[j] as number, k: g.labels[j] as number });
  return out;
}

/** Compares a graph build with the walk (no properties, no deadlocks) under `limits`. */
function expectGraph(model: Model, b: GraphBuild, w: Walked, what: unknown): void {
  const g = b.graph;
  const levels: number[] = [];
  w.order.forEach((o, id) => {
    if (levels.length === o.d) levels.push(id);
  });
  levels.push(w.order.length);
  expect({
    what,
    status: b.status,
    n: g.n,
    m: g.m,
    states: Array.from({ length: g.n }, (_, v) => Array.from(graphState(g, v)).join()),
    edges: edgesOf(g),
    // A complete search ends with the empty level after the last: its start is n again.
    levels: g.levelStarts.filter((x, i) => i === 0 || x !== g.levelStarts[i - 1]),
    depths: Array.from(g.depth),
    maxDepth: g.maxDepth,
    nInit: g.nInit,
    offsets: g.offsets.length,
  }).toEqual({
    what,
    status: w.end === 'complete' ? 'complete' : w.end === 'limit' ? 'incomplete' : 'error',
    n: w.states,
    m: w.edges.length,
    states: w.order.map((o) => Array.from(o.s).join()),
    edges: w.edges,
    levels,
    depths: w.order.map((o) => o.d),
    maxDepth: w.maxDepth,
    nInit: w.order.filter((o) => o.d === 0).length,
    offsets: w.states + 1,
  });
  if (b.status === 'error') expect([b.at, b.error.code]).toEqual([w.order.findIndex((o) => o.s.join() === w.found?.state.join()), 'MC011']);
  if (b.status === 'incomplete') expect(b.reason).toMatch(/^(state limit|depth limit)/);
  // Paths: the edge by which each state was first found, back to a start state.
  const firstIn = new Map<number, number>();
  for (const e of w.edges) if (!firstIn.has(e.to) && e.to >= g.nInit) firstIn.set(e.to, e.from);
  for (let v = 0; v < g.n; v++) {
    if (w.edges.every((e) => e.to !== v) && v >= g.nInit) continue;
    const p = graphPath(g, v, v % 2 ? new Uint32Array(g.n + 1) : null);
    const sources = p.edges.map((j) => sourceOf(g, j));
    const targets = p.edges.map((j) => g.targets[j] as number);
    expect([v, p.edges.length, sources[0] ?? v, targets.at(-1) ?? v]).toEqual([v, w.order[v]?.d, p.root, v]);
    expect(sources.slice(1)).toEqual(targets.slice(0, -1));
    for (const t of targets) expect([t, sourceOf(g, p.edges[targets.indexOf(t)] as number)]).toEqual([t, firstIn.get(t)]);
    expect(p.root).toBeLessThan(g.nInit);
  }
  for (let j = 0; j < g.m; j++) expect([j, sourceOf(g, j)]).toEqual([j, w.edges[j]?.from]);
  // The init of each start state: the first whose state it is.
  const starts = model.inits.map((_, i) => startKey(model, i));
  for (let r = 0; r < g.nInit; r++) expect([r, initVia(g, r)]).toEqual([r, starts.indexOf(w.order[r]?.s.join())]);
}

/** The start state of init `i`, as the walk keys it. */
const startKey = (model: Model, i: number) =>
  walk({ ...model, inits: [model.inits[i] as Model['inits'][number]] }, [], false, 'bfs', { depth: 0 }).order[0]?.s.join();

describe('the liveness graph against the independent walk', () => {
  it('random protocols: the walk states in its order, edges in rule-instance order, levels, depths, paths, sources and inits', () => {
    fc.assert(
      fc.property(planArb(false), (plan) => {
        const { model } = build(plan);
        expectGraph(model, buildGraph(model, {}), walk(model, [], false, 'bfs', {}), 'whole');
      }),
      { numRuns: 40, seed: 4301 },
    );
  });

  it('state and depth limits: the graph holds the states explored and their edges, the last states without edges', () => {
    fc.assert(
      fc.property(planArb(false), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 5 }), (plan, maxStates, depth) => {
        const { model } = build(plan);
        for (const limits of [{ maxStates }, { depth }] as Limits[])
          expectGraph(model, buildGraph(model, limits), walk(model, [], false, 'bfs', limits), limits);
      }),
      { numRuns: 40, seed: 4302 },
    );
  });

  it('model errors: the graph names the failing state and drops the edges its expansion had made', () => {
    let errors = 0;
    fc.assert(
      fc.property(planArb(true), (plan) => {
        const { model } = build(plan);
        const w = walk(model, [], false, 'bfs', {});
        if (w.found?.kind === 'error') errors++;
        expectGraph(model, buildGraph(model, {}), w, 'errors');
      }),
      { numRuns: 40, seed: 4303 },
    );
    expect(errors).toBeGreaterThan(10);
  });

  it('a size hint too small, exact, or none, and the asynchronous build: the same graph (arrays grown past the hint keep every entry)', async () => {
    // Every rule always enabled: 288 states, 8 edges each (2304, past the smallest reservation of 1024 entries).
    const always = (k: 'a+' | 'b+' | 'x+' | 'flip') => ({ guard: [], body: [{ k }] });
    const plan = {
      rules: [always('a+'), always('b+'), always('x+'), always('flip')],
      inv: null,
      inv2: false,
      step: null,
      coverA: 0,
      endOk: true,
      deadlock: false,
    };
    const { model } = build(plan);
    const w = walk(model, [], false, 'bfs', {});
    expect([w.states, w.edges.length]).toEqual([288, 2304]);
    for (const hint of [null, { states: 1, edges: 1 }, { states: w.states, edges: w.edges.length }])
      expectGraph(model, buildGraph(model, {}, {}, false, hint), w, hint);
    expectGraph(model, await buildGraphAsync(model, {}, {}, () => null), w, 'async');
  });

  it('rule instances past 255: every edge keeps its instance (the labels are wide enough), as the walk lists them', () => {
    // One rule over 300 processes: from the start state, Pick(p) marks p; 301 states, 300 edges labelled 0..299.
    const model = buildModel(
      defineProtocol({
        name: 'graph-wide',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 300);
          const picked = b.v('picked', arrayOf(P, range(0, 1)));
          const done = b.v('done', range(0, 1));
          b.init('zero', () => []);
          b.rule('Pick', { p: P }, ({ p }) => ({ guard: eq(done, 0), body: [assign(picked.at(p as never), 1), assign(done, 1)] }));
          return { picked };
        },
      }),
    );
    const w = walk(model, [], false, 'bfs', {});
    expect([w.states, w.edges.length, Math.max(...w.edges.map((e) => e.k))]).toEqual([301, 300, 299]);
    expectGraph(model, buildGraph(model, {}), w, 'wide');
  });
});
