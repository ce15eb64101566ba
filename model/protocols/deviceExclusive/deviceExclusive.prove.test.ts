import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { prove } from '../../../checker/smt/prove.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { deviceExclusiveProperties } from './deviceExclusiveProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { DX_LARGE_PARAMS, deviceExclusive } from './deviceExclusive.js';

afterAll(async () => {
  await shutdownSmt();
});

type Params = Record<string, string | number>;
const SIZES: Params[] = [{}, { pages: 2, frames: 3 }, { cpus: 3 }, { regrab: 'in-place' }];

const setup = (params: Params = {}, variant: string | null = null) => {
  const model = buildModel(deviceExclusive, { variant, params });
  const hints = deviceExclusiveProperties.proofHints!(model);
  return { model, hints, safety: safetyProperties(deviceExclusiveProperties.build(model)) };
};

describe('k-induction on device-exclusive', () => {
  it.each([...SIZES, { ...DX_LARGE_PARAMS }])('the strengthening invariants hold in every reachable state (explicit search, %j)', (params) => {
    const { model, hints } = setup(params);
    expect(hints.strengthening.map((p) => p.requirement)).toEqual(['DX-S1', 'DX-S2', 'DX-S3', 'DX-S4']);
    expect(explicitCheck({ model, properties: hints.strengthening, limits: {} }).status).toBe('ok');
  });

  it.each(SIZES)(
    'proves every safety property by 1-induction with the strengthening invariants (%j)',
    async (params) => {
      const { model, hints, safety } = setup(params);
      expect(safety.map((p) => p.name)).toEqual(['atomic-mapping-exclusive', 'no-use-of-freed-page', 'refcount-exact']);
      const r = await prove(model, safety, { maxK: 1, strengthening: hints.strengthening });
      expect(r.status === 'proved' && r.k).toBe(1);
    },
    120_000,
  );

  it.each(['DX-S1', 'DX-S2', 'DX-S3', 'DX-S4', 'all'])(
    'each hint matters: without %s the proof stops at a counterexample to induction',
    async (req) => {
      const { model, hints, safety } = setup();
      const kept = req === 'all' ? [] : hints.strengthening.filter((p) => p.requirement !== req);
      expect((await prove(model, safety, { maxK: 1, strengthening: kept })).status).toBe('cti');
    },
    120_000,
  );

  it('the safety variants are not proved (a real trace, or a counterexample to induction within the default k); no-owner-filter, a livelock only, has its safety properties proved', async () => {
    for (const variant of ['exclusive-fault-no-ref', 'filter-ignores-owner']) {
      const { model, hints, safety } = setup({}, variant);
      expect(['violated', 'cti']).toContain((await prove(model, safety, { strengthening: hints.strengthening })).status);
    }
    const { model, hints, safety } = setup({}, 'no-owner-filter');
    expect((await prove(model, safety, { maxK: 1, strengthening: hints.strengthening })).status).toBe('proved');
  }, 120_000);
});
