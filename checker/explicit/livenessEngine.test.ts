/**
 * The explicit engine with liveness around the fair-cycle analysis: the fairness requirements in
 * the form the cycle search reads, the asynchronous run (livenessRun, explicitRunWithLiveness, the
 * engine object) against the synchronous one, a stop by the job's signal, the full graph's check
 * of what the annotated quotient found violated when only the quotient fits the state limit, the
 * combined result's order of violations and its guarantee, and the symmetry figures. Each expected
 * value is derived by hand from the model's declarations, or compared with the synchronous check.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inFreshTmpdir } from '../../test/tmpdir.js';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { add, and, eq, ite, lt, ne, not, or, unwrap } from '../../model/lang/expr.js';
import { applyRule, initState } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, option, range } from '../../model/lang/types.js';
import { type Liveness, type Property, alwaysEventually, cover, eventually, invariant, leadsToEach, stepProperty } from '../../properties/property.js';
import { lossyChannel, lossyChannelProperties, mutex, mutexProperties, stopper, stopperProperties } from '../../test/fixtures/livenessProtocols.js';
import type { CheckJob, CheckResult, Progress } from '../engine.js';
import { explicitCheck } from './explicit.js';
import { buildGraph } from './graph.js';
import { STRONG, WEAK } from './fairCycles.js';
import { explicitCheckWithLiveness, explicitLivenessEngine, explicitRunWithLiveness, fairnessGroups, livenessCheck, livenessRun } from './liveness.js';

/** The result without the figures of time and memory, which are all that may differ between two runs. */
const verdict = (r: CheckResult) => {
  // explicitRun also reports its number of worker threads.
  const {
    bytesPerState: _b,
    storeBytes: _s,
    elapsedMs: _e,
    statesPerSec: _r,
    workers: _w,
    liveness,
    ...figures
  } = r.stats as unknown as Record<string, unknown>;
  const live = liveness as Record<string, unknown> | undefined;
  const { bytesPerState: _lb, storeBytes: _ls, elapsedMs: _le, statesPerSec: _lr, ...liveFigures } = live ?? {};
  return { ...r, stats: { ...figures, ...(live ? { liveness: liveFigures } : {}) } };
};

/** Four rules: A weak, B strong per process, C weak over all its instances together, D with no fairness. */
const fairness = defineProtocol({
  name: 'fairness-groups',
  summary: 'one rule of each fairness',
  spec: 'checker/explicit/livenessEngine.test.ts',
  params: {},
  variants: [],
  build(b) {
    const Proc = b.index('Proc', 2);
    const x = b.v('x', range(0, 1));
    b.init('zero', () => []);
    b.rule('A', {}, () => ({ guard: true, body: [assign(x, 0)] }), { fairness: 'weak' });
    b.rule('B', { i: Proc }, () => ({ guard: true, body: [assign(x, 1)] }), { fairness: 'strong', fairnessScope: 'instance' });
    b.rule('C', { i: Proc }, () => ({ guard: true, body: [assign(x, 0)] }), { fairness: 'weak', fairnessScope: 'rule' });
    b.rule('D', { i: Proc }, () => ({ guard: true, body: [assign(x, 1)] }));
    return { x };
  },
});

describe('fairnessGroups', () => {
  const model = buildModel(fairness);
  const inst = (label: string) => model.instances.findIndex((i) => i.label === label);

  it('declared: one group per fair instance (per rule for a rule-wide requirement), weak or strong as declared; none for an unfair rule', () => {
    const g = fairnessGroups(model, 'declared');
    const [a, b0, b1, c0, c1, d0, d1] = ['A()', 'B(i=0)', 'B(i=1)', 'C(i=0)', 'C(i=1)', 'D(i=0)', 'D(i=1)'].map((l) => {
      expect(inst(l)).toBeGreaterThanOrEqual(0);
      return g.groupOf[inst(l)] as number;
    }) as number[];
    expect(g.count).toBe(4);
    expect(g.groupOf.length).toBe(model.instances.length);
    expect([d0, d1]).toEqual([-1, -1]);
    expect(c0).toBe(c1);
    expect(new Set([a, b0, b1, c0]).size).toBe(4);
    for (const grp of [a, b0, b1, c0] as number[]) expect(grp >= 0 && grp < 4).toBe(true);
    expect([g.kind[a as number], g.kind[b0 as number], g.kind[b1 as number], g.kind[c0 as number]]).toEqual([WEAK, STRONG, STRONG, WEAK]);
    expect(g.kind.length).toBe(4);
  });

  it('none: no group at all', () => {
    const g = fairnessGroups(model, 'none');
    expect(g.count).toBe(0);
    expect([...g.groupOf]).toEqual(model.instances.map(() => -1));
  });
});

