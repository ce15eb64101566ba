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
import { defaultMemoryLimit, formatBytes } from '../checker/explicit/storeMemory.js';
import { McError } from '../model/lang/errors.js';
import { choiceOption, numberOption, stringOption } from './options.js';

export const STORE_KINDS = ['exact', 'hash-compaction', 'bitstate'] as const satisfies readonly StoreKind[];

/** The options as yargs gives them. */
export interface ExplicitArgs {
  readonly store?: StoreKind;
  readonly memory?: string;
  readonly 'max-memory'?: string;
  readonly collapse?: boolean;
  readonly workers?: number;
  readonly checkpoint?: string;
  readonly 'checkpoint-minutes': number;
  readonly resume?: string;
  readonly por?: boolean;
  readonly shard?: string;
  /** The search strategy: depth-first search runs on one thread, so it takes no default workers. */
  readonly strategy?: 'bfs' | 'dfs';
}

/** Declares the options on a yargs command builder. */
export function explicitOptions<T>(y: Argv<T>) {
  return y
    .option(
      'store',
      choiceOption(
        'store',
        STORE_KINDS,
        'explicit engine: visited states: exact (exhaustive), hash-compaction (64-bit fingerprints) or bitstate (a fixed array of bits)',
        'exact',
      ),
    )
    .option('memory', stringOption('memory', 'explicit engine, bitstate: size of the bit array, e.g. 512MiB or 2GiB (default 1GiB)'))
    .option('max-memory', {
      ...stringOption(
        'max-memory',
        'explicit engine: memory the process may use (e.g. 8GiB): the stores do not grow past it, and the search ends there as incomplete, keeping what it found',
      ),
      defaultDescription: `90 % of the machine's memory or of its control group's limit, ${formatBytes(defaultMemoryLimit())} here`,
    })
    .option('collapse', {
      type: 'boolean',
      describe:
        'explicit engine, exact store: keep each state as the id of its first words (stored once for all states sharing them) and its last word: fewer bytes a state, slower; still exhaustive',
      defaultDescription: 'off',
    })
    .option(
      'workers',
      numberOption(
        'workers',
        'explicit engine: threads of the breadth-first search (depth-first search runs on one)',
        `the machine's cores, ${defaultWorkers()} here`,
      ),
    )
    .option('checkpoint', stringOption('checkpoint', 'explicit engine: save the search in this folder now and then and when it stops early (Ctrl-C, a limit)'))
    .option('checkpoint-minutes', { ...numberOption('checkpoint-minutes', 'explicit engine: minutes between checkpoints'), default: 10 })
    .option('resume', stringOption('resume', 'explicit engine: continue the search saved in this folder (same check: model, properties, options)'))
    .option(
      'shard',
      stringOption(
        'shard',
        "explicit engine: search only shard I of N (I/N, 1-based) of the state space; `mirrorcheck merge` combines the shards' JSON results",
      ),
    )
    .option('por', {
      type: 'boolean',
      describe:
        'explicit engine: partial-order reduction of the breadth-first safety search: verdicts kept, counterexamples searched again to be shortest, fewer states; run-time model errors (a value out of range) in the states it skips are not reported',
      defaultDescription: 'on only where that loses nothing (safety properties only, rules that raise no run-time error); --no-por turns it off',
    });
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
  if (a.collapse && (a.store ?? 'exact') !== 'exact')
    throw new McError('MC030', `--collapse is for --store exact (--store ${a.store} keeps no states to collapse)`);
  const memoryBytes = a.memory !== undefined ? parseBytes('memory', a.memory) : undefined;
  if (memoryBytes !== undefined && (memoryBytes < 8 || memoryBytes > 2 ** 32)) throw new McError('MC030', '--memory must be between 8 bytes and 4GiB');
  const memoryLimit = a['max-memory'] !== undefined ? parseBytes('max-memory', a['max-memory']) : undefined;
  if (memoryLimit !== undefined && memoryLimit < 2 ** 20) throw new McError('MC030', '--max-memory must be at least 1MiB');
  const workers = a.workers ?? (a.strategy === 'dfs' ? 1 : defaultWorkers());
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new McError('MC030', `--workers must be an integer from 1 to 256, got ${a.workers}`);
  const minutes = a['checkpoint-minutes'];
  if (!Number.isFinite(minutes) || minutes <= 0) throw new McError('MC030', `--checkpoint-minutes must be a number > 0, got ${minutes}`);
  if (a.checkpoint !== undefined && a.resume !== undefined && a.checkpoint !== a.resume) {
    throw new McError('MC030', '--resume DIR goes on saving into DIR: give no other --checkpoint folder');
  }
  const dir = a.checkpoint ?? a.resume;
  const shard = a.shard !== undefined ? parseShard(a.shard) : undefined;
  return {
    store: a.store ?? 'exact',
    workers,
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(memoryLimit !== undefined ? { memoryLimit } : {}),
    ...(a.collapse ? { collapse: true } : {}),
    ...(dir !== undefined ? { checkpoint: { dir, everyMs: minutes * 60_000 } } : {}),
    ...(a.resume !== undefined ? { resume: a.resume } : {}),
    por: a.por ?? 'auto',
    ...(shard ? { shard } : {}),
  };
}

/** Parses `I/N` (1 <= I <= N) into a 0-based shard index and a count; MC030 otherwise. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const i = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || i < 1 || i > n || n > 1_000_000) throw new McError('MC030', `--shard must be I/N with 1 <= I <= N, got '${text}'`);
  return { index: i - 1, count: n };
}

/** The explicit-engine options given a value other than their default (MC030 with another engine). */
export function explicitFlagsSet(x: ExplicitOptions | undefined): string[] {
  if (!x) return [];
  const set: string[] = [];
  if (x.store !== undefined && x.store !== 'exact') set.push('--store');
  if (x.memoryBytes !== undefined) set.push('--memory');
  if (x.memoryLimit !== undefined) set.push('--max-memory');
  if (x.collapse) set.push('--collapse');
  if (x.checkpoint !== undefined && x.resume === undefined) set.push('--checkpoint');
  if (x.resume !== undefined) set.push('--resume');
  if (x.por === true) set.push('--por');
  if (x.shard) set.push('--shard');
  return set;
}
