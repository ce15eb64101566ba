/**
 * The engine interface. Why this module exists: every engine (explicit, random, smt) takes the same
 * job and returns the same result union, so the CLI, the tests and the benchmarks treat them alike.
 * Engines never print: they report progress through hooks and return data.
 */
import type { Model } from '../model/lang/protocol.js';
import type { Property } from '../properties/property.js';
import type { Trace } from '../counterexamples/trace.js';

/** What an `ok` result proves. */
export type Guarantee = 'exhaustive' | 'bounded' | 'proved' | 'sampled';

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
}

/** Progress figures, reported at most about once a second. */
export interface Progress {
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
