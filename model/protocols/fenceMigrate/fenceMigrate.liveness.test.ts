import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { explicitCheckWithLiveness, livenessCheck } from '../../../checker/explicit/liveness.js';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { itfToTrace, parseItf, traceToItf } from '../../../counterexamples/itf.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';
import type { Liveness } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { fenceMigrate } from './fenceMigrate.js';

const ZAP = { mode: 'zap-and-fault' };
const RETRY = { mode: 'zap-and-fault', fault: 'retry' };

function live(variant: string | null, params: Record<string, string | number> = {}, fairness: FairnessMode = 'declared') {
  const model = buildModel(fenceMigrate, { variant, params });
  const properties = fenceMigrateProperties.build(model);
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { model, properties, result, prop };
}

const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace | null) => (t ? t.steps.map((s) => s.label) : []);

describe('fence-migrate liveness: the correct protocol makes progress under the declared fairness', () => {
  it.each([
    ['fence', {}],
    ['zap-and-fault (atomic fault)', ZAP],
    ['zap-and-fault (retry loop)', RETRY],
    ['fence, 3 pages 2 slots', { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 1 }],
    ['zap-and-fault retry, 2 slots', { ...RETRY, slots: 2, writes: 1 }],
  ])('%s: FM-L1, FM-L2 (and FM-L3) hold', (_, params) => {
    const { result, properties } = live(null, params);
    expect(properties.filter((p) => p.kind === 'liveness').length).toBe((params as { mode?: string }).mode === 'zap-and-fault' ? 3 : 2);
    expect(result.status).toBe('ok');
  });

  it('the retry-loop fault handler keeps every safety property and reaches every cover', () => {
    const model = buildModel(fenceMigrate, { params: RETRY });
    const r = explicitCheck({ model, properties: fenceMigrateProperties.build(model), limits: {} });
    expect(r.status).toBe('ok');
    expect(r.stats.states).toBe(156435);
    if (r.status === 'ok') expect(r.covers.every((c) => c.reached)).toBe(true);
  });
});

describe('fairness matters: without it the correct protocol fails', () => {
  it.each([
    ['fence', {}],
    ['zap-and-fault', ZAP],
    ['zap-and-fault retry', RETRY],
  ])('%s: a migration can stall forever while DMA loops', (_, params) => {
    const { model, result, prop } = live(null, params, 'none');
    const v = byName(result, 'every-migration-ends');
    expect(v.trace?.extra?.lasso).toBe('cycle');
    // Shortest: start a migration, then read-and-complete DMA forever; the driver never runs.
    expect(labels(v.trace)).toEqual(['init mapped', 'MmMigrateStart(p=0, f=2)', 'HcaIssueDmaRead(d=0, p=0)', 'HcaCompleteDma(d=0)']);
    expect(v.trace?.loop).toBe(1);
    expect(checkLasso(model, v.trace as Trace, prop('every-migration-ends'))).toMatchObject({ ok: true, fairness: 'none' });
    // The same loop is not a fair run: the next migration step stays enabled and is never taken.
    const fair = checkLasso(model, v.trace as Trace, prop('every-migration-ends'), { fairness: 'declared' });
    expect(fair.ok).toBe(false);
    if (!fair.ok) expect(fair.message).toMatch(/weak (DriverFenceDma|DriverZapMkey)\(p=0\)/);
  });
});

