import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { buildModel } from '../../model/lang/protocol.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import type { CheckResult, ExplicitOptions, Limits } from '../engine.js';
import { codeOf } from '../../test/errorCode.js';
import { readWords } from './checkpoint.js';
import { explicitRun } from './explicit.js';

const MEDIUM = { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 };

function job(explicit: ExplicitOptions, limits: Limits = {}, only?: string[]) {
  const model = buildModel(fenceMigrate.protocol, { params: MEDIUM });
  const all = fenceMigrate.properties.build(model).filter((p) => p.kind !== 'liveness');
  const properties = only ? all.filter((p) => only.includes(p.name)) : all;
  return { model, properties, limits, explicit };
}

const counts = (r: CheckResult) => ({
  status: r.status,
  states: r.stats.engine === 'explicit' ? r.stats.states : -1,
  transitions: r.stats.engine === 'explicit' ? r.stats.transitions : -1,
  depth: r.stats.engine === 'explicit' ? r.stats.depth : -1,
  covers: 'covers' in r ? r.covers : [],
});

describe('checkpoints', () => {
  it('a search stopped several times (mid-level) and resumed each time ends with the counts of one that never stopped, with every store', async () => {
    for (const store of ['exact', 'hash-compaction', 'bitstate'] as const) {
      const whole = await explicitRun(job({ store, memoryBytes: 2 ** 24 }));
      expect(whole.status).toBe('ok');
      const dir = mkdtempSync(join(tmpdir(), `mc-ck-${store}-`));
      const opts = { store, memoryBytes: 2 ** 24, checkpoint: { dir, everyMs: 3_600_000 } } as const;
      const first = await explicitRun(job(opts, { maxStates: 2000 }));
      expect(first.status).toBe('incomplete');
      if (first.status === 'incomplete') expect(first.reason).toContain(`--resume ${dir}`);
      const second = await explicitRun(job({ ...opts, resume: dir }, { maxStates: 7001 }));
      expect(second.status).toBe('incomplete');
      const last = await explicitRun(job({ ...opts, resume: dir }));
      expect({ store, ...counts(last) }).toEqual({ store, ...counts(whole) });
    }
  });

  it('a checkpoint written every few milliseconds (pauses mid-level, with worker threads) resumes to the same counts', async () => {
    const whole = await explicitRun(job({}));
    const dir = mkdtempSync(join(tmpdir(), 'mc-ck-often-'));
    const opts = { workers: 2, parallelFrom: 32, checkpoint: { dir, everyMs: 1 } } as const;
    const stopped = await explicitRun(job(opts, { maxStates: 9000 }));
    expect(stopped.status).toBe('incomplete');
    const meta = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { generation: number };
    expect(meta.generation).toBeGreaterThan(1);
    expect(counts(await explicitRun(job({ ...opts, resume: dir })))).toEqual(counts(whole));
  });

  it('states appended after the last checkpoint.json (a run killed while saving) are dropped on resume', async () => {
    const whole = await explicitRun(job({}));
    const dir = mkdtempSync(join(tmpdir(), 'mc-ck-torn-'));
    await explicitRun(job({ checkpoint: { dir, everyMs: 3_600_000 } }, { maxStates: 3000 }));
    writeFileSync(join(dir, 'states.bin'), new Uint8Array(4 * 3 * 100).fill(7), { flag: 'a' });
    expect(counts(await explicitRun(job({ resume: dir, checkpoint: { dir, everyMs: 3_600_000 } })))).toEqual(counts(whole));
  });

  it('refuses to resume another check, or a folder without a checkpoint (MC050)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-ck-other-'));
    await explicitRun(job({ checkpoint: { dir, everyMs: 3_600_000 } }, { maxStates: 500 }));
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'none',
        (e) => (e instanceof McError ? e.code : 'other'),
      );
    expect(await code(explicitRun(job({ resume: dir }, {}, ['no-lost-write'])))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: dir, store: 'hash-compaction' })))).toBe('MC050');
    expect(await code(explicitRun(job({ resume: mkdtempSync(join(tmpdir(), 'mc-ck-none-')) })))).toBe('MC050');
  });

  it('an abort signal ends the run as incomplete, with the figures so far and a last checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-ck-abort-'));
    const ctrl = new AbortController();
    ctrl.abort('SIGINT');
    const r = await explicitRun({ ...job({ checkpoint: { dir, everyMs: 3_600_000 } }), signal: ctrl.signal });
    expect(r.status).toBe('incomplete');
    if (r.status === 'incomplete') expect(r.reason).toMatch(/^interrupted \(SIGINT\)/);
    expect(counts(await explicitRun(job({ resume: dir })))).toEqual(counts(await explicitRun(job({}))));
  });
});

describe('readWords', () => {
  it('reads a file of more than one 64 MiB slice whole, each word at its place; a file shorter than asked is MC050', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-read-words-'));
    const path = join(dir, 'states.bin');
    const n = (1 << 24) + 3; // 64 MiB and 12 bytes: two slices, the second of three words
    const words = new Uint32Array(n);
    for (let i = 0; i < n; i++) words[i] = Math.imul(i, 0x9e3779b1) >>> 0;
    writeFileSync(path, words);
    const back = readWords(path);
    expect(back.length).toBe(n);
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) if (back[i] !== words[i]) wrong.push(i);
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(Array.from(readWords(path, 5))).toEqual(Array.from(words.subarray(0, 5)));
    expect(codeOf(() => readWords(path, n + 1))).toBe(`MC050 checkpoint file ${path} is shorter than its checkpoint.json says`);
    rmSync(dir, { recursive: true, force: true });
  });
});
