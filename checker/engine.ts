/**
 * The engine interface. Why this module exists: every engine (explicit, random, smt) takes the same
 * job and returns the same result union, so the CLI, the tests and the benchmarks treat them alike.
 * Engines never print: they report progress through hooks and return data.
 */
import type { Model } from '../model/lang/protocol.js';
import { DEADLOCK, DEADLOCK_DOC, type Property } from '../properties/property.js';
import type { Trace } from '../counterexamples/trace.js';

/**
 * What an `ok` result proves. `exhaustive`: every reachable state was checked (explicit engine,
 * exact store). `hash-compaction`: the same unless two states shared a 64-bit fingerprint (the
 * probability is in the statistics). `bitstate`: the states whose bits were free were checked (the
 * coverage estimate is in the statistics). `shard`: one shard's part of the state space (explicit
 * engine, `--shard I/N`; `mirrorcheck merge` combines the shards' results into one verdict).
 * `bounded`: no violation within the bound (BMC).
 * `proved`: by induction. `sampled`: random runs.
 */
export type Guarantee = 'exhaustive' | 'hash-compaction' | 'bitstate' | 'shard' | 'bounded' | 'proved' | 'sampled';

/** How the explicit engine remembers visited states. */
export type StoreKind = 'exact' | 'hash-compaction' | 'bitstate';

/** How much memory a search may use, and how much is in use now (the explicit engine's stores ask it before they grow). */
export interface MemoryLimit {
  /** The most bytes. */
  readonly bytes: number;
  /** The bytes in use now (by default the process's resident memory; a caller may count its own). */
  readonly inUse: () => number;
  /**
   * Frees what is no longer used but still counted in `inUse` (the default limit: a full garbage
   * collection, since a dropped table or evicted states leave the resident memory only then).
   * Called once before an allocation is refused, which then asks `inUse` again.
   */
  readonly collect?: () => void;
}

/** The explicit engine's own options (the other engines ignore them). */
export interface ExplicitOptions {
  /** Visited set: every state (default), 64-bit fingerprints, or a fixed array of bits. */
  readonly store?: StoreKind;
  /** Bitstate: bytes of the bit array (default 1 GiB). */
  readonly memoryBytes?: number;
  /**
   * Bytes of resident memory of the process past which the stores do not grow: the search then ends
   * as incomplete, keeping its figures, checkpoint and violations (as SPIN's -DMEMLIM). Default 90 %
   * of the machine's memory, or of its control group's limit when smaller. A number is bytes of the
   * process's resident memory; a `MemoryLimit` counts the bytes in use its own way.
   */
  readonly memoryLimit?: number | MemoryLimit;
  /**
   * Exact store: keep a state of three or more words as two, the id of its first words (stored
   * once for all the states sharing them) and its last word. Fewer bytes a state where states
   * share their first words, a second lookup a state. Default off.
   */
  readonly collapse?: boolean;
  /** Threads expanding breadth-first levels (default 1). */
  readonly workers?: number;
  /** Smallest breadth-first level handed to worker threads (default 4096 states; tests lower it). */
  readonly parallelFrom?: number;
  /**
   * Partial-order reduction of the breadth-first safety search. `auto`: on when it keeps everything
   * the search reports — the job checks safety properties only, and no rule can raise a run-time
   * model error (which the reduction could skip). Default off.
   */
  readonly por?: boolean | 'auto';
  /**
   * Under partial-order reduction, search again without it, up to the depth of the violation found,
   * for a shortest counterexample (default true; false keeps the reduced search's traces).
   */
  readonly shortest?: boolean;
  /** Save the search in `dir` every `everyMs` milliseconds and when it stops early (breadth-first). */
  readonly checkpoint?: { readonly dir: string; readonly everyMs: number };
  /** Continue the search saved in this folder. */
  readonly resume?: string;
  /** Explore only the part of the state space of shard `index` (0-based) of `count`. */
  readonly shard?: { readonly index: number; readonly count: number };
}