/**
 * Two processes pass a token (Pass(i, j)); the one without it may finish the run (Work(i), weakly
 * fair per process). Under symmetry the check runs on the annotated quotient, which finds `done`
 * violated (the passing loop is fair), and the lasso comes from the full graph. The full graph has
 * four states (which process holds the token, done or not), the quotient two.
 */
const tokenPass = defineProtocol({
  name: 'token-pass',
  summary: 'two processes pass a token; the one without it may finish',
  spec: 'checker/explicit/livenessEngine.test.ts',
  params: {},
  variants: [],
  build(b) {
    const Proc = b.index('Proc', 2, { symmetric: true });
    const has = b.v('has', arrayOf(Proc, bool));
    const done = b.v('done', bool);
    b.init('first', () => [assign(has.at(0), true)]);
    b.rule('Pass', { i: Proc, j: Proc }, ({ i, j }) => ({ guard: and(has.at(i), not(has.at(j))), body: [assign(has.at(i), false), assign(has.at(j), true)] }));
    b.rule('Work', { i: Proc }, ({ i }) => ({ guard: and(not(has.at(i)), not(done)), body: [assign(done, true)] }), {
      fairness: 'weak',
      fairnessScope: 'instance',
    });
    return { has, done };
  },
});

interface Case {
  readonly name: string;
  readonly model: Model;
  readonly properties: readonly Property[];
  readonly symmetry?: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const acquire of ['weak', 'strong']) {
    const model = buildModel(mutex, { params: { acquire } });
    out.push({ name: `mutex ${acquire}`, model, properties: mutexProperties.build(model) });
  }
  const stop = buildModel(stopper);
  out.push({ name: 'stopper', model: stop, properties: stopperProperties.build(stop) });
  const lossy = buildModel(lossyChannel, { params: { deliver: 'weak' } });
  out.push({ name: 'lossy channel', model: lossy, properties: lossyChannelProperties.build(lossy) });
  const tp = buildModel(tokenPass);
  const done = eventually('done', 'TP-1', 'the run finishes', tp.handles.done);
  out.push({ name: 'token pass under symmetry (annotated quotient, then the full graph)', model: tp, properties: [done], symmetry: true });
  out.push({ name: 'token pass without symmetry', model: tp, properties: [done] });
  return out;
}

/** x counts up to 1999 by Inc (weakly fair), and Back may reset it: 2000 states, depth 1999. */
const longCount = buildModel(
  defineProtocol({
    name: 'long-count',
    summary: 'a counter of 2000 states',
    spec: 'checker/explicit/livenessEngine.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 1999));
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(x, 1999), body: [assign(x, add(x, 1))] }), { fairness: 'weak' });
      b.rule('Back', {}, () => ({ guard: lt(0, x), body: [assign(x, 0)] }));
      b.endState(() => eq(x, 1999));
      return { x };
    },
  }),
);

describe('the asynchronous run', () => {
  it.each(cases().map((c) => [c.name, c] as const))('%s: livenessRun, explicitRunWithLiveness and the engine give the synchronous results', async (_, c) => {
    const job: CheckJob = { model: c.model, properties: c.properties, limits: {}, ...(c.symmetry ? { symmetry: true } : {}) };
    const sync = livenessCheck(job);
    expect(verdict(await livenessRun(job))).toEqual(verdict(sync));
    const both = explicitCheckWithLiveness(job);
    expect(verdict(await explicitRunWithLiveness(job))).toEqual(verdict(both));
    expect(explicitLivenessEngine.name).toBe('explicit');
    expect(verdict(await explicitLivenessEngine.run(job, {}))).toEqual(verdict(both));
    if (sync.status === 'violated')
      for (const v of sync.violations)
        expect(checkLasso(c.model, v.trace as Trace, c.properties.find((p) => p.name === v.property) as Liveness)).toMatchObject({ ok: true });
  });

  it('the token pass is violated, its lasso from the full graph (stats of the full graph, symmetry refused for the lasso)', () => {
    const c = cases().find((x) => x.symmetry) as Case;
    const r = livenessCheck({ model: c.model, properties: c.properties, limits: {}, symmetry: true });
    expect(r.status).toBe('violated');
    expect([r.stats.symmetry, r.stats.states]).toEqual([false, 4]);
    expect(r.stats.symmetryRefused).toContain('done');
  });

  it('a job whose signal is aborted stops at the first check of the graph search (every 1024 states): incomplete, the reason naming the signal; one not aborted, or no signal, finishes', async () => {
    const properties = [eventually('top', 'LC-1', 'x reaches 1999', eq(longCount.handles.x, 1999))];
    const stopped = await livenessRun({ model: longCount, properties, limits: {}, signal: AbortSignal.abort('stop now') });
    expect(stopped.status === 'incomplete' && stopped.reason).toBe('interrupted (stop now)');
    const running = await livenessRun({ model: longCount, properties, limits: {}, signal: new AbortController().signal });
    expect([running.status, running.stats.states]).toEqual(['violated', 2000]);
    // Without a signal the same checks find nothing to stop for.
    const unsignalled = await livenessRun({ model: longCount, properties, limits: {} });
    expect([unsignalled.status, unsignalled.stats.states]).toEqual(['violated', 2000]);
  });
});

