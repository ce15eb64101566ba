/**
 * A stored trace is only trusted if every state of it is reproduced: changing any one field of any
 * one state of a real counterexample must make replay (and the lasso check) fail at that step. And
 * the lasso check must reject unfair loops, including loops of a single step, under each kind of
 * fairness.
 */
import { describe, expect, it } from 'vitest';
import { explicitCheck } from '../checker/explicit/explicit.js';
import { and, eq, not } from '../model/lang/expr.js';
import { buildModel, defineProtocol, enumParam } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { bool, cardinality, fromCode, toCode } from '../model/lang/types.js';
import { fenceMigrate } from '../model/protocols/fenceMigrate/fenceMigrate.js';
import { fenceMigrateProperties } from '../model/protocols/fenceMigrate/fenceMigrateProperties.js';
import { alwaysEventually, eventually, leadsTo } from '../properties/property.js';
import { checkLasso } from './lasso.js';
import { replayTrace } from './replay.js';
import type { Trace } from './trace.js';

/** Every state of `trace` with slot `j` of step `i` set to another value of its type. */
function* tampered(trace: Trace, slotTypes: Parameters<typeof cardinality>[0][]): Generator<{ i: number; j: number; trace: Trace }> {
  for (let i = 0; i < trace.steps.length; i++) {
    for (let j = 0; j < slotTypes.length; j++) {
      const t = slotTypes[j] as Parameters<typeof cardinality>[0];
      if (cardinality(t) < 2) continue;
      const steps = trace.steps.map((s) => ({ ...s, state: new Int32Array(s.state) }));
      const st = (steps[i] as (typeof steps)[number]).state;
      st[j] = fromCode(t, (toCode(t, st[j] as number) + 1) % cardinality(t));
      yield { i, j, trace: { ...trace, steps } };
    }
  }
}

describe('replay rejects a trace with any one field of any one state changed', () => {
  const model = buildModel(fenceMigrate, { variant: 'no-invalidate' });
  const properties = fenceMigrateProperties.build(model);
  const r = explicitCheck({ model, properties: properties.filter((p) => p.kind !== 'liveness'), limits: {} });
  const trace = r.status === 'violated' ? (r.violations[0]?.trace as Trace) : null;

  it('the untouched counterexample replays and reproduces its violation', () => {
    expect(trace).not.toBeNull();
    const rep = replayTrace(model, properties, trace as Trace);
    expect(rep.mismatch).toBeNull();
    expect(rep.violation?.property).toBe((trace as Trace).property);
    expect(rep.violation?.step).toBe((trace as Trace).steps.length - 1);
  });

  it('every changed field is a mismatch at its own step', () => {
    const wrong: string[] = [];
    let n = 0;
    for (const { i, j, trace: bad } of tampered(trace as Trace, [...model.layout.slotTypes])) {
      n++;
      const rep = replayTrace(model, properties, bad);
      const want = i === 0 ? /^start state differs: / : /^state after .* differs: /;
      if (rep.mismatch?.step !== i || !want.test(rep.mismatch.message) || !rep.mismatch.message.includes(model.layout.slotNames[j] as string)) {
        if (wrong.length < 5) wrong.push(`step ${i} slot ${model.layout.slotNames[j]}: ${JSON.stringify(rep.mismatch)}`);
      }
    }
    expect(n).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });

  it('a choice that names another rule instance, or none, is a mismatch', () => {
    const t = trace as Trace;
    const other = { ...t, steps: t.steps.map((s, i) => (i === 1 ? { ...s, choice: (s.choice + 1) % model.instances.length } : s)) };
    expect(replayTrace(model, properties, other).mismatch?.step).toBe(1);
    const none = { ...t, steps: t.steps.map((s, i) => (i === 1 ? { ...s, choice: model.instances.length, label: '?' } : s)) };
    expect(replayTrace(model, properties, none).mismatch).toEqual({
      step: 1,
      message: `rule instance #${model.instances.length} does not exist (the model has ${model.instances.length})`,
    });
    const noInit = { ...t, steps: t.steps.map((s, i) => (i === 0 ? { ...s, choice: model.inits.length } : s)) };
    expect(replayTrace(model, properties, noInit).mismatch?.step).toBe(0);
  });
});

