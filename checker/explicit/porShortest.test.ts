/**
 * The counterexample under partial-order reduction. Why this file exists: the reduced search
 * explores only a stubborn subset of each state's steps, so its breadth-first order is not the one
 * of the whole graph, and the trace it finds first can take the steps in another order than
 * breadth-first search without reduction does. explicit.ts searches again without the reduction
 * (to the reduced trace's depth) and reports that search's trace; `--por auto` must turn the
 * reduction off wherever it is not sound for what the search reports. The oracle is the
 * interpreter's breadth-first walk (test/searchWalk.ts) and the trace's replay.
 */
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { add, eq, lt, or } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Property, eventually, invariant } from '../../properties/property.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import { walk } from '../../test/searchWalk.js';
import type { CheckJob, CheckResult, ExplicitStats } from '../engine.js';
import { explicitCheck, explicitRun, porOn } from './explicit.js';

/**
 * A counter `x` set to 1 by X1 then to 2 by X2, and a flag `z` set once by W (listed first), U or V;
 * the invariant says x = 2 and z = 1 never hold together. Without reduction breadth-first search
 * reaches the violation by W, X1, X2 (W is the first instance in every state). The reduced search
 * keeps only the writers of x in the start state (to make the invariant false, its disjunct with the
 * fewest writers, x < 2, must turn false), so its own trace is X1, X2, W: as long, but in another
 * order. `checked`: one rule X bumps x instead, a range-checked assignment (a run-time check, which
 * `--por auto` must see).
 */
function bumps(checked: boolean) {
  const def = defineProtocol({
    name: 'por-shortest',
    summary: '',
    spec: '',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 2));
      const z = b.v('z', range(0, 1));
      b.init('zero', () => []);
      b.rule('W', {}, () => ({ guard: eq(z, 0), body: [assign(z, 1)] }));
      if (checked) b.rule('X', {}, () => ({ guard: lt(x, 2), body: [assign(x, add(x, 1))] }));
      else {
        b.rule('X1', {}, () => ({ guard: eq(x, 0), body: [assign(x, 1)] }));
        b.rule('X2', {}, () => ({ guard: eq(x, 1), body: [assign(x, 2)] }));
      }
      // Two more writers of z, so that x (two writers) is the cheaper disjunct to make false.
      for (const name of ['U', 'V']) b.rule(name, {}, () => ({ guard: eq(z, 0), body: [assign(z, 1)] }));
      return { x, z };
    },
  });
  const model = buildModel(def);
  return { model, properties: [invariant('not-both', 'I-1', '', or(lt(model.handles.x, 2), eq(model.handles.z, 0)))] };
}

/** The labels of the first violation's trace. */
function labels(r: CheckResult<ExplicitStats>): string[] {
  expect(r.status).toBe('violated');
  return r.status === 'violated' ? (r.violations[0]?.trace?.steps.map((s) => s.label) ?? []) : [];
}

/** The breadth-first path to the walk's violation: each state's parent is the state it was first reached from. */
function walkPath(model: Model, properties: readonly Property[]): string[] {
  const w = walk(model, properties, true, 'bfs', {});
  if (w.found?.kind !== 'invariant') throw new Error('the walk finds no violation');
  const id = w.order.findIndex((o) => o.s.join() === w.found?.state.join());
  const path: string[] = [];
  for (let at = id; at >= model.inits.length; ) {
    const e = w.edges.find((x) => x.to === at);
    if (!e) throw new Error('no edge into a state');
    path.unshift(model.instances[e.k]?.label as string);
    at = e.from;
  }
  expect(path.length).toBe(w.found.depth);
  return ['init zero', ...path];
}

