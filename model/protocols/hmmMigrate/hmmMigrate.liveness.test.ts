import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { explicitCheckWithLiveness, livenessCheck } from '../../../checker/explicit/liveness.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { hmmMigrateProperties } from './hmmMigrateProperties.js';
import type { Liveness } from '../../../properties/property.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { buildModel } from '../../lang/protocol.js';
import { HM_VARIANTS, hmmMigrate } from './hmmMigrate.js';

const LIVENESS = ['cpu-fault-returns', 'cpu-fault-migrates-back', 'migration-completes', 'madvise-completes'];

function live(variant: string | null, params: Record<string, string | number> = {}, fairness: FairnessMode = 'declared') {
  const model = buildModel(hmmMigrate, { variant, params });
  const properties = hmmMigrateProperties.build(model);
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { model, properties, result, prop };
}

const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace) => t.steps.map((s) => s.label);

describe('hmm-migrate liveness: the correct protocol makes progress under the declared fairness', () => {
  it.each([
    ['default', {}],
    ['two CPU threads', { cpus: 2 }],
    ['two migrations, two device pages', { migrations: 2, devframes: 2 }],
    ['two CPU threads, two migrations, two device pages', { cpus: 2, migrations: 2, devframes: 2 }],
    ['dirty bit in the page flag only', { dirty: 'page' }],
  ])('%s: HM-R8..HM-R11 hold', (_, params) => {
    const { result, properties } = live(null, params);
    expect(properties.filter((p) => p.kind === 'liveness').map((p) => p.name)).toEqual(LIVENESS);
    expect(result.status).toBe('ok');
  });
});

describe('fairness matters: without it every progress property fails', () => {
  it('each property has a lasso in which the actor that owes the step never runs', () => {
    const { model, result, prop } = live(null, {}, 'none');
    expect(violated(result).map((v) => v.property)).toEqual(LIVENESS);
    for (const name of LIVENESS) {
      const t = byName(result, name).trace as Trace;
      expect(checkLasso(model, t, prop(name), { fairness: 'none' })).toMatchObject({ ok: true });
      // Not a fair run: some weakly fair step stays enabled on the loop and is never taken.
      const fair = checkLasso(model, t, prop(name), { fairness: 'declared' });
      expect(fair.ok).toBe(false);
    }
    // A migration started, then reclaim and swap-in forever while the driver never collects.
    expect(labels(byName(result, 'migration-completes').trace as Trace)).toEqual([
      'init mapped',
      'DriverMigrateBegin()',
      'MmReclaimPage()',
      'CpuSwapIn(c=0, f=0)',
    ]);
  });
});

describe('device-private-fault-no-ref (B13) is also a livelock: every migrate_to_ram fails', () => {
  it('without the fault reference, folio_migrate_mapping finds one reference fewer than it expects; the fault returns and is retried forever', () => {
    const { model, result, prop } = live('device-private-fault-no-ref');
    expect(violated(result).map((v) => v.property)).toEqual(['cpu-fault-migrates-back']);
    const t = byName(result, 'cpu-fault-migrates-back').trace as Trace;
    expect(t.extra?.lasso).toBe('cycle');
    const loop = labels(t).slice((t.loop as number) + 1);
    expect(loop.filter((l) => l === 'DriverFaultFinalize(c=0)').length).toBeGreaterThan(0);
    expect(loop.some((l) => l.startsWith('MmZap'))).toBe(false);
    expect(checkLasso(model, t, prop('cpu-fault-migrates-back'))).toMatchObject({ ok: true, kind: 'cycle' });
  });

  it('the explicit engine with liveness lists the safety violation first, then the lasso', () => {
    const model = buildModel(hmmMigrate, { variant: 'device-private-fault-no-ref' });
    const r = explicitCheckWithLiveness({ model, properties: hmmMigrateProperties.build(model), limits: {} });
    expect(violated(r).map((v) => [v.kind, v.property])).toEqual([
      ['invariant', 'refcount-exact'],
      ['liveness', 'cpu-fault-migrates-back'],
    ]);
  });

  it.each(HM_VARIANTS.filter((v) => v !== 'device-private-fault-no-ref'))('%s is a safety bug only: every progress property holds', (variant) => {
    expect(live(variant).result.status).toBe('ok');
  });
});
