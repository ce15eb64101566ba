/**
 * Limits at exactly the bound, in every engine. On a line of states 0 -> 1 -> ... -> 4 a depth
 * limit of d checks exactly the states at most d steps from the start: a violation at depth d is
 * found with the limit d and not with d - 1, and a stuck state at depth d is found only when it is
 * expanded. The state limit and the time limit stop the search as `incomplete`, never as `ok`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { add, eq, lt, ne } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { eventually, invariant, type Property } from '../../properties/property.js';
import type { CheckResult, Limits } from '../engine.js';
import { randomCheck } from '../random/random.js';
import { bmcCheck } from '../smt/bmc.js';
import { shutdownSmt } from '../smt/z3Host.js';
import { grid } from '../../test/searchWalk.js';
import { explicitCheck } from './explicit.js';
import { buildGraph } from './graph.js';
import { livenessCheck } from './liveness.js';

afterAll(async () => {
  await shutdownSmt();
});

const END = 4;

/** n goes 0..END one step at a time; n = END is a legal end (a deadlock in variant `no-end`). */
const line = defineProtocol({
  name: 'line',
  summary: 'a counter that stops',
  spec: 'checker/explicit/limits.test.ts',
  params: {},
  variants: [{ name: 'no-end', summary: 'the last state is a deadlock', cites: 'test' }],
  build(b, cfg) {
    const n = b.v('n', range(0, END));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, END), body: [assign(n, add(n, 1))] }));
    if (!cfg.is('no-end')) b.endState(() => eq(n, END));
    return { n };
  },
});

const model = buildModel(line);
const noEnd = buildModel(line, { variant: 'no-end' });
const notAt = (k: number): Property[] => [invariant(`not-${k}`, 'L-1', `n never reaches ${k}`, ne(model.handles.n, k))];
const verdict = (r: CheckResult) =>
  r.status === 'violated' ? `violated ${r.violations[0]?.property} at ${(r.violations[0]?.trace?.steps.length ?? 0) - 1}` : r.status;

describe('depth limit, explicit engine (BFS and DFS)', () => {
  for (const strategy of ['bfs', 'dfs'] as const) {
    it(`${strategy}: a violation at depth 3 is found with depth 3, not with depth 2`, () => {
      expect(verdict(explicitCheck({ model, properties: notAt(3), limits: { depth: 3 }, strategy }))).toBe('violated not-3 at 3');
      const r = explicitCheck({ model, properties: notAt(3), limits: { depth: 2 }, strategy });
      expect(r.status).toBe('incomplete');
      if (r.status === 'incomplete') expect(r.reason).toMatch(/^depth limit 2 reached/);
      expect([r.stats.states, r.stats.depth]).toEqual([3, 2]);
    });

    it(`${strategy}: a deadlock at depth ${END} needs that state expanded: depth ${END + 1} finds it, depth ${END} is incomplete`, () => {
      expect(verdict(explicitCheck({ model: noEnd, properties: [], limits: { depth: END + 1 }, strategy }))).toBe(`violated deadlock at ${END}`);
      expect(explicitCheck({ model: noEnd, properties: [], limits: { depth: END }, strategy }).status).toBe('incomplete');
    });

    it(`${strategy}: a limit beyond the deepest state is a complete search`, () => {
      const r = explicitCheck({ model, properties: [], limits: { depth: END + 1 }, strategy });
      expect([r.status, r.stats.states, r.stats.depth]).toEqual(['ok', END + 1, END]);
    });
  }

  it('BFS names how many stored states are left unexplored', () => {
    const r = explicitCheck({ model, properties: [], limits: { depth: 1 } });
    expect(r.status === 'incomplete' && r.reason).toBe('depth limit 1 reached with 1 states unexplored');
  });
});

describe('depth limit, liveness graph', () => {
  const goal = [eventually('reaches-end', 'L-2', 'n reaches its end', eq(model.handles.n, END))];
  it(`the graph is complete with depth ${END + 1}, incomplete with depth ${END}`, () => {
    expect(buildGraph(model, { depth: END + 1 }).status).toBe('complete');
    const g = buildGraph(model, { depth: END });
    expect(g.status).toBe('incomplete');
    if (g.status === 'incomplete') expect(g.reason).toBe(`depth limit ${END} reached with 1 states unexplored`);
    expect(livenessCheck({ model, properties: goal, limits: { depth: END + 1 } }).status).toBe('ok');
    expect(livenessCheck({ model, properties: goal, limits: { depth: END } }).status).toBe('incomplete');
  });
});

