import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { DAX_LARGE_PARAMS, daxRevoke } from './daxRevoke.js';

// The large size, in its own file: three pages over four blocks, two hole punches, two GUP pins.

describe('dax-revoke at the large size (pages=3 blocks=4 punches=2 gups=2)', () => {
  it('1316316 states (pinned), every safety property holds, every cover is reached', () => {
    const model = buildModel(daxRevoke, { params: { ...DAX_LARGE_PARAMS } });
    const r = explicitCheck({ model, properties: daxRevokeProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
    expect(r.status).toBe('ok');
    expect([r.stats.states, r.stats.transitions, r.stats.depth]).toEqual([1316316, 8000790, 36]);
    if (r.status === 'ok') {
      expect(r.guarantee).toBe('exhaustive');
      expect(r.covers.filter((c) => !c.reached)).toEqual([]);
    }
  }, 300_000);

  it.each([
    ['longterm-pin-allowed', 'only-revocable-references', 1],
    ['busy-scan-skips-unmapped', 'no-dma-to-freed-memory', 8],
    ['truncate-no-wait', 'no-dma-to-freed-memory', 7],
  ])(
    '%s is caught by %s in %i steps',
    (variant, property, length) => {
      const model = buildModel(daxRevoke, { variant, params: { ...DAX_LARGE_PARAMS } });
      const r = explicitCheck({ model, properties: daxRevokeProperties.build(model).filter((p) => p.kind !== 'liveness'), limits: {} });
      expect(r.status).toBe('violated');
      if (r.status === 'violated') expect([r.violations[0]?.property, r.violations[0]!.trace!.steps.length - 1]).toEqual([property, length]);
    },
    300_000,
  );
});
