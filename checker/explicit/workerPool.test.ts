/**
 * The pool of worker threads (workerPool.ts) driven directly, with the stores of a search that has
 * not started (its control words are all 0: a thread's first claim finds no room, so a round ends
 * at once). Why this file exists: the searches with threads (workers.test.ts, searchResume.test.ts)
 * reach only the paths where every thread starts and works, and their counts do not show how many
 * threads ran, which of them a round reached, or whether `close` waited for them; a thread that
 * fails or exits is reached only here. Oracle: the TSDoc of `WorkerPool` and of `LevelPool`
 * (search.ts): n threads, started once; `whenReady` starts them and resolves when every one has
 * started; a round goes to every started thread and `idle` resolves when each has replied; a
 * thread's error ends the waits with that error, and later rounds are refused (MC040).
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { add, eq, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { cover } from '../../properties/property.js';
import { codeOf } from '../../test/errorCode.js';
import { STORES, cube } from '../../test/searchWalk.js';
import { CTRL } from './expander.js';
import { searchFor } from './explicit.js';
import type { Search } from './search.js';
import { type WorkerRehash, WorkerPool } from './workerPool.js';

const newSearch = () => searchFor({ model: cube(), properties: [], limits: {} });

/** The worker threads started from now on (each one the pool puts a listener on). */
function watchThreads(): () => Worker[] {
  const on = vi.spyOn(Worker.prototype, 'on');
  return () => [...new Set(on.mock.contexts as Worker[])];
}

/** Waits until `done` holds, checking every 10 ms (the test's timeout ends a wait that never ends). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 10));
}

/** The figures each slot of `search.otherFigures` holds: null for none (slot 0: no resumed run). */
const slots = (search: Search) => Array.from(search.otherFigures, (f) => (f === undefined ? null : f.expanded));

