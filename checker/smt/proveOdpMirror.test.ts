import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../explicit/explicit.js';
import { buildModel } from '../../model/lang/protocol.js';
import { ODP_ACTORS_PARAMS, ODP_LARGE_PARAMS, ODP_LIFECYCLE_PARAMS, ODP_VARIANTS, odpMirror } from '../../model/protocols/odpMirror/odpMirror.js';
import { odpMirrorProperties } from '../../model/protocols/odpMirror/odpMirrorProperties.js';
import { safetyProperties } from '../../properties/property.js';
import { prove } from './prove.js';
import { shutdownSmt } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

const safety = safetyProperties;
const SAFETY = [
  'invalidation-complete',
  'no-stale-translation',
  'no-access-through-revoked-translation',
  'no-dma-to-freed-page',
  'device-matches-shadow',
  'start-end-paired',
  'quiescent-seq-even',
  'callback-releases-lock',
  'no-fault-timeout',
  'dirty-before-unmap',
  'nonblocking-callback-never-sleeps',
];

describe('k-induction on odp-mirror', () => {
  it('the strengthening invariants hold in every reachable state (explicit search, default size)', () => {
    const model = buildModel(odpMirror);
    const hints = odpMirrorProperties.proofHints!(model);
    expect(hints.strengthening.map((p) => p.requirement)).toEqual(Array.from({ length: 12 }, (_, i) => `ODP-S${i}`));
    const r = explicitCheck({ model, properties: hints.strengthening, limits: {} });
    expect(r.status).toBe('ok');
  }, 60_000);

  it('proves every safety property at the default size by 1-induction with the strengthening invariants', async () => {
    const model = buildModel(odpMirror);
    const hints = odpMirrorProperties.proofHints!(model);
    const r = await prove(model, safety(odpMirrorProperties.build(model)), { maxK: 1, strengthening: hints.strengthening });
    expect(r.status).toBe('proved');
    if (r.status === 'proved') {
      expect(r.k).toBe(1);
      expect(r.properties).toEqual(expect.arrayContaining([...SAFETY, ...hints.strengthening.map((p) => p.name)]));
    }
  }, 60_000);

  it('proves them at the large size too (invalidations=3 retries=3)', async () => {
    const model = buildModel(odpMirror, { params: ODP_LARGE_PARAMS });
    const hints = odpMirrorProperties.proofHints!(model);
    const r = await prove(model, safety(odpMirrorProperties.build(model)), { maxK: 1, strengthening: hints.strengthening });
    expect(r.status === 'proved' && r.k).toBe(1);
  }, 60_000);

  it.each([
    ['every actor the default leaves out (size actors)', ODP_ACTORS_PARAMS],
    ['write-protect handled by a downgrade', { protect: 'downgrade' }],
    ['raw kernel sequences', { seq: 'kernel', atomics: 0 }],
    ['the interval inserted and removed during the run (lifecycle)', ODP_LIFECYCLE_PARAMS],
    ['the interval inserted and removed, raw kernel sequences', { ...ODP_LIFECYCLE_PARAMS, seq: 'kernel', atomics: 0 }],
  ])(
    'and at %s',
    async (_name, params) => {
      const model = buildModel(odpMirror, { params });
      const hints = odpMirrorProperties.proofHints!(model);
      const r = await prove(model, safety(odpMirrorProperties.build(model)), { maxK: 1, strengthening: hints.strengthening });
      expect(r.status === 'proved' && r.k).toBe(1);
    },
    60_000,
  );

  it('without the hints, the properties are not 2-inductive: a safety property has a counterexample to induction', async () => {
    const model = buildModel(odpMirror);
    const props = safety(odpMirrorProperties.build(model));
    const r = await prove(model, props, { maxK: 2 });
    expect(r.status).toBe('cti');
    if (r.status === 'cti') expect(props.map((p) => p.name)).toContain(r.property);
  }, 60_000);

  it.each(Array.from({ length: 12 }, (_, i) => [`ODP-S${i}`]))(
    'each hint matters: without %s the proof stops at a counterexample to induction',
    async (drop) => {
      const model = buildModel(odpMirror);
      const hints = odpMirrorProperties.proofHints!(model);
      const weakened = hints.strengthening.filter((p) => p.requirement !== drop);
      expect(weakened.length).toBe(hints.strengthening.length - 1);
      const r = await prove(model, safety(odpMirrorProperties.build(model)), { maxK: 1, strengthening: weakened });
      expect(r.status).toBe('cti');
    },
    60_000,
  );

  it('with lifecycle=1, ODP-S12 matters: without it the proof stops at a counterexample to induction', async () => {
    const model = buildModel(odpMirror, { params: ODP_LIFECYCLE_PARAMS });
    const hints = odpMirrorProperties.proofHints!(model);
    // (the proof checks each hint too: a wrong one would be refused, so no separate explicit search)
    expect(hints.strengthening.map((p) => p.requirement)).toEqual(Array.from({ length: 13 }, (_, i) => `ODP-S${i}`));
    const weakened = hints.strengthening.filter((p) => p.requirement !== 'ODP-S12');
    expect(weakened.length).toBe(hints.strengthening.length - 1);
    const r = await prove(model, safety(odpMirrorProperties.build(model)), { maxK: 1, strengthening: weakened });
    expect(r.status).toBe('cti');
  }, 60_000);

  it.each(ODP_VARIANTS.map((v) => [v] as const))(
    'bug variant %s is not proved (up to the default k, as the CLI runs it)',
    async (variant) => {
      const model = buildModel(odpMirror, { variant });
      const hints = odpMirrorProperties.proofHints!(model);
      const r = await prove(model, safety(odpMirrorProperties.build(model)), { strengthening: hints.strengthening });
      // A real trace (a property or a hint fails in a reachable state) or a counterexample to induction.
      expect(['violated', 'cti']).toContain(r.status);
    },
    60_000,
  );
});