describe('what the annotated quotient finds violated is checked again on the full graph', () => {
  const c = cases().find((x) => x.symmetry) as Case;
  it('a state limit the quotient fits in but the full graph does not: incomplete (the full graph), not an internal error', async () => {
    // A limit of N states stops a search that stores N (even if nothing is left to expand): the quotient's two fit under three, the full graph's four do not.
    const maxStates = 3;
    expect(livenessCheck({ model: c.model, properties: [], limits: { maxStates }, symmetry: true })).toMatchObject({
      status: 'ok',
      stats: { states: 2, symmetry: true },
    });
    expect(livenessCheck({ model: c.model, properties: [], limits: { maxStates } }).status).toBe('incomplete');
    const job: CheckJob = { model: c.model, properties: c.properties, limits: { maxStates }, symmetry: true };
    for (const r of [livenessCheck(job), await livenessRun(job)]) {
      expect(r.status).toBe('incomplete');
      if (r.status === 'incomplete') expect(r.reason).toBe('state limit of 3 reached');
      expect(r.stats.symmetry).toBe(false);
    }
  });
});

/** x counts 0, 1, 2 by Inc and stops at 2, not a legal end state (a deadlock); the invariant x < 2 fails there. */
const counter = defineProtocol({
  name: 'count-to-two',
  summary: 'a counter that stops at 2',
  spec: 'checker/explicit/livenessEngine.test.ts',
  params: {},
  variants: [],
  build(b) {
    const x = b.v('x', range(0, 2));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(x, 2), body: [assign(x, add(x, 1))] }), { fairness: 'weak' });
    return { x };
  },
});

describe('the combined result of the safety search and the liveness check', () => {
  const model = buildModel(counter);
  const { x } = model.handles;
  const small = invariant('small', 'CT-1', 'x stays below 2', lt(x, 2));
  const back = alwaysEventually('back', 'CT-2', 'x is 0 infinitely often', eq(x, 0));
  const two = eventually('two', 'CT-3', 'x reaches 2', eq(x, 2));

  it('a safety violation (invariant or step property) first, then the lasso (which the safety search, stopping there, does not list)', () => {
    const r = explicitCheckWithLiveness({ model, properties: [back, small], limits: {} });
    expect(r.status === 'violated' && r.violations.map((v) => [v.kind, v.property])).toEqual([
      ['invariant', 'small'],
      ['liveness', 'back'],
    ]);
    const noTwo = stepProperty(model, 'no-two', 'CT-4', 'Inc never makes x 2', 'Inc', () => ne(x, 2));
    const s = explicitCheckWithLiveness({ model, properties: [back, noTwo], limits: {} });
    expect(s.status === 'violated' && s.violations.map((v) => [v.kind, v.property])).toEqual([
      ['step', 'no-two'],
      ['liveness', 'back'],
    ]);
  });

  it("the guarantee is the safety search store's (the liveness graph is exact), violated or not", () => {
    const explicit = { store: 'hash-compaction' } as const;
    const bad = explicitCheckWithLiveness({ model, properties: [back], limits: {}, explicit });
    expect(bad.status === 'violated' && [bad.guarantee, bad.violations.map((v) => v.kind)]).toEqual(['hash-compaction', ['liveness', 'deadlock']]);
    const good = explicitCheckWithLiveness({ model, properties: [two], limits: {}, explicit, deadlock: false });
    expect(good.status === 'ok' && good.guarantee).toBe('hash-compaction');
  });
});

/** x counts up to 19999 by Inc (weakly fair), and Back may reset it: 20000 states of one word. */
const wide = buildModel(
  defineProtocol({
    name: 'wide-count',
    summary: 'a counter of 20000 states',
    spec: 'checker/explicit/livenessEngine.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 19999));
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(x, 19999), body: [assign(x, add(x, 1))] }), { fairness: 'weak' });
      b.rule('Back', {}, () => ({ guard: lt(0, x), body: [assign(x, 0)] }));
      return { x };
    },
  }),
);

