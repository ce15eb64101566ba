import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { ODP_LARGE_PARAMS, ODP_VARIANTS, odpMirror } from './odpMirror.js';

// The large configuration (the benchmark size), kept in its own file: each run takes seconds.

const check = (variant: string | null) => {
  const model = buildModel(odpMirror, { variant, params: { ...ODP_LARGE_PARAMS } });
  return explicitCheck({ model, properties: odpMirrorProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
};

describe('odp-mirror at the large size (invalidations=3 retries=3)', () => {
  it('2774396 states (pinned), every safety property holds, every cover is reached', () => {
    const r = check(null);
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([2774396, 10482214, 57]);
    if (r.status === 'ok') expect(r.covers.every((c) => c.reached)).toBe(true);
  });

  // The first property each variant breaks does not depend on the size (the default-size table
  // in odpMirror.test.ts gives the same names).
  it.each([
    ['valid-flag', 'no-stale-translation'],
    ['end-skipped-after-eagain', 'start-end-paired'],
    ['missed-unlock-nonblocking', 'callback-releases-lock'],
    ['seq-per-chunk', 'no-stale-translation'],
    ['retry-stale-seq', 'no-fault-timeout'],
    ['no-secondary-tlb-flush', 'device-matches-shadow'],
    ['no-owner-filter', 'no-fault-timeout'],
    ['lock-across-read-begin', 'deadlock'],
    ['no-set-seq', 'invalidation-complete'],
    ['no-read-retry', 'invalidation-complete'],
    ['zap-without-drain', 'invalidation-complete'],
    ['no-set-page-dirty', 'dirty-before-unmap'],
    ['sleep-when-nonblockable', 'nonblocking-callback-never-sleeps'],
    ['remove-unlocked-seq', 'interval-lifetime'],
  ])('%s is caught by %s', (variant, property) => {
    expect(ODP_VARIANTS).toContain(variant);
    const r = check(variant);
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect(r.violations[0]?.property).toBe(property);
  });
});
