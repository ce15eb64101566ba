import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { poolHarness, poolProperties } from '../test/fixtures/poolDriver.js';
import { runConformance } from './conformance.js';
import { swarmScheduler } from './swarmScheduler.js';
import { conformanceKit } from './testkit.js';

const kit = conformanceKit(poolProperties, poolHarness);

describe('the conformance-test kit, on a package of its own (the pool fixture)', () => {
  it('draws the schedules fast-check draws for the seed: uniform choice lists, and swarm schedules over the model rules', () => {
    const { model, properties } = kit.setup(null);
    const lists = fc.sample(fc.array(fc.nat(), { minLength: 1, maxLength: 40, size: 'max' }), { numRuns: 50, seed: 9 });
    expect(kit.uniform(50, 9, 40)).toEqual(lists);
    expect(kit.uniform(50, 9, 40)).not.toEqual(kit.uniform(50, 10, 40));
    const names = model.rules.map((r) => r.name);
    const records = fc.sample(fc.record({ held: fc.subarray(names), choices: fc.array(fc.nat(), { minLength: 1, maxLength: 40, size: 'max' }) }), {
      numRuns: 50,
      seed: 9,
    });
    const byKit = kit.swarm(model, 50, 9, 40).map((s) => kit.check(model, properties, s).labels);
    const direct = records.map((r) => runConformance(poolHarness, model, properties, swarmScheduler(new Set(r.held), r.choices)).labels);
    expect(byKit).toEqual(direct);
  });

  it('a survey of the correct driver sums up its runs: model steps, every rule matched, nothing broken', () => {
    const { model, properties } = kit.setup(null);
    let seen = 0;
    const s = kit.survey(model, properties, kit.uniform(200, 1, 40), { each: () => seen++ });
    expect([s.runs, seen]).toEqual([200, 200]);
    expect(s.modelSteps).toBeGreaterThan(200);
    expect(kit.unmatched(model, s.rules)).toEqual([]);
    expect([s.violated.size, s.damage.size, s.failures.size]).toEqual([0, 0, 0]);
  });

  it('a knob on its own variant: stop at failures only; the broken property and the damage are summed up, and stopping at anything throws the run', () => {
    const { model, properties } = kit.setup('overdraw');
    const s = kit.survey(model, properties, kit.uniform(300, 2, 40), { stop: 'failure' });
    expect(s.violated).toEqual(new Set(['within-cap']));
    expect(s.damage).toContain('overdrawn');
    expect(() => kit.survey(model, properties, kit.uniform(300, 2, 40))).toThrow(/"violation":\{/);
  });

  it('a knob against the correct model fails to conform: a survey that stops at failures throws, one that never stops names them', () => {
    const { model, properties } = kit.setup(null);
    expect(() => kit.survey(model, properties, kit.uniform(300, 3, 40), { knob: 'overdraw', stop: 'failure' })).toThrow(/"failure":\{"kind":"/);
    const s = kit.survey(model, properties, kit.uniform(300, 3, 40), { knob: 'overdraw', stop: 'never' });
    expect(s.runs).toBe(300);
    expect(s.failures.size).toBeGreaterThan(0);
    expect(kit.firstFailure(null, 'overdraw', kit.uniform(300, 3, 40))).not.toBeNull();
    expect(kit.firstFailure(null, null, kit.uniform(300, 3, 40))).toBeNull();
  });

  it("compares the harness's start state with the model's, and throws when the harness's does not map", () => {
    const { mapped, init } = kit.startStates(kit.setup(null).model);
    expect(mapped.length).toBeGreaterThan(0);
    expect(mapped).toEqual(init);
    const lost = conformanceKit(poolProperties, { ...poolHarness, stateOf: () => 'no pool here' });
    expect(() => lost.startStates(kit.setup(null).model)).toThrow('the start state does not map: no pool here');
  });

  it('a survey that stops at anything stops at damage alone, with no property to break', () => {
    const { model } = kit.setup('overdraw');
    const quiet = kit.survey(model, [], kit.uniform(300, 2, 40), { stop: 'never' });
    expect([quiet.violated.size, quiet.damage.has('overdrawn')]).toEqual([0, true]);
    expect(() => kit.survey(model, [], kit.uniform(300, 2, 40))).toThrow(/"violation":null,"damage":\[\{"kind":"overdrawn"/);
  });

  it("lists the model's rules that no driver step was matched to, in the model's order", () => {
    const { model } = kit.setup(null);
    const names = model.rules.map((r) => r.name);
    expect(names.length).toBeGreaterThan(1);
    expect(kit.unmatched(model, new Set())).toEqual(names);
    expect(kit.unmatched(model, new Set(names.slice(1)))).toEqual([names[0]]);
    expect(kit.unmatched(model, new Set(names))).toEqual([]);
  });
});
