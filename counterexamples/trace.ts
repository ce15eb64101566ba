/**
 * The trace type. Why this module exists: a counterexample is plain data (the choices that produced
 * it and the states they lead to) shared by every engine, the ITF reader and writer, replay and the
 * renderers. Replaying the choices on the model must give back the same states.
 */
import type { ParamValues } from '../model/lang/protocol.js';

/** One step: the choice taken (an init index for step 0, a rule-instance id after) and its result. */
export interface TraceStep {
  readonly choice: number;
  /** `init` name for step 0, the rule instance's label (`Name(p=0)`) after. */
  readonly label: string;
  readonly state: Int32Array;
}

/** A counterexample (or any run): the choices taken and the states they lead to, with where it came from. */
export interface Trace {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: ParamValues;
  readonly engine: string;
  /** The property the trace violates (null for a witness or a plain run). */
  readonly property: string | null;
  readonly requirement: string | null;
  readonly steps: readonly TraceStep[];
  /** For a lasso: index of the state where the loop starts (the last state steps back to it). */
  readonly loop?: number;
  readonly seed?: string;
  /** Free-form engine data that reproduces the run (fast-check path, BMC depth...). */
  readonly extra?: Readonly<Record<string, unknown>>;
  readonly note?: string;
  /**
   * The model file the protocol came from, when it is not built in: its path (absolute in memory;
   * relative to the trace file's folder on disk) and the SHA-256 of its content when the trace was
   * made, so that replay can tell a changed model from a changed protocol.
   */
  readonly modelFile?: { readonly path: string; readonly sha256: string };
}
