/**
 * What an explicit run reports besides its verdict. Why this file exists: the figures, the shard
 * fields that `mirrorcheck merge` relies on, the thread figures, the cover requirements and
 * `collapse: true` of a collapsed exact store are built in explicit.ts from the search's counters;
 * the search tests compare the counts with a walk but not these. The oracles: the run's own wall
 * time, the store's bytes over its states, the same check's shards against each other and against
 * other checks, the walk's counts, and counts worked out by hand.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { add, eq, ite, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { cover, invariant } from '../../properties/property.js';
import { walk } from '../../test/searchWalk.js';
import { type CheckJob, PREALLOCATED_STATES, modelErrorMessage } from '../engine.js';
import { explicitCheck, explicitRun } from './explicit.js';

/** Three counters 0..top-1, each bumped (wrapping) by its own rule: top^3 states, three edges each. */
function cube(top: number) {
  const model = buildModel(
    defineProtocol({
      name: 'explicit-cube',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const a = b.v('a', range(0, top - 1));
        const c = b.v('c', range(0, top - 1));
        const d = b.v('d', range(0, top - 1));
        b.init('zero', () => []);
        for (const [i, v] of [a, c, d].entries()) b.rule(`Bump${i}`, {}, () => ({ guard: true, body: [assign(v, ite(lt(v, top - 1), add(v, 1), 0))] }));
        return { a, c, d };
      },
    }),
  );
  return model;
}

