/**
 * The abstraction function from the simulated odp-mirror system (driver/system.ts) to an
 * odp-mirror model state. Why this module exists: "the reference driver does what the model says"
 * is checked by mapping every system state to a model state; this is the one place that says which
 * hardware, kernel or driver field stands for which model variable. It reads only what the system
 * really holds:
 *
 *   mmSeq, active   the notifier core's seq and active count     ivSeq[j]  interval j's seq
 *   invsLeft        invalidations the harness may still start    mmLive    the mm is alive
 *   pte, dirty      the mm's PTEs and page dirty flags
 *   inv[i]          thread i's invalidation: where its thread is (the step it waits at), event, pages,
 *                   the interval whose callback is running (the notifier core's cursor), blockable
 *   ulock           the holder of the driver lock U               shadow  the driver's DMA-mapped pfn list
 *   dev, tlb, umr   the device table, TLB and UMR queue           acc     the device's access slots
 *   fh[h], snap[h]  work item h: where its thread is, the slot it serves, its interval (its walk position is
 *                   the first page without a pfn), the sequence its read_begin read, retries; its hmm_pfns
 *
 * A thread's stage is read from the step it waits at (its program counter): a wait the model does
 * not see (for a UMR completion) carries the label of the step it leads to, so both positions show
 * the same stage.
 *
 * Sequences: with `seq=canonical` the model keeps the canonical form of spec 4.3, a function of a
 * few facts of the raw values (mm odd, each interval == mm, each snapshot held and == its
 * interval's); the raw kernel values of the harness are mapped to it here.
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { type DevEntry, labelOf, ruleName } from 'mirrorcheck/harness';
import { odpMirror } from '../odpMirror.js';
import { ODP_KNOBS, isOdpKnob } from './knobs.js';
import type { DriverWork } from './mirrorDriver.js';
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
  // The driver registers its interval before the run and never removes it, on the interval notifier.
  if ((p.lifecycle ?? 0) !== 0 || (p.notifier ?? 'interval') !== 'interval')
    throw new McError(
      'MC030',
      `the ${odpMirror.name} reference driver registers its interval before the run and uses the interval notifier: it runs lifecycle=0 notifier=interval models only`,
    );
  return {
    pages: p.pages as number,
    frames: p.frames as number,
    invalidators: p.invalidators as number,
    invalidations: p.invalidations as number,
    slots: p.slots as number,
    atomics: (p.atomics as number) > 0,
    retries: p.retries as number,
    span: p.span as number,
    intervals: p.intervals as number,
    prefetch: (p.prefetch as number) > 0,
    release: (p.release as number) > 0,
    protect: p.protect as 'zap' | 'downgrade',
    nonblock: p.nonblock as 'trylock' | 'eagain',
    knob,
  };
}

/** The model's work-item stage for each step a work item's thread can wait at. */
const FH_PC: Readonly<Record<string, string>> = {
  DriverLockEarly: 'lockEarly',
  DriverReadBegin: 'begin',
  DriverReadBeginWake: 'sleep',
  DriverExclusiveStart: 'exclStart',
  DriverExclusiveInvalidate: 'exclCallback',
  DriverExclusiveZap: 'exclZap',
  DriverExclusiveUnmap: 'exclWait',
  DriverExclusiveUnlock: 'exclUnlock',
  DriverExclusiveEnd: 'exclEnd',
  DriverCheckRetry: 'check',
  DriverWalkSnapshot: 'walk',
  DriverWalkFaultIn: 'walk',
  DriverWalkUpgrade: 'walk',
  DriverLock: 'lock',
  DriverReadRetry: 'retry',
  DriverDmaMap: 'map',
  DriverUmrPost: 'post',
};

/** The model's invalidator stage for each step an invalidating thread can wait at. */
const INV_PC: Readonly<Record<string, string>> = {
  DriverInvalidateLock: 'lock',
  DriverInvalidateZap: 'zap',
  DriverInvalidateUnmap: 'wait',
  DriverInvalidateUnlock: 'unlock',
  MmUpdatePte: 'pte',
  MmInvalidateEnd: 'end',
};

const entry = (e: DevEntry | null | undefined): Value => ({ frame: e ? e.frame : null, write: e ? e.write : false });

/** The canonical (spec 4.3) or raw value of a sequence: the mm's, an interval's, or a snapshot against its interval's. */
export function canonicalMm(canonical: boolean, mm: number): number {
  return canonical ? (mm % 2 === 1 ? 3 : 2) : mm;
}
export function canonicalInterval(canonical: boolean, mm: number, iv: number): number {
  return canonical ? (iv === mm ? 3 : 1) : iv;
}
export function canonicalSnapshot(canonical: boolean, mm: number, iv: number, s: number | null): number {
  if (s === null) return 0;
  if (!canonical) return s;
  const ivC = canonicalInterval(true, mm, iv);
  return s === iv ? ivC : ivC - 2;
}

/** The canonical (spec 4.3) or raw sequence triple (mm, interval, snapshot; snapshot null = none). */
export function seqTriple(canonical: boolean, mm: number, iv: number, s: number | null): [number, number, number] {
  return [canonicalMm(canonical, mm), canonicalInterval(canonical, mm, iv), canonicalSnapshot(canonical, mm, iv, s)];
}

