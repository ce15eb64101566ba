/**
 * k-induction's answer when only a proof hint fails (prove.ts, `hintFailure`): the hints are wrong
 * there, and a bounded search for a property failing deeper decides what the user is told. Its
 * outcome is fixed here by replacing `bmcCheck` (a timeout inside it cannot be forced on a real
 * model), so that each answer is checked against what that search established: "the hints do not
 * fit" only after it finished without a violation, `incomplete` when it did not finish.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { add, le, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import type { CheckResult } from '../engine.js';
import { prove } from './prove.js';
import { shutdownSmt } from './z3Host.js';

const deeper = vi.hoisted(() => ({ result: null as CheckResult | null, calls: 0 }));
vi.mock('./bmc.js', async (actual) => ({
  ...(await actual<typeof import('./bmc.js')>()),
  bmcCheck: async () => {
    deeper.calls++;
    return deeper.result;
  },
}));

afterAll(() => shutdownSmt());

const counter = defineProtocol({
  name: 'climbing-counter',
  summary: 'n climbs from 0 to 3',
  spec: 'checker/smt/proveHintDeeper.test.ts',
  params: {},
  variants: [],
  build(b) {
    const n = b.v('n', range(0, 3));
    b.init('zero', () => []);
    b.rule('Inc', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
    return { n };
  },
});
const model = buildModel(counter);
const n = model.handles.n as Parameters<typeof le>[0];
const props = [invariant('n-at-most-3', 'C-1', 'n never passes 3', le(n, 3))];
/** Wrong: n reaches 2 two steps from the start. */
const hint = invariant('n-below-2', 'C-H', 'n stays below 2', lt(n, 2));
const stats = { engine: 'smt', depth: 0, elapsedMs: 1, solver: 'wasm' } as never;

describe('k-induction when only a hint fails', () => {
  it('the deeper search finished without a violation: a counterexample to induction saying the hints do not fit, with the path to the failing hint', async () => {
    deeper.calls = 0;
    deeper.result = { status: 'ok', guarantee: 'bounded', stats, covers: [] } as never;
    const r = await prove(model, props, { strengthening: [hint], maxK: 4 });
    expect(deeper.calls).toBe(1);
    // The trace: the start state and the two Inc steps to n = 2.
    expect(r.status === 'cti' && [r.hintFailed, r.property, r.trace?.steps.length]).toEqual([true, 'n-below-2', 3]);
    expect(r.status === 'cti' && r.message).toMatch(/the hints do not fit this model: 2 steps from the start .* no property fails within 3 steps/);
  });

  it('the deeper search did not finish (time limit): incomplete, never a claim that no property fails within its reach', async () => {
    deeper.calls = 0;
    deeper.result = { status: 'incomplete', reason: 'time limit of 1s reached at depth 3 (no violation within 2 steps)', stats, covers: [] } as never;
    const r = await prove(model, props, { strengthening: [hint], maxK: 4 });
    expect(deeper.calls).toBe(1);
    expect(r.status).toBe('incomplete');
    expect(r.status === 'incomplete' && r.reason).toBe(
      'the hint n-below-2 fails 2 steps from the start (the hints do not fit), and the search for a property failing within 3 steps did not finish: time limit of 1s reached at depth 3 (no violation within 2 steps)',
    );
  });
});
