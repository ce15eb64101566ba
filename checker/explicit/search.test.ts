/**
 * The explicit search (search.ts, expander.ts, explicit.ts) against an independent one
 * (test/searchWalk.ts): a naive walk over the interpreter (not the compiled rules), states as
 * strings in a Set, that follows the order the engine documents (start states in init order, then breadth-first levels, each state's
 * rule instances in order; depth-first: a stack). On random small protocols, with every store,
 * with and without state and depth limits, the engine must report exactly what that walk reports:
 * the verdict, the property, the state the trace ends in and its length, the number of states and
 * transitions, the deepest level, the depth of each cover, and where a limit stops it. And what a
 * search reports of itself, against figures worked out by hand: the figures of worker threads and of
 * resumed runs added up, the progress of a resumed run, the queue of a compact store, bitstate hash
 * seeds, the temporary level folder. And a cover the partial-order reduction must keep in sight until it is reached, and the
 * exact store's index made at once for the states expected, the permutations kept for onEdge and the parents kept in a
 * breadth-first search when asked; a synchronous run to the end through time slices, and refusing worker threads.
 */
import { existsSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { add, and, eq, isSome, lt, not, some, unwrap } from '../../model/lang/expr.js';
import { applyRule } from '../../model/lang/interp.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, enumOf, option, range } from '../../model/lang/types.js';
import { cover, invariant } from '../../properties/property.js';
import { type Plan, STORES, build, counters, cube, expectSame, grid, planArb, walk } from '../../test/searchWalk.js';
import type { ExplicitOptions, Limits, StoreKind } from '../engine.js';
import { explicitCheck, explicitRun, searchFor } from './explicit.js';
import { Search, type SearchOptions } from './search.js';

describe('the explicit search against an independent walk over the interpreter', () => {
  it('random protocols, breadth-first, every store: same verdict, end state, trace length, states, transitions, depth and cover depths', () => {
    let violated = 0;
    let ok = 0;
    fc.assert(
      fc.property(planArb(false), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const w = walk(model, properties, plan.deadlock, 'bfs', {});
        if (w.end === 'found') violated++;
        else ok++;
        for (const store of STORES) {
          const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
          expectSame(r, w, covers, {}, store);
          // What each store proves, and the figures it adds.
          const st = r.stats;
          expect({
            guarantee: r.status === 'ok' || r.status === 'violated' ? r.guarantee : null,
            store: st.store,
            omission: typeof st.omissionProbability,
            coverage: typeof st.coverage,
            queue: typeof st.queueBytes,
            bits: store === 'bitstate' ? st.storeBytes : null,
          }).toEqual({
            guarantee: store === 'exact' ? 'exhaustive' : store,
            store: store === 'exact' ? undefined : store,
            omission: store === 'hash-compaction' ? 'number' : 'undefined',
            coverage: store === 'bitstate' ? 'number' : 'undefined',
            queue: store === 'exact' ? 'undefined' : 'number',
            bits: store === 'bitstate' ? 1 << 16 : null,
          });
        }
      }),
      { numRuns: 60, seed: 4101 },
    );
    // Both outcomes are exercised.
    expect([violated > 5, ok > 5]).toEqual([true, true]);
  });

  it('random protocols, depth-first: same verdict, end state, trace length, states, transitions, deepest path and first cover depths', () => {
    fc.assert(
      fc.property(planArb(false), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, strategy: 'dfs' });
        expectSame(r, walk(model, properties, plan.deadlock, 'dfs', {}), covers, {}, 'dfs');
      }),
      { numRuns: 60, seed: 4102 },
    );
  });

  it('random protocols with model errors: the first failing state in search order, with its trace and the figures so far, breadth-first and depth-first', () => {
    let errors = 0;
    fc.assert(
      fc.property(planArb(true), (plan) => {
        const { model, properties } = build(plan);
        const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
        for (const strategy of ['bfs', 'dfs'] as const) {
          const w = walk(model, properties, plan.deadlock, strategy, {});
          if (w.found?.kind === 'error') errors++;
          const stores = strategy === 'bfs' ? STORES : (['exact'] as StoreKind[]);
          for (const store of stores) {
            const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, strategy, explicit: { store, memoryBytes: 1 << 16 } });
            expectSame(r, w, covers, {}, [strategy, store]);
          }
        }
      }),
      { numRuns: 40, seed: 4103 },
    );
    expect(errors).toBeGreaterThan(10);
  });

  it('state limits: the search stops after the state at which the store holds the limit, never as a pass, with the same figures', () => {
    expect(limitedAgainstWalk(fc.integer({ min: 1, max: 40 }), (maxStates) => ({ maxStates }), 4104)).toBeGreaterThan(20);
  });

  it('depth limits: the levels up to the limit are stored and checked, the last is not expanded; breadth-first names the states left', () => {
    expect(limitedAgainstWalk(fc.integer({ min: 0, max: 6 }), (depth) => ({ depth }), 4105)).toBeGreaterThan(20);
  });

  it('symmetry reduction: one state per class (counters as a multiset), the same transitions, depth and cover depths, every store', () => {
    let classes = 0;
    for (const n of [2, 3]) {
      for (const top of [5, 9]) {
        for (const bad of [-1, 4, 7]) {
          const { model, properties, key } = counters(n, top, bad);
          const w = walk(model, properties, false, 'bfs', {}, key);
          if (w.end === 'complete') classes += w.states;
          for (const store of STORES) {
            const r = explicitCheck({ model, properties, limits: {}, symmetry: true, explicit: { store, memoryBytes: 1 << 16 } });
            const v = r.status === 'violated' ? r.violations[0] : undefined;
            const steps = v?.trace?.steps;
            const lastState = steps?.[steps.length - 1]?.state;
            expect({
              status: r.status,
              end: w.found ? [v?.property, lastState && key(lastState), (steps?.length ?? 0) - 1] : null,
              figures: [r.stats.states, r.stats.transitions, r.stats.depth],
              covers: r.status === 'error' ? [] : r.covers.map((c) => c.depth),
            }).toEqual({
              status: w.end === 'complete' ? 'ok' : 'violated',
              end: w.found && w.found.kind === 'invariant' ? [w.found.property, key(w.found.state), w.found.depth] : null,
              figures: [w.states, w.transitions, w.maxDepth],
              covers: w.coverDepth,
            });
          }
        }
      }
    }
    // Without symmetry the same models have more states: the reduction did something.
    const plain = counters(3, 9, -1);
    const full = walk(plain.model, plain.properties, false, 'bfs', {});
    expect([classes > 0, full.states > walk(plain.model, plain.properties, false, 'bfs', {}, plain.key).states]).toEqual([true, true]);
  });

  it('shards: each shard stores the start states and the successors of its part; together they store every state, and report their part', () => {
    for (const [i, plan] of fc.sample(planArb(false), { numRuns: 12, seed: 4107 }).entries()) {
      const { model, properties } = build(plan);
      const whole = walk(model, [], false, 'bfs', {});
      for (const count of [1, 2, 3]) {
        const union = new Set<string>();
        let sum = 0;
        for (let index = 0; index < count; index++) {
          const search = searchFor({ model, properties: [], limits: {}, deadlock: false, explicit: { shard: { index, count } } });
          const end = search.runSync({}, { tick: () => null });
          expect(end.kind).toBe('complete');
          for (let pos = 0; pos < search.count; pos++) union.add(Array.from(search.state(pos)).join());
          sum += search.count;
          const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { shard: { index, count }, store: 'hash-compaction' } });
          expect([r.stats.shard, r.stats.store, r.status === 'ok' || r.status === 'violated' ? r.guarantee : r.status]).toEqual([
            `${index + 1}/${count}`,
            'hash-compaction',
            'shard',
          ]);
        }
        expect([i, count, union.size]).toEqual([i, count, whole.states]);
        // The successors of the start states (level 1) are split among the shards: each is in exactly one shard's level 1.
        const depth1 = whole.order.filter((o) => o.d === 1).map((o) => Array.from(o.s).join());
        const levelOne: string[] = [];
        for (let index = 0; index < count; index++) {
          const search = searchFor({ model, properties: [], limits: {}, deadlock: false, explicit: { shard: { index, count } } });
          search.runSync({}, { tick: () => null });
          const [lo, hi] = [search.levelStarts[1] as number, (search.levelStarts[2] as number | undefined) ?? search.count];
          for (let pos = lo; pos < hi; pos++) levelOne.push(Array.from(search.state(pos)).join());
        }
        expect([i, count, levelOne.sort()]).toEqual([i, count, depth1.sort()]);
        if (count === 1) expect(sum).toBe(whole.states);
      }
    }
  });

  it('a start state that raises a model error ends the check (MC011, no trace), one where a cover cannot be evaluated ends it with that state as the trace, naming the cover (MC011); options the depth-first search cannot take are refused (MC030)', async () => {
    const { model, properties } = build(fc.sample(planArb(false), { numRuns: 1, seed: 4108 })[0] as Plan);
    const code = (f: () => unknown) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return e instanceof McError ? e.code : String(e);
      }
    };
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = explicitCheck({ model: grid(45).model, properties: [], limits: {}, strategy });
      expect([r.status, r.status === 'error' && r.code, r.status === 'error' && r.trace]).toEqual(['error', 'MC011', null]);
    }
    // A cover that cannot be evaluated in the start state (an unwrap of none): a model error there, whose trace is that state.
    const opt = buildModel(
      defineProtocol({
        name: 'search-cover-error',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const E = enumOf('E', ['a', 'b']);
          const x = b.v('x', option(E));
          b.init('empty', () => []);
          b.rule('Fill', {}, () => ({ guard: not(isSome(x)), body: [assign(x, some('a', option(E)))] }));
          return { x };
        },
      }),
    );
    const unwrapping = [cover('holds-a', 'C-3', '', eq(unwrap(opt.handles.x), 'a'))];
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = explicitCheck({ model: opt, properties: unwrapping, limits: {}, deadlock: false, strategy });
      const trace = r.status === 'error' ? r.trace : null;
      expect([strategy, r.status, r.status === 'error' && r.code, trace?.note, trace?.steps.map((x) => x.label), r.stats.states]).toEqual([
        strategy,
        'error',
        'MC011',
        'in property holds-a: unwrap of none, on start state empty',
        ['init empty'],
        1,
      ]);
    }
    const job = { model, properties, limits: {}, strategy: 'dfs' as const };
    expect(code(() => explicitCheck({ ...job, explicit: { store: 'hash-compaction' } }))).toBe('MC030');
    expect(code(() => explicitCheck({ ...job, explicit: { por: true } }))).toBe('MC030');
    expect(code(() => explicitCheck({ ...job, explicit: { por: 'auto' } }))).toBe('none');
    const rejected = async (x: ExplicitOptions) =>
      explicitRun({ ...job, explicit: x }).then(
        () => 'none',
        (e) => (e instanceof McError ? e.code : String(e)),
      );
    expect(await rejected({ workers: 2 })).toBe('MC030');
    expect(await rejected({ checkpoint: { dir: '/nonexistent/never-made', everyMs: 1 } })).toBe('MC030');
    expect(await rejected({ resume: '/nonexistent/never-made' })).toBe('MC030');
  });

  it('partial-order reduction (on for rules that cannot fail, or auto): the verdict, end state and shortest trace of the search without it', () => {
    // Runs with the reduction on.
    let reduced = 0;
    fc.assert(
      fc.property(planArb(true), fc.constantFrom(true, 'auto' as const), (plan, por) => {
        const { model, properties } = build(plan);
        const w = walk(model, properties, plan.deadlock, 'bfs', {});
        const canFail = plan.rules.some((r) => r.body.some((a) => a.k === 'a++'));
        if (canFail && por === true) return;
        const r = explicitCheck({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { por } });
        // `auto` turns the reduction on only where the compiled rules have no run-time check (the compiler decides; not predicted here).
        const on = por === true || r.stats.por === true;
        const v = r.status === 'violated' ? r.violations[0] : undefined;
        const steps = v?.trace?.steps ?? (r.status === 'error' ? r.trace?.steps : undefined) ?? [];
        const f = w.found;
        expect({
          por: r.stats.por ?? false,
          status: r.status,
          end: f ? [v?.property ?? f.kind, Array.from(steps.at(-1)?.state ?? []), steps.length - 1] : null,
        }).toEqual({
          por: por === true ? true : (r.stats.por ?? false),
          status: w.end === 'complete' ? (w.coverDepth.includes(null) ? 'violated' : 'ok') : f?.kind === 'error' ? 'error' : 'violated',
          end: f ? ['property' in f ? f.property : f.kind, Array.from(f.state), f.depth] : null,
        });
        if (on) reduced++;
        if (on) expect(r.stats.states).toBeLessThanOrEqual(w.states);
      }),
      { numRuns: 120, seed: 4109 },
    );
    expect(reduced).toBeGreaterThan(12);
  });

  it('a clock that does not move: a limit of 0 s is reached at the first tick, no progress is reported', () => {
    // Two counters to 40: 1681 states, more than the 1024 expansions between two ticks.
    const { model } = grid();
    const now = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      for (const strategy of ['bfs', 'dfs'] as const) {
        // No second passes on this clock: no progress report either.
        const reports: number[] = [];
        explicitCheck({ model, properties: [], limits: {}, strategy }, { onProgress: (p) => reports.push(p.distinct) });
        expect([strategy, reports]).toEqual([strategy, []]);
        const r = explicitCheck({ model, properties: [], limits: { timeLimitSec: 0 }, strategy });
        expect([strategy, r.status === 'incomplete' && r.reason, r.stats.states < 1681]).toEqual([strategy, 'time limit of 0s reached', true]);
        expect(explicitCheck({ model, properties: [], limits: { timeLimitSec: 1 }, strategy }).status).toBe('ok');
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('traces name rule instances past 255, breadth-first (rebuilt level by level) and depth-first (parent pointers)', () => {
    // One rule over 300 processes: `Pick(p)` marks p; the invariant fails once 299 is marked (instance 299).
    const model = buildModel(
      defineProtocol({
        name: 'search-wide',
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
    const properties = [invariant('not-last', 'W-1', '', eq(model.handles.picked.at(299 as never), 0))];
    for (const strategy of ['bfs', 'dfs'] as const) {
      const r = explicitCheck({ model, properties, limits: {}, deadlock: false, strategy });
      const steps = r.status === 'violated' ? (r.violations[0]?.trace?.steps ?? []) : [];
      expect([strategy, steps.map((x) => x.choice), steps.at(-1)?.label]).toEqual([strategy, [0, 299], 'Pick(p=299)']);
    }
  });

  it('a cover that holds in a start state is reached at depth 0, with every store and both strategies', () => {
    const { model } = grid();
    const atStart = [cover('a-zero', 'C-4', '', eq(model.handles.a, 0))];
    for (const strategy of ['bfs', 'dfs'] as const)
      for (const store of strategy === 'bfs' ? STORES : (['exact'] as StoreKind[])) {
        const r = explicitCheck({ model, properties: atStart, limits: {}, strategy, explicit: { store, memoryBytes: 1 << 16 } });
        expect([strategy, store, r.status, r.status === 'error' ? null : r.covers.map((c) => [c.reached, c.depth])]).toEqual([
          strategy,
          store,
          'ok',
          [[true, 0]],
        ]);
      }
  });

  it('the asynchronous run gives the event loop a turn when its time slice is used up, and goes on where it stopped', async () => {
    // A clock that jumps a second at each reading: every slice of 100 ms is used up after one chunk of expansions.
    const { model } = grid();
    const w = walk(model, [], true, 'bfs', {});
    let t = Date.now();
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => {
      t += 1000;
      return t;
    });
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    try {
      const r = await explicitRun({ model, properties: [], limits: {} });
      expect([r.status, r.stats.states, r.stats.transitions, r.stats.depth]).toEqual(['ok', w.states, w.transitions, w.maxDepth]);
    } finally {
      clearInterval(timer);
      spy.mockRestore();
    }
    // The event loop ran while the search did.
    expect(turns).toBeGreaterThan(0);
  });

  it('the asynchronous run (explicitRun, yielding to the event loop) reports what the synchronous one does, with limits too', async () => {
    const runs = fc.sample(fc.tuple(planArb(true), fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined })), { numRuns: 30, seed: 4106 });
    for (const [plan, maxStates] of runs) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const limits = maxStates === undefined ? {} : { maxStates };
      for (const store of STORES) {
        const r = await explicitRun({ model, properties, limits, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
        expectSame(r, walk(model, properties, plan.deadlock, 'bfs', limits), covers, limits, ['async', store, maxStates]);
      }
    }
  });
});

/**
 * Checks every strategy and store against the walk on random protocols under the limits `limitsOf(n)`
 * (60 runs of `seed`); returns how many walks ended at the limit.
 */
function limitedAgainstWalk(nArb: fc.Arbitrary<number>, limitsOf: (n: number) => Limits, seed: number): number {
  let limited = 0;
  fc.assert(
    fc.property(planArb(false), nArb, (plan, n) => {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const limits = limitsOf(n);
      for (const strategy of ['bfs', 'dfs'] as const) {
        const w = walk(model, properties, plan.deadlock, strategy, limits);
        if (w.end === 'limit') limited++;
        const stores = strategy === 'bfs' ? STORES : (['exact'] as StoreKind[]);
        for (const store of stores) {
          const r = explicitCheck({ model, properties, limits, deadlock: plan.deadlock, strategy, explicit: { store, memoryBytes: 1 << 16 } });
          expectSame(r, w, covers, limits, [strategy, store, n]);
        }
      }
    }),
    { numRuns: 60, seed },
  );
  return limited;
}

describe('what a search reports of itself: figures added up, progress of a resumed run, memory of a compact store, hash seeds, temporary files', () => {
  const quiet = { tick: () => null };
  const plain = (model: Model, opts: Partial<SearchOptions> = {}) => new Search(model, [], { strategy: 'bfs', symmetry: false, deadlock: false, ...opts });

  it('coversDone holds 1 for each cover reached in a finished level: after a walk (the independent walk says which) and after a restore (the restored figures say which)', () => {
    const { model } = grid();
    const { a, b } = model.handles;
    const covers = ['a5', 'never', 'b7', 'ab', 'negative'].map((n, i) =>
      cover(n, `C-${i}`, '', [eq(a, 5), lt(a, 0), eq(b, 7), eq(a, b), lt(b, 0)][i] as ReturnType<typeof eq>),
    );
    const w = walk(model, covers, false, 'bfs', {});
    expect(w.coverDepth.map((d) => d !== null)).toEqual([true, false, true, true, false]);
    const search = new Search(model, covers, { strategy: 'bfs', symmetry: false, deadlock: false });
    expect(search.runSync({}, quiet)).toEqual({ kind: 'complete' });
    expect(Array.from(search.coversDone)).toEqual([1, 0, 1, 1, 0]);
    const resumed = new Search(model, covers, { strategy: 'bfs', symmetry: false, deadlock: false });
    // A checkpoint taken where only the second and fourth covers had been reached (-1: not yet).
    const coverDepth = Int32Array.from([-1, 4, -1, 0, -1]);
    resumed.restore({ levelStarts: [0, 2], depth: 0, cursor: 0, elapsedMs: 0, figures: { expanded: 0, generated: 0, maxDepth: 0, coverDepth } });
    expect(Array.from(resumed.coversDone)).toEqual([0, 1, 0, 1, 0]);
  });

  it('the figures of a resumed run (slot 0) and of worker threads (slot 1 + i; a worker that has not reported is a hole) add up: sums, the deepest level, the first depth of each cover', () => {
    const { model } = grid();
    const { a, b } = model.handles;
    const covers = ['a5', 'b7', 'never', 'ab'].map((n, i) => cover(n, `C-${i}`, '', [eq(a, 5), eq(b, 7), lt(a, 0), eq(a, b)][i] as ReturnType<typeof eq>));
    const search = new Search(model, covers, { strategy: 'bfs', symmetry: false, deadlock: false });
    search.runSync({}, quiet);
    const own = search.expander.figures;
    // This thread's own figures on the grid (start states a = 0 and a = 7): every state expanded, every transition
    // generated, the deepest state (40, 40) 73 steps from (7, 0).
    expect([own.expanded, own.generated, own.maxDepth, Array.from(own.coverDepth)]).toEqual([1681, 3280, 73, [5, 7, -1, 0]]);
    own.coverDepth.set([4, -1, -1, 1]);
    search.otherFigures[0] = { expanded: 100, generated: 250, maxDepth: 90, coverDepth: Int32Array.of(-1, 0, -1, 3) };
    search.otherFigures[search.workerSlot(1)] = { expanded: 30, generated: 60, maxDepth: 12, coverDepth: Int32Array.of(2, 1, -1, 5) };
    expect(search.otherFigures.length).toBe(3);
    expect(search.figures()).toEqual({ expanded: 1681 + 130, byOthers: 30, generated: 3280 + 310, maxDepth: 90, coverDepth: [2, 0, null, 1] });
    // Worker 0's slot is 1, after the resumed run's.
    search.otherFigures[search.workerSlot(0)] = { expanded: 7, generated: 9, maxDepth: 0, coverDepth: Int32Array.of(0, -1, -1, -1) };
    expect(search.figures()).toEqual({ expanded: 1681 + 137, byOthers: 37, generated: 3280 + 319, maxDepth: 90, coverDepth: [0, 0, null, 1] });
  });

  it('the progress of a resumed run counts the elapsed time of the runs before it, in its time and its states per second', () => {
    const search = plain(grid().model);
    search.runSync({}, quiet);
    search.elapsedBefore = 3000;
    // Levels 0 to 73 expanded, the empty level 74 reached.
    expect(search.progress(search.startMs + 1000)).toEqual({
      generated: 3280,
      distinct: 1681,
      queue: 0,
      depth: 74,
      elapsedMs: 4000,
      statesPerSec: Math.round((1681 * 1000) / 4000),
    });
    expect(search.progress(search.startMs).statesPerSec).toBe(Math.round((1681 * 1000) / 3000));
  });

  it('a compact store reports as its queue the most bytes the level being expanded and the level being found held together (at the end of the largest pair)', () => {
    const { model } = grid();
    for (const store of ['hash-compaction', 'bitstate'] as const) {
      const search = plain(model, { store, memoryBytes: 1 << 16 });
      const pairs: number[] = [];
      // Called after every chunk and at the end of every level, before it is closed: the two levels in memory then.
      const due = () => {
        pairs.push(search.store.bytes() + search.target.bytes());
        return false;
      };
      expect(search.runSync({}, { tick: () => null, atPause: { due, run: () => {} } })).toEqual({ kind: 'complete' });
      pairs.push(search.store.bytes() + search.target.bytes());
      expect([store, search.queueBytes()]).toEqual([store, Math.max(...pairs)]);
      // The two largest levels of the grid (41 states each) are not the first or the last.
      expect([store, search.queueBytes() > pairs[0]!, search.queueBytes() > pairs.at(-1)!]).toEqual([store, true, true]);
      search.dispose();
    }
  });

  it('a bitstate hash seed diversifies the bits: with a bit array far too small for the grid, the seeds lose different states', () => {
    const { model } = grid();
    const kept = [0, 1, 2, 3].map((hashSeed) => {
      const search = plain(model, { store: 'bitstate', memoryBytes: 64, hashSeed });
      search.runSync({}, quiet);
      search.dispose();
      expect([hashSeed, search.storeBytes()]).toEqual([hashSeed, 64]);
      return search.count;
    });
    expect(kept.every((n) => n < 1681)).toBe(true);
    expect(new Set(kept).size).toBeGreaterThan(1);
  });

  it('both walks end as complete once every state is expanded, levels of 924 states without a pool too; a store keeps states of three words or more collapsed only when asked, and only the exact store', async () => {
    const { model } = grid();
    for (const strategy of ['bfs', 'dfs'] as const) expect([strategy, plain(model, { strategy }).runSync({}, quiet)]).toEqual([strategy, { kind: 'complete' }]);
    // Twelve bits set one by one: 4,096 states, level 6 of 924 (from 1,586 to 2,510; past the size at which a pool would be started, and there is none).
    const bits = buildModel(
      defineProtocol({
        name: 'search-bits',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 12);
          const c = b.v('c', arrayOf(P, range(0, 1)));
          b.init('zero', () => []);
          b.rule('Set', { p: P }, ({ p }) => ({ guard: lt(c.at(p as never), 1), body: [assign(c.at(p as never), 1)] }));
          return { c };
        },
      }),
    );
    for (const run of [(s: Search) => s.runSync({}, quiet), (s: Search) => s.runAsync({}, { tick: () => null, pool: null })]) {
      const search = plain(bits);
      expect([await run(search), search.count, search.levelStarts.slice(6, 8)]).toEqual([{ kind: 'complete' }, 4096, [1586, 2510]]);
    }
    // 60 processes with a counter 0..3 each: 120 bits, four words a state.
    const wide = buildModel(
      defineProtocol({
        name: 'search-words',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 60);
          const c = b.v('c', arrayOf(P, range(0, 3)));
          b.init('zero', () => []);
          b.rule('Up', { p: P }, ({ p }) => ({ guard: lt(c.at(p as never), 1), body: [assign(c.at(p as never), 1)] }));
          return { c };
        },
      }),
    );
    const collapsing = (store: StoreKind, collapse?: boolean) => {
      const search = plain(wide, { store, ...(collapse === undefined ? {} : { collapse }) });
      search.dispose();
      return [search.cm.words, search.store.collapsing];
    };
    expect([
      collapsing('exact'),
      collapsing('exact', false),
      collapsing('exact', true),
      collapsing('hash-compaction', true),
      collapsing('bitstate', true),
    ]).toEqual([
      [4, false],
      [4, false],
      [4, true],
      [4, false],
      [4, false],
    ]);
  });

  it('a compact search without a level folder writes its level files in a temporary folder, which dispose removes', () => {
    const search = plain(grid().model, { store: 'hash-compaction' });
    search.runSync({}, quiet);
    const dir = search.spill?.dir as string;
    expect([existsSync(dir), readdirSync(dir).length > 0]).toEqual([true, true]);
    search.dispose();
    expect(existsSync(dir)).toBe(false);
  });
});

