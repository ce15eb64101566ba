/**
 * Breadth-first levels written to disk. Why this module exists: the compact stores (hash compaction,
 * bitstate) keep no state of an earlier level in memory, yet a counterexample must be rebuilt as
 * concrete states; each level's packed states are appended to a file as the level is finished (a
 * sequential write, cheap beside the search), and a trace is rebuilt backwards by scanning the
 * files for a predecessor. A checkpoint of a compact search keeps these files.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFileError, quietly, writeWords } from './fileWrites.js';
import { StoreFullError } from './storeMemory.js';

export class LevelSpill {
  readonly dir: string;
  private readonly owned: boolean;
  private bytesWritten = 0;

  /** Level files in `dir` (created if needed), or in a fresh temporary folder removed by `dispose`. */
  constructor(
    private readonly words: number,
    dir?: string,
  ) {
    if (dir) {
      mkdirSync(dir, { recursive: true });
      this.dir = dir;
      this.owned = false;
    } else {
      this.dir = mkdtempSync(join(tmpdir(), 'mirrorcheck-levels-'));
      this.owned = true;
    }
  }

  private file(level: number): string {
    return join(this.dir, `level-${String(level).padStart(5, '0')}.bin`);
  }

  /**
   * Writes level `level` (replacing an older copy) from packed slices. A file that cannot be
   * written (a full disk) throws `StoreFullError` ('disk'), the partial file removed.
   */
  write(level: number, slices: Iterable<Uint32Array>): void {
    const path = this.file(level);
    let written = 0;
    try {
      const fd = openSync(path, 'w');
      try {
        written = writeWords(fd, slices);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if (!isFileError(e)) throw e;
      // Best effort: a partial file would be written again in full by a resumed search anyway.
      quietly(() => rmSync(path, { force: true }));
      throw new StoreFullError(
        'disk',
        `the states of level ${level} could not be written in ${this.dir} (${e.message}); free space there, or set TMPDIR (or --checkpoint DIR) to a folder with room`,
        'the levels',
      );
    }
    this.bytesWritten += written;
  }

  /** Whether level `level` is on disk. */
  has(level: number): boolean {
    return existsSync(this.file(level));
  }

  /** Number of states of a level on disk. */
  count(level: number): number {
    return statSync(this.file(level)).size / (4 * this.words);
  }

  /** The states of a level, in order, in slices of up to 65,536 states. */
  *read(level: number): Generator<Uint32Array> {
    const fd = openSync(this.file(level), 'r');
    try {
      const buf = new Uint32Array(65536 * this.words);
      const bytes = new Uint8Array(buf.buffer);
      for (;;) {
        const n = readSync(fd, bytes, 0, bytes.length, null);
        if (n <= 0) return;
        yield buf.subarray(0, n / 4);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Bytes written so far. */
  get written(): number {
    return this.bytesWritten;
  }

  /** Removes the files when they were in a temporary folder of our own. */
  dispose(): void {
    if (this.owned) rmSync(this.dir, { recursive: true, force: true });
  }
}
