/**
 * The abstraction function from the simulated device-exclusive system (driver/system.ts) to a model
 * state. Why this module exists: it is the one place that says which kernel, driver or device field
 * stands for which model variable:
 *
 *   pte, page     the mm's PTEs (exclusive or not, frame) and struct pages (reference, lock)
 *   cpu[c]        CPU c's fault on an exclusive entry: its stage, page and frame
 *   drv           the driver's atomic fault: its stage, page, the frame it holds, and seqOk, which is
 *                 "the fault's interval sequence is still the one read_begin returned"
 *   mig           the page migration                   dev   the device's atomic mappings
 *   accessesLeft, migsLeft, devFaultsLeft               budgets of the environment
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { deviceExclusive } from '../deviceExclusive.js';
import { DX_KNOBS, type DxKnob, type DxSystem, type DxSystemConfig } from './system.js';

const isKnob = (k: string): k is DxKnob => (DX_KNOBS as readonly string[]).includes(k);

/**
 * The system configuration of a built device-exclusive model; `knob` (default: the model's variant).
 * Throws McError (MC030) for another protocol, a knob the driver does not have, or regrab=in-place
 * (a what-if of the model, not a kernel behaviour, which the simulated kernel does not have).
 */
export function systemConfigFor(model: Model, knob: string | null = model.variant): DxSystemConfig {
  const name = deviceExclusive.name;
  if (model.protocol !== name) throw new McError('MC030', `the ${name} reference driver runs ${name} models only, not ${model.protocol}`);
  if (knob !== null && !isKnob(knob)) throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${name} (knobs: ${DX_KNOBS.join(', ')})`);
  const p = model.params;
  if (p.regrab !== 'fault') throw new McError('MC030', `the ${name} harness simulates regrab=fault only (the kernel's behaviour), not regrab=${p.regrab}`);
  return {
    pages: p.pages as number,
    frames: p.frames as number,
    cpus: p.cpus as number,
    accesses: p.accesses as number,
    migrations: p.migrations as number,
    devfaults: p.devfaults as number,
    knob,
    spontaneous: true,
  };
}

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(_model: Model, sys: DxSystem): Record<string, Value> | string {
  const { mm, driver, config } = sys;
  const f = driver.fault;
  const m = sys.migration;
  return {
    pte: mm.ptes.map((e) => ({ excl: e.excl, frame: e.frame })),
    page: mm.frames.map((pg) => ({ ref: pg.ref, locked: pg.locked })),
    cpu: Array.from({ length: config.cpus }, (_, c) => {
      const t = sys.cpuFaults.get(c);
      return t ? { pc: t.stage, page: t.page, frame: t.frame } : { pc: 'idle', page: 0, frame: 0 };
    }),
    drv: f
      ? { pc: f.stage, page: f.page, frame: f.frame, seqOk: f.stage !== 'begin' && f.sub.invalidateSeq === f.seq }
      : { pc: 'idle', page: 0, frame: 0, seqOk: false },
    mig: m ? { pc: 'move', page: m.page, from: m.from } : { pc: 'idle', page: 0, from: 0 },
    dev: driver.atomic.map((x) => x),
    accessesLeft: config.accesses - sys.accessesTaken,
    migsLeft: config.migrations - sys.migrationsTaken,
    devFaultsLeft: config.devfaults - driver.faultsBegun,
  };
}

/** The model state of a system, or why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: DxSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  if (typeof v === 'string') return v;
  const s = encodeState(model.layout, v);
  return typeof s === 'string' ? `the system state does not fit the model: ${s}` : s;
}
