/**
 * Negative cases of the conformance check (runConformance): one deliberately wrong system per
 * failure kind, on a toy model small enough to follow by hand. A system here is a scripted list of
 * steps over a state `{ n, done }`, so each test says exactly which step is wrong and how; the check
 * must name that step, its label and the failure kind, and a correct script must pass.
 */
import { describe, expect, it } from 'vitest';
import type { HarnessBinding } from '../harness/binding.js';
import type { Action, Scheduler } from '../harness/scheduler.js';
import { choiceListScheduler } from '../harness/scheduler.js';
import type { Damage, SimSystem, StepRecord } from '../harness/simSystem.js';
import { add, and, eq, le, lt, not, pre } from '../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { bool, range } from '../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../properties/property.js';
import { runConformance, stateDiff } from './conformance.js';

/**
 * The toy: n counts 0..2 (Inc), then Finish sets done, a legal end state. Variants: `no-end` (no
 * end state: done is a deadlock), `overflow` (Inc is enabled at 2 and overflows: a model error).
 */
const toy = defineProtocol({
  name: 'toy-conformance',
  summary: 'a counter that finishes',
  spec: 'harness/conformance.negative.test.ts',
  params: {},
  variants: [
    { name: 'no-end', summary: 'no legal end state', cites: 'test' },
    { name: 'overflow', summary: 'Inc overflows at 2', cites: 'test' },
  ],
  build(b, cfg) {
    const n = b.v('n', range(0, 2));
    const done = b.v('done', bool);
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, cfg.is('overflow') ? 3 : 2), body: [assign(n, add(n, 1))] }));
    b.rule('Finish', {}, () => ({ guard: and(eq(n, 2), not(done)), body: [assign(done, true)] }));
    if (!cfg.is('no-end')) b.endState(() => done);
    return { n, done };
  },
});

type ToyState = { n: number; done: boolean };

/** One scripted step: its label, whether it is internal, and what it does to the state. */
interface Scripted {
  readonly label: string;
  readonly internal?: boolean;
  readonly effect: (s: ToyState) => void;
}

/** A system that offers the scripted steps one at a time (nothing once the script is used up). */
class ScriptedSystem implements SimSystem {
  readonly damage: Damage[] = [];
  state: ToyState;
  private next = 0;
  hung = 0;
  unmappableAfter: number | null = null;
  constructor(
    private readonly script: readonly Scripted[],
    start: ToyState = { n: 0, done: false },
  ) {
    this.state = { ...start };
  }
  enabled(): Action[] {
    const s = this.script[this.next];
    if (!s) return [];
    return [{ label: s.label, actor: 'driver', internal: s.internal ?? false, run: () => s.effect(this.state) }];
  }
  perform(a: Action): StepRecord {
    a.run();
    this.next++;
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: [] };
  }
  reportHung(): readonly Damage[] {
    this.hung++;
    return [];
  }
  get performed(): number {
    return this.next;
  }
}

const stateOf = (model: Model, sys: ScriptedSystem): Int32Array | string => {
  if (sys.unmappableAfter !== null && sys.performed >= sys.unmappableAfter) return `no model state for n=${sys.state.n}`;
  void model;
  return Int32Array.from([sys.state.n, sys.state.done ? 1 : 0]);
};

/** The system as a package's harness binding gives it to the conformance check. */
const bindingOf = (sys: ScriptedSystem): HarnessBinding<ScriptedSystem> => ({
  knobs: ['no-end', 'overflow'],
  system: () => sys,
  stateOf,
  damageGuide: () => () => false,
  continuation: { maxAdded: 0, maxSeen: 0, deadlocks: false },
  words: { intact: '', before: '', shown: '' },
});

/** runConformance over a scripted system (the check as a package's binding drives it). */
const conform = (model: Model, props: readonly Property[], schedule: Scheduler, sys: ScriptedSystem, maxSteps?: number) =>
  runConformance(bindingOf(sys), model, props, schedule, maxSteps !== undefined ? { maxSteps } : {});

const inc: Scripted = { label: 'Inc()', effect: (s) => void s.n++ };
const finish: Scripted = { label: 'Finish()', effect: (s) => void (s.done = true) };
const wait: Scripted = { label: 'Wait()', internal: true, effect: () => {} };
const all = (): Scheduler => ({ choose: (acts) => (acts.length ? 0 : null) });

