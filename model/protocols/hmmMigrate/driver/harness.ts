/**
 * The hmm-migrate harness binding: how mirrorcheck runs this package's reference driver (a
 * dmirror-like driver, driver/dmirror.ts, on the simulated kernel of driver/anonMm.ts) on the
 * simulated hardware. Why this module exists: the generic conformance check and replay on the harness
 * (mirrorcheck/conformance) and `mirrorcheck replay --on harness` know a protocol's driver only through
 * this value, the package's `harness` field.
 */
import type { HarnessBinding } from 'mirrorcheck/harness';
import { damageGuide } from './damageGuide.js';
import { modelStateOf, modelValueOf, systemConfigFor } from './stateMapping.js';
import { HM_KNOBS, HmSystem } from './system.js';

export const hmmMigrateHarness: HarnessBinding<HmSystem> = {
  knobs: HM_KNOBS,
  system: (model, opts = {}) => new HmSystem(systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob)),
  stateOf: modelStateOf,
  // The system does not describe its hardware changes; a replay shows the model variables that changed.
  valuesOf: modelValueOf,
  damageGuide,
  continuation: { maxAdded: 8, maxSeen: 200_000, deadlocks: true },
  outstanding: (sys) => sys.outstanding(),
  words: {
    intact: ', every access used a page the process still maps, every read saw the last write, nothing hung',
    before: 'the damage',
    shown: 'it',
  },
};
