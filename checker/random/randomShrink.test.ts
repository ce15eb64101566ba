/**
 * What the random engine adds to fast-check's own shrinking, and the options of its main flow, on
 * models small enough to know every answer. `sameStop` says which stops are the same broken
 * property; `dropIrrelevantSteps` drops steps, or moves one later, while the same property still
 * breaks, and must keep the property (two properties where dropping a step breaks the other one
 * first); a counterexample, deadlocks included, is as short as the BFS shortest on a model where
 * fast-check alone leaves a step too many. Swarm runs find a race a uniform walk misses, the
 * fast-check path replays a counterexample, the depth is a bound that is reached (one step too),
 * covers are reported at the BFS depth, a time limit gives `incomplete`, the statistics count the
 * sampled runs apart from the shrinking, and the raw choices of a model error's trace replay it as a
 * plain run.
 */
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { compileModel } from '../../model/lang/compile.js';
import { add, and, eq, ite, lt, ne, not, or, pre } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { bool, range } from '../../model/lang/types.js';
import { type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { dropIrrelevantSteps, randomCheck, sameStop } from './random.js';
import { ChoiceRunner, type RecordedStep, type RunStop } from './runChoices.js';

/**
 * An operation issued while its page is blocked waits (p = 1) and is resumed after the unblock; one
 * issued after the unblock completes at once (p = 2). With every rule's first enabled instance taken
 * (fast-check's smallest choices), the run is Issue, Unblock, Resume; the shortest is Unblock, Issue.
 * No end state: p = 2 with the page unblocked is a deadlock.
 */
const blocked = defineProtocol({
  name: 'shrink-blocked',
  summary: 'an operation issued while blocked',
  spec: 'checker/random/randomShrink.test.ts',
  params: {},
  variants: [],
  build(b) {
    const isBlocked = b.v('blocked', bool);
    const p = b.v('p', range(0, 2));
    b.init('start', () => [assign(isBlocked, true)]);
    b.rule('Issue', {}, () => ({ guard: eq(p, 0), body: [assign(p, ite(isBlocked, 1, 2))] }));
    b.rule('Unblock', {}, () => ({ guard: isBlocked, body: [assign(isBlocked, false)] }));
    b.rule('Resume', {}, () => ({ guard: and(eq(p, 1), not(isBlocked)), body: [assign(p, 2)] }));
    return { p };
  },
});
const [ISSUE, UNBLOCK, RESUME] = [0, 1, 2];

/** n counts to 3 by Inc; Tick flips a bit that nothing reads; Arm sets m once. 3 is a legal end state. */
const counter = defineProtocol({
  name: 'shrink-counter',
  summary: 'a counter with an irrelevant bit and an arming flag',
  spec: 'checker/random/randomShrink.test.ts',
  params: {},
  variants: [],
  build(b) {
    const n = b.v('n', range(0, 3));
    const t = b.v('t', bool);
    const m = b.v('m', bool);
    b.init('zero', () => []);
    b.rule('Tick', {}, () => ({ guard: true, body: [assign(t, not(t))] }));
    b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
    b.rule('Arm', {}, () => ({ guard: not(m), body: [assign(m, true)] }));
    b.endState(() => eq(n, 3));
    return { n, m };
  },
});
const [TICK, INC, ARM] = [0, 1, 2];

/** Two counters to 12; `overflow`: IncB is enabled at 12 too and overflows. Both at 12 is the end. */
const race = defineProtocol({
  name: 'shrink-race',
  summary: 'two counters',
  spec: 'checker/random/randomShrink.test.ts',
  params: {},
  variants: [{ name: 'overflow', summary: 'IncB overflows at 12', cites: 'test' }],
  build(b, cfg) {
    const a = b.v('a', range(0, 12));
    const c = b.v('b', range(0, 12));
    b.init('zero', () => []);
    b.rule('IncA', {}, () => ({ guard: lt(a, 12), body: [assign(a, add(a, 1))] }));
    b.rule('IncB', {}, () => ({ guard: cfg.is('overflow') ? true : lt(c, 12), body: [assign(c, add(c, 1))] }));
    b.endState(() => and(eq(a, 12), eq(c, 12)));
    return { a, c };
  },
});

/**
 * Work sets n to 1, and needs the lock free; Lock and Unlock take and free it (always enabled), Tick
 * flips a bit nothing reads. In the state Work leads to (n = 1), Boom is enabled and overflows n: the
 * successors of that state cannot be computed, so a run can end there but not go on from there.
 */
const locked = defineProtocol({
  name: 'shrink-locked',
  summary: 'a step that needs a lock, and a model error after it',
  spec: 'checker/random/randomShrink.test.ts',
  params: {},
  variants: [{ name: 'twice', summary: 'Work twice to n = 2, where Boom is enabled', cites: 'test' }],
  build(b, cfg) {
    const top = cfg.is('twice') ? 2 : 1;
    const isLocked = b.v('locked', bool);
    const n = b.v('n', range(0, top));
    const t = b.v('t', bool);
    b.init('free', () => []);
    b.rule('Tick', {}, () => ({ guard: true, body: [assign(t, not(t))] }));
    b.rule('Lock', {}, () => ({ guard: true, body: [assign(isLocked, true)] }));
    b.rule('Unlock', {}, () => ({ guard: true, body: [assign(isLocked, false)] }));
    b.rule('Work', {}, () => ({ guard: and(not(isLocked), lt(n, top)), body: [assign(n, add(n, 1))] }));
    b.rule('Boom', {}, () => ({ guard: eq(n, top), body: [assign(n, add(n, 1))] }));
    return { n };
  },
});
const [L_TICK, L_LOCK, L_UNLOCK, L_WORK] = [0, 1, 2, 3];

function runnerOf(model: ReturnType<typeof buildModel>, properties: Property[]) {
  return new ChoiceRunner(compileModel(model, properties), model.layout.nSlots, model.instances.length);
}

/** The number of steps of the BFS shortest counterexample (the explicit engine's trace). */
function bfsShortest(model: ReturnType<typeof buildModel>, properties: Property[]): number {
  const r = explicitCheck({ model, properties, limits: {} });
  if (r.status !== 'violated') throw new Error(`expected a violation, got ${r.status}`);
  return (r.violations[0]?.trace?.steps.length ?? 0) - 1;
}

describe('sameStop', () => {
  const inv0: RunStop = { kind: 'invariant', index: 0 };
  const inv1: RunStop = { kind: 'invariant', index: 1 };
  const step0: RunStop = { kind: 'step', index: 0 };
  const step1: RunStop = { kind: 'step', index: 1 };
  const dead: RunStop = { kind: 'deadlock' };
  const err: RunStop = { kind: 'modelError', error: new Error('x') };
  it('the same invariant, the same step property or both a deadlock; nothing else', () => {
    const all = [inv0, inv1, step0, step1, dead, err];
    // Each stop against each: the same property only on the diagonal, and a model error is none.
    const table = all.map((a) => all.map((b) => sameStop(a, b)));
    expect(table).toEqual(all.map((a, i) => all.map((_, j) => i === j && a.kind !== 'modelError')));
    expect(sameStop({ kind: 'invariant', index: 1 }, inv1)).toBe(true);
    expect(all.map((b) => sameStop(null, b))).toEqual(all.map(() => false));
  });
});

describe('dropIrrelevantSteps', () => {
  it('drops every step that does not matter, the first one included', () => {
    const model = buildModel(counter);
    const below3 = invariant('below-3', 'S-1', 'n stays below 3', lt(model.handles.n, 3));
    const runner = runnerOf(model, [below3]);
    const init = Int32Array.from([0, 0, 0]);
    const run = [TICK, INC, TICK, ARM, INC, TICK, INC];
    // The run breaks below-3 at its last step; only the three Incs matter (BFS shortest: 3).
    expect(runner.runInstances(init, run, true)?.outcome.stop).toEqual({ kind: 'invariant', index: 0 });
    expect(dropIrrelevantSteps(runner, init, run, { kind: 'invariant', index: 0 }, true)).toEqual([INC, INC, INC]);
    expect(bfsShortest(model, [below3])).toBe(3);
  });

  it('moves a step later when its being early is what needs the other steps (issue after the unblock)', () => {
    const model = buildModel(blocked);
    const issued = invariant('not-issued', 'S-2', 'p never completes', ne(model.handles.p, 2));
    const runner = runnerOf(model, [issued]);
    const init = Int32Array.from([1, 0]);
    // No single step can be dropped (Resume needs both others, and without Resume nothing breaks);
    // moving Issue after Unblock leaves Resume disabled and out.
    expect(dropIrrelevantSteps(runner, init, [ISSUE, UNBLOCK, RESUME], { kind: 'invariant', index: 0 }, true)).toEqual([UNBLOCK, ISSUE]);
    expect(bfsShortest(model, [issued])).toBe(2);
  });

  it('shortens a deadlock as well (the deadlock shows only with a choice after the last step)', () => {
    const model = buildModel(blocked);
    const runner = runnerOf(model, []);
    const init = Int32Array.from([1, 0]);
    // Both runs end in blocked = false, p = 2, where nothing is enabled.
    expect(runner.run(init, [0, 0, 0, 0], { checkDeadlock: true }).stop).toEqual({ kind: 'deadlock' });
    expect(dropIrrelevantSteps(runner, init, [ISSUE, UNBLOCK, RESUME], { kind: 'deadlock' }, true)).toEqual([UNBLOCK, ISSUE]);
    expect(bfsShortest(model, [])).toBe(2);
  });

  describe('where a step cannot be moved past the violation (the state there has a model error), it is dropped', () => {
    // Moving a step to the end needs the successors of the violating state, which raise the overflow;
    // dropping it does not. The result is a run that stops at its last step, with the same property.
    const model = buildModel(locked);
    const worked = invariant('not-worked', 'S-9', 'n stays 0', eq(model.handles.n, 0));
    const runner = runnerOf(model, [worked]);
    const init = Int32Array.from([0, 0, 0]);
    const stop: RunStop = { kind: 'invariant', index: 0 };
    const shrunk = (run: number[]) => {
      expect(runner.runInstances(init, run, true)?.outcome).toMatchObject({ length: run.length, stop });
      const out = dropIrrelevantSteps(runner, init, run, stop, true);
      expect(runner.runInstances(init, out, true)?.outcome).toMatchObject({ length: out.length, stop });
      return out;
    };
    it('an irrelevant first step', () => {
      expect(runner.runInstances(init, [L_WORK, L_TICK], true, true)).toBeNull();
      expect(shrunk([L_TICK, L_WORK])).toEqual([L_WORK]);
      expect(shrunk([L_TICK, L_TICK, L_WORK])).toEqual([L_WORK]);
    });
    it('a step that only the dropped step made necessary: a second round of drops', () => {
      // With Lock taken, Unlock is needed (Work needs the lock free); once Lock is dropped, it is not.
      // Dropping Unlock first leaves Work disabled, so the last steps are tried before Lock goes.
      expect(runner.runInstances(init, [L_LOCK, L_WORK], true)).toBeNull();
      expect(shrunk([L_LOCK, L_UNLOCK, L_WORK])).toEqual([L_WORK]);
      expect(shrunk([L_TICK, L_LOCK, L_UNLOCK, L_WORK])).toEqual([L_WORK]);
    });
    it('an irrelevant step before a run of two steps (the variant twice: Work twice breaks n < 2)', () => {
      const twice = buildModel(locked, { variant: 'twice' });
      const below2 = invariant('below-2', 'S-10', 'n stays below 2', lt(twice.handles.n, 2));
      const r2 = runnerOf(twice, [below2]);
      const run = [L_TICK, L_WORK, L_WORK];
      expect(r2.runInstances(init, run, true)?.outcome).toMatchObject({ length: 3, stop });
      expect(dropIrrelevantSteps(r2, init, run, stop, true)).toEqual([L_WORK, L_WORK]);
    });
    it('and randomCheck reports the BFS shortest run, one step, for every seed', () => {
      expect(bfsShortest(model, [worked])).toBe(1);
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        const r = randomCheck({ model, properties: [worked], limits: { depth: 6 }, runs: 100, seed });
        expect(r.status === 'violated' && r.violations[0]?.trace?.steps.slice(1).map((x) => x.label)).toEqual(['Work()']);
      }
    });
  });

  describe('keeps the property that broke when dropping a step breaks another one first', () => {
    // Every run to n = 3 passes n = 2, and (armed) reaching 2 needs Arm first: the shortest run that
    // breaks below-3 without breaking armed is Arm, Inc, Inc, Inc. Dropping Arm breaks armed at step 2.
    const model = buildModel(counter);
    const { n, m } = model.handles;
    const below3 = invariant('below-3', 'S-1', 'n stays below 3', lt(n, 3));
    const armedInv = invariant('armed', 'S-3', 'armed before n reaches 2', or(lt(n, 2), m));
    const armedStep = stepProperty(model, 'armed-step', 'S-4', 'armed before the step from 1', 'Inc', () => or(ne(pre(n), 1), m));
    const init = Int32Array.from([0, 0, 0]);
    const run = [ARM, INC, INC, INC];
    it('another invariant (a different index)', () => {
      const runner = runnerOf(model, [below3, armedInv]);
      expect(runner.runInstances(init, [INC, INC, INC], true)?.outcome).toMatchObject({ length: 2, stop: { kind: 'invariant', index: 1 } });
      expect(dropIrrelevantSteps(runner, init, run, { kind: 'invariant', index: 0 }, true)).toEqual(run);
    });
    it('a step property (a different kind, the same index)', () => {
      const runner = runnerOf(model, [below3, armedStep]);
      expect(runner.runInstances(init, [INC, INC, INC], true)?.outcome).toMatchObject({ length: 2, stop: { kind: 'step', index: 0 } });
      expect(dropIrrelevantSteps(runner, init, run, { kind: 'invariant', index: 0 }, true)).toEqual(run);
    });
  });
});

