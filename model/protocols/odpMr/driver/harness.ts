/**
 * The odp-mr harness binding: how mirrorcheck runs this package's reference driver (an mlx5-like
 * driver, driver/mlx5Odp.ts, on the simulated HCA of driver/odpHca.ts), explicit or implicit MR. Why this
 * module exists: the generic conformance check and replay on the harness and `mirrorcheck replay --on
 * harness` know a protocol's driver only through this value, the package's `harness` field.
 */
import { type Model, type Value, decodeState } from 'mirrorcheck';
import type { DamageGuide, HarnessBinding } from 'mirrorcheck/harness';
import { modelStateOf, modelValueOf, systemConfigFor } from './stateMapping.js';
import { MR_KNOBS, MrSystem } from './system.js';

type Rec = Record<string, Value>;

/**
 * Where damage is expected: an access completing into a frame its page no longer maps, an access
 * failing while the MR is registered, a resumed access faulting while the KSM differs from
 * implicit_children, the UMR QP going to error, a worker step on an MR being destroyed, a DMA unmap
 * of a frame already freed.
 */
function damageGuide(model: Model): DamageGuide {
  const complete = new Set(model.instances.filter((i) => i.rule.name === 'DevCompleteAccess').map((i) => i.id));
  const workerSteps = new Set(model.instances.filter((i) => ['DriverReadBegin', 'DriverCommit'].includes(i.rule.name)).map((i) => i.id));
  const unmaps = new Set(
    model.instances.filter((i) => ['DriverReleaseUmem', 'DriverInvalidateFinish', 'DriverInvalidateBegin'].includes(i.rule.name)).map((i) => i.id),
  );
  const retry = new Set(model.instances.filter((i) => i.rule.name === 'DevRetryAccess').map((i) => i.id));
  const findable = (x: Record<string, Value>) => x.dereg === 'idle' || x.dereg === 'check' || x.dereg === 'erase';
  return (s, inst, t) => {
    const a = decodeState(model.layout, s);
    const b = decodeState(model.layout, t);
    if (b.umrErr && !a.umrErr) return true;
    const accB = (b.acc as Rec[])[0] as Rec;
    if (accB.state === 'failed' && ((a.acc as Rec[])[0] as Rec).state !== 'failed' && findable(b)) return true;
    if (retry.has(inst) && accB.state === 'faulted' && b.ksm) {
      const k = (b.ksm as (number | null)[]).findIndex((x, c) => x !== (b.xa as (number | null)[])[c] && (b.xa as (number | null)[])[c] !== null);
      if (k >= 0) return true;
    }
    const pte = a.pte as (number | null)[];
    if (complete.has(inst)) {
      const acc = (a.acc as Rec[])[0] as Rec;
      return acc.state === 'inflight' && pte[acc.page as number] !== acc.frame;
    }
    const mr = (a.mr as Rec[])[0] as Rec;
    if (workerSteps.has(inst)) return mr.td !== 'none' || mr.used === false;
    if (unmaps.has(inst)) {
      const before = ((a.shadow as (number | null)[][])[0] ?? []).map((f, p) => (f !== null && pte[p] !== f ? 1 : 0));
      const after = ((b.shadow as (number | null)[][])[0] ?? []).map((f, p) => (f !== null && pte[p] !== f ? 1 : 0));
      return before.some((x, p) => x === 1 && after[p] === 0);
    }
    return false;
  };
}

export const odpMrHarness: HarnessBinding<MrSystem> = {
  knobs: MR_KNOBS,
  system: (model, opts = {}) => new MrSystem(systemConfigFor(model, opts.knob === undefined ? model.variant : opts.knob)),
  stateOf: modelStateOf,
  valuesOf: modelValueOf,
  damageGuide,
  continuation: { maxAdded: 10, maxSeen: 200_000, deadlocks: true },
  outstanding: (sys) => sys.outstanding(),
  words: {
    intact: ', every DMA landed in a frame its page maps, no access failed or faulted forever, no UMR failed, nothing ran on a destroyed MR, nothing hung',
    before: 'the damage',
    shown: 'it',
  },
};
