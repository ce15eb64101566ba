/**
 * A disk that fills while a search writes its files (fileWrites.ts, levelSpill.ts, checkpoint.ts):
 * a level's states or a checkpoint that cannot be written ends the search as incomplete with its
 * figures, never as an internal error, leaves no partial file, and leaves the checkpoint saved
 * before as it was; once there is room, a resumed search reaches the counts of one that never
 * stopped. A full disk is made with a file that is a link to /dev/full (every write: ENOSPC), so
 * these tests run where /dev/full exists (Linux).
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { McError } from '../../model/lang/errors.js';
import { buildModel } from '../../model/lang/protocol.js';
import fenceMigrate from '../../model/protocols/fenceMigrate/index.js';
import type { CheckResult, ExplicitOptions, Limits } from '../engine.js';
import { explicitRun } from './explicit.js';
import { isFileError, writeFully } from './fileWrites.js';
import { LevelSpill } from './levelSpill.js';
import { StoreFullError } from './storeMemory.js';

const full = existsSync('/dev/full');
const root = mkdtempSync(join(tmpdir(), 'mc-disk-full-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => mkdtempSync(join(root, `d${dirs++}-`));

/** fence-migrate at its default size (81,697 states). */
const SMALL = {};
function job(explicit: ExplicitOptions, limits: Limits = {}) {
  const model = buildModel(fenceMigrate.protocol, { params: SMALL });
  return { model, properties: fenceMigrate.properties.build(model).filter((p) => p.kind !== 'liveness'), limits, explicit };
}
const counts = (r: CheckResult) => [r.status, r.stats.engine === 'explicit' ? [r.stats.states, r.stats.transitions, r.stats.depth] : null];

describe.runIf(full)('files written on a full disk', () => {
  it('writeFully writes every byte or throws a file error (ENOSPC on /dev/full); isFileError tells file errors from the engine’s own', () => {
    const path = join(fresh(), 'f.bin');
    const fd = openSync(path, 'w');
    writeFully(fd, new Uint8Array(100_000).fill(7));
    closeSync(fd);
    const dev = openSync('/dev/full', 'w');
    let e: unknown = null;
    try {
      writeFully(dev, new Uint8Array(10));
    } catch (x) {
      e = x;
    } finally {
      closeSync(dev);
    }
    const internal = Object.assign(new TypeError('x'), { code: 'ERR_INVALID_ARG_TYPE' });
    expect([
      readFileSync(path).length,
      isFileError(e),
      (e as NodeJS.ErrnoException).code,
      isFileError(internal),
      isFileError(new McError('MC031', 'x')),
    ]).toEqual([100_000, true, 'ENOSPC', false, false]);
  });

  it('a level that cannot be written throws StoreFullError (disk) naming the level and the folder, and leaves no file of it', () => {
    const dir = fresh();
    const spill = new LevelSpill(2, dir);
    spill.write(0, [Uint32Array.of(1, 2, 3, 4)]);
    symlinkSync('/dev/full', join(dir, 'level-00001.bin'));
    let e: unknown = null;
    try {
      spill.write(1, [Uint32Array.of(5, 6)]);
    } catch (x) {
      e = x;
    }
    expect([e instanceof StoreFullError, (e as StoreFullError).because, (e as Error).message, spill.written, existsSync(join(dir, 'level-00001.bin'))]).toEqual(
      [
        true,
        'disk',
        `the states of level 1 could not be written in ${dir} (ENOSPC: no space left on device, write); free space there, or set TMPDIR (or --checkpoint DIR) to a folder with room`,
        16,
        false,
      ],
    );
    // Room again: the level is written in full.
    spill.write(1, [Uint32Array.of(5, 6)]);
    expect([spill.count(1), spill.written]).toEqual([1, 24]);
  });

  it('a compact store whose level 3 cannot be written: incomplete at that level, a checkpoint saved, and with room the resumed search ends with the counts of one that never stopped', async () => {
    for (const store of ['hash-compaction', 'bitstate'] as const) {
      const whole = await explicitRun(job({ store, memoryBytes: 2 ** 24 }));
      const dir = fresh();
      symlinkSync('/dev/full', join(dir, 'level-00003.bin'));
      const opts = { store, memoryBytes: 2 ** 24, checkpoint: { dir, everyMs: 3_600_000 } } as const;
      const first = await explicitRun(job(opts));
      expect([store, first.status, first.status === 'incomplete' ? first.reason : '']).toEqual([
        store,
        'incomplete',
        expect.stringMatching(
          new RegExp(
            `^the search stopped at \\d+ states: the states of level 3 could not be written in ${dir} \\(ENOSPC: no space left on device, write\\); .*; the search is saved in ${dir} \\(continue it with --resume ${dir}\\)$`,
          ),
        ),
      ]);
      expect([store, existsSync(join(dir, 'level-00003.bin'))]).toEqual([store, false]);
      const again = await explicitRun(job({ ...opts, resume: dir }));
      expect([store, ...counts(again)]).toEqual([store, ...counts(whole)]);
    }
  });

  it('a checkpoint that cannot be written: incomplete with the figures so far, not tried again at the end, the states file cut back to the checkpoint before, which stands and resumes to the counts of a search that never stopped', async () => {
    for (const workers of [1, 2]) {
      const whole = await explicitRun(job({}));
      const dir = fresh();
      const opts = { workers, parallelFrom: 32, checkpoint: { dir, everyMs: 3_600_000 } } as const;
      // Generation 1, saved: the search stopped at 2,000 states.
      await explicitRun(job(opts, { maxStates: 2000 }));
      const meta = () => JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { generation: number; count: number };
      const saved = meta();
      const statesBytes = () => readFileSync(join(dir, 'states.bin')).length;
      const bytesBefore = statesBytes();
      // The disk is full now (the checkpoint's metadata cannot be written): the resumed search saves every millisecond and stops at the first.
      symlinkSync('/dev/full', join(dir, 'checkpoint.json.tmp'));
      const r = await explicitRun(job({ ...opts, resume: dir, checkpoint: { dir, everyMs: 1 } }));
      const message = `the checkpoint could not be saved in ${dir} (ENOSPC: no space left on device, write); free space there, or checkpoint to a folder with room`;
      expect([workers, r.status, r.status === 'incomplete' ? r.reason : '']).toEqual([
        workers,
        'incomplete',
        expect.stringMatching(new RegExp(`^the search stopped at \\d+ states: ${message.replace(/[()]/g, '\\$&')}$`)),
      ]);
      // The states appended by the failed save are cut off; generation 1 stands; the link (what the full disk left) is gone.
      expect([workers, meta(), statesBytes(), existsSync(join(dir, 'checkpoint.json.tmp'))]).toEqual([workers, saved, bytesBefore, false]);
      expect([workers, ...counts(await explicitRun(job({ ...opts, resume: dir })))]).toEqual([workers, ...counts(whole)]);
    }
  });

  it('a compact store whose first level cannot be written does not start (MC031)', async () => {
    const dir = fresh();
    symlinkSync('/dev/full', join(dir, 'level-00000.bin'));
    let e: unknown = null;
    try {
      await explicitRun(job({ store: 'hash-compaction', checkpoint: { dir, everyMs: 3_600_000 } }));
    } catch (x) {
      e = x;
    }
    expect([(e as McError).code, (e as Error).message]).toEqual([
      'MC031',
      expect.stringMatching(/^the search cannot start: the states of level 0 could not be written in /),
    ]);
  });
});
