/**
 * Conformance of the hmm-migrate reference driver (a dmirror-like driver on the simulated kernel) to
 * the hmm-migrate model, over thousands of fast-check schedules: every driver step is a model step or
 * a stutter, the model's safety properties hold on the mapped states, and the monitor sees no damage.
 * Each bug knob conforms to its variant model and is caught there; the check is not vacuous (a knob
 * against the correct model, and the correct driver against a variant model, do not conform).
 */
import { describe, expect, it } from 'vitest';
import { conformanceKit } from 'mirrorcheck/conformance';
import { HM_LARGE_PARAMS, HM_VARIANTS, type HmVariant } from '../hmmMigrate.js';
import { hmmMigrateProperties } from '../hmmMigrateProperties.js';
import { hmmMigrateHarness } from './harness.js';

const kit = conformanceKit(hmmMigrateProperties, hmmMigrateHarness);
const { setup } = kit;

describe('the correct hmm-migrate reference driver conforms to the model', () => {
  it('every step of 2000 uniform and 2000 swarm schedules is a model step; properties hold; no damage; every rule is exercised', () => {
    const { model, properties } = setup(null);
    const uniform = kit.survey(model, properties, kit.uniform(2000, 42));
    const swarm = kit.survey(model, properties, kit.swarm(model, 2000, 43));
    expect(uniform.modelSteps + swarm.modelSteps).toBeGreaterThan(4000 * 30);
    // DriverMigrateCopyNoMemory included: the device-page allocation may fail even with a free page.
    expect(kit.unmatched(model, new Set([...uniform.rules, ...swarm.rules]))).toEqual([]);
  });

  it('two migrations (migrations=2: the second may find the one device page still in use) conform too, over 1000 swarm schedules', () => {
    const { model, properties } = setup(null, { migrations: 2 });
    const s = kit.survey(model, properties, kit.swarm(model, 1000, 11, 150));
    expect(s.rules).toContain('DriverMigrateCopyNoMemory');
  });

  it.each([
    ['large (cpus=2 devframes=2 migrations=3 writes=3 zaps=2)', HM_LARGE_PARAMS],
    ['dirty kept in the page flag only (dirty=page)', { dirty: 'page' }],
    ['dirty kept in the migration entry only (dirty=entry)', { dirty: 'entry' }],
    ['three CPUs, three frames, no reclaim', { cpus: 3, frames: 3, reclaim: 0 }],
  ])('also at %s, 500 swarm schedules', (_name, params) => {
    const { model, properties } = setup(null, params);
    kit.survey(model, properties, kit.swarm(model, 500, 7, 150));
  });

  it.each([
    ['default', {}],
    ['large', HM_LARGE_PARAMS],
  ])("the harness's start state is the model's start state (%s)", (_name, params) => {
    const { mapped, init } = kit.startStates(setup(null, params).model);
    expect(mapped).toEqual(init);
  });

  it('the check is not vacuous: each knob against the correct model, and the correct driver against each variant model, fail to conform', () => {
    const samples = kit.uniform(1000, 5);
    for (const v of HM_VARIANTS) {
      expect(kit.firstFailure(null, v, samples), `knob ${v} on the correct model`).not.toBeNull();
      expect(kit.firstFailure(v, null, samples), `correct driver on variant ${v}`).not.toBeNull();
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
    const s = kit.survey(model, properties, kit.swarm(model, 1000, 3), { stop: 'failure' });
    expect(s.violated).toContain(CAUGHT[variant].property);
    expect(s.damage).toContain(CAUGHT[variant].damage);
  });
});