describe('depth limit, random engine (steps per run)', () => {
  it('a violation at depth 3 is found with depth 3, not with depth 2', () => {
    expect(verdict(randomCheck({ model, properties: notAt(3), limits: { depth: 3 }, runs: 200 }))).toBe('violated not-3 at 3');
    const r = randomCheck({ model, properties: notAt(3), limits: { depth: 2 }, runs: 200 });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.guarantee, r.bound, r.stats.runs]).toEqual(['sampled', 2, 200]);
  });

  it(`a deadlock at depth ${END} is found when a run can expand that state: depth ${END + 1}, not depth ${END}`, () => {
    // As in the explicit engine, the depth bounds the steps taken; stuck states are found when expanded.
    expect(verdict(randomCheck({ model: noEnd, properties: [], limits: { depth: END + 1 }, runs: 200 }))).toBe(`violated deadlock at ${END}`);
    expect(randomCheck({ model: noEnd, properties: [], limits: { depth: END }, runs: 200 }).status).toBe('ok');
  });
});

describe('depth limit, BMC', () => {
  it('a violation at depth 3 is found with depth 3, not with depth 2', async () => {
    expect(verdict(await bmcCheck({ model, properties: notAt(3), limits: { depth: 3 } }))).toBe('violated not-3 at 3');
    const r = await bmcCheck({ model, properties: notAt(3), limits: { depth: 2 } });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.guarantee, r.bound]).toEqual(['bounded', 2]);
  });

  it(`a deadlock at exactly the depth bound ${END} is found (the last level is checked too), not with depth ${END - 1}`, async () => {
    expect(verdict(await bmcCheck({ model: noEnd, properties: [], limits: { depth: END } }))).toBe(`violated deadlock at ${END}`);
    const r = await bmcCheck({ model: noEnd, properties: [], limits: { depth: END - 1 } });
    expect(r.status === 'ok' && r.bound).toBe(END - 1);
    expect((await bmcCheck({ model, properties: [], limits: { depth: END } })).status).toBe('ok');
  });

  it('a violation in a start state is found with depth 0', async () => {
    expect(verdict(await bmcCheck({ model, properties: notAt(0), limits: { depth: 0 } }))).toBe('violated not-0 at 0');
  });
});

describe('state limit', () => {
  const total = END + 1;
  it(`explicit: ${total} states fit a limit of ${total + 1}; a limit of ${total} stops before the last state is expanded`, () => {
    for (const strategy of ['bfs', 'dfs'] as const) {
      expect(explicitCheck({ model, properties: [], limits: { maxStates: total + 1 }, strategy }).status).toBe('ok');
      const r = explicitCheck({ model, properties: [], limits: { maxStates: total }, strategy });
      expect(r.status === 'incomplete' && r.reason).toBe(`state limit of ${total} reached`);
      expect(r.stats.states).toBe(total);
    }
  });

  it(`liveness graph: the same bound`, () => {
    expect(buildGraph(model, { maxStates: total + 1 }).status).toBe('complete');
    const g = buildGraph(model, { maxStates: total });
    expect(g.status === 'incomplete' && g.reason).toBe(`state limit of ${total} reached`);
  });
});

describe('time limit', () => {
  // a and b count to 40 independently: 1681 states, more than the engines' time-check period.
  const big = grid(null).model;
  const zero: Limits = { timeLimitSec: 0 };
  it('explicit (BFS, DFS) and the liveness graph stop at a limit of 0 s, and finish under a generous one', () => {
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = explicitCheck({ model: big, properties: [], limits: zero, strategy });
      expect(r.status === 'incomplete' && r.reason).toBe('time limit of 0s reached');
      expect(explicitCheck({ model: big, properties: [], limits: { timeLimitSec: 600 }, strategy }).status).toBe('ok');
    }
    const g = buildGraph(big, zero);
    expect(g.status === 'incomplete' && g.reason).toBe('time limit of 0s reached');
    expect(buildGraph(big, { timeLimitSec: 600 }).status).toBe('complete');
  });

  it('random and BMC stop at a limit of 0 s as incomplete', async () => {
    const r = randomCheck({ model: big, properties: [], limits: { ...zero, depth: 50 }, runs: 100_000 });
    expect(r.status === 'incomplete' && r.reason).toMatch(/^time limit of 0s reached after \d+ of 100000 runs$/);
    const b = await bmcCheck({ model: big, properties: [], limits: { ...zero, depth: 3 } });
    expect(b.status === 'incomplete' && b.reason).toMatch(/^time limit of 0s reached/);
  });
});
