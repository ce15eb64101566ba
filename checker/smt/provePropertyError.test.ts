/**
 * An invariant that cannot be evaluated in a reachable state (an unwrap of none) is a model error
 * there, in every engine: the explicit search reports it, and k-induction must not prove the
 * invariant. The step case once translated the last state's properties after reading its model
 * errors, so it missed this error and answered "proved" at k = 1 (prove.ts, `bad`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { add, eq, ite, le, lt, none, ord, some, unwrap } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { option, range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { prove } from './prove.js';
import { shutdownSmt } from './z3Host.js';

afterAll(() => shutdownSmt());

/** n climbs 0..5; o holds an element until the step that brings n to 3 empties it. */
const emptied = defineProtocol({
  name: 'emptied-option',
  summary: 'an option emptied three steps from the start',
  spec: 'checker/smt/provePropertyError.test.ts',
  params: {},
  variants: [],
  build(b) {
    const I = b.index('I', 3);
    const T = option(I);
    const n = b.v('n', range(0, 5));
    const o = b.v('o', T);
    b.init('zero', () => [assign(o, some(1, T))]);
    b.rule('Inc', {}, () => ({ guard: lt(n, 5), body: [assign(n, add(n, 1)), assign(o, ite(eq(n, 3), none, o))] }));
    return { n, o };
  },
});
const model = buildModel(emptied);
const props = [invariant('o-set', 'E-1', 'o holds an element', le(0, ord(unwrap(model.handles.o as Parameters<typeof unwrap>[0]))))];

describe('an invariant that cannot be evaluated in a reachable state', () => {
  it('the explicit search reports a model error', () => {
    const r = explicitCheck({ model, properties: props, limits: {} });
    expect(r.status).toBe('error');
    expect(r.status === 'error' && r.message).toMatch(/unwrap of none/);
  });

  it('k-induction is never "proved": a model error 3 steps from the start (the trace: the start state and three steps), or a counterexample to induction when maxK is too small to reach it', async () => {
    const r = await prove(model, props, {});
    expect(r.status).toBe('error');
    expect(r.status === 'error' && [r.code, r.trace?.steps.length]).toEqual(['MC011', 4]);
    expect(r.status === 'error' && r.message).toMatch(/unwrap of none/);
    for (const maxK of [1, 2]) {
      const small = await prove(model, props, { maxK });
      expect([maxK, small.status]).toEqual([maxK, 'cti']);
      expect(small.status === 'cti' && small.message).toMatch(/raises a model error/);
    }
  });
});