const run = (
  script: readonly Scripted[],
  opts: { variant?: string; props?: readonly Property[]; start?: ToyState; maxSteps?: number; unmappableAfter?: number } = {},
) => {
  const model = buildModel(toy, { variant: opts.variant ?? null });
  const sys = new ScriptedSystem(script, opts.start);
  if (opts.unmappableAfter !== undefined) sys.unmappableAfter = opts.unmappableAfter;
  const r = conform(model, opts.props ?? [], all(), sys, opts.maxSteps);
  return { r, sys, model };
};

describe('a correct system conforms', () => {
  it('Inc, a wait, Inc, Finish: no failure, no violation, internal steps counted apart', () => {
    const { r, sys } = run([inc, wait, inc, finish]);
    expect(r.failure).toBeNull();
    expect(r.violation).toBeNull();
    expect(r.labels).toEqual(['Inc()', 'Wait()', 'Inc()', 'Finish()']);
    expect([r.steps, r.modelSteps]).toEqual([4, 3]);
    // It ended because the system could do nothing, in a legal end state: the hang is reported.
    expect(sys.hung).toBe(1);
  });

  it('maxSteps stops the run after exactly that many steps', () => {
    const { r, sys } = run([inc, inc, finish], { maxSteps: 2 });
    expect([r.steps, r.failure, sys.hung]).toEqual([2, null, 0]);
  });

  it('a scheduler that stops ends the run without a failure', () => {
    const model = buildModel(toy);
    const r = conform(model, [], choiceListScheduler([0]), new ScriptedSystem([inc, inc]));
    expect([r.steps, r.failure]).toEqual([1, null]);
  });
});

describe('each failure kind, from a deliberately wrong system', () => {
  it('wrong-start: the system starts where the model does not', () => {
    const { r } = run([inc], { start: { n: 1, done: false } });
    expect(r.failure).toEqual({ kind: 'wrong-start', step: 0, label: null, message: 'n: model 0, system 1' });
    expect(r.steps).toBe(0);
  });

  it('unmappable: the start state, or a later state, has no model state', () => {
    expect(run([inc], { unmappableAfter: 0 }).r.failure).toMatchObject({ kind: 'unmappable', step: 0, label: null, message: 'no model state for n=0' });
    expect(run([inc, inc], { unmappableAfter: 2 }).r.failure).toMatchObject({ kind: 'unmappable', step: 2, label: 'Inc()', message: 'no model state for n=2' });
  });

  it('not-allowed: a model step the model does not enable here', () => {
    const { r } = run([inc, finish]);
    expect(r.failure).toMatchObject({ kind: 'not-allowed', step: 2, label: 'Finish()' });
    expect(r.failure?.message).toMatch(/does not allow/);
  });

  it('a label is only a hint: a step labelled as no rule is a stutter when it changes nothing and internal-changed when it changes the state to no successor; an internal step is matched by its effect', () => {
    const bogus: Scripted = { label: 'Bogus()', effect: () => {} };
    const quiet = run([inc, bogus, inc, finish]).r;
    expect([quiet.failure, quiet.modelSteps, quiet.matched]).toEqual([null, 3, ['Inc()', null, 'Inc()', 'Finish()']]);
    const wild: Scripted = { label: 'Bogus()', effect: (s) => void (s.done = true) };
    expect(run([inc, wild]).r.failure).toEqual({ kind: 'internal-changed', step: 2, label: 'Bogus()', message: 'done: model false, system true' });
    const sneaky: Scripted = { label: 'Inc()', internal: true, effect: (s) => void s.n++ };
    const matched = run([sneaky, inc, finish]).r;
    expect([matched.failure, matched.matched]).toEqual([null, ['Inc()', 'Inc()', 'Finish()']]);
  });

  it('wrong-effect: a model step whose effect is not the rule’s', () => {
    const incTwice: Scripted = { label: 'Inc()', effect: (s) => void (s.n += 2) };
    const { r } = run([inc, wait, incTwice]);
    expect(r.failure).toEqual({ kind: 'wrong-effect', step: 3, label: 'Inc()', message: 'n: model 2, system 3' });
    // The failing step is not counted as a model step: only the first Inc was matched.
    expect(r.modelSteps).toBe(1);
  });

  it('internal-changed: an internal step that changes the mapped state', () => {
    const retry: Scripted = { label: 'Retry()', internal: true, effect: (s) => void (s.done = true) };
    const { r } = run([inc, retry]);
    expect(r.failure).toEqual({ kind: 'internal-changed', step: 2, label: 'Retry()', message: 'done: model false, system true' });
  });

  it('stuck: the system can do nothing while the model can move', () => {
    const { r, sys } = run([inc]);
    expect(r.failure).toEqual({ kind: 'stuck', step: 1, label: null, message: 'the system can do nothing, but the model can take Inc()' });
    expect(sys.hung).toBe(0);
  });

  it('model-error: the step the system takes raises a model error in the model', () => {
    const { r } = run([inc, inc, inc], { variant: 'overflow' });
    expect(r.failure).toMatchObject({ kind: 'model-error', step: 3, label: 'Inc()' });
    expect(r.failure?.message).toMatch(/out of range/);
    // The compiled rules do not know which rule failed; the interpreter, run again, names it.
    expect(r.failure?.message).toMatch(/Inc/);
  });
});