/** The stage of work item `w`, from the step its thread waits at; or why it has none. */
function workStage(sys: OdpSystem, h: number, w: DriverWork): string {
  const pending = sys.tasks[h]?.pending;
  if (!pending) return 'the driver has a work item but its thread has no next step';
  const rule = ruleName(labelOf(pending));
  if (rule === 'DriverMmget') return sys.config.release ? 'mmget' : sys.config.knob === 'lock-across-read-begin' ? 'lockEarly' : 'begin';
  if (rule === 'DriverUnlock') return w.collided ? 'unlock' : 'wait';
  if (rule === 'DriverResume') return w.failed ? 'fail' : 'resume';
  const pc = FH_PC[rule];
  return pc ?? `the ${h === 0 ? 'fault handler' : 'prefetch work'} waits at ${rule}, which has no model stage`;
}

const STAGES = new Set([
  'mmget',
  'lockEarly',
  'begin',
  'sleep',
  'exclStart',
  'exclCallback',
  'exclZap',
  'exclWait',
  'exclUnlock',
  'exclEnd',
  'check',
  'walk',
  'lock',
  'retry',
  'unlock',
  'map',
  'post',
  'wait',
  'resume',
  'fail',
]);

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(model: Model, sys: OdpSystem): Record<string, Value> | string {
  const { notifier, mm, device, driver, config } = sys;
  const canonical = model.params.seq !== 'kernel';
  const mmRaw = notifier.core.seq;
  const subs = driver.intervals;
  const pages = Array.from({ length: config.pages }, (_, p) => p);
  const fh: Value[] = [];
  const snap: Value[] = [];
  const handlers = config.prefetch ? 2 : 1;
  for (let h = 0; h < handlers; h++) {
    const w = driver.work[h] ?? null;
    if (!w) {
      fh.push({ pc: 'idle', slot: 0, iv: 0, s: 0, tries: 0 });
      snap.push(pages.map(() => entry(null)));
      continue;
    }
    const pc = workStage(sys, h, w);
    if (!STAGES.has(pc)) return pc;
    const late = w.committed || pc === 'fail';
    const sub = subs[w.iv];
    if (!sub) return `work item ${h} maps interval ${w.iv}, which the driver did not register`;
    fh.push({
      pc,
      slot: w.slot ?? 0,
      iv: w.iv,
      s: late ? 0 : canonicalSnapshot(canonical, mmRaw, sub.invalidateSeq, w.seq),
      tries: late ? 0 : w.tries,
    });
    snap.push(pages.map((p) => entry(w.range.pfns[p])));
  }
  const inv: Value[] = [];
  for (let i = 0; i < sys.invs.length; i++) {
    const t = sys.invs[i];
    if (!t) {
      inv.push({ pc: 'idle', event: 'clear', lo: 0, hi: 0, iv: 0, blockable: false });
      continue;
    }
    const rule = t.pending ? ruleName(labelOf(t.pending)) : '';
    let pc = INV_PC[rule];
    if (!pc) return `an invalidating thread waits at ${rule || 'nothing'}, which has no model stage`;
    if (pc === 'unlock' && driver.callbacks.get(i)?.giveUp) pc = 'eagain';
    const inCallback = pc !== 'pte' && pc !== 'end';
    const calling = inCallback ? (sys.regionOf(i)?.calling ?? null) : null;
    const iv = calling ? subs.indexOf(calling) : 0;
    if (iv < 0) return `invalidator ${i} runs the callback of an interval the driver did not register`;
    const elsewhere = t.kind === 'elsewhere';
    inv.push({
      pc,
      event: t.kind,
      lo: elsewhere ? 0 : t.lo,
      hi: elsewhere ? 0 : t.hi,
      iv,
      blockable: inCallback && t.blockable,
    });
  }
  const umr = device.umr;
  return {
    mmSeq: canonicalMm(canonical, mmRaw),
    active: notifier.core.active,
    ivSeq: subs.map((s) => canonicalInterval(canonical, mmRaw, s.invalidateSeq)),
    invsLeft: sys.invsLeft,
    ...(config.release ? { mmLive: mm.live } : {}),
    pte: pages.map((p) => ({ frame: mm.pte(p).pfn, write: mm.pte(p).write })),
    dirty: [...mm.dirty],
    inv,
    ulock: driver.umem.holder ?? 'free',
    shadow: pages.map((p) => entry(driver.dma.entry(p))),
    dev: pages.map((p) => entry(device.table[p])),
    tlb: pages.map((p) => entry(device.tlb[p])),
    umr: umr
      ? { busy: true, kind: umr.wqe.kind, pages: pages.map((p) => umr.wqe.lo <= p && p <= umr.wqe.hi) }
      : { busy: false, kind: 'update', pages: pages.map(() => false) },
    acc: device.slots.map((a) =>
      a === null
        ? { state: 'idle', op: 'read', page: 0, frame: 0 }
        : { state: a.state, op: a.op, page: a.page, frame: a.state === 'inflight' ? (a.frame ?? 0) : 0 },
    ),
    fh,
    snap,
  };
}

/** The model state of a system, or a description of why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: OdpSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  return typeof v === 'string' ? v : encodeState(model.layout, v);
}