describe('the figures of the fair-cycle analysis', () => {
  const properties = [eventually('top', 'LC-1', 'x reaches 1999', eq(longCount.handles.x, 1999))];

  it('one progress report, with the whole graph: its states and edges, its depth, an empty queue, no rate, a time within the check; none when the graph stopped at a limit (incomplete, no covers)', () => {
    const seen: Progress[] = [];
    const r = livenessCheck({ model: longCount, properties, limits: {} }, { onProgress: (p) => seen.push(p) });
    // 1999 Inc edges and 1999 Back edges; the deepest state is x = 1999.
    expect(seen.map(({ elapsedMs: _e, ...p }) => p)).toEqual([
      { phase: 'fair cycles', generated: 3998, distinct: 2000, queue: 0, depth: 1999, statesPerSec: 0 },
    ]);
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([2000, 3998, 1999]);
    // The report's time is part of the check's.
    expect(seen[0]?.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(seen[0]?.elapsedMs).toBeLessThanOrEqual(r.stats.elapsedMs);
    const cut: Progress[] = [];
    expect(livenessCheck({ model: longCount, properties, limits: { maxStates: 100 } }, { onProgress: (p) => cut.push(p) })).toMatchObject({
      status: 'incomplete',
      covers: [],
    });
    expect(cut.filter((p) => p.phase === 'fair cycles')).toEqual([]);
  });

  it('the bytes reported are at least the peak of the graph search, and the graph with the analysis arrays of a violated goal (18 bytes a state)', () => {
    // 20000 states: the analysis arrays outweigh the graph search's reservations. Per state: a flag
    // byte, a token (4), the p and q bits (1), two queues (8) and a parent edge (4).
    const built = buildGraph(wide, {});
    expect(built.status).toBe('complete');
    const g = built.graph;
    const r = livenessCheck({ model: wide, properties: [eventually('top', 'WC-1', 'x reaches 19999', eq(wide.handles.x, 19999))], limits: {} });
    expect([r.status, g.n]).toEqual(['violated', 20000]);
    expect(r.stats.storeBytes).toBeGreaterThanOrEqual(g.buildPeakBytes);
    expect(r.stats.storeBytes).toBeGreaterThanOrEqual(g.bytes + 18 * g.n);
  });

  it('the same 18 bytes a state where the cycle search holds few frames: a 150 x 150 grid with no cycle, violated at its corner (no rule enabled)', () => {
    // x and y each count up to 149 (22500 states); no edge goes back, so the analysis' own arrays
    // are all but the whole figure, and each of them counts.
    const grid = buildModel(
      defineProtocol({
        name: 'grid',
        summary: '',
        spec: 'checker/explicit/livenessEngine.test.ts',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 149));
          const y = b.v('y', range(0, 149));
          b.init('zero', () => []);
          b.rule('IncX', {}, () => ({ guard: lt(x, 149), body: [assign(x, add(x, 1))] }));
          b.rule('IncY', {}, () => ({ guard: lt(y, 149), body: [assign(y, add(y, 1))] }));
          return { x, y };
        },
      }),
    );
    const { x, y } = grid.handles;
    const built = buildGraph(grid, {});
    expect(built.status).toBe('complete');
    const g = built.graph;
    // Raising y first never passes (149, 0): the run stops at (149, 149).
    const r = livenessCheck({ model: grid, properties: [eventually('corner', 'G-1', 'x reaches 149 with y at 0', and(eq(x, 149), eq(y, 0)))], limits: {} });
    expect([r.status, g.n]).toEqual(['violated', 22500]);
    expect(r.status === 'violated' && r.violations[0]?.message).toMatch(/deadlock/);
    expect(r.stats.storeBytes).toBeGreaterThanOrEqual(g.bytes + 18 * g.n);
  });
});

/**
 * The token pass with a count of passes that overflows at the second pass (variant `overflow`),
 * and an optional value that is never set (a property that unwraps it cannot be evaluated).
 */