/**
 * A spinner: `Spin` changes nothing and is never fair; `Tick` flips t; `Go` reaches the goal, but
 * only while t holds, with the fairness the parameter gives.
 */
const spinner = defineProtocol({
  name: 'spinner',
  summary: 'a goal that a fair scheduler must take',
  spec: 'counterexamples/replay.tamper.test.ts',
  params: { go: enumParam('weak', ['none', 'weak', 'strong'], 'fairness of Go') },
  variants: [],
  build(b, cfg) {
    const t = b.v('t', bool);
    const done = b.v('done', bool);
    b.init('start', () => []);
    b.rule('Spin', {}, () => ({ guard: not(done), body: [] }));
    b.rule('Tick', {}, () => ({ guard: not(done), body: [assign(t, not(t))] }));
    b.rule('Go', {}, () => ({ guard: and(t, not(done)), body: [assign(done, true)] }), {
      fairness: cfg.str('go') as 'none' | 'weak' | 'strong',
    });
    return { t, done };
  },
});

const lasso = (model: ReturnType<typeof buildModel>, choices: number[], loop: number): Trace => {
  let s = new Int32Array(model.layout.nSlots);
  const steps = [{ choice: 0, label: 'init start', state: s }];
  for (const c of choices) {
    const inst = model.instances[c]!;
    const t = new Int32Array(s);
    if (inst.rule.name === 'Tick') t[0] = 1 - (t[0] as number);
    if (inst.rule.name === 'Go') t[1] = 1;
    steps.push({ choice: c, label: inst.label, state: t });
    s = t;
  }
  return { protocol: model.protocol, variant: null, params: model.params, engine: 'test', property: 'reaches', requirement: 'S-1', steps, loop };
};
const [SPIN, TICK, GO] = [0, 1, 2];

