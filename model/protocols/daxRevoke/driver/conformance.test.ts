/**
 * Conformance of the dax-revoke reference driver (the RDMA driver's ODP MR and pinned MR on a
 * simulated fs-dax / P2PDMA kernel) to the dax-revoke model over thousands of fast-check schedules,
 * and what catches each knob on its variant model.
 */
import { describe, expect, it } from 'vitest';
import { conformanceKit } from 'mirrorcheck/conformance';
import { DAX_LARGE_PARAMS, DAX_VARIANTS, type DaxVariant } from '../daxRevoke.js';
import { daxRevokeProperties } from '../daxRevokeProperties.js';
import { daxRevokeHarness } from './harness.js';

const kit = conformanceKit(daxRevokeProperties, daxRevokeHarness);
const { setup } = kit;

/** Schedules here are at most 100 choices long (150 at the large size). */
const LEN = 100;

/** The pinned MR is always refused by a correct kernel: its DMA and deregistration are unreachable. */
const UNREACHABLE_WHEN_CORRECT = ['DevPinnedDma', 'DevPinnedDmaDone', 'UserDeregPinnedMr'];

describe('the correct dax-revoke reference driver conforms to the model', () => {
  it.each([
    ['fs-dax (default)', {}],
    ['P2PDMA', { memory: 'p2p' }],
  ])('%s: every step of 1000 uniform and 1500 swarm schedules is a model step; properties hold; no damage', (_name, params) => {
    const { model, properties } = setup(null, params);
    const uniform = kit.survey(model, properties, kit.uniform(1000, 42, LEN));
    const swarm = kit.survey(model, properties, kit.swarm(model, 1500, 43, LEN));
    expect(uniform.modelSteps + swarm.modelSteps).toBeGreaterThan(2500 * 10);
    expect(kit.unmatched(model, new Set([...uniform.rules, ...swarm.rules]))).toEqual(UNREACHABLE_WHEN_CORRECT);
  });

  it('also at the large size (pages=3 blocks=4 gups=2 punches=2), 500 swarm schedules', () => {
    const { model, properties } = setup(null, DAX_LARGE_PARAMS);
    kit.survey(model, properties, kit.swarm(model, 500, 7, 150));
  });

  it("the harness's start state is the model's start state", () => {
    for (const params of [{}, { memory: 'p2p' }, DAX_LARGE_PARAMS]) {
      const { mapped, init } = kit.startStates(setup(null, params).model);
      expect(mapped).toEqual(init);
    }
  });

  it('the check is not vacuous: each knob against the correct model, and the correct driver against each variant model, fail to conform', () => {
    const samples = kit.uniform(1500, 5, LEN);
    for (const v of DAX_VARIANTS) {
      expect(kit.firstFailure(null, v, samples), `knob ${v} on the correct model`).not.toBeNull();
      expect(kit.firstFailure(v, null, samples), `correct driver on variant ${v}`).not.toBeNull();
    }
  });
});

/** What catches each knob over 1000 swarm schedules of its variant model (fs-dax): the property on mapped states, and the damage seen. */
const CAUGHT: Record<DaxVariant, { property: string; damage: string }> = {
  'longterm-pin-allowed': { property: 'only-revocable-references', damage: 'blocked-on-longterm-pin' },
  'busy-scan-skips-unmapped': { property: 'no-dma-to-freed-memory', damage: 'dma-to-given-memory' },
  'truncate-no-wait': { property: 'no-dma-to-freed-memory', damage: 'dma-to-given-memory' },
};

describe('each bug knob conforms to its variant model, and what catches it', () => {
  it.each(DAX_VARIANTS.map((v) => [v]))('%s', (variant) => {
    const { model, properties } = setup(variant);
    const s = kit.survey(model, properties, kit.swarm(model, 1000, 3, LEN), { stop: 'failure' });
    expect(s.violated).toContain(CAUGHT[variant].property);
    expect(s.damage).toContain(CAUGHT[variant].damage);
  });

  it('longterm-pin-allowed on P2PDMA memory conforms; the provider removal blocks on the pin', () => {
    const { model, properties } = setup('longterm-pin-allowed', { memory: 'p2p' });
    const s = kit.survey(model, properties, kit.swarm(model, 1000, 3, LEN), { stop: 'failure' });
    expect(s.damage).toContain('blocked-on-longterm-pin');
  });
});
