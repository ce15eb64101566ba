/**
 * Counterexample traces of the explicit engine (traces.ts), rebuilt every way the engine can: from
 * parent pointers (depth-first), level by level from the exact store, from the level files of the
 * compact stores, and as concrete states under symmetry reduction; for an invariant, a step
 * property (a final step that is not stored), a deadlock and a model error. Each trace must replay
 * on the model, start at the start state it names (of two; the second for most), label each step with
 * its rule instance, and, breadth-first, be as short as the brute-force search says.
 */
import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import type { Trace } from '../../counterexamples/trace.js';
import { add, eq, exists, le, lt, ne, not, pre } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import { type Property, invariant, stepProperty } from '../../properties/property.js';
import { bruteForce } from '../../test/bruteForce.js';
import type { CheckResult, StoreKind } from '../engine.js';
import { explicitCheck } from './explicit.js';
import { explicitTrace } from './traces.js';

/** Three symmetric counters and their total (range 0..top); two start states, the second at total 2. */
const counters = (top: number) =>
  buildModel(
    defineProtocol({
      name: 'counters',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 3, { symmetric: true });
        const cnt = b.v('cnt', arrayOf(P, range(0, 3)));
        const total = b.v('total', range(0, top));
        b.init('cold', () => []);
        b.init('warm', () => [assign(total, 2)]);
        b.rule('Bump', { p: P }, ({ p }) => ({
          guard: lt(cnt.at(p as never), 3),
          body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1)), assign(total, add(total, 1))],
        }));
        b.endState(() => eq(total, -1));
        return { total };
      },
    }),
  );

const totalOf = (m: Model) => (m.handles as { total: never }).total;

type Case = { name: string; top: number; deadlock: boolean; props: (m: Model) => Property[]; depth: number; init: number };
const cases: Case[] = [
  // From `warm`: three bumps reach total 5.
  { name: 'invariant', top: 20, deadlock: false, props: (m) => [invariant('under-five', 'T-1', '', lt(totalOf(m), 5))], depth: 3, init: 1 },
  // From `warm`: the third bump starts at total 4.
  {
    name: 'step',
    top: 20,
    deadlock: false,
    props: (m) => [stepProperty(m, 'small-steps', 'T-2', '', 'Bump', () => le(pre(totalOf(m)), 3))],
    depth: 3,
    init: 1,
  },
  // Every counter at 3: nine bumps (no legal end state) from either start state; `cold`'s descendants are stored first.
  { name: 'deadlock', top: 20, deadlock: true, props: () => [], depth: 9, init: 0 },
  // From `warm`, the eighth bump would make total 10: the trace ends at the state it fails in (seven steps).
  { name: 'model error', top: 9, deadlock: false, props: () => [], depth: 7, init: 1 },
];

function checkTrace(c: Case, model: Model, properties: Property[], r: CheckResult, bfs: boolean): Trace {
  const trace = r.status === 'violated' ? r.violations[0]?.trace : r.status === 'error' ? r.trace : null;
  expect(r.status).toBe(c.name === 'model error' ? 'error' : 'violated');
  if (!trace) throw new Error('no trace');
  const [first, ...rest] = trace.steps;
  expect(first?.label).toBe(`init ${model.inits[first?.choice as number]?.name}`);
  expect(rest.map((s) => s.label)).toEqual(rest.map((s) => model.instances[s.choice]?.label));
  expect(trace.engine).toBe('explicit');
  const replay = replayTrace(model, properties, trace, { checkDeadlock: c.deadlock });
  expect(replay.mismatch).toBe(null);
  // A model error's trace ends where the rule instance it names fails.
  if (c.name === 'model error') expect(replay.modelError?.step).toBe(trace.steps.length);
  else expect(replay.violation?.property ?? null).toBe(r.status === 'violated' ? r.violations[0]?.property : null);
  if (bfs) {
    expect(trace.steps.length - 1).toBe(c.depth);
    expect(first?.choice).toBe(c.init);
    if (properties.length) expect(bruteForce(model, properties).shortest).toBe(c.depth);
  }
  return trace;
}