describe('the lasso check', () => {
  const goal = (m: ReturnType<typeof buildModel>) => eventually('reaches', 'S-1', 'the goal is reached', (m.handles as { done: never }).done);
  const verdict = (go: string, choices: number[], loop: number, fairness?: 'none' | 'declared') => {
    const m = buildModel(spinner, { params: { go } });
    const r = checkLasso(m, lasso(m, choices, loop), goal(m), fairness ? { fairness } : {});
    return r.ok ? `ok ${r.kind} ${r.loopSteps}` : `fail ${r.message}`;
  };

  it('a one-step loop that never takes an enabled weakly fair Go is unfair; with no fairness it is a counterexample', () => {
    expect(verdict('weak', [TICK, SPIN], 1)).toBe('fail the loop is unfair: weak Go() not met');
    expect(verdict('weak', [TICK, SPIN], 1, 'none')).toBe('ok cycle 1');
    expect(verdict('none', [TICK, SPIN], 1)).toBe('ok cycle 1');
    expect(verdict('strong', [TICK, SPIN], 1)).toBe('fail the loop is unfair: strong Go() not met');
  });

  it('a one-step loop where Go is disabled is fair under weak and strong fairness', () => {
    expect(verdict('weak', [SPIN], 0)).toBe('ok cycle 1');
    expect(verdict('strong', [SPIN], 0)).toBe('ok cycle 1');
  });

  it('a loop where Go is enabled in some states only: weak fairness accepts it, strong fairness does not', () => {
    expect(verdict('weak', [TICK, TICK], 0)).toBe('ok cycle 2');
    expect(verdict('strong', [TICK, TICK], 0)).toBe('fail the loop is unfair: strong Go() not met');
    expect(verdict('strong', [TICK, TICK, TICK], 1)).toBe('fail the loop is unfair: strong Go() not met');
  });

  it('a loop that does not close, a tampered state, or a goal that is reached is rejected', () => {
    expect(verdict('none', [TICK], 0)).toBe('fail the loop does not close: the last state differs from state 0');
    expect(verdict('none', [TICK, GO], 1)).toMatch(/^fail /);
    const m = buildModel(spinner, { params: { go: 'none' } });
    const good = lasso(m, [TICK, TICK], 0);
    for (let i = 0; i < good.steps.length; i++) {
      for (let j = 0; j < 2; j++) {
        const steps = good.steps.map((s) => ({ ...s, state: new Int32Array(s.state) }));
        steps[i]!.state[j] = 1 - (steps[i]!.state[j] as number);
        const r = checkLasso(m, { ...good, steps }, goal(m));
        expect(r.ok ? 'ok' : r.step).toBe(i === 2 && j === 0 ? 2 : i);
      }
    }
  });

  it('a trace without a valid loop index is not a lasso', () => {
    const m = buildModel(spinner, { params: { go: 'none' } });
    const t = lasso(m, [TICK, TICK], 0);
    for (const loop of [undefined, -1, 3, 0.5]) {
      const r = checkLasso(m, { ...t, ...(loop === undefined ? { loop: undefined } : { loop }) }, goal(m));
      expect(r.ok ? 'ok' : r.message).toBe('the trace has no valid loop index: it is not a lasso');
    }
    expect(checkLasso(m, { ...t, loop: 2 }, goal(m)).ok).toBe(false);
    const r = checkLasso(m, t, goal(m));
    expect(r.ok && [r.kind, r.loop, r.loopSteps, r.each, r.fairness]).toEqual(['cycle', 0, 2, null, 'declared']);
  });

  it('replays every step: a wrong start choice, an unknown or disabled instance, a model error', () => {
    const m = buildModel(spinner, { params: { go: 'none' } });
    const t = lasso(m, [TICK, TICK], 0);
    const withStep = (i: number, choice: number) => ({ ...t, steps: t.steps.map((s, k) => (k === i ? { ...s, choice } : s)) });
    const msg = (tr: Trace) => {
      const r = checkLasso(m, tr, goal(m));
      return r.ok ? 'ok' : `${r.step}: ${r.message}`;
    };
    expect(msg(withStep(0, 1))).toBe('0: start choice 1 names no start state (the model has 1)');
    expect(msg(withStep(1, 9))).toBe('1: choice 9 names no rule instance (the model has 3)');
    expect(msg(withStep(1, GO))).toBe('1: Go() is not enabled in the state before step 1');
    expect(msg(withStep(1, SPIN))).toBe('1: Spin() does not produce the stored state of step 1');
    expect(msg({ ...t, steps: t.steps.map((s, k) => (k === 0 ? { ...s, state: Int32Array.from([1, 0]) } : s)) })).toBe(
      "0: the stored start state differs from start state 'start'",
    );
  });

  it('the last state alone is a loop only when nothing is enabled there', () => {
    expect(verdict('none', [TICK], 1)).toBe('fail the loop is the last state alone, but it is not a stopping state: Spin(), Tick(), Go() enabled');
    const m = buildModel(spinner, { params: { go: 'none' } });
    const r = checkLasso(m, lasso(m, [TICK, GO], 2), alwaysEventually('never', 'S-2', 'never holds', not(m.handles.done)));
    expect(r.ok && r.kind).toBe('stop');
  });

  it('leadsTo and alwaysEventually count the goal from the right state on', () => {
    const m = buildModel(spinner, { params: { go: 'none' } });
    const { t, done } = m.handles;
    const loop = lasso(m, [TICK, TICK], 0);
    // t holds in state 1 only, which is inside the loop: t holds infinitely often.
    expect(checkLasso(m, loop, alwaysEventually('t-often', 'S-3', 't infinitely often', t)).ok).toBe(false);
    expect(checkLasso(m, loop, alwaysEventually('done-often', 'S-4', 'done infinitely often', done)).ok).toBe(true);
    expect(checkLasso(m, loop, leadsTo('t-done', 'S-5', 't leads to done', t, done)).ok).toBe(true);
    expect(checkLasso(m, loop, leadsTo('done-t', 'S-6', 'done leads to t', done, t)).ok).toBe(false);
    expect(checkLasso(m, loop, eventually('t', 'S-7', 't eventually', eq(t, true))).ok).toBe(false);
  });
});
