/**
 * The device-exclusive harness binding: how mirrorcheck runs this package's reference driver (a
 * nouveau-like SVM driver, driver/nouveauSvm.ts, on the simulated kernel of driver/exclusiveMm.ts).
 * Why this module exists: the generic conformance check and replay on the harness and `mirrorcheck
 * replay --on harness` know a protocol's driver only through this value, the package's `harness` field.
 */
import { type Model, type Value, decodeState } from 'mirrorcheck';
import type { DamageGuide, HarnessBinding } from 'mirrorcheck/harness';
import { modelStateOf, modelValueOf, systemConfigFor } from './stateMapping.js';
import { DX_KNOBS, DxSystem } from './system.js';

type Rec = Record<string, Value>;

/**
 * Where damage is expected: a state in which the device holds an atomic mapping that no exclusive
 * entry for the same frame backs, or a CPU fault holds (or is about to lock) a freed page.
 */
function damageGuide(model: Model): DamageGuide {
  return (_s, _inst, t) => {
    const a = decodeState(model.layout, t);
    const pte = a.pte as Rec[];
    const page = a.page as Rec[];
    const bad = (a.dev as (number | null)[]).some((f, p) => f !== null && (page[f]?.ref === 0 || !pte[p]?.excl || pte[p]?.frame !== f));
    return bad || (a.cpu as Rec[]).some((c) => c.pc !== 'idle' && page[c.frame as number]?.ref === 0);
  };
}

export const deviceExclusiveHarness: HarnessBinding<DxSystem> = {
  knobs: DX_KNOBS,
  system: (model, opts = {}) => new DxSystem(systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob)),
  stateOf: modelStateOf,
  valuesOf: modelValueOf,
  damageGuide,
  continuation: { maxAdded: 8, maxSeen: 200_000, deadlocks: true },
  outstanding: (sys) => sys.outstanding(),
  words: {
    intact: ', the device held an atomic mapping only of a page the CPU page table left device-exclusive, no fault used a freed page, nothing hung',
    before: 'the damage',
    shown: 'it',
  },
};
