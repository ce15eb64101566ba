/**
 * The abstraction function from the simulated dax-revoke system (driver/system.ts) to a model state.
 * Why this module exists: it is the one place that says which kernel, driver or device field stands
 * for which model variable: mem, fileMap (the blocks and the file's page map), vma and pte (the
 * process's mapping), inv (each page's invalidation: the ODP callback's zap, its drain, the PTE),
 * odp and odpDma (the ODP MR's mirror and DMA), gup (the O_DIRECT user's pinned DMA), pinMap, pinMr
 * and pinDma (the pinned MR), revoke, target, mmapLock (the hole punch or the provider removal), and
 * the budgets.
 */
import { McError, type Model, type Value, encodeState } from 'mirrorcheck';
import { labelOf, ruleName } from 'mirrorcheck/harness';
import { daxRevoke } from '../daxRevoke.js';
import type { Dma } from './rdmaDriver.js';
import { DAX_KNOBS, type DaxKnob, type DaxSystem, type DaxSystemConfig } from './system.js';

const isKnob = (k: string): k is DaxKnob => (DAX_KNOBS as readonly string[]).includes(k);

/** The system configuration of a built dax-revoke model. Throws McError (MC030) for another protocol or a knob the harness does not have. */
export function systemConfigFor(model: Model, knob: string | null = model.variant): DaxSystemConfig {
  const name = daxRevoke.name;
  if (model.protocol !== name) throw new McError('MC030', `the ${name} reference driver runs ${name} models only, not ${model.protocol}`);
  if (knob !== null && !isKnob(knob)) throw new McError('MC030', `no reference-driver knob for variant ${knob} of ${name} (knobs: ${DAX_KNOBS.join(', ')})`);
  const p = model.params;
  return {
    fsdax: p.memory === 'fsdax',
    pages: p.pages as number,
    blocks: p.blocks as number,
    odp: (p.odp as number) > 0,
    pin: (p.pin as number) > 0,
    gups: p.gups as number,
    punches: p.punches as number,
    knob,
  };
}

const INV: Readonly<Record<string, string>> = { DriverOdpInvalidate: 'zap', DevCompleteZap: 'drain', MmClearPte: 'pte' };
const dma = (d: Dma | null): Value => (d ? { busy: true, page: d.page, block: d.block } : { busy: false, page: 0, block: 0 });

/** The structured model state of a system (variable name -> value), or why it has none. */
export function modelValueOf(_model: Model, sys: DaxSystem): Record<string, Value> | string {
  const { config, driver } = sys;
  const inv: Value[] = [];
  for (const t of sys.invs) {
    if (!t) {
      inv.push('idle');
      continue;
    }
    const rule = t.pending ? ruleName(labelOf(t.pending)) : '';
    const pc = INV[rule];
    if (!pc) return `an invalidation waits at ${rule || 'nothing'}, which has no model stage`;
    inv.push(pc);
  }
  return {
    mem: [...sys.mem],
    fileMap: [...sys.fileMap],
    vma: sys.vma,
    pte: [...sys.pte],
    inv,
    odp: driver.odp ? [...driver.odp] : sys.pte.map(() => null),
    odpDma: dma(driver.odpDma),
    gup: dma(sys.gup),
    gupsLeft: config.gups - sys.gupsTaken,
    pinMap: [...driver.pinMap],
    pinMr: driver.pinMr,
    pinDma: dma(driver.pinDma),
    revoke: sys.revoke,
    ...(config.fsdax ? { target: sys.target, punchesLeft: config.punches - sys.punchesTaken, mmapLock: sys.mmapLock } : {}),
  };
}

/** The model state of a system, or why it does not fit the model's state space. */
export function modelStateOf(model: Model, sys: DaxSystem): Int32Array | string {
  const v = modelValueOf(model, sys);
  if (typeof v === 'string') return v;
  const s = encodeState(model.layout, v);
  return typeof s === 'string' ? `the system state does not fit the model: ${s}` : s;
}
