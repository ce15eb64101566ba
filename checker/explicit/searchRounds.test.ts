/**
 * The round code of the breadth-first search (search.ts: `parallelRound`, `reserveRound`,
 * `parallelRehash`, `settleRound`, the messages for worker threads, pauses in the middle of a
 * level), run in this thread with test pools instead of worker threads. Why this file exists: the
 * tests with real threads (workers.test.ts, searchResume.test.ts) take tens of seconds, too long
 * for most mutation runs, and a thread's timing decides what they reach; these take about a second
 * and reach the same code deterministically. Oracle: the independent walk of test/searchWalk.ts,
 * and what the LevelPool contract (search.ts) and the pause contract (`WalkControl.atPause`) say;
 * the size of claims and the room of a round against the policy the TSDoc of `maxChunk`,
 * `parallelRound` and `reserveRound` states, worked out by hand for a model of 532 rule instances;
 * a state limit at the exact count where a round's ids are used up; `sliceMs` in a round, in a
 * one-thread walk and in the depth-first walk (turns of the event loop counted by the test).
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { and, eq, not } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import { STORES, build, counters, cube, expectSame, grid, planArb, walk } from '../../test/searchWalk.js';
import type { BitstateSet } from './bitstate.js';
import { CTRL, Expander, claimChunk } from './expander.js';
import { resultOf, searchFor } from './explicit.js';
import type { FingerprintSet } from './fingerprintSet.js';
import { type LevelPool, type Search, Search as SearchClass } from './search.js';
import { ID_BLOCK, StateStore } from './stateStore.js';

/** A pool of `size` worker threads that never claim a chunk (the coordinating thread expands every chunk of a round alone); it records what the search asks of it. */
function idlePool(size: number, onRound: (search: Search) => void = () => {}): { pool: LevelPool; calls: string[] } {
  const calls: string[] = [];
  const pool: LevelPool = {
    size,
    start: () => calls.push('start'),
    whenReady: async () => void calls.push('ready'),
    startRound: (search) => {
      calls.push('round');
      onRound(search);
    },
    startRehash: (_search, _table, step) => {
      calls.push(`rehash ${step}`);
      return 0;
    },
    idle: async () => void calls.push('idle'),
  };
  return { pool, calls };
}

/**
 * A pool of one worker that runs in this thread: at the start of a round it claims one chunk, with
 * an expander of its own inserting through a view of the target store (as searchWorker.ts does);
 * when the search waits for it to be idle it gives back the ids it has not used and reports its
 * figures and finding (as workerPool.ts does). Its unused ids lie below this thread's: the round
 * ends with states moved into them (`settle`).
 */
function oneChunkPool(): LevelPool {
  let search: Search | null = null;
  let view: StateStore | null = null;
  let exp: Expander | null = null;
  return {
    size: 1,
    start: () => {},
    whenReady: async () => {},
    startRehash: () => 0,
    startRound(s) {
      search = s;
      view = new StateStore(s.cm.words, { buffers: s.target.buffers() });
      const stores = { ...s.storesFor(), target: view };
      exp ??= new Expander(s.cm, s.canon, null, s.model.layout.nSlots, stores, { deadlock: s.opts.deadlock, shared: true, parents: false, shard: null });
      exp.setStores(stores);
      claimChunk(exp, s.ctrl, view);
    },
    idle: async () => {
      if (!search || !view || !exp) return;
      view.releaseIds();
      const f = exp.figures;
      search.otherFigures[search.workerSlot(0)] = { ...f, coverDepth: f.coverDepth.slice() };
      search.addFinding(exp.finding);
      exp.finding = null;
      view = null;
    },
  };
}

/**
 * A start state, then 512 states (`Pick1` sets a to one of 512 values), then 512 × 20 (`Pick2` sets
 * c to one of 20): levels of 1, 512 and 10,240 states (10,753 in all), 532 rule instances.
 */
function fan() {
  return buildModel(
    defineProtocol({
      name: 'search-fan',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 512);
        const Q = b.index('Q', 20);
        const a = b.v('a', P);
        const c = b.v('c', Q);
        const phase = b.v('phase', range(0, 2));
        b.init('zero', () => []);
        b.rule('Pick1', { p: P }, ({ p }) => ({ guard: eq(phase, 0), body: [assign(a, p as never), assign(phase, 1)] }));
        b.rule('Pick2', { q: Q }, ({ q }) => ({ guard: eq(phase, 1), body: [assign(c, q as never), assign(phase, 2)] }));
        return {};
      },
    }),
  );
}

