/**
 * Conformance of the odp-mr reference driver (an mlx5-like driver managing an explicit ODP MR on the
 * simulated HCA) to the odp-mr model with kind=explicit, over thousands of fast-check schedules, and
 * what catches each knob on its variant model. The implicit MR (KSM parent, children, deferred child
 * free) has no reference driver yet: the binding refuses it with MC030, tested here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, type Property, buildModel, initState } from 'mirrorcheck';
import { type ConformanceOptions, type ConformanceReport, runConformance, swarmScheduler } from 'mirrorcheck/conformance';
import { type Scheduler, ruleName } from 'mirrorcheck/harness';
import { odpMr } from '../odpMr.js';
import { odpMrProperties } from '../odpMrProperties.js';
import { odpMrHarness } from './harness.js';
import type { MrKnob } from './mlx5Odp.js';
import { MR_KNOBS } from './system.js';

const check = (model: Model, properties: readonly Property[], schedule: Scheduler | readonly number[], opts: ConformanceOptions = {}) =>
  runConformance(odpMrHarness, model, properties, schedule, opts);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(odpMr, { variant, params: { kind: 'explicit', ...params } });
  return { model, properties: odpMrProperties.build(model) };
};

const swarmSchedules = (names: readonly string[], n: number, seed: number, maxLength = 120) =>
  fc.sample(fc.record({ held: fc.subarray([...names]), choices: fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }) }), { numRuns: n, seed });

const explain = (r: ConformanceReport) => JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage, labels: r.labels });

describe('the correct odp-mr reference driver conforms to the model (kind=explicit)', () => {
  it('every step of 1500 uniform and 2500 swarm schedules is a model step; properties hold; no damage; every rule is exercised', () => {
    const { model, properties } = setup(null);
    const rules = new Set<string>();
    let steps = 0;
    const run = (s: Scheduler | readonly number[]) => {
      const r = check(model, properties, s);
      steps += r.modelSteps;
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    };
    for (const ch of fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 120, size: 'max' }), { numRuns: 1500, seed: 42 })) run(ch);
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      2500,
      43,
    ))
      run(swarmScheduler(new Set(s.held), s.choices));
    expect(steps).toBeGreaterThan(4000 * 20);
    expect(model.rules.map((x) => x.name).filter((n) => !rules.has(n))).toEqual([]);
  });

  it.each([
    ['two invalidators, two invalidations, three pages, four frames', { invalidators: 2, invalidations: 2, pages: 3, frames: 4 }],
    ['no prefetch, three invalidations', { prefetch: 0, invalidations: 3 }],
  ])('also at %s, 1000 swarm schedules', (_name, params) => {
    const { model, properties } = setup(null, params);
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1000,
      7,
      150,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
  });

  it("the harness's start state is the model's start state", () => {
    const { model } = setup(null);
    const mapped = odpMrHarness.stateOf(model, odpMrHarness.system(model));
    if (typeof mapped === 'string') throw new Error(mapped);
    expect([...mapped]).toEqual([...initState(model, model.inits[0]!)]);
  });

  it('the check is not vacuous: each knob against the correct model, and the correct driver against each variant model, fail to conform', () => {
    const samples = fc.sample(
      fc.record({ held: fc.subarray(['DevIssueAccess', 'DevReportError']), choices: fc.array(fc.nat(), { minLength: 1, maxLength: 120, size: 'max' }) }),
      {
        numRuns: 1500,
        seed: 5,
      },
    );
    const firstFailure = (variant: string | null, knob: MrKnob | null) => {
      const { model, properties } = setup(variant);
      for (const s of samples) {
        const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices), { knob });
        if (r.failure) return r.failure;
      }
      return null;
    };
    for (const v of MR_KNOBS) {
      expect(firstFailure(null, v), `knob ${v} on the correct model`).not.toBeNull();
      expect(firstFailure(v, null), `correct driver on variant ${v}`).not.toBeNull();
    }
  });

  it('an implicit MR, and the implicit-only variants, are refused with MC030', () => {
    const implicit = buildModel(odpMr, { variant: null, params: {} });
    expect(() => odpMrHarness.system(implicit)).toThrow(/simulates an explicit MR only/);
    const { model } = setup(null);
    expect(() => odpMrHarness.system(model, { knob: 'ksm-update-unlocked' })).toThrow(/no reference-driver knob for variant ksm-update-unlocked/);
  });
});

/** What catches each knob over 1500 swarm schedules of its variant model: the property on mapped states, and the damage the harness saw. */
const CAUGHT: Record<MrKnob, { property: string; damage: string }> = {
  'prefetch-before-fence': { property: 'mr-lifetime', damage: 'use-after-free' },
  'umr-on-revoked-mkey': { property: 'no-umr-on-dead-mkey', damage: 'umr-error' },
  'revoked-skips-unmap': { property: 'invalidation-complete', damage: 'freed-while-dma-mapped' },
};

describe('each bug knob conforms to its variant model (kind=explicit), and what catches it', () => {
  it.each(MR_KNOBS.map((v) => [v]))('%s', (variant) => {
    const { model, properties } = setup(variant);
    const violated = new Set<string>();
    const damage = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1500,
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
});
