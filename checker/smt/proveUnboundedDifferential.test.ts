/**
 * The proof for every size (proveUnbounded.ts) against explicit BFS on random tiny protocols. Why
 * this test exists: proveUnbounded.test.ts runs one protocol (seconds per proof); a false "proved"
 * on some statement or property shape would pass it. Here, on each random protocol:
 * - "proved" only where BFS, at the size built, finds no violation and no model error;
 * - a violation only when a start state breaks an invariant (BFS: a trace of one state);
 * - every counterexample to induction is re-checked by the interpreter at the sizes z3 picked: the
 *   model is built at those sizes, the rule instance runs on the decoded pre-state, which satisfies
 *   every invariant, the decoded post-state is its successor, and the obligation named fails there
 *   (the invariant, the step property, or the model error).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRule, enabled, holds, instanceBindings } from '../../model/lang/interp.js';
import { eq, forall, unwrap } from '../../model/lang/expr.js';
import { encodeState } from '../../model/lang/layout.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { arrayOf, bool, option, range } from '../../model/lang/types.js';
import { type Invariant, type StepProperty, invariant } from '../../properties/property.js';
import { explicitCheck } from '../explicit/explicit.js';
import type { UnboundedCti } from './proofResult.js';
import { proveUnbounded } from './proveUnbounded.js';
import { type Plan, build, orError, planArb } from './randomProtocol.testkit.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** Re-checks a counterexample to induction of `plan` at its sizes; returns what is wrong, or null. */
function recheck(plan: Plan, cti: UnboundedCti, obligation: string): string | null {
  const size = cti.sizes.I as number;
  let built: ReturnType<typeof build>;
  try {
    built = build({ ...plan, size });
  } catch {
    // A literal of the plan (in a start state, which the proof does not translate) past the size.
    return 'unbuildable';
  }
  const { model, props } = built;
  const before = encodeState(model.layout, cti.before as Record<string, never>);
  const after = encodeState(model.layout, cti.after as Record<string, never>);
  if (typeof before === 'string') return `undecodable pre-state: ${before}`;
  const invs = props.filter((p): p is Invariant => p.kind === 'invariant');
  const broken = invs.find((p) => orError(() => holds(model, p.pred, before)) !== true);
  if (broken) return `the pre-state breaks ${broken.name}`;
  const inst = model.instances.find((i) => i.rule.name === cti.rule && i.rule.params.every((p, k) => i.args[k] === cti.args[p.name]));
  if (!inst) return `no instance ${cti.rule} ${JSON.stringify(cti.args)}`;
  if (obligation.endsWith('raises no model error')) {
    const g = orError(() => enabled(model, inst, before));
    if (g === 'error') return null;
    if (!g) return 'the rule is disabled in the pre-state';
    return orError(() => applyRule(model, inst, before)) === 'error' ? null : 'the rule raises no model error';
  }
  if (orError(() => enabled(model, inst, before)) !== true) return 'the rule is not enabled in the pre-state';
  const next = orError(() => applyRule(model, inst, before));
  if (next === 'error') return 'the rule raises a model error';
  if (typeof after === 'string' || next.join(',') !== after.join(',')) return `the post-state is not the successor: ${JSON.stringify(cti.after)}`;
  const inv = invs.find((p) => obligation.endsWith(`preserves ${p.name}`));
  if (inv) return holds(model, inv.pred, next) ? `${inv.name} holds after the step` : null;
  const step = props.find((p): p is StepProperty => p.kind === 'step' && obligation.endsWith(`keeps step property ${p.name}`));
  if (step) return holds(model, step.pred, next, before, instanceBindings(inst)) ? `${step.name} holds on the step` : null;
  return `unknown obligation ${obligation}`;
}

