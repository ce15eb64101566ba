import { describe, expect, it } from 'vitest';
import { randomCheck } from '../../../checker/random/random.js';
import type { Trace } from '../../../counterexamples/trace.js';
import { replayTrace } from '../../../counterexamples/replay.js';
import { odpMrProperties } from './odpMrProperties.js';
import { buildModel } from '../../lang/protocol.js';
import { MR_VARIANTS, odpMr } from './odpMr.js';

// The random engine (swarm runs, shrinking) at the default size.
const MR: [string, string, number][] = [
  ['prefetch-before-fence', 'mr-lifetime', 4],
  ['umr-on-revoked-mkey', 'no-umr-on-dead-mkey', 15],
  ['revoked-skips-unmap', 'invalidation-complete', 18],
  ['ksm-update-unlocked', 'ksm-matches-children', 15],
  ['child-release-before-ksm-update', 'ksm-names-live-child', 12],
];

describe('random engine on odp-mr', () => {
  it('covers every variant of the protocol', () => {
    expect(MR.map(([v]) => v)).toEqual([...MR_VARIANTS]);
  });

  it.each(MR)(
    'finds %s with seed 7 (%s), shrunk to the BFS length, and the trace replays',
    (variant, property, len) => {
      const model = buildModel(odpMr, { variant });
      const properties = odpMrProperties.build(model);
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

  it('the correct protocol is sampled, never proved, and every cover is reached', () => {
    const model = buildModel(odpMr);
    const r = randomCheck({ model, properties: odpMrProperties.build(model), limits: { depth: 80 }, runs: 5_000, seed: 7 });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.guarantee).toBe('sampled');
    expect(r.covers.filter((c) => !c.reached).map((c) => c.name)).toEqual([]);
  }, 300_000);
});
