import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { prove } from '../../../checker/smt/prove.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { DAX_LARGE_PARAMS, DAX_VARIANTS, daxRevoke } from './daxRevoke.js';

afterAll(async () => {
  await shutdownSmt();
});

const SAFETY = ['no-dma-to-freed-memory', 'no-translation-to-freed-memory', 'freed-only-when-unpinned', 'only-revocable-references', 'invalidation-complete'];

describe('k-induction on dax-revoke with the proof hints', () => {
  it('the strengthening invariants hold in every reachable state (explicit search, fs-dax and P2P)', () => {
    for (const params of [{}, { memory: 'p2p' }] as Record<string, string>[]) {
      const model = buildModel(daxRevoke, { params });
      const hints = daxRevokeProperties.proofHints!(model);
      expect(hints.strengthening.map((p) => p.requirement)).toEqual(['DAX-S1', 'DAX-S2', 'DAX-S3', 'DAX-S4']);
      expect(explicitCheck({ model, properties: hints.strengthening, limits: {} }).status).toBe('ok');
    }
  });

  it.each([
    ['the default size', {}],
    ['the large size', DAX_LARGE_PARAMS],
    ['P2P', { memory: 'p2p' }],
    ['P2P, three pages, two GUP pins', { memory: 'p2p', pages: 3, gups: 2 }],
  ])(
    'proves every safety property at %s by 1-induction',
    async (_, params) => {
      const model = buildModel(daxRevoke, { params });
      const hints = daxRevokeProperties.proofHints!(model);
      const r = await prove(model, safetyProperties(daxRevokeProperties.build(model)), { maxK: 1, strengthening: hints.strengthening });
      expect(r.status).toBe('proved');
      if (r.status === 'proved') {
        expect(r.k).toBe(1);
        expect(r.properties).toEqual(expect.arrayContaining([...SAFETY, ...hints.strengthening.map((p) => p.name)]));
      }
    },
    300_000,
  );

  it('without the hints, induction fails with a counterexample to induction', async () => {
    const model = buildModel(daxRevoke);
    const r = await prove(model, safetyProperties(daxRevokeProperties.build(model)), { maxK: 2 });
    expect(r.status).toBe('cti');
  }, 300_000);

  it('each hint matters: without the ODP mirror invariant (DAX-S2) the proof stops at a counterexample to induction', async () => {
    const model = buildModel(daxRevoke);
    const hints = daxRevokeProperties.proofHints!(model).strengthening.filter((p) => p.requirement !== 'DAX-S2');
    const r = await prove(model, safetyProperties(daxRevokeProperties.build(model)), { maxK: 1, strengthening: hints });
    expect(r.status).toBe('cti');
  }, 300_000);

  it.each(DAX_VARIANTS.map((v) => [v] as const))(
    'bug variant %s is not proved (up to the default k, as the CLI runs it)',
    async (variant) => {
      const model = buildModel(daxRevoke, { variant });
      const hints = daxRevokeProperties.proofHints!(model);
      const r = await prove(model, safetyProperties(daxRevokeProperties.build(model)), { strengthening: hints.strengthening });
      expect(['violated', 'cti']).toContain(r.status);
    },
    300_000,
  );
});
