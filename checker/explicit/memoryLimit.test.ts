/**
 * The memory limit of the explicit engine's stores (storeMemory.ts): a store that would pass it, or
 * whose memory cannot be allocated, ends the search as incomplete with its figures and a checkpoint
 * that resumes to the counts of a search that never stopped; a search whose first table does not fit
 * is refused (MC030), a checkpoint that does not fit (MC051); the liveness graph ends its phase as
 * incomplete, dropping the edges of the state it was expanding. The limits here count allocations (the k-th
 * question "how much is in use?" answers k MiB), so every place where a store grows is reached by
 * some limit, whatever the process's resident memory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MiB, countingLimit } from '../../test/countingLimit.js';
import { cube } from '../../test/searchWalk.js';
import type { McError } from '../../model/lang/errors.js';
import { eq, gt, lt } from '../../model/lang/expr.js';
import { type Property, eventually } from '../../properties/property.js';
import type { CheckJob, CheckResult, ExplicitOptions, ExplicitStats, MemoryLimit, StoreKind } from '../engine.js';
import { explicitRun } from './explicit.js';
import { buildGraph, graphState } from './graph.js';
import { explicitRunWithLiveness } from './liveness.js';
import { StateStore } from './stateStore.js';
import { StoreFullError, allocate, availableMemory, defaultMemoryLimit, formatBytes, readText, residentLimit, sharedBuffer } from './storeMemory.js';

const root = mkdtempSync(join(tmpdir(), 'mc-memory-limit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A check of `properties` on `model` with liveness, one thread, no deadlock check, under the limit it is given. */
const jobOf =
  (model: ReturnType<typeof cube>, properties: Property[]) =>
  (memoryLimit: MemoryLimit): CheckJob => ({ model, properties, limits: {}, deadlock: false, explicit: { workers: 1, memoryLimit } });

/** `job` run with its k-th allocation refused: the result, or null when the safety search before it cannot start (MC030). */
async function refusedAt(job: (limit: MemoryLimit) => CheckJob, k: number): Promise<CheckResult<ExplicitStats> | null> {
  try {
    return await explicitRunWithLiveness(job(countingLimit(k * MiB - 1)));
  } catch (e) {
    expect([k, (e as McError).code]).toEqual([k, 'MC030']); // the safety search's start
    return null;
  }
}

