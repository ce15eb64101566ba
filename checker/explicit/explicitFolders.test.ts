/**
 * Where a compact search (hash compaction, bitstate) keeps its level files, through explicit.ts:
 * without a checkpoint folder in a temporary folder that the run removes whatever its end (levelSpill.ts: "a fresh
 * temporary folder removed by `dispose`"), with one in that folder, where a resumed run finds them
 * (checkpoint.ts: the folder holds "the level files `level-N.bin` written as levels finish").
 * Why this file exists: compactStores.test.ts checks the first on a large model (about a minute),
 * too slow for a mutation run, and no fast test resumed a compact search that then needs the
 * levels of the first run for its trace. Oracle: the grid of test/searchWalk.ts, worked out by
 * hand: the first state with a = 30 in breadth-first order is (30, 0) (slots a, b), 30 steps of `IncA` from
 * (0, 0); levels 0 to 29 hold 1 + 2 + … + 30 = 465 states.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lt } from '../../model/lang/expr.js';
import { invariant } from '../../properties/property.js';
import { grid } from '../../test/searchWalk.js';
import { inFreshTmpdir } from '../../test/tmpdir.js';
import type { CheckJob, CheckResult, ExplicitOptions, Limits } from '../engine.js';
import { explicitCheck, explicitRun } from './explicit.js';

function job(explicit: ExplicitOptions, limits: Limits = {}, bad = true): CheckJob {
  const { model } = grid(null);
  const properties = bad ? [invariant('a-below-30', 'I-1', '', lt(model.handles.a, 30))] : [];
  return { model, properties, limits, deadlock: false, explicit: { memoryBytes: 1 << 16, ...explicit } };
}

/** The labels of a violation's trace and the last state's a. */
function trace(r: CheckResult): { status: string; labels: string[]; lastA: number[] } {
  if (r.status !== 'violated') return { status: r.status, labels: [], lastA: [] };
  const t = r.violations[0]?.trace;
  const steps = t?.steps ?? [];
  return { status: r.status, labels: steps.map((s) => s.label), lastA: [...(steps[steps.length - 1]?.state ?? [])] };
}

const incA30 = ['init zero', ...Array.from({ length: 30 }, () => 'IncA()')];

/** Runs `f` with TMPDIR pointing to a fresh folder, and returns what is left in it. */
function inFreshTmp(f: () => Promise<void>): Promise<string[]> {
  return inFreshTmpdir('mc-folders-', async (dir) => {
    expect(tmpdir()).toBe(dir);
    await f();
    return readdirSync(dir);
  });
}

describe('the level files of a compact search', () => {
  it('without a checkpoint folder none is left behind: passing, violated or stopped, in this thread or through explicitRun', async () => {
    const left = await inFreshTmp(async () => {
      for (const store of ['hash-compaction', 'bitstate'] as const) {
        expect(trace(explicitCheck(job({ store })))).toEqual({ status: 'violated', labels: incA30, lastA: [30, 0] });
        expect(trace(await explicitRun(job({ store })))).toEqual({ status: 'violated', labels: incA30, lastA: [30, 0] });
        expect((await explicitRun(job({ store }, {}, false))).status).toBe('ok');
        expect(explicitCheck(job({ store }, { maxStates: 100 })).status).toBe('incomplete');
      }
    });
    expect(left).toEqual([]);
  });

  it('with a checkpoint folder they are kept there, and a resumed run rebuilds its trace through the first run`s levels', async () => {
    const ck = mkdtempSync(join(tmpdir(), 'mc-folders-ck-'));
    try {
      const left = await inFreshTmp(async () => {
        const opts = { store: 'hash-compaction', checkpoint: { dir: ck, everyMs: 3_600_000 } } as const;
        const first = await explicitRun(job(opts, { maxStates: 300 }));
        expect(first.status).toBe('incomplete');
        // Levels 0 .. 22 hold 276 states, level 23 24 more: the first 23 levels are finished, in files.
        const levels = readdirSync(ck).filter((n) => /^level-\d+\.bin$/.test(n));
        expect(levels.length).toBeGreaterThanOrEqual(23);
        expect(levels).toContain('level-00000.bin');
        const second = await explicitRun(job({ ...opts, resume: ck }));
        expect(trace(second)).toEqual({ status: 'violated', labels: incA30, lastA: [30, 0] });
      });
      expect(left).toEqual([]);
    } finally {
      rmSync(ck, { recursive: true, force: true });
    }
  });
});