const tokenCount = defineProtocol({
  name: 'token-count',
  summary: 'two processes pass a token and count the passes',
  spec: 'checker/explicit/livenessEngine.test.ts',
  params: {},
  variants: [{ name: 'overflow', summary: 'the count overflows at the second pass', cites: 'test' }],
  build(b, cfg) {
    const Proc = b.index('Proc', 2, { symmetric: true });
    const has = b.v('has', arrayOf(Proc, bool));
    const done = b.v('done', bool);
    const passes = b.v('passes', range(0, 1));
    const o = b.v('o', option(range(0, 1)));
    b.init('first', () => [assign(has.at(0), true)]);
    b.rule('Pass', { i: Proc, j: Proc }, ({ i, j }) => ({
      guard: and(has.at(i), not(has.at(j))),
      body: [assign(has.at(i), false), assign(has.at(j), true), ...(cfg.is('overflow') ? [assign(passes, add(passes, 1))] : [])],
    }));
    b.rule('Work', { i: Proc }, ({ i }) => ({ guard: and(not(has.at(i)), not(done)), body: [assign(done, true)] }), {
      fairness: 'weak',
      fairnessScope: 'instance',
    });
    return { has, done, o };
  },
});

/** Whether every step of a trace is its start state or its rule applied to the state before (the interpreter's semantics). */
function replays(model: Model, t: Trace): boolean {
  return t.steps.every((s, i) => {
    const want =
      i === 0
        ? initState(model, model.inits[s.choice] as Model['inits'][number])
        : applyRule(model, model.instances[s.choice] as Model['instances'][number], (t.steps[i - 1] as Trace['steps'][number]).state);
    return want.length === s.state.length && want.every((x, k) => x === s.state[k]);
  });
}

/** `n` symmetric counters 0..15, each raised by Inc(t) below 15: up to permutation a state is a multiset of n values of 0..15. */
function symmetricCounters(n: number) {
  return buildModel(
    defineProtocol({
      name: `counters-${n}`,
      summary: '',
      spec: 'checker/explicit/livenessEngine.test.ts',
      params: {},
      variants: [],
      build(b) {
        const T = b.index('T', n, { symmetric: true });
        const c = b.v('c', arrayOf(T, range(0, 15)));
        b.init('zero', () => []);
        b.rule('Inc', { t: T }, ({ t }) => ({ guard: lt(c.at(t), 15), body: [assign(c.at(t), add(c.at(t), 1))] }));
        return { T, c };
      },
    }),
  );
}

describe('the figures of the annotated quotient', () => {
  it('the bytes reported are at least the quotient graph with the analysis arrays: a flag byte and a token (4) per node of the product, one node per state and tracked value', () => {
    // Five symmetric counters 0..15, each raised by Inc(t): up to permutation a state is a multiset
    // of five values of 0..15, C(20, 5) = 15504 of them. A property for each counter makes the graph
    // the annotated quotient and the product tracks one of the five: 5 nodes a state. At this size
    // those arrays outweigh the graph search's reservations.
    const counters = symmetricCounters(5);
    const { T, c } = counters.handles;
    // p ~> p: holds (so the verdict and the figures are the quotient's, no full graph).
    const top = leadsToEach('top-stays', 'L-9', 'a counter at 15 is at 15', T, (d) => [eq(c.at(d), 15), eq(c.at(d), 15)]);
    const built = buildGraph(counters, {}, {}, true, null, true);
    expect(built.status).toBe('complete');
    const g = built.graph;
    const r = livenessCheck({ model: counters, properties: [top], limits: {}, symmetry: true });
    expect([r.status, r.stats.symmetry, g.n]).toEqual(['ok', true, 15504]);
    expect(r.stats.storeBytes).toBeGreaterThanOrEqual(g.buildPeakBytes);
    expect(r.stats.storeBytes).toBeGreaterThanOrEqual(g.bytes + 5 * 5 * g.n);
  });
});

