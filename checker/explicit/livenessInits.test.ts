/**
 * Liveness with several start states. Why this test exists: the other liveness tests have one start
 * state (state 0), so the search of the shortest lasso prefix was never started from a later start
 * state. Here only the second start state leads to the livelock (or lies on it); the lasso must
 * start there, be as short as the model allows (computed by hand below), and replay.
 */
import { describe, expect, it } from 'vitest';
import { checkLasso } from '../../counterexamples/lasso.js';
import type { Trace } from '../../counterexamples/trace.js';
import { eq } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { type Liveness, eventually, leadsTo } from '../../properties/property.js';
import { livenessCheck } from './liveness.js';

/** Start a (x = 0) goes to the goal 3; start b (x = 1) goes to 2, which loops forever. */
const twoStarts = defineProtocol({
  name: 'two-starts',
  summary: 'two start states, one of which never reaches the goal',
  spec: 'checker/explicit/livenessInits.test.ts',
  params: {},
  variants: [],
  build(b) {
    const x = b.v('x', range(0, 3));
    b.init('a', () => []);
    b.init('b', () => [assign(x, 1)]);
    b.rule('Finish', {}, () => ({ guard: eq(x, 0), body: [assign(x, 3)] }), { fairness: 'weak' });
    b.rule('Stray', {}, () => ({ guard: eq(x, 1), body: [assign(x, 2)] }), { fairness: 'weak' });
    b.rule('Spin', {}, () => ({ guard: eq(x, 2), body: [assign(x, 2)] }), { fairness: 'weak' });
    b.rule('Rest', {}, () => ({ guard: eq(x, 3), body: [assign(x, 3)] }), { fairness: 'weak' });
    return { x };
  },
});

describe('a lasso from the second start state', () => {
  const model = buildModel(twoStarts);
  const { x } = model.handles;
  const props: Liveness[] = [
    eventually('reaches-3', 'L-1', 'x reaches 3', eq(x, 3)),
    leadsTo('one-leads-to-3', 'L-2', 'x = 1 leads to 3', eq(x, 1), eq(x, 3)),
    // Its seed (x = 2) is not a start state: the prefix runs from b before it meets one.
    leadsTo('two-leads-to-3', 'L-3', 'x = 2 leads to 3', eq(x, 2), eq(x, 3)),
  ];

  for (const prop of props) {
    it(`${prop.name} (${prop.form}): starts at b, steps b -> 2 -> 2 with the loop on 2, and replays`, () => {
      const r = livenessCheck({ model, properties: [prop], limits: {} });
      expect(r.status).toBe('violated');
      if (r.status !== 'violated') return;
      const t = r.violations[0]?.trace as Trace;
      expect(t.steps.map((s) => [s.label, s.state[0]])).toEqual([
        ['init b', 1],
        ['Stray()', 2],
        ['Spin()', 2],
      ]);
      expect(t.loop).toBe(1);
      expect(checkLasso(model, t, prop)).toMatchObject({ ok: true });
    });
  }
});

/** Start a (x = 0) goes to the goal 3; start b (x = 2) is already on the loop that never reaches it. */
const startOnLoop = defineProtocol({
  name: 'start-on-loop',
  summary: 'a start state on a loop that never reaches the goal',
  spec: 'checker/explicit/livenessInits.test.ts',
  params: {},
  variants: [],
  build(b) {
    const x = b.v('x', range(0, 3));
    b.init('a', () => []);
    b.init('b', () => [assign(x, 2)]);
    b.rule('Finish', {}, () => ({ guard: eq(x, 0), body: [assign(x, 3)] }), { fairness: 'weak' });
    b.rule('Spin', {}, () => ({ guard: eq(x, 2), body: [assign(x, 2)] }), { fairness: 'weak' });
    b.rule('Rest', {}, () => ({ guard: eq(x, 3), body: [assign(x, 3)] }), { fairness: 'weak' });
    return { x };
  },
});

describe('a lasso whose loop starts at the second start state', () => {
  it('eventually: no prefix, the loop Spin on b, and it replays', () => {
    const model = buildModel(startOnLoop);
    const prop = eventually('reaches-3', 'L-1', 'x reaches 3', eq(model.handles.x, 3));
    const r = livenessCheck({ model, properties: [prop], limits: {} });
    expect(r.status).toBe('violated');
    if (r.status !== 'violated') return;
    const t = r.violations[0]?.trace as Trace;
    expect(t.steps.map((s) => [s.label, s.state[0]])).toEqual([
      ['init b', 2],
      ['Spin()', 2],
    ]);
    expect(t.loop).toBe(0);
    expect(checkLasso(model, t, prop)).toMatchObject({ ok: true });
  });
});
