/**
 * The soundness guard of the SMT engines (replay.ts) on hand-made decoded paths: every way a
 * claimed path can differ from the interpreter must be named, and what is found at the end of a
 * path (a stuck state, a broken property) must be what the interpreter finds. These are the checks
 * that turn a wrong z3 answer into MC040 instead of a false counterexample, so they are tested
 * without z3, on paths that are wrong on purpose.
 */
import { describe, expect, it } from 'vitest';
import { add, eq, le, lt, ne, pre, unwrap } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { option, range } from '../../model/lang/types.js';
import { invariant, stepProperty } from '../../properties/property.js';
import { type DecodedPath, modelErrorOf, replayPath, stuckFinding, traceOf, violationFinding, violationOf } from './replay.js';

/** n counts to 3 (Inc) or jumps to 2 (Jump); Peek unwraps o, which is none: a model error. */
const counter = defineProtocol({
  name: 'guard-counter',
  summary: 'a counter with a jump and a bad peek',
  spec: 'checker/smt/replayGuard.test.ts',
  params: {},
  variants: [
    { name: 'peek', summary: 'Peek is enabled at 3 and unwraps none', cites: 'test' },
    { name: 'end', summary: '3 is a legal end state', cites: 'test' },
    { name: 'bad-end', summary: 'the end-state predicate unwraps none', cites: 'test' },
  ],
  build(b, cfg) {
    const n = b.v('n', range(0, 3));
    const o = b.v('o', option(range(0, 3)));
    b.init('zero', () => []);
    b.init('one', () => [assign(n, 1)]);
    b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
    b.rule('Jump', {}, () => ({ guard: eq(n, 0), body: [assign(n, 2)] }));
    if (cfg.is('peek')) b.rule('Peek', {}, () => ({ guard: eq(n, 3), body: [assign(n, unwrap(o))] }));
    if (cfg.is('end')) b.endState(() => eq(n, 3));
    if (cfg.is('bad-end')) b.endState(() => eq(unwrap(o), 3));
    return { n, o };
  },
});
const model = buildModel(counter);
const { n } = model.handles;
const [INC, JUMP, PEEK] = [0, 1, 2];
const S = (v: number) => Int32Array.from([v, -1]);
const path = (choices: number[], states: number[], fromInit = true): DecodedPath => ({ choices, states: states.map(S), fromInit });

describe('replayPath', () => {
  it('accepts a path the interpreter reproduces, from a start state or from an arbitrary state', () => {
    expect(replayPath(model, path([0, INC, INC], [0, 1, 2]))).toBeNull();
    expect(replayPath(model, path([1, INC], [1, 2]))).toBeNull();
    expect(replayPath(model, path([-1, INC], [2, 3], false))).toBeNull();
  });

  it('names each way a path can be wrong', () => {
    expect(replayPath(model, path([0, INC], [0]))).toBe('decoded path has no states or mismatched choices');
    expect(replayPath(model, path([], []))).toBe('decoded path has no states or mismatched choices');
    expect(replayPath(model, path([2], [0]))).toBe('choice 0 names no start state (2)');
    expect(replayPath(model, path([1], [0]))).toBe('start state differs: n: z3 0, interpreter 1');
    expect(replayPath(model, path([0, 5], [0, 1]))).toBe('step 1: choice 5 names no rule instance');
    expect(replayPath(model, path([0, INC, JUMP], [0, 1, 2]))).toBe('step 2: Jump() is not enabled');
    expect(replayPath(model, path([0, JUMP, INC], [0, 2, 2]))).toBe('step 2 (Inc()) differs: n: z3 2, interpreter 3');
    const peek = buildModel(counter, { variant: 'peek' });
    expect(replayPath(peek, { choices: [0, JUMP, INC, PEEK], states: [0, 2, 3, 0].map(S), fromInit: true })).toMatch(
      /^the interpreter raises a model error on the path: in rule Peek\(\): unwrap of none/,
    );
  });

  it('an arbitrary first state is taken as it is', () => {
    expect(replayPath(model, path([-1, INC], [3, 3], false))).toBe('step 1: Inc() is not enabled');
  });
});

describe('stuckFinding', () => {
  it('a state where an enabled rule raises a model error, or no rule is enabled and it is not an end', () => {
    const peek = buildModel(counter, { variant: 'peek' });
    expect(stuckFinding(peek, S(3), true)).toEqual({ kind: 'error', via: PEEK, message: 'in rule Peek(): unwrap of none' });
    expect(stuckFinding(model, S(3), true)).toEqual({ kind: 'deadlock' });
    expect(stuckFinding(model, S(3), false)).toBeNull();
    expect(stuckFinding(model, S(1), true)).toBeNull();
    expect(stuckFinding(buildModel(counter, { variant: 'end' }), S(3), true)).toBeNull();
    expect(stuckFinding(buildModel(counter, { variant: 'end' }), S(2), true)).toBeNull();
    expect(stuckFinding(buildModel(counter, { variant: 'bad-end' }), S(3), true)).toEqual({
      kind: 'error',
      via: -1,
      message: 'in rule property: unwrap of none',
    });
  });
});

