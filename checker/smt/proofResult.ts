/**
 * What a proof attempt returns. Why this module exists: k-induction and the unbounded inductive
 * check answer the same question ("do the safety properties hold in every reachable state?") with
 * different guarantees, and the CLI maps both onto exit codes the same way:
 * `proved` 0, `violated` 1, `cti` and `incomplete` 3 (the guarantee asked for was not reached),
 * `error` 4 (MC040: the encodings disagree) or 2 (MC010: the model cannot be translated).
 */
import type { Value } from '../../model/lang/layout.js';
import type { Trace } from '../../counterexamples/trace.js';
import type { Violation } from '../engine.js';

export type ProofMethod = 'k-induction' | 'inductive-invariant' | 'inferred-invariant';

/**
 * A counterexample to induction found by the unbounded check: a pre-state that satisfies every
 * invariant (over a universe of some size), a rule instance enabled in it, and the post-state in
 * which an invariant fails. Values are shown as in traces; index values are element numbers
 * 0..size-1 of the universe z3 chose.
 */
export interface UnboundedCti {
  readonly rule: string;
  readonly args: Readonly<Record<string, number>>;
  /** Size of each index type in the counterexample. */
  readonly sizes: Readonly<Record<string, number>>;
  readonly before: Readonly<Record<string, Value>>;
  readonly after: Readonly<Record<string, Value>>;
}

/** One proof obligation of the unbounded check (start condition, or one rule preserving one fact). */
export interface Obligation {
  readonly name: string;
  readonly status: 'proved' | 'failed' | 'unknown';
}

/** What `prove` and `proveUnbounded` return: proved, violated (a real trace), cti (not inductive), incomplete or error. */
export type ProofResult =
  | {
      readonly status: 'proved';
      readonly method: ProofMethod;
      /** The k that succeeded (k-induction). */
      readonly k?: number;
      /** Properties proved (safety invariants, step properties, strengthening invariants). */
      readonly properties: readonly string[];
      readonly obligations?: readonly Obligation[];
      /** What exactly is and is not covered by this proof. */
      readonly notes: readonly string[];
      readonly elapsedMs: number;
    }
  | { readonly status: 'violated'; readonly method: ProofMethod; readonly violation: Violation; readonly elapsedMs: number }
  | {
      readonly status: 'error';
      readonly method: ProofMethod;
      readonly code: string;
      readonly message: string;
      /** The model error's trace (MC011); null for MC040 and MC010. */
      readonly trace: Trace | null;
      readonly elapsedMs: number;
    }
  | {
      readonly status: 'cti';
      readonly method: ProofMethod;
      /** The largest k tried (k-induction). */
      readonly k?: number;
      /** The property that could not be shown inductive (`no-model-error` for a model error). */
      readonly property: string;
      readonly requirement: string;
      readonly message: string;
      /** k-induction: the path of (possibly unreachable) states, replayed by the interpreter. */
      readonly trace: Trace | null;
      /** Unbounded check: the pre- and post-state over uninterpreted index types. */
      readonly cti?: UnboundedCti;
      readonly obligations?: readonly Obligation[];
      /** Set when only a proof hint fails, in a reachable state (the hints do not fit the model). */
      readonly hintFailed?: boolean;
      readonly elapsedMs: number;
    }
  | { readonly status: 'incomplete'; readonly method: ProofMethod; readonly reason: string; readonly elapsedMs: number };