describe('storeMemory: allocations under a limit', () => {
  it('allocate gives what make() returns within the limit, and StoreFullError naming the limit, the use, the need and what it was for when past it (make() not called)', () => {
    expect(allocate(MiB, 'x', { bytes: 3 * MiB, inUse: () => 2 * MiB }, () => 'made')).toBe('made');
    let called = false;
    const past = () =>
      allocate(MiB + 1, 'the table of the states', { bytes: 3 * MiB, inUse: () => 2 * MiB }, () => {
        called = true;
      });
    expect(past).toThrow(
      new StoreFullError(
        'limit',
        'the memory limit of 3.0 MiB is reached (2.0 MiB in use, 1.0 MiB more needed for the table of the states)',
        'the table of the states',
      ),
    );
    expect(called).toBe(false);
    // No limit: only the allocation decides.
    expect(sharedBuffer(64, 'x', undefined).byteLength).toBe(64);
  });

  it("a limit that can collect garbage is asked again after one collection before it refuses: within it then, the allocation is made; the resident limit's collection returns a dropped array to the system", () => {
    // Answers: 2.5 MiB in use, then (after the collection) `after`.
    const limit = (after: number) => {
      const l = { bytes: 3 * MiB, collected: 0, answers: [2.5 * MiB, after], inUse: () => l.answers.shift() ?? Number.NaN, collect: () => void l.collected++ };
      return l;
    };
    const freed = limit(MiB);
    expect([allocate(MiB, 'x', freed, () => 'made'), freed.collected, freed.answers.length]).toEqual(['made', 1, 0]);
    const held = limit(2.5 * MiB);
    expect(() => allocate(MiB, 'x', held, () => 'made')).toThrow(/\(2\.5 MiB in use, 1\.0 MiB more needed for x\)/);
    expect(held.collected).toBe(1);
    // Within the limit at the first answer: no collection.
    const fits = limit(0);
    expect([allocate(0.5 * MiB, 'x', fits, () => 'made'), fits.collected, fits.answers.length]).toEqual(['made', 0, 1]);
    // The process's own: 64 MiB written, dropped, and resident until the collection gives them back.
    const resident = residentLimit(2 ** 40);
    let big: Uint8Array | null = new Uint8Array(64 * MiB).fill(1);
    const withIt = resident.inUse();
    expect(big.length).toBe(64 * MiB);
    big = null;
    resident.collect?.();
    expect(withIt - resident.inUse()).toBeGreaterThan(48 * MiB);
  });

  it('an allocation that fails with a RangeError becomes StoreFullError ("out of memory"); any other error passes unchanged', () => {
    const refuse = () => {
      throw new RangeError('Array buffer allocation failed');
    };
    expect(() => allocate(2 * 2 ** 30, 'the states', undefined, refuse)).toThrow(
      new StoreFullError('memory', 'out of memory: 2.0 GiB more for the states could not be allocated', 'the states'),
    );
    const other = new TypeError('not memory');
    expect(() =>
      allocate(1, 'x', undefined, () => {
        throw other;
      }),
    ).toThrow(other);
    // A real refusal: V8 does not make a buffer past its largest size.
    expect(() => sharedBuffer(2 ** 53, 'x', undefined)).toThrow(StoreFullError);
  });

  it('the available memory is the smaller of the machine memory and a control group limit (v2, then v1; "max" and unreadable files set none)', () => {
    const files = (m: Record<string, string>) => (p: string) => m[p] ?? null;
    const machine = availableMemory(files({}));
    expect(machine).toBeGreaterThan(0);
    expect(availableMemory(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBe(machine);
    expect(availableMemory(files({ '/sys/fs/cgroup/memory.max': `${8 * MiB}\n` }))).toBe(8 * MiB);
    expect(availableMemory(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': `${16 * MiB}\n` }))).toBe(16 * MiB);
    expect(availableMemory(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }))).toBe(machine);
    // Only a whole number is a limit.
    expect(availableMemory(files({ '/sys/fs/cgroup/memory.max': `${8 * MiB}x` }))).toBe(machine);
    expect(availableMemory(files({ '/sys/fs/cgroup/memory.max': `x${8 * MiB}` }))).toBe(machine);
    // The default reader: a file's text, or null.
    const file = join(root, 'memory.max');
    writeFileSync(file, '123\n');
    expect([readText(file), readText(join(root, 'none'))]).toEqual(['123\n', null]);
    expect(defaultMemoryLimit()).toBe(Math.floor(0.9 * availableMemory()));
    expect([formatBytes(1.5 * MiB), formatBytes(2 ** 30), formatBytes(3 * 2 ** 30), residentLimit(5).bytes, residentLimit(5).inUse() > MiB]).toEqual([
      '1.5 MiB',
      '1.0 GiB',
      '3.0 GiB',
      5,
      true,
    ]);
  });

  it('a store that cannot have a chunk stays as it was: the same count, every state readable, and it takes states again once memory is there', () => {
    let inUse = 0;
    const store = new StateStore(2, { memoryLimit: { bytes: MiB, inUse: () => inUse } });
    const w = new Uint32Array(2);
    for (let i = 0; i < 65536; i++) {
      w[0] = i;
      store.insert(w, 0);
    }
    inUse = MiB; // the next state needs a second chunk
    w[0] = 65536;
    expect(() => store.insert(w, 0)).toThrow(/^the memory limit of 1\.0 MiB is reached \(1\.0 MiB in use, 0\.5 MiB more needed for the states\)$/);
    const back = new Uint32Array(2);
    store.read(65535, back, 0);
    expect([store.count, store.capacity, back[0], store.find(w, 0)]).toEqual([65536, 65536, 65535, -1]);
    inUse = 0;
    expect([store.insert(w, 0), store.count]).toEqual([65536, 65537]);
  });
});

describe('a search that reaches the memory limit', () => {
  const model = cube(39); // 64,000 states, 117 levels
  const job = (explicit: ExplicitOptions) => ({ model, properties: [], limits: {}, deadlock: false, explicit });
  const figures = (r: CheckResult<ExplicitStats>) => [r.status, r.stats.states, r.stats.transitions, r.stats.depth];

  it('every store, one thread or two: at eight places spread over the search where a store grows, the search ends as incomplete (or is refused before it starts, MC030) and the checkpoint resumes to the figures of a search that never stopped', async () => {
    for (const store of ['exact', 'hash-compaction', 'bitstate'] as StoreKind[]) {
      for (const workers of [1, 2]) {
        const base: ExplicitOptions = { store, workers, parallelFrom: 64, ...(store === 'bitstate' ? { memoryBytes: 1 << 20 } : {}) };
        const whole = await explicitRun(job(base));
        expect([store, workers, ...figures(whole)]).toEqual([store, workers, 'ok', 64_000, 187_200, 117]);
        // How many times the stores ask, in a search that never stops.
        const count = countingLimit(2 ** 50);
        await explicitRun(job({ ...base, memoryLimit: count }));
        let incomplete = 0;
        for (let k = 0; k < count.asked; k += Math.max(1, Math.floor(count.asked / 8))) {
          const dir = join(root, `d${dirs++}`);
          // The k-th question is refused, whatever it asks for (even nothing: the limit is passed already).
          const limit = countingLimit(k * MiB - 1);
          let first: CheckResult<ExplicitStats>;
          try {
            first = await explicitRun(job({ ...base, memoryLimit: limit, checkpoint: { dir, everyMs: 3_600_000 } }));
          } catch (e) {
            // Only the first allocations (the first tables, the bit array, the start state's chunk, its level's fingerprints) can
            // refuse the search.
            expect([store, workers, k <= 4, (e as McError).code, (e as McError).message]).toEqual([
              store,
              workers,
              true,
              'MC030',
              expect.stringMatching(/^(--max-memory: the search cannot start|--memory: the bit array does not fit): the memory limit of /),
            ]);
            continue;
          }
          expect([store, workers, k, first.status]).toEqual([store, workers, k, 'incomplete']);
          const reason = first.status === 'incomplete' ? first.reason : '';
          const states = `${first.stats.states} state${first.stats.states === 1 ? '' : 's'}`;
          expect(reason).toMatch(
            new RegExp(
              `^the ${store} store is full at ${states}: the memory limit of .* is reached .*; .* \\(or a higher --max-memory\\); the search is saved in `,
            ),
          );
          incomplete++;
          const again = await explicitRun(job({ ...base, resume: dir }));
          expect([store, workers, k, ...figures(again)]).toEqual([store, workers, k, 'ok', 64_000, 187_200, 117]);
        }
        expect([store, workers, count.asked, incomplete > 0]).toEqual([store, workers, count.asked, true]);
      }
    }
  });

  it('a hash-compaction search whose fingerprints cannot grow at the end of a level ends there, the level expanded and counted, and resumes from it', async () => {
    const base: ExplicitOptions = { store: 'hash-compaction', workers: 1 };
    let seen = false;
    for (let k = 0; k < 400 && !seen; k++) {
      const dir = join(root, `d${dirs++}`);
      let first: CheckResult<ExplicitStats>;
      try {
        first = await explicitRun(job({ ...base, memoryLimit: countingLimit(k * MiB - 1), checkpoint: { dir, everyMs: 3_600_000 } }));
      } catch (e) {
        // The first tables, the start state's chunk and its level's fingerprints: the search cannot start.
        expect((e as McError).code).toBe('MC030');
        continue;
      }
      if (first.status !== 'incomplete' || !/needed for the fingerprints/.test(first.reason)) continue;
      seen = true;
      // The states of every level up to the deepest found (x + y + z <= depth) are counted: the last one was found in full.
      const d = first.stats.depth;
      let upTo = 0;
      for (let x = 0; x < 40; x++) for (let y = 0; y < 40; y++) for (let z = 0; z < 40; z++) if (x + y + z <= d) upTo++;
      expect(first.stats.states).toBe(upTo);
      const again = await explicitRun(job({ ...base, resume: dir }));
      expect(figures(again)).toEqual(['ok', 64_000, 187_200, 117]);
    }
    expect(seen).toBe(true);
  });

  it('a checkpoint whose states do not fit under the limit is refused (MC051) and kept: it resumes once there is memory', async () => {
    for (const store of ['exact', 'hash-compaction'] as StoreKind[]) {
      const dir = join(root, `d${dirs++}`);
      const stopped = await explicitRun({ ...job({ store, workers: 1, checkpoint: { dir, everyMs: 3_600_000 } }), limits: { maxStates: 30_000 } });
      expect(stopped.status).toBe('incomplete');
      // Past the first tables of the search (one store, or two levels' stores), the states read from the checkpoint ask for more.
      const tables = store === 'exact' ? 1 : 2;
      let refused = '';
      try {
        await explicitRun(job({ store, workers: 1, resume: dir, memoryLimit: countingLimit(tables * MiB - 1) }));
      } catch (e) {
        refused = `${(e as McError).code} ${(e as McError).message}`;
      }
      expect(refused).toMatch(new RegExp(`^MC051 the checkpoint in ${dir} does not fit: the memory limit of `));
      const again = await explicitRun(job({ store, workers: 1, resume: dir }));
      expect([store, ...figures(again)]).toEqual([store, 'ok', 64_000, 187_200, 117]);
    }
  });

  it('the liveness graph and its analysis: a store, the edges or an array of the fair-cycle analysis past the limit end the liveness phase as incomplete, naming what stopped, after a safety search that passed', async () => {
    // A cube of 50^3 = 125,000 states (two chunks of the store, so that one is added after the first edge) with a liveness
    // property: every maximal run ends at (49, 49, 49), so x reaches 49.
    const live = cube(49);
    const properties = [eventually('x-top', '', '', eq(live.handles.x, 49))];
    const liveJob = jobOf(live, properties);
    const whole = await explicitRunWithLiveness(liveJob(countingLimit(2 ** 50)));
    expect([whole.status, whole.stats.liveness?.states]).toEqual(['ok', 125_000]);
    const total = countingLimit(2 ** 50);
    await explicitRunWithLiveness(liveJob(total));
    let stopped = 0;
    let analysisStopped = 0;
    const analysisAsks = new Set<string>();
    for (let k = 0; k < total.asked; k++) {
      const r = await refusedAt(liveJob, k);
      if (r === null) continue;
      // The graph's first tables and start states are never refused (the limit holds from the first edge on); the safety
      // search before it stops as any search does.
      if (r.status === 'ok' || (r.status === 'incomplete' && r.reason.startsWith('the exact store is full'))) continue;
      const n = r.stats.liveness?.states ?? -1;
      const reason = r.status === 'incomplete' ? r.reason : '';
      if (n === 125_000) {
        // The graph is complete; the fair-cycle analysis's arrays are past the limit.
        expect([k, r.status, reason]).toEqual([
          k,
          'incomplete',
          expect.stringMatching(
            /^the fair-cycle analysis of the complete graph \(125000 states, 367500 transitions\) stopped (before its first property|while checking x-top): the memory limit of .* is reached .* more needed for the (fair-cycle search's|liveness goals') .*; a higher --max-memory goes further$/,
          ),
        ]);
        const [, needed, what] = /([\d.]+ MiB) more needed for ([^)]*)\)/.exec(reason) ?? [];
        analysisAsks.add(`${what}: ${needed}`);
        analysisStopped++;
        continue;
      }
      expect([k, r.status, reason, n < 125_000]).toEqual([
        k,
        'incomplete',
        expect.stringMatching(
          new RegExp(`^the liveness graph is full at ${n} states?: the memory limit of .* is reached .*; a higher --max-memory goes further`),
        ),
        true,
      ]);
      stopped++;
    }
    expect([stopped > 0, analysisStopped > 0]).toEqual([true, true]);
    // A byte a state for the flags and the goals' bits (125,000 B), four for the tokens and the member list.
    expect([...analysisAsks].sort()).toEqual([
      "the fair-cycle search's component tokens: 0.5 MiB",
      "the fair-cycle search's flags: 0.1 MiB",
      "the fair-cycle search's member list: 0.5 MiB",
      "the liveness goals' bits: 0.1 MiB",
    ]);
    // The graph itself: the state being expanded when it stopped keeps no edges, so every state has all its edges (one for each
    // counter below 49) or none, and those with all of them come first.
    const graphs = countingLimit(2 ** 50);
    buildGraph(live, {}, {}, false, null, false, graphs);
    let partial = 0;
    for (let k = 1; k < graphs.asked; k++) {
      const b = buildGraph(live, {}, {}, false, null, false, countingLimit(k * MiB - 1));
      if (b.status !== 'incomplete') continue;
      const g = b.graph;
      let expanded = 0;
      const wrong: number[] = [];
      for (let v = 0; v < g.n; v++) {
        const deg = (g.offsets[v + 1] as number) - (g.offsets[v] as number);
        const full = Array.from(graphState(g, v)).filter((c) => c < 49).length;
        if (deg === full && full > 0 && expanded === v) expanded++;
        else if (deg !== 0) wrong.push(v);
      }
      expect([k, wrong]).toEqual([k, []]);
      // Refused at its first edge, a graph has no state expanded; the others stop part-way.
      if (expanded > 0) partial++;
    }
    expect(partial).toBeGreaterThan(0);
  });

  it('a liveness violation found before the analysis reaches the limit stands, with its lasso; refused before any, the phase is incomplete', async () => {
    // In the cube every maximal run stops at (49, 49, 49): x is never below 0 nor above 49, so both properties fail (a run that stops).
    const live = cube(49);
    const properties = [eventually('x-past', '', '', lt(live.handles.x, 0)), eventually('y-past', '', '', gt(live.handles.x, 49))];
    const liveJob = jobOf(live, properties);
    const total = countingLimit(2 ** 50);
    const whole = await explicitRunWithLiveness(liveJob(total));
    expect(whole.status === 'violated' ? whole.violations.map((v) => [v.property, v.trace?.steps.length, v.trace?.loop]) : whole.status).toEqual([
      ['x-past', 148, 147],
      ['y-past', 148, 147],
    ]);
    const seen = new Set<string>();
    for (let k = 0; k < total.asked; k++) {
      const r = await refusedAt(liveJob, k);
      if (r === null) continue;
      if (r.status === 'violated') {
        const found = r.violations.map((v) => v.property);
        // Each violation kept has its whole lasso: the run from a start state to the state where it stops.
        const lassos = r.violations.map((v) => [v.trace?.steps.length, v.trace?.loop]);
        expect([k, found, lassos]).toEqual([k, ['x-past'], [[148, 147]]]);
        seen.add(found.join(','));
      } else if (r.status === 'incomplete' && (r.stats.liveness?.states ?? 0) === 125_000) {
        expect([k, r.reason]).toEqual([
          k,
          expect.stringMatching(/^the fair-cycle analysis of the complete graph .* stopped (before its first property|while checking x-past): /),
        ]);
        seen.add('analysis stopped');
        const [, needed, what] = /([\d.]+ MiB) more needed for ([^)]*)\)/.exec(r.reason) ?? [];
        // The lasso's arrays are taken while x-past is checked (found violated, its lasso not yet built).
        if (what?.startsWith('the lasso'))
          seen.add(`${r.reason.includes('stopped while checking x-past: ') ? 'while checking x-past, ' : ''}${what}: ${needed}`);
      } else {
        expect([k, r.status]).toEqual([k, 'incomplete']);
      }
    }
    // Some limit stops the analysis while y-past is checked, after x-past was found: that violation is the result.
    // The lasso search of x-past takes its parents (4 bytes a state) and marks (a bit a state) under the limit too.
    expect([...seen].sort()).toEqual([
      'analysis stopped',
      "while checking x-past, the lasso search's marks: 0.0 MiB",
      "while checking x-past, the lasso search's parents: 0.5 MiB",
      'x-past',
    ]);
  });
});
