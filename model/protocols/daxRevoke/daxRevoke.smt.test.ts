/**
 * BMC (z3) against explicit BFS on `dax-revoke` at the default size: every variant is found by BMC
 * at exactly the shortest length BFS finds, and the counterexample replays; the correct protocol
 * has no violation within the whole BFS depth of its smallest size.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../checker/engine.js';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { bmcCheck } from '../../../checker/smt/bmc.js';
import { replayPath } from '../../../checker/smt/replay.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { daxRevoke } from './daxRevoke.js';

afterAll(async () => {
  await shutdownSmt();
});

function verdict(r: CheckResult): string {
  if (r.status === 'violated') return `violated ${r.violations[0]?.property} ${(r.violations[0]?.trace?.steps.length ?? 0) - 1}`;
  if (r.status === 'error') return `error ${r.code}`;
  return r.status;
}

describe('BMC and explicit BFS agree on every dax-revoke variant', () => {
  it.each([
    ['longterm-pin-allowed', {}, 'only-revocable-references', 1],
    ['longterm-pin-allowed', { memory: 'p2p' }, 'only-revocable-references', 1],
    ['busy-scan-skips-unmapped', {}, 'no-dma-to-freed-memory', 8],
    ['truncate-no-wait', {}, 'no-dma-to-freed-memory', 7],
  ] as const)(
    '%s %j: %s in %i steps',
    async (variant, params, property, length) => {
      const model = buildModel(daxRevoke, { variant, params });
      const props = safetyProperties(daxRevokeProperties.build(model));
      const ex = explicitCheck({ model, properties: props, limits: {} });
      expect(verdict(ex)).toBe(`violated ${property} ${length}`);
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

describe('the correct dax-revoke protocol', () => {
  it('at the smallest size: no violation (nor deadlock) within the whole BFS depth, as explicit BFS finds exhaustively', async () => {
    const model = buildModel(daxRevoke, { params: { pages: 1, blocks: 2 } });
    const props = safetyProperties(daxRevokeProperties.build(model));
    const ex = explicitCheck({ model, properties: props, limits: {} });
    expect([ex.status, ex.stats.states, ex.stats.depth]).toEqual(['ok', 870, 16]);
    const smt = await bmcCheck({ model, properties: props, limits: { depth: ex.stats.depth + 1 } });
    expect(smt.status).toBe('ok');
    if (smt.status === 'ok') expect([smt.guarantee, smt.bound]).toEqual(['bounded', ex.stats.depth + 1]);
  }, 300_000);
});
