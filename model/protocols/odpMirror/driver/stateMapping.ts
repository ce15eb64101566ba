/**
 * The abstraction function from the simulated odp-mirror system (driver/system.ts) to an
 * odp-mirror model state. Why this module exists: "the reference driver does what the model says"
 * is checked by mapping every system state to a model state; this is the one place that says which
 * hardware or driver field stands for which model variable:
 *
 *   mmSeq, active   the notifier core's seq and active count     ivSeq  the interval's seq
 *   fh.s            the sequence the handler's read_begin returned (0: none)
 *   invsLeft        invalidations the harness may still start    pte, dirty  the mm's PTEs and dirty flags
 *   inv[i]          thread i's invalidation: its next step (callback, drain, pte, end), event, page
 *   ulock           the holder of the driver lock U               shadow  the driver's DMA-mapped pfn list
 *   dev, tlb        the device table and TLB                      acc     the device's access slots
 *   fh              the fault work: its next step, slot, retries; snap its hmm_pfns (the walk
 *                   position is the first page without a snapshot)
 *
 * Sequences: with `seq=canonical` the model keeps the canonical triple of spec 4.3, which is a
 * function of four facts of the raw values (mm odd, interval == mm, a snapshot held, snapshot ==
 * interval); the raw kernel values of the harness are mapped to it here.
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { type DevEntry, labelOf, ruleName } from 'mirrorcheck/harness';
import { odpMirror } from '../odpMirror.js';
import { ODP_KNOBS, isOdpKnob } from './knobs.js';
import type { OdpSystem, OdpSystemConfig } from './system.js';

/**
 * The system configuration of a built odp-mirror model: its params size the system, `knob` (default:
 * the model's variant) is the driver's bug knob. Throws McError (MC030) for a model of another
 * protocol or a knob the driver does not have.
 */
export function systemConfigFor(model: Model, knob: string | null = model.variant): OdpSystemConfig {
  if (model.protocol !== odpMirror.name)
    throw new McError('MC030', `the ${odpMirror.name} reference driver runs ${odpMirror.name} models only, not ${model.protocol}`);
  if (knob !== null && !isOdpKnob(knob))
    throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${odpMirror.name} (knobs: ${ODP_KNOBS.join(', ')})`);
  const p = model.params;
  return {
    pages: p.pages as number,
    frames: p.frames as number,
    invalidators: p.invalidators as number,
    invalidations: p.invalidations as number,
    slots: p.slots as number,
    atomics: (p.atomics as number) > 0,
    retries: p.retries as number,
    knob,
  };
}

/** The model's handler stage for each of its step rules. */
const FH_PC: Readonly<Record<string, string>> = {
  DriverLockEarly: 'lockEarly',
  DriverReadBegin: 'begin',
  DriverReadBeginWake: 'sleep',
  DriverExclusiveStart: 'exclStart',
  DriverExclusiveInvalidate: 'exclCallback',
  DriverExclusiveEnd: 'exclEnd',
  DriverCheckRetry: 'check',
  DriverWalkSnapshot: 'walk',
  DriverWalkFaultIn: 'walk',
  DriverWalkUpgrade: 'walk',
  DriverLock: 'lock',
  DriverReadRetry: 'retry',
};

/** The model's invalidator stage for each step an invalidating thread waits at. */
const INV_PC: Readonly<Record<string, string>> = {
  DriverInvalidateBegin: 'callback',
  DriverInvalidateFinish: 'drain',
  MmUpdatePte: 'pte',
  MmInvalidateEnd: 'end',
};

const entry = (e: DevEntry | null | undefined): Value => ({ frame: e ? e.frame : null, write: e ? e.write : false });

/** The canonical (spec 4.3) or raw sequence triple (mm, interval, snapshot; snapshot null = none). */
export function seqTriple(canonical: boolean, mm: number, iv: number, s: number | null): [number, number, number] {
  if (!canonical) return [mm, iv, s ?? 0];
  const ivC = iv === mm ? 3 : 1;
  const sC = s === null ? 0 : s === iv ? ivC : ivC - 2;
  return [mm % 2 === 1 ? 3 : 2, ivC, sC];
}

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(model: Model, sys: OdpSystem): Record<string, Value> | string {
  const { notifier, mm, device, driver, config } = sys;
  const sub = driver.interval;
  const work = driver.fault;
  const [mmSeq, ivSeq, s] = seqTriple(model.params.seq !== 'kernel', notifier.core.seq, sub.invalidateSeq, work ? work.range.notifierSeq : null);
  const pages = Array.from({ length: config.pages }, (_, p) => p);
  let fhPc = 'idle';
  if (work) {
    const pending = sys.faultTask?.pending;
    if (!pending) return 'the driver serves a fault but its work item has no next step';
    const rule = ruleName(labelOf(pending));
    const pc = FH_PC[rule] ?? (rule.startsWith('DriverWalk') ? 'walk' : undefined);
    if (!pc) return `the fault handler waits at ${rule}, which has no model stage`;
    fhPc = pc;
  }
  const inv: Value[] = [];
  for (const t of sys.invs) {
    if (!t) {
      inv.push({ pc: 'idle', event: 'clear', page: 0, blockable: false });
      continue;
    }
    const rule = t.pending ? ruleName(labelOf(t.pending)) : '';
    const pc = INV_PC[rule];
    if (!pc) return `an invalidating thread waits at ${rule || 'nothing'}, which has no model stage`;
    const elsewhere = t.kind === 'elsewhere';
    inv.push({
      pc,
      // After its PTE change the model shows every invalidation as a clear (odpMirror.ts MmUpdatePte).
      event: elsewhere ? 'elsewhere' : pc === 'end' ? 'clear' : t.kind,
      page: elsewhere ? 0 : t.page,
      blockable: pc === 'callback' && t.blockable,
    });
  }
  return {
    mmSeq,
    active: notifier.core.active,
    ivSeq,
    invsLeft: sys.invsLeft,
    pte: pages.map((p) => ({ frame: mm.pte(p).pfn, write: mm.pte(p).write })),
    dirty: [...mm.dirty],
    inv,
    ulock: driver.umem.holder ?? 'free',
    shadow: pages.map((p) => entry(driver.shadow[p])),
    dev: pages.map((p) => entry(device.table[p])),
    tlb: pages.map((p) => entry(device.tlb[p])),
    acc: device.slots.map((a) =>
      a === null
        ? { state: 'idle', op: 'read', page: 0, frame: 0 }
        : { state: a.state, op: a.op, page: a.page, frame: a.state === 'inflight' ? (a.frame ?? 0) : 0 },
    ),
    fh: work ? { pc: fhPc, slot: work.slot, s, tries: work.tries } : { pc: 'idle', slot: 0, s: 0, tries: 0 },
    snap: pages.map((p) => entry(work?.range.pfns[p])),
  };
}

/** The model state of a system, or a description of why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: OdpSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  return typeof v === 'string' ? v : encodeState(model.layout, v);
}
