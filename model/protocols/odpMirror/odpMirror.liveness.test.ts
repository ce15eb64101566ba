import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { livenessCheck } from '../../../checker/explicit/liveness.js';
import { itfToTrace, parseItf, traceToItf } from '../../../counterexamples/itf.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';
import type { Liveness } from '../../../properties/property.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { buildModel } from '../../lang/protocol.js';
import { odpMirror } from './odpMirror.js';

function live(variant: string | null, params: Record<string, string | number> = {}, fairness: FairnessMode = 'declared') {
  const model = buildModel(odpMirror, { variant, params });
  const properties = odpMirrorProperties.build(model).filter((p) => p.kind === 'liveness');
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { model, properties, result, prop };
}
const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace) => t.steps.map((s) => s.label);

describe('odp-mirror progress: the correct protocol under the declared fairness', () => {
  it.each([
    ['default', {}],
    ['no atomic accesses', { atomics: 0 }],
    ['three pages', { pages: 3, frames: 3 }],
  ])('%s: fault progress, no perpetual device fault, invalidation progress all hold', (_, params) => {
    const { result, properties } = live(null, params);
    expect(properties.map((p) => p.name)).toEqual(['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress']);
    expect(result.status).toBe('ok');
  });

  it('without fairness it does not: a started invalidation can wait forever while the device keeps reading', () => {
    const { model, result, prop } = live(null, {}, 'none');
    expect(violated(result).map((v) => v.property)).toEqual(['invalidation-progress']);
    const t = byName(result, 'invalidation-progress').trace as Trace;
    expect(labels(t)[1]).toMatch(/^Mm(Madvise|Mkclean)Start\(i=0, p=0, q=0\)$/);
    expect(
      labels(t)
        .slice((t.loop as number) + 1)
        .every((l) => l.startsWith('Dev')),
    ).toBe(true);
    expect(checkLasso(model, t, prop('invalidation-progress'))).toMatchObject({ ok: true, fairness: 'none' });
    // Not a fair run: the invalidator's next step stays enabled and is never taken.
    expect(checkLasso(model, t, prop('invalidation-progress'), { fairness: 'declared' }).ok).toBe(false);
  });
});

describe("odp-mirror progress with the interval's life (lifecycle=1) and with the legacy counters", () => {
  // One invalidating thread and one invalidation keep the liveness graph small; the insert and the
  // remove still meet the open region (a remove that waits, an insert that is deferred).
  const small = { lifecycle: 1, atomics: 0, invalidators: 1, invalidations: 1, retries: 1 };

  it('lifecycle=1: a remove that waits for the final end eventually returns, and every other progress property holds', () => {
    const { result, properties } = live(null, small);
    expect(properties.map((p) => p.name)).toEqual(['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress', 'remove-progress']);
    expect(result.status).toBe('ok');
  });

  it('the remover really depends on the final end: with B3 (the end skipped after -EAGAIN) the odd seq leaks and remove waits forever', () => {
    const { model, result, prop } = live('end-skipped-after-eagain', small);
    expect(violated(result).map((v) => v.property)).toEqual(['remove-progress']);
    const t = byName(result, 'remove-progress').trace as Trace;
    expect(labels(t)).toContain('MrRemove()');
    expect(labels(t)).not.toContain('MrRemoveWake()');
    expect(checkLasso(model, t, prop('remove-progress')).ok).toBe(true);
  });

  it('notifier=legacy (v4.x umem counters): every progress property holds', () => {
    const { result, properties } = live(null, { notifier: 'legacy', atomics: 0, nonblock: 'eagain' });
    expect(properties.map((p) => p.name)).toEqual(['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress']);
    expect(result.status).toBe('ok');
  });
});

describe('progress bugs are lassos', () => {
  it('no-secondary-tlb-flush (B15): the device faults on its cached read-only entry forever', () => {
    const { model, result, prop } = live('no-secondary-tlb-flush');
    expect(violated(result).map((v) => v.property)).toEqual(['no-perpetual-device-fault']);
    const t = byName(result, 'no-perpetual-device-fault').trace as Trace;
    expect(t.extra?.lasso).toBe('cycle');
    expect([t.steps.length - 1, t.loop]).toEqual([47, 34]);
    // The loop: translate (read-only TLB hit, fault), serve the fault, update the table (its UMR
    // keeps the TLB entry), resume.
    const loop = labels(t).slice((t.loop as number) + 1);
    for (const step of ['DevTranslate(d=0)', 'DriverTakeFault(d=0)', 'DriverUmrPost(h=0)', 'DevUmrComplete()', 'DriverResume()']) expect(loop).toContain(step);
    expect(loop).not.toContain('DevCompleteAccess(d=0)');
    expect(checkLasso(model, t, prop('no-perpetual-device-fault'))).toMatchObject({ ok: true, kind: 'cycle' });
    // The lasso survives the ITF round trip.
    const { header, doc } = parseItf(JSON.stringify(traceToItf(t, model)));
    expect(checkLasso(model, itfToTrace(header, doc, model), prop('no-perpetual-device-fault'))).toMatchObject({ ok: true });
  });

  it('no-owner-filter (H1): every atomic access ends in a failed fault, its own exclusive region forcing each retry', () => {
    const { model, result, prop } = live('no-owner-filter');
    expect(violated(result).map((v) => v.property)).toEqual(['no-perpetual-device-fault']);
    const t = byName(result, 'no-perpetual-device-fault').trace as Trace;
    const seen = labels(t);
    expect(seen.filter((l) => l === 'DriverExclusiveInvalidate()').length).toBe(3);
    expect(seen).toContain('DevReportError(d=0)');
    expect(seen.some((l) => l.startsWith('Mm'))).toBe(false);
    expect(checkLasso(model, t, prop('no-perpetual-device-fault'))).toMatchObject({ ok: true });
  });

  it.each([
    ['lock-across-read-begin', ['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress']],
    ['end-skipped-after-eagain', ['fault-progress', 'no-perpetual-device-fault']],
    ['missed-unlock-nonblocking', ['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress']],
  ])('%s: the deadlock shows as stuck progress', (variant, props) => {
    const { model, result, prop } = live(variant);
    expect(violated(result).map((v) => v.property)).toEqual(props);
    for (const name of props) expect(checkLasso(model, byName(result, name).trace as Trace, prop(name)).ok).toBe(true);
  });

  it.each([
    'valid-flag',
    'seq-per-chunk',
    'no-set-seq',
    'no-read-retry',
    'zap-without-drain',
    'retry-stale-seq',
    'no-set-page-dirty',
    'sleep-when-nonblockable',
  ])('%s is a safety bug only: every progress property still holds', (variant) => {
    // retry-stale-seq spins until the 1 s timeout and then fails the fault; that failure is the
    // safety property no-fault-timeout (ODP-R9), and later accesses are served again. A callback
    // that sleeps where it must not (sleep-when-nonblockable) still finishes: it breaks L3's
    // promise to the OOM reaper, a safety property here (ODP-R13).
    expect(live(variant).result.status).toBe('ok');
  });
});
