/**
 * What every simulated system is, whatever protocol its reference driver implements. Why this module
 * exists: the conformance check and the replay of model traces on the harness (conformance/) drive a
 * system only through this interface, so they serve every protocol package alike; a package's system
 * (its hardware, its reference driver, its application and its damage monitor) implements it.
 */
import type { Action } from './scheduler.js';

/** Concrete damage the system's monitor saw, in plain words. */
export interface Damage {
  /** What kind of damage (a package names its own kinds: `freed-frame-access`, `hung`, ...). */
  readonly kind: string;
  /** The step (1-based, counting every executed action) at which it was seen. */
  readonly step: number;
  readonly message: string;
}

/** One executed step: its label, who took it, what changed (in words) and the damage it caused. */
export interface StepRecord {
  readonly label: string;
  readonly actor: Action['actor'];
  readonly internal: boolean;
  /** What the step changed in the hardware, in words (empty when the system does not describe steps). */
  readonly changes: readonly string[];
  /** The damage seen during this step. */
  readonly damage: readonly Damage[];
}

/** A simulated system: hardware, a reference driver on it, and the monitor that reports damage. */
export interface SimSystem {
  /** Every action that can run now, in a fixed order. */
  enabled(): Action[];
  /** Performs one action (one of `enabled()`) and returns its record. */
  perform(a: Action): StepRecord;
  /**
   * Records as damage the work that can never complete: with no argument, because nothing can run
   * now; with `only` (ids of outstanding work, see `HarnessBinding.outstanding`), that work, for the
   * reason `because`. Returns the damage reported.
   */
  reportHung(only?: ReadonlySet<number>, because?: string): readonly Damage[];
  /** Every damage seen so far, in order. */
  readonly damage: readonly Damage[];
}
