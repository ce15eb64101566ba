/**
 * The abstraction function from the simulated odp-mr system (driver/system.ts) to a model state.
 * Why this module exists: it is the one place that says which kernel, driver or HCA field
 * stands for which model variable:
 *
 *   pte, active, mmOdd   the PTEs, the notifier core's open regions and odd sequence
 *   mr[0]        the MR object: allocated, the HCA's mkey, private, in the interval tree, ivCur
 *                ("the interval's sequence equals the mm's": read_begin sleeps), umem_mutex, teardown
 *   shadow, mtt  the driver's DMA-mapped pfn list and the HCA's MTT
 *   wk[w]        the fault (0) and prefetch (1) workers; stale is "set_seq ran since read_begin"
 *   inv[i]       invalidator i: the step it waits at (callback, ZAP wait, unmap, PTE, end), its page
 *   acc, umrErr  the HCA's access slot and its UMR QP error      dereg  ibv_dereg_mr's progress
 *   xa, ksm, pMkey, pLock, fw   (implicit) implicit_children, the HCA's KSM and parent mkey, the
 *                parent's umem_mutex, each child's free work
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { ruleName, labelOf } from 'mirrorcheck/harness';
import { odpMr } from '../odpMr.js';
import type { MrKnob } from './mlx5Odp.js';
import { MR_KNOBS, type MrSystem, type MrSystemConfig } from './system.js';

const isKnob = (k: string): k is MrKnob => (MR_KNOBS as readonly string[]).includes(k);

/**
 * The system configuration of a built odp-mr model. Throws McError (MC030) for another protocol or
 * a knob the driver does not have.
 */
export function systemConfigFor(model: Model, knob: string | null = model.variant): MrSystemConfig {
  const name = odpMr.name;
  if (model.protocol !== name) throw new McError('MC030', `the ${name} reference driver runs ${name} models only, not ${model.protocol}`);
  if (knob !== null && !isKnob(knob)) throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${name} (knobs: ${MR_KNOBS.join(', ')})`);
  const p = model.params;
  const implicit = p.kind === 'implicit';
  return {
    implicit,
    chunkPages: implicit ? (p.chunkPages as number) : (p.pages as number),
    objects: implicit ? (p.children as number) : 1,
    pages: p.pages as number,
    frames: p.frames as number,
    invalidators: p.invalidators as number,
    invalidations: p.invalidations as number,
    prefetch: p.prefetch as number,
    dereg: p.dereg as number,
    knob,
  };
}

const INV_PC: Readonly<Record<string, string>> = {
  DriverInvalidateBegin: 'cb',
  DevCompleteZap: 'zapWait',
  DriverInvalidateFinish: 'unmap',
  MmUpdatePte: 'pte',
  MmInvalidateEnd: 'end',
};

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(_model: Model, sys: MrSystem): Record<string, Value> | string {
  const { mm, driver, hca, config, notifier } = sys;
  const odd = notifier.seq % 2 === 1;
  const inv: Value[] = [];
  for (const t of sys.invs) {
    if (!t) {
      inv.push({ pc: 'idle', page: 0, cur: 0 });
      continue;
    }
    const rule = t.pending ? ruleName(labelOf(t.pending)) : '';
    const pc = INV_PC[rule];
    if (!pc) return `an invalidating thread waits at ${rule || 'nothing'}, which has no model stage`;
    inv.push({ pc, page: t.page, cur: t.cur });
  }
  const wk = driver.workers.slice(0, 1 + config.prefetch).map((w) => ({
    pc: w.pc,
    page: w.page,
    mr: w.mr,
    top: w.top,
    ...(config.implicit ? { ref: w.ref, newChild: w.newChild, ...(config.knob === 'ksm-update-unlocked' ? { payload: w.payload } : {}) } : {}),
    stale: driver.stale(w),
    snap: w.snap,
  }));
  const mr = driver.objects.map((o, m) =>
    o.used
      ? {
          used: true,
          ...(config.implicit ? { chunk: o.chunk } : {}),
          mkey: hca.mkey[m] ?? false,
          priv: o.priv,
          notifier: o.sub !== null,
          ivCur: o.sub !== null && odd && o.sub.invalidateSeq === notifier.seq,
          lock: o.lock ?? 'free',
          td: o.td,
        }
      : { used: false, ...(config.implicit ? { chunk: 0 } : {}), mkey: false, priv: false, notifier: false, ivCur: false, lock: 'free', td: 'none' },
  );
  const implicitVars: Record<string, Value> = config.implicit
    ? {
        xa: [...driver.xa],
        ksm: [...(hca.parent?.ksm ?? [])],
        pMkey: hca.parent?.valid ?? false,
        pLock: driver.pLock,
        fw: driver.objects.map((o) => o.fw),
        ...(config.knob === 'ksm-update-unlocked' ? { fwPayload: driver.objects.map((o) => o.fwPayload) } : {}),
        derChild: driver.derChild,
      }
    : {};
  return {
    pte: [...mm.ptes],
    active: notifier.active,
    mmOdd: odd,
    invsLeft: config.invalidations - sys.invalidationsStarted,
    mr,
    shadow: driver.objects.map((o) => [...o.shadow]),
    mtt: hca.mtt.map((t) => [...t]),
    ...implicitVars,
    dereg: driver.dereg,
    deregsLeft: config.dereg - sys.deregsTaken,
    acc: [{ state: hca.acc.state, page: hca.acc.page, frame: hca.acc.frame, via: hca.acc.via }],
    umrErr: hca.umrError !== null,
    wk,
    ...(config.prefetch > 0 ? { prefetchLeft: config.prefetch - sys.prefetchesTaken } : {}),
    inv,
  };
}

/** The model state of a system, or why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: MrSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  if (typeof v === 'string') return v;
  const s = encodeState(model.layout, v);
  return typeof s === 'string' ? `the system state does not fit the model: ${s}` : s;
}
