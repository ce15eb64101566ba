import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { livenessCheck } from '../../../checker/explicit/liveness.js';
import { hmmMigrateProperties } from './hmmMigrateProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { HM_LARGE_PARAMS, HM_VARIANTS, hmmMigrate } from './hmmMigrate.js';

// The large configuration (two CPU threads, two device pages, three migrations, two
// MADV_DONTNEEDs, three writes), kept in its own file: each exhaustive run takes seconds.

const build = (variant: string | null) => {
  const model = buildModel(hmmMigrate, { variant, params: { ...HM_LARGE_PARAMS } });
  return { model, properties: hmmMigrateProperties.build(model) };
};

describe('hmm-migrate at the large size (cpus=2 devframes=2 migrations=3 writes=3 zaps=2)', () => {
  it('1451268 states (pinned): every safety property holds, every cover is reached, every progress property holds', () => {
    const { model, properties } = build(null);
    const r = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([1451268, 7040628, 36]);
    if (r.status === 'ok') expect(r.covers.every((c) => c.reached)).toBe(true);
    const l = livenessCheck({ model, properties, limits: {} });
    expect(l.status).toBe('ok');
    expect(l.stats.states).toBe(1451268);
  });

  // The first property each variant breaks does not depend on the size.
  it.each([
    ['flush-after-ptl-unlock', 'tlb-follows-pte', 5],
    ['device-private-fault-no-ref', 'refcount-exact', 6],
    ['dirty-bit-dropped', 'dirty-tracked', 3],
    ['map-without-retry', 'device-mapping-coherent', 6],
  ])('%s is caught by %s in %i steps', (variant, property, length) => {
    expect(HM_VARIANTS).toContain(variant);
    const { model, properties } = build(variant);
    const r = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect([r.violations[0]?.property, (r.violations[0]?.trace?.steps.length ?? 0) - 1]).toEqual([property, length]);
  });
});
