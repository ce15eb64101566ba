import { describe, expect, it } from 'vitest';
import { randomCheck } from '../../../checker/random/random.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { daxRevoke } from './daxRevoke.js';

// The random engine (swarm runs, shrinking) at the default size.
describe('random engine on dax-revoke', () => {
  it.each([
    ['longterm-pin-allowed', {}, 'only-revocable-references', 1],
    ['longterm-pin-allowed', { memory: 'p2p' }, 'only-revocable-references', 1],
    ['busy-scan-skips-unmapped', {}, 'no-dma-to-freed-memory', 8],
    ['truncate-no-wait', {}, 'no-dma-to-freed-memory', 7],
  ] as const)(
    'finds %s %j with seed 7 (%s), shrunk to the BFS length, and the trace replays',
    (variant, params, property, len) => {
      const model = buildModel(daxRevoke, { variant, params });
      const properties = daxRevokeProperties.build(model);
      const r = randomCheck({ model, properties, limits: { depth: 80 }, runs: 20_000, seed: 7 });
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      expect(r.guarantee).toBe('sampled');
      const t = r.violations[0]!.trace as Trace;
      expect([t.property, t.steps.length - 1, t.engine, t.seed]).toEqual([property, len, 'random', '7']);
      const rep = replayTrace(model, properties, t);
      expect(rep.mismatch).toBeNull();
      expect([rep.violation?.property, rep.violation?.step]).toEqual([property, len]);
    },
    300_000,
  );

  it.each([
    ['fs-dax', {}],
    ['P2P', { memory: 'p2p' }],
  ] as const)(
    'the correct protocol (%s) is sampled, never proved, and every cover is reached',
    (_, params) => {
      const model = buildModel(daxRevoke, { params });
      const r = randomCheck({ model, properties: daxRevokeProperties.build(model), limits: { depth: 80 }, runs: 5_000, seed: 7 });
      expect(r.status).toBe('ok');
      if (r.status !== 'ok') return;
      expect(r.guarantee).toBe('sampled');
      expect(r.covers.filter((c) => !c.reached).map((c) => c.name)).toEqual([]);
    },
    300_000,
  );
});
