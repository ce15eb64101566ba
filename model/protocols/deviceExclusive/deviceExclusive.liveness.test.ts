import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { explicitCheckWithLiveness, livenessCheck } from '../../../checker/explicit/liveness.js';
import { itfToTrace, parseItf } from '../../../counterexamples/itf.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { and, eq, isSome } from '../../lang/expr.js';
import { deviceExclusiveProperties } from './deviceExclusiveProperties.js';
import { type Liveness, leadsToEach } from '../../../properties/property.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { type DeviceExclusiveHandles, deviceExclusive } from './deviceExclusive.js';

const LIVENESS = ['device-atomic-progress', 'cpu-fault-progress', 'migration-progress'];

function live(variant: string | null, params: Record<string, string | number> = {}, fairness: FairnessMode = 'declared') {
  const model = buildModel(deviceExclusive, { variant, params });
  const properties = deviceExclusiveProperties.build(model);
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { model, properties, result, prop };
}

const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace) => t.steps.map((s) => s.label);

describe('device-exclusive liveness: the correct protocol makes progress under the declared fairness', () => {
  it.each([
    ['default', {}],
    ['two pages', { pages: 2, frames: 3 }],
    ['three CPU threads, two device faults', { cpus: 3, devfaults: 2 }],
    ['re-exclusion in place (what-if)', { regrab: 'in-place' }],
  ])('%s: DX-R4..DX-R6 hold', (_, params) => {
    const { result, properties } = live(null, params);
    expect(properties.filter((p) => p.kind === 'liveness').map((p) => p.name)).toEqual(LIVENESS);
    expect(result.status).toBe('ok');
  });

  it('without fairness a CPU fault starves: the driver retakes the page lock forever and the CPU thread never gets it', () => {
    // Every actor other than the driver's retry loop has a bounded budget, so only the strong
    // fairness of the page lock is needed: after a collision the driver loops on its stale entry
    // (see the finding below) and releases the lock on every round.
    const { model, result, prop } = live(null, {}, 'none');
    expect(violated(result).map((v) => v.property)).toEqual(['cpu-fault-progress']);
    const t = byName(result, 'cpu-fault-progress').trace as Trace;
    expect(checkLasso(model, t, prop('cpu-fault-progress'), { fairness: 'none' }).ok).toBe(true);
    const fair = checkLasso(model, t, prop('cpu-fault-progress'), { fairness: 'declared' });
    expect(fair.ok).toBe(false);
    if (!fair.ok) expect(fair.message).toMatch(/strong CpuFaultLockPage\(c=0\)/);
  });
});

describe('no-owner-filter (H1): the driver collides with its own MMU_NOTIFY_EXCLUSIVE forever', () => {
  it('a lasso for device-atomic-progress in which only the driver runs', () => {
    const { model, result, prop } = live('no-owner-filter');
    expect(violated(result).map((v) => v.property)).toEqual(['device-atomic-progress']);
    const t = byName(result, 'device-atomic-progress').trace as Trace;
    expect(t.extra?.lasso).toBe('cycle');
    const loop = labels(t).slice((t.loop as number) + 1);
    expect(loop).toEqual(['DriverMapAtomic()', 'DriverReadBegin()', 'DriverGetPage()', 'DriverLockPage()', 'DriverMakeExclusive()']);
    expect(checkLasso(model, t, prop('device-atomic-progress'))).toMatchObject({ ok: true, kind: 'cycle', loopSteps: 5 });
  });

  it('with nothing else in the system (no CPU fault, no migration) it livelocks at once', () => {
    const { result } = live('no-owner-filter', { accesses: 0, migrations: 0 });
    const t = byName(result, 'device-atomic-progress').trace as Trace;
    expect(labels(t)).toEqual([
      'init mapped',
      'DevAtomicFault(p=0)',
      'DriverReadBegin()',
      'DriverGetPage()',
      'DriverLockPage()',
      'DriverMakeExclusive()',
      'DriverMapAtomic()',
      'DriverReadBegin()',
      'DriverGetPage()',
      'DriverLockPage()',
      'DriverMakeExclusive()',
    ]);
  });

  it('the corpus lasso replays as a lasso; the engine lists it first, before the unreached cover', () => {
    const text = readFileSync(join(import.meta.dirname, 'corpus/no-owner-filter.itf.json'), 'utf8');
    const { header, doc } = parseItf(text);
    expect([header.variant, header.property]).toEqual(['no-owner-filter', 'device-atomic-progress']);
    const model = buildModel(deviceExclusive, { variant: header.variant, params: header.params });
    const properties = deviceExclusiveProperties.build(model);
    const trace = itfToTrace(header, doc, model);
    expect(trace.loop).toBe(7);
    expect(checkLasso(model, trace, properties.find((p) => p.name === 'device-atomic-progress') as Liveness)).toMatchObject({ ok: true });
    const r = explicitCheckWithLiveness({ model, properties, limits: {} });
    expect(violated(r).map((v) => [v.kind, v.property])).toEqual([
      ['liveness', 'device-atomic-progress'],
      ['cover', 'device-atomic-mapped'],
    ]);
  });

  it.each(['exclusive-fault-no-ref', 'filter-ignores-owner'])('%s is a safety bug only: every progress property holds', (variant) => {
    expect(live(variant).result.status).toBe('ok');
  });
});

describe("a finding: after one collision the driver's own stale exclusive entry makes every retry collide", () => {
  // DX-R4 asks for progress only from a state where nothing else can invalidate the page and the
  // PTE is a plain one. Without the last condition it fails for the nouveau loop on current
  // kernels: after a collision the page stays device-exclusive; the next make_device_exclusive
  // faults that entry back through GUP, announced as MMU_NOTIFY_CLEAR without owner, which the
  // driver cannot filter, so read_retry fails again, forever. Re-excluding in place (a what-if in
  // which the kernel keeps the entry and announces it with the caller as owner) removes the loop.
  const strict = (model: Model<DeviceExclusiveHandles>) => {
    const { Page, drv, dev, migsLeft, mig } = model.handles;
    return leadsToEach('device-atomic-progress-strict', 'DX-R4', 'a device atomic fault is eventually served once no migration is left', Page, (p) => [
      and(eq(drv.f('pc'), 'begin'), eq(drv.f('page'), p), eq(migsLeft, 0), eq(mig.f('pc'), 'idle')),
      isSome(dev.at(p)),
    ]);
  };
  const run = (params: Record<string, string | number>) => {
    const model = buildModel(deviceExclusive, { params });
    const prop = strict(model);
    return { model, prop, result: livenessCheck({ model, properties: [prop], limits: {} }) };
  };

  it('current kernels (regrab=fault): a collision with a migration, then the driver loops on its own stale entry', () => {
    const { model, prop, result } = run({ accesses: 0 });
    const t = byName(result, 'device-atomic-progress-strict').trace as Trace;
    const seen = labels(t);
    expect(seen.indexOf('MmMigrateMove(t=1)')).toBeLessThan(seen.indexOf('DriverMapAtomic()'));
    expect(seen.slice((t.loop as number) + 1)).toEqual([
      'DriverReadBegin()',
      'DriverGetPage()',
      'DriverLockPage()',
      'DriverMakeExclusive()',
      'DriverMapAtomic()',
    ]);
    expect(checkLasso(model, t, prop)).toMatchObject({ ok: true, kind: 'cycle' });
  });

  it('re-exclusion in place (what-if): the strict form holds', () => {
    expect(run({ accesses: 0, regrab: 'in-place' }).result.status).toBe('ok');
    expect(run({ regrab: 'in-place' }).result.status).toBe('ok');
  });
});
