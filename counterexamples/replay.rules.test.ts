/**
 * Replay's verdicts on a counter small enough to write every trace by hand: each way a trace can stop
 * matching the model (with the message it gives), a trace that starts in a stored state (a
 * counterexample to induction), model errors in a start state, in a step and in the failing choice
 * recorded after the last state, which violation is reported when several happen (the first), step
 * properties checked on their own rule's steps only, and the deadlock check at the end (off, on a
 * lasso, in a legal end state, or hidden behind an earlier violation).
 */
import { describe, expect, it } from 'vitest';
import { add, eq, lt, ne, pre, unwrap } from '../model/lang/expr.js';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { option, range } from '../model/lang/types.js';
import { DEADLOCK, invariant, stepProperty } from '../properties/property.js';
import { replayTrace } from './replay.js';
import type { Trace } from './trace.js';

/**
 * n counts 0..3 by Inc, or doubles from 1 to 2 (Dbl). Variants: `end` (3 is a legal end state),
 * `peek` (Peek, enabled at 3, unwraps o, which is none: a model error), `bad-init` (a second start
 * state out of range).
 */
const counter = defineProtocol({
  name: 'replay-counter',
  summary: 'a counter',
  spec: 'counterexamples/replay.rules.test.ts',
  params: {},
  variants: [
    { name: 'end', summary: '3 is a legal end state', cites: 'test' },
    { name: 'peek', summary: 'Peek unwraps none at 3', cites: 'test' },
    { name: 'bad-init', summary: 'a start state out of range', cites: 'test' },
  ],
  build(b, cfg) {
    const n = b.v('n', range(0, 3));
    const o = b.v('o', option(range(0, 3)));
    b.init('zero', () => []);
    if (cfg.is('bad-init')) b.init('over', () => [assign(n, add(n, 4))]);
    b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
    b.rule('Dbl', {}, () => ({ guard: eq(n, 1), body: [assign(n, 2)] }));
    if (cfg.is('peek')) b.rule('Peek', {}, () => ({ guard: eq(n, 3), body: [assign(n, unwrap(o))] }));
    if (cfg.is('end')) b.endState(() => eq(n, 3));
    return { n, o };
  },
});
const model = buildModel(counter);
const { n } = model.handles;
const [INC, DBL, PEEK] = [0, 1, 2];
const LABEL = ['Inc()', 'Dbl()', 'Peek()'];

/** A trace from start state `init` through `choices`, with the states given (n values; o is none). */
function trace(ns: number[], choices: number[], more: Partial<Trace> = {}, init = 0): Trace {
  return {
    protocol: 'replay-counter',
    variant: null,
    params: {},
    engine: 'test',
    property: null,
    requirement: null,
    steps: ns.map((v, i) => ({
      choice: i === 0 ? init : (choices[i - 1] as number),
      label: i === 0 ? 'init zero' : (LABEL[choices[i - 1] as number] as string),
      state: Int32Array.from([v, -1]),
    })),
    ...more,
  };
}

describe('a trace that no longer matches the model', () => {
  const mismatch = (t: Trace) => replayTrace(model, [], t).mismatch;
  it('names the step and what differs, stored against recomputed', () => {
    expect(mismatch(trace([1], []))).toEqual({ step: 0, message: 'start state differs: n: stored 1, recomputed 0' });
    expect(mismatch(trace([0, 2], [INC]))).toEqual({ step: 1, message: 'state after Inc() differs: n: stored 2, recomputed 1' });
    expect(mismatch(trace([0, 2], [DBL]))).toEqual({ step: 1, message: 'Dbl() is not enabled in the state before step 1' });
    expect(mismatch(trace([0], [], {}, 1))).toEqual({ step: 0, message: 'start state #1 does not exist (the model has 1)' });
    expect(mismatch(trace([0, 1], [5]))).toEqual({ step: 1, message: 'rule instance #5 does not exist (the model has 2)' });
    expect(mismatch({ ...trace([0], []), steps: [] })).toEqual({ step: 0, message: 'the trace has no states' });
  });

  it('a step labelled as another rule is a mismatch; a step labelled ? is taken by its choice', () => {
    const t = trace([0, 1], [INC]);
    const relabelled = { ...t, steps: [t.steps[0]!, { ...t.steps[1]!, label: 'Dbl()' }] };
    expect(mismatch(relabelled)).toEqual({ step: 1, message: 'choice #0 is now Inc(), the trace says Dbl()' });
    const unknown = { ...t, steps: [t.steps[0]!, { ...t.steps[1]!, label: '?' }] };
    const r = replayTrace(model, [], unknown);
    expect(r.mismatch).toBeNull();
    expect(r.labels).toEqual(['init zero', 'Inc()']);
  });

  it('the states and labels replayed so far are returned with the mismatch', () => {
    const r = replayTrace(model, [], trace([0, 1, 3], [INC, INC]));
    expect(r.mismatch?.step).toBe(2);
    expect(r.states.map((s) => Array.from(s))).toEqual([
      [0, -1],
      [1, -1],
    ]);
    expect(r.labels).toEqual(['init zero', 'Inc()']);
  });
});

describe('a counterexample to induction starts in its stored state', () => {
  it('which need not be a start state, and is labelled so', () => {
    const t = trace([2, 3], [INC], {}, -1);
    const r = replayTrace(model, [invariant('below-3', 'R-1', 'n below 3', lt(n, 3))], t);
    expect(r.mismatch).toBeNull();
    expect(r.labels).toEqual(['start in an arbitrary state (need not be reachable)', 'Inc()']);
    expect(r.states.map((s) => s[0])).toEqual([2, 3]);
    expect(r.violation).toMatchObject({ step: 1, property: 'below-3', kind: 'invariant' });
  });
});

