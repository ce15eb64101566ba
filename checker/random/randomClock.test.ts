/**
 * What the random engine does with the clock and the random source: its progress reports (when,
 * and with which figures, checked exactly against runs of the same seed without a hook), a fresh
 * seed when the job gives none, and its time limit, which must stop the sampling but never hide a
 * failure already found (a limit that expires while the failing run is being shrunk still gives the
 * violation). The clock the engine reads (`Date.now`) is replaced by one that advances a fixed step
 * per read; fast-check keeps its own reference to the real `Date.now`, so its time limit runs on
 * real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { add, and, eq, lt, not } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import type { Progress } from '../engine.js';
import { freshSeed, randomCheck } from './random.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Two counters to 12; both at 12 is the end. In a run of at most 12 steps both rules are always enabled. */
const race = defineProtocol({
  name: 'clock-race',
  summary: 'two counters',
  spec: 'checker/random/randomClock.test.ts',
  params: {},
  variants: [],
  build(b) {
    const a = b.v('a', range(0, 12));
    const c = b.v('b', range(0, 12));
    b.init('zero', () => []);
    b.rule('IncA', {}, () => ({ guard: lt(a, 12), body: [assign(a, add(a, 1))] }));
    b.rule('IncB', {}, () => ({ guard: lt(c, 12), body: [assign(c, add(c, 1))] }));
    b.endState(() => and(eq(a, 12), eq(c, 12)));
    return { a, c };
  },
});
const model = buildModel(race);
const { a, c } = model.handles;

/** Replaces the engine's clock by one that starts at 1,000,000 ms and advances `stepMs` at each read. */
function steppingClock(stepMs: number): void {
  let t = 1_000_000 - stepMs;
  vi.spyOn(Date, 'now').mockImplementation(() => {
    t += stepMs;
    return t;
  });
}

describe('progress reports', () => {
  it('one each 64th run once a second has passed on its clock, with the figures of the runs before it', () => {
    // The clock advances half a second per read, and the engine reads it when it starts and at each
    // 64th run: runs 64, 192, 320, ... (clock 500, 1500, ...) come half a second after the last
    // report; runs 128, 256, 384, ... (exactly one second after it) report.
    steppingClock(500);
    const seen: Progress[] = [];
    const r = randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 600, seed: 3 }, { onProgress: (p) => seen.push(p) });
    vi.restoreAllMocks();
    expect(r.status === 'ok' && r.stats.runs).toBe(600);
    expect(seen.map((p) => p.elapsedMs)).toEqual([1000, 2000, 3000, 4000]);
    // Report k is made before run 128k, with the figures of the runs 1 to 128k - 1, which the same
    // seed generates whatever the number of runs asked for.
    seen.forEach((p, k) => {
      const before = randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 128 * (k + 1) - 1, seed: 3 });
      if (before.status !== 'ok') throw new Error(before.status);
      // Both rules are enabled before every step of these runs: two successors per step.
      expect(p).toEqual({
        generated: 2 * before.stats.steps,
        distinct: before.stats.states,
        queue: 0,
        depth: before.stats.depth,
        elapsedMs: 1000 * (k + 1),
        statesPerSec: Math.round((before.stats.states * 1000) / (1000 * (k + 1))),
      });
    });
    // The figures grow: these runs reach new states and go deeper than the first ones.
    expect(seen[0]!.distinct).toBeGreaterThan(12);
    expect(seen[3]!.distinct).toBeGreaterThan(seen[0]!.distinct);
    expect(seen[3]!.generated).toBeGreaterThan(seen[0]!.generated);
  });

  it('shrinking runs count towards the 64 runs between reports; the figures stay those of the sampled runs', () => {
    steppingClock(1000);
    const seen: Progress[] = [];
    const sum = invariant('sum-below-8', 'K-1', 'a + b stays below 8', lt(add(a, c), 8));
    const r = randomCheck({ model, properties: [sum], limits: { depth: 12 }, runs: 100, seed: 1 }, { onProgress: (p) => seen.push(p) });
    vi.restoreAllMocks();
    if (r.status !== 'violated') throw new Error(r.status);
    // Every 64th run of fast-check's, sampled or shrinking, reports (the clock has advanced a second
    // since the last). fast-check's runs are all but two: the engine runs the failing run once more
    // after fast-check, and then the shortened one.
    const runsOfFastCheck = r.stats.runs + r.stats.shrinkRuns - 2;
    expect(r.stats.runs).toBeLessThan(64);
    expect(runsOfFastCheck).toBeGreaterThan(128);
    expect(seen).toHaveLength(Math.floor(runsOfFastCheck / 64));
    expect(seen.map((p) => p.elapsedMs)).toEqual(seen.map((_, k) => 1000 * (k + 1)));
    // After the failing run, nothing is counted in the figures any more.
    const last = seen.at(-1)!;
    expect([last.distinct, last.depth]).toEqual([r.stats.states, r.stats.depth]);
  });

  it('a check without a progress hook runs the same on the same clock', () => {
    steppingClock(1000);
    const r = randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 300, seed: 3 });
    vi.restoreAllMocks();
    const again = randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 300, seed: 3 });
    expect([r.status, again.status]).toEqual(['ok', 'ok']);
    expect([r.stats.runs, r.stats.steps, r.stats.states]).toEqual([again.stats.runs, again.stats.steps, again.stats.states]);
    expect(r.stats.runs).toBe(300);
  });
});