describe('randomCheck gives the BFS shortest counterexample where fast-check alone leaves a step too many', () => {
  const model = buildModel(blocked);
  const issued = invariant('not-issued', 'S-2', 'p never completes', ne(model.handles.p, 2));
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  it.each([
    ['an invariant', [issued]],
    ['a deadlock', []],
  ])('%s, seeds 1 to 12', (_what, properties) => {
    const shortest = bfsShortest(model, properties);
    const longer: number[] = [];
    for (const seed of seeds) {
      const r = randomCheck({ model, properties, limits: { depth: 8 }, runs: 200, seed });
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      const t = r.violations[0]?.trace;
      if (!t) throw new Error('no trace');
      expect(t.steps.length - 1).toBe(shortest);
      // The trace names the property the violation reports.
      const v = r.violations[0];
      expect([t.property, t.requirement]).toEqual([v?.property, v?.requirement]);
      expect(v?.requirement).toBe(properties.length > 0 ? 'S-2' : 'deadlock');
      const rep = replayTrace(model, properties, t, { checkDeadlock: true });
      expect([rep.mismatch, rep.violation?.property ?? null]).toEqual([null, r.violations[0]?.property]);
      if ((t.extra?.fcCounterexampleSteps as number) > shortest) longer.push(seed);
    }
    // The check has teeth: for some seeds fast-check's own counterexample was longer.
    expect(longer.length).toBeGreaterThan(0);
  });
});

