/**
 * The partial-order reduction over instance sets of more than one 32-bit word. Why this file exists:
 * the random protocols of partialOrder.test.ts have at most 15 rule instances, so every set of
 * instances (enabled, kept, dependants, step bits) fits one word and an index computed wrongly past
 * the first word goes unseen. Here each plan gets 40 instances first that are never enabled and touch
 * nothing: the reduction must treat the padded protocol exactly as the plain one. Quick enough for
 * mutation runs (a few seconds), unlike the tests of every protocol.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, le, lt } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, range } from '../../model/lang/types.js';
import { invariant } from '../../properties/property.js';
import { explicitCheck } from './explicit.js';
import { build, compare, planArb, verdict } from './partialOrderRandom.testkit.js';

describe('partial-order reduction over more than 32 rule instances', () => {
  it('reduces a protocol whose instances fill more than one 32-bit word exactly as it reduces it alone: 28 or 40 never-enabled instances first (the plan astride the first two words, or in the second) change no verdict, trace or state count', () => {
    let smaller = 0;
    fc.assert(
      fc.property(planArb, fc.constantFrom(28, 40), (plan, pad) => {
        const alone = build(plan);
        const padded = build(plan, pad);
        expect(padded.model.instances.length).toBe(alone.model.instances.length + pad);
        for (const symmetry of plan.symmetric ? [false, true] : [false]) {
          const { full, reduced } = compare(padded.model, padded.properties, symmetry);
          const reference = explicitCheck({ model: alone.model, properties: alone.properties, limits: {}, symmetry, explicit: { por: true, shortest: false } });
          expect(verdict(reduced)).toEqual(verdict(reference));
          expect(reduced.stats.engine === 'explicit' && reduced.stats.states).toBe(reference.stats.engine === 'explicit' && reference.stats.states);
          if (reduced.stats.engine === 'explicit' && full.stats.engine === 'explicit' && reduced.stats.states < full.stats.states) smaller++;
        }
      }),
      { numRuns: 50, seed: 16 },
    );
    expect(smaller).toBeGreaterThan(0);
  });

  it('n independent processes stepping a local counter, after 30 idle instances: one interleaving of 13 states instead of 256', () => {
    const def = defineProtocol({
      name: 'independent-padded',
      summary: '',
      spec: '',
      params: {},
      variants: [],
      build(b) {
        b.rule('Idle', { i: b.index('Pad', 30) }, () => ({ guard: false, body: [] }));
        const P = b.index('P', 4);
        const x = b.v('x', arrayOf(P, range(0, 3)));
        b.init('zero', () => []);
        b.rule('Step', { p: P }, ({ p }) => ({ guard: lt(x.at(p), 3), body: [assign(x.at(p), add(x.at(p), 1))] }));
        b.endState(() => true);
        return { x };
      },
    });
    const model = buildModel(def);
    // An invariant of process 0 alone: the other processes' steps (instances 31 to 33, astride the
    // first two words) are independent of it.
    const properties = [invariant('bounded', 'B', '', le(model.handles.x.at(0), 3))];
    const { full, reduced } = compare(model, properties, false);
    expect(full.stats.engine === 'explicit' && full.stats.states).toBe(256);
    expect(reduced.stats.engine === 'explicit' && reduced.stats.states).toBe(13);
  });
});