describe('errors, and several properties, on the graph and on the annotated quotient', () => {
  it('a model error at a start state: the trace is that start state alone', () => {
    const m = buildModel(
      defineProtocol({
        name: 'boom',
        summary: 'overflows at once',
        spec: 'checker/explicit/livenessEngine.test.ts',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 1));
          b.init('zero', () => []);
          b.rule('Boom', {}, () => ({ guard: true, body: [assign(x, add(x, 2))] }));
          return { x };
        },
      }),
    );
    const r = livenessCheck({ model: m, properties: [eventually('one', 'B-1', 'x is 1', eq(m.handles.x, 1))], limits: {} });
    expect(r.status === 'error' && [r.code, r.trace?.steps.map((s) => [s.label, s.state[0]])]).toEqual(['MC011', [['init zero', 0]]]);
  });

  it('a model error under symmetry reduction: the trace to it is made of concrete states (it replays)', () => {
    const m = buildModel(tokenCount, { variant: 'overflow' });
    const r = livenessCheck({ model: m, properties: [eventually('done', 'TC-1', 'the run finishes', m.handles.done)], limits: {}, symmetry: true });
    expect(r.status === 'error' && r.code).toBe('MC011');
    const t = (r.status === 'error' ? r.trace : null) as Trace;
    // The first pass is the only step before the state whose pass overflows.
    expect(t.steps.map((s) => s.label)).toEqual(['init first', 'Pass(i=0, j=1)']);
    expect(replays(m, t)).toBe(true);
  });

  it('a property that cannot be evaluated on the annotated quotient: an error, before any lasso', () => {
    const m = buildModel(tokenCount);
    const bad = eventually('bad', 'TC-2', 'unwraps a value never set', eq(unwrap(m.handles.o), 1));
    const r = livenessCheck({ model: m, properties: [bad], limits: {}, symmetry: true });
    expect(r.status === 'error' && [r.code, r.trace]).toEqual(['MC011', null]);
    if (r.status === 'error') expect(r.message).toMatch(/^evaluating a liveness property: /);
    expect(r.stats.symmetry).toBe(true);
  });

  it('two properties on the annotated quotient, one holding and one failing: only the failing one is checked again and reported', () => {
    const m = buildModel(tokenCount);
    const { has, done } = m.handles;
    const held = eventually('held', 'TC-3', 'someone holds the token', or(has.at(0), has.at(1)));
    const finishes = eventually('done', 'TC-1', 'the run finishes', done);
    for (const properties of [
      [held, finishes],
      [finishes, held],
    ]) {
      const r = livenessCheck({ model: m, properties, limits: {}, symmetry: true });
      expect(r.status === 'violated' && r.violations.map((v) => v.property)).toEqual(['done']);
      expect(r.stats.symmetryRefused).toBe('the annotated quotient (2 states) found done violated; the lassos come from the full graph');
      if (r.status === 'violated') expect(checkLasso(m, r.violations[0]?.trace as Trace, finishes)).toMatchObject({ ok: true });
    }
  });
});

/** Three processes count to 11 each, in any order (1728 states; 364 under symmetry reduction); the deepest state is a deadlock. */
const threeCounters = defineProtocol({
  name: 'three-counters',
  summary: 'three processes count to 11',
  spec: 'checker/explicit/livenessEngine.test.ts',
  params: {},
  variants: [],
  build(b) {
    const P = b.index('P', 3, { symmetric: true });
    const c = b.v('c', arrayOf(P, range(0, 11)));
    b.init('zero', () => []);
    b.rule('Inc', { i: P }, ({ i }) => ({ guard: lt(c.at(i), 11), body: [assign(c.at(i), add(c.at(i), 1))] }), { fairness: 'weak' });
    return { c };
  },
});

describe('the safety search figures as the size of the liveness graph (LivenessOptions.safety)', () => {
  const model = buildModel(threeCounters);
  const job: CheckJob = { model, properties: [eventually('first-done', 'TC-1', 'process 0 reaches 11', eq(model.handles.c.at(0), 11))], limits: {} };
  const without = livenessCheck(job);

  it('figures of a search over another graph (partial-order reduced, one shard, symmetry reduced) are not taken as its size: the same verdict and bytes as without figures', () => {
    for (const other of [
      { ...job, properties: [], explicit: { por: true } },
      { ...job, properties: [], explicit: { shard: { index: 0, count: 2 } } },
      { ...job, properties: [], symmetry: true },
    ] as CheckJob[]) {
      const safety = explicitCheck(other).stats;
      // Fewer states than the liveness graph: taken as its size, its arrays would grow by copies, and the bytes show it.
      expect(safety.states).toBeLessThan(1728);
      const r = livenessCheck(job, {}, { safety });
      expect(verdict(r)).toEqual(verdict(without));
      expect(r.stats.storeBytes).toBe(without.stats.storeBytes);
    }
  });

  // Four symmetric counters 0..15: 16^4 = 65536 states and 4 x 15 x 16^3 = 245760 edges in full,
  // C(19, 4) = 3876 multisets reduced.
  const counters = symmetricCounters(4);
  const zero = eventually('zero', 'FC-1', 'counter 0 is 0', eq(counters.handles.c.at(0), 0));

  it('the figures of a search without symmetry reduction are not taken as the size of the reduced liveness graph: the same bytes as without figures', () => {
    // Taken as the reduced graph's size, the full figures would make its store's table for 65536
    // states, and the bytes show it.
    const reduced: CheckJob = { model: counters, properties: [zero], limits: {}, symmetry: true };
    const safety = explicitCheck({ ...reduced, properties: [], symmetry: false }).stats;
    expect([safety.states, safety.transitions, safety.symmetry]).toEqual([65536, 245760, false]);
    const alone = livenessCheck(reduced);
    const r = livenessCheck(reduced, {}, { safety });
    expect([alone.stats.states, alone.stats.symmetry]).toEqual([3876, true]);
    expect(verdict(r)).toEqual(verdict(alone));
    expect(r.stats.storeBytes).toBe(alone.stats.storeBytes);
  });

  it('the figures of a bitstate search that missed states are not taken as the graph size: the same bytes as without figures', () => {
    // A bit array of 4096 bytes (32768 bits) cannot tell 65536 states apart: the search counts fewer.
    const full: CheckJob = { model: counters, properties: [zero], limits: {} };
    const safety = explicitCheck({ ...full, properties: [], explicit: { store: 'bitstate', memoryBytes: 4096 } }).stats;
    expect(safety.store).toBe('bitstate');
    expect(safety.states).toBeLessThan(65536);
    const alone = livenessCheck(full);
    const r = livenessCheck(full, {}, { safety });
    expect(alone.stats.states).toBe(65536);
    expect(verdict(r)).toEqual(verdict(alone));
    expect(r.stats.storeBytes).toBe(alone.stats.storeBytes);
  });

  it('the figures of a complete exact search of the same graph: the same verdict, and no more bytes', () => {
    const safety = explicitCheck(job).stats;
    expect(safety.states).toBe(1728);
    const r = livenessCheck(job, {}, { safety });
    expect(verdict(r)).toEqual(verdict(without));
    expect(r.stats.storeBytes).toBeLessThanOrEqual(without.stats.storeBytes);
  });
});

