/**
 * Options of the reference driver: the migration mode and the bug knobs. Why this module exists:
 * each bug variant of the fence-migrate model (spec/fence-migrate.md section 6) must also exist as a
 * switch on the executable driver, with the same name, so a model counterexample can be replayed
 * on the driver that has the same bug and the damage shown in memory.
 */

/** The seven safety variants of fence-migrate, as driver knobs (same names as the model's variants). */
export const SAFETY_KNOBS = [
  'unblock-before-update',
  'fence-without-drain',
  'unblock-before-copy',
  'free-before-fence',
  'no-invalidate',
  'update-without-retry',
  'update-after-failure',
] as const;

/** The liveness variants: the driver gets stuck (DMA never unblocked, a fault retried forever). */
export const LIVENESS_KNOBS = ['never-unblock', 'stale-seq-retry'] as const;

/** Every knob. */
export const DRIVER_KNOBS = [...SAFETY_KNOBS, ...LIVENESS_KNOBS] as const;

export type DriverKnob = (typeof DRIVER_KNOBS)[number];

/** How the driver keeps the HCA away from a migrating page. */
export type MigrationMode = 'fence' | 'zap-and-fault';

export interface DriverOptions {
  /** `fence`: fence and block DMA, update the MTT, unblock. `zap-and-fault`: zap and let DMA re-fault. */
  readonly mode: MigrationMode;
  /** A deliberate bug (null: the correct driver). */
  readonly knob: DriverKnob | null;
  /**
   * How the fault handler's steps are named (the code is the same): `atomic` names only a commit that
   * installs a translation (`DriverFaultMirror`, the model's fault=atomic rule) and makes the other
   * steps internal; `retry` names each step of the loop as the model's fault=retry rules
   * (`DriverFaultBegin`, `DriverFaultWalk`, `DriverFaultCommit`). Default `atomic`.
   */
  readonly faultSteps?: 'atomic' | 'retry';
}

/** Whether `name` is a driver knob. */
export function isDriverKnob(name: string | null): name is DriverKnob {
  return name !== null && (DRIVER_KNOBS as readonly string[]).includes(name);
}
