import { describe, expect, it } from 'vitest';
import { McError } from '../model/lang/errors.js';
import { explicitFlagsSet, parseBytes, toExplicitOptions } from './explicitOptions.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof McError ? e.code : 'other';
  }
  return 'none';
};

describe('explicit engine options of check', () => {
  it('reads sizes in bytes, with binary and decimal units', () => {
    expect(parseBytes('memory', '2GiB')).toBe(2 ** 31);
    expect(parseBytes('memory', '512 MiB')).toBe(2 ** 29);
    expect(parseBytes('memory', '100M')).toBe(100 * 2 ** 20);
    expect(parseBytes('memory', '1.5kb')).toBe(1500);
    expect(parseBytes('memory', '4096')).toBe(4096);
    expect(code(() => parseBytes('memory', 'lots'))).toBe('MC030');
    expect(code(() => parseBytes('memory', '3 parsecs'))).toBe('MC030');
  });

  const args = { 'checkpoint-minutes': 10 } as const;
  it('refuses --memory without --store bitstate, or out of range (MC030)', () => {
    expect(toExplicitOptions({ ...args, store: 'bitstate', memory: '1MiB', workers: 1 })).toEqual({
      store: 'bitstate',
      memoryBytes: 2 ** 20,
      workers: 1,
      por: 'auto',
    });
    expect(code(() => toExplicitOptions({ ...args, store: 'exact', memory: '1MiB' }))).toBe('MC030');
    expect(code(() => toExplicitOptions({ ...args, store: 'bitstate', memory: '8GiB' }))).toBe('MC030');
  });

  it('--max-memory is a size of at least 1MiB, for every store (MC030 otherwise), and counts as an explicit-engine flag', () => {
    expect(toExplicitOptions({ ...args, 'max-memory': '8GiB', workers: 1 })).toEqual({ store: 'exact', memoryLimit: 8 * 2 ** 30, workers: 1, por: 'auto' });
    expect(toExplicitOptions({ ...args, store: 'hash-compaction', 'max-memory': '1MiB', workers: 1 }).memoryLimit).toBe(2 ** 20);
    expect(code(() => toExplicitOptions({ ...args, 'max-memory': '1023KiB' }))).toBe('MC030');
    expect(code(() => toExplicitOptions({ ...args, 'max-memory': 'all of it' }))).toBe('MC030');
    expect(toExplicitOptions({ ...args, workers: 1 }).memoryLimit).toBeUndefined();
    expect(explicitFlagsSet({ memoryLimit: 2 ** 30 })).toEqual(['--max-memory']);
  });

  it('--collapse goes to the exact store only (MC030 with a compact store, which keeps no states to collapse)', () => {
    expect(toExplicitOptions({ ...args, store: 'exact', collapse: true, workers: 1 })).toEqual({ store: 'exact', collapse: true, workers: 1, por: 'auto' });
    expect(toExplicitOptions({ ...args, collapse: true, workers: 1 }).collapse).toBe(true);
    expect(toExplicitOptions({ ...args, store: 'exact', collapse: false, workers: 1 })).toEqual({ store: 'exact', workers: 1, por: 'auto' });
    expect(code(() => toExplicitOptions({ ...args, store: 'hash-compaction', collapse: true }))).toBe('MC030');
    expect(code(() => toExplicitOptions({ ...args, store: 'bitstate', collapse: true }))).toBe('MC030');
    expect(explicitFlagsSet({ store: 'exact', collapse: true })).toEqual(['--collapse']);
  });

  it("workers default to the machine's cores; checkpoints: --resume DIR goes on saving into DIR", () => {
    expect(toExplicitOptions({ ...args, store: 'exact' }).workers).toBeGreaterThanOrEqual(1);
    expect(toExplicitOptions({ ...args, store: 'exact', strategy: 'dfs' }).workers).toBe(1);
    expect(code(() => toExplicitOptions({ ...args, store: 'exact', workers: 0 }))).toBe('MC030');
    expect(code(() => toExplicitOptions({ ...args, store: 'exact', workers: 1.5 }))).toBe('MC030');
    expect(toExplicitOptions({ ...args, store: 'exact', workers: 1, resume: 'ck' })).toEqual({
      store: 'exact',
      workers: 1,
      checkpoint: { dir: 'ck', everyMs: 600_000 },
      resume: 'ck',
      por: 'auto',
    });
    expect(code(() => toExplicitOptions({ ...args, store: 'exact', resume: 'a', checkpoint: 'b' }))).toBe('MC030');
    expect(code(() => toExplicitOptions({ 'checkpoint-minutes': 0, store: 'exact', checkpoint: 'a' }))).toBe('MC030');
  });

  it('names the options given that only the explicit engine reads', () => {
    expect(explicitFlagsSet({ store: 'exact' })).toEqual([]);
    expect(explicitFlagsSet({ store: 'bitstate', memoryBytes: 64 })).toEqual(['--store', '--memory']);
    expect(explicitFlagsSet({ store: 'exact', por: 'auto' })).toEqual([]);
    expect(explicitFlagsSet({ store: 'exact', por: true })).toEqual(['--por']);
  });
});