describe('covers under partial-order reduction (the search marks a cover done only once a finished level has reached it)', () => {
  it('a cover reached only by taking B before A (x = 0 and y = 1) is reached with the reduction on, at depth 1 as the walk says, though the reduced search stores fewer states', () => {
    // x counts to 2 (rule A, listed first), y is set once (rule B), independently. Without a cover to look for, the reduction
    // takes one enabled instance in the start state (A first: then x = 0 is never seen again with y = 1).
    const model = buildModel(
      defineProtocol({
        name: 'search-por-cover',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 2));
          const y = b.v('y', range(0, 1));
          b.init('zero', () => []);
          b.rule('A', {}, () => ({ guard: lt(x, 2), body: [assign(x, add(x, 1))] }));
          b.rule('B', {}, () => ({ guard: eq(y, 0), body: [assign(y, 1)] }));
          return { x, y };
        },
      }),
    );
    const { x, y } = model.handles;
    const properties = [cover('b-before-a', 'C-1', '', and(eq(x, 0), eq(y, 1)))];
    const w = walk(model, properties, false, 'bfs', {});
    expect([w.states, w.coverDepth]).toEqual([6, [1]]);
    const r = explicitCheck({ model, properties, limits: {}, deadlock: false, explicit: { por: true } });
    expect([r.status, r.status === 'error' ? null : r.covers.map((c) => [c.name, c.reached, c.depth]), r.stats.por, r.stats.states < 6]).toEqual([
      'ok',
      [['b-before-a', true, 1]],
      true,
      true,
    ]);
  });
});

