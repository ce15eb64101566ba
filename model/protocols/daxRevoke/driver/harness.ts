/**
 * The dax-revoke harness binding: how mirrorcheck runs this package's reference driver (the RDMA
 * driver's ODP and pinned MRs, driver/rdmaDriver.ts, on the simulated fs-dax / P2PDMA kernel of
 * driver/system.ts). Why this module exists: the generic conformance check and replay on the harness
 * and `mirrorcheck replay --on harness` know a protocol's driver only through this value.
 */
import { type Model, type Value, decodeState } from 'mirrorcheck';
import type { DamageGuide, HarnessBinding } from 'mirrorcheck/harness';
import { modelStateOf, modelValueOf, systemConfigFor } from './stateMapping.js';
import { DAX_KNOBS, DaxSystem } from './system.js';

type Rec = Record<string, Value>;

/** Where damage is expected: a DMA completing into a block that no longer backs its page; the revoker starting to wait for a block a long-term pin holds. */
function damageGuide(model: Model): DamageGuide {
  const done = new Map<number, string>();
  for (const i of model.instances) {
    if (i.rule.name === 'DevOdpDmaDone') done.set(i.id, 'odpDma');
    if (i.rule.name === 'DevGupDmaDoneUnpin') done.set(i.id, 'gup');
    if (i.rule.name === 'DevPinnedDmaDone') done.set(i.id, 'pinDma');
  }
  const live = model.params.memory === 'fsdax' ? 'file' : 'present';
  return (s, inst, t) => {
    const b = decodeState(model.layout, t);
    if (b.revoke === 'wait') {
      const pinned = (b.pinMap as (number | null)[]).filter((x) => x !== null);
      const waited = b.target === undefined ? (b.mem as string[]).map((_, i) => i) : [(b.fileMap as (number | null)[])[b.target as number]];
      if (waited.some((x) => pinned.includes(x as number))) return true;
    }
    const v = done.get(inst);
    if (!v) return false;
    const a = decodeState(model.layout, s);
    const d = a[v] as Rec;
    return (a.mem as string[])[d.block as number] !== live || (a.fileMap as (number | null)[])[d.page as number] !== d.block;
  };
}

export const daxRevokeHarness: HarnessBinding<DaxSystem> = {
  knobs: DAX_KNOBS,
  system: (model, opts = {}) => new DaxSystem(systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob)),
  stateOf: modelStateOf,
  valuesOf: modelValueOf,
  damageGuide,
  continuation: { maxAdded: 8, maxSeen: 200_000, deadlocks: true },
  outstanding: (sys) => sys.outstanding(),
  words: {
    intact: ', every DMA landed in memory that still backs its page, the revoker finished',
    before: 'the damage',
    shown: 'it',
  },
};
