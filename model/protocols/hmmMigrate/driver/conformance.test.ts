/**
 * Conformance of the hmm-migrate reference driver (a dmirror-like driver on the simulated kernel) to
 * the hmm-migrate model, over thousands of fast-check schedules: every driver step is a model step or
 * a stutter, the model's safety properties hold on the mapped states, and the monitor sees no damage.
 * Each bug knob conforms to its variant model and is caught there; the check is not vacuous (a knob
 * against the correct model, and the correct driver against a variant model, do not conform).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Model, type Property, buildModel, initState } from 'mirrorcheck';
import { type ConformanceOptions, type ConformanceReport, runConformance, swarmScheduler } from 'mirrorcheck/conformance';
import { type Scheduler, ruleName } from 'mirrorcheck/harness';
import { HM_LARGE_PARAMS, HM_VARIANTS, type HmVariant, hmmMigrate } from '../hmmMigrate.js';
import { hmmMigrateProperties } from '../hmmMigrateProperties.js';
import { hmmMigrateHarness } from './harness.js';

const check = (model: Model, properties: readonly Property[], schedule: Scheduler | readonly number[], opts: ConformanceOptions = {}) =>
  runConformance(hmmMigrateHarness, model, properties, schedule, opts);

const setup = (variant: string | null, params: Record<string, string | number> = {}) => {
  const model = buildModel(hmmMigrate, { variant, params });
  return { model, properties: hmmMigrateProperties.build(model) };
};

const swarmSchedules = (names: readonly string[], n: number, seed: number, maxLength = 120) =>
  fc.sample(fc.record({ held: fc.subarray([...names]), choices: fc.array(fc.nat(), { minLength: 1, maxLength, size: 'max' }) }), { numRuns: n, seed });

const explain = (r: ConformanceReport) => JSON.stringify({ failure: r.failure, violation: r.violation, damage: r.damage, labels: r.labels });

describe('the correct hmm-migrate reference driver conforms to the model', () => {
  it('every step of 2000 uniform and 2000 swarm schedules is a model step; properties hold; no damage; every rule is exercised', () => {
    const { model, properties } = setup(null);
    const rules = new Set<string>();
    let steps = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 120, size: 'max' }), (choices) => {
        const r = check(model, properties, choices);
        steps += r.modelSteps;
        for (const l of r.matched) if (l) rules.add(ruleName(l));
        if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
      }),
      { seed: 42, numRuns: 2000 },
    );
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      2000,
      43,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      steps += r.modelSteps;
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
    expect(steps).toBeGreaterThan(4000 * 30);
    // DriverMigrateCopyNoMemory included: the device-page allocation may fail even with a free page.
    expect(model.rules.map((x) => x.name).filter((n) => !rules.has(n))).toEqual([]);
  });

  it('two migrations (migrations=2: the second may find the one device page still in use) conform too, over 1000 swarm schedules', () => {
    const { model, properties } = setup(null, { migrations: 2 });
    const rules = new Set<string>();
    for (const s of swarmSchedules(
      model.rules.map((r) => r.name),
      1000,
      11,
      150,
    )) {
      const r = check(model, properties, swarmScheduler(new Set(s.held), s.choices));
      for (const l of r.matched) if (l) rules.add(ruleName(l));
      if (r.failure || r.violation || r.damage.length) throw new Error(explain(r));
    }
    expect(rules).toContain('DriverMigrateCopyNoMemory');
  });

  it.each([
    ['large (cpus=2 devframes=2 migrations=3 writes=3 zaps=2)', HM_LARGE_PARAMS],
    ['dirty kept in the page flag only (dirty=page)', { dirty: 'page' }],
    ['dirty kept in the migration entry only (dirty=entry)', { dirty: 'entry' }],
    ['three CPUs, three frames, no reclaim', { cpus: 3, frames: 3, reclaim: 0 }],
  ])('also at %s, 500 swarm schedules', (_name, params) => {
    const { model, properties } = setup(null, params);
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

  it.each([
    ['default', {}],
    ['large', HM_LARGE_PARAMS],
  ])("the harness's start state is the model's start state (%s)", (_name, params) => {
    const { model } = setup(null, params);
    const mapped = hmmMigrateHarness.stateOf(model, hmmMigrateHarness.system(model));
    if (typeof mapped === 'string') throw new Error(mapped);
    expect([...mapped]).toEqual([...initState(model, model.inits[0]!)]);
  });

  it('the check is not vacuous: each knob against the correct model, and the correct driver against each variant model, fail to conform', () => {
    const samples = fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 120, size: 'max' }), { numRuns: 1000, seed: 5 });
    const firstFailure = (variant: string | null, knob: HmVariant | null) => {
      const { model, properties } = setup(variant);
      for (const ch of samples) {
        const r = check(model, properties, ch, { knob });
        if (r.failure) return r.failure;
      }
      return null;
    };
    for (const v of HM_VARIANTS) {
      expect(firstFailure(null, v), `knob ${v} on the correct model`).not.toBeNull();
      expect(firstFailure(v, null), `correct driver on variant ${v}`).not.toBeNull();
    }
  });

  it('a harness without the model it maps to is refused with MC030', () => {
    const { model } = setup(null);
    expect(() => hmmMigrateHarness.system(model, { knob: 'no-such-knob' })).toThrow(/MC030|no reference-driver knob for variant no-such-knob/);
  });
});

/** What catches each knob over 1000 swarm schedules of its variant model: the property on mapped states, and the damage the harness saw. */
const CAUGHT: Record<HmVariant, { property: string; damage: string }> = {
  'flush-after-ptl-unlock': { property: 'tlb-follows-pte', damage: 'stale-translation' },
  'device-private-fault-no-ref': { property: 'refcount-exact', damage: 'use-after-free' },
  'dirty-bit-dropped': { property: 'dirty-tracked', damage: 'stale-read' },
  'map-without-retry': { property: 'device-mapping-coherent', damage: 'freed-page-access' },
};

describe('each bug knob conforms to its variant model, and what catches it', () => {
  it.each(HM_VARIANTS.map((v) => [v]))('%s', (variant) => {
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
});
