import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { livenessCheck } from '../../../checker/explicit/liveness.js';
import { itfToTrace, parseItf, traceToItf } from '../../../counterexamples/itf.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { odpMrProperties } from './odpMrProperties.js';
import type { Liveness } from '../../../properties/property.js';
import { withoutWrites } from '../../../test/ruleMutation.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { type OdpMrHandles, odpMr } from './odpMr.js';

const LIVENESS = ['fault-progress', 'no-perpetual-device-fault', 'invalidation-progress', 'destroy-progress', 'child-free-progress'];

function live(model: Model<OdpMrHandles>, fairness: FairnessMode = 'declared') {
  const properties = odpMrProperties.build(model).filter((p) => p.kind === 'liveness');
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { properties, result, prop };
}
const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace) => t.steps.map((s) => s.label);

describe('odp-mr progress: the correct protocol under the declared (per-rule) fairness', () => {
  it.each([
    ['default (implicit)', {}],
    ['implicit, two one-page children', { pages: 2, chunkPages: 1 }],
    ['implicit, two invalidators', { pages: 1, chunkPages: 1, invalidators: 2, invalidations: 2 }],
    ['explicit', { kind: 'explicit' }],
  ])('%s: faults, accesses, invalidations, destruction and child frees all make progress', (_, params) => {
    const model = buildModel(odpMr, { params });
    const { result, properties } = live(model);
    expect(properties.map((p) => p.name)).toEqual(model.handles.implicit ? LIVENESS : LIVENESS.slice(0, 4));
    expect(result.status).toBe('ok');
  });

  it('without fairness it does not: a started destruction can wait forever while the device keeps failing accesses', () => {
    const model = buildModel(odpMr);
    const { result, prop } = live(model, 'none');
    expect(violated(result).map((v) => v.property)).toEqual(LIVENESS);
    const t = byName(result, 'destroy-progress').trace as Trace;
    expect(labels(t)).toEqual(['init registered', 'UserDeregMr()', 'DevIssueAccess(d=0, p=0)', 'DriverTakeFault()', 'DevReportError(d=0)']);
    expect(checkLasso(model, t, prop('destroy-progress'))).toMatchObject({ ok: true, fairness: 'none' });
    // Not a fair run: the usecount wait stays enabled on the loop and is never taken.
    expect(checkLasso(model, t, prop('destroy-progress'), { fairness: 'declared' }).ok).toBe(false);
  });
});

describe('progress bugs are lassos', () => {
  it('ksm-update-unlocked: a stale null KSM payload lands after the new child was linked; the device faults on it forever', () => {
    const model = buildModel(odpMr, { variant: 'ksm-update-unlocked' });
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['no-perpetual-device-fault']);
    const t = byName(result, 'no-perpetual-device-fault').trace as Trace;
    expect([t.steps.length - 1, t.loop, t.extra?.lasso]).toEqual([38, 32, 'cycle']);
    const seen = labels(t);
    // The child free builds its (null) payload before the new child is linked, and posts it after.
    expect(seen.indexOf('DriverChildKsmBuild(m=0)')).toBeLessThan(seen.indexOf('DriverKsmPost(w=1)'));
    expect(seen.indexOf('DriverKsmPost(w=1)')).toBeLessThan(seen.indexOf('DriverChildKsmPost(m=0)'));
    // The loop: translate through the null KSM entry and fault, find the child in implicit_children
    // (no new child, so no KSM update), map the page, resume; again.
    expect(seen.slice((t.loop as number) + 1)).toEqual([
      'DevRetryAccess(d=0)',
      'DriverTakeFault()',
      'DriverGetChild(w=0, c=1)',
      'DriverReadBegin(w=0)',
      'DriverWalk(w=0)',
      'DriverCommit(w=0)',
    ]);
    expect(seen.slice((t.loop as number) + 1)).not.toContain('DriverKsmBuild(w=0)');
    expect(checkLasso(model, t, prop('no-perpetual-device-fault'))).toMatchObject({ ok: true, kind: 'cycle' });
    // The lasso survives the ITF round trip.
    const { header, doc } = parseItf(JSON.stringify(traceToItf(t, model)));
    expect(checkLasso(model, itfToTrace(header, doc, model), prop('no-perpetual-device-fault'))).toMatchObject({ ok: true });
  });

  it('a callback that returns without unlocking umem_mutex: the next fault on that MR never finishes (a deadlock)', () => {
    const model = withoutWrites(buildModel(odpMr), 'DriverInvalidateFinish', 'mr', 'lock');
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['fault-progress', 'no-perpetual-device-fault', 'destroy-progress', 'child-free-progress']);
    const t = byName(result, 'fault-progress').trace as Trace;
    expect(t.extra?.lasso).toBe('deadlock');
    expect(checkLasso(model, t, prop('fault-progress'))).toMatchObject({ ok: true });
  });

  it('a revoke that never unlocks umem_mutex: the invalidation waiting for it, and the destruction, never end', () => {
    const model = withoutWrites(buildModel(odpMr), 'DriverRevokeDone', 'mr', 'lock');
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['invalidation-progress', 'destroy-progress', 'child-free-progress']);
    for (const name of ['invalidation-progress', 'destroy-progress']) expect(checkLasso(model, byName(result, name).trace as Trace, prop(name)).ok).toBe(true);
  });

  // (prefetch-before-fence is left out: after the bug its prefetch runs on a destroyed MR and the
  // graph grows to about two million states.)
  it.each(['umr-on-revoked-mkey', 'revoked-skips-unmap', 'child-release-before-ksm-update'])(
    '%s is a safety bug only: every progress property still holds',
    (variant) => {
      expect(live(buildModel(odpMr, { variant })).result.status).toBe('ok');
    },
  );
});