describe('explicit traces', () => {
  for (const c of cases) {
    it(`${c.name}: breadth-first traces from every store, with and without symmetry, are shortest, start where the brute force says and replay`, () => {
      const model = counters(c.top);
      const properties = c.props(model);
      for (const symmetry of [false, true]) {
        for (const store of ['exact', 'hash-compaction', 'bitstate'] as StoreKind[]) {
          const r = explicitCheck({ model, properties, limits: {}, symmetry, deadlock: c.deadlock, explicit: { store, memoryBytes: 1 << 16 } });
          const trace = checkTrace(c, model, properties, r, true);
          expect([symmetry, store, trace.property, trace.requirement]).toEqual([
            symmetry,
            store,
            properties[0]?.name ?? (c.name === 'deadlock' ? 'deadlock' : null),
            properties[0]?.requirement ?? (c.name === 'deadlock' ? 'deadlock' : null),
          ]);
        }
      }
    });

    it(`${c.name}: depth-first traces (parent pointers) replay, with and without symmetry`, () => {
      const model = counters(c.top);
      const properties = c.props(model);
      for (const symmetry of [false, true]) {
        const r = explicitCheck({ model, properties, limits: {}, symmetry, deadlock: c.deadlock, strategy: 'dfs' });
        checkTrace(c, model, properties, r, false);
      }
    });
  }

  it('breadth-first, names the path the search took: the first state of each level and the first rule instance leading on (every store)', () => {
    // Two rules lead from 0 to 1 (Left first), one from 0 to 2; both 1 and 2 lead to 3.
    const model = buildModel(
      defineProtocol({
        name: 'fork',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 3));
          b.init('zero', () => []);
          b.rule('Left', {}, () => ({ guard: eq(x, 0), body: [assign(x, 1)] }));
          b.rule('Right', {}, () => ({ guard: eq(x, 0), body: [assign(x, 1)] }));
          b.rule('Other', {}, () => ({ guard: eq(x, 0), body: [assign(x, 2)] }));
          b.rule('Join', {}, () => ({ guard: lt(0, x), body: [assign(x, 3)] }));
          return { x };
        },
      }),
    );
    const properties = [invariant('below-three', 'F-1', '', lt((model.handles as { x: never }).x, 3))];
    for (const store of ['exact', 'hash-compaction', 'bitstate'] as StoreKind[]) {
      const r = explicitCheck({ model, properties, limits: {}, deadlock: false, explicit: { store, memoryBytes: 1 << 12 } });
      const trace = r.status === 'violated' ? r.violations[0]?.trace : null;
      expect([store, trace?.steps.map((s) => s.label)]).toEqual([store, ['init zero', 'Left()', 'Join()']]);
    }
  });

  it('under symmetry the trace is of concrete states: each step changes one counter by one, as the rule instance it names says', () => {
    const model = counters(20);
    const properties = [invariant('under-five', 'T-1', '', lt(totalOf(model), 5))];
    const r = explicitCheck({ model, properties, limits: {}, symmetry: true, explicit: { store: 'hash-compaction' } });
    const trace = checkTrace(cases[0] as Case, model, properties, r, true);
    const cnt = (s: Int32Array) => Array.from(s.subarray(0, 3));
    for (let i = 1; i < trace.steps.length; i++) {
      const before = cnt((trace.steps[i - 1] as { state: Int32Array }).state);
      const after = cnt((trace.steps[i] as { state: Int32Array }).state);
      const p = Number(/p=(\d)/.exec((trace.steps[i] as { label: string }).label)?.[1]);
      expect(after).toEqual(before.map((x, k) => (k === p ? x + 1 : x)));
    }
  });

  it('under symmetry, from a start state that is not its own canonical form: the trace replays through concrete states to the violation, as short as the brute force says (every store, depth-first too)', () => {
    // Counters (0, 2, 1): sorted neither way, so the canonical start state is another arrangement and
    // the rule instance stored for a step names another counter than the one to bump concretely.
    const model = buildModel(
      defineProtocol({
        name: 'mixed-counters',
        summary: '',
        spec: '',
        params: {},
        variants: [],
        build(b) {
          const P = b.index('P', 3, { symmetric: true });
          const cnt = b.v('cnt', arrayOf(P, range(0, 3)));
          b.init('mixed', () => [assign(cnt.at(1 as never), 2), assign(cnt.at(2 as never), 1)]);
          b.rule('Bump', { p: P }, ({ p }) => ({ guard: lt(cnt.at(p as never), 3), body: [assign(cnt.at(p as never), add(cnt.at(p as never), 1))] }));
          return { P, cnt };
        },
      }),
    );
    const h = model.handles;
    const properties = [invariant('below-three', 'T-3', '', not(exists(h.P, (p) => eq(h.cnt.at(p as never), 3))))];
    expect(bruteForce(model, properties).shortest).toBe(1);
    for (const x of [{ store: 'exact' }, { store: 'hash-compaction' }, { store: 'bitstate' }, { strategy: 'dfs' }] as const) {
      const r = explicitCheck({
        model,
        properties,
        limits: {},
        symmetry: true,
        deadlock: false,
        ...('strategy' in x ? { strategy: x.strategy } : { explicit: { store: x.store, memoryBytes: 1 << 16 } }),
      });
      const trace = r.status === 'violated' ? r.violations[0]?.trace : null;
      if (!trace) throw new Error(`no trace (${JSON.stringify(x)})`);
      const replay = replayTrace(model, properties, trace, { checkDeadlock: false });
      expect([x, replay.mismatch, replay.violation?.property, trace.steps.map((s) => s.label)]).toEqual([
        x,
        null,
        'below-three',
        'strategy' in x ? trace.steps.map((s) => s.label) : ['init mixed', 'Bump(p=1)'],
      ]);
    }
  });

  it('under symmetry, a step violation ends with a rule instance whose step breaks the property, not another with the same canonical successor', () => {
    // Take(p) makes p the owner; the step property says a take moves the owner. From owner = a,
    // Take(a) breaks it and Take(b) does not, yet both lead to the same canonical state. One of the
    // two start states below is not canonical, so the instance stored is not the one to take.
    for (const start of [0, 1]) {
      const model = buildModel(
        defineProtocol({
          name: 'owner',
          summary: '',
          spec: '',
          params: {},
          variants: [],
          build(b) {
            const P = b.index('P', 2, { symmetric: true });
            const owner = b.v('owner', P);
            b.init('start', () => [assign(owner, start as never)]);
            b.rule('Take', { p: P }, ({ p }) => ({ guard: true, body: [assign(owner, p as never)] }));
            return { owner };
          },
        }),
      );
      const owner = (model.handles as { owner: never }).owner;
      const properties = [stepProperty(model, 'take-moves', 'T-4', '', 'Take', () => ne(owner, pre(owner)))];
      for (const store of ['exact', 'hash-compaction'] as StoreKind[]) {
        const r = explicitCheck({ model, properties, limits: {}, symmetry: true, deadlock: false, explicit: { store } });
        const trace = r.status === 'violated' ? r.violations[0]?.trace : null;
        if (!trace) throw new Error(`no trace (start ${start}, ${store})`);
        const replay = replayTrace(model, properties, trace, { checkDeadlock: false });
        expect([start, store, replay.mismatch, replay.violation?.property, trace.steps.map((s) => s.label)]).toEqual([
          start,
          store,
          null,
          'take-moves',
          ['init start', `Take(p=${start})`],
        ]);
      }
    }
  });
});

describe('explicitTrace', () => {
  it('carries the note it is given (why a start state failed), and has no note key without one', () => {
    const m = counters(2);
    const withNote = explicitTrace(m, null, [], 'x[0] out of range');
    expect(withNote).toMatchObject({ protocol: 'counters', engine: 'explicit', property: null, requirement: null, steps: [], note: 'x[0] out of range' });
    const without = explicitTrace(m, null, []);
    expect('note' in without).toBe(false);
  });
});