describe('partial-order reduction: the counterexample reported', () => {
  const { model, properties } = bumps(false);
  const job: CheckJob = { model, properties, limits: {} };

  it('is the one breadth-first search without reduction reports (as short as the walk, same steps), replays, with the reduced search figures', async () => {
    const want = walkPath(model, properties);
    expect(want).toEqual(['init zero', 'W()', 'X1()', 'X2()']);
    // The reduced search alone finds another trace of the same length: what makes the second search necessary here.
    const reduced = explicitCheck({ ...job, explicit: { por: true, shortest: false } });
    expect(labels(reduced)).toEqual(['init zero', 'X1()', 'X2()', 'W()']);
    const full = explicitCheck(job);
    expect(labels(full)).toEqual(want);
    for (const por of [true, 'auto'] as const) {
      for (const r of [explicitCheck({ ...job, explicit: { por } }), await explicitRun({ ...job, explicit: { por } })]) {
        expect([por, labels(r)]).toEqual([por, want]);
        if (r.status !== 'violated') continue;
        expect(r.violations.length).toBe(1);
        const v = r.violations[0];
        expect([v?.property, v?.kind, v?.trace?.steps.map((s) => Array.from(s.state))]).toEqual([
          'not-both',
          'invariant',
          full.status === 'violated' ? full.violations[0]?.trace?.steps.map((s) => Array.from(s.state)) : null,
        ]);
        const replay = replayTrace(model, properties, v?.trace as NonNullable<typeof v>['trace'] & object);
        expect([replay.mismatch, replay.violation?.property, replay.states.length]).toEqual([null, 'not-both', 4]);
        // The figures are the reduced search's: fewer states than the whole graph's.
        expect([r.stats.por, r.stats.states, r.stats.states < full.stats.states]).toEqual([true, reduced.stats.states, true]);
      }
    }
  });
  it('keeps the reduced trace when the search without reduction stops at the state limit before it finds one', async () => {
    // The reduced search stores 4 states to its violation; the whole graph needs 6 (5 are not enough).
    const limited: CheckJob = { ...job, limits: { maxStates: 5 } };
    expect(explicitCheck(limited).status).toBe('incomplete');
    for (const r of [explicitCheck({ ...limited, explicit: { por: true } }), await explicitRun({ ...limited, explicit: { por: true } })]) {
      expect(labels(r)).toEqual(['init zero', 'X1()', 'X2()', 'W()']);
      const v = r.status === 'violated' ? r.violations : [];
      expect(v.length).toBe(1);
      expect(replayTrace(model, properties, v[0]?.trace as NonNullable<(typeof v)[0]['trace']>).violation?.property).toBe('not-both');
    }
  });
});

describe('partial-order reduction in a shard', () => {
  it("searches again within the shard: fence-migrate's no-invalidate (one migration) breaks in 4 steps overall but in 5 in shard 2/2, and --por there reports 5", () => {
    const model = buildModel(fenceMigrate.protocol, { variant: 'no-invalidate', params: { migrations: 1 } });
    const properties = fenceMigrate.properties.build(model).filter((p) => p.kind !== 'liveness');
    const lengths = (explicit: CheckJob['explicit']) => {
      const r = explicitCheck({ model, properties, limits: {}, explicit });
      return r.status === 'violated' ? r.violations.map((v) => v.trace?.steps.length) : r.status;
    };
    const shard = { index: 1, count: 2 };
    expect([lengths({}), lengths({ shard }), lengths({ shard, por: true })]).toEqual([[4], [5], [5]]);
  });
});

describe('--por auto', () => {
  it('turns the reduction on for breadth-first safety checks of rules without run-time checks, and off for depth-first search, liveness properties and range-checked assignments', () => {
    const safe = bumps(false);
    const checked = bumps(true);
    const live = [...safe.properties, eventually('x-two', 'L-1', '', eq(safe.model.handles.x, 2))];
    const auto = { explicit: { por: 'auto' as const }, limits: {} };
    expect([
      porOn({ ...safe, ...auto }),
      porOn({ ...safe, ...auto, strategy: 'bfs' }),
      porOn({ ...safe, ...auto, strategy: 'dfs' }),
      porOn({ model: safe.model, properties: live, ...auto }),
      porOn({ ...checked, ...auto }),
      porOn({ ...safe, limits: {} }),
      porOn({ ...checked, limits: {}, explicit: { por: true } }),
    ]).toEqual([true, true, false, false, false, false, true]);
    // What the search reports: the reduction's figure, and the trace of the search without it.
    const dfs = explicitCheck({ ...safe, ...auto, strategy: 'dfs' });
    const off = explicitCheck({ ...checked, ...auto });
    const full = explicitCheck({ ...checked, limits: {} });
    expect([dfs.stats.por, off.stats.por, off.stats.states, labels(off)]).toEqual([undefined, undefined, full.stats.states, labels(full)]);
  });
});