describe("the exact store's index when the number of states is known (`expectedStates`: made at its final size, never rehashed)", () => {
  it('a cube of 41^3 = 68,921 states: an index of 2^17 slots from the start (the smallest power of two holding them at a load of at most 0.75), the same one at the end; without the figure the index of 2^16 slots is replaced as it fills', () => {
    const model = cube(40);
    const slots = (s: Search) => s.store.buffers().table.byteLength / 4;
    for (const expectedStates of [68921, undefined]) {
      const search = new Search(model, [], { strategy: 'bfs', symmetry: false, deadlock: false, ...(expectedStates ? { expectedStates } : {}) });
      const first = search.store.buffers().table;
      const before = slots(search);
      expect(search.runSync({}, { tick: () => null })).toEqual({ kind: 'complete' });
      expect([expectedStates, search.count, before, search.store.buffers().table === first, slots(search)]).toEqual([
        expectedStates,
        68921,
        expectedStates ? 2 ** 17 : 2 ** 16,
        expectedStates !== undefined,
        2 ** 17,
      ]);
    }
  });
});

describe('the permutation of each canonicalisation under symmetry (`trackPermutation`, read by onEdge)', () => {
  it('when asked: at every edge it maps the successor (the interpreter applies the rule instance to the source) to the state stored; when not asked, none is kept', () => {
    const { model } = counters(3, 5, -1);
    const nP = 3;
    let edges = 0;
    let moved = 0;
    const search: Search = new Search(model, [], {
      strategy: 'bfs',
      symmetry: true,
      deadlock: false,
      trackPermutation: true,
      onEdge: (from, to, k) => {
        edges++;
        const perm = search.canon.permutation()[0] as Int32Array;
        const raw = applyRule(model, model.instances[k] as NonNullable<(typeof model.instances)[number]>, search.state(from));
        const want = Array.from(raw);
        for (let i = 0; i < nP; i++) want[perm[i] as number] = raw[i] as number;
        if (Array.from(perm).some((j, i) => j !== i)) moved++;
        expect([from, k, Array.from(search.state(to))]).toEqual([from, k, want]);
      },
    });
    expect(search.runSync({}, { tick: () => null })).toEqual({ kind: 'complete' });
    expect([edges > 50, moved > 10]).toEqual([true, true]);
    const untracked = new Search(model, [], { strategy: 'bfs', symmetry: true, deadlock: false });
    untracked.runSync({}, { tick: () => null });
    expect(() => untracked.canon.permutation()).toThrow(/does not keep its permutations/);
  });
});

