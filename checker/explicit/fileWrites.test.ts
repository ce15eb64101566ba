/**
 * Short writes (fileWrites.ts): the file system may write fewer bytes than asked without an error
 * (a disk filling part-way through), or none at all. node:fs's writeSync is wrapped so that a test
 * can cap each call; every other call, and writeSync outside a test's cap, is the real one.
 */
import * as fs from 'node:fs';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { writeFully, writeWords } from './fileWrites.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});

const realWrite = (await vi.importActual<typeof import('node:fs')>('node:fs')).writeSync;
const root = mkdtempSync(join(tmpdir(), 'mc-file-writes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.mocked(fs.writeSync).mockReset());

/** writeSync writing at most `cap` bytes a call (the real write, cut short), and none once `total` bytes are written. */
function capWrites(cap: number, total = Number.POSITIVE_INFINITY): { calls: number } {
  const seen = { calls: 0, written: 0 };
  vi.mocked(fs.writeSync).mockImplementation(((fd: number, buf: Uint8Array, off: number, len: number, pos: number | null) => {
    seen.calls++;
    const n = Math.min(cap, len, total - seen.written);
    if (n <= 0) return 0;
    const done = realWrite(fd, buf, off, n, pos);
    seen.written += done;
    return done;
  }) as unknown as typeof fs.writeSync);
  return seen;
}

describe('writeFully', () => {
  it('loops over short writes until every byte is written, at the file position and at a given position', () => {
    const file = join(root, 'short');
    const fd = openSync(file, 'w+');
    try {
      const seen = capWrites(3);
      const bytes = Uint8Array.from({ length: 10 }, (_, i) => i + 1);
      writeFully(fd, bytes);
      // At position 20: the file has a hole of zeros from 10 to 20, and each short write lands after the one before.
      writeFully(fd, bytes, 20);
      expect(seen.calls).toBe(8);
    } finally {
      closeSync(fd);
    }
    expect(Array.from(readFileSync(file))).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...new Array(10).fill(0),
      ...Array.from({ length: 10 }, (_, i) => i + 1),
    ]);
  });

  it('a write that makes no progress throws ENOSPC (a file error), after writing what it could', () => {
    const file = join(root, 'stuck');
    const fd = openSync(file, 'w+');
    let error: unknown = null;
    try {
      capWrites(4, 6);
      writeFully(fd, new Uint8Array(10).fill(9));
    } catch (e) {
      error = e;
    } finally {
      closeSync(fd);
    }
    expect([(error as NodeJS.ErrnoException | null)?.code, (error as Error | null)?.message, readFileSync(file).length]).toEqual([
      'ENOSPC',
      'ENOSPC: no space left on device, write',
      6,
    ]);
  });

  it('writeWords writes each part after the one before, from a position or at the file position, and returns the bytes written', () => {
    const file = join(root, 'words');
    const fd = openSync(file, 'w+');
    let bytes = 0;
    try {
      capWrites(5);
      bytes = writeWords(fd, [Uint32Array.of(1, 2), Uint32Array.of(3)], 4);
    } finally {
      closeSync(fd);
    }
    const words = new Uint32Array(Uint8Array.from(readFileSync(file)).buffer);
    expect([bytes, Array.from(words)]).toEqual([12, [0, 1, 2, 3]]);
    // Without a position: at the file's own, after what is there (the first part written at 0, the next after it).
    const appended = join(root, 'appended');
    const fa = openSync(appended, 'w+');
    try {
      capWrites(5);
      writeWords(fa, [Uint32Array.of(7)]);
      writeWords(fa, [Uint32Array.of(8), Uint32Array.of(9)]);
    } finally {
      closeSync(fa);
    }
    expect(Array.from(new Uint32Array(Uint8Array.from(readFileSync(appended)).buffer))).toEqual([7, 8, 9]);
  });
});
