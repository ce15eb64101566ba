/**
 * The abstraction function from the simulated hmm-migrate system (driver/system.ts) to a model state.
 * Why this module exists: "the reference driver does what the model says" is checked by mapping every
 * system state to a model state; this is the one place that says which kernel, driver or device field
 * stands for which model variable (all of page 0, the model's one virtual page):
 *
 *   pte, page, dpage, swap, tlb, pin   the mm's PTE, struct pages, swap slot, CPU TLBs, GUP reference
 *   cpu[c]        CPU c's device-private fault: do_swap_page, then the driver's migrate_to_ram
 *                 (collect, copy, finalize, ret) from its migrate_vma args
 *   fwd           the driver's migration to device memory, from its migrate_vma args; seqOk is
 *                 "the interval's sequence is still the one read_begin returned"
 *   devPt         the driver's device page table entry       zap  the MADV_DONTNEED thread
 *   latest, written   the system's ghost of the last write  migsLeft, zapsLeft, pinsLeft  budgets
 *
 * Two places where a driver step is finer than the model's: a device page the forward migration has
 * allocated and filled is shown free until migrate_vma_pages commits it (the model allocates, copies
 * and commits in one step, DriverMigrateCopy); and MADV_DONTNEED counts as started (zap.pc = pte)
 * from the step in which the driver's invalidate callback set the interval's sequence (MmZapStart),
 * not from invalidate_range_start, which the model does not see.
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { hmmMigrate } from '../hmmMigrate.js';
import { HM_KNOBS, type HmKnob, type HmSystem, type HmSystemConfig } from './system.js';

const isKnob = (k: string): k is HmKnob => (HM_KNOBS as readonly string[]).includes(k);

/**
 * The system configuration of a built hmm-migrate model: its parameters size the system, `knob`
 * (default: the model's variant) is the driver's (or simulated kernel's) bug knob. Throws McError
 * (MC030) for a model of another protocol or a knob the harness does not have.
 */
export function systemConfigFor(model: Model, knob: string | null = model.variant): HmSystemConfig {
  if (model.protocol !== hmmMigrate.name)
    throw new McError('MC030', `the ${hmmMigrate.name} reference driver runs ${hmmMigrate.name} models only, not ${model.protocol}`);
  if (knob !== null && !isKnob(knob))
    throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${hmmMigrate.name} (knobs: ${HM_KNOBS.join(', ')})`);
  const p = model.params;
  return {
    pages: 1,
    cpus: p.cpus as number,
    frames: p.frames as number,
    devframes: p.devframes as number,
    migrations: p.migrations as number,
    zaps: p.zaps as number,
    writes: p.writes as number,
    pins: p.pins as number,
    reclaim: (p.reclaim as number) > 0,
    allocMayFail: true,
    dirty: p.dirty as HmSystemConfig['dirty'],
    knob,
    spontaneous: true,
    start: 'model',
  };
}

const IDLE_FWD = { pc: 'idle', src: 0, dst: null, ok: false, seqOk: false };

/** The model's view of the driver's migration to device memory. */
function fwdOf(sys: HmSystem): { value: Value; hidden: number | null } {
  const f = sys.driver.forward;
  if (!f) return { value: IDLE_FWD, hidden: null };
  const a = f.args;
  const e = a.entries[0];
  if (!e) return { value: IDLE_FWD, hidden: null };
  const seqOk = sys.driver.sub.invalidateSeq === f.seq;
  if (!a.collectDone) return { value: { ...IDLE_FWD, pc: 'collect', seqOk }, hidden: null };
  if (!e.collected || a.finalized) return { value: IDLE_FWD, hidden: null };
  if (!a.flushed) return { value: { ...IDLE_FWD, pc: 'flush', src: e.src, seqOk }, hidden: null };
  // No free device page: the model decides it at once (DriverMigrateCopyNoMemory), as the driver does.
  if (!a.pagesDone) return { value: { ...IDLE_FWD, pc: e.noMemory ? 'finalize' : 'copy', src: e.src, seqOk }, hidden: e.dst };
  if (!e.committed) return { value: { ...IDLE_FWD, pc: 'finalize', src: e.src, seqOk }, hidden: null };
  return { value: { pc: f.mapDone ? 'finalize' : 'map', src: e.src, dst: e.dst, ok: true, seqOk }, hidden: null };
}

/** The model's view of CPU c's device-private fault. */
function cpuOf(sys: HmSystem, c: number): Value {
  const t = sys.cpuTasks.get(c);
  if (!t) return { pc: 'idle', page: 0, dst: 0, ok: false };
  const a = sys.driver.faults.get(c);
  const e = a?.entries[0];
  let pc = 'ret';
  if (a && e) {
    if (!a.collectDone) pc = 'collect';
    else if (e.collected && !a.finalized) pc = e.dst === null ? 'copy' : 'finalize';
  }
  const busy = pc === 'copy' || pc === 'finalize';
  return { pc, page: t.dev, dst: busy && e?.dst != null ? e.dst : 0, ok: busy };
}

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(_model: Model, sys: HmSystem): Record<string, Value> | string {
  const { mm, driver, config } = sys;
  if (config.pages !== 1) return 'the model has one page; this system has several';
  const pte = mm.ptes[0];
  if (!pte) return 'no page 0';
  const fwd = fwdOf(sys);
  let zapPc = 'idle';
  const z = sys.zapTask;
  const zapStarted = z !== null && (z.zapped || (sys.notifier.seq % 2 === 1 && driver.sub.invalidateSeq === sys.notifier.seq));
  if (z && zapStarted) zapPc = z.zapped ? 'end' : 'pte';
  const zapsDone = sys.zapsStarted - (z && !zapStarted ? 1 : 0);
  const swap = mm.swap[0];
  if (!swap) return 'no swap slot';
  const dev = driver.pt.get(0);
  return {
    pte: { kind: pte.kind, frame: pte.frame, dev: pte.dev, dirty: pte.dirty },
    page: mm.frames.map((p) => ({ ref: p.ref, locked: p.locked, dirty: p.dirty, data: p.data })),
    dpage: mm.devPages.map((p, d) => (d === fwd.hidden ? { ref: 0, locked: false, data: 0 } : { ref: p.ref, locked: p.locked, data: p.data })),
    swap: { valid: swap.valid, data: swap.data, cached: swap.cached },
    tlb: mm.tlb.map((row) => ({ frame: row[0]?.frame ?? null, dirty: row[0]?.dirty ?? false })),
    cpu: Array.from({ length: config.cpus }, (_, c) => cpuOf(sys, c)),
    fwd: fwd.value,
    devPt: dev === undefined ? null : dev,
    zap: { pc: zapPc },
    pin: mm.pins[0] ?? null,
    latest: sys.latest[0] ?? 0,
    written: sys.written,
    migsLeft: config.migrations - driver.migrationsBegun,
    zapsLeft: config.zaps - zapsDone,
    pinsLeft: config.pins - sys.pinsTaken,
  };
}

/** The model state of a system, or why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: HmSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  if (typeof v === 'string') return v;
  const s = encodeState(model.layout, v);
  return typeof s === 'string' ? `the system state does not fit the model: ${s}` : s;
}
