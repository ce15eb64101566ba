import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { odpMrProperties } from './odpMrProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { MR_LARGE_PARAMS, odpMr } from './odpMr.js';

// The large size, in its own file: two invalidations in a run (a child emptied, refaulted and
// emptied again; an invalidation during the destruction and another before it). Over two million
// reachable states, exhaustive in seconds.

describe('odp-mr at the large size (invalidations=2)', () => {
  it('2503790 states (pinned), every safety property holds, every cover is reached', () => {
    const model = buildModel(odpMr, { params: { ...MR_LARGE_PARAMS } });
    const r = explicitCheck({ model, properties: odpMrProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([2503790, 9249111, 80]);
    if (r.status === 'ok') {
      expect(r.guarantee).toBe('exhaustive');
      expect(r.covers.filter((c) => !c.reached)).toEqual([]);
    }
  }, 300_000);

  // The first property each variant breaks does not depend on the size.
  it.each([
    ['prefetch-before-fence', 'mr-lifetime', 4],
    ['umr-on-revoked-mkey', 'no-umr-on-dead-mkey', 15],
    ['revoked-skips-unmap', 'invalidation-complete', 18],
    ['ksm-update-unlocked', 'ksm-matches-children', 15],
    ['child-release-before-ksm-update', 'ksm-names-live-child', 12],
  ])(
    '%s is caught by %s in %i steps',
    (variant, property, length) => {
      const model = buildModel(odpMr, { variant, params: { ...MR_LARGE_PARAMS } });
      const r = explicitCheck({ model, properties: odpMrProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
      expect(r.status).toBe('violated');
      if (r.status === 'violated') expect([r.violations[0]?.property, r.violations[0]!.trace!.steps.length - 1]).toEqual([property, length]);
    },
    300_000,
  );
});
