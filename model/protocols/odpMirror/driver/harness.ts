/**
 * The odp-mirror harness binding: how mirrorcheck runs this package's reference driver (the ODP/HMM
 * mirror driver, driver/mirrorDriver.ts) on the simulated hardware. Why this module exists: the
 * generic conformance check and replay on the harness (mirrorcheck/conformance) and `mirrorcheck
 * replay --on harness` know a protocol's driver only through this value, the package's `harness`
 * field.
 */
import type { HarnessBinding } from 'mirrorcheck/harness';
import { damageGuide } from './damageGuide.js';
import { ODP_KNOBS } from './knobs.js';
import { modelStateOf, modelValueOf, systemConfigFor } from './stateMapping.js';
import { OdpSystem } from './system.js';

export const odpMirrorHarness: HarnessBinding<OdpSystem> = {
  knobs: ODP_KNOBS,
  system: (model, opts = {}) => new OdpSystem(systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob)),
  stateOf: modelStateOf,
  // The system does not describe its hardware changes; a replay shows the model variables that changed.
  valuesOf: modelValueOf,
  damageGuide,
  // Progress bugs end in a hang (a deadlock of the model), which the system reports when nothing can move.
  continuation: { maxAdded: 16, maxSeen: 400_000, deadlocks: true },
  words: {
    intact: ', every access used a frame its page maps, no device write was lost at writeback, every fault completed, nothing hung',
    before: 'the damage',
    shown: 'it',
  },
};
