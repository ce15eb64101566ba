/**
 * The depth-first walk's stack (dfsStack.ts): last in, first out across its chunks, memory given
 * back as it shrinks, and a chunk past the memory limit refused with nothing pushed; a depth-first
 * search whose stack cannot grow ends as incomplete, naming the stack, with its figures.
 */
import { describe, expect, it } from 'vitest';
import { MiB, countingLimit } from '../../test/countingLimit.js';
import type { McError } from '../../model/lang/errors.js';
import { add, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import type { CheckResult, ExplicitStats, MemoryLimit } from '../engine.js';
import { DfsStack } from './dfsStack.js';
import { explicitRun } from './explicit.js';
import { StoreFullError } from './storeMemory.js';

const CHUNK = 65536;

describe('DfsStack', () => {
  it('pops the pairs pushed, last first, across three chunks, then -1 when empty; depths and ids up to 2^32 - 1 kept', () => {
    const s = new DfsStack();
    const n = 2 * CHUNK + 5;
    for (let i = 0; i < n; i++) s.push(i === n - 1 ? 0xffffffff : i * 7, i === 0 ? 0xffffffff : i % 1000);
    expect([s.length, s.chunkCount]).toEqual([n, 3]);
    const wrong: number[] = [];
    for (let i = n - 1; i >= 0; i--) {
      const id = s.pop();
      const want = [i === n - 1 ? 0xffffffff : i * 7, i === 0 ? 0xffffffff : i % 1000];
      if (id !== want[0] || s.depth !== want[1]) wrong.push(i);
    }
    expect([wrong, s.length, s.pop(), s.length]).toEqual([[], 0, -1, 0]);
  });

  it('keeps at most one chunk above the top as it shrinks, takes chunks again as it grows, and takes none while the top goes up and down across a chunk edge', () => {
    let asked = 0;
    const s = new DfsStack({ bytes: 2 ** 50, inUse: () => asked++ * 0 });
    for (let i = 0; i < 4 * CHUNK; i++) s.push(i, 0);
    expect([s.chunkCount, asked]).toEqual([4, 4]);
    while (s.length > CHUNK - 1) s.pop();
    // The next push goes to chunk 0 now: chunk 1 is kept for the way back up, 2 and 3 are freed.
    expect(s.chunkCount).toBe(2);
    for (let i = 0; i < 3 * CHUNK; i++) s.push(i, 1);
    expect([s.chunkCount, s.length, asked]).toEqual([4, 4 * CHUNK - 1, 6]);
    while (s.length > CHUNK + 1) s.pop();
    expect(s.chunkCount).toBe(3);
    // Up and down across the edge of chunks 0 and 1: chunk 1 stays, and nothing is asked for again.
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      s.pop();
      s.pop();
      seen.push(s.chunkCount);
      s.push(1, 1);
      s.push(2, 1);
      seen.push(s.chunkCount);
    }
    expect([seen, asked, s.length, s.pop(), s.pop()]).toEqual([[2, 2, 2, 2, 2, 2, 2, 2], 6, CHUNK + 1, 2, 1]);
  });

  it('a chunk past the memory limit is refused (StoreFullError naming the stack), nothing pushed; it takes pairs again once memory is there', () => {
    let inUse = 0;
    const limit: MemoryLimit = { bytes: MiB, inUse: () => inUse };
    const s = new DfsStack(limit);
    for (let i = 0; i < CHUNK; i++) s.push(i, i);
    inUse = MiB - 1;
    let e: unknown = null;
    try {
      s.push(CHUNK, 3);
    } catch (x) {
      e = x;
    }
    expect([e instanceof StoreFullError, (e as StoreFullError).because, (e as StoreFullError).what, (e as Error).message]).toEqual([
      true,
      'limit',
      'the depth-first stack',
      'the memory limit of 1.0 MiB is reached (1.0 MiB in use, 0.5 MiB more needed for the depth-first stack)',
    ]);
    expect([s.length, s.chunkCount]).toEqual([CHUNK, 1]);
    inUse = 0;
    s.push(CHUNK, 3);
    expect([s.length, s.pop(), s.depth, s.pop(), s.depth]).toEqual([CHUNK + 1, CHUNK, 3, CHUNK - 1, CHUNK - 1]);
    // Not even the first chunk: refused as it is made.
    expect(() => new DfsStack({ bytes: MiB, inUse: () => MiB })).toThrow(StoreFullError);
  });
});