describe('never-unblock: DMA stalled on the fence never completes', () => {
  it('one DMA slot: the run stops with the operation stalled (stuttering lasso at the deadlock)', () => {
    const { model, result, prop } = live('never-unblock');
    expect(violated(result).map((v) => v.property)).toEqual(['held-dma-completes']);
    const v = byName(result, 'held-dma-completes');
    const t = v.trace as Trace;
    expect(t.extra?.lasso).toBe('deadlock');
    expect(t.steps.length - 1).toBe(22);
    expect(t.loop).toBe(22);
    expect(v.message).toContain('for Slot 0');
    expect(checkLasso(model, t, prop('held-dma-completes'))).toMatchObject({ ok: true, kind: 'stop', each: 0 });
  });

  it('two DMA slots: a fair cycle where the other slot keeps working and slot 0 stays stalled', () => {
    const { model, result, prop } = live('never-unblock', { slots: 2 });
    const v = byName(result, 'held-dma-completes');
    const t = v.trace as Trace;
    expect(t.extra?.lasso).toBe('cycle');
    expect([t.steps.length - 1, t.loop]).toEqual([11, 9]);
    expect(labels(t).slice(t.loop as number)).toEqual(['HcaIssueDmaRead(d=0, p=0)', 'HcaIssueDmaRead(d=1, p=1)', 'HcaCompleteDma(d=1)']);
    expect(checkLasso(model, t, prop('held-dma-completes'))).toMatchObject({ ok: true, kind: 'cycle', loopSteps: 2, each: 0 });
    // The migration itself still finishes: only FM-L1 fails.
    expect(byName(result, 'every-migration-ends')).toBeUndefined();
  });

  it('the engine with liveness lists the lasso before the deadlock it explains, and the lasso survives ITF', () => {
    const model = buildModel(fenceMigrate, { variant: 'never-unblock' });
    const properties = fenceMigrateProperties.build(model);
    const r = explicitCheckWithLiveness({ model, properties, limits: {} });
    expect(violated(r).map((v) => v.kind)).toEqual(['liveness', 'deadlock']);
    const t = violated(r)[0]?.trace as Trace;
    const { header, doc } = parseItf(JSON.stringify(traceToItf(t, model)));
    expect(doc.loop).toBe(22);
    const back = itfToTrace(header, doc, model);
    expect(checkLasso(model, back, properties.find((p) => p.name === 'held-dma-completes') as Liveness)).toMatchObject({ ok: true });
  });

  it('applies to fence mode only', () => {
    expect(() => buildModel(fenceMigrate, { variant: 'never-unblock', params: ZAP })).toThrow(/does not apply/);
  });
});

describe('stale-seq-retry (B6): the fault handler retries with a stale seq forever', () => {
  it('FM-L1 and FM-L3 fail with a livelock lasso: walk, commit, walk, commit...', () => {
    const { model, result, prop } = live('stale-seq-retry', RETRY);
    expect(violated(result).map((v) => v.property)).toEqual(['held-dma-completes', 'device-fault-resolved']);
    for (const name of ['held-dma-completes', 'device-fault-resolved']) {
      const t = byName(result, name).trace as Trace;
      expect(t.extra?.lasso).toBe('cycle');
      expect([t.steps.length - 1, t.loop]).toEqual([19, 17]);
      // A second invalidation lands between read_begin and the walk; from then on every retry fails.
      const seen = labels(t);
      expect(seen.indexOf('DriverFaultBegin(p=0)')).toBeLessThan(seen.lastIndexOf('MmMigrateStart(p=0, f=0)'));
      expect(seen.slice((t.loop as number) + 1)).toEqual(['DriverFaultCommit(p=0)', 'DriverFaultWalk(p=0)']);
      expect(checkLasso(model, t, prop(name))).toMatchObject({ ok: true, kind: 'cycle', loopSteps: 2 });
    }
  });

  it('fairness does not rescue it (the retry is taken, it just never succeeds); the correct retry passes', () => {
    expect(live(null, RETRY).result.status).toBe('ok');
    expect(byName(live('stale-seq-retry', RETRY, 'declared').result, 'device-fault-resolved')).toBeDefined();
  });

  it('needs the retry-loop fault handler', () => {
    expect(() => buildModel(fenceMigrate, { variant: 'stale-seq-retry', params: ZAP })).toThrow(/does not apply/);
    expect(() => buildModel(fenceMigrate, { params: { fault: 'retry' } })).toThrow(/needs mode=zap-and-fault/);
  });
});
