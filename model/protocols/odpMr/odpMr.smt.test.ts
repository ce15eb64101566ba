/**
 * BMC (z3) against explicit BFS on `odp-mr`: every variant is found by BMC at exactly the shortest
 * length BFS finds, and the counterexample replays; the correct protocol has no violation within a
 * bound. Variants run at `pages=1 chunkPages=1`, where BFS finds the same properties at the same
 * lengths as at the default size and z3 needs about half the time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { bmcCheck, smtEngine } from '../../../checker/smt/bmc.js';
import { replayPath } from '../../../checker/smt/replay.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import { odpMrProperties } from './odpMrProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { odpMr } from './odpMr.js';

afterAll(async () => {
  await shutdownSmt();
});

const SMALL = { pages: 1, chunkPages: 1 };

function verdict(r: CheckResult): string {
  if (r.status === 'violated') return `violated ${r.violations[0]?.property} ${(r.violations[0]?.trace?.steps.length ?? 0) - 1}`;
  if (r.status === 'error') return `error ${r.code}`;
  return r.status;
}

describe('BMC and explicit BFS agree on every odp-mr variant', () => {
  it.each([
    ['prefetch-before-fence', 'mr-lifetime', 4],
    ['umr-on-revoked-mkey', 'no-umr-on-dead-mkey', 15],
    ['revoked-skips-unmap', 'invalidation-complete', 18],
    ['ksm-update-unlocked', 'ksm-matches-children', 15],
    ['child-release-before-ksm-update', 'ksm-names-live-child', 12],
  ])(
    '%s: %s in %i steps',
    async (variant, property, length) => {
      const model = buildModel(odpMr, { variant, params: SMALL });
      const props = safetyProperties(odpMrProperties.build(model));
      const ex = explicitCheck({ model, properties: props, limits: {} });
      expect(verdict(ex)).toBe(`violated ${property} ${length}`);
      // A bound beyond the BFS length: BMC must stop at the shortest length by itself.
      const smt = await bmcCheck({ model, properties: props, limits: { depth: length + 1 } });
      expect(verdict(smt)).toBe(verdict(ex));
      if (smt.status !== 'violated') return;
      expect(smt.guarantee).toBe('bounded');
      const t = smt.violations[0]!.trace!;
      expect(t.engine).toBe('smt');
      expect(replayPath(model, { choices: t.steps.map((s) => s.choice), states: t.steps.map((s) => s.state), fromInit: true })).toBeNull();
      const rep = replayTrace(model, props, t);
      expect(rep.mismatch).toBeNull();
      expect([rep.violation?.property, rep.violation?.step]).toEqual([property, length]);
    },
    300_000,
  );
});

describe('the correct odp-mr protocol', () => {
  it('at the default size: no violation within 10 steps', async () => {
    const model = buildModel(odpMr);
    const r = await smtEngine.run({ model, properties: safetyProperties(odpMrProperties.build(model)), limits: { depth: 10 } });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.guarantee, r.bound]).toEqual(['bounded', 10]);
  }, 300_000);
});