describe('swarm runs, the fast-check path, the depth bound and the statistics', () => {
  const model = buildModel(race);
  const { a, c } = model.handles;
  // b reaches 10 while a is still 0: ten IncB in a row. A uniform walk takes IncA or IncB at each
  // step (and fast-check favours small choices, i.e. IncA); a swarm run holding IncA back does it.
  const alone = invariant('b-alone', 'S-5', 'b never reaches 10 while a is 0', not(and(eq(c, 10), eq(a, 0))));
  const job = (seed: number, runs = 100, depth = 12) => ({ model, properties: [alone], limits: { depth }, runs, seed });
  const seeds = [1, 2, 3, 4, 5, 7];

  it('swarm runs (the default) find the race with IncA held back; with swarm off the same seeds do not', () => {
    for (const seed of seeds) {
      const on = randomCheck(job(seed));
      const off = randomCheck(job(seed), {}, { swarm: false });
      const byDefault = randomCheck(job(seed), {}, { swarm: true });
      expect([seed, on.status, off.status]).toEqual([seed, 'violated', 'ok']);
      if (on.status !== 'violated' || byDefault.status !== 'violated') throw new Error('not found');
      const t = on.violations[0]?.trace;
      expect(t?.extra?.swarmHeldBack).toEqual(['IncA']);
      expect(t?.steps.slice(1).map((s) => s.label)).toEqual(Array.from({ length: 10 }, () => 'IncB()'));
      expect(byDefault.violations[0]?.trace?.extra).toEqual(t?.extra);
      expect(replayTrace(model, [alone], t!).violation?.property).toBe('b-alone');
    }
  });

  it("a counterexample's fast-check path replays it in one run with the same seed; that run alone finds nothing", () => {
    const first = randomCheck(job(1));
    if (first.status !== 'violated') throw new Error(first.status);
    expect(first.stats.runs).toBeGreaterThan(1);
    const t = first.violations[0]?.trace;
    const again = randomCheck(job(1, 1), {}, { path: t?.extra?.fcPath as string });
    expect(again.status === 'violated' && again.violations[0]?.trace?.extra?.rawChoices).toEqual(t?.extra?.rawChoices);
    expect(randomCheck(job(1, 1)).status).toBe('ok');
  });

  it('the depth is a bound that is reached: ten steps find the race, nine cannot', () => {
    const ten = randomCheck(job(1, 100, 10));
    expect(ten.status === 'violated' && ten.violations[0]?.trace?.steps.length).toBe(11);
    const nine = randomCheck(job(1, 300, 9));
    expect(nine.status === 'ok' && [nine.bound, nine.stats.depth]).toEqual([9, 9]);
  });

  it('reports each cover at the shallowest depth a run reached it: the BFS depth, which a quarter of the runs reach; and the time taken', () => {
    // Later runs reach both covers deeper too (b = 2 after some IncA), which must not replace the depth.
    const covers = [cover('a-1', 'S-7', 'a reaches 1', eq(a, 1)), cover('b-2', 'S-8', 'b reaches 2', eq(c, 2))];
    const bfs = explicitCheck({ model, properties: covers, limits: {} });
    expect(bfs.status === 'ok' && bfs.covers.map((x) => x.depth)).toEqual([1, 2]);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = randomCheck({ model, properties: covers, limits: { depth: 12 }, runs: 200, seed });
      expect(r.status === 'ok' && r.covers.map((x) => [x.name, x.reached, x.depth])).toEqual([
        ['a-1', true, 1],
        ['b-2', true, 2],
      ]);
    }
    const t0 = Date.now();
    const r = randomCheck({ model, properties: covers, limits: { depth: 12 }, runs: 200, seed: 1 });
    const t1 = Date.now();
    expect(r.stats.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(r.stats.elapsedMs).toBeLessThanOrEqual(t1 - t0);
  });

  it('a depth of one is a valid bound: one step per run', () => {
    const r = randomCheck(job(1, 20, 1));
    expect(r.status === 'ok' && [r.bound, r.stats.depth, r.stats.runs]).toEqual([1, 1, 20]);
    expect(r.stats.steps).toBeLessThanOrEqual(20);
  });

  it('a time limit stops the sampling: incomplete, not a proof, after fewer runs than asked', () => {
    const r = randomCheck({ model, properties: [], limits: { depth: 12, timeLimitSec: 0.05 }, runs: 100_000_000, seed: 1 });
    expect(r.status).toBe('incomplete');
    if (r.status !== 'incomplete') return;
    expect(r.stats.runs).toBeLessThan(100_000_000);
    expect(r.reason).toContain(`after ${r.stats.runs} of 100000000 runs`);
  });

  it('records the seed, and counts distinct states of the sampled runs only (at most one per step and start)', () => {
    const r = randomCheck(job(4));
    if (r.status !== 'violated') throw new Error(r.status);
    const t = r.violations[0]?.trace;
    expect([r.stats.seed, t?.seed, t?.extra?.fcSeed]).toEqual([4, '4', 4]);
    expect(r.stats.shrinkRuns).toBeGreaterThan(0);
    // Every shrinking run takes between 0 and 12 steps, and the first ones take some.
    expect(r.stats.shrinkSteps).toBeGreaterThan(0);
    expect(r.stats.shrinkSteps).toBeLessThanOrEqual(12 * r.stats.shrinkRuns);
    // The failing sampled run is run 3, and reached the race: at most 1 + its steps new states.
    expect(r.stats.runs).toBe(3);
    expect(r.stats.states).toBeGreaterThanOrEqual(11);
    expect(r.stats.states).toBeLessThanOrEqual(1 + r.stats.steps);
    // The same seed generates the same first two runs whatever the property: without it, those two
    // runs find nothing. The failing run adds at most one new state per step it takes; the shrinking
    // runs (swarm runs made plain, other choices) add none.
    const before = randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 2, seed: 4 });
    if (before.status !== 'ok') throw new Error(before.status);
    expect(r.stats.states).toBeGreaterThanOrEqual(before.stats.states);
    expect(r.stats.states).toBeLessThanOrEqual(before.stats.states + (r.stats.steps - before.stats.steps));
  });

  it('the distinct states are those of the sampled runs, not of the shrinking runs', () => {
    // a + b reaches 8 in most runs of twelve steps, so a run fails early; shrinking then tries many
    // other interleavings, through states no sampled run saw.
    const sum = invariant('sum-below-8', 'S-6', 'a + b stays below 8', lt(add(a, c), 8));
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = randomCheck({ model, properties: [sum], limits: { depth: 12 }, runs: 100, seed });
      if (r.status !== 'violated') throw new Error(r.status);
      expect(r.stats.shrinkRuns).toBeGreaterThan(0);
      // The runs before the failing one, as the same seed generates them without the property.
      const before =
        r.stats.runs > 1 ? randomCheck({ model, properties: [], limits: { depth: 12 }, runs: r.stats.runs - 1, seed }).stats : { states: 1, steps: 0 };
      // The failing run adds one new state per step at most (a + b grows by one each step, so a
      // single run repeats no state); its shrinking adds none.
      expect(r.stats.states).toBeGreaterThanOrEqual(before.states);
      expect(r.stats.states).toBeLessThanOrEqual(before.states + (r.stats.steps - before.steps));
    }
  });
});

describe('the trace of a model error', () => {
  it('records raw choices that replay it as a plain run, though the failing run was a swarm run', () => {
    // IncB overflows at b = 12 only after twelve IncB in a row: a swarm run holding IncA back.
    const model = buildModel(race, { variant: 'overflow' });
    const r = randomCheck({ model, properties: [], limits: { depth: 14 }, runs: 200, seed: 1 });
    expect(r.status === 'error' && r.code).toBe('MC011');
    if (r.status !== 'error' || !r.trace) throw new Error(r.status);
    const raw = r.trace.extra?.rawChoices as number[];
    const recorded: RecordedStep[] = [];
    runnerOf(model, []).run(Int32Array.from([0, 0]), raw.slice(1), { checkDeadlock: true, record: (s) => recorded.push(s) });
    expect(recorded.map((s) => s.instance)).toEqual(r.trace.steps.slice(1).map((s) => s.choice));
    expect(r.trace.steps.length - 1).toBe(12);
  });
});
