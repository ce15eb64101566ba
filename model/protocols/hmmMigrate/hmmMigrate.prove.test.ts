import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../../../checker/explicit/explicit.js';
import { prove } from '../../../checker/smt/prove.js';
import { shutdownSmt } from '../../../checker/smt/z3Host.js';
import { hmmMigrateProperties } from './hmmMigrateProperties.js';
import { safetyProperties } from '../../../properties/property.js';
import { buildModel } from '../../lang/protocol.js';
import { HM_LARGE_PARAMS, HM_VARIANTS, hmmMigrate } from './hmmMigrate.js';

afterAll(async () => {
  await shutdownSmt();
});

const SAFETY = [
  'tlb-follows-pte',
  'content-preserved',
  'cpu-read-sees-last-write',
  'device-read-sees-last-write',
  'dirty-tracked',
  'device-mapping-coherent',
  'no-use-of-freed-page',
  'refcount-exact',
];

type Params = Record<string, string | number>;
const SIZES: Params[] = [{}, { cpus: 2 }, { dirty: 'page' }, { dirty: 'entry' }, { ...HM_LARGE_PARAMS }];

const setup = (params: Params = {}, variant: string | null = null) => {
  const model = buildModel(hmmMigrate, { variant, params });
  const hints = hmmMigrateProperties.proofHints!(model);
  return { model, hints, safety: safetyProperties(hmmMigrateProperties.build(model)) };
};

describe('k-induction on hmm-migrate', () => {
  it.each(SIZES)('the strengthening invariants hold in every reachable state (explicit search, %j)', (params) => {
    const { model, hints } = setup(params);
    expect(hints.strengthening.map((p) => p.requirement)).toEqual(Array.from({ length: 9 }, (_, i) => `HM-S${i + 1}`));
    expect(explicitCheck({ model, properties: hints.strengthening, limits: {} }).status).toBe('ok');
  });

  it('proves every safety property at the default size by 1-induction with the strengthening invariants', async () => {
    const { model, hints, safety } = setup();
    expect(safety.map((p) => p.name).sort()).toEqual([...SAFETY].sort());
    const r = await prove(model, safety, { maxK: 1, strengthening: hints.strengthening });
    expect(r.status).toBe('proved');
    if (r.status === 'proved') {
      expect(r.k).toBe(1);
      expect(r.properties).toEqual(expect.arrayContaining([...SAFETY, ...hints.strengthening.map((p) => p.name)]));
    }
  }, 120_000);

  it.each(SIZES.slice(1))(
    'proves them at %j too',
    async (params) => {
      const { model, hints, safety } = setup(params);
      const r = await prove(model, safety, { maxK: 1, strengthening: hints.strengthening });
      expect(r.status === 'proved' && r.k).toBe(1);
    },
    120_000,
  );

  it('without the hints, the safety properties have a counterexample to induction', async () => {
    const { model, safety } = setup();
    // Which property it names is the solver's choice (it was content-preserved; it is dirty-tracked
    // since a device-page allocation may fail at any copy): only the verdict is compared. It may be
    // a property that cannot be evaluated in the state reached (an unwrap of none: a model error of
    // that state, `no-model-error`), since the step case counts those as it must.
    const r = await prove(model, safety, { maxK: 2 });
    expect(r.status).toBe('cti');
    if (r.status === 'cti') expect([...SAFETY, 'no-model-error']).toContain(r.property);
  }, 120_000);

  it.each([
    ['HM-S6', {}],
    ['HM-S8', {}],
    ['HM-S3', { cpus: 2 }],
  ])(
    'each hint matters: without %s (%j) the proof stops at a counterexample to induction',
    async (req, params) => {
      const { model, hints, safety } = setup(params);
      const r = await prove(model, safety, { maxK: 1, strengthening: hints.strengthening.filter((p) => p.requirement !== req) });
      expect(r.status).toBe('cti');
    },
    120_000,
  );

  it.each(HM_VARIANTS.map((v) => [v] as const))(
    'bug variant %s is not proved (a real trace, up to the default k)',
    async (variant) => {
      const { model, hints, safety } = setup({}, variant);
      const r = await prove(model, safety, { strengthening: hints.strengthening });
      expect(r.status).toBe('violated');
    },
    120_000,
  );
});