describe('which model step explains a driver step', () => {
  /** Inc and Bump both add one to n: every step of either has two model instances with its effect. */
  const twins = defineProtocol({
    name: 'twin-steps',
    summary: 'two rules with the same effect',
    spec: 'conformance/conformance.negative.test.ts',
    params: {},
    variants: [],
    build(b) {
      const n = b.v('n', range(0, 2));
      const done = b.v('done', bool);
      b.init('zero', () => []);
      b.rule('Inc', {}, () => ({ guard: lt(n, 2), body: [assign(n, add(n, 1))] }));
      b.rule('Bump', {}, () => ({ guard: lt(n, 2), body: [assign(n, add(n, 1))] }));
      b.endState(() => not(done));
      return { n, done };
    },
  });
  const bump: Scripted = { label: 'Bump()', effect: (s) => void s.n++ };
  const poke: Scripted = { label: 'Poke()', effect: (s) => void s.n++ };

  it("the instance the step's label names, when several have its effect, whether it is declared first or last", () => {
    const model = buildModel(twins);
    const r = conform(model, [], all(), new ScriptedSystem([bump, inc]));
    expect([r.failure, r.matched]).toEqual([null, ['Bump()', 'Inc()']]);
    // Only the matched instance's step properties are checked: Bump's is broken, Inc's is not.
    const noBump = stepProperty(model, 'no-bump', 'T-6', 'Bump never runs', 'Bump', () => false);
    expect(conform(model, [noBump], all(), new ScriptedSystem([inc, inc])).violation).toBeNull();
    expect(conform(model, [noBump], all(), new ScriptedSystem([inc, bump])).violation).toEqual({ step: 2, property: 'no-bump', requirement: 'T-6' });
  });

  it('the first instance in declaration order with its effect, when the label names no rule', () => {
    const r = conform(buildModel(twins), [], all(), new ScriptedSystem([poke, poke]));
    expect([r.failure, r.matched]).toEqual([null, ['Inc()', 'Inc()']]);
  });
});