describe('the proof for every size and explicit BFS agree on random tiny protocols', () => {
  it('proved only where BFS finds nothing at the size built; counterexamples to induction re-checked by the interpreter at their sizes', async () => {
    const plans = fc.sample(planArb(), { numRuns: 40, seed: 20261209 });
    const bad: string[] = [];
    const seen = new Map<string, number>();
    let rechecked = 0;
    await withSession(async (session: SmtSession) => {
      for (const [pi, plan] of plans.entries()) {
        const { model, props } = build(plan);
        const ex = explicitCheck({ model, properties: props, limits: {}, deadlock: false });
        const r = await proveUnbounded(model, props, { session });
        seen.set(`${ex.status}/${r.status}`, (seen.get(`${ex.status}/${r.status}`) ?? 0) + 1);
        const name = `plan ${pi}`;
        if (r.status === 'proved' && ex.status !== 'ok') bad.push(`${name}: proved, BFS ${ex.status}`);
        if (r.status === 'violated') {
          const len = r.violation.trace?.steps.length;
          if (ex.status !== 'violated' || len !== 1 || ex.violations[0]?.trace?.steps.length !== 1)
            bad.push(`${name}: a start state violates ${r.violation.property}, BFS ${ex.status}`);
        }
        if (r.status === 'error' || r.status === 'incomplete') bad.push(`${name}: ${r.status} ${JSON.stringify(r)}`);
        if (r.status === 'cti') {
          if (!r.cti) {
            bad.push(`${name}: a counterexample to induction without its states`);
            continue;
          }
          if (r.obligations?.find((o) => o.status === 'failed')?.name !== r.property) bad.push(`${name}: ${r.property} is not the first failed obligation`);
          const why = recheck(plan, r.cti, r.property);
          if (why === 'unbuildable') continue;
          rechecked++;
          if (why) bad.push(`${name}: ${r.property} at sizes ${JSON.stringify(r.cti.sizes)}: ${why}`);
        }
      }
    });
    expect(bad).toEqual([]);
    for (const k of ['ok/proved', 'ok/cti', 'violated/cti']) expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(1);
    expect(rechecked).toBeGreaterThan(15);
  }, 120_000);

  it('refusals and limits: an unknown fixed index type, a start condition false in a start state, a start state breaking an invariant or raising a model error, a time limit too short', async () => {
    const def = defineProtocol({
      name: 'unbounded-limits',
      summary: 'a flag per page and a counter',
      spec: 'checker/smt/proveUnboundedDifferential.test.ts',
      params: {},
      variants: [],
      build(b) {
        const P = b.index('P', 2);
        const h = { P, flag: b.v('flag', arrayOf(P, bool)), n: b.v('n', range(0, 2)) };
        b.init('zero', () => []);
        b.rule('Set', { p: P }, ({ p }) => ({ guard: true, body: [assign(h.flag.at(p), true)] }));
        return h;
      },
    });
    const m = buildModel(def);
    const { flag, n, P } = m.handles;
    const low = invariant('n-0', 'T-1', 'n stays 0', eq(n, 0));
    const unknown = await proveUnbounded(m, [low], { fixedIndexes: ['Q'] });
    expect(unknown.status === 'error' && unknown.code === 'MC010' && /fix index type Q/.test(unknown.message)).toBe(true);
    const wrongStart = await proveUnbounded(m, [low], { initCondition: forall(P, (p) => flag.at(p)) });
    expect(
      wrongStart.status === 'error' && wrongStart.code === 'MC010' && /start condition .* does not hold in start state 'zero'/.test(wrongStart.message),
    ).toBe(true);
    // A strengthening invariant the start state breaks: a violation at the start, named.
    const broken = await proveUnbounded(m, [low], { strengthening: [invariant('n-1', 'T-2', 'wrong on purpose: n is 1', eq(n, 1))] });
    expect(broken.status === 'violated' && broken.violation.property).toBe('n-1');
    // A start condition that holds: the start goals are proved with the rules'.
    const started = await proveUnbounded(m, [low], { initCondition: eq(n, 0) });
    expect(started.status === 'proved' && started.obligations?.some((g) => g.name === 'start condition implies n-0')).toBe(true);
    const limited = await proveUnbounded(m, [low], { timeLimitSec: 1e-9 });
    expect(limited.status).toBe('incomplete');
    const failing = buildModel(
      defineProtocol({
        name: 'unbounded-failing-start',
        summary: 'a start state that unwraps none',
        spec: 'checker/smt/proveUnboundedDifferential.test.ts',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 2));
          const y = b.v('y', option(range(0, 2)));
          b.init('zero', () => [assign(x, unwrap(y))]);
          b.rule('Tick', {}, () => ({ guard: true, body: [assign(x, 0)] }));
          return { x, y };
        },
      }),
    );
    const e = await proveUnbounded(failing, [], {});
    expect(e.status === 'error' && e.code).toBe('MC011');
  }, 60_000);
});