describe('breadth-first levels in rounds (a pool whose threads claim nothing: this thread expands every chunk, through the round code)', () => {
  it('random protocols, every store: the verdict, end state, trace, states, transitions, depth and cover depths of the walk', async () => {
    let rounds = 0;
    for (const [i, plan] of fc.sample(planArb(true), { numRuns: 8, seed: 4110 }).entries()) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const w = walk(model, properties, plan.deadlock, 'bfs', {});
      for (const store of STORES) {
        const search = searchFor({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
        const { pool, calls } = idlePool(1 + (i % 3));
        try {
          const end = await search.runAsync({}, { tick: () => null, pool, parallelFrom: 1 });
          expectSame(resultOf(search, end), w, covers, {}, ['rounds', i, store]);
        } finally {
          search.dispose();
        }
        rounds += calls.filter((c) => c === 'round').length;
      }
    }
    expect(rounds).toBeGreaterThan(30);
  });

  it("with a worker that claims the first chunk of every round: the walk's verdict, end state, trace and figures, the worker's share counted apart; states moved into its unused ids (a violation among them followed)", async () => {
    let shared = 0;
    for (const [i, plan] of fc.sample(planArb(true), { numRuns: 8, seed: 4111 }).entries()) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const w = walk(model, properties, plan.deadlock, 'bfs', {});
      for (const store of STORES) {
        const search = searchFor({ model, properties, limits: {}, deadlock: plan.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
        try {
          const end = await search.runAsync({}, { tick: () => null, pool: oneChunkPool(), parallelFrom: 1 });
          expectSame(resultOf(search, end), w, covers, {}, ['worker', i, store]);
          const f = search.figures();
          const own = search.expander.figures.expanded;
          expect([i, store, f.byOthers, f.expanded]).toEqual([i, store, search.otherFigures[1]?.expanded ?? 0, own + (search.otherFigures[1]?.expanded ?? 0)]);
          if (f.byOthers > 0) shared++;
        } finally {
          search.dispose();
        }
      }
    }
    expect(shared).toBeGreaterThan(12);
  });

  it('on the grid (levels of up to 41 states: the worker claims 16, this thread the rest): a violation this thread finds in a state that settle moves into the unused ids of the worker is reported where it moved to', async () => {
    const { model } = grid();
    const { a, b } = model.handles;
    let moved = 0;
    for (const [x, y] of [
      [20, 15],
      [30, 30],
    ] as const) {
      const properties = [invariant('not-here', 'I-9', '', not(and(eq(a, x), eq(b, y))))];
      const w = walk(model, properties, false, 'bfs', {});
      for (const store of STORES) {
        const search = searchFor({ model, properties, limits: {}, deadlock: false, explicit: { store, memoryBytes: 1 << 16 } });
        const settle = vi.spyOn(StateStore.prototype, 'settle');
        try {
          const end = await search.runAsync({}, { tick: () => null, pool: oneChunkPool(), parallelFrom: 1 });
          // The figures at a violation depend on how the threads split the level; the violation does not.
          const r = resultOf(search, end);
          const steps = r.status === 'violated' ? (r.violations[0]?.trace?.steps ?? []) : [];
          expect([x, y, store, r.status, Array.from(steps.at(-1)?.state ?? []), steps.length - 1]).toEqual([x, y, store, 'violated', [x, y], w.found?.depth]);
          const last = settle.mock.results.at(-1)?.value as Map<number, number>;
          const f = end.kind === 'found' ? end.finding : null;
          // The search's own record of what ended it is the moved one too.
          expect(search.finding).toEqual(f);
          if (f?.kind === 'invariant' && [...last.values()].includes(f.pos - search.storesFor().targetBase)) moved++;
        } finally {
          settle.mockRestore();
          search.dispose();
        }
      }
    }
    // Three of the six violations lie in a state that settle moved.
    expect(moved).toBeGreaterThanOrEqual(3);
  });

  it('the pool is started once a level has an eighth of `parallelFrom` states, made ready before each round, and given exactly the levels of at least `parallelFrom` states; its first round fills a larger table first', async () => {
    const { model } = grid();
    const w = walk(model, [], false, 'bfs', {});
    const sizes = Array.from({ length: w.maxDepth + 1 }, (_, d) => w.order.filter((o) => o.d === d).length);
    const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
    const { pool, calls } = idlePool(2);
    expect(await search.runAsync({}, { tick: () => null, pool, parallelFrom: 40 })).toEqual({ kind: 'complete' });
    expect([search.count, search.figures().generated]).toEqual([w.states, w.transitions]);
    const big = sizes.filter((n) => n >= 40).length;
    expect(big).toBeGreaterThan(2);
    // The first level of 5 states or more starts the pool (start() is idempotent: called again at every such level).
    expect(calls.indexOf('start')).toBe(0);
    expect(calls.filter((c) => c === 'start').length).toBe(sizes.filter((n) => n >= 5).length);
    const rounds = calls.filter((c) => c !== 'start');
    // Every round: ready, then (the first only: the 1,681 states do not fit the first table's room for a round) the fill's
    // two steps (hash, put), each ended by idle, then the round and idle.
    expect(rounds).toEqual([
      'ready',
      'rehash hash',
      'idle',
      'rehash put',
      'idle',
      'round',
      'idle',
      ...Array.from({ length: big - 1 }, () => ['ready', 'round', 'idle']).flat(),
    ]);
  });

  it("the ids a fill's parts hand back (this thread's part 0 and a worker's part 1) are put once both parts are done: every state is found again, the counts those of one thread", async () => {
    const { model } = grid();
    const w = walk(model, [], false, 'bfs', {});
    const realFillPart = StateStore.prototype.fillPart;
    const withheld: number[] = [];
    // Each part put as usual, less the entry that ends its last run of full slots, whose id is handed back as if its probe
    // run had left the part (the slot after it is free or the next part's: no other id's run passes it).
    const fillPart = vi.spyOn(StateStore.prototype, 'fillPart').mockImplementation(function (this: StateStore, t, part, parts) {
      const left = realFillPart.call(this, t, part, parts);
      const tab = new Int32Array(t);
      const lo = Math.floor((tab.length * part) / parts);
      const hi = Math.floor((tab.length * (part + 1)) / parts);
      let at = hi - 1;
      while (at >= lo && (tab[at] === 0 || (at + 1 < hi && tab[at + 1] !== 0))) at--;
      if (at < lo) return left;
      const id = ((tab[at] as number) & (tab.length - 1)) - 1;
      tab[at] = 0;
      withheld.push(id);
      return [...left, id];
    });
    try {
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      // One worker that expands nothing, and puts part 1 of a fill through a view of the store, as searchWorker.ts does.
      const pool: LevelPool = {
        size: 1,
        start: () => {},
        whenReady: async () => {},
        startRound: () => {},
        startRehash(s, table, step) {
          if (step === 'put') s.addOverflow(new StateStore(s.cm.words, { buffers: s.target.buffers() }).fillPart(table, 1, 2));
          return 1;
        },
        idle: async () => {},
      };
      expect(await search.runAsync({}, { tick: () => null, pool, parallelFrom: 40 })).toEqual({ kind: 'complete' });
      expect([search.count, search.figures().generated]).toEqual([w.states, w.transitions]);
      // The grid's successors never go back a level, so a state missing from the table would not be met again: look each up.
      const back = new Uint32Array(search.cm.words);
      const lost: number[] = [];
      for (let id = 0; id < search.count; id++) {
        search.store.read(id, back, 0);
        if (!search.store.has(back, 0)) lost.push(id);
      }
      expect(lost).toEqual([]);
      // At least one fill: the worker's part, then this thread's, each handing back one id.
      const parts = fillPart.mock.calls.map((c) => [c[1], c[2]]);
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(parts).toEqual(
        Array.from({ length: parts.length / 2 }, () => [
          [1, 2],
          [0, 2],
        ]).flat(),
      );
      expect(withheld.length).toBe(parts.length);
    } finally {
      fillPart.mockRestore();
    }
  });

  it('a state limit and a stop reason (time limit, interrupt) end a round: the limit after the chunk that reached it (16 states, at most 32 successors on the grid), the reason right after the claim it follows', async () => {
    const { model } = grid();
    // Also limits just past the first states of a level of 38 or more: a round that did not stop there would store the whole level.
    const w = walk(model, [], false, 'bfs', {});
    const starts = Array.from({ length: w.maxDepth + 1 }, (_, d) => w.order.findIndex((o) => o.d === d));
    const sizes = starts.map((a, d) => (starts[d + 1] ?? w.states) - a);
    const past = starts.filter((_, d) => (sizes[d] as number) >= 38).map((a) => a + 2);
    expect(past.length).toBeGreaterThan(2);
    for (const maxStates of [1, 100, 1000, ...past.slice(0, 3)]) {
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      const end = await search.runAsync({ maxStates }, { tick: () => null, pool: idlePool(1).pool, parallelFrom: 1 });
      expect([maxStates, end, search.count >= maxStates, search.count < maxStates + 32]).toEqual([
        maxStates,
        { kind: 'limit', reason: `state limit of ${maxStates} reached` },
        true,
        true,
      ]);
    }
    let ticks = 0;
    let expandedAtStop = -1;
    const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
    const tick = () => {
      if (++ticks < 30) return null;
      expandedAtStop = search.figures().expanded;
      return 'stopped here';
    };
    const end = await search.runAsync({}, { tick, pool: idlePool(1).pool, parallelFrom: 1 });
    expect([end, ticks, search.count < 1681, search.figures().expanded]).toEqual([{ kind: 'limit', reason: 'stopped here' }, 30, true, expandedAtStop]);
  });
});

describe('the size of claims and the room of a round (what the TSDoc of maxChunk, parallelRound and reserveRound says)', () => {
  it('on the fan (532 instances; levels of 1, 512 and 10,240 states; two threads): claims of 16, 32 and 492 states, and claims stop at the count plus the room less the slack, worked out by hand', async () => {
    const model = fan();
    expect(model.instances.length).toBe(532);
    const rounds: { left: number; chunk: number; count: number; limit: number; capacity: number }[] = [];
    const { pool } = idlePool(1, (s) => {
      const c = s.ctrl;
      rounds.push({
        left: (c[CTRL.end] as number) - (c[CTRL.cursor] as number),
        chunk: c[CTRL.chunk] as number,
        count: s.target.count,
        limit: c[CTRL.limit] as number,
        capacity: s.target.capacity,
      });
    });
    const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
    try {
      expect(await search.runAsync({}, { tick: () => null, pool, parallelFrom: 1 })).toEqual({ kind: 'complete' });
      // Every state stored once: 1 + 512 + 512 × 20.
      expect(search.count).toBe(10753);
    } finally {
      search.dispose();
    }
    // Claims: an eighth of a thread's share of the level (left / 16), at least 16, at most maxChunk = 2^18 / 532 = 492 (between
    // 256 and 4,096): level 0, 1 / 16 -> 16; level 1, 512 / 16 = 32; level 2, 10,240 / 16 = 640 -> 492.
    expect(rounds.map((r) => [r.left, r.chunk])).toEqual([
      [1, 16],
      [512, 32],
      [10240, 492],
    ]);
    // Slack 2 × (chunk × 532 + 64): 17,152, 34,176 and 523,616; room: four times the slack (68,608, 136,704, 2,094,464), each more
    // than 65,536 and than an eighth of the 1, 513 and 10,753 states stored; claims stop at the count plus room less slack.
    expect(rounds.map((r) => [r.count, r.limit - r.count])).toEqual([
      [1, 68608 - 17152],
      [513, 136704 - 34176],
      [10753, 2094464 - 523616],
    ]);
    // The reserved states beyond that count cover every claim in flight (no store grows during a round).
    for (const r of rounds) expect(r.capacity - r.limit).toBeGreaterThanOrEqual(2 * (r.chunk * 532 + ID_BLOCK));
  });

  it('a state limit far from reached pauses no round: one round a level, as without a limit (on the grid, the walk counts the levels)', async () => {
    const { model } = grid();
    const w = walk(model, [], false, 'bfs', {});
    for (const limits of [{}, { maxStates: 1_000_000 }]) {
      const { pool, calls } = idlePool(1);
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      try {
        expect(await search.runAsync(limits, { tick: () => null, pool, parallelFrom: 1 })).toEqual({ kind: 'complete' });
        expect([limits, search.count, calls.filter((c) => c === 'round').length]).toEqual([limits, w.states, w.maxDepth + 1]);
      } finally {
        search.dispose();
      }
    }
  });

  it('a state limit stops the search after exactly the claim at whose end the store first holds the limit (the walk says how many states that is), also where the ids a round has taken are all used at the limit', async () => {
    const model = cube();
    const w = walk(model, [], false, 'bfs', {});
    expect(w.states).toBe(1000);
    // reach[p]: the states stored once the positions before p are expanded (ids in the order stored).
    const reach = new Array<number>(w.states + 1).fill(1);
    for (const e of w.edges) reach[e.from + 1] = Math.max(reach[e.from + 1] as number, e.to + 1);
    for (let p = 1; p <= w.states; p++) reach[p] = Math.max(reach[p] as number, reach[p - 1] as number);
    const starts = Array.from({ length: w.maxDepth + 2 }, (_, d) => (d > w.maxDepth ? w.states : w.order.findIndex((o) => o.d === d)));
    // Claims of 16 states from each level's start (levels of at most 75 states, two threads), the last one to the level's end.
    const ends: number[] = [];
    for (let d = 0; d <= w.maxDepth; d++)
      for (let e = (starts[d] as number) + 16; ; e += 16) {
        ends.push(Math.min(e, starts[d + 1] as number));
        if (e >= (starts[d + 1] as number)) break;
      }
    const stopsAt = (m: number) => reach[ends.find((e) => (reach[e] as number) >= m) as number] as number;
    // The round of depth 14 (75 states) stores exactly 64 new states in its first four claims: the ids of the one block this
    // thread took are used up there, so the count with unused ids is the limit then too.
    const c14 = reach[starts[14] as number] as number;
    expect([(starts[15] as number) - (starts[14] as number), stopsAt(c14 + 64)]).toEqual([75, c14 + 64]);
    // Limits around the start of that round, around that count, and at the end of the round and one past it.
    const c15 = reach[starts[15] as number] as number;
    for (const maxStates of [c14 - 2, c14 - 1, c14, c14 + 1, c14 + 2, ...Array.from({ length: 9 }, (_, i) => c14 + 60 + i), c15, c15 + 1]) {
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      const end = await search.runAsync({ maxStates }, { tick: () => null, pool: idlePool(1).pool, parallelFrom: 1 });
      expect([maxStates, end, search.count]).toEqual([maxStates, { kind: 'limit', reason: `state limit of ${maxStates} reached` }, stopsAt(maxStates)]);
    }
  });
});

/** Counts the turns of the event loop (a callback that schedules itself with setImmediate) until stopped. */
function loopTurns(): { now: () => number; stop: () => void } {
  let n = 0;
  let on = true;
  const spin = () => {
    n++;
    if (on) setImmediate(spin);
  };
  setImmediate(spin);
  return {
    now: () => n,
    stop: () => {
      on = false;
    },
  };
}

/** Whether every step between consecutive counts is positive (`more`) or zero. */
const stepsAre = (counts: readonly number[], more: boolean) => counts.slice(1).every((t, i) => (more ? t > (counts[i] as number) : t === counts[i]));

describe('time slices (`sliceMs`: yield to the event loop after this many milliseconds of work; none without it)', () => {
  it('in a round, 0: the event loop has a turn between any two claims of this thread; 10 minutes: never within a round (on the grid)', async () => {
    const { model } = grid();
    for (const sliceMs of [0, 600_000]) {
      const turns = loopTurns();
      // The turns counted at each claim of this thread (the search ticks after every claim), a list per round.
      const seen: number[][] = [];
      const { pool } = idlePool(1, () => seen.push([]));
      const tick = () => {
        seen.at(-1)?.push(turns.now());
        return null;
      };
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      try {
        expect(await search.runAsync({}, { tick, pool, parallelFrom: 1, sliceMs })).toEqual({ kind: 'complete' });
        expect(search.count).toBe(1681);
      } finally {
        turns.stop();
        search.dispose();
      }
      const several = seen.filter((r) => r.length >= 2);
      expect(several.length).toBeGreaterThan(20);
      for (const r of several) expect([sliceMs, stepsAre(r, sliceMs === 0)]).toEqual([sliceMs, true]);
    }
  });

  it('one thread, breadth-first, 0: a turn after every chunk (the walk asks whether a pause is due after each); 10 minutes: none; a tick every 1,024 expansions (one on the grid)', async () => {
    const { model } = grid();
    for (const sliceMs of [0, 600_000]) {
      const turns = loopTurns();
      // The turns counted when the walk first asks about a pause with a given number of states expanded (after each chunk).
      const atChunk = new Map<number, number>();
      let ticks = 0;
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
      const due = () => {
        const n = search.figures().expanded;
        if (!atChunk.has(n)) atChunk.set(n, turns.now());
        return false;
      };
      const tick = () => {
        ticks++;
        return null;
      };
      try {
        expect(await search.runAsync({}, { tick, atPause: { due, run: () => {} }, sliceMs })).toEqual({ kind: 'complete' });
        expect([search.count, search.figures().expanded, ticks]).toEqual([1681, 1681, 1]);
      } finally {
        turns.stop();
        search.dispose();
      }
      // A chunk ends a level (74 of them) or at the tick.
      expect(atChunk.size).toBeGreaterThanOrEqual(74);
      expect([sliceMs, stepsAre([...atChunk.values()], sliceMs === 0)]).toEqual([sliceMs, true]);
    }
  });

  it('depth-first: a turn after each tick (every 1,024 expansions) when slices are asked for, none without (on a cube of 3,375 states: 3 ticks)', async () => {
    const model = cube(14);
    for (const sliceMs of [0, undefined]) {
      const turns = loopTurns();
      const atTick: number[] = [];
      const tick = () => {
        atTick.push(turns.now());
        return null;
      };
      const search = searchFor({ model, properties: [], limits: {}, deadlock: false, strategy: 'dfs' });
      try {
        expect(await search.runAsync({}, { tick, ...(sliceMs === undefined ? {} : { sliceMs }) })).toEqual({ kind: 'complete' });
        expect([search.opts.strategy, search.count]).toEqual(['dfs', 15 ** 3]);
      } finally {
        turns.stop();
        search.dispose();
      }
      expect([sliceMs, atTick.length, stepsAre(atTick, sliceMs === 0)]).toEqual([sliceMs, 3, true]);
    }
  });
});

describe('what worker threads are given', () => {
  it('at the start: the compiled rules, symmetry only when on, the options and the shared words; each round: the stores of the level, their first positions and the visited set', async () => {
    const { model, properties } = counters(2, 5, -1);
    for (const store of STORES)
      for (const symmetry of [false, true]) {
        const shard = store === 'exact' ? null : { index: 1, count: 2 };
        const search = searchFor({
          model,
          properties,
          limits: {},
          deadlock: false,
          symmetry,
          explicit: { store, memoryBytes: 1 << 16, ...(shard ? { shard } : {}) },
        });
        const init = search.workerInit();
        expect({ ...init, sources: init.sources === search.cm.sources }).toEqual({
          sources: true,
          slotNames: model.layout.slotNames,
          nSlots: model.layout.nSlots,
          symmetry: symmetry ? { indexes: model.indexes, layout: model.layout } : null,
          deadlock: false,
          ctrl: search.ctrl.buffer,
          reduction: null,
          coversDone: search.coversDone.buffer,
          shard,
        });
        const seed = shard ? (search.opts.hashSeed as number) : 0;
        expect(seed === 0).toBe(shard === null);
        let rounds = 0;
        const { pool } = idlePool(1, (s) => {
          rounds++;
          const [lo, hi] = s.levelRange();
          const compact = store !== 'exact';
          expect(s.roundMessage()).toEqual({
            type: 'round',
            frontier: s.store.buffers(),
            frontierBase: compact ? lo : 0,
            target: s.target.buffers(),
            targetBase: compact ? hi : 0,
            seen:
              store === 'exact'
                ? null
                : store === 'bitstate'
                  ? { kind: 'bits', buffers: (s.seen as BitstateSet).buffers(), seed }
                  : { kind: 'fingerprints', buffers: (s.seen as FingerprintSet).buffers() },
          });
        });
        expect(await search.runAsync({}, { tick: () => null, pool, parallelFrom: 1 })).toEqual({ kind: 'complete' });
        search.dispose();
        expect([store, symmetry, rounds > 0]).toEqual([store, symmetry, true]);
      }
  });
});

describe('pauses (where a checkpoint is written)', () => {
  it('a pause due in the middle of a level is taken at the end of the chunk (1,024 expansions), with the cursor inside the level; the search then goes on to the end', () => {
    const { model } = grid();
    const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
    const at: [number, number, number, number][] = [];
    // A level of the grid ends after 1,017 expansions, the next one past 1,024: due from 1,018 on, the pause falls between.
    const due = () => at.length === 0 && search.figures().expanded > 1017;
    const run = () => {
      const [lo, hi] = search.levelRange();
      at.push([search.figures().expanded, lo, search.ctrl[CTRL.cursor] as number, hi]);
    };
    expect(search.runSync({}, { tick: () => null, atPause: { due, run } })).toEqual({ kind: 'complete' });
    expect(search.count).toBe(1681);
    expect(at.length).toBe(1);
    const [expanded, lo, cursor, hi] = at[0] as [number, number, number, number];
    expect([expanded, cursor, lo < cursor && cursor < hi]).toEqual([1024, 1024, true]);
  });

  it('in rounds too: a pause due in the middle of a level stops the round after the chunk just claimed (16 states on the grid), with the cursor inside the level', async () => {
    const { model } = grid();
    const search = searchFor({ model, properties: [], limits: {}, deadlock: false });
    const at: [number, number, number, number][] = [];
    const due = () => at.length === 0 && search.figures().expanded > 1017;
    const run = () => {
      const [lo, hi] = search.levelRange();
      at.push([search.figures().expanded, lo, search.ctrl[CTRL.cursor] as number, hi]);
    };
    const end = await search.runAsync({}, { tick: () => null, atPause: { due, run }, pool: idlePool(1).pool, parallelFrom: 1 });
    expect([end, search.count, at.length]).toEqual([{ kind: 'complete' }, 1681, 1]);
    const [expanded, lo, cursor, hi] = at[0] as [number, number, number, number];
    expect([expanded, cursor, lo < cursor && cursor < hi]).toEqual([1017 + 16, 1017 + 16, true]);
  });
});

describe('an exact store that cannot grow any more (its most table slots reached)', () => {
  /** x, y and z count 0..39 (searchWalk's cube): 64,000 states. */
  const cube40 = cube(39);
  // The table starts at 2^16 slots: it may not double.
  const search = (strategy: 'bfs' | 'dfs') => new SearchClass(cube40, [], { strategy, symmetry: false, deadlock: false, maxTableSlots: 2 ** 16 });
  // A compact store keeps levels: a depth-first search is told to go breadth-first for one.
  const full = (n: number, strategy: 'bfs' | 'dfs') =>
    `the exact store is full at ${n} states: its table has at most 65536 slots; ${strategy === 'dfs' ? 'the breadth-first strategy with ' : ''}--store hash-compaction goes further`;

  it('one thread, breadth-first or depth-first: the search ends as a limit once its table of 65,536 slots cannot double (at 49,153 states, past a load of 0.75), never with an error, saying what goes further', () => {
    for (const strategy of ['bfs', 'dfs'] as const) {
      const s = search(strategy);
      expect([strategy, s.runSync({}, { tick: () => null }), s.count]).toEqual([strategy, { kind: 'limit', reason: full(49_153, strategy) }, 49_153]);
    }
  });

  it('breadth-first: the state being expanded when the table was full counts as not expanded (the cursor stays on it, its successors are not counted as transitions)', () => {
    const s = search('bfs');
    s.runSync({}, { tick: () => null });
    const [lo, hi] = s.levelRange();
    const cursor = s.ctrl[CTRL.cursor] as number;
    const f = s.figures();
    expect([f.expanded, lo <= cursor && cursor < hi]).toEqual([cursor, true]);
    // Every state before the cursor was expanded: one transition for each of its counters below 39.
    const back = new Uint32Array(s.cm.words);
    const slots = new Int32Array(3);
    let transitions = 0;
    for (let id = 0; id < cursor; id++) {
      s.store.read(id, back, 0);
      s.cm.unpack(back, 0, slots);
      for (const v of slots) if (v !== 39) transitions++;
    }
    expect(f.generated).toBe(transitions);
  });

  it('with worker rounds: the larger table a round needs is refused before the round starts, and the search ends as a limit with the states stored so far', async () => {
    const s = search('bfs');
    const { pool, calls } = idlePool(1);
    const end = await s.runAsync({}, { tick: () => null, pool, parallelFrom: 8 });
    expect([end, s.count < 49_153]).toEqual([{ kind: 'limit', reason: full(s.count, 'bfs') }, true]);
    // No round was started, nor a shared rehash: the refusal came first.
    expect(calls.filter((c) => c === 'round' || c.startsWith('rehash'))).toEqual([]);
  });
});
