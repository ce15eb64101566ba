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
import { explicitCheck } from './explicit.js';
import { build, compare, planArb, verdict } from './partialOrderRandom.testkit.js';

describe('partial-order reduction over more than 32 rule instances', () => {
  it('reduces a protocol whose instances fill more than one 32-bit word exactly as it reduces it alone: 40 never-enabled instances first change no verdict, trace or state count', () => {
    let smaller = 0;
    fc.assert(
      fc.property(planArb, (plan) => {
        const alone = build(plan);
        const padded = build(plan, 40);
        expect(padded.model.instances.length).toBe(alone.model.instances.length + 40);
        for (const symmetry of plan.symmetric ? [false, true] : [false]) {
          const { full, reduced } = compare(padded.model, padded.properties, symmetry);
          const reference = explicitCheck({ model: alone.model, properties: alone.properties, limits: {}, symmetry, explicit: { por: true, shortest: false } });
          expect(verdict(reduced)).toEqual(verdict(reference));
          expect(reduced.stats.engine === 'explicit' && reduced.stats.states).toBe(reference.stats.engine === 'explicit' && reference.stats.states);
          if (reduced.stats.engine === 'explicit' && full.stats.engine === 'explicit' && reduced.stats.states < full.stats.states) smaller++;
        }
      }),
      { numRuns: 40, seed: 16 },
    );
    expect(smaller).toBeGreaterThan(0);
  });
});
