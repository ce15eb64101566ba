/**
 * A memory limit for tests that reach every place where the explicit engine's stores grow. Why
 * this module exists: which allocation passes a real limit depends on the process's resident
 * memory; this one answers its k-th question "how much is in use?" with k MiB, so a limit of
 * `k * MiB - 1` refuses exactly the k-th allocation, whatever it asks for.
 */
import type { MemoryLimit } from '../checker/engine.js';

export const MiB = 2 ** 20;

/** A limit of `bytes` whose k-th question (from 0) is answered with k MiB in use; `asked` counts the questions. */
export function countingLimit(bytes: number): MemoryLimit & { asked: number } {
  const l = { bytes, asked: 0, inUse: () => l.asked++ * MiB };
  return l;
}
