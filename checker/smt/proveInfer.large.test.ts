import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { buildModel } from '../../model/lang/protocol.js';
import { odpMirror } from '../../model/protocols/odpMirror/odpMirror.js';
import { odpMirrorProperties } from '../../model/protocols/odpMirror/odpMirrorProperties.js';
import { safetyProperties } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import { prove } from './prove.js';
import { proveInfer } from './proveInfer.js';
import { build, planArb } from './randomProtocol.testkit.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

// prove --infer at the default size of odp-mirror and on more random protocols: tens of seconds each.

afterAll(async () => {
  await shutdownSmt();
});

describe('prove --infer on odp-mirror at its default size (no hints)', () => {
  it('proves every safety property; the printed invariant is re-proved by a fresh 1-induction', async () => {
    const model = buildModel(odpMirror);
    const props = safetyProperties(odpMirrorProperties.build(model));
    const r = await proveInfer(model, props);
    expect(r.status).toBe('proved');
    if (!r.invariant) throw new Error('no invariant');
    const again = await prove(model, props, { strengthening: r.invariant.invariants, maxK: 1 });
    expect(again.status === 'proved' && again.k).toBe(1);
  }, 600_000);

  for (const v of odpMirror.variants) {
    it(`${v.name}: the same verdict as explicit BFS (a violation: the BFS length, replayed)`, async () => {
      const model = buildModel(odpMirror, { variant: v.name });
      const props = safetyProperties(odpMirrorProperties.build(model));
      const ex = explicitCheck({ model, properties: props, limits: {}, deadlock: false });
      const r = await proveInfer(model, props);
      if (ex.status === 'ok') {
        // A deadlock (lock-across-read-begin): safety holds, and the proof says deadlocks exist.
        expect(r.status).toBe('proved');
        expect(r.status === 'proved' && r.notes.join('\n')).toMatch(/deadlock freedom \(not part of the proof\) does not hold/);
        return;
      }
      expect(r.status).toBe('violated');
      if (r.status !== 'violated' || ex.status !== 'violated' || !r.violation.trace) throw new Error('expected violations');
      expect(r.violation.property).toBe(ex.violations[0]?.property);
      expect(r.violation.trace.steps.length).toBe(ex.violations[0]?.trace?.steps.length);
      expect(replayTrace(model, props, r.violation.trace, { checkDeadlock: false }).mismatch).toBeNull();
    }, 600_000);
  }
});

describe('prove --infer agrees with explicit BFS on 500 more random tiny protocols', () => {
  it('same verdict and length', async () => {
    await withSession(async (session: SmtSession) => {
      await fc.assert(
        fc.asyncProperty(planArb(), async (plan) => {
          const { model, props } = build(plan);
          const ex = explicitCheck({ model, properties: props, limits: {}, deadlock: false });
          const r = await proveInfer(model, props, { session });
          if (ex.status === 'ok') expect(r.status).toBe('proved');
          else if (ex.status === 'error') expect(r.status === 'error' && r.code).toBe(ex.code);
          else {
            expect(r.status).toBe('violated');
            if (r.status === 'violated' && ex.status === 'violated') expect(r.violation.trace?.steps.length).toBe(ex.violations[0]?.trace?.steps.length);
          }
        }),
        { numRuns: 500, seed: 20260603, endOnFailure: true },
      );
    });
  }, 900_000);
});
