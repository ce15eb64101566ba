import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { replayTrace } from '../../counterexamples/replay.js';
import { buildModel } from '../../model/lang/protocol.js';
import { registry } from '../../cli/registry.js';
import { safetyProperties } from '../../properties/property.js';
import { variantSize } from '../../cli/variantSize.js';
import { explicitCheck } from '../explicit/explicit.js';
import { prove } from './prove.js';
import { proveInfer } from './proveInfer.js';
import { build, planArb } from './randomProtocol.testkit.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

// prove and prove --infer at the default size of every built-in protocol and on more random protocols: tens of seconds each.

afterAll(async () => {
  await shutdownSmt();
});

// Every built-in protocol (registry-driven): its correct model at the default size is proved by
// k-induction with its proof hints and, without them, by prove --infer; every variant gets the
// verdict of explicit breadth-first search (a violation: the same property, the BFS length, a trace
// the interpreter replays).
describe.each(registry.map((pkg) => [pkg.protocol.name, pkg] as const))('%s: prove and prove --infer at the default size', (_name, pkg) => {
  it('the correct model: proved with the hints (k = 1) and without them; the printed invariant is re-proved by a fresh 1-induction', async () => {
    const model = buildModel(pkg.protocol);
    const props = safetyProperties(pkg.properties.build(model));
    const hints = pkg.properties.proofHints?.(model);
    if (hints) {
      const withHints = await prove(model, props, { strengthening: hints.strengthening });
      expect(withHints.status === 'proved' && withHints.k).toBe(1);
    }
    const r = await proveInfer(model, props);
    expect(r.status).toBe('proved');
    if (!r.invariant) throw new Error('no invariant');
    const again = await prove(model, props, { strengthening: r.invariant.invariants, maxK: 1 });
    expect(again.status === 'proved' && again.k).toBe(1);
  }, 900_000);

  it.each(pkg.protocol.variants.map((v) => v.name))(
    '%s: the same verdict as explicit BFS (a violation: the BFS length, replayed)',
    async (variant) => {
      const params = variantSize(pkg, variant);
      if (params === null) throw new Error(`${variant} applies at no size the package names (default, corpus, named sizes)`);
      const model = buildModel(pkg.protocol, { variant, params });
      const props = safetyProperties(pkg.properties.build(model));
      const ex = explicitCheck({ model, properties: props, limits: {}, deadlock: false });
      const r = await proveInfer(model, props);
      if (ex.status === 'ok') {
        // A progress bug (a deadlock or a livelock): safety holds, and the proof says so.
        expect(r.status).toBe('proved');
        return;
      }
      if (ex.status === 'error') {
        expect(r.status === 'error' && r.code).toBe(ex.code);
        return;
      }
      expect(r.status).toBe('violated');
      if (r.status !== 'violated' || ex.status !== 'violated' || !r.violation.trace) throw new Error('expected violations');
      expect(r.violation.property).toBe(ex.violations[0]?.property);
      expect(r.violation.trace.steps.length).toBe(ex.violations[0]?.trace?.steps.length);
      expect(replayTrace(model, props, r.violation.trace, { checkDeadlock: false }).mismatch).toBeNull();
    },
    600_000,
  );
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