describe('violationFinding', () => {
  const small = invariant('small', 'G-1', 'n stays below 3', lt(n, 3));
  const notTwo = invariant('not-two', 'G-2', 'n is never 2', ne(n, 2));
  const byOne = stepProperty(model, 'by-one', 'G-3', 'Inc adds one', 'Inc', () => eq(n, add(pre(n), 1)));
  const slow = stepProperty(model, 'slow', 'G-4', 'no step adds more than one', null, () => le(n, add(pre(n), 1)));
  it('a step property of the last step first, then the invariants in order', () => {
    expect(violationFinding(model, [small, notTwo], [byOne, slow], path([0, JUMP], [0, 2]))).toEqual({ kind: 'step', property: slow });
    expect(violationFinding(model, [notTwo, small], [byOne], path([0, JUMP], [0, 2]))).toEqual({ kind: 'invariant', property: notTwo });
    expect(violationFinding(model, [small, notTwo], [], path([0, INC, INC, INC], [0, 1, 2, 3]))).toEqual({ kind: 'invariant', property: small });
    expect(violationFinding(model, [small], [byOne, slow], path([0, INC], [0, 1]))).toBeNull();
  });
  it('a step property of one rule is not checked on another rule’s step; a start state has no step', () => {
    const never = stepProperty(model, 'never', 'G-5', 'Inc never runs', 'Inc', () => false);
    expect(violationFinding(model, [], [never], path([0, JUMP], [0, 2]))).toBeNull();
    expect(violationFinding(model, [], [never], path([0, INC], [0, 1]))).toEqual({ kind: 'step', property: never });
    expect(violationFinding(model, [notTwo], [never], path([-1], [2], false))).toEqual({ kind: 'invariant', property: notTwo });
  });
  it('a property that raises a model error is a model error', () => {
    const peeky = invariant('peeky', 'G-6', 'o holds 0', eq(unwrap(model.handles.o), 0));
    expect(violationFinding(model, [peeky], [], path([0], [0]))).toEqual({ kind: 'error', via: -1, message: 'in rule property: unwrap of none' });
  });
});

describe('traces and messages of findings', () => {
  it('label every step, from a start state or an arbitrary one, with the engine data', () => {
    const t = traceOf(model, path([1, INC, 9], [1, 2, 3]), { name: 'small', requirement: 'G-1' }, { depth: 2 }, 'a note');
    expect(t.steps.map((s) => [s.choice, s.label])).toEqual([
      [1, 'init one'],
      [INC, 'Inc()'],
      [9, '#9'],
    ]);
    expect([t.engine, t.property, t.requirement, t.extra, t.note, t.protocol, t.variant]).toEqual([
      'smt',
      'small',
      'G-1',
      { depth: 2 },
      'a note',
      'guard-counter',
      null,
    ]);
    const cti = traceOf(model, path([-1, INC], [2, 3], false), null, {});
    expect(cti.steps[0]?.label).toBe('arbitrary state (not necessarily reachable)');
    expect([cti.property, cti.requirement, 'note' in cti]).toEqual([null, null, false]);
    expect(traceOf(model, path([7], [0]), null, {}).steps[0]?.label).toBe('init 7');
  });

  it('word violations as the explicit engine does, and model errors with the failing choice', () => {
    const small = invariant('small', 'G-1', 'n stays below 3', lt(n, 3));
    const p = path([0, JUMP, INC], [0, 2, 3]);
    expect(violationOf(model, { kind: 'invariant', property: small }, p, {})).toMatchObject({
      property: 'small',
      requirement: 'G-1',
      kind: 'invariant',
      message: 'invariant small (G-1) violated: n stays below 3',
    });
    const step = stepProperty(model, 'flat', 'G-7', 'n never moves', null, () => eq(n, pre(n)));
    expect(violationOf(model, { kind: 'step', property: step }, p, {}).message).toBe('step property flat (G-7) violated by Inc(): n never moves');
    const dl = violationOf(model, { kind: 'deadlock' }, p, { depth: 2 });
    expect([dl.property, dl.requirement, dl.kind, dl.trace?.property, dl.trace?.extra]).toEqual(['deadlock', 'deadlock', 'deadlock', 'deadlock', { depth: 2 }]);
    const err = modelErrorOf(model, { kind: 'error', via: PEEK, message: 'boom' }, p, { depth: 2 });
    expect(err.message).toBe('model error boom (after 2 steps; the trace leads to the state where it fails)');
    expect([err.trace.extra, err.trace.note]).toEqual([{ depth: 2, failingChoice: PEEK }, 'boom']);
    expect(modelErrorOf(model, { kind: 'error', via: -1, message: 'boom' }, p, { depth: 2 }).trace.extra).toEqual({ depth: 2 });
  });
});
