/**
 * k-induction (prove.ts) against explicit BFS on random tiny protocols. Why this test exists: a
 * false "proved" is the worst answer a checker can give, and prove.test.ts runs k-induction on one
 * protocol only. Here, on each random protocol:
 * - "proved" only where BFS finds no violation and no model error in any reachable state;
 * - a violation or a model error exactly where BFS finds one, at its shortest depth, with a trace
 *   the interpreter replays from a start state and that ends in the failure named;
 * - a counterexample to induction only where BFS finds nothing within the base case's reach, with a trace the interpreter
 *   replays, whose states but the last satisfy every property and are distinct (simple path), and
 *   whose last step or state fails the property named;
 * - with a false strengthening invariant (the negation of a state BFS reaches), never "proved":
 *   the hints do not fit, or a property's own violation when BFS has one.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trace } from '../../counterexamples/trace.js';
import type { CheckResult, Violation } from '../engine.js';
import { explicitCheck } from '../explicit/explicit.js';
import { type Expr, type Operand, type Ref, and, eq, none, not, some, unwrap } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type ScalarType, option, range } from '../../model/lang/types.js';
import { failingInstance, holds, instanceBindings } from '../../model/lang/interp.js';
import { type Invariant, type Property, type StepProperty, invariant } from '../../properties/property.js';
import { prove } from './prove.js';
import type { ProofResult } from './proofResult.js';
import { type Plan, build, planArb, statesOf } from './randomProtocol.testkit.js';
import { replayPath } from './replay.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** The path of a trace, replayable by replayPath. */
function pathOf(t: Trace, fromInit: boolean) {
  return { choices: t.steps.map((s) => s.choice), states: t.steps.map((s) => s.state), fromInit };
}

/** Whether step `i` of trace `t` (into state i) breaks a step property named `name`. */
function stepBroken(model: Model, steps: readonly StepProperty[], t: Trace, i: number, name: string): boolean {
  const p = steps.find((x) => x.name === name);
  const inst = model.instances[t.steps[i]?.choice as number];
  if (!p || !inst || (p.rule !== null && p.rule !== inst.rule.name)) return false;
  return !holds(model, p.pred, t.steps[i]?.state as Int32Array, t.steps[i - 1]?.state as Int32Array, instanceBindings(inst));
}

/** What BFS says, as a kind and a trace length: 'ok', 'violated' (invariant or step) or 'error'. */
function bfsAnswer(r: CheckResult): { kind: 'ok' | 'violated' | 'error'; length: number } {
  if (r.status === 'ok') return { kind: 'ok', length: 0 };
  if (r.status === 'violated') return { kind: 'violated', length: ((r.violations[0] as Violation).trace as Trace).steps.length };
  if (r.status === 'error') return { kind: 'error', length: r.trace ? r.trace.steps.length : -1 };
  throw new Error(`explicit search: ${r.status}`);
}

/** The expression "the state is `s`" of a random protocol (scalars and arrays of scalars). */
function stateIs(model: Model, s: Int32Array): Expr {
  const operand = (t: ScalarType, v: number): Operand => {
    if (t.kind === 'bool') return v !== 0;
    if (t.kind === 'enum') return t.values[v] as string;
    if (t.kind === 'option') return v < 0 ? none : some(v, t);
    return v;
  };
  const parts: Expr[] = [];
  for (const v of model.layout.vars) {
    const h = (model.handles as Record<string, Ref>)[v.name] as Ref;
    const t = v.type;
    if (t.kind === 'array') {
      for (let i = 0; i < t.index.size; i++) parts.push(eq(h.at(i), operand(t.elem as ScalarType, s[v.base + i] as number)));
    } else parts.push(eq(h, operand(t as ScalarType, s[v.base] as number)));
  }
  return and(...parts);
}

