import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import type { Trace } from '../counterexamples/trace.js';
import type { HarnessBinding } from '../harness/index.js';
import { applyRule, initState } from '../model/lang/interp.js';
import { type Model, buildModel } from '../model/lang/protocol.js';
import { type PoolSystem, pool, poolHarness, poolProperties } from '../test/fixtures/poolDriver.js';
import { harnessReplayLines, replayOnHarness } from './replayOnHarness.js';

/** A trace of `model` that takes the rule instances labelled `labels` from the start state. */
function traceOf(model: Model, labels: readonly string[], loop?: number): Trace {
  let s = initState(model, model.inits[0]!);
  const steps: Trace['steps'][number][] = [{ choice: 0, label: 'init empty', state: s }];
  for (const label of labels) {
    const inst = model.instances.find((i) => i.label === label);
    if (!inst) throw new Error(`no instance ${label}`);
    s = applyRule(model, inst, s);
    steps.push({ choice: inst.id, label, state: s });
  }
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'test',
    property: null,
    requirement: null,
    steps,
    ...(loop === undefined ? {} : { loop }),
  };
}

const overdraw = buildModel(pool, { variant: 'overdraw' });
const correct = buildModel(pool);

describe('replay of a trace on a package of its own (the pool fixture)', () => {
  it("the BFS counterexample of a variant is followed state by state, with the driver's internal steps inserted", () => {
    const r = explicitCheck({ model: overdraw, properties: poolProperties.build(overdraw), limits: {} });
    if (r.status !== 'violated' || !r.violations[0]?.trace) throw new Error(`expected a violation, got ${r.status}`);
    const trace = r.violations[0].trace;
    const rep = replayOnHarness(poolHarness, overdraw, trace);
    expect(rep.mismatch).toBeNull();
    // Every trace step was taken under its own label, in order, each Take after an internal check.
    expect(rep.steps.filter((s) => s.traceStep !== null).map((s) => s.record.label)).toEqual(trace.steps.slice(1).map((s) => s.label));
    const takes = trace.steps.filter((s) => s.label === 'Take()').length;
    expect(rep.steps.filter((s) => s.traceStep === null && !s.added).map((s) => s.record.label)).toEqual(Array(takes).fill('TakeCheck()'));
    // The trace ends at the broken property, before any unit is used: one added Use shows the damage.
    expect(rep.added).toEqual(['Use()']);
    expect(rep.damageInTrace).toBe(false);
    expect(rep.damage.map((d) => d.kind)).toEqual(['overdrawn']);
    expect(rep.summary).toBe("damage reproduced 1 step after the trace ends (Use()): a unit was used while 3 are held, over the pool's 2");
    const lines = harnessReplayLines(rep);
    expect(lines[0]).toBe('Replay on the reference driver and simulated hardware: pool, driver knob overdraw');
    expect(lines).toContain(`  2. TakeCheck() (driver-internal)`);
    expect(lines).toContain('       held 0 -> 1');
    expect(lines).toContain(`${String(rep.steps.length).padStart(3)}. Use() (added)`);
    expect(lines.slice(-2)).toEqual([
      'The trace ends before the pool is overdrawn; 1 added step shows it.',
      "Damage reproduced 1 step after the trace ends (Use()): a unit was used while 3 are held, over the pool's 2",
    ]);
  });

  it('without the continuation search the same trace does no damage', () => {
    const trace = traceOf(overdraw, ['Ask()', 'Take()', 'Ask()', 'Take()', 'Ask()', 'Take()']);
    const rep = replayOnHarness(poolHarness, overdraw, trace, { extend: false });
    expect(rep.damage).toEqual([]);
    expect(rep.added).toEqual([]);
    expect(rep.summary).toBe('no damage: the reference driver with knob overdraw ran the 6 steps and the pool is within its cap');
  });

  it('damage within the trace is reported at its step, and no step is added', () => {
    const rep = replayOnHarness(poolHarness, overdraw, traceOf(overdraw, ['Ask()', 'Take()', 'Ask()', 'Take()', 'Ask()', 'Take()', 'Use()']));
    expect(rep.added).toEqual([]);
    expect(rep.damageInTrace).toBe(true);
    // Steps count the three internal checks too: Use is the tenth step taken.
    expect(rep.summary).toBe("damage reproduced at step 10: a unit was used while 3 are held, over the pool's 2");
  });

  it('a trace of the correct protocol replays on the correct driver with no damage and nothing added', () => {
    const rep = replayOnHarness(poolHarness, correct, traceOf(correct, ['Ask()', 'Take()', 'Use()', 'Ask()', 'Take()', 'Give()', 'Use()']));
    expect(rep.mismatch).toBeNull();
    expect(rep.damage).toEqual([]);
    expect(rep.added).toEqual([]);
    expect(harnessReplayLines(rep)[0]).toBe('Replay on the reference driver and simulated hardware: pool, correct driver');
  });

  it('a trace whose stored state the harness does not reproduce is a mismatch at that step', () => {
    const t = traceOf(correct, ['Ask()', 'Take()', 'Use()']);
    const bad = new Int32Array(t.steps[2]!.state);
    bad[correct.layout.slotNames.indexOf('held')] = 2;
    const rep = replayOnHarness(poolHarness, correct, { ...t, steps: t.steps.map((s, i) => (i === 2 ? { ...s, state: bad } : s)) });
    expect(rep.mismatch).toEqual({ step: 2, message: 'after Take() the harness differs from the trace: held: trace 2, harness 1' });
    expect(rep.summary).toMatch(/^the harness could not follow the trace at step 2/);
    expect(rep.added).toEqual([]);
  });

  it('a label the harness cannot take is a mismatch that names what was enabled', () => {
    const t = traceOf(overdraw, ['Ask()', 'Take()', 'Ask()', 'Take()', 'Ask()', 'Take()']);
    const rep = replayOnHarness(poolHarness, correct, { ...t, variant: null });
    expect(rep.mismatch).toEqual({ step: 6, message: 'Take() is not enabled on the harness (enabled: Give(), Use())' });
  });

  it('a lasso is judged by the work outstanding at its loop start that its loop never completes', () => {
    const rep = replayOnHarness(poolHarness, correct, traceOf(correct, ['Ask()', 'Take()', 'Ask()', 'Use()', 'Use()'], 3));
    expect(rep.added).toEqual([]);
    expect(rep.damageInTrace).toBe(true);
    expect(rep.damage).toEqual([{ kind: 'hung', step: 7, message: 'request #2 is never granted, and steps 4..5 repeat forever without it' }]);
    expect(rep.summary).toBe('damage reproduced at the end of the trace: request #2 is never granted, and steps 4..5 repeat forever without it');
    // A lasso whose loop completes its work does no damage.
    const fine = replayOnHarness(poolHarness, correct, traceOf(correct, ['Ask()', 'Take()', 'Ask()', 'Take()', 'Give()'], 2));
    expect(fine.damage).toEqual([]);
  });

  it('a binding that maps values shows each step as the model variables it changed', () => {
    const mapped: HarnessBinding<PoolSystem> = { ...poolHarness, valuesOf: (_m, sys) => ({ held: sys.held, want: sys.want !== null }) };
    const rep = replayOnHarness(mapped, correct, traceOf(correct, ['Ask()', 'Take()']));
    expect(rep.steps.map((s) => [s.record.label, s.record.changes])).toEqual([
      ['Ask()', ['want: false -> true']],
      ['TakeCheck()', []],
      ['Take()', ['held: 0 -> 1', 'want: true -> false']],
    ]);
  });
});