describe('explicit run figures', () => {
  it('states, transitions and depth as the walk; elapsed time within the wall time; states per second and bytes a state from them (null below the preallocated store)', async () => {
    for (const top of [4, 41]) {
      const model = cube(top);
      const w = walk(model, [], false, 'bfs', {});
      for (const run of ['sync', 'async']) {
        const t0 = Date.now();
        const job: CheckJob = { model, properties: [], limits: {}, deadlock: false };
        const r = run === 'sync' ? explicitCheck(job) : await explicitRun(job);
        const wall = Date.now() - t0;
        const s = r.stats;
        expect([run, r.status, s.states, s.transitions, s.depth]).toEqual([run, 'ok', w.states, w.transitions, w.maxDepth]);
        expect(s.states).toBe(top ** 3);
        expect(s.elapsedMs).toBeGreaterThanOrEqual(0);
        expect(s.elapsedMs).toBeLessThanOrEqual(wall);
        expect(s.statesPerSec).toBe(s.elapsedMs > 0 ? Math.round((s.states * 1000) / s.elapsedMs) : s.states * 1000);
        expect(s.storeBytes).toBeGreaterThan(0);
        expect(s.bytesPerState).toBe(s.states >= PREALLOCATED_STATES ? Math.round((s.storeBytes / s.states) * 10) / 10 : null);
        expect([s.symmetry, s.store, s.queueBytes, s.shard, s.shardCheck, s.por]).toEqual([false, undefined, undefined, undefined, undefined, undefined]);
        if (run === 'async') expect([s.workers, s.workerShare]).toEqual([1, undefined]);
      }
    }
  });

  it('a cover report names its requirement; an unreached cover is a violation without a trace that names it', () => {
    const model = cube(3);
    const h = model.handles;
    const properties = [cover('a-two', 'C-7', 'a reaches 2', eq(h.a, 2)), cover('never', 'C-8', 'a past its range', eq(h.a, 5))];
    const r = explicitCheck({ model, properties, limits: {}, deadlock: false });
    expect(r.status === 'violated' && r.covers).toEqual([
      { name: 'a-two', requirement: 'C-7', reached: true, depth: 2 },
      { name: 'never', requirement: 'C-8', reached: false, depth: null },
    ]);
    expect(r.status === 'violated' && r.violations.map((v) => [v.property, v.requirement, v.kind, v.trace])).toEqual([['never', 'C-8', 'cover', null]]);
    expect(r.status === 'violated' && r.guarantee).toBe('exhaustive');
  });

  it('shards: each names its part and the store, guarantees its part only, and carries a check hash its sibling shares and another check does not', async () => {
    const model = cube(5);
    const h = model.handles;
    const inv = invariant('a-small', 'I-9', '', lt(h.a, 9));
    const run = (index: number, x: object = {}, properties = [inv]) =>
      explicitRun({ model, properties, limits: {}, deadlock: false, explicit: { shard: { index, count: 2 }, ...x } });
    const [s1, s2] = [await run(0), await run(1)];
    expect([s1.status, s1.status === 'ok' && s1.guarantee, s1.stats.shard, s1.stats.store]).toEqual(['ok', 'shard', '1/2', 'exact']);
    expect([s2.stats.shard, s2.stats.store]).toEqual(['2/2', 'exact']);
    expect(s1.stats.shardCheck).toMatch(/^[0-9a-f]{16}$/);
    expect(s2.stats.shardCheck).toBe(s1.stats.shardCheck);
    const other = await run(0, {}, [invariant('a-small', 'I-9', '', lt(h.a, 8))]);
    const store = await run(0, { store: 'hash-compaction', memoryBytes: 1 << 20 });
    expect([other.stats.shardCheck === s1.stats.shardCheck, store.stats.shardCheck === s1.stats.shardCheck, store.stats.store]).toEqual([
      false,
      false,
      'hash-compaction',
    ]);
    // The shards' states add up to at least the whole (start states are in both).
    expect(s1.stats.states + s2.stats.states).toBeGreaterThanOrEqual(125);
    const single = explicitCheck({ model, properties: [inv], limits: {}, deadlock: false, explicit: { shard: { index: 1, count: 2 } } });
    expect([single.stats.shard, single.stats.states]).toEqual(['2/2', s2.stats.states]);
  });

  it('two threads: the run names them and the share of states the other thread expanded', async () => {
    const model = cube(12);
    // Levels of at least 4 states in rounds (the default is 4,096, more than any level here).
    const r = await explicitRun({ model, properties: [], limits: {}, deadlock: false, explicit: { workers: 2, parallelFrom: 4 } });
    const s = r.stats;
    expect([r.status, s.states, s.workers]).toEqual(['ok', 12 ** 3, 2]);
    // Both threads expand states of every large enough level (measured under load: 0.19 to 0.57).
    expect(s.workerShare).toBeGreaterThan(0);
    expect(s.workerShare).toBeLessThanOrEqual(1);
    expect(Math.round((s.workerShare as number) * 1000)).toBeCloseTo((s.workerShare as number) * 1000, 6);
  });

  it('a model error: the trace leads to the state where the rule fails, its note is the failure and it names the failing instance; a start state that fails has no trace', () => {
    const overflow = (initFails: boolean) =>
      buildModel(
        defineProtocol({
          name: 'explicit-overflow',
          summary: '',
          spec: '',
          params: {},
          variants: [],
          build(b) {
            const x = b.v('x', range(0, 2));
            const y = b.v('y', range(0, 1));
            b.init('zero', () => (initFails ? [assign(x, add(x, 3))] : []));
            b.rule('Flip', {}, () => ({ guard: eq(y, 0), body: [assign(y, 1)] }));
            b.rule('Up', {}, () => ({ guard: true, body: [assign(x, add(x, 1))] }));
            return { x, y };
          },
        }),
      );
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = explicitCheck({ model: overflow(false), properties: [], limits: {}, strategy });
      expect([strategy, r.status, r.status === 'error' && r.code]).toEqual([strategy, 'error', 'MC011']);
      if (r.status !== 'error') continue;
      const steps = r.trace?.steps ?? [];
      expect(Array.from(steps.at(-1)?.state ?? [])[0]).toBe(2);
      expect(r.trace?.extra?.failingChoice).toBe(1);
      // The note names the failing rule instance and the variable (the wording itself is not pinned).
      expect(r.trace?.note).toMatch(/Up\(\).* x$/);
      expect(r.message).toBe(modelErrorMessage(r.trace?.note as string, steps.length - 1));
      if (strategy === 'bfs') expect(steps.map((s) => s.label)).toEqual(['init zero', 'Up()', 'Up()']);
    }
    const init = explicitCheck({ model: overflow(true), properties: [], limits: {} });
    expect([init.status, init.status === 'error' && init.code, init.status === 'error' && init.trace]).toEqual(['error', 'MC011', null]);
  });

  it('a state limit with a checkpoint folder (made when missing): the reason says where the search is saved and how to continue, and resuming there ends as the whole search; an abort ends the run as interrupted with its reason', async () => {
    const model = cube(6);
    const root = mkdtempSync(join(tmpdir(), 'mc-explicit-result-'));
    try {
      // A compact store keeps its levels in files: with a checkpoint folder, there (what resuming reads).
      for (const store of ['exact', 'hash-compaction'] as const) {
        const dir = join(root, store, 'a', 'b');
        const x = { store, memoryBytes: 1 << 20 };
        const job: CheckJob = { model, properties: [], limits: { maxStates: 40 }, deadlock: false, explicit: { ...x, checkpoint: { dir, everyMs: 60_000 } } };
        const first = await explicitRun(job);
        expect([store, first.status, first.status === 'incomplete' && first.reason]).toEqual([
          store,
          'incomplete',
          `state limit of 40 reached; the search is saved in ${dir} (continue it with --resume ${dir})`,
        ]);
        expect(existsSync(join(dir, 'checkpoint.json'))).toBe(true);
        const resumed = await explicitRun({ ...job, limits: {}, explicit: { ...x, resume: dir } });
        const whole = explicitCheck({ ...job, limits: {}, explicit: x });
        expect([store, resumed.status, resumed.stats.states, resumed.stats.transitions]).toEqual([store, 'ok', whole.stats.states, whole.stats.transitions]);
        // Without a checkpoint folder the limit's reason is the limit alone.
        const plain = await explicitRun({ ...job, explicit: x });
        expect(plain.status === 'incomplete' && plain.reason).toBe('state limit of 40 reached');
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    // An abort is seen at the first tick (every 1,024 expansions): 1,728 states are more.
    const big = cube(12);
    const ctrl = new AbortController();
    ctrl.abort('SIGTERM');
    const stopped = await explicitRun({ model: big, properties: [], limits: {}, deadlock: false, signal: ctrl.signal });
    expect([stopped.status, stopped.status === 'incomplete' && stopped.reason]).toEqual(['incomplete', 'interrupted (SIGTERM)']);
    const quiet = new AbortController();
    quiet.abort(undefined);
    const noReason = await explicitRun({ model: big, properties: [], limits: {}, deadlock: false, signal: quiet.signal });
    // An abort without a reason carries the platform's AbortError: the run names it.
    expect(noReason.status === 'incomplete' && noReason.reason).toBe(`interrupted (${String(quiet.signal.reason)})`);
  });

  it('a run that takes no time on the clock counts a thousand states a second per state (no division by zero)', () => {
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const r = explicitCheck({ model: cube(3), properties: [], limits: {}, deadlock: false });
      expect([r.stats.elapsedMs, r.stats.states, r.stats.statesPerSec]).toEqual([0, 27, 27_000]);
    } finally {
      clock.mockRestore();
    }
  });

  it('symmetry reduction checks the model first (MC010 for a constant of a symmetric index), and only when asked', () => {
    const model = buildModel(
      defineProtocol({
        name: 'explicit-asymmetric',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 2, { symmetric: true });
          const owner = b.v('owner', P);
          b.init('zero', () => []);
          // Singles out process 1: not symmetric.
          b.rule('Give', { p: P }, ({ p }) => ({ guard: eq(p, 1), body: [assign(owner, p)] }));
          return { owner };
        },
      }),
    );
    const code = (f: () => unknown) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return e instanceof McError ? e.code : String(e);
      }
    };
    expect(code(() => explicitCheck({ model, properties: [], limits: {}, deadlock: false, symmetry: true }))).toBe('MC010');
    expect(code(() => explicitCheck({ model, properties: [], limits: {}, deadlock: false }))).toBe('none');
    expect(explicitCheck({ model, properties: [], limits: {}, deadlock: false }).stats.states).toBe(2);
  });

  it('depth-first with one thread and no checkpoint runs asynchronously as it does synchronously', async () => {
    const model = cube(4);
    const job: CheckJob = { model, properties: [], limits: {}, deadlock: false, strategy: 'dfs' };
    const [a, b] = [explicitCheck(job), await explicitRun(job)];
    expect([b.status, b.stats.states, b.stats.transitions, b.stats.depth]).toEqual([a.status, a.stats.states, a.stats.transitions, a.stats.depth]);
  });

  it('checkpoints: every 10 minutes (one generation for a short run), at every pause with everyMs 0 or 1; a resumed run adds the saved time and refuses another check (MC050)', async () => {
    // 262,144 states, stopped at 250,000: several pauses of 100 ms on this machine.
    const model = cube(64);
    const root = mkdtempSync(join(tmpdir(), 'mc-explicit-ckpt-'));
    const generation = (dir: string) => (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { generation: number }).generation;
    try {
      const job: CheckJob = { model, properties: [], limits: { maxStates: 250_000 }, deadlock: false };
      const tenMinutes = join(root, 'ten-minutes');
      const first = await explicitRun({ ...job, explicit: { checkpoint: { dir: tenMinutes, everyMs: 600_000 } } });
      expect([first.status, generation(tenMinutes)]).toEqual(['incomplete', 1]);
      const everyPause = join(root, 'every');
      await explicitRun({ ...job, explicit: { checkpoint: { dir: everyPause, everyMs: 0 } } });
      expect(generation(everyPause)).toBeGreaterThan(1);
      // A period of 1 ms is the period asked for, not the default.
      const everyMs = join(root, 'one-ms');
      await explicitRun({ ...job, explicit: { checkpoint: { dir: everyMs, everyMs: 1 } } });
      expect(generation(everyMs)).toBeGreaterThan(1);
      const resumed = await explicitRun({ ...job, limits: {}, explicit: { resume: tenMinutes } });
      expect([resumed.status, resumed.stats.states]).toEqual(['ok', 64 ** 3]);
      // The saved run's time counts: the whole is at least what was saved.
      const saved = (JSON.parse(readFileSync(join(tenMinutes, 'checkpoint.json'), 'utf8')) as { elapsedMs: number }).elapsedMs;
      expect(saved).toBeGreaterThan(0);
      expect(resumed.stats.elapsedMs).toBeGreaterThanOrEqual(saved);
      const h = model.handles;
      const other = explicitRun({ ...job, properties: [invariant('a-small', 'I-9', '', lt(h.a, 64))], limits: {}, explicit: { resume: everyPause } });
      await expect(other).rejects.toMatchObject({ code: 'MC050' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the collapsed exact store', () => {
  /** Four variables of 24 bits (96 bits: three words a state, the least the collapse needs); `Up` raises a from 0 to 5: six states, five transitions, five deep. */
  function wide() {
    return buildModel(
      defineProtocol({
        name: 'explicit-wide',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const [a, ...rest] = [0, 1, 2, 3].map((i) => b.v(`v${i}`, range(0, 2 ** 24 - 1)));
          b.init('zero', () => rest.map((v, i) => assign(v, 1000 + i)));
          b.rule('Up', {}, () => ({ guard: lt(a as never, 5), body: [assign(a as never, add(a as never, 1))] }));
          return {};
        },
      }),
    );
  }

  it('collapse: true is reported (and the same counts as without), only when asked', async () => {
    const job = (collapse: boolean): CheckJob => ({ model: wide(), properties: [], limits: {}, deadlock: false, explicit: { collapse } });
    for (const collapse of [true, false]) {
      for (const r of [explicitCheck(job(collapse)), await explicitRun(job(collapse))]) {
        expect(r.stats.engine === 'explicit' && [r.status, r.stats.states, r.stats.transitions, r.stats.depth, r.stats.collapse]).toEqual([
          'ok',
          6,
          5,
          5,
          collapse ? true : undefined,
        ]);
      }
    }
  });
});