/** Limits of a run; reaching one makes the result `incomplete` (exit 3), never a pass. */
export interface Limits {
  /** Stop (incomplete) after this many distinct states. */
  readonly maxStates?: number;
  /** Stop (incomplete) after this many seconds. */
  readonly timeLimitSec?: number;
  /** Explore only this many steps from the start states (incomplete if deeper states exist). */
  readonly depth?: number;
}

/** A check to run: a built model, its properties, limits and engine options. */
export interface CheckJob {
  readonly model: Model;
  readonly properties: readonly Property[];
  readonly limits: Limits;
  readonly strategy?: 'bfs' | 'dfs';
  readonly seed?: number;
  readonly runs?: number;
  /** Store one canonical state per class of states equal up to permuting symmetric index values (default false). */
  readonly symmetry?: boolean;
  /** Check for deadlocks (default true). */
  readonly deadlock?: boolean;
  /** SMT engines: which z3 answers the queries (default the wasm build; `native` needs `z3` on the PATH). */
  readonly solver?: 'wasm' | 'native';
  /** Explicit engine options. */
  readonly explicit?: ExplicitOptions;
  /** Stops the run early (an interrupt): the result is `incomplete`, with the figures so far. */
  readonly signal?: AbortSignal;
}

/** Progress figures, reported at most about once a second. */
export interface Progress {
  /**
   * The phase reporting, where an engine has several: the explicit engine's `safety search`, the
   * `liveness graph` it builds next, and the `fair cycles` analysis over that graph (which reports
   * once as it starts, with the graph's size). Absent for an engine with one phase.
   */
  readonly phase?: 'safety search' | 'liveness graph' | 'fair cycles';
  readonly generated: number;
  readonly distinct: number;
  readonly queue: number;
  readonly depth: number;
  readonly elapsedMs: number;
  readonly statesPerSec: number;
}

/** Callbacks an engine calls while it runs (it never prints). */
export interface Hooks {
  onProgress?(p: Progress): void;
}

/** Figures of one exhaustive search over the state graph. */
export interface SearchFigures {
  /** Distinct states stored (under symmetry reduction: canonical representatives). */
  readonly states: number;
  /** Transitions explored (successors generated, including those to states already stored). */
  readonly transitions: number;
  /** Largest depth reached (BFS level, or deepest path in DFS). */
  readonly depth: number;
  readonly elapsedMs: number;
  readonly statesPerSec: number;
  /** Bytes held by the visited set, parent and rule arrays (and, for liveness, the graph). */
  readonly storeBytes: number;
  /**
   * `storeBytes` divided by `states`, or null while the store is still within what it preallocates
   * (`PREALLOCATED_STATES`): below that, the division measures the preallocation, not a per-state cost.
   */
  readonly bytesPerState: number | null;
  /** Whether this search stored one canonical state per symmetry class. */
  readonly symmetry: boolean;
  /** The liveness phase: why the graph was not reduced by symmetry although the check asked for it (livenessSymmetry.ts). */
  readonly symmetryRefused?: string;
  /** The visited set (absent: exact). `storeBytes` counts it alone: the fingerprints or bits of a compact store. */
  readonly store?: StoreKind;
  /** The exact store kept its states collapsed (`ExplicitOptions.collapse`, a model of three words or more). */
  readonly collapse?: true;
  /** Compact stores: bytes of the two breadth-first levels kept in memory at the widest level (the frontier). */
  readonly queueBytes?: number;
  /** Hash compaction: probability that a state was never explored because its fingerprint was another's. */
  readonly omissionProbability?: number;
  /** Bitstate: expected fraction of the reachable states explored. */
  readonly coverage?: number;
  /** Threads that expanded states (the coordinating thread and the worker threads). */
  readonly workers?: number;
  /** With worker threads: the fraction of the states expanded by threads other than the coordinating one. */
  readonly workerShare?: number;
  /** Partial-order reduction was on. */
  readonly por?: boolean;
  /** The shard searched, `I/N` (explicit engine, `--shard`), and a hash of the check (model, properties, options) its shards share. */
  readonly shard?: string;
  readonly shardCheck?: string;
}

/**
 * The explicit engine's figures: those of the safety search (invariants, step properties, covers,
 * deadlock), and, when liveness properties were checked, those of the liveness phase apart (it
 * builds the whole graph again, with its edges).
 */