/**
 * A walk whose stack gets deep: a level counter `d` (0..399) and a choice `v` (one of 200), each
 * step raising `d` and choosing any `v` (79,801 states). Expanding the last state pushed stacks 200
 * new states a level, so about 79,000 wait at once: more than one chunk. A state's 200 successors
 * fit in one batch of the expander, so they are stored (and pushed) when its expansion ends.
 */
function ladder() {
  return buildModel(
    defineProtocol({
      name: 'dfs-ladder',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const K = b.index('K', 200);
        const d = b.v('d', range(0, 399));
        const v = b.v('v', K);
        b.init('zero', () => []);
        b.rule('Step', { k: K }, ({ k }) => ({ guard: lt(d, 399), body: [assign(d, add(d, 1)), assign(v, k)] }));
        return { d };
      },
    }),
  );
}

describe('a depth-first search whose stack cannot grow', () => {
  const model = ladder();
  const job = (memoryLimit?: MemoryLimit) => ({
    model,
    properties: [],
    limits: {},
    deadlock: false,
    strategy: 'dfs' as const,
    explicit: { workers: 1, ...(memoryLimit ? { memoryLimit } : {}) },
  });

  it('at every place where the stack or the store grows, ends as incomplete (naming the stack where it is the stack; for the store, what goes further in a depth-first search) with the states stored so far, or is refused before it starts (MC030)', async () => {
    let peak = 0;
    const push = DfsStack.prototype.push;
    const whole = await (async () => {
      DfsStack.prototype.push = function (this: DfsStack, id: number, depth: number) {
        push.call(this, id, depth);
        if (this.length > peak) peak = this.length;
      };
      try {
        return await explicitRun(job());
      } finally {
        DfsStack.prototype.push = push;
      }
    })();
    expect([whole.status, whole.stats.states, peak > CHUNK]).toEqual(['ok', 79_801, true]);
    const count = countingLimit(2 ** 50);
    await explicitRun(job(count));
    const reasons: string[] = [];
    for (let k = 0; k < count.asked; k++) {
      let r: CheckResult<ExplicitStats>;
      try {
        r = await explicitRun(job(countingLimit(k * MiB - 1)));
      } catch (e) {
        // Only the first allocations (the first table and chunk, the stack's first chunk) refuse the search.
        expect([k, k <= 3, (e as McError).code, (e as McError).message]).toEqual([
          k,
          true,
          'MC030',
          expect.stringMatching(/^--max-memory: the search cannot start: the memory limit of /),
        ]);
        continue;
      }
      const reason = r.status === 'incomplete' ? r.reason : r.status;
      const states = `${r.stats.states} states`;
      expect([k, reason]).toEqual([
        k,
        expect.stringMatching(
          new RegExp(
            `^(the depth-first stack is full at ${states}: the memory limit of .* is reached \\(.* more needed for the depth-first stack\\); the breadth-first strategy goes further|the exact store is full at ${states}: the memory limit of .* is reached \\(.*\\); --collapse or the breadth-first strategy with --store hash-compaction go further) \\(or a higher --max-memory\\)$`,
          ),
        ),
      ]);
      expect(r.stats.states).toBeLessThan(79_801);
      reasons.push(reason);
    }
    // The stack's second chunk was refused at one of the places, the store's growth at others.
    expect([reasons.some((x) => x.startsWith('the depth-first stack is full')), reasons.some((x) => x.startsWith('the exact store is full'))]).toEqual([
      true,
      true,
    ]);
  });
});
