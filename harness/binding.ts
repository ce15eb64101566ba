/**
 * What a protocol package supplies so that its reference driver can be run on the simulated hardware:
 * the binding. Why this module exists: the conformance check, the replay of model traces on the
 * harness and `mirrorcheck replay --on harness` are generic (conformance/); everything they need to
 * know about one protocol (which knobs its reference driver has, how to build its system for a model,
 * which hardware field stands for which model variable, where damage is expected) is one value of
 * this type, the `harness` field of the package. A protocol without one has no reference driver.
 */
import type { Value } from '../model/lang/layout.js';
import type { Model } from '../model/lang/protocol.js';
import type { SimSystem } from './simSystem.js';

/** How to build a system for a model. */
export interface SystemOptions {
  /**
   * The reference driver's knob. Absent: the model's variant (the driver has the model's bug); null:
   * the correct driver; a name: that knob, for example to run a knobbed driver against the correct
   * model, which must not conform.
   */
  readonly knob?: string | null;
  /** Whether each step record describes the hardware changes in words (default true; off for speed). */
  readonly describe?: boolean;
}

/**
 * A model-level guess that the step `inst` from model state `s` to `t` shows damage on the harness
 * (a DMA completing into a freed frame, a failed fault, ...). It only guides the search for a short
 * continuation of a trace; the harness's own monitor decides.
 */
export type DamageGuide = (s: Int32Array, inst: number, t: Int32Array) => boolean;

/** How the replay report words what a protocol's monitor checks. */
export interface ReplayWords {
  /** What a run without damage means, after "ran the N steps" (for example ' and memory is intact'). */
  readonly intact: string;
  /** "The trace ends before <before>; ..." (for example 'memory is damaged'). */
  readonly before: string;
  /** "... N added steps show <shown>." (for example 'the damage'). */
  readonly shown: string;
}

/** Bounds of the search for a continuation of a trace after which the harness shows damage. */
export interface ContinuationBounds {
  /** Longest continuation, in model steps. */
  readonly maxAdded: number;
  /** Model states remembered by the breadth-first search. */
  readonly maxSeen: number;
  /** Whether a continuation into a state with no enabled rule counts (the system hangs there, and reports it). */
  readonly deadlocks: boolean;
}

/**
 * A protocol's reference driver on the simulated hardware, as the generic conformance check and
 * replay use it. `S` is the package's system type.
 */
export interface HarnessBinding<S extends SimSystem = SimSystem> {
  /** The model variants the reference driver implements as knobs (a knob has its variant's name). */
  readonly knobs: readonly string[];
  /**
   * Builds the system for a built model: its parameters size the hardware, its variant selects the
   * knob (unless `opts.knob` says otherwise). Throws `McError` with a clear message when the model is
   * not one the harness simulates: another protocol, a knob the driver does not have, or a parameter
   * value the harness does not simulate.
   */
  system(model: Model, opts?: SystemOptions): S;
  /**
   * The abstraction function: the model state the system stands for, or a description of why it
   * fits no model state. The conformance check and the replay compare it with the model's states.
   */
  stateOf(model: Model, sys: S): Int32Array | string;
  /**
   * The mapped state as structured values (variable name -> value), when the replay report should
   * show each step as the model variables it changed rather than as the system's own words.
   */
  valuesOf?(model: Model, sys: S): Record<string, Value> | string;
  /** Settings the replay report names besides the knob (for example `mode fence`), or null. */
  setting?(model: Model): string | null;
  /** Where damage is expected, to guide the search for a continuation of a trace (see DamageGuide). */
  damageGuide(model: Model): DamageGuide;
  /** Bounds of that search. */
  readonly continuation: ContinuationBounds;
  /**
   * Ids of the work outstanding now (DMA in flight or stalled, ...). Given this, a lasso (a liveness
   * counterexample) is judged by the work outstanding at its loop's start that is still outstanding
   * at its end: the loop repeats forever without it, which `SimSystem.reportHung` reports; without
   * it, a lasso is replayed like any trace.
   */
  outstanding?(sys: S): ReadonlySet<number>;
  /** How the replay report words what the monitor checks. */
  readonly words: ReplayWords;
}
