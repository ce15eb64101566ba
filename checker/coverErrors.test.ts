/**
 * A cover whose predicate cannot be evaluated in a reachable state (an unwrap of none) is a model
 * error of that state in every engine: MC011 with the state, never a crash of the explicit engine
 * and never the SMT replay guard's MC040 (z3 gives an erroring predicate some value, which the
 * interpreter then refuses), and never an evaluation error thrown out of the random engine. Found by
 * mutation testing (mutation/SURVIVORS.md).
 */
import { describe, expect, it } from 'vitest';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign, reset } from '../model/lang/stmt.js';
import { and, eq, isSome, ne, not, some, unwrap } from '../model/lang/expr.js';
import { enumOf, option } from '../model/lang/types.js';
import { cover, invariant } from '../properties/property.js';
import { explicitCheck } from './explicit/explicit.js';
import { randomCheck } from './random/random.js';
import { bmcCheck } from './smt/bmc.js';

/** x starts as `start` (none or some(a)); one rule sets it to some(b), another to none (once each, then it stops). */
const coverModel = (start: 'none' | 'a') =>
  defineProtocol({
    name: 'cover-errors',
    summary: 'a cover that unwraps an option',
    spec: 'checker/coverErrors.test.ts',
    params: {},
    variants: [],
    build(b) {
      const E = enumOf('E', ['a', 'b']);
      const T = option(E);
      const x = b.v('x', T);
      const done = b.v('done', enumOf('Done', ['no', 'yes']));
      b.init('i', () => (start === 'a' ? [assign(x, some('a', T))] : []));
      b.rule('Clear', {}, () => ({ guard: eq(done, 'no'), body: [reset(x), assign(done, 'yes')] }));
      b.rule('SetB', {}, () => ({ guard: and(eq(done, 'no'), not(isSome(x))), body: [assign(x, some('b', T)), assign(done, 'yes')] }));
      b.endState(() => eq(done, 'yes'));
      return { x };
    },
  });

describe('a cover that raises a model error is a model error (MC011) in every engine', () => {
  it.each([
    ['in the start state', 'none', 0],
    ['in a successor state', 'a', 1],
  ] as const)(
    '%s',
    async (_, start, depth) => {
      const model = buildModel(coverModel(start));
      const props = [cover('b-reached', 'C-1', 'x holds b', eq(unwrap(model.handles.x), 'b'))];
      const ex = explicitCheck({ model, properties: props, limits: {} });
      expect([ex.status, ex.status === 'error' ? ex.code : null]).toEqual(['error', 'MC011']);
      const smt = await bmcCheck({ model, properties: props, limits: { depth: 3 } });
      expect([smt.status, smt.status === 'error' ? smt.code : null]).toEqual(['error', 'MC011']);
      if (smt.status === 'error') expect(smt.trace?.steps.length).toBe(depth + 1);
      // The random engine: a result, not the evaluation error thrown (it was thrown before the fix).
      const rnd = randomCheck({ model, properties: props, limits: { depth: 3 }, runs: 50, seed: 1 });
      expect([rnd.status, rnd.status === 'error' ? rnd.code : null]).toEqual(['error', 'MC011']);
      if (rnd.status === 'error') expect(rnd.trace?.steps.length).toBe(depth + 1);
    },
    60_000,
  );
});

describe('an invariant that raises a model error in a successor state', () => {
  it('is a model error (MC011) of that state in the explicit and random engines, with the trace to it', () => {
    // From x = a, Clear leads to x = none, where unwrap(x) cannot be evaluated (SetB is not enabled).
    const model = buildModel(coverModel('a'));
    const props = [invariant('never-b', 'C-2', 'x never holds b', ne(unwrap(model.handles.x), 'b'))];
    const ex = explicitCheck({ model, properties: props, limits: {} });
    expect([ex.status, ex.status === 'error' ? ex.code : null]).toEqual(['error', 'MC011']);
    const rnd = randomCheck({ model, properties: props, limits: { depth: 3 }, runs: 50, seed: 1 });
    expect([rnd.status, rnd.status === 'error' ? rnd.code : null]).toEqual(['error', 'MC011']);
    if (rnd.status === 'error') expect(rnd.trace?.steps.map((st) => st.label)).toEqual(['init i', 'Clear()']);
  });
});
