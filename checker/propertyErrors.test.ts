/**
 * A property that cannot be evaluated (an unwrap of none in an invariant or a step property) is a
 * model error that names the property and ends its trace in the state where it fails, in the
 * explicit and random engines, and replaying that trace reproduces it. Before, both engines said
 * "in rule ?: unwrap of none", with a trace that stopped one step short (the compiled code does not
 * know which property it evaluates, and the reference semantics was asked only about rules).
 */
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../counterexamples/replay.js';
import { and, eq, implies, not, pre, some, unwrap } from '../model/lang/expr.js';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { bool, option } from '../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../properties/property.js';
import { modelErrorMessage } from './engine.js';
import { explicitCheck } from './explicit/explicit.js';
import { randomCheck } from './random/random.js';

/** x: option(P) starts none; Set(p) makes it some(p); SetY raises y (x stays as it is); Poke is never enabled. */
const model = (symmetric: boolean, initFails = false, twoInits = false) =>
  buildModel(
    defineProtocol({
      name: 'property-errors',
      summary: 'properties that unwrap an option',
      spec: 'checker/propertyErrors.test.ts',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 2, { symmetric });
        const x = b.v('x', option(P));
        const y = b.v('y', bool);
        b.init('start', () => (initFails ? [assign(x, some(unwrap(x)))] : []));
        if (twoInits) b.init('other', () => [assign(y, true)]);
        // First in instance order and never enabled: taken anyway, it would raise y with x none first.
        b.rule('Poke', {}, () => ({ guard: and(y, not(y)), body: [assign(y, true)] }));
        b.rule('Set', { p: P }, ({ p }) => ({ guard: true, body: [assign(x, some(p))] }));
        b.rule('SetY', {}, () => ({ guard: true, body: [assign(y, true)] }));
        return { x, y };
      },
    }),
  );

type Case = readonly [string, (m: ReturnType<typeof model>) => Property, readonly string[], string];
const cases: readonly Case[] = [
  [
    'an invariant, on the state after a step',
    (m) => invariant('x-with-y', 'R-1', '', implies(m.handles.y, eq(unwrap(m.handles.x), unwrap(m.handles.x)))),
    ['init start', 'SetY()'],
    'in property x-with-y: unwrap of none, on the state after SetY()',
  ],
  [
    'a step property, on the step',
    (m) => stepProperty(m, 'y-step', 'R-2', '', 'SetY', () => eq(unwrap(m.handles.x), unwrap(m.handles.x))),
    ['init start', 'SetY()'],
    'in property y-step: unwrap of none, on the state after SetY()',
  ],
  [
    "a step property of one rule, on that rule's step only (Set, first in order, would fail it too)",
    (m) => stepProperty(m, 'y-pre', 'R-4', '', 'SetY', () => eq(unwrap(pre(m.handles.x)), unwrap(pre(m.handles.x)))),
    ['init start', 'SetY()'],
    'in property y-pre: unwrap of none, on the state after SetY()',
  ],
  [
    'a step property of every rule',
    (m) => stepProperty(m, 'any-step', 'R-5', '', null, () => eq(unwrap(m.handles.x), unwrap(m.handles.x))),
    ['init start', 'SetY()'],
    'in property any-step: unwrap of none, on the state after SetY()',
  ],
  [
    'an invariant, on the start state',
    (m) => invariant('x-set', 'R-3', '', eq(unwrap(m.handles.x), unwrap(m.handles.x))),
    ['init start'],
    'in property x-set: unwrap of none, on start state start',
  ],
];

describe('a property that cannot be evaluated is a model error naming it, in the state where it fails', () => {
  it.each(cases)('%s: explicit (bfs, dfs, with and without symmetry) and random name it, and replay reproduces it', (_, prop, labels, note) => {
    for (const symmetric of [false, true]) {
      const m = model(symmetric);
      const properties = [prop(m)];
      const runs = [
        ...(['bfs', 'dfs'] as const).map((strategy) => explicitCheck({ model: m, properties, limits: {}, strategy, symmetry: symmetric })),
        randomCheck({ model: m, properties, limits: { depth: 4 }, runs: 50, seed: 3 }),
      ];
      for (const r of runs) {
        expect([r.status, r.status === 'error' && r.code]).toEqual(['error', 'MC011']);
        if (r.status !== 'error') continue;
        const steps = r.trace?.steps ?? [];
        // The random engine may set x first; its trace still ends with the step after which it fails.
        expect(steps.map((s) => s.label).slice(-labels.length)).toEqual(labels);
        expect([r.trace?.note, r.message]).toEqual([note, modelErrorMessage(note, steps.length - 1)]);
        // Not a rule's failure: no failing choice to apply after the last state.
        expect(r.trace?.extra?.failingChoice).toBe(undefined);
        const replay = replayTrace(m, properties, r.trace as NonNullable<typeof r.trace>);
        expect([replay.mismatch, replay.modelError]).toEqual([null, { step: steps.length - 1, message: note.replace(/, on .*/, '') }]);
        // The state where it fails is replayed too (shown by `mirrorcheck replay`).
        expect(replay.states.map((x) => Array.from(x))).toEqual(steps.map((x) => Array.from(x.state)));
      }
    }
  });

  it('names the start state it fails on (the second of two), and replay reproduces it', () => {
    const m = model(false, false, true);
    const properties = [invariant('x-with-y', 'R-1', '', implies(m.handles.y, eq(unwrap(m.handles.x), unwrap(m.handles.x))))];
    for (const r of [explicitCheck({ model: m, properties, limits: {} }), randomCheck({ model: m, properties, limits: { depth: 4 }, runs: 50, seed: 3 })]) {
      const note = 'in property x-with-y: unwrap of none, on start state other';
      expect([r.status, r.status === 'error' && r.trace?.note, r.status === 'error' && r.trace?.steps.map((s) => s.label)]).toEqual([
        'error',
        note,
        ['init other'],
      ]);
      if (r.status !== 'error') continue;
      expect(replayTrace(m, properties, r.trace as NonNullable<typeof r.trace>).modelError).toEqual({
        step: 0,
        message: 'in property x-with-y: unwrap of none',
      });
    }
  });

  it('a start state that fails to build is its own error, whatever the properties (no trace, no property named)', () => {
    const m = model(false, true);
    const r = explicitCheck({ model: m, properties: [invariant('x-set', 'R-3', '', eq(unwrap(m.handles.x), unwrap(m.handles.x)))], limits: {} });
    expect([r.status, r.status === 'error' && r.code, r.status === 'error' && r.trace]).toEqual(['error', 'MC011', null]);
    expect(r.status === 'error' && r.message).toBe('in rule init start: unwrap of none');
  });
});
