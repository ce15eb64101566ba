/**
 * The explicit engine's command-line options of `check`: the visited set (`--store`, `--memory`),
 * threads (`--workers`), partial-order reduction (`--por`), checkpoints (`--checkpoint`,
 * `--checkpoint-minutes`, `--resume`) and shards (`--shard I/N`). Why this module exists: they are
 * many and belong to one engine, so they are declared, checked and turned into the engine's
 * `ExplicitOptions` in one place instead of spreading through `check`.
 */
import { availableParallelism } from 'node:os';
import type { Argv } from 'yargs';
import type { ExplicitOptions, StoreKind } from '../checker/engine.js';
import { McError } from '../model/lang/errors.js';

export const STORE_KINDS = ['exact', 'hash-compaction', 'bitstate'] as const satisfies readonly StoreKind[];

/** The options as yargs gives them. */
export interface ExplicitArgs {
  readonly store: StoreKind;
  readonly memory?: string;
}

/** Declares the options on a yargs command builder. */
export function explicitOptions<T>(y: Argv<T>) {
  return y
    .option('store', {
      choices: STORE_KINDS,
      default: 'exact' as StoreKind,
      describe: 'visited states: exact (exhaustive), hash-compaction (64-bit fingerprints) or bitstate (a fixed array of bits)',
    })
    .option('memory', { type: 'string', describe: 'bitstate: size of the bit array, e.g. 512MiB or 2GiB (default 1GiB)' });
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 2 ** 10,
  kb: 1e3,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 1e6,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 1e9,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 1e12,
  tib: 2 ** 40,
};

/** Parses a size such as `2GiB`, `512MiB`, `100M` or `4096` (bytes); MC030 when it is not one. */
export function parseBytes(flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(m?.[2] ?? '').toLowerCase() || 'b'];
  if (!m || unit === undefined) throw new McError('MC030', `--${flag} must be a size such as 512MiB or 2GiB, got '${text}'`);
  return Math.floor(Number(m[1]) * unit);
}

/** The machine's cores: the default number of workers. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Checks the options (MC030) and returns the engine's options. */
export function toExplicitOptions(a: ExplicitArgs): ExplicitOptions {
  if (a.memory !== undefined && a.store !== 'bitstate') throw new McError('MC030', '--memory sizes the bit array of --store bitstate');
  const memoryBytes = a.memory !== undefined ? parseBytes('memory', a.memory) : undefined;
  if (memoryBytes !== undefined && (memoryBytes < 8 || memoryBytes > 2 ** 32)) throw new McError('MC030', '--memory must be between 8 bytes and 4GiB');
  return { store: a.store, ...(memoryBytes !== undefined ? { memoryBytes } : {}) };
}

/** The explicit-engine options given a value other than their default (MC030 with another engine). */
export function explicitFlagsSet(x: ExplicitOptions | undefined): string[] {
  if (!x) return [];
  const set: string[] = [];
  if (x.store !== undefined && x.store !== 'exact') set.push('--store');
  if (x.memoryBytes !== undefined) set.push('--memory');
  return set;
}
