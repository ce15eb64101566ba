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

export interface Hooks {
  onProgress?(p: Progress): void;
}

export interface Stats {
  /** Distinct states stored. */
  readonly states: number;
  /** Transitions explored (successors generated). */
  readonly transitions: number;
  /** Largest depth reached (BFS level, or deepest path in DFS). */
  readonly depth: number;
  readonly elapsedMs: number;
  readonly statesPerSec: number;
  /** Bytes held by the visited set, parent and rule arrays, divided by states. */
  readonly bytesPerState: number;
  readonly storeBytes: number;
}

/** One broken property. */
export interface Violation {
  readonly property: string;
  readonly requirement: string;
  readonly kind: 'invariant' | 'step' | 'deadlock' | 'cover' | 'liveness';
  readonly message: string;
  /** The counterexample (null for an unreached cover, which has none). */
  readonly trace: Trace | null;
}

export interface CoverReport {
  readonly name: string;
  readonly requirement: string;
  readonly reached: boolean;
  readonly depth: number | null;
}

export type CheckResult =
  | {
      readonly status: 'ok';
      readonly guarantee: Guarantee;
      readonly bound?: number;
      /** Runs sampled (guarantee `sampled`); `bound` is then the depth of each run. */
      readonly runs?: number;
      readonly stats: Stats;
      readonly covers: readonly CoverReport[];
    }
  | {
      readonly status: 'violated';
      readonly guarantee: Guarantee;
      readonly stats: Stats;
      /** Runs sampled before the violation was found (guarantee `sampled`). */
      readonly runs?: number;
      readonly violations: readonly Violation[];
      readonly covers: readonly CoverReport[];
    }
  | { readonly status: 'incomplete'; readonly reason: string; readonly stats: Stats; readonly covers: readonly CoverReport[] }
  | { readonly status: 'error'; readonly code: string; readonly message: string; readonly stats: Stats; readonly trace: Trace | null };

/** An engine: runs a job and returns a result. */
export interface Engine {
  readonly name: string;
  run(job: CheckJob, hooks?: Hooks): Promise<CheckResult>;
}
