import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HarnessBinding, labelScheduler } from '../harness/index.js';
import { buildModel } from '../model/lang/protocol.js';
import { type PoolSystem, pool, poolHarness, poolProperties } from '../test/fixtures/poolDriver.js';
import { runConformance } from './conformance.js';
import { swarmScheduler } from './swarmScheduler.js';

const setup = (variant: string | null = null) => {
  const model = buildModel(pool, { variant });
  return { model, properties: poolProperties.build(model) };
};

const schedules = (n: number, seed: number) => fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 40, size: 'max' }), { numRuns: n, seed });

describe('the conformance check on a package of its own (the pool fixture)', () => {
  it('the correct driver conforms: every step of 500 schedules is a model step, the properties hold, no damage', () => {
    const { model, properties } = setup();
    const labels = new Set<string>();
    for (const ch of schedules(500, 1)) {
      const r = runConformance(poolHarness, model, properties, ch);
      expect(r.failure).toBeNull();
      expect(r.violation).toBeNull();
      expect(r.damage).toEqual([]);
      // Internal steps are counted as steps, not as model steps.
      expect(r.modelSteps).toBe(r.labels.filter((l) => l !== 'TakeCheck()').length);
      for (const l of r.labels) labels.add(l);
    }
    expect([...labels].sort()).toEqual(['Ask()', 'Give()', 'Take()', 'TakeCheck()', 'Use()']);
  });

  it('a knob conforms to its variant model; the property breaks on the mapped states and the monitor sees damage', () => {
    const { model, properties } = setup('overdraw');
    const runs = schedules(500, 2).map((ch) => runConformance(poolHarness, model, properties, ch));
    expect(runs.filter((r) => r.failure)).toEqual([]);
    expect(new Set(runs.flatMap((r) => (r.violation ? [r.violation.property] : [])))).toEqual(new Set(['within-cap']));
    expect(runs.some((r) => r.damage.some((d) => d.kind === 'overdrawn'))).toBe(true);
  });

  it('the knobbed driver does not conform to the correct model: a step the model does not allow', () => {
    const { model, properties } = setup();
    const labels = ['Ask()', 'TakeCheck()', 'Take()', 'Ask()', 'TakeCheck()', 'Take()', 'Ask()', 'TakeCheck()', 'Take()'];
    const r = runConformance(poolHarness, model, properties, labelScheduler(labels), { knob: 'overdraw' });
    expect(r.failure).toEqual({
      kind: 'not-allowed',
      step: 9,
      label: 'Take()',
      message: 'the system took Take(), which the model does not allow in this state',
    });
  });

  it('stops after maxSteps, and a run under a swarm scheduler is checked the same way', () => {
    const { model, properties } = setup();
    expect(
      runConformance(
        poolHarness,
        model,
        properties,
        Array.from({ length: 40 }, () => 0),
        { maxSteps: 7 },
      ).steps,
    ).toBe(7);
    const r = runConformance(poolHarness, model, properties, swarmScheduler(new Set(['Give']), [0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(r.failure).toBeNull();
    expect(r.labels.some((l) => l === 'Give()')).toBe(false);
  });

  it('an internal step that changes the mapped state is caught', () => {
    const { model, properties } = setup();
    // A mapping that (wrongly) shows the request as granted once the driver has checked the pool.
    const leaky: HarnessBinding<PoolSystem> = {
      ...poolHarness,
      stateOf: (m, sys) => poolHarness.stateOf(m, Object.assign(Object.create(sys), { want: sys.checked ? null : sys.want })),
    };
    const r = runConformance(leaky, model, properties, labelScheduler(['Ask()', 'TakeCheck()']));
    expect(r.failure).toEqual({ kind: 'internal-changed', step: 2, label: 'TakeCheck()', message: 'want: model true, system false' });
  });

  it('a system that does not start in the model start state, or that fits no model state, is reported at step 0', () => {
    const { model, properties } = setup();
    const early: HarnessBinding<PoolSystem> = {
      ...poolHarness,
      system: (m, o) => Object.assign(poolHarness.system(m, o), { held: 1 }),
    };
    expect(runConformance(early, model, properties, [0]).failure).toEqual({ kind: 'wrong-start', step: 0, label: null, message: 'held: model 0, system 1' });
    const unmappable: HarnessBinding<PoolSystem> = { ...poolHarness, stateOf: () => 'the pool has no state' };
    expect(runConformance(unmappable, model, properties, [0]).failure).toEqual({ kind: 'unmappable', step: 0, label: null, message: 'the pool has no state' });
  });

  it('the binding refuses a knob its driver does not have (MC030)', () => {
    const { model, properties } = setup();
    expect(() => runConformance(poolHarness, model, properties, [0], { knob: 'no-such-knob' })).toThrow(/no reference-driver knob for variant no-such-knob/);
  });

  it('labels are hints: a driver whose steps carry no model label conforms, each change matched to the instance that explains it', () => {
    const { model, properties } = setup();
    const anonymous: HarnessBinding<PoolSystem> = {
      ...poolHarness,
      system: (m, o) => {
        const sys = poolHarness.system(m, o);
        const enabled = sys.enabled.bind(sys);
        return Object.assign(sys, { enabled: () => enabled().map((a, k) => ({ ...a, label: `step${k}`, internal: true })) });
      },
    };
    const labels = new Set<string>();
    for (const ch of schedules(300, 3)) {
      const r = runConformance(anonymous, model, properties, ch);
      expect(r.failure).toBeNull();
      // The driver's internal check is a stutter; every other step is matched to its model instance.
      expect(r.matched.filter((x) => x === null).length).toBe(r.steps - r.modelSteps);
      for (const l of r.matched) if (l) labels.add(l);
    }
    // Use leaves the state as it is: without a label saying so it is a stutter, never a model step.
    expect([...labels].sort()).toEqual(['Ask()', 'Give()', 'Take()']);
  });

  it('a step whose label names another instance is matched to the instance whose effect it has', () => {
    const { model, properties } = setup();
    const misnamed: HarnessBinding<PoolSystem> = {
      ...poolHarness,
      system: (m, o) => {
        const sys = poolHarness.system(m, o);
        const enabled = sys.enabled.bind(sys);
        return Object.assign(sys, { enabled: () => enabled().map((a) => (a.label === 'Give()' ? { ...a, label: 'Use()' } : a)) });
      },
    };
    // The fourth step is the Give labelled Use() (listed before the real Use): the Use instance is
    // enabled but would leave the state as it is, Give gives the new state.
    const r = runConformance(misnamed, model, properties, labelScheduler(['Ask()', 'TakeCheck()', 'Take()', 'Use()']));
    expect(r.failure).toBeNull();
    expect(r.labels).toEqual(['Ask()', 'TakeCheck()', 'Take()', 'Use()']);
    expect(r.matched).toEqual(['Ask()', null, 'Take()', 'Give()']);
  });
});