describe('properties on the mapped states', () => {
  const model = buildModel(toy);
  const props: Property[] = [
    invariant('n-small', 'T-1', 'n stays at most 1', le(model.handles.n, 1)),
    stepProperty(model, 'inc-keeps-zero', 'T-2', 'Inc never leaves 0', 'Inc', () => eq(pre(model.handles.n), 0)),
    stepProperty(model, 'never-done', 'T-3', 'a step never sets done', null, () => not(model.handles.done)),
  ];

  it('the first broken property is reported at its step, and the run goes on', () => {
    const sys = new ScriptedSystem([inc, inc, finish]);
    const r = conform(model, props, all(), sys);
    // Step 2 (Inc from 1) breaks both the step property and the invariant: the step property is checked first.
    expect(r.violation).toEqual({ step: 2, property: 'inc-keeps-zero', requirement: 'T-2' });
    expect([r.failure, r.steps]).toEqual([null, 3]);
  });

  it('an invariant alone, and a step property of every rule', () => {
    const inv = conform(model, [props[0]!], all(), new ScriptedSystem([inc, inc]));
    expect(inv.violation).toEqual({ step: 2, property: 'n-small', requirement: 'T-1' });
    const step = conform(model, [props[2]!], all(), new ScriptedSystem([inc, inc, finish]));
    expect(step.violation).toEqual({ step: 3, property: 'never-done', requirement: 'T-3' });
  });

  it("a step property of one rule is checked on that rule's steps only: one that every Inc keeps and Finish would break is not reported", () => {
    const incBelowTwo = stepProperty(model, 'inc-from-below-two', 'T-5', 'Inc starts below 2', 'Inc', () => lt(pre(model.handles.n), 2));
    const r = conform(model, [incBelowTwo], all(), new ScriptedSystem([inc, inc, finish]));
    expect([r.failure, r.violation, r.matched]).toEqual([null, null, ['Inc()', 'Inc()', 'Finish()']]);
    // The same predicate over every rule is broken by Finish (from n = 2), at step 3.
    const everyRule = stepProperty(model, 'from-below-two', 'T-5', 'every step starts below 2', null, () => lt(pre(model.handles.n), 2));
    expect(conform(model, [everyRule], all(), new ScriptedSystem([inc, inc, finish])).violation).toEqual({
      step: 3,
      property: 'from-below-two',
      requirement: 'T-5',
    });
  });

  it('an invariant broken in the start state is reported at step 0', () => {
    const r = conform(model, [invariant('n-positive', 'T-4', 'n is never 0', lt(0, model.handles.n))], all(), new ScriptedSystem([]));
    expect(r.violation).toEqual({ step: 0, property: 'n-positive', requirement: 'T-4' });
  });

  it('the same model checked with other properties uses those properties', () => {
    expect(conform(model, props, all(), new ScriptedSystem([inc, inc])).violation).not.toBeNull();
    expect(conform(model, [], all(), new ScriptedSystem([inc, inc])).violation).toBeNull();
  });

  it('a system that stops where the model is stuck too is a deadlock unless the state is a legal end', () => {
    const end = conform(model, [], all(), new ScriptedSystem([inc, inc, finish]));
    expect([end.failure, end.violation]).toEqual([null, null]);
    const noEnd = buildModel(toy, { variant: 'no-end' });
    const sys = new ScriptedSystem([inc, inc, finish]);
    const dead = conform(noEnd, [], all(), sys);
    expect(dead.failure).toBeNull();
    expect(dead.violation).toEqual({ step: 3, property: 'deadlock', requirement: 'deadlock' });
    expect(sys.hung).toBe(1);
  });

  it('a deadlock does not hide a property broken earlier', () => {
    const noEnd = buildModel(toy, { variant: 'no-end' });
    const r = conform(noEnd, [invariant('n-small', 'T-1', 'n stays at most 1', le(noEnd.handles.n, 1))], all(), new ScriptedSystem([inc, inc, finish]));
    expect(r.violation).toEqual({ step: 2, property: 'n-small', requirement: 'T-1' });
  });
});

describe('stateDiff', () => {
  const five = buildModel(
    defineProtocol({
      name: 'five',
      summary: 'five flags',
      spec: 'test',
      params: {},
      variants: [],
      build(b) {
        for (const f of ['a', 'b', 'c', 'd', 'e']) b.v(f, bool);
        b.init('i', () => []);
        return {};
      },
    }),
  );
  it('lists the differing fields in words', () => {
    const model = buildModel(toy);
    expect(stateDiff(model, Int32Array.from([0, 0]), Int32Array.from([2, 1]))).toBe('n: model 0, system 2; done: model false, system true');
    expect(stateDiff(model, Int32Array.from([1, 0]), Int32Array.from([1, 0]))).toBe('');
  });
  it('names at most four fields, then how many differ', () => {
    expect(stateDiff(five, new Int32Array(5), Int32Array.from([1, 1, 1, 1, 0]))).toBe(
      'a: model false, system true; b: model false, system true; c: model false, system true; d: model false, system true',
    );
    expect(stateDiff(five, new Int32Array(5), Int32Array.from([1, 1, 1, 1, 1]))).toBe(
      'a: model false, system true; b: model false, system true; c: model false, system true; d: model false, system true; ... (5 fields)',
    );
  });
});