describe('model errors', () => {
  it('in a start state: no states, the error at step 0', () => {
    const m = buildModel(counter, { variant: 'bad-init' });
    const r = replayTrace(m, [], trace([0], [], {}, 1));
    expect(r.mismatch).toBeNull();
    expect(r.states).toEqual([]);
    expect(r.modelError?.step).toBe(0);
    expect(r.modelError?.message).toMatch(/out of range 0\.\.3/);
  });

  it('in a step: the error at that step', () => {
    const m = buildModel(counter, { variant: 'peek' });
    const r = replayTrace(m, [], trace([0, 1, 2, 3, 0], [INC, INC, INC, PEEK]));
    expect(r.mismatch).toBeNull();
    expect(r.modelError?.step).toBe(4);
    expect(r.modelError?.message).toMatch(/Peek\(\)/);
    expect(r.states).toHaveLength(4);
  });

  it('in the failing choice recorded after the last state: the error one past the last step; not when that choice is disabled or absent', () => {
    const m = buildModel(counter, { variant: 'peek' });
    const upTo3 = trace([0, 1, 2, 3], [INC, INC, INC]);
    const r = replayTrace(m, [], { ...upTo3, extra: { failingChoice: PEEK } });
    expect(r.modelError?.step).toBe(4);
    expect(r.modelError?.message).toMatch(/Peek\(\)/);
    expect(r.violation).toBeNull();
    expect(replayTrace(m, [], upTo3).modelError).toBeNull();
    expect(replayTrace(m, [], { ...upTo3, extra: { failingChoice: String(PEEK) } }).modelError).toBeNull();
    expect(replayTrace(m, [], { ...upTo3, extra: { failingChoice: 9 } }).modelError).toBeNull();
    const upTo2 = trace([0, 1, 2], [INC, INC]);
    expect(replayTrace(m, [], { ...upTo2, extra: { failingChoice: PEEK } }).modelError).toBeNull();
  });
});

describe('which violation replay reports', () => {
  const not1 = invariant('not-1', 'R-2', 'n is never 1', ne(n, 1));
  const not2 = invariant('not-2', 'R-3', 'n is never 2', ne(n, 2));
  const incFromZero = stepProperty(model, 'inc-from-zero', 'R-4', 'Inc only from 0', 'Inc', () => eq(pre(n), 0));
  const dblGives2 = stepProperty(model, 'dbl-gives-2', 'R-5', 'Dbl ends at 2', 'Dbl', () => eq(n, 2));
  const everyFrom0 = stepProperty(model, 'every-from-0', 'R-6', 'every step from 0', null, () => eq(pre(n), 0));

  it('the first one, whatever the order of the properties', () => {
    const t = trace([0, 1, 2], [INC, INC]);
    for (const props of [
      [not1, not2],
      [not2, not1],
    ]) {
      expect(replayTrace(model, props, t).violation).toEqual({ step: 1, property: 'not-1', requirement: 'R-2', kind: 'invariant', doc: 'n is never 1' });
    }
    // An invariant broken before a step property: the invariant.
    expect(replayTrace(model, [not1, incFromZero], t).violation?.property).toBe('not-1');
    // A step property broken before an invariant: the step property, at its step.
    expect(replayTrace(model, [not2, incFromZero], t).violation).toEqual({
      step: 2,
      property: 'inc-from-zero',
      requirement: 'R-4',
      kind: 'step',
      doc: 'Inc only from 0',
    });
    expect(replayTrace(model, [not2, everyFrom0], trace([0, 1, 2, 3], [INC, INC, INC])).violation?.property).toBe('every-from-0');
  });

  it('a step property is checked on the steps of its rule only', () => {
    // Inc from 1 and from 2 break inc-from-zero; the Dbl step does not, and dbl-gives-2 holds.
    expect(replayTrace(model, [incFromZero, dblGives2], trace([0, 1, 2], [INC, DBL])).violation).toBeNull();
    expect(replayTrace(model, [dblGives2], trace([0, 1, 2, 3], [INC, INC, INC]), { checkDeadlock: false }).violation).toBeNull();
    expect(replayTrace(model, [incFromZero], trace([0, 1, 2], [INC, DBL])).violation).toBeNull();
    expect(replayTrace(model, [incFromZero], trace([0, 1, 2, 3], [INC, DBL, INC])).violation?.step).toBe(3);
  });
});

describe('the deadlock check at the end of a trace', () => {
  const to3 = trace([0, 1, 2, 3], [INC, INC, INC]);
  it('a last state where nothing is enabled and that is no legal end state is a deadlock at the last step', () => {
    expect(replayTrace(model, [], to3).violation).toEqual({
      step: 3,
      property: DEADLOCK,
      requirement: 'deadlock',
      kind: 'deadlock',
      doc: 'no rule is enabled and the state is not a legal end state',
    });
    expect(replayTrace(model, [], to3, { checkDeadlock: true }).violation?.kind).toBe('deadlock');
  });

  it('not when switched off, on a lasso, in a legal end state, or where one rule of two is enabled', () => {
    expect(replayTrace(model, [], to3, { checkDeadlock: false }).violation).toBeNull();
    expect(replayTrace(model, [], { ...to3, loop: 3 }).violation).toBeNull();
    expect(replayTrace(buildModel(counter, { variant: 'end' }), [], to3).violation).toBeNull();
    // At n = 2 Inc is enabled and Dbl is not.
    expect(replayTrace(model, [], trace([0, 1, 2], [INC, INC])).violation).toBeNull();
  });

  it('an earlier violation is kept', () => {
    const not1 = invariant('not-1', 'R-2', 'n is never 1', ne(n, 1));
    expect(replayTrace(model, [not1], to3).violation?.property).toBe('not-1');
  });
});
