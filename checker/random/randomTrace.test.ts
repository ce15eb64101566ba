/**
 * What the random engine records, on a counter small enough to know every answer: the trace of a
 * violation (start label and choice, rule labels, the seed, the raw choices and fast-check's path),
 * which must reproduce the same counterexample when given back; a start state other than the first;
 * the statistics of runs that find nothing (states and depth checked against the exhaustive search);
 * the note and failing choice of a model error; and shrinking that keeps the property that failed.
 */
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { add, and, eq, lt, ne, not } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { bool, range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { randomCheck } from './random.js';

/**
 * n counts up by Inc to 4 (a legal end state), or jumps from 1 to 3 (Jump). Two start states: n = 0,
 * and n = 2 with the flag `late` set (`two`). `overflow`: Inc is also enabled at 4 and overflows.
 */
const counter = defineProtocol({
  name: 'trace-counter',
  summary: 'a counter with two starts',
  spec: 'checker/random/randomTrace.test.ts',
  params: {},
  variants: [{ name: 'overflow', summary: 'Inc overflows at 4', cites: 'test' }],
  build(b, cfg) {
    const n = b.v('n', range(0, 4));
    const late = b.v('late', bool);
    b.init('zero', () => []);
    b.init('two', () => [assign(n, 2), assign(late, true)]);
    b.rule('Inc', {}, () => ({ guard: lt(n, cfg.is('overflow') ? 5 : 4), body: [assign(n, add(n, 1))] }));
    b.rule('Jump', {}, () => ({ guard: eq(n, 1), body: [assign(n, 3)] }));
    b.endState(() => eq(n, 4));
    return { n, late };
  },
});
const model = buildModel(counter);
const { n, late } = model.handles;

describe('the trace of a random counterexample', () => {
  const below4 = invariant('below-4', 'R-1', 'n stays below 4', lt(n, 4));
  // Run in each test, not in the describe body or a beforeAll: Stryker's per-test coverage credits a
  // test only with the code run while that test runs (its setup hooks run at beforeEach/afterEach), so
  // a check run at collection time or in beforeAll would kill no mutant. It takes milliseconds.
  const check = () => randomCheck({ model, properties: [below4], limits: { depth: 8 }, runs: 100, seed: 11 });

  it('is a run to the violation from the first start state (fast-check shrinks the start index to 0), labelled and replayable', () => {
    const r = check();
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const t = r.violations[0]?.trace;
    expect(t).toBeDefined();
    if (!t) return;
    // Seed 11 finds 0 -> 1 -> 2 -> 3 -> 4 by Inc (no step can be dropped; the two-step start 'two' and
    // the Jump shortcut are not what shrinking explores): a valid run, pinned for this seed.
    expect(t.steps.map((s) => [s.choice, s.label, Array.from(s.state)])).toEqual([
      [0, 'init zero', [0, 0]],
      [0, 'Inc()', [1, 0]],
      [0, 'Inc()', [2, 0]],
      [0, 'Inc()', [3, 0]],
      [0, 'Inc()', [4, 0]],
    ]);
    expect([t.engine, t.property, t.requirement, t.seed, t.protocol, t.variant]).toEqual(['random', 'below-4', 'R-1', '11', 'trace-counter', null]);
    expect(r.violations[0]?.message).toBe('invariant below-4 (R-1) violated: n stays below 4');
    expect(replayTrace(model, [below4], t).violation?.step).toBe(4);
  });

  it('a violation only the second start state has: its index and name in the trace', () => {
    const early = invariant('early', 'R-4', 'never started late', not(late));
    const v = randomCheck({ model, properties: [early], limits: { depth: 8 }, runs: 100, seed: 3 });
    expect(v.status === 'violated' && v.violations[0]?.trace?.steps.map((s) => [s.choice, s.label, Array.from(s.state)])).toEqual([[1, 'init two', [2, 1]]]);
    expect(v.status === 'violated' && v.violations[0]?.trace?.extra?.rawChoices).toEqual([1]);
  });

  it('records the start index and raw choices of the run, the runs, the depth and the shrinking', () => {
    const r = check();
    if (r.status !== 'violated') throw new Error(r.status);
    const t = r.violations[0]?.trace;
    const extra = t?.extra as Record<string, unknown>;
    expect((extra.rawChoices as number[]).length).toBe(t?.steps.length);
    expect(extra.rawChoices).toEqual([0, 0, 0, 0, 0]);
    expect(extra.fcCounterexampleSteps).toBe(4);
    expect(extra.runs).toBe(r.stats.runs);
    expect(extra.depth).toBe(8);
    expect(r.bound).toBe(8);
    expect(r.guarantee).toBe('sampled');
    expect(typeof extra.fcPath).toBe('string');
    expect(extra.shrinks as number).toBeGreaterThanOrEqual(0);
    // The failing run was the first; every later run was shrinking it.
    expect(r.stats.runs).toBe(1);
    expect(r.stats.steps).toBe(4);
    expect(r.stats.shrinkRuns).toBeGreaterThanOrEqual(1);
    expect(r.stats.shrinkSteps).toBeGreaterThanOrEqual(r.stats.shrinkRuns);
    expect(r.stats.seed).toBe(11);
  });

  it('the same seed and fast-check path give the same counterexample again', () => {
    const r = check();
    if (r.status !== 'violated') throw new Error(r.status);
    const t = r.violations[0]?.trace;
    const again = randomCheck({ model, properties: [below4], limits: { depth: 8 }, runs: 100, seed: 11 }, {}, { path: t?.extra?.fcPath as string });
    expect(again.status).toBe('violated');
    if (again.status !== 'violated') return;
    const u = again.violations[0]?.trace;
    expect(u?.steps.map((s) => [s.choice, Array.from(s.state)])).toEqual(t?.steps.map((s) => [s.choice, Array.from(s.state)]));
    expect(u?.extra?.rawChoices).toEqual(t?.extra?.rawChoices);
  });
});

describe('statistics of runs that find nothing', () => {
  it('every reachable state seen, the longest run as deep as the deepest state, no shrinking', () => {
    const r = randomCheck({ model, properties: [], limits: { depth: 6 }, runs: 300, seed: 4 });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    const bfs = explicitCheck({ model, properties: [], limits: {} });
    expect(bfs.stats.states).toBe(8);
    expect(r.stats.states).toBe(bfs.stats.states);
    // The longest run: 0 -> 1 -> 2 -> 3 -> 4 by Inc, then the end state (nothing enabled). The
    // states: n = 0..4 with the flag clear, n = 2..4 with it set.
    expect(r.stats.depth).toBe(4);
    expect(r.stats.runs).toBe(300);
    expect(r.stats.steps).toBeGreaterThanOrEqual(300);
    expect(r.stats.steps).toBeLessThanOrEqual(4 * 300);
    expect([r.stats.shrinkRuns, r.stats.shrinkSteps]).toEqual([0, 0]);
    expect(r.covers).toEqual([]);
  });
});

describe('a model error', () => {
  it('is an error whose trace leads to the failing state, with the failing choice and the message as its note', () => {
    const m = buildModel(counter, { variant: 'overflow' });
    const r = randomCheck({ model: m, properties: [], limits: { depth: 8 }, runs: 100, seed: 2 });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.code).toBe('MC011');
    const t = r.trace;
    expect(t?.steps.map((s) => [s.choice, s.label, Array.from(s.state)])).toEqual([
      [0, 'init zero', [0, 0]],
      [0, 'Inc()', [1, 0]],
      [1, 'Jump()', [3, 0]],
      [0, 'Inc()', [4, 0]],
    ]);
    expect(t?.extra?.failingChoice).toBe(0);
    expect(t?.note).toBe('in rule Inc(): value 5 out of range 0..4 assigned to n');
    expect(t?.property).toBeNull();
    expect(r.message).toBe('model error in rule Inc(): value 5 out of range 0..4 assigned to n (after 3 steps; the trace leads to the state where it fails)');
  });
});

describe('shrinking keeps the property that failed', () => {
  // Two invariants: n never 4, listed first, and n never 3, which every run reaches before 4.
  // Shrinking drops steps while the same invariant breaks: the result breaks not-3, by Inc then
  // Jump, or by three Incs (from which no single step can be dropped or moved).
  const not3 = invariant('not-3', 'R-2', 'n is never 3', ne(n, 3));
  const not4 = invariant('not-4', 'R-3', 'n is never 4', and(ne(n, 4), true));
  it.each([1, 2, 3, 4, 5, 6])('seed %i', (seed) => {
    const r = randomCheck({ model, properties: [not4, not3], limits: { depth: 8 }, runs: 200, seed }, {}, { swarm: false });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const t = r.violations[0]?.trace;
    const rep = replayTrace(model, [not4, not3], t!);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe('not-3');
    expect(t?.property).toBe('not-3');
    expect([['Inc()', 'Jump()'].join(), ['Inc()', 'Inc()', 'Inc()'].join()]).toContain(
      t?.steps
        .slice(1)
        .map((s) => s.label)
        .join(),
    );
  });
});