/** x counts from 0 to 3, one step at a time (x = 3 has no step: a deadlock at depth 3); the cover `x-one` is reached at depth 1. */
function line() {
  const model = buildModel(
    defineProtocol({
      name: 'pool-line',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const x = b.v('x', range(0, 3));
        b.init('zero', () => []);
        b.rule('Inc', {}, () => ({ guard: lt(x, 3), body: [assign(x, add(x, 1))] }));
        return { x };
      },
    }),
  );
  return { model, properties: [cover('x-one', 'C-1', '', eq(model.handles.x, 1))] };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WorkerPool', () => {
  it('starts its n threads once however often start() is called, and close() resolves only after each has ended', async () => {
    const threads = watchThreads();
    const pool = new WorkerPool(2, newSearch().workerInit());
    pool.start();
    pool.start();
    await pool.whenReady();
    pool.start();
    expect(threads().length).toBe(2);
    await pool.close();
    // A thread's id is -1 once it has ended.
    expect(threads().map((w) => w.threadId)).toEqual([-1, -1]);
  });

  it('whenReady() starts the threads when start() was not called, and resolves again at once when called again', async () => {
    const threads = watchThreads();
    const pool = new WorkerPool(2, newSearch().workerInit());
    await pool.whenReady();
    expect(threads().length).toBe(2);
    await pool.whenReady();
    await pool.close();
  });

  it('a round started before the threads are ready goes to none of them: idle() resolves at once, no thread reports', async () => {
    const search = newSearch();
    const pool = new WorkerPool(2, search.workerInit());
    pool.start();
    pool.startRound(search);
    await pool.idle();
    await pool.whenReady();
    // Time for a reply, had a thread been sent the round.
    await new Promise((r) => setTimeout(r, 200));
    expect(slots(search)).toEqual([]);
    await pool.close();
  });

  it('once whenReady() has resolved, a round reaches every thread: idle() resolves when each has put its figures in its own slot', async () => {
    const search = newSearch();
    const pool = new WorkerPool(2, search.workerInit());
    await pool.whenReady();
    pool.startRound(search);
    await pool.idle();
    expect(slots(search)).toEqual([null, 0, 0]);
    await pool.close();
  });

  it('replies that arrive before idle() is called: idle() resolves at once (round and rehash)', async () => {
    const search = newSearch();
    const pool = new WorkerPool(2, search.workerInit());
    await pool.whenReady();
    pool.startRound(search);
    await until(() => slots(search).filter((x) => x !== null).length === 2);
    await pool.idle();
    // A rehash round of an empty store: each thread replies at once; wait for both replies to be in.
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    expect(pool.startRehash(search, search.target.newTable(1 << 10), 'hash')).toBe(2);
    expect(posted.mock.calls.length).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    await pool.idle();
    await pool.close();
  });

  it('a fill of a larger table: the worker threads alone hash every stored state, then each puts its part (1 and 2 of 3), the ids left over reach the search, and idle() resolves when each has replied', async () => {
    const search = newSearch();
    // The cube's first six levels: 56 states.
    await search.runAsync({ depth: 5 }, { tick: () => null });
    expect(search.target.count).toBe(56);
    const pool = new WorkerPool(2, search.workerInit());
    await pool.whenReady();
    const table = search.target.newTable(1 << 6);
    search.ctrl[CTRL.rehash] = 0;
    expect(pool.startRehash(search, table, 'hash')).toBe(2);
    await pool.idle();
    expect(search.ctrl[CTRL.rehash]).toBeGreaterThanOrEqual(56);
    const left: number[] = [];
    const handed = vi.spyOn(search, 'addOverflow').mockImplementation((ids) => void left.push(...ids));
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    expect(pool.startRehash(search, table, 'put')).toBe(2);
    expect(posted.mock.calls.map(([m]) => [(m as WorkerRehash).part, (m as WorkerRehash).parts])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    left.push(...search.target.fillPart(table, 0, 3));
    await pool.idle();
    expect(handed).toHaveBeenCalledTimes(2);
    search.target.fillOverflow(table, left);
    expect(new Int32Array(table).filter((v) => v !== 0).length).toBe(56);
    search.target.useTable(table);
    const back = new Uint32Array(search.cm.words);
    const lost: number[] = [];
    for (let id = 0; id < 56; id++) {
      search.target.read(id, back, 0);
      if (search.target.insert(back, 0) !== -(id + 1)) lost.push(id);
    }
    expect(lost).toEqual([]);
    posted.mockRestore();
    handed.mockRestore();
    await pool.close();
  });

  it.each([true, false])(
    'a thread alone expands each level (deadlock check %s): its figures add up over the rounds, it reports the cover depth, the deepest level and the deadlock only when asked',
    async (deadlock) => {
      const search = searchFor({ ...line(), limits: {}, deadlock });
      search.insertStarts();
      search.target.reserveChunks(1 << 10);
      const pool = new WorkerPool(1, search.workerInit());
      await pool.whenReady();
      // Level d is the state at position d; this thread claims nothing, the worker thread every chunk.
      const ctrl = search.ctrl;
      [ctrl[CTRL.chunk], ctrl[CTRL.limit], ctrl[CTRL.headLimit]] = [16, 1 << 10, 0xffffffff];
      for (let d = 0; d <= 3; d++) {
        [ctrl[CTRL.cursor], ctrl[CTRL.end], ctrl[CTRL.depth]] = [d, d + 1, d];
        pool.startRound(search);
        await pool.idle();
        // Every id the thread took and did not use is given back: the ids are dense again, none moved.
        expect([d, search.target.settle().size, search.target.count]).toEqual([d, 0, Math.min(d + 2, 4)]);
      }
      const f = search.otherFigures[search.workerSlot(0)];
      expect(f && { ...f, coverDepth: Array.from(f.coverDepth) }).toEqual({ expanded: 4, generated: 3, maxDepth: 3, coverDepth: [1] });
      expect(search.finding).toEqual(deadlock ? { kind: 'deadlock', pos: 3 } : null);
      await pool.close();
    },
  );

  it.each(STORES)(
    'a thread alone expands a whole level of the %s store, chunk after chunk, reading it where the round message says and storing its successors',
    async (store) => {
      // Level 5 of the cube: positions 35 to 55 of the states stored (21 states; 28 successors, none stored before).
      const search = searchFor({ model: cube(), properties: [], limits: {}, explicit: { store, memoryBytes: 1 << 16 } });
      expect(await search.runAsync({ depth: 5 }, { tick: () => null })).toEqual({ kind: 'limit', reason: 'depth limit 5 reached with 21 states unexplored' });
      const [lo, hi] = search.levelRange();
      expect([lo, hi]).toEqual([35, 56]);
      const before = search.target.count;
      search.target.reserveChunks(1 << 10);
      const ctrl = search.ctrl;
      [ctrl[CTRL.cursor], ctrl[CTRL.end], ctrl[CTRL.depth], ctrl[CTRL.chunk]] = [lo, hi, 5, 1];
      [ctrl[CTRL.limit], ctrl[CTRL.headLimit]] = [before + (1 << 10), 0xffffffff];
      const pool = new WorkerPool(1, search.workerInit());
      await pool.whenReady();
      pool.startRound(search);
      await pool.idle();
      const f = search.otherFigures[search.workerSlot(0)];
      expect([f?.expanded, f?.generated, f?.maxDepth, (ctrl[CTRL.cursor] as number) >= hi]).toEqual([21, 63, 6, true]);
      expect([search.target.settle().size, search.target.count - before]).toEqual([0, 28]);
      await pool.close();
    },
  );

  it('a thread alone expanding the start state of each shard of two stores the successors of that shard only, as one thread does (they add up to the three of the whole search)', async () => {
    const stored: number[] = [];
    for (const index of [0, 1]) {
      const job = { model: cube(), properties: [], limits: {}, explicit: { shard: { index, count: 2 } } };
      const alone = searchFor(job);
      await alone.runAsync({ depth: 1 }, { tick: () => null });
      const [lo, hi] = alone.levelRange();
      const search = searchFor(job);
      search.insertStarts();
      search.target.reserveChunks(1 << 10);
      const ctrl = search.ctrl;
      [ctrl[CTRL.cursor], ctrl[CTRL.end], ctrl[CTRL.depth], ctrl[CTRL.chunk]] = [0, 1, 0, 16];
      [ctrl[CTRL.limit], ctrl[CTRL.headLimit]] = [1 << 10, 0xffffffff];
      const pool = new WorkerPool(1, search.workerInit());
      await pool.whenReady();
      pool.startRound(search);
      await pool.idle();
      search.target.settle();
      expect([index, search.target.count - 1]).toEqual([index, hi - lo]);
      stored.push(hi - lo);
      await pool.close();
    }
    expect(stored.reduce((n, k) => n + k, 0)).toBe(3);
  });

  it("a thread's error in a round: idle() rejects with it, and the next round is refused (MC040) naming it, not the thread's exit that follows", async () => {
    const threads = watchThreads();
    const search = newSearch();
    const pool = new WorkerPool(2, search.workerInit());
    await pool.whenReady();
    // A round message without the frontier's buffers: the thread throws reading them.
    const broken = Object.assign(Object.create(search) as Search, { roundMessage: () => ({ ...search.roundMessage(), frontier: undefined }) });
    pool.startRound(broken);
    // The thread's own error (which property it read first depends on how it makes its views of the stores).
    const thrown = /^Cannot read properties of undefined \(reading '\w+'\)$/;
    await expect(pool.idle()).rejects.toThrow(thrown);
    await until(() => threads().every((w) => w.threadId === -1));
    expect(codeOf(() => pool.startRound(search))).toMatch(/^MC040 internal error in a worker thread: Cannot read properties of undefined \(reading '\w+'\)$/);
    await pool.close();
  });

  it('a thread that fails as it starts: whenReady() rejects with its error, and so does every later call', async () => {
    const init = newSearch().workerInit();
    // Rules whose source does not parse: the thread throws rebuilding them.
    const pool = new WorkerPool(2, { ...init, sources: { ...init.sources, expand: '}' } });
    await expect(pool.whenReady()).rejects.toThrow(SyntaxError);
    await expect(pool.whenReady()).rejects.toThrow(SyntaxError);
    await pool.close();
  });

  it('a thread that exits (code 3) without an error: whenReady() rejects naming the thread and the code', async () => {
    const init = newSearch().workerInit();
    // Rules whose source ends the thread as it rebuilds them.
    const pool = new WorkerPool(2, { ...init, sources: { ...init.sources, expand: '}, process.exit(3), function () {' } });
    await expect(pool.whenReady()).rejects.toThrow(/^worker thread [01] exited with code 3$/);
    await pool.close();
  });
});
