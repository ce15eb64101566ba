import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { explicitCheck } from '../explicit/explicit.js';
import type { CheckResult } from '../engine.js';
import { bmcCheck } from './bmc.js';
import { build, planArb } from './randomProtocol.testkit.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/**
 * The BFS level at which an engine meets its first problem: a state at depth d that is stuck (model
 * error, deadlock) is met when level d is expanded, a violation at depth d when level d-1 is.
 */
function level(r: CheckResult): number | null {
  if (r.status === 'violated') {
    const v = r.violations[0]!;
    const len = v.trace!.steps.length - 1;
    return v.kind === 'deadlock' ? len : len - 1;
  }
  if (r.status === 'error') return r.trace ? r.trace.steps.length - 1 : -2;
  return null;
}

describe('BMC and explicit BFS agree on random tiny protocols', () => {
  it('same verdict, same level, same length for the same kind of problem', async () => {
    let ties = 0;
    let deep = 0;
    const hist = new Map<string, number>();
    let runs = 0;
    const kinds = new Map<string, number>();
    await withSession(async (session: SmtSession) => {
      await fc.assert(
        fc.asyncProperty(planArb(), async (plan) => {
          const { model, props } = build(plan);
          const ex = explicitCheck({ model, properties: props, limits: {} });
          const lv = level(ex);
          const depth = lv === null ? ex.stats.depth + 1 : Math.max(1, lv + 2);
          const smt = await bmcCheck({ model, properties: props, limits: { depth } }, {}, { session, covers: false });
          runs++;
          const key = `${ex.status}${ex.status === 'violated' ? `:${ex.violations[0]!.kind}` : ''}`;
          if ((lv ?? 0) >= 2) deep++;
          hist.set(`${ex.status}:${lv ?? ex.stats.depth}`, (hist.get(`${ex.status}:${lv ?? ex.stats.depth}`) ?? 0) + 1);
          kinds.set(key, (kinds.get(key) ?? 0) + 1);
          expect(smt.status === 'error' ? smt.code : '').not.toBe('MC040');
          if (ex.status === 'ok') {
            expect(smt.status).toBe('ok');
            return;
          }
          expect(smt.status === 'violated' || smt.status === 'error').toBe(true);
          expect(level(smt)).toBe(lv);
          const kind = (r: CheckResult) => (r.status === 'violated' ? (r.violations[0]!.kind === 'deadlock' ? 'deadlock' : 'safety') : r.status);
          // At one BFS level a stuck state and a violation after it may both exist; BFS reports
          // whichever it meets first in its queue, BMC the stuck state. Otherwise lengths agree.
          if (kind(smt) !== kind(ex)) ties++;
          else if (ex.status === 'violated' && smt.status === 'violated') {
            expect(smt.violations[0]!.trace!.steps.length).toBe(ex.violations[0]!.trace!.steps.length);
          }
        }),
        { numRuns: 300, seed: 20260528, endOnFailure: true },
      );
    });
    if (process.env.SMT_DIFF_STATS) console.log(runs, ties, deep, JSON.stringify([...kinds]), JSON.stringify([...hist].sort()));
    expect(runs).toBeGreaterThanOrEqual(300);
    // The generator must exercise every outcome, or the agreement says little.
    for (const k of ['ok', 'violated:invariant', 'violated:deadlock', 'error'])
      expect(kinds.get(k) ?? 0, `${k} in ${JSON.stringify([...kinds])}`).toBeGreaterThan(5);
    expect(ties).toBeLessThan(runs / 4);
    expect(deep).toBeGreaterThan(runs / 10);
  }, 120_000);
});