describe('parents in a breadth-first search (`parents`: keep the parent of every state)', () => {
  it('when asked: the path to (40, 40) on the grid is as deep as the walk says (73 steps) and each step is its rule instance applied by the interpreter; when not asked, none are kept', () => {
    const { model } = grid();
    const w = walk(model, [], false, 'bfs', {});
    const deepest = w.order.findIndex((o) => o.s.join() === '40,40');
    expect(w.order[deepest]?.d).toBe(73);
    const search = new Search(model, [], { strategy: 'bfs', symmetry: false, deadlock: false, parents: true });
    expect(search.runSync({}, { tick: () => null })).toEqual({ kind: 'complete' });
    const ids = search.store.path(deepest);
    expect([search.store.keepsParents, ids.length - 1, Array.from(search.state(deepest))]).toEqual([true, 73, [40, 40]]);
    for (let i = 1; i < ids.length; i++) {
      const inst = model.instances[search.store.via(ids[i] as number)] as NonNullable<(typeof model.instances)[number]>;
      expect(Array.from(applyRule(model, inst, search.state(ids[i - 1] as number)))).toEqual(Array.from(search.state(ids[i] as number)));
    }
    const plain = new Search(model, [], { strategy: 'bfs', symmetry: false, deadlock: false });
    expect(plain.store.keepsParents).toBe(false);
  });
});

describe('a synchronous run (runSync: to the end in this thread, no worker threads, no waiting)', () => {
  it('goes on through the turns a slice asks for (sliceMs 0: after every chunk), breadth-first and depth-first, to the states of the walk; refuses a pool of worker threads', () => {
    const { model } = grid();
    const w = walk(model, [], false, 'bfs', {});
    for (const strategy of ['bfs', 'dfs'] as const) {
      const search = new Search(model, [], { strategy, symmetry: false, deadlock: false });
      expect([strategy, search.runSync({}, { tick: () => null, sliceMs: 0 }), search.count]).toEqual([strategy, { kind: 'complete' }, w.states]);
    }
    const pool = { size: 1, start: () => {}, whenReady: async () => {}, startRound: () => {}, startRehash: () => 0, idle: async () => {} };
    const pooled = new Search(model, [], { strategy: 'bfs', symmetry: false, deadlock: false });
    expect(() => pooled.runSync({}, { tick: () => null, pool, parallelFrom: 1 })).toThrow('a synchronous search cannot wait for worker threads');
  });
});