/** Checks one k-induction answer against BFS; differences go to `bad`. */
function judge(
  name: string,
  model: Model,
  props: readonly Property[],
  bfs: { kind: string; length: number },
  r: ProofResult,
  bad: string[],
  maxK: number,
  hints: readonly Invariant[] = [],
) {
  // The base case looks at most maxK - 1 steps deep: a failure BFS finds deeper may be missed.
  const beyond = (depth: number) => bfs.kind !== 'ok' && bfs.length - 1 > depth;
  const invs = [...props.filter((p): p is Invariant => p.kind === 'invariant'), ...hints];
  const steps = props.filter((p): p is StepProperty => p.kind === 'step');
  if (r.status === 'proved') {
    if (bfs.kind !== 'ok') bad.push(`${name}: proved, BFS finds ${bfs.kind} (length ${bfs.length})`);
    return;
  }
  if (r.status === 'violated') {
    const t = r.violation.trace as Trace;
    // At one depth a state may break a property and another raise a model error: BFS reports the
    // one it meets first, k-induction either; both are real (checked below), at the same depth.
    if (bfs.kind === 'ok' || t.steps.length !== bfs.length) bad.push(`${name}: violated in ${t.steps.length} states, BFS ${bfs.kind} in ${bfs.length}`);
    if (replayPath(model, pathOf(t, true)) !== null) bad.push(`${name}: the violation does not replay`);
    const last = t.steps[t.steps.length - 1]?.state as Int32Array;
    const inv = invs.find((p) => p.name === r.violation.property);
    const broken = inv ? !holds(model, inv.pred, last) : stepBroken(model, steps, t, t.steps.length - 1, r.violation.property);
    if (!broken) bad.push(`${name}: the last state of the violation keeps ${r.violation.property}`);
    return;
  }
  if (r.status === 'error') {
    if (r.code !== 'MC011' || !r.trace) {
      bad.push(`${name}: error ${r.code} ${r.message}`);
      return;
    }
    if (bfs.kind === 'ok' || r.trace.steps.length !== bfs.length)
      bad.push(`${name}: model error in ${r.trace.steps.length} states, BFS ${bfs.kind} in ${bfs.length}`);
    if (replayPath(model, pathOf(r.trace, true)) !== null) bad.push(`${name}: the model error's trace does not replay`);
    if (failingInstance(model, r.trace.steps[r.trace.steps.length - 1]?.state as Int32Array) === null)
      bad.push(`${name}: no rule raises a model error at the end of its trace`);
    return;
  }
  if (r.status === 'cti') {
    const t = r.trace as Trace;
    if (r.hintFailed) {
      // A hint fails in a reachable state: the trace starts in a start state.
      if (replayPath(model, pathOf(t, true)) !== null) bad.push(`${name}: the hint failure does not replay`);
      const h = hints.find((p) => p.name === r.property);
      if (!h || holds(model, h.pred, t.steps[t.steps.length - 1]?.state as Int32Array))
        bad.push(`${name}: the hint ${r.property} holds at the end of its failure`);
      if (bfs.kind !== 'ok' && !beyond(Math.max(t.steps.length - 1, maxK - 1)))
        bad.push(`${name}: hints reported as not fitting, BFS finds ${bfs.kind} (length ${bfs.length})`);
      return;
    }
    if (bfs.kind !== 'ok' && !beyond(maxK - 1)) bad.push(`${name}: counterexample to induction, BFS finds ${bfs.kind} (length ${bfs.length})`);
    if (replayPath(model, pathOf(t, false)) !== null) bad.push(`${name}: the counterexample to induction does not replay`);
    const states = t.steps.map((s) => s.state);
    if (new Set(states.map((s) => s.join(','))).size !== states.length) bad.push(`${name}: the counterexample to induction is not a simple path`);
    const ok = (s: Int32Array) => invs.every((p) => holds(model, p.pred, s)) && failingInstance(model, s) === null;
    if (!states.slice(0, -1).every(ok)) bad.push(`${name}: a state before the last breaks a property`);
    for (let i = 1; i < states.length - 1; i++)
      if (steps.some((p) => stepBroken(model, steps, t, i, p.name))) bad.push(`${name}: an early step breaks a step property`);
    const last = states[states.length - 1] as Int32Array;
    const inv = invs.find((p) => p.name === r.property);
    const fails =
      r.property === 'no-model-error'
        ? failingInstance(model, last) !== null
        : inv
          ? !holds(model, inv.pred, last)
          : stepBroken(model, steps, t, states.length - 1, r.property);
    if (!fails) bad.push(`${name}: the counterexample to induction ends where ${r.property} holds`);
    if (r.k !== maxK || r.k !== t.steps.length - 1) bad.push(`${name}: k=${r.k} with ${t.steps.length} states (maxK ${maxK})`);
    return;
  }
  bad.push(`${name}: ${r.status}`);
}

