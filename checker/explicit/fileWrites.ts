/**
 * Writes of the files a search keeps (a level's states, a checkpoint, states moved out of memory).
 * Why this module exists: `writeSync` may write fewer bytes than asked and return without an error
 * (a disk that fills part-way through a write), and a caller that does not look loses the rest
 * silently: a level file or a checkpoint cut short. Here a write writes everything or throws, and a
 * file-system error is told apart from the engine's own.
 */
import { writeSync } from 'node:fs';

/** Whether `e` is an error of the file system (a Node.js error with an errno code such as ENOSPC). */
export function isFileError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code as string);
}

/**
 * Writes all of `bytes` at the file's position (or at `position`), looping over short writes; a
 * write that makes no progress throws ENOSPC, as the next call would.
 */
export function writeFully(fd: number, bytes: Uint8Array, position: number | null = null): void {
  let at = 0;
  while (at < bytes.length) {
    const n = writeSync(fd, bytes, at, bytes.length - at, position === null ? null : position + at);
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    at += n;
  }
}

/** Writes the words of `parts` one after another, each in full (`writeFully`), from `position` if given; returns the bytes written. */
export function writeWords(fd: number, parts: Iterable<Uint32Array>, position: number | null = null): number {
  let bytes = 0;
  for (const p of parts) {
    writeFully(fd, new Uint8Array(p.buffer, p.byteOffset, p.byteLength), position === null ? null : position + bytes);
    bytes += p.byteLength;
  }
  return bytes;
}

/** Runs a clean-up whose own failure must not hide the error being reported (best effort). */
export function quietly(cleanUp: () => void): void {
  try {
    cleanUp();
  } catch {}
}