describe('the states moved to a file from a threshold (LivenessOptions.evictStatesFrom)', () => {
  // The wide counter with a padding of 20 two-bit values that never change: states of two words.
  const padded = buildModel(
    defineProtocol({
      name: 'wide-padded',
      summary: 'a counter of 20000 states of two words',
      spec: 'checker/explicit/livenessEngine.test.ts',
      params: {},
      variants: [],
      build(b) {
        const x = b.v('x', range(0, 19999));
        b.v('pad', arrayOf(b.index('Pad', 20), range(0, 3)));
        b.init('zero', () => []);
        b.rule('Inc', {}, () => ({ guard: lt(x, 19999), body: [assign(x, add(x, 1))] }), { fairness: 'weak' });
        b.rule('Back', {}, () => ({ guard: lt(0, x), body: [assign(x, 0)] }));
        return { x };
      },
    }),
  );
  const built = buildGraph(padded, {});
  const words = built.graph.cm.words;
  const properties = [eventually('top', 'WC-1', 'x reaches 19999', eq(padded.handles.x, 19999))];
  // 20000 states of two words: 160000 bytes of states. Moved, they no longer count in the analysis' peak.
  const states = 20000 * words * 4;
  const bytes = (evictStatesFrom?: number) =>
    livenessCheck({ model: padded, properties, limits: {} }, {}, evictStatesFrom === undefined ? {} : { evictStatesFrom }).stats.storeBytes;

  it('the states are of two words', () => {
    expect([built.status, built.graph.n, words]).toEqual(['complete', 20000, 2]);
  });

  it('moved from exactly their size on (fewer bytes), kept below it and by default (64 MiB); the temporary folder is left empty', async () => {
    const kept = bytes(Number.POSITIVE_INFINITY);
    expect(bytes()).toBe(kept);
    expect(bytes(states + 1)).toBe(kept);
    await inFreshTmpdir('mc-evict-', (dir) => {
      expect(bytes(states)).toBeLessThan(kept);
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});

describe('the options and figures handed from the safety search to the liveness check', () => {
  it('the fairness option reaches the liveness check (the lossy channel over a strongly fair link: holds under the declared fairness, not without)', () => {
    const model = buildModel(lossyChannel, { params: { deliver: 'strong' } });
    const job: CheckJob = { model, properties: lossyChannelProperties.build(model), limits: {}, deadlock: false };
    expect(explicitCheckWithLiveness(job).status).toBe('ok');
    const none = explicitCheckWithLiveness(job, {}, { fairness: 'none' });
    expect(none.status === 'violated' && none.violations.map((v) => [v.kind, v.trace?.extra?.fairness])).toEqual([['liveness', 'none']]);
  });

  it('the figures of a safety search that stopped at a violation are not passed on: the liveness phase reports the bytes it reports alone', () => {
    const model = buildModel(threeCounters);
    const { c } = model.handles;
    // Fails: the counts only go up.
    const live = alwaysEventually('back-to-0', 'TC-4', 'process 0 is at 0 infinitely often', eq(c.at(0), 0));
    // Fails at depth 2: the safety search stops after a few of the 1728 states.
    const early = invariant('slow', 'TC-2', 'the sum stays below 2', lt(add(add(c.at(0), c.at(1)), c.at(2)), 2));
    const both = explicitCheckWithLiveness({ model, properties: [live, early], limits: {} });
    expect(both.status === 'violated' && both.violations.map((v) => v.kind)).toEqual(['invariant', 'liveness']);
    expect(both.stats.states).toBeLessThan(1728);
    const alone = livenessCheck({ model, properties: [live], limits: {} });
    expect(alone.status).toBe('violated');
    expect([both.stats.liveness?.states, both.stats.liveness?.storeBytes]).toEqual([1728, alone.stats.storeBytes]);
  });

  it('a safety search that finishes (partial-order reduced) while the liveness graph stops at the state limit: incomplete, with the covers and both figures', () => {
    const model = buildModel(threeCounters);
    const { c } = model.handles;
    const job: CheckJob = {
      model,
      properties: [eventually('first-done', 'TC-1', 'process 0 reaches 11', eq(c.at(0), 11)), cover('one', 'TC-3', 'process 0 counts', eq(c.at(0), 1))],
      limits: { maxStates: 100 },
      explicit: { por: true },
      deadlock: false,
    };
    const r = explicitCheckWithLiveness(job);
    expect(r.status === 'incomplete' && [r.reason, r.covers.map((x) => [x.name, x.reached])]).toEqual(['state limit of 100 reached', [['one', true]]]);
    expect(r.stats.states).toBeLessThan(100);
    expect(r.stats.liveness?.states).toBeGreaterThanOrEqual(100);
  });
});

describe('the annotated quotient, all holding', () => {
  it('ok, exhaustive, no covers, on the quotient', () => {
    const m = buildModel(tokenCount);
    const held = eventually('held', 'TC-3', 'someone holds the token', or(m.handles.has.at(0), m.handles.has.at(1)));
    const r = livenessCheck({ model: m, properties: [held], limits: {}, symmetry: true });
    expect(r).toMatchObject({ status: 'ok', guarantee: 'exhaustive', covers: [], stats: { symmetry: true, states: 2 } });
  });
});

describe('the fair loop of a lasso reads only the edges of the state it asks about', () => {
  /**
   * x counts 0, 1, 2, 0, ... (Step, no fairness); Poke (weakly fair) sets done and is enabled where
   * x is not 1 when z = 0, everywhere when z = 1 (z is fixed by the start state). `eventually done`
   * is violated by the z = 0 cycle of Step, which is weakly fair because Poke is disabled at x = 1
   * (the z = 1 cycle is not: Poke is enabled all along). In breadth-first order the states are
   * (x, z, done) = (0,0,F) (0,1,F), then (0,0,T) (1,0,F) (0,1,T) (1,1,F): the state that disables
   * Poke, (1,0,F), is followed by (0,1,T), whose first edge is Poke's. A fair loop that looked one
   * edge past (1,0,F) would take Poke as enabled there and find no state of the cycle disabling it.
   */
  let doneRef: Parameters<typeof assign>[0] | null = null;
  const poked = defineProtocol({
    name: 'poked-cycle',
    summary: 'a weakly fair rule disabled at one state of a cycle',
    spec: 'checker/explicit/livenessEngine.test.ts',
    params: {},
    variants: [],
    build(b) {
      const x = b.v('x', range(0, 2));
      const z = b.v('z', range(0, 1));
      const done = b.v('done', bool);
      doneRef = done;
      b.init('z0', () => []);
      b.init('z1', () => [assign(z, 1)]);
      b.rule('Poke', {}, () => ({ guard: or(eq(z, 1), ne(x, 1)), body: [assign(done, true)] }), { fairness: 'weak' });
      b.rule('Step', {}, () => ({ guard: true, body: [assign(x, ite(eq(x, 2), 0, add(x, 1)))] }));
      return { x, z, done };
    },
  });

  it('finds the fair cycle of Step at z = 0, whose lasso goes through x = 0, 1 and 2 with done unset, and replays', () => {
    const model = buildModel(poked);
    const finishes = eventually('finishes', 'T-1', 'done is set', doneRef as never);
    const r = livenessCheck({ model, properties: [finishes], limits: {} });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const trace = r.violations[0]?.trace as Trace;
    expect(checkLasso(model, trace, finishes)).toMatchObject({ ok: true });
    // Slots: x, z, done (0 or 1).
    const loop = trace.steps.slice(trace.loop ?? 0).map((s) => Array.from(s.state));
    expect(loop.every(([, z, done]) => z === 0 && done === 0)).toBe(true);
    expect(new Set(loop.map(([x]) => x))).toEqual(new Set([0, 1, 2]));
  });
});
