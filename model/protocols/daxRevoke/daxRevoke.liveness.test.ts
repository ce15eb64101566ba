import { describe, expect, it } from 'vitest';
import type { CheckResult, Violation } from '../../../checker/engine.js';
import { livenessCheck } from '../../../checker/explicit/liveness.js';
import { itfToTrace, parseItf, traceToItf } from '../../../counterexamples/itf.js';
import { checkLasso } from '../../../counterexamples/lasso.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';
import type { Liveness } from '../../../properties/property.js';
import { withoutWrites } from '../../../test/ruleMutation.js';
import type { FairnessMode } from '../../lang/fairness.js';
import { type Model, buildModel } from '../../lang/protocol.js';
import { type DaxRevokeHandles, daxRevoke } from './daxRevoke.js';

function live(model: Model<DaxRevokeHandles>, fairness: FairnessMode = 'declared') {
  const properties = daxRevokeProperties.build(model).filter((p) => p.kind === 'liveness');
  const result = livenessCheck({ model, properties, limits: {} }, {}, { fairness });
  const prop = (name: string) => properties.find((p) => p.name === name) as Liveness;
  return { properties, result, prop };
}
const violated = (r: CheckResult): Violation[] => (r.status === 'violated' ? [...r.violations] : []);
const byName = (r: CheckResult, name: string) => violated(r).find((v) => v.property === name) as Violation;
const labels = (t: Trace) => t.steps.map((s) => s.label);

describe('dax-revoke progress (L5): the correct protocol under the declared (per-rule) fairness', () => {
  it.each([
    ['fs-dax (default)', {}],
    ['fs-dax, two punches, two GUP pins', { punches: 2, gups: 2 }],
    ['P2P', { memory: 'p2p' }],
    ['P2P, three pages, two GUP pins', { memory: 'p2p', pages: 3, gups: 2 }],
  ])('%s: every revocation completes and every invalidation ends', (_, params) => {
    const { result, properties } = live(buildModel(daxRevoke, { params }));
    expect(properties.map((p) => p.name)).toEqual(['revoke-completes', 'invalidation-progress']);
    expect(result.status).toBe('ok');
  });

  it('without fairness it does not: the process can munmap and mmap forever while the punch never runs', () => {
    const model = buildModel(daxRevoke);
    const { result, prop } = live(model, 'none');
    expect(violated(result).map((v) => v.property)).toEqual(['revoke-completes', 'invalidation-progress']);
    const t = byName(result, 'revoke-completes').trace as Trace;
    expect(labels(t)).toEqual(['init mapped', 'CpuMunmap()', 'FsPunchStart(p=0)', 'CpuMmap()', 'CpuMunmap()']);
    expect(checkLasso(model, t, prop('revoke-completes'))).toMatchObject({ ok: true, fairness: 'none' });
    expect(checkLasso(model, t, prop('revoke-completes'), { fairness: 'declared' }).ok).toBe(false);
  });
});

describe('L5 bugs are lassos', () => {
  it('longterm-pin-allowed on P2P memory: the provider removal waits forever for the pinned MR', () => {
    const model = buildModel(daxRevoke, { variant: 'longterm-pin-allowed', params: { memory: 'p2p' } });
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['revoke-completes']);
    const t = byName(result, 'revoke-completes').trace as Trace;
    expect([t.steps.length - 1, t.loop, t.extra?.lasso]).toEqual([11, 9, 'cycle']);
    expect(labels(t).slice(0, 3)).toEqual(['init mapped', 'UserRegPinnedMr()', 'P2pRemoveStart()']);
    // The loop: the pinned MR keeps doing DMA; the user never deregisters it (no fairness on that).
    expect(labels(t).slice((t.loop as number) + 1)).toEqual(['DevPinnedDma(p=0)', 'DevPinnedDmaDone()']);
    expect(checkLasso(model, t, prop('revoke-completes'))).toMatchObject({ ok: true, kind: 'cycle' });
    const { header, doc } = parseItf(JSON.stringify(traceToItf(t, model)));
    expect(checkLasso(model, itfToTrace(header, doc, model), prop('revoke-completes'))).toMatchObject({ ok: true });
  });

  it('longterm-pin-allowed on fs-dax: the hole punch sleeps forever on the pinned block', () => {
    const model = buildModel(daxRevoke, { variant: 'longterm-pin-allowed' });
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['revoke-completes']);
    const t = byName(result, 'revoke-completes').trace as Trace;
    expect(labels(t).slice(0, 3)).toEqual(['init mapped', 'UserRegPinnedMr()', 'FsPunchStart(p=0)']);
    expect(labels(t)).toContain('FsBusyScan()');
    expect(labels(t).slice((t.loop as number) + 1)).not.toContain('FsWaitIdle()');
    expect(labels(t)).not.toContain('UserDeregPinnedMr()');
    expect(checkLasso(model, t, prop('revoke-completes'))).toMatchObject({ ok: true, kind: 'cycle' });
  });

  it('an invalidation whose PTE clear never finishes: the invalidation and the punch wait forever', () => {
    const model = withoutWrites(buildModel(daxRevoke), 'MmClearPte', 'inv');
    const { result, prop } = live(model);
    expect(violated(result).map((v) => v.property)).toEqual(['revoke-completes', 'invalidation-progress']);
    for (const name of ['revoke-completes', 'invalidation-progress']) expect(checkLasso(model, byName(result, name).trace as Trace, prop(name)).ok).toBe(true);
  });

  it.each(['busy-scan-skips-unmapped', 'truncate-no-wait'])('%s is a safety bug only: the punch completes (too early)', (variant) => {
    expect(live(buildModel(daxRevoke, { variant })).result.status).toBe('ok');
  });
});
