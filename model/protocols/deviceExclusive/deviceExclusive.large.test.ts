import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { livenessCheck } from '../../../checker/explicit/liveness.js';
import { deviceExclusiveProperties } from './deviceExclusiveProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { DX_LARGE_PARAMS, deviceExclusive } from './deviceExclusive.js';

// The large configuration (two pages, four frames, three CPU threads, four CPU faults, three
// migrations, three device faults), kept in its own file: each exhaustive run takes seconds.

const build = (variant: string | null) => {
  const model = buildModel(deviceExclusive, { variant, params: { ...DX_LARGE_PARAMS } });
  return { model, properties: deviceExclusiveProperties.build(model) };
};

describe('device-exclusive at the large size (pages=2 frames=4 cpus=3 accesses=4 migrations=3 devfaults=3)', () => {
  it('1497568 states (pinned): every safety property holds, every cover is reached, every progress property holds', () => {
    const { model, properties } = build(null);
    const r = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([1497568, 5560358, 46]);
    if (r.status === 'ok') expect(r.covers.every((c) => c.reached)).toBe(true);
    const l = livenessCheck({ model, properties, limits: {} });
    expect(l.status).toBe('ok');
    expect(l.stats.states).toBe(1497568);
  });

  it.each([
    ['exclusive-fault-no-ref', 'refcount-exact', 6],
    ['filter-ignores-owner', 'atomic-mapping-exclusive', 9],
  ])('%s is caught by %s in %i steps', (variant, property, length) => {
    const { model, properties } = build(variant);
    const r = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('violated');
    if (r.status === 'violated') expect([r.violations[0]?.property, (r.violations[0]?.trace?.steps.length ?? 0) - 1]).toEqual([property, length]);
  });

  it('no-owner-filter livelocks at this size too', () => {
    const { model, properties } = build('no-owner-filter');
    const l = livenessCheck({ model, properties, limits: {} });
    expect(l.status === 'violated' && l.violations.map((v) => v.property)).toEqual(['device-atomic-progress']);
  });
});
