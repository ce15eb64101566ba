/**
 * Memory for the explicit engine's stores. Why this module exists: a search of hundreds of millions
 * of states ends when memory runs out, and it must then end as an incomplete result that keeps its
 * figures, its checkpoint and any violation found, never as an internal error (an allocation that
 * fails throws a RangeError) or as a process the kernel kills (where memory is overcommitted, the
 * allocation succeeds and the kernel kills the process once the pages are used). So every large
 * buffer of a store is taken here: past the search's memory limit, checked against the process's
 * resident memory before allocating (as SPIN's -DMEMLIM), or when the allocation fails, it throws
 * `StoreFullError`, which the search turns into a limit.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type ErrorCode, McError } from '../../model/lang/errors.js';
import type { MemoryLimit } from '../engine.js';

export type { MemoryLimit };

/**
 * Why a store is full: its table is at its most slots, a fingerprint set at its most entries, the
 * memory limit would be passed, the memory could not be allocated, or a file the search keeps (a
 * level's states, a checkpoint) could not be written (a full disk).
 */
export type FullBecause = 'slots' | 'entries' | 'limit' | 'memory' | 'disk';

/**
 * A store cannot take more states (`because` says why). The message says it in words (without the
 * state count: the search adds it, and what to do). Thrown before the store changes, or after a
 * state is stored in full (the store stays whole, only fuller than it should be).
 */
export class StoreFullError extends Error {
  constructor(
    readonly because: FullBecause,
    message: string,
    /** What could not grow, as `allocate` was told (e.g. "the states"), when it was told. */
    readonly what?: string,
  ) {
    super(message);
  }
}

/**
 * `make()`, with a `StoreFullError` turned into McError `code` whose message is `prefix: ` and the
 * error's (a search that cannot start); one for a file that could not be written into MC031.
 */
export function refusedWhenFull<T>(code: ErrorCode, prefix: string, make: () => T): T {
  try {
    return make();
  } catch (e) {
    // A file that cannot be written is not a question of memory: MC031, whatever the caller's code.
    if (e instanceof StoreFullError && e.because === 'disk') throw new McError('MC031', `the search cannot start: ${e.message}`);
    if (e instanceof StoreFullError) throw new McError(code, `${prefix}: ${e.message}`);
    throw e;
  }
}

/** Bytes as the messages print them: MiB or GiB with one decimal. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A limit of `bytes` bytes of resident memory of the process. Before it refuses, a full garbage
 * collection (`collect`) returns the arrays let go since the last one: a table that grew, a dropped
 * index or evicted states stay resident until then, and would otherwise be counted twice.
 */
export function residentLimit(bytes: number): MemoryLimit {
  return { bytes, inUse: () => process.memoryUsage.rss(), collect: fullCollection };
}

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection of this thread's heap, made available at run time (V8's `--expose-gc`
 * for a new context: the command line cannot be given the flag); nothing where V8 refuses it.
 */
export function fullCollection(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * Throws `StoreFullError` when taking `bytes` more would bring the memory in use past the limit
 * (after `limit.collect`, when it has one). `allocate` asks it before allocating; memory mapped as
 * it is written (the untouched rest of a large reservation) asks it before writing.
 */
export function checkLimit(bytes: number, what: string, limit: MemoryLimit | undefined): void {
  if (limit === undefined) return;
  let inUse = limit.inUse();
  if (inUse + bytes > limit.bytes && limit.collect) {
    limit.collect();
    inUse = limit.inUse();
  }
  if (inUse + bytes > limit.bytes) {
    throw new StoreFullError(
      'limit',
      `the memory limit of ${formatBytes(limit.bytes)} is reached (${formatBytes(inUse)} in use, ${formatBytes(bytes)} more needed for ${what})`,
      what,
    );
  }
}

/**
 * `make()`, which allocates about `bytes` bytes for `what` (e.g. "the table of the states"):
 * `StoreFullError` instead when that passes the limit or when the allocation fails.
 */
export function allocate<T>(bytes: number, what: string, limit: MemoryLimit | undefined, make: () => T): T {
  checkLimit(bytes, what, limit);
  try {
    return make();
  } catch (e) {
    if (e instanceof RangeError) throw new StoreFullError('memory', `out of memory: ${formatBytes(bytes)} more for ${what} could not be allocated`, what);
    throw e;
  }
}

/** A shared buffer of `bytes` bytes for `what`, as `allocate`. */
export function sharedBuffer(bytes: number, what: string, limit: MemoryLimit | undefined): SharedArrayBuffer {
  return allocate(bytes, what, limit, () => new SharedArrayBuffer(bytes));
}

/** The smaller of the machine's memory and a control group's limit, when one is set (cgroup v2, then v1). */
export function availableMemory(read: (path: string) => string | null = readText): number {
  let bytes = totalmem();
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const text = read(path)?.trim();
    // cgroup v2 says "max" when there is no limit; v1 a huge number.
    if (text && /^\d+$/.test(text)) bytes = Math.min(bytes, Number(text));
  }
  return bytes;
}

/** The text of the file at `path`, or null when it cannot be read. */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The limit an `ExplicitOptions.memoryLimit` asks for: bytes of resident memory (default `defaultMemoryLimit`), or a limit of its own. */
export function limitOf(option: number | MemoryLimit | undefined): MemoryLimit {
  return typeof option === 'object' ? option : residentLimit(option ?? defaultMemoryLimit());
}

/** The default memory limit of a search: 90 % of the available memory (`availableMemory`). */
export function defaultMemoryLimit(): number {
  return Math.floor(0.9 * availableMemory());
}
