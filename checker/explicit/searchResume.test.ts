/**
 * Searches that stop and go on (checkpoint.ts, search.ts's restore and worker rounds) against the
 * independent walk of test/searchWalk.ts, on random small protocols: a search stopped by a state
 * limit, saved, and resumed (once or several times, with a checkpoint at every pause or only at the
 * end) reports exactly what a search that never stopped reports (verdict, end state, trace,
 * states, transitions, depth, cover depths); only the newest generation of a compact store's files
 * is kept; a checkpoint is written at every pause when asked, and the elapsed time adds up; states of
 * two words are read back whole; a checkpoint of another check (properties, store, bit array size,
 * reduction, shard, ...), a missing, unreadable or truncated one is refused (MC050);
 * a search with a worker thread that expands every level in rounds finds what one thread finds, and
 * one stopped by a state limit in a round and resumed ends with the figures of one that never stopped.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { add, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import { STORES, build, expectSame, planArb, walk } from '../../test/searchWalk.js';
import type { ExplicitOptions, Limits } from '../engine.js';
import { compileModel } from '../../model/lang/compile.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import { explicitRun } from './explicit.js';

const root = mkdtempSync(join(tmpdir(), 'mc-search-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

const plans = (n: number, seed: number) => fc.sample(planArb(false), { numRuns: n, seed });

describe('a search saved at a state limit and resumed', () => {
  it('ends with what a search that never stopped reports, every store, stopped once or twice, checkpoints at every pause or only at the end', async () => {
    let resumed = 0;
    for (const [i, plan] of plans(24, 4201).entries()) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const whole = walk(model, properties, plan.deadlock, 'bfs', {});
      const stops = [2 + (i % 5), 9 + (i % 7)] as const;
      for (const store of STORES) {
        const dir = freshDir();
        const everyMs = i % 2 === 0 ? 0 : 3_600_000;
        const x: ExplicitOptions = { store, memoryBytes: 1 << 16, checkpoint: { dir, everyMs } };
        const job = (limits: Limits, more: ExplicitOptions = {}) => ({ model, properties, limits, deadlock: plan.deadlock, explicit: { ...x, ...more } });
        const first = await explicitRun(job({ maxStates: stops[0] }));
        const w1 = walk(model, properties, plan.deadlock, 'bfs', { maxStates: stops[0] });
        if (w1.end !== 'limit') {
          expectSame(first, w1, covers, { maxStates: stops[0] }, [i, store, 'first']);
          continue;
        }
        expect(first.status === 'incomplete' && first.reason).toBe(
          `state limit of ${stops[0]} reached; the search is saved in ${dir} (continue it with --resume ${dir})`,
        );
        const again = await explicitRun(job({ maxStates: stops[1] }, { resume: dir }));
        const w2 = walk(model, properties, plan.deadlock, 'bfs', { maxStates: stops[1] });
        if (w2.end !== 'limit') {
          expectSame(again, w2, covers, {}, [i, store, 'again']);
          continue;
        }
        // Where a search limited to the second bound from the start would stop (unless the first stop is past it already).
        expect([i, store, again.status, again.stats.states >= stops[1]]).toEqual([i, store, 'incomplete', true]);
        if (w1.states < stops[1]) expect([again.stats.states, again.stats.transitions, again.stats.depth]).toEqual([w2.states, w2.transitions, w2.maxDepth]);
        const last = await explicitRun(job({}, { resume: dir }));
        expectSame(last, whole, covers, {}, [i, store, 'last']);
        resumed++;
        // A compact store keeps the files of the newest generation only.
        if (store !== 'exact') {
          const g = (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { generation: number }).generation;
          const kept = readdirSync(dir).filter((f) => /^(frontier|next|fingerprints|bits)\./.test(f));
          const seen = store === 'bitstate' ? 'bits' : 'fingerprints';
          expect(kept.sort()).toEqual([`frontier.${g}.bin`, `next.${g}.bin`, `${seen}.${g}.bin`].sort());
        }
      }
    }
    expect(resumed).toBeGreaterThan(20);
  });

  it('a resumed search goes on from where it stopped: its figures are those of the search that never stopped, not of the part run after', async () => {
    const plan = plans(40, 4202).find((p) => {
      const { model, properties } = build(p);
      const w = walk(model, properties, p.deadlock, 'bfs', {});
      return w.end === 'complete' && w.states > 40;
    });
    if (!plan) throw new Error('no plan with more than 40 states');
    const { model, properties } = build(plan);
    const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
    for (const store of STORES) {
      const dir = freshDir();
      const job = (limits: Limits, resume: boolean) => ({
        model,
        properties,
        limits,
        deadlock: plan.deadlock,
        explicit: { store, memoryBytes: 1 << 16, checkpoint: { dir, everyMs: 0 }, ...(resume ? { resume: dir } : {}) },
      });
      const meta = () => JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { generation: number; elapsedMs: number };
      let r = await explicitRun(job({ maxStates: 3 }, false));
      let runs = 1;
      const elapsed = [meta().elapsedMs];
      for (let k = 6; r.status === 'incomplete'; k += 5) {
        r = await explicitRun(job({ maxStates: k }, true));
        runs++;
        elapsed.push(meta().elapsedMs);
      }
      const w = walk(model, properties, plan.deadlock, 'bfs', {});
      expectSame(r, w, covers, {}, store);
      // A checkpoint at every pause (everyMs 0), not only where a run stops: more generations than runs.
      expect([store, meta().generation > runs]).toEqual([store, true]);
      // The elapsed time saved adds up the runs before.
      expect([store, elapsed]).toEqual([store, [...elapsed].sort((a, b) => a - b)]);
    }
  });
});

describe('what a resumed search carries over', () => {
  it("states packed in two words (exact store): the states saved are read back whole and appended to, and the search ends with the walk's figures", async () => {
    // Six counters of 0..255 (48 bits a state), each bumped to 2 at most: 729 states.
    const model = buildModel(
      defineProtocol({
        name: 'resume-wide',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 6);
          const cnt = b.v('cnt', arrayOf(P, range(0, 255)));
          b.init('zero', () => []);
          b.rule('Bump', { p: P }, ({ p }) => ({ guard: lt(cnt.at(p as never), 2), body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1))] }));
          return { cnt };
        },
      }),
    );
    const w = walk(model, [], false, 'bfs', {});
    expect(w.states).toBe(729);
    const dir = freshDir();
    const job = (limits: Limits, x: ExplicitOptions) => ({
      model,
      properties: [],
      limits,
      deadlock: false,
      explicit: { checkpoint: { dir, everyMs: 3_600_000 }, ...x },
    });
    expect((await explicitRun(job({ maxStates: 100 }, {}))).status).toBe('incomplete');
    // Resumed, saved again (appending to the states file), and resumed to the end.
    expect((await explicitRun(job({ maxStates: 300 }, { resume: dir }))).status).toBe('incomplete');
    expectSame(await explicitRun(job({}, { resume: dir })), w, [], {}, 'two words');
  });

  it('a collapsing exact store (fence-migrate, three words a state or more) saved at a state limit and resumed, with or without collapse, ends with the figures of a plain search that never stopped', async () => {
    const model = buildModel(fenceMigrate.protocol, { params: { pages: 2, frames: 3, slots: 2, migrations: 1 } });
    const properties = fenceMigrate.properties.build(model).filter((p) => p.kind !== 'liveness');
    expect(compileModel(model, []).words).toBeGreaterThanOrEqual(3); // so that collapse applies
    const job = (limits: Limits, explicit: ExplicitOptions) => ({ model, properties, limits, explicit });
    const whole = await explicitRun(job({}, { workers: 1 }));
    expect(whole.status).toBe('ok');
    const figures = (r: typeof whole) => (r.stats.engine === 'explicit' ? [r.status, r.stats.states, r.stats.transitions, r.stats.depth] : []);
    for (const [workers, resumeCollapse] of [
      [1, true],
      [1, false],
      [2, true],
    ] as const) {
      const dir = freshDir();
      const stop = whole.stats.engine === 'explicit' ? Math.floor(whole.stats.states / 3) : 0;
      const first = await explicitRun(job({ maxStates: stop }, { workers, parallelFrom: 64, collapse: true, checkpoint: { dir, everyMs: 0 } }));
      expect(first.status).toBe('incomplete');
      const last = await explicitRun(job({}, { workers, parallelFrom: 64, collapse: resumeCollapse, checkpoint: { dir, everyMs: 0 }, resume: dir }));
      expect([workers, resumeCollapse, ...figures(last)]).toEqual([workers, resumeCollapse, ...figures(whole)]);
    }
  });

  it('the bitstate coverage and the hash-compaction omission probability of a search that never stopped; the elapsed time saved by the run before', async () => {
    const plan = plans(40, 4205).find((p) => {
      const { model, properties } = build(p);
      return walk(model, properties, p.deadlock, 'bfs', {}).end === 'complete' && walk(model, properties, p.deadlock, 'bfs', { maxStates: 10 }).end === 'limit';
    });
    if (!plan) throw new Error('no plan');
    const { model, properties } = build(plan);
    for (const store of ['hash-compaction', 'bitstate'] as const) {
      const dir = freshDir();
      const x = { store, memoryBytes: 1 << 12, checkpoint: { dir, everyMs: 3_600_000 } };
      const job = { model, properties, deadlock: plan.deadlock };
      const whole = await explicitRun({ ...job, limits: {}, explicit: { store, memoryBytes: 1 << 12 } });
      const t0 = Date.now();
      await explicitRun({ ...job, limits: { maxStates: 10 }, explicit: x });
      const wall = Date.now() - t0;
      const saved = (JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { elapsedMs: number }).elapsedMs;
      expect(saved).toBeLessThanOrEqual(wall);
      const last = await explicitRun({ ...job, limits: {}, explicit: { ...x, resume: dir } });
      expect([store, last.stats.coverage, last.stats.omissionProbability, last.stats.states]).toEqual([
        store,
        whole.stats.coverage,
        whole.stats.omissionProbability,
        whole.stats.states,
      ]);
      expect(last.stats.elapsedMs).toBeGreaterThanOrEqual(saved);
    }
  });

  it('a fresh search in a folder of another check replaces its states; states appended after the last checkpoint.json are dropped', async () => {
    const [a, b] = plans(40, 4206).filter((p) => {
      const { model, properties } = build(p);
      return walk(model, properties, p.deadlock, 'bfs', {}).end === 'complete' && walk(model, properties, p.deadlock, 'bfs', { maxStates: 8 }).end === 'limit';
    });
    if (!a || !b) throw new Error('no plans');
    const dir = freshDir();
    const ck = { checkpoint: { dir, everyMs: 3_600_000 } };
    const one = build(a);
    await explicitRun({ ...one, limits: { maxStates: 8 }, deadlock: a.deadlock, explicit: ck });
    const two = build(b);
    await explicitRun({ ...two, limits: { maxStates: 8 }, deadlock: b.deadlock, explicit: ck });
    // A run killed while appending leaves bytes past the states checkpoint.json counts.
    writeFileSync(join(dir, 'states.bin'), new Uint8Array(4 * 64).fill(0xff), { flag: 'a' });
    const r = await explicitRun({ ...two, limits: {}, deadlock: b.deadlock, explicit: { ...ck, resume: dir } });
    const covers = two.properties.filter((p) => p.kind === 'cover').map((p) => p.name);
    expectSame(r, walk(two.model, two.properties, b.deadlock, 'bfs', {}), covers, {}, 'fresh folder');
  });
});

describe('checkpoints that cannot be resumed (MC050)', () => {
  const plan = plans(20, 4203).find((p) => {
    const { model, properties } = build(p);
    return walk(model, properties, p.deadlock, 'bfs', { maxStates: 5 }).end === 'limit';
  }) as NonNullable<ReturnType<typeof plans>[number]>;
  const { model, properties } = build(plan);
  const job = (x: ExplicitOptions, limits: Limits = {}, props = properties) => ({ model, properties: props, limits, deadlock: plan.deadlock, explicit: x });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'none',
      (e) => (e instanceof McError ? e.code : `other: ${String(e)}`),
    );
  const saved = async (x: ExplicitOptions = {}) => {
    const dir = freshDir();
    const r = await explicitRun(job({ ...x, checkpoint: { dir, everyMs: 3_600_000 } }, { maxStates: 5 }));
    expect(r.status).toBe('incomplete');
    return dir;
  };

  it('another check: other properties, another store, symmetry, deadlock checking, another model', async () => {
    const dir = await saved();
    expect(await code(explicitRun(job({ resume: dir }, {}, properties.slice(1))))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: dir, store: 'hash-compaction' })))).toBe('MC050');
    expect(await code(explicitRun({ ...job({ resume: dir }), deadlock: !plan.deadlock }))).toBe('MC050');
    const other = build({ ...plan, rules: [...plan.rules, { guard: [], body: [{ k: 'flip' }] }] });
    expect(await code(explicitRun({ ...job({ resume: dir }), model: other.model, properties: other.properties }))).toBe('MC050');
    // As many properties, one of them another.
    const renamed = properties.map((p, i) => (i === 0 ? { ...p, name: `${p.name}-other` } : p));
    expect(await code(explicitRun(job({ resume: dir }, {}, renamed)))).toBe('MC050');
    // Partial-order reduction on.
    expect(await code(explicitRun(job({ resume: dir, por: true })))).toBe('MC050');
    // The same check resumes.
    expect(await code(explicitRun(job({ resume: dir })))).toBe('none');
  });

  it('another bit array size of the bitstate store, another shard; a shard is named I/N (1-based) in checkpoint.json', async () => {
    const bits = await saved({ store: 'bitstate', memoryBytes: 1 << 12 });
    expect(await code(explicitRun(job({ resume: bits, store: 'bitstate', memoryBytes: 1 << 13 })))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: bits, store: 'bitstate', memoryBytes: 1 << 12 })))).toBe('none');
    const shard = await saved({ shard: { index: 0, count: 2 } });
    const meta = JSON.parse(readFileSync(join(shard, 'checkpoint.json'), 'utf8')) as { identity: { shard: string } };
    expect(meta.identity.shard).toBe('1/2');
    expect(await code(explicitRun(job({ resume: shard, shard: { index: 1, count: 2 } })))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: shard })))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: shard, shard: { index: 0, count: 2 } })))).toBe('none');
  });

  it('no checkpoint.json, an unreadable one, another format, a states file shorter than it says', async () => {
    const none = freshDir();
    // Named as missing, not as unreadable.
    await expect(explicitRun(job({ resume: none }))).rejects.toThrow(new McError('MC050', `no checkpoint in ${none} (no checkpoint.json)`));
    const bad = await saved();
    writeFileSync(join(bad, 'checkpoint.json'), '{ not json');
    expect(await code(explicitRun(job({ resume: bad })))).toBe('MC050');
    const old = await saved();
    const meta = JSON.parse(readFileSync(join(old, 'checkpoint.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(old, 'checkpoint.json'), JSON.stringify({ ...meta, format: 'mirrorcheck-checkpoint-0' }));
    expect(await code(explicitRun(job({ resume: old })))).toBe('MC050');
    const short = await saved();
    truncateSync(join(short, 'states.bin'), 4);
    expect(await code(explicitRun(job({ resume: short })))).toBe('MC050');
    const shortFrontier = await saved({ store: 'hash-compaction' });
    const g = (JSON.parse(readFileSync(join(shortFrontier, 'checkpoint.json'), 'utf8')) as { generation: number }).generation;
    expect(await code(explicitRun(job({ resume: shortFrontier, store: 'hash-compaction' })))).toBe('none');
    expect(readdirSync(shortFrontier)).toContain(`frontier.${g}.bin`);
  });
});

describe('worker threads', () => {
  it('a search whose every level is expanded in rounds with a worker thread finds what one thread finds (verdict, end state, trace; figures when it passes)', async () => {
    for (const [i, plan] of plans(4, 4204).entries()) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const w = walk(model, properties, plan.deadlock, 'bfs', {});
      const store = STORES[i % 3];
      const r = await explicitRun({
        model,
        properties,
        limits: {},
        deadlock: plan.deadlock,
        explicit: { workers: 2, parallelFrom: 1, store, memoryBytes: 1 << 16 },
      });
      if (w.end === 'complete') expectSame(r, w, covers, {}, [i, store]);
      else {
        const v = r.status === 'violated' ? r.violations[0] : undefined;
        const steps = v?.trace?.steps ?? [];
        const f = w.found;
        expect([i, v?.property, Array.from(steps[steps.length - 1]?.state ?? []), steps.length - 1]).toEqual([
          i,
          f && 'property' in f ? f.property : f?.kind,
          Array.from(f?.state ?? []),
          f?.depth,
        ]);
      }
      expect(r.stats.workers).toBe(2);
    }
  });

  it('a search with a worker thread, stopped by a state limit in the middle of a round, saved and resumed with the thread, ends with what a search that never stopped reports (every store)', async () => {
    let stopped = 0;
    for (const [i, plan] of plans(6, 4205).entries()) {
      const { model, properties } = build(plan);
      const covers = properties.filter((p) => p.kind === 'cover').map((p) => p.name);
      const whole = walk(model, properties, plan.deadlock, 'bfs', {});
      // A search that stops at a violation stops where each thread was: only searches that pass or miss a cover are compared.
      if (whole.end !== 'complete') continue;
      for (const store of STORES) {
        const dir = freshDir();
        const x: ExplicitOptions = { workers: 2, parallelFrom: 1, store, memoryBytes: 1 << 16, checkpoint: { dir, everyMs: i % 2 === 0 ? 0 : 3_600_000 } };
        const job = (limits: Limits, more: ExplicitOptions = {}) => ({ model, properties, limits, deadlock: plan.deadlock, explicit: { ...x, ...more } });
        const maxStates = 3 + (i % 6);
        const first = await explicitRun(job({ maxStates }));
        if (whole.states < maxStates) {
          expectSame(first, whole, covers, {}, [i, store, 'whole']);
          continue;
        }
        expect([i, store, first.status, first.stats.states >= maxStates, first.stats.workers]).toEqual([i, store, 'incomplete', true, 2]);
        stopped++;
        expectSame(await explicitRun(job({}, { resume: dir })), whole, covers, {}, [i, store, 'resumed']);
      }
    }
    // Two of these plans have more states than their limit: stopped and resumed with each of the three stores.
    expect(stopped).toBe(6);
  });

  it('an interrupt is seen during the rounds with a worker thread: the run ends as interrupted (or with a violation the worker found first)', async () => {
    let interrupted = 0;
    let clean = 0;
    for (const plan of plans(4, 4204)) {
      const { model, properties } = build(plan);
      // Where the model has a violation, the worker thread may find it in the first round before
      // this thread sees the interrupt: a violation found is kept (a timing race, not a fault).
      const found = walk(model, properties, plan.deadlock, 'bfs', {}).end === 'found';
      if (!found) clean++;
      const ctrl = new AbortController();
      ctrl.abort('SIGINT');
      const r = await explicitRun({ model, properties, limits: {}, deadlock: plan.deadlock, signal: ctrl.signal, explicit: { workers: 2, parallelFrom: 1 } });
      const wasInterrupted = r.status === 'incomplete' && r.reason === 'interrupted (SIGINT)';
      if (wasInterrupted) interrupted++;
      expect([found, wasInterrupted || (found && r.status === 'violated')]).toEqual([found, true]);
    }
    // Seed 4204: two of the four plans have no violation; each of those ends interrupted.
    expect([clean, interrupted >= clean]).toEqual([2, true]);
  });
});
