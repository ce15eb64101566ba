/**
 * Bug knobs of the odp-mirror reference driver. Why this module exists: each knob is named exactly
 * as the odp-mirror model variant it reproduces (model/protocols/odpMirror/odpMirror.ts), so a model
 * counterexample of variant V can be replayed on the driver built with knob V, and the conformance
 * test can check the knobbed driver against the variant model.
 *
 * Where a knob acts (spec/odp-mirror.md section 6):
 * - in the driver's fault handler: `valid-flag`, `seq-per-chunk`, `retry-stale-seq`,
 *   `lock-across-read-begin`, `no-read-retry`, `no-secondary-tlb-flush`;
 * - in the driver's invalidate callback: `missed-unlock-nonblocking`, `no-owner-filter`,
 *   `no-set-seq`, `zap-without-drain` (and `valid-flag`, which has no set_seq);
 * - in the simulated kernel's notifier core (harness/mmuNotifier.ts): `end-skipped-after-eagain`
 *   (B3 was a core bug, not a driver bug).
 */
import { ODP_VARIANTS, type OdpVariant } from '../odpMirror.js';

/** A bug knob of the odp-mirror reference driver (one per model variant). */
export type OdpKnob = OdpVariant;

/** Every knob, in the model's variant order. */
export const ODP_KNOBS: readonly OdpKnob[] = ODP_VARIANTS;

/** Whether `name` is an odp-mirror knob. */
export function isOdpKnob(name: string | null): name is OdpKnob {
  return name !== null && (ODP_VARIANTS as readonly string[]).includes(name);
}
