/**
 * Bug knobs of the odp-mirror reference driver. Why this module exists: each variant knob is named
 * exactly as the odp-mirror model variant it reproduces (model/protocols/odpMirror/odpMirror.ts), so
 * a model counterexample of variant V can be replayed on the driver built with knob V, and the
 * conformance test can check the knobbed driver against the variant model. The wrong-driver knobs
 * have no model variant: they move one kernel call of the correct driver across another, the way a
 * driver author gets the order wrong, and the conformance check against the correct model must
 * catch each of them (a step the model does not allow, a property broken on the mapped states, or
 * damage on the simulated hardware).
 *
 * Where a knob acts (spec/odp-mirror.md section 6):
 * - in the driver's fault handler: `valid-flag`, `seq-per-chunk`, `retry-stale-seq`,
 *   `lock-across-read-begin`, `no-read-retry`, `no-secondary-tlb-flush`, and the wrong-driver knobs;
 * - in the driver's invalidate callback: `missed-unlock-nonblocking`, `no-owner-filter`,
 *   `no-set-seq`, `zap-without-drain`, `no-set-page-dirty`, `sleep-when-nonblockable` (and
 *   `valid-flag`, which has no set_seq);
 * - in the simulated kernel's notifier core (harness/mmuNotifier.ts): `end-skipped-after-eagain`
 *   (B3 was a core bug, not a driver bug).
 */
import { ODP_VARIANTS, type OdpVariant } from '../odpMirror.js';

/**
 * Knobs with no model variant: the driver drops the lock before it programs the device (its UMR is
 * posted and completes with no lock held); resumes the faulting access before the UMR that maps it
 * has completed; calls read_retry before it takes the lock, so an invalidation can slip in between
 * the check and the device update.
 */
export const WRONG_DRIVER_KNOBS = ['unlock-before-device-write', 'resume-before-umr-complete', 'retry-before-lock'] as const;
export type WrongDriverKnob = (typeof WRONG_DRIVER_KNOBS)[number];

/**
 * The model variants the driver has a knob for: all but those on the interval's insert and remove
 * (lifecycle=1), which the driver on the harness does not model (it registers its interval before
 * the run and never removes it; spec/odp-mirror.md section 6).
 */
export type DriverVariant = Exclude<OdpVariant, 'remove-unlocked-seq'>;
export const DRIVER_VARIANTS: readonly DriverVariant[] = ODP_VARIANTS.filter((v): v is DriverVariant => v !== 'remove-unlocked-seq');

/** A bug knob of the odp-mirror reference driver: a model variant, or a wrong-driver knob. */
export type OdpKnob = DriverVariant | WrongDriverKnob;

/** Every knob: the model's variants in their order, then the wrong-driver knobs. */
export const ODP_KNOBS: readonly OdpKnob[] = [...DRIVER_VARIANTS, ...WRONG_DRIVER_KNOBS];

/** Whether `name` is an odp-mirror knob. */
export function isOdpKnob(name: string | null): name is OdpKnob {
  return name !== null && (ODP_KNOBS as readonly string[]).includes(name);
}