describe('a progress hook that throws', () => {
  it('gives its exception to the caller, once, instead of a failing run or an internal error (MC040)', () => {
    steppingClock(1000);
    const hookError = new Error('the caller stopped');
    let calls = 0;
    const hook = () => {
      calls++;
      throw hookError;
    };
    expect(() => randomCheck({ model, properties: [], limits: { depth: 12 }, runs: 600, seed: 3 }, { onProgress: hook })).toThrow(hookError);
    // Nothing ran the hook again once it had thrown (fast-check's shrinking of the "failure" included).
    expect(calls).toBe(1);
  });
});

describe('a fresh seed', () => {
  it('is Math.random scaled to a non-negative 31-bit integer, and used and recorded by a job without one', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(freshSeed()).toBe(0x3fffffff);
    const r = randomCheck({ model, properties: [], limits: { depth: 4 }, runs: 5 });
    expect(r.stats.seed).toBe(0x3fffffff);
    vi.spyOn(Math, 'random').mockReturnValue(0.9999999999);
    expect(freshSeed()).toBe(0x7ffffffe);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(freshSeed()).toBe(0);
  });
});

describe('the time limit', () => {
  it('a limit that is not reached changes nothing: every run asked for, ok', () => {
    const r = randomCheck({ model, properties: [], limits: { depth: 12, timeLimitSec: 60 }, runs: 200, seed: 2 });
    expect(r.status === 'ok' && [r.stats.runs, r.guarantee]).toEqual([200, 'sampled']);
  });

  it('a limit that expires while the failing run is being shrunk still gives the violation, with a trace that replays', () => {
    // b reaches 10 while a is 0 (a swarm run holding IncA back); seed 4 finds it at run 3. The
    // progress hook, called every 64th run (the engine's clock advances a second per read), waits
    // until the real time limit has passed, which fast-check notices at its next run: a shrinking run.
    const alone = invariant('b-alone', 'K-2', 'b never reaches 10 while a is 0', not(and(eq(c, 10), eq(a, 0))));
    const job = { model, properties: [alone], limits: { depth: 12 }, runs: 100, seed: 4 };
    const full = randomCheck(job);
    if (full.status !== 'violated') throw new Error(full.status);
    expect(full.stats.runs).toBe(3);
    expect(full.stats.runs + full.stats.shrinkRuns).toBeGreaterThan(64);
    steppingClock(1000);
    const limitMs = 300;
    const started = performance.now();
    let waited = 0;
    const r = randomCheck(
      { ...job, limits: { depth: 12, timeLimitSec: limitMs / 1000 } },
      {
        onProgress: () => {
          waited++;
          while (performance.now() - started < limitMs + 50) {
            // Busy wait: the limit must pass during the check.
          }
        },
      },
    );
    vi.restoreAllMocks();
    expect(waited).toBeGreaterThan(0);
    if (r.status !== 'violated') throw new Error(`expected the violation, got ${r.status}`);
    // Interrupted: fewer shrinking runs than the check without a limit.
    expect(r.stats.runs).toBe(3);
    expect(r.stats.shrinkRuns).toBeLessThan(full.stats.shrinkRuns);
    const t = r.violations[0]?.trace;
    expect(t?.property).toBe('b-alone');
    expect(replayTrace(model, [alone], t!).violation?.property).toBe('b-alone');
  });
});
