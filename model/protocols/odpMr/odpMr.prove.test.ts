import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { prove } from '../../../checker/smt/prove.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { odpMrProperties } from './odpMrProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { MR_LARGE_PARAMS, MR_VARIANTS, odpMr } from './odpMr.js';

afterAll(async () => {
  await shutdownSmt();
});

const SAFETY = [
  'invalidation-complete',
  'no-stale-translation',
  'no-dma-to-freed-page',
  'no-dma-mapping-of-freed-page',
  'device-matches-shadow',
  'no-umr-on-dead-mkey',
  'mr-lifetime',
  'callback-releases-lock',
  'no-access-error',
  'ksm-matches-children',
  'ksm-names-live-child',
];

describe('k-induction on odp-mr with the proof hints', () => {
  it('the strengthening invariants hold in every reachable state (explicit search, default size and explicit MR)', () => {
    for (const params of [{}, { kind: 'explicit' }] as Record<string, string>[]) {
      const model = buildModel(odpMr, { params });
      const hints = odpMrProperties.proofHints!(model);
      expect(hints.strengthening.map((p) => p.requirement)).toEqual(Array.from({ length: model.handles.implicit ? 7 : 6 }, (_, i) => `MR-S${i + 1}`));
      expect(explicitCheck({ model, properties: hints.strengthening, limits: {} }).status).toBe('ok');
    }
  }, 300_000);

  it.each([
    ['the default size', {}],
    ['the large size', MR_LARGE_PARAMS],
    ['an explicit MR', { kind: 'explicit' }],
    ['two one-page children, two invalidators', { pages: 2, chunkPages: 1, invalidators: 2, invalidations: 2, frames: 3 }],
  ])(
    'proves every safety property at %s by 1-induction',
    async (_, params) => {
      const model = buildModel(odpMr, { params });
      const hints = odpMrProperties.proofHints!(model);
      const r = await prove(model, safetyProperties(odpMrProperties.build(model)), { maxK: 1, strengthening: hints.strengthening });
      expect(r.status).toBe('proved');
      if (r.status === 'proved') {
        expect(r.k).toBe(1);
        expect(r.properties).toEqual(
          expect.arrayContaining([...SAFETY.filter((n) => model.handles.implicit || !n.startsWith('ksm')), ...hints.strengthening.map((p) => p.name)]),
        );
      }
    },
    300_000,
  );

  it('without the hints, induction fails with a counterexample to induction', async () => {
    const model = buildModel(odpMr);
    const r = await prove(model, safetyProperties(odpMrProperties.build(model)), { maxK: 2 });
    expect(r.status).toBe('cti');
  }, 300_000);

  it('each hint matters: without the worker invariant (MR-S4) the proof stops at a counterexample to induction', async () => {
    const model = buildModel(odpMr);
    const hints = odpMrProperties.proofHints!(model).strengthening.filter((p) => p.requirement !== 'MR-S4');
    const r = await prove(model, safetyProperties(odpMrProperties.build(model)), { maxK: 1, strengthening: hints });
    expect(r.status).toBe('cti');
  }, 300_000);

  it.each(MR_VARIANTS.map((v) => [v] as const))(
    'bug variant %s is not proved (up to the default k, as the CLI runs it)',
    async (variant) => {
      const model = buildModel(odpMr, { variant });
      const hints = odpMrProperties.proofHints!(model);
      const r = await prove(model, safetyProperties(odpMrProperties.build(model)), { strengthening: hints.strengthening });
      expect(['violated', 'cti']).toContain(r.status);
    },
    300_000,
  );
});
