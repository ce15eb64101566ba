/**
 * The liveness graph (graph.ts) against the independent walk of test/searchWalk.ts, on random small
 * protocols: the graph has the walk's states in the walk's order (ids), each state's edges in
 * rule-instance order with the walk's targets and labels, the levels, depths and deepest level; the
 * BFS path to every state is a path of the walk's first-found edges as long as the state's depth,
 * from the start state its init names; every edge's source is found from its index. With state and
 * depth limits the graph holds what was explored, and a model error drops the failing state's
 * edges and names it. The arrays are made at a size hint or grow past it without losing an entry,
 * and the memory figures say what the graph holds (the store without its index, the CSR arrays in
 * the narrowest label array) and that building it held more. Under symmetry reduction the graph has
 * one state per class; the asynchronous build stops when asked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, eq, lt } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import { MiB, countingLimit } from '../../test/countingLimit.js';
import { type Walked, build, cube, planArb, walk } from '../../test/searchWalk.js';
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

/** A random-protocol plan whose four rules are always enabled: 288 states, 8 edges each (2304 edges). */
function everyRuleEnabled(): Model {
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
  return build(plan).model;
}

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
    const model = everyRuleEnabled();
    const w = walk(model, [], false, 'bfs', {});
    expect([w.states, w.edges.length]).toEqual([288, 2304]);
    const peaks: number[] = [];
    for (const hint of [null, { states: 1, edges: 1 }, { states: w.states, edges: w.edges.length }]) {
      const t0 = Date.now();
      const b = buildGraph(model, {}, {}, false, hint);
      const wall = Date.now() - t0;
      expectGraph(model, b, w, hint);
      const g = b.graph;
      // What the graph holds: the packed states (the hash index dropped) and the CSR arrays, a byte a label below 256 instances.
      expect([hint, g.labels.BYTES_PER_ELEMENT, g.bytes]).toEqual([
        hint,
        1,
        g.store.bytes() + g.offsets.byteLength + g.targets.byteLength + g.labels.byteLength,
      ]);
      // While building, the store still had its hash index: the peak is above what is held at the end.
      expect([hint, g.buildPeakBytes > g.bytes, b.elapsedMs >= 0 && b.elapsedMs <= wall]).toEqual([hint, true, true]);
      peaks.push(g.buildPeakBytes);
    }
    // Arrays grown past a hint that is too small held the old and the new array at once: a higher peak than with the exact hint.
    expect(peaks[1]).toBeGreaterThan(peaks[2] as number);
    expectGraph(model, await buildGraphAsync(model, {}, {}, () => null), w, 'async');
  });

  it('a graph that would pass its most transitions ends incomplete, naming them, with every edge of the states expanded before and none of the state it was expanding (also built asynchronously)', async () => {
    // 288 states, 8 edges each: 125 states fill 1,000 edges, and the 126th (id 125) is refused its first (1,000) or its fifth (1,004).
    const model = everyRuleEnabled();
    for (const maxEdges of [1000, 1004]) {
      for (const b of [
        buildGraph(model, {}, {}, false, null, false, undefined, maxEdges),
        await buildGraphAsync(model, {}, {}, () => null, false, null, false, undefined, maxEdges),
      ]) {
        const g = b.graph;
        const degrees = Array.from({ length: 126 }, (_, v) => (g.offsets[v + 1] as number) - (g.offsets[v] as number));
        expect([
          maxEdges,
          b.status,
          b.status === 'incomplete' ? b.reason : '',
          g.targets.length,
          degrees.slice(0, 125).every((d) => d === 8),
          degrees[125],
        ]).toEqual([
          maxEdges,
          'incomplete',
          `the liveness graph is full at ${g.n} states: it holds at most ${maxEdges} transitions (the fair-cycle search numbers them in 31 bits)`,
          1000,
          true,
          0,
        ]);
      }
    }
    // At exactly the bound: 2,304 transitions fit in a graph of at most 2,304; one fewer leaves out the last state's.
    const exact = buildGraph(model, {}, {}, false, null, false, undefined, 2304);
    const short = buildGraph(model, {}, {}, false, null, false, undefined, 2303);
    expect([exact.status, exact.graph.targets.length, short.status, short.graph.targets.length]).toEqual(['complete', 2304, 'incomplete', 2296]);
  });

  it('edges written inside their reservation ask the memory limit for each MiB before writing it (their pages are mapped as they are written), not for the whole reservation: refused, the build ends incomplete, every state with all its edges or none', () => {
    // The cube of 50^3 states, 367,500 edges: with the exact size as the hint no array grows past its reservation, yet the
    // targets (1.4 MiB) ask twice and the other arrays once each.
    const model = cube(49);
    const hint = { states: 125_000, edges: 367_500 };
    const total = countingLimit(2 ** 50);
    expect(buildGraph(model, {}, {}, false, hint, false, total).status).toBe('complete');
    const reasons = new Set<string>();
    const edgeAsks = new Set<string>();
    for (let k = 1; k < total.asked; k++) {
      const b = buildGraph(model, {}, {}, false, hint, false, countingLimit(k * MiB - 1));
      if (b.status !== 'incomplete') continue;
      const [, needed, what] = /([\d.]+ MiB) more needed for ([^)]*)\)/.exec(b.reason) ?? [b.reason, '', b.reason];
      reasons.add(what as string);
      if (what === "the liveness graph's edges") edgeAsks.add(needed as string);
      const { offsets, n } = b.graph;
      const degrees = Array.from({ length: n }, (_, v) => (offsets[v + 1] as number) - (offsets[v] as number));
      const expanded = degrees.indexOf(0);
      const full = (v: number) => Array.from(graphState(b.graph, v)).filter((c) => c < 49).length;
      // States are expanded in id order: the first ones have all their edges, the rest none.
      const wrong = degrees.filter((d, v) => (expanded < 0 || v < expanded ? d !== full(v) : d !== 0)).length;
      expect([k, wrong]).toEqual([k, 0]);
    }
    expect([...reasons].sort()).toEqual(["the liveness graph's edges", 'the states']);
    // What the edges ask for: the offsets' 0.5 MiB (125,001 of 4 bytes), the targets' first MiB and their last 0.4.
    expect([...edgeAsks].sort()).toEqual(['0.4 MiB', '0.5 MiB', '1.0 MiB']);
    // A MiB ahead, not the whole reservation: without a hint the targets reserve 2^27 entries (512 MiB, untouched), and a
    // limit of 64 MiB with nothing else in use still lets the whole graph (about 4 MiB) be built.
    const roomy = { bytes: 64 * MiB, inUse: () => 0 };
    expect(buildGraph(model, {}, {}, false, null, false, roomy).status).toBe('complete');
    // Past a reservation (a hint of 1,000 edges: 1,024 entries), the array twice as large is asked for whole: 8 KiB for the
    // targets. A limit that refuses any ask over 8 KiB - 1 stops the build there; one over 8 KiB lets it pass (to the next growth).
    const upTo = (bytes: number) => ({ bytes: 64 * MiB, inUse: () => 64 * MiB - bytes });
    const small = { states: 10, edges: 1000 };
    const stopped = buildGraph(model, {}, {}, false, small, false, upTo(8 * 1024 - 1));
    // (The state being expanded at the 1,025th edge keeps none of its edges: 1,023 remain.)
    expect([stopped.status, stopped.status === 'incomplete' ? stopped.reason : '', stopped.graph.targets.length]).toEqual([
      'incomplete',
      "the liveness graph is full at 431 states: the memory limit of 64.0 MiB is reached (64.0 MiB in use, 0.0 MiB more needed for the liveness graph's edges); a higher --max-memory goes further",
      1023,
    ]);
    expect(buildGraph(model, {}, {}, false, small, false, upTo(8 * 1024)).graph.targets.length).toBeGreaterThan(2000);
  });

  it('under symmetry reduction: one state per class of the walk, the edges of each class, and a start state that is not canonical names its init; the asynchronous build is without symmetry unless asked', async () => {
    // Three symmetric counters starting at (0, 2, 1), sorted neither way: the stored start state is another arrangement.
    const model = buildModel(
      defineProtocol({
        name: 'graph-mixed',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 3, { symmetric: true });
          const cnt = b.v('cnt', arrayOf(P, range(0, 2)));
          b.init('mixed', () => [assign(cnt.at(1 as never), 2), assign(cnt.at(2 as never), 1)]);
          b.rule('Bump', { p: P }, ({ p }) => ({ guard: lt(cnt.at(p as never), 2), body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1))] }));
          b.rule('Drop', { p: P }, ({ p }) => ({ guard: lt(0, cnt.at(p as never)), body: [assign(cnt.at(p as never), 0)] }));
          return { cnt };
        },
      }),
    );
    const classes = walk(model, [], false, 'bfs', {}, (s) => Array.from(s).sort().join());
    const full = walk(model, [], false, 'bfs', {});
    const b = buildGraph(model, {}, {}, true);
    expect([b.status, b.graph.n, b.graph.m, b.graph.nInit, initVia(b.graph, 0)]).toEqual(['complete', classes.states, classes.edges.length, 1, 0]);
    expect(b.graph.n).toBeLessThan(full.states);
    const plain = await buildGraphAsync(model, {}, {}, () => null);
    expect([plain.graph.n, plain.graph.m, plain.graph.canon]).toEqual([full.states, full.edges.length, null]);
    // No permutations kept unless asked (sync and async); asked, one a edge, counted in what the graph holds.
    const symAsync = await buildGraphAsync(model, {}, {}, () => null, true);
    expect([b.graph.ann, b.graph.perms.length, symAsync.graph.n, symAsync.graph.ann]).toEqual([null, 0, classes.states, null]);
    const ann = buildGraph(model, {}, {}, true, null, true).graph;
    const annAsync = (await buildGraphAsync(model, {}, {}, () => null, true, null, true)).graph;
    for (const g of [ann, annAsync]) {
      // A byte a permutation id: the group of three counters has 6 permutations.
      expect([g.n, g.ann?.length, g.perms.length > 0, g.ann?.BYTES_PER_ELEMENT]).toEqual([classes.states, classes.edges.length, true, 1]);
      expect(g.bytes).toBe(g.store.bytes() + g.offsets.byteLength + g.targets.byteLength + g.labels.byteLength + (g.ann?.byteLength ?? 0));
    }
    expect(ann.bytes).toBeGreaterThan(b.graph.bytes);
  });

  it('the asynchronous build stops when asked (an interrupt): incomplete, with the reason given, the graph holding what was explored', async () => {
    // Two counters to 40: 1681 states, more than the 1024 expansions between two ticks.
    const model = buildModel(
      defineProtocol({
        name: 'graph-grid',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 40));
          const y = b.v('y', range(0, 40));
          b.init('zero', () => []);
          b.rule('X', {}, () => ({ guard: lt(x, 40), body: [assign(x, add(x, 1))] }));
          b.rule('Y', {}, () => ({ guard: lt(y, 40), body: [assign(y, add(y, 1))] }));
          return { x };
        },
      }),
    );
    let asked = 0;
    const b = await buildGraphAsync(model, {}, {}, () => (++asked > 0 ? 'interrupted (test)' : null));
    expect([b.status, b.status === 'incomplete' && b.reason, asked > 0, b.graph.n < 1681]).toEqual(['incomplete', 'interrupted (test)', true, true]);
    expect((await buildGraphAsync(model, {}, {}, () => null)).graph.n).toBe(1681);
  });

  it('rule instances past 255: every edge keeps its instance (the labels are wide enough), as the walk lists them; start states that differ in a later word only name their own init', () => {
    // One rule over 300 processes: from a start state, Pick(p) marks p; 601 states, 600 edges labelled 0..299.
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
          // Packed in ten words, the first of them equal to zero's: the start states differ in a later word only.
          b.init('last', () => [assign(picked.at(299 as never), 1)]);
          b.rule('Pick', { p: P }, ({ p }) => ({ guard: eq(done, 0), body: [assign(picked.at(p as never), 1), assign(done, 1)] }));
          return { picked };
        },
      }),
    );
    const w = walk(model, [], false, 'bfs', {});
    expect([w.states, w.edges.length, Math.max(...w.edges.map((e) => e.k))]).toEqual([601, 600, 299]);
    const b = buildGraph(model, {});
    expectGraph(model, b, w, 'wide');
    // The narrowest array that holds every instance: two bytes a label here.
    expect(b.graph.labels.BYTES_PER_ELEMENT).toBe(2);
  });

  it('a start state that raises a model error: the build ends with that error (MC011) at no stored state (-1), with no edges', () => {
    const model = buildModel(
      defineProtocol({
        name: 'graph-bad-start',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 3));
          b.init('fine', () => []);
          // 3 + 3 does not fit in 0..3: a range-checked assignment fails in the start state.
          b.init('overflow', () => [assign(x, 3), assign(x, add(x, 3))]);
          b.rule('Up', {}, () => ({ guard: lt(x, 3), body: [assign(x, add(x, 1))] }));
          return { x };
        },
      }),
    );
    const b = buildGraph(model, {});
    expect([b.status, b.status === 'error' && b.error.code, b.status === 'error' && b.at, b.graph.m]).toEqual(['error', 'MC011', -1, 0]);
  });

  it('label width at its boundary: a byte a label up to 256 rule instances (labels 0..255), two bytes from 257; every edge keeps its instance', () => {
    const picks = (n: number) =>
      buildModel(
        defineProtocol({
          name: `graph-picks-${n}`,
          summary: '',
          spec: '',
          params: {},
          variants: [],
          build(b) {
            const P = b.index('P', n);
            const picked = b.v('picked', arrayOf(P, range(0, 1)));
            const done = b.v('done', range(0, 1));
            b.init('zero', () => []);
            b.rule('Pick', { p: P }, ({ p }) => ({ guard: eq(done, 0), body: [assign(picked.at(p as never), 1), assign(done, 1)] }));
            return { picked };
          },
        }),
      );
    for (const [n, width] of [
      [256, 1],
      [257, 2],
    ] as const) {
      const model = picks(n);
      const w = walk(model, [], false, 'bfs', {});
      expect([n, w.edges.length, Math.max(...w.edges.map((e) => e.k))]).toEqual([n, n, n - 1]);
      const b = buildGraph(model, {});
      expectGraph(model, b, w, n);
      expect([n, b.graph.labels.BYTES_PER_ELEMENT]).toEqual([n, width]);
    }
  });

  it("the build peak of an annotated build counts the permutation ids: with the targets grown twice, exactly the targets' growth more than with the exact reservation", () => {
    // Four symmetric counters to 8, bumped or dropped: the quotient has one state per multiset of four values. Every
    // edge's permutation id takes a byte (24 permutations). With the edges reserved at the smallest size (1024
    // entries) the targets grow to 2048 and then 4096 entries; the second growth holds 8 KiB and 16 KiB at once.
    const model = buildModel(
      defineProtocol({
        name: 'graph-annotated-peak',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 4, { symmetric: true });
          const cnt = b.v('cnt', arrayOf(P, range(0, 8)));
          b.init('zero', () => []);
          b.rule('Bump', { p: P }, ({ p }) => ({ guard: lt(cnt.at(p as never), 8), body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1))] }));
          b.rule('Drop', { p: P }, ({ p }) => ({ guard: lt(0, cnt.at(p as never)), body: [assign(cnt.at(p as never), 0)] }));
          return { cnt };
        },
      }),
    );
    const classes = walk(model, [], false, 'bfs', {}, (s) => Array.from(s).sort().join());
    const m = classes.edges.length;
    const grown = buildGraph(model, {}, {}, true, { states: 1, edges: 1 }, true).graph;
    const exact = buildGraph(model, {}, {}, true, { states: 1, edges: m }, true).graph;
    expect([grown.m, exact.m, grown.ann?.BYTES_PER_ELEMENT, m > 2048 && m <= 4096]).toEqual([m, m, 1, true]);
    expect(grown.bytes).toBe(exact.bytes);
    // At the second growth the targets hold 2 * 2048 * 4 bytes where the exact build holds 4 * m at most; everything
    // else (offsets, labels, permutation ids, the store) is counted at its final size in both.
    expect(grown.buildPeakBytes - exact.buildPeakBytes).toBe(2 * 2048 * 4 - 4 * m);
    // Without growth the peak is the end of the search: the graph's arrays as they end, the state words and the hash
    // index, the smallest table (2^16 slots of 4 bytes: 495 states), where the finished graph holds a 4-byte stub of
    // it and one more offset (the end of the last state's edges, written when the arrays are closed).
    expect([exact.n, exact.buildPeakBytes - exact.bytes]).toEqual([495, 4 * 2 ** 16 - 4 - 4]);
  });

  it('the build peak: arrays grown past a reservation count the old and the new array at once (exactly), and a stopped build peaks at least at what it holds', () => {
    // 288 states, 8 edges each (2304 edges). The same state hint (the same store), the edges reserved at the smallest
    // size (1024 entries, grown twice) or at the exact count. Growing the targets from 2048 to 4096 entries holds 8 KiB
    // and 16 KiB at once; the peak is then that, the labels (2304 bytes) and the offsets, against the final targets
    // (9216 bytes), labels and offsets without growth: 16384 + 2304 - 9216 - 2304 = 7168 bytes more.
    const model = everyRuleEnabled();
    const grown = buildGraph(model, {}, {}, false, { states: 1, edges: 1 }).graph;
    const exact = buildGraph(model, {}, {}, false, { states: 1, edges: 2304 }).graph;
    expect([grown.m, exact.m, grown.bytes, grown.buildPeakBytes - exact.buildPeakBytes]).toEqual([2304, 2304, exact.bytes, 7168]);
    // A build stopped by a depth limit keeps the store's index and has offsets for states it never expanded.
    for (const depth of [1, 2, 3]) {
      const stopped = buildGraph(model, { depth }, {}, false, { states: 288, edges: 2304 });
      expect([depth, stopped.status, stopped.graph.buildPeakBytes >= stopped.graph.bytes]).toEqual([depth, 'incomplete', true]);
    }
  });
});
