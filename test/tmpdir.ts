/**
 * Tests that watch what the engines leave in the temporary folder (level files, moved states) point
 * TMPDIR, which `os.tmpdir()` reads, somewhere of their own for the length of a run. Why this module
 * exists: the old value must come back whatever the run does (a failed assertion included), and four
 * test files wrote that try/finally each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `f` with TMPDIR set to `dir` (which need not exist), then puts the old value back, also after a failure. */
export async function withTmpdir<T>(dir: string, f: () => T | Promise<T>): Promise<T> {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
}

/** `withTmpdir` over a fresh empty folder (made under the current one, named from `prefix`), removed afterwards; `f` is given it. */
export async function inFreshTmpdir<T>(prefix: string, f: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await withTmpdir(dir, () => f(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