export interface ExplicitStats extends SearchFigures {
  readonly engine: 'explicit';
  readonly liveness?: SearchFigures;
}

/** The random engine's figures. Runs that shrink a counterexample are counted apart. */
export interface RandomStats {
  readonly engine: 'random';
  /** Runs sampled (not counting the runs that shrink a counterexample). */
  readonly runs: number;
  /** Rule steps taken by those runs. */
  readonly steps: number;
  /** Distinct states those runs visited (counted exactly, start states included). */
  readonly states: number;
  /** Length of the longest run. */
  readonly depth: number;
  /** Runs executed while shrinking a counterexample, and their steps. */
  readonly shrinkRuns: number;
  readonly shrinkSteps: number;
  /** The seed of the run: the same seed reproduces it. */
  readonly seed: number;
  readonly elapsedMs: number;
}

/** The SMT engine's figures. */
export interface SmtStats {
  readonly engine: 'smt';
  /** Steps from the start states covered: no violation within this depth (or the depth of the one found). */
  readonly depth: number;
  /** Satisfiability queries asked. */
  readonly queries: number;
  /** Time spent in the solver. */
  readonly solverMs: number;
  readonly elapsedMs: number;
}

/**
 * States the explicit engine's stores preallocate room for (one chunk of packed states and a hash
 * table twice that size): a store holding fewer has no meaningful bytes-per-state figure.
 */
export const PREALLOCATED_STATES = 1 << 16;

/** Bytes per stored state, or null when `states` is too few for the figure to mean a per-state cost. */
export function bytesPerStateOf(bytes: number, states: number): number | null {
  return states >= PREALLOCATED_STATES ? Math.round((bytes / states) * 10) / 10 : null;
}

/** What an engine measured, under the names of what it measured. */
export type Stats = ExplicitStats | RandomStats | SmtStats;

/** One broken property. */
export interface Violation {
  readonly property: string;
  readonly requirement: string;
  readonly kind: 'invariant' | 'step' | 'deadlock' | 'cover' | 'liveness';
  readonly message: string;
  /** The counterexample (null for an unreached cover, which has none). */
  readonly trace: Trace | null;
}

/** The violation every engine reports for a deadlock, with its trace (the path to the stuck state). */
export function deadlockViolation(trace: Trace | null): Violation {
  return { property: DEADLOCK, requirement: 'deadlock', kind: 'deadlock', message: `deadlock: ${DEADLOCK_DOC}`, trace };
}

/** The message of a run-time model error met after `steps` steps (the trace leads to the failing state). */
export function modelErrorMessage(message: string, steps: number): string {
  return `model error ${message} (after ${steps} steps; the trace leads to the state where it fails)`;
}

/** Whether a cover was reached, and at what depth. */
export interface CoverReport {
  readonly name: string;
  readonly requirement: string;
  readonly reached: boolean;
  readonly depth: number | null;
}

/** What an engine returns: ok (with its guarantee), violated (with counterexamples), incomplete (a limit was reached) or error (a model error). */
export type CheckResult<S extends Stats = Stats> =
  | {
      readonly status: 'ok';
      readonly guarantee: Guarantee;
      /** The depth the guarantee covers: `bounded` (BMC), or the longest run allowed (`sampled`). */
      readonly bound?: number;
      readonly stats: S;
      readonly covers: readonly CoverReport[];
    }
  | {
      readonly status: 'violated';
      readonly guarantee: Guarantee;
      /** As for `ok`: the depth bound the engine searched within. */
      readonly bound?: number;
      readonly stats: S;
      readonly violations: readonly Violation[];
      readonly covers: readonly CoverReport[];
    }
  | { readonly status: 'incomplete'; readonly reason: string; readonly stats: S; readonly covers: readonly CoverReport[] }
  | { readonly status: 'error'; readonly code: string; readonly message: string; readonly stats: S; readonly trace: Trace | null };

/** An engine: runs a job and returns a result. */
export interface Engine {
  readonly name: string;
  run(job: CheckJob, hooks?: Hooks): Promise<CheckResult>;
}
