/**
 * Conformance of the dax-revoke reference driver (the RDMA driver's ODP MR and pinned MR on a
 * simulated fs-dax / P2PDMA kernel) to the dax-revoke model over thousands of fast-check schedules,
 * and what catches each knob on its variant model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, type Property, buildModel, initState } from 'mirrorcheck';
import { type ConformanceOptions, type ConformanceReport, runConformance, swarmScheduler } from 'mirrorcheck/conformance';
import { type Scheduler, ruleName } from 'mirrorcheck/harness';
import { DAX_LARGE_PARAMS, DAX_VARIANTS, type DaxVariant, daxRevoke } from '../daxRevoke.js';
import { daxRevokeProperties } from '../daxRevokeProperties.js';
import { daxRevokeHarness } from './harness.js';

const check = (model: Model, properties: readonly Property[], schedule: Scheduler | readonly number[], opts: ConformanceOptions = {}) =>
  runConformance(daxRevokeHarness, model, properties, schedule, opts);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(daxRevoke, { variant, params });
  return { model, properties: daxRevokeProperties.build(model) };
};

const swarmSchedules = (names: readonly string[], n: number, seed: number, maxLength = 100) =>
  fc.sample(fc.record({ held: fc.subarray([...names]), choices: fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }) }), { numRuns: n, seed });

const explain = (r: ConformanceReport) => JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage, labels: r.labels });

/** The pinned MR is always refused by a correct kernel: its DMA and deregistration are unreachable. */
const UNREACHABLE_WHEN_CORRECT = ['DevPinnedDma', 'DevPinnedDmaDone', 'UserDeregPinnedMr'];

describe('the correct dax-revoke reference driver conforms to the model', () => {
  it.each([
    ['fs-dax (default)', {}],
    ['P2PDMA', { memory: 'p2p' }],
  ])('%s: every step of 1000 uniform and 1500 swarm schedules is a model step; properties hold; no damage', (_name, params) => {
    const { model, properties } = setup(null, params);
    const rules = new Set<string>();
    let steps = 0;
    const run = (s: Scheduler | readonly number[]) => {
      const r = check(model, properties, s);
      steps += r.modelSteps;
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    };
    for (const ch of fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 100, size: 'max' }), { numRuns: 1000, seed: 42 })) run(ch);
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1500,
      43,
    ))
      run(swarmScheduler(new Set(s.held), s.choices));
    expect(steps).toBeGreaterThan(2500 * 10);
    expect(model.rules.map((x) => x.name).filter((n) => !rules.has(n))).toEqual(UNREACHABLE_WHEN_CORRECT);
  });

  it('also at the large size (pages=3 blocks=4 gups=2 punches=2), 500 swarm schedules', () => {
    const { model, properties } = setup(null, DAX_LARGE_PARAMS);
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      500,
      7,
      150,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
  });

  it("the harness's start state is the model's start state", () => {
    for (const params of [{}, { memory: 'p2p' }, DAX_LARGE_PARAMS]) {
      const { model } = setup(null, params);
      const mapped = daxRevokeHarness.stateOf(model, daxRevokeHarness.system(model));
      if (typeof mapped === 'string') throw new Error(mapped);
      expect([...mapped]).toEqual([...initState(model, model.inits[0]!)]);
    }
  });

  it('the check is not vacuous: each knob against the correct model, and the correct driver against each variant model, fail to conform', () => {
    const samples = fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 100, size: 'max' }), { numRuns: 1500, seed: 5 });
    const firstFailure = (variant: string | null, knob: DaxVariant | null) => {
      const { model, properties } = setup(variant);
      for (const ch of samples) {
        const r = check(model, properties, ch, { knob });
        if (r.failure) return r.failure;
      }
      return null;
    };
    for (const v of DAX_VARIANTS) {
      expect(firstFailure(null, v), `knob ${v} on the correct model`).not.toBeNull();
      expect(firstFailure(v, null), `correct driver on variant ${v}`).not.toBeNull();
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
    const violated = new Set<string>();
    const damage = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1000,
      3,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      if (r.failure) throw new Error(explain(r));
      if (r.violation) violated.add(r.violation.property);
      for (const d of r.damage) damage.add(d.kind);
    }
    expect(violated).toContain(CAUGHT[variant].property);
    expect(damage).toContain(CAUGHT[variant].damage);
  });

  it('longterm-pin-allowed on P2PDMA memory conforms; the provider removal blocks on the pin', () => {
    const { model, properties } = setup('longterm-pin-allowed', { memory: 'p2p' });
    const damage = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1000,
      3,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      if (r.failure) throw new Error(explain(r));
      for (const d of r.damage) damage.add(d.kind);
    }
    expect(damage).toContain('blocked-on-longterm-pin');
  });
});
