/**
 * The fence-migrate harness binding: how mirrorcheck runs this package's reference driver (the HCA
 * mirror driver and the migration sequence, driver/) on the simulated hardware. Why this module
 * exists: the generic conformance check and replay on the harness (mirrorcheck/conformance) and
 * `mirrorcheck replay --on harness` know a protocol's driver only through this value, the package's
 * `harness` field.
 */
import type { HarnessBinding } from 'mirrorcheck/harness';
import { damageGuide } from './damageGuide.js';
import { DRIVER_KNOBS } from './driverOptions.js';
import { modelStateOf, systemConfigFor } from './stateMapping.js';
import { MirrorSystem } from './system.js';

export const fenceMigrateHarness: HarnessBinding<MirrorSystem> = {
  knobs: DRIVER_KNOBS,
  system: (model, opts = {}) =>
    new MirrorSystem({ ...systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob), describeSteps: opts.describe ?? true }),
  stateOf: modelStateOf,
  setting: (model) => `mode ${model.params.mode}`,
  damageGuide,
  // The guide flags the step that damages memory; a hang shows in a lasso's outstanding DMA instead.
  continuation: { maxAdded: 10, maxSeen: 200_000, deadlocks: false },
  // DMA operations outstanding on the HCA, by id.
  outstanding: (sys) => new Set(sys.hca.slots.flatMap((op) => (op ? [op.id] : []))),
  words: { intact: ' and memory is intact', before: 'memory is damaged', shown: 'the damage' },
};
