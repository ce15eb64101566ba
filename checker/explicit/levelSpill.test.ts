/**
 * The level files of the compact stores (levelSpill.ts) on their own: what is written is read back
 * in order, in slices of at most 65,536 states; a level written again replaces the old copy; the
 * files are named by level, counted, and removed only from a temporary folder of the spill's own.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LevelSpill } from './levelSpill.js';

describe('LevelSpill', () => {
  it('reads back each level as written, in slices of 65,536 states, and counts its states and bytes', () => {
    const W = 3;
    const spill = new LevelSpill(W);
    try {
      const big = Uint32Array.from({ length: 70_000 * W }, (_, i) => (i * 2654435761) >>> 0);
      spill.write(1, [big.subarray(0, 5 * W), big.subarray(5 * W)]);
      spill.write(0, [Uint32Array.of(1, 2, 3)]);
      expect([spill.has(0), spill.has(1), spill.has(2)]).toEqual([true, true, false]);
      expect([spill.count(0), spill.count(1)]).toEqual([1, 70_000]);
      expect(spill.written).toBe(4 * W * 70_001);
      const slices = [...spill.read(1)];
      expect(slices.map((s) => s.length)).toEqual([65_536 * W, (70_000 - 65_536) * W]);
      // The slices share one buffer: compare the first before reading on.
      const it1 = spill.read(1);
      const first = Array.from(it1.next().value as Uint32Array);
      const second = Array.from(it1.next().value as Uint32Array);
      expect(it1.next().done).toBe(true);
      expect(first).toEqual(Array.from(big.subarray(0, 65_536 * W)));
      expect(second).toEqual(Array.from(big.subarray(65_536 * W)));
      expect([...spill.read(0)].map((s) => Array.from(s))).toEqual([[1, 2, 3]]);
      // Written again: the new copy replaces the old one (not appended).
      spill.write(1, [Uint32Array.of(7, 8, 9, 10, 11, 12)]);
      expect(spill.count(1)).toBe(2);
      expect([...spill.read(1)].map((s) => Array.from(s))).toEqual([[7, 8, 9, 10, 11, 12]]);
      // An empty level reads as nothing.
      spill.write(2, []);
      expect([spill.has(2), spill.count(2), [...spill.read(2)]]).toEqual([true, 0, []]);
    } finally {
      spill.dispose();
    }
    expect(existsSync(spill.dir)).toBe(false);
  });

  it('names the files by level (five digits) in the folder given, creates it, and leaves it in place on dispose', () => {
    const parent = mkdtempSync(join(tmpdir(), 'mc-spill-test-'));
    try {
      const dir = join(parent, 'a', 'b');
      const spill = new LevelSpill(1, dir);
      expect(spill.dir).toBe(dir);
      spill.write(3, [Uint32Array.of(5)]);
      spill.write(12, [Uint32Array.of(6)]);
      expect(readdirSync(dir).sort()).toEqual(['level-00003.bin', 'level-00012.bin']);
      spill.dispose();
      expect(readdirSync(dir).length).toBe(2);
      // Another spill on the same folder reads what the first wrote (a resumed checkpoint).
      const again = new LevelSpill(1, dir);
      expect([again.has(3), again.count(12), [...again.read(12)].map((s) => Array.from(s))]).toEqual([true, 1, [[6]]]);
      // Its own temporary folder is elsewhere and fresh.
      const own = new LevelSpill(1);
      expect(own.dir.startsWith(join(tmpdir(), 'mirrorcheck-levels-'))).toBe(true);
      expect(readdirSync(own.dir)).toEqual([]);
      own.dispose();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  // Linux lists a process's open descriptors in /proc/self/fd; elsewhere there is nothing to count.
  it.runIf(platform() === 'linux')('closes every file it opens: writing and reading levels leaves no descriptor open', () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const spill = new LevelSpill(2);
    try {
      const before = open();
      for (let level = 0; level < 20; level++) spill.write(level, [Uint32Array.of(level, 1)]);
      for (let level = 0; level < 20; level++) {
        expect([...spill.read(level)].map((x) => Array.from(x))).toEqual([[level, 1]]);
        // A read abandoned after its first slice closes its file too.
        const it = spill.read(level);
        it.next();
        it.return(undefined);
      }
      expect(open()).toBe(before);
    } finally {
      spill.dispose();
    }
  });
});