describe('k-induction and explicit BFS agree on random tiny protocols', () => {
  it('proved only where BFS finds nothing; violations and model errors at the BFS depth; counterexamples to induction that replay from states satisfying every property', async () => {
    const plans = fc.sample(planArb(), { numRuns: 40, seed: 20261207 });
    const bad: string[] = [];
    const seen = new Map<string, number>();
    await withSession(async (session: SmtSession) => {
      for (const [pi, plan] of plans.entries()) {
        const { model, props } = build(plan);
        const bfs = bfsAnswer(explicitCheck({ model, properties: props, limits: {}, deadlock: false }));
        const r = await prove(model, props, { maxK: 3, session });
        seen.set(`${bfs.kind}/${r.status}`, (seen.get(`${bfs.kind}/${r.status}`) ?? 0) + 1);
        judge(`plan ${pi}`, model, props, bfs, r, bad, 3);
      }
    });
    expect(bad).toEqual([]);
    // Every answer must occur, or the agreement says little.
    for (const k of ['ok/proved', 'ok/cti', 'violated/violated', 'error/error'])
      expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(1);
  }, 120_000);

  it('a false strengthening invariant (no reachable state but the start ones) is never proved: the hints do not fit, or a property fails first', async () => {
    const plans = fc.sample(planArb(), { numRuns: 16, seed: 20261208 });
    const bad: string[] = [];
    let notFitting = 0;
    await withSession(async (session: SmtSession) => {
      for (const [pi, plan] of plans.entries()) {
        const { model, props } = build(plan);
        const bfs = bfsAnswer(explicitCheck({ model, properties: props, limits: {}, deadlock: false }));
        // A reachable state that is not a start state: the hint says it is never reached.
        const reached = statesOf(model, 6, 0, pi).slice(model.inits.length);
        const target = reached[reached.length - 1];
        if (!target) continue;
        const hint = invariant('never-there', 'T-9', 'wrong on purpose: a reachable state is never reached', not(stateIs(model, target)));
        const r = await prove(model, props, { maxK: 3, session, strengthening: [hint] });
        if (r.status === 'proved') bad.push(`plan ${pi}: proved with a false hint`);
        if (r.status === 'cti' && r.hintFailed) notFitting++;
        judge(`plan ${pi} (false hint)`, model, props, bfs, r, bad, 3, [hint]);
      }
    });
    expect(bad).toEqual([]);
    expect(notFitting).toBeGreaterThan(3);
  }, 120_000);

  it('a time limit too short for any query gives incomplete, never a verdict; a start state that raises a model error gives MC011; maxK below 1 is refused', async () => {
    const plan = fc.sample(planArb(), { numRuns: 1, seed: 20261210 })[0] as Plan;
    const { model, props } = build(plan);
    const r = await prove(model, props, { maxK: 3, timeLimitSec: 1e-9 });
    expect(r.status).toBe('incomplete');
    if (r.status === 'incomplete') expect(r.reason).toMatch(/time limit of 1e-9s reached/);
    await expect(prove(model, props, { maxK: 0 })).rejects.toThrow(/maxK must be at least 1/);
    const bad = buildModel(
      defineProtocol({
        name: 'failing-start',
        summary: 'a start state that unwraps none',
        spec: 'checker/smt/proveDifferential.test.ts',
        params: {},
        variants: [],
        build(b) {
          const o = b.v('o', option(range(0, 3)));
          const n = b.v('n', range(0, 3));
          b.init('zero', () => [assign(n, unwrap(o))]);
          b.rule('Tick', {}, () => ({ guard: true, body: [assign(n, 0)] }));
          return { o, n };
        },
      }),
    );
    const e = await prove(bad, [], {});
    expect(e.status === 'error' && e.code).toBe('MC011');
  }, 60_000);
});
