/**
 * Progress reports and statistics, with the clock replaced by one that advances exactly one second
 * each time an engine reads it, so that what an engine reports, and when, is deterministic: at most
 * one report per second of its clock, with figures that agree with the final statistics.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { and, eq } from '../../model/lang/expr.js';
import { eventually } from '../../properties/property.js';
import type { Progress } from '../engine.js';
import { randomCheck } from '../random/random.js';
import { bmcCheck } from '../smt/bmc.js';
import { shutdownSmt } from '../smt/z3Host.js';
import { grid } from '../../test/searchWalk.js';
import { explicitCheck } from './explicit.js';
import { buildGraph } from './graph.js';
import { explicitCheckWithLiveness } from './liveness.js';

afterAll(async () => {
  await shutdownSmt();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** a and b count to 40 (test/searchWalk.ts, one start state): 1681 states, 3280 transitions, depth 80. */
const { model } = grid(null);

/** Replaces Date.now by a clock that advances one second per read. */
function tickingClock(): void {
  let t = 1_000_000;
  vi.spyOn(Date, 'now').mockImplementation(() => {
    t += 1000;
    return t;
  });
}

describe('explicit engine', () => {
  it('BFS: one report per 1024 expansions when a second has passed; the final statistics', () => {
    tickingClock();
    const seen: Progress[] = [];
    const r = explicitCheck({ model, properties: [], limits: {} }, { onProgress: (p) => seen.push(p) });
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([1681, 3280, 80]);
    expect(seen).toHaveLength(1);
    const p = seen[0]!;
    // After 1024 expansions (ids 0..1023): the queue is what is stored and not yet expanded.
    expect(p.queue).toBe(p.distinct - 1024);
    expect(p.elapsedMs).toBe(1000);
    expect(p.statesPerSec).toBe(p.distinct);
    expect(p.generated).toBeGreaterThanOrEqual(p.distinct - 1);
    expect(p.depth).toBeGreaterThan(0);
    expect(p.depth).toBeLessThan(80);
    // Two clock reads after the start: the report and the statistics.
    expect(r.stats.elapsedMs).toBe(2000);
    expect(r.stats.statesPerSec).toBe(Math.round((1681 * 1000) / 2000));
    expect(r.stats.storeBytes).toBeGreaterThan(1681 * 4);
    // 1,681 states are fewer than the store preallocates: no per-state figure is reported.
    expect(r.stats.bytesPerState).toBeNull();
  });

  it('DFS reports its stack as the queue', () => {
    tickingClock();
    const seen: Progress[] = [];
    explicitCheck({ model, properties: [], limits: {}, strategy: 'dfs' }, { onProgress: (p) => seen.push(p) });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.queue).toBeGreaterThan(0);
    expect(seen[0]!.queue).toBeLessThan(seen[0]!.distinct);
  });

  it('no hook, no report; an instant run reports its states per second as if it took a millisecond', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => 5);
    const r = explicitCheck({ model, properties: [], limits: {} });
    expect([r.stats.elapsedMs, r.stats.statesPerSec]).toEqual([0, 1681 * 1000]);
  });
});

describe('liveness graph', () => {
  it('reports every 1024 expansions when a second has passed (the walk of the safety search), and adds the safety and liveness times', () => {
    tickingClock();
    const seen: Progress[] = [];
    const g = buildGraph(model, {}, { onProgress: (p) => seen.push(p) });
    expect(g.status).toBe('complete');
    // The graph is built by the same walk as the safety search: one report, after 1024 expansions.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.queue).toBe(seen[0]!.distinct - 1024);
    expect(seen[0]!.elapsedMs).toBe(1000);
    expect(seen[0]!.statesPerSec).toBe(seen[0]!.distinct);
    const r = explicitCheckWithLiveness({
      model,
      properties: [eventually('a-first', 'G-1', 'a reaches 40 while b is 0 (no: b may move first)', and(eq(model.handles.a, 40), eq(model.handles.b, 0)))],
      limits: {},
    });
    expect(r.status).toBe('violated');
    expect(r.stats.states).toBe(1681);
    expect(r.stats.elapsedMs).toBeGreaterThanOrEqual(2000);
  });
});

describe('explicit engine with liveness: phases', () => {
  it('labels each report with its phase: safety search, then liveness graph, then fair cycles once with the whole graph', () => {
    tickingClock();
    const seen: Progress[] = [];
    const r = explicitCheckWithLiveness(
      {
        model,
        properties: [eventually('a-first', 'G-1', 'a reaches 40 while b is 0 (no: b may move first)', and(eq(model.handles.a, 40), eq(model.handles.b, 0)))],
        limits: {},
      },
      { onProgress: (p) => seen.push(p) },
    );
    expect(r.status).toBe('violated');
    const phases = seen.map((p) => p.phase);
    // Phases come in order, each at least once, none after a later one.
    const order = ['safety search', 'liveness graph', 'fair cycles'];
    expect([...new Set(phases)]).toEqual(order);
    expect(phases.map((p) => order.indexOf(p as string))).toEqual([...phases.map((p) => order.indexOf(p as string))].sort((x, y) => x - y));
    const fair = seen.filter((p) => p.phase === 'fair cycles');
    expect(fair).toHaveLength(1);
    expect([fair[0]!.distinct, fair[0]!.generated]).toEqual([1681, 3280]);
  });
});

describe('random engine', () => {
  it('reports every 64 runs when a second has passed, with its steps as states', () => {
    tickingClock();
    const seen: Progress[] = [];
    const r = randomCheck({ model, properties: [], limits: { depth: 20 }, runs: 200 }, { onProgress: (p) => seen.push(p) });
    expect(r.status).toBe('ok');
    // Runs 64, 128 and 192, one clock read each.
    expect(seen).toHaveLength(3);
    for (const p of seen) {
      expect(p.queue).toBe(0);
      expect(p.generated).toBeGreaterThanOrEqual(p.distinct);
      expect(p.statesPerSec).toBe(Math.round((p.distinct * 1000) / p.elapsedMs));
    }
    expect(seen.map((p) => p.elapsedMs)).toEqual([1000, 2000, 3000]);
    expect(seen[2]!.distinct).toBeLessThanOrEqual(r.stats.states);
    expect(r.stats.depth).toBeLessThanOrEqual(20);
    expect(r.stats.engine).toBe('random');
  });
});

describe('BMC', () => {
  it('reports after a depth when a second has passed, with queries as generated', async () => {
    tickingClock();
    const seen: Progress[] = [];
    const r = await bmcCheck({ model, properties: [], limits: { depth: 3 } }, { onProgress: (p) => seen.push(p) });
    expect(r.status === 'ok' && r.bound).toBe(3);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.map((p) => p.depth)).toEqual([1, 2, 3].slice(3 - seen.length));
    expect(seen.every((p) => p.generated > 0 && p.distinct === 0 && p.queue === 0)).toBe(true);
    expect(r.stats.queries).toBeGreaterThanOrEqual(seen.at(-1)!.generated);
    expect(r.stats.depth).toBe(3);
  });
});
