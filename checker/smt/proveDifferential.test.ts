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
 *   the hints do not fit, or a property's own violation when BFS has one;
 * - what the user reads with each answer agrees with the replay: the trace's depth, the method that
 *   found it, the property and requirement named, the rule instance said to raise a model error, the
 *   k of a proof (the first that succeeds), the properties and hints its notes list, the time taken.
 * Two hand-written models pin what random ones reach only by chance: a property failing deeper than a
 * wrong hint (the bounded search after a hint failure, and its depth), and a self-loop that only
 * simple paths prove (k = 2, the default maxK without them).
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Trace } from '../../counterexamples/trace.js';
import type { CheckResult, Violation } from '../engine.js';
import { explicitCheck } from '../explicit/explicit.js';
import { type Expr, type Operand, type Ref, add, and, eq, lit, lt, none, not, pre, some, unwrap } from '../../model/lang/expr.js';
import { type Model, buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign } from '../../model/lang/stmt.js';
import { type ScalarType, option, range } from '../../model/lang/types.js';
import { applyRule, enabled, failingInstance, holds, instanceBindings } from '../../model/lang/interp.js';
import { type Invariant, type Property, type StepProperty, invariant, stepProperty } from '../../properties/property.js';
import { DEFAULT_MAX_K, prove } from './prove.js';
import type { ProofResult } from './proofResult.js';
import { type Plan, build, orError, planArb, statesOf } from './randomProtocol.testkit.js';
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

/** The trace's metadata: its depth (the steps after the first state) and the method that found it (`null`: not checked). */
function checkMeta(name: string, t: Trace, depth: number, method: string | null, bad: string[]) {
  const x = t.extra ?? {};
  if (x.depth !== depth || x.depth !== t.steps.length - 1) bad.push(`${name}: depth ${String(x.depth)} on a trace of ${t.steps.length} states (want ${depth})`);
  if (method !== null && x.method !== method) bad.push(`${name}: method ${String(x.method)}, want ${method}`);
  if (t.engine !== 'smt' || typeof x.solver !== 'string') bad.push(`${name}: engine ${t.engine}, solver ${String(x.solver)}`);
}

/** The rule instance a model error's trace names as failing must be enabled in its last state and raise a model error there; returns it. */
function checkFailingChoice(name: string, model: Model, t: Trace, bad: string[]): number | null {
  const via = t.extra?.failingChoice;
  const inst = typeof via === 'number' ? model.instances[via] : undefined;
  const last = t.steps[t.steps.length - 1]?.state as Int32Array;
  if (!inst || orError(() => enabled(model, inst, last) && applyRule(model, inst, last)) !== 'error') {
    bad.push(`${name}: the failing choice ${String(via)} raises no model error in the last state`);
    return null;
  }
  return inst.id;
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
  wallMs: number,
  hints: readonly Invariant[] = [],
) {
  // The base case looks at most maxK - 1 steps deep: a failure BFS finds deeper may be missed.
  const beyond = (depth: number) => bfs.kind !== 'ok' && bfs.length - 1 > depth;
  const invs = [...props.filter((p): p is Invariant => p.kind === 'invariant'), ...hints];
  const steps = props.filter((p): p is StepProperty => p.kind === 'step');
  if (!(r.elapsedMs >= 0 && r.elapsedMs <= wallMs)) bad.push(`${name}: elapsed ${r.elapsedMs} ms, the call took ${wallMs} ms`);
  if (r.status === 'proved') {
    if (bfs.kind !== 'ok') bad.push(`${name}: proved, BFS finds ${bfs.kind} (length ${bfs.length})`);
    // What the proof covers: every invariant, hint and step property, and the k and hints named in its notes.
    const names = [...invs, ...steps].map((p) => p.name).sort();
    if ([...r.properties].sort().join() !== names.join()) bad.push(`${name}: proved ${r.properties.join()}, asked ${names.join()}`);
    if (!r.notes[0]?.startsWith(`${r.k}-induction at `)) bad.push(`${name}: the first note does not name ${r.k}-induction: ${r.notes[0]}`);
    if (!r.notes.some((n) => /deadlock freedom is not part of the proof/.test(n))) bad.push(`${name}: no note says deadlock freedom is not proved`);
    if (r.notes.length !== (hints.length ? 3 : 2)) bad.push(`${name}: ${r.notes.length} notes: ${r.notes.join(' | ')}`);
    const hintNote = r.notes.find((n) => n.startsWith('strengthening invariants assumed and proved: '));
    if (hints.length ? hintNote !== `strengthening invariants assumed and proved: ${hints.map((h) => h.name).join(', ')}` : hintNote !== undefined)
      bad.push(`${name}: the note on the strengthening invariants is ${hintNote}`);
    return;
  }
  if (r.status === 'violated') {
    const t = r.violation.trace as Trace;
    // At one depth a state may break a property and another raise a model error: BFS reports the
    // one it meets first, k-induction either; both are real (checked below), at the same depth.
    if (bfs.kind === 'ok' || t.steps.length !== bfs.length) bad.push(`${name}: violated in ${t.steps.length} states, BFS ${bfs.kind} in ${bfs.length}`);
    if (replayPath(model, pathOf(t, true)) !== null) bad.push(`${name}: the violation does not replay`);
    // Within the base case's reach (maxK - 1 steps), a wrong hint's deeper search included.
    if (t.steps.length > maxK) bad.push(`${name}: a violation ${t.steps.length - 1} steps deep with maxK ${maxK}`);
    const last = t.steps[t.steps.length - 1]?.state as Int32Array;
    const inv = invs.find((p) => p.name === r.violation.property);
    const broken = inv ? !holds(model, inv.pred, last) : stepBroken(model, steps, t, t.steps.length - 1, r.violation.property);
    if (!broken) bad.push(`${name}: the last state of the violation keeps ${r.violation.property}`);
    const p = [...invs, ...steps].find((x) => x.name === r.violation.property);
    if (t.property !== r.violation.property || r.violation.requirement !== p?.requirement || t.requirement !== p?.requirement || r.violation.kind !== p?.kind)
      bad.push(
        `${name}: the violation names ${t.property} (${t.requirement}, ${r.violation.kind}), the property is ${p?.name} (${p?.requirement}, ${p?.kind})`,
      );
    // Found by the base case (a wrong hint may send it to a deeper bounded search instead).
    checkMeta(name, t, t.steps.length - 1, hints.length ? null : 'k-induction base case', bad);
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
    checkMeta(name, r.trace, r.trace.steps.length - 1, hints.length ? null : 'k-induction base case', bad);
    checkFailingChoice(name, model, r.trace, bad);
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
      // The message tells how deep the bounded search for a property's own violation went.
      if (!r.message.includes(`no property fails within ${Math.max(t.steps.length - 1, maxK - 1)} steps`)) bad.push(`${name}: hint message: ${r.message}`);
      if (t.property !== r.property || r.requirement !== h?.requirement || t.requirement !== h?.requirement)
        bad.push(`${name}: the hint failure names ${t.property} (${t.requirement}), the result ${r.property} (${r.requirement})`);
      checkMeta(name, t, t.steps.length - 1, 'k-induction base case (hint)', bad);
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
    const p = [...invs, ...steps].find((x) => x.name === r.property);
    const requirement = r.property === 'no-model-error' ? 'model error' : p?.requirement;
    if (r.requirement !== requirement || t.property !== r.property || t.requirement !== requirement)
      bad.push(`${name}: the counterexample to induction names ${t.property} (${t.requirement}), the result ${r.property} (${r.requirement})`);
    const what = r.property === 'no-model-error' ? 'that no rule raises a model error' : r.property;
    if (!r.message.startsWith(`${what} is not ${r.k}-inductive`))
      bad.push(`${name}: the message does not say that ${what} is not ${r.k}-inductive: ${r.message}`);
    checkMeta(name, t, r.k ?? -1, 'k-induction step case', bad);
    if (r.property === 'no-model-error') {
      const via = checkFailingChoice(name, model, t, bad);
      if (via !== null && !r.message.includes(`step ${(r.k ?? 0) + 1}, ${model.instances[via]?.label}, raises a model error`))
        bad.push(`${name}: the message does not name the failing step ${model.instances[via]?.label}: ${r.message}`);
    } else if (t.extra?.failingChoice !== undefined) bad.push(`${name}: a failing choice on a counterexample to induction of ${r.property}`);
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
        const t0 = Date.now();
        const r = await prove(model, props, { maxK: 3, session });
        const answer = `${bfs.kind}/${r.status}${r.status === 'cti' && r.property === 'no-model-error' ? ' (model error)' : ''}${r.status === 'proved' ? ` k=${r.k}` : ''}`;
        seen.set(answer, (seen.get(answer) ?? 0) + 1);
        judge(`plan ${pi}`, model, props, bfs, r, bad, 3, Date.now() - t0);
        // The k of a proof is the first that succeeds: one less gives a counterexample to induction.
        if (r.status === 'proved' && (r.k ?? 0) > 1) {
          const fewer = await prove(model, props, { maxK: (r.k as number) - 1, session });
          if (fewer.status !== 'cti') bad.push(`plan ${pi}: proved at k=${r.k}, and with maxK ${(r.k as number) - 1}: ${fewer.status}`);
        }
      }
    });
    expect(bad).toEqual([]);
    // Every answer must occur, or the agreement says little.
    for (const k of ['ok/proved k=1', 'ok/proved k=2', 'ok/cti', 'ok/cti (model error)', 'violated/violated', 'error/error'])
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
        const t0 = Date.now();
        const r = await prove(model, props, { maxK: 3, session, strengthening: [hint] });
        if (r.status === 'proved') bad.push(`plan ${pi}: proved with a false hint`);
        if (r.status === 'cti' && r.hintFailed) notFitting++;
        judge(`plan ${pi} (false hint)`, model, props, bfs, r, bad, 3, Date.now() - t0, [hint]);
      }
    });
    expect(bad).toEqual([]);
    expect(notFitting).toBeGreaterThan(3);
  }, 120_000);

  it('a time limit too short for any query gives incomplete in the first base case, never a verdict; a start state that raises a model error gives MC011; maxK below 1 is refused', async () => {
    const plan = fc.sample(planArb(), { numRuns: 1, seed: 20261210 })[0] as Plan;
    const { model, props } = build(plan);
    const r = await prove(model, props, { maxK: 3, timeLimitSec: 1e-9 });
    expect(r.status).toBe('incomplete');
    // The first query is the base case's: that is where the time ran out.
    if (r.status === 'incomplete') expect(r.reason).toMatch(/time limit of 1e-9s reached in the base case at depth 0/);
    await expect(prove(model, props, { maxK: 0 })).rejects.toThrow(/maxK must be at least 1/);
    await expect(prove(model, props, { maxK: -1 })).rejects.toThrow(/maxK must be at least 1/);
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
    const t0 = Date.now();
    const e = await prove(bad, [], {});
    const wall = Date.now() - t0;
    expect(e.status === 'error' && e.code).toBe('MC011');
    expect(e.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(e.elapsedMs).toBeLessThanOrEqual(wall);
  }, 60_000);
});

describe('k-induction on hand-written models whose answers are known', () => {
  /** n climbs from 0 to 3 and stops there (a deadlock, not checked by k-induction); 3, which the invariant forbids, is reached in 3 steps. */
  const climb = buildModel(
    defineProtocol({
      name: 'climb',
      summary: 'a counter that climbs to 3',
      spec: 'checker/smt/proveDifferential.test.ts',
      params: {},
      variants: [],
      build(b) {
        const n = b.v('n', range(0, 5));
        b.init('zero', () => []);
        b.rule('Climb', {}, () => ({ guard: lt(n, 3), body: [assign(n, add(n, 1))] }));
        return { n };
      },
    }),
  );
  const notThree = invariant('not-three', 'T-3', 'n never reaches 3', not(eq(climb.handles.n, 3)));
  const belowOne = invariant('below-one', 'T-4', 'wrong on purpose: n stays 0', lt(climb.handles.n, 1));

  it('a hint failing after 1 step and a property after 3 (in a stuck state): the violation (3 steps, as BFS) when the base case reaches 3 steps (maxK 4), the hints do not fit when it does not (maxK 3), with and without a time limit; without the hint the violation or a counterexample to induction; without properties no deadlock is reported', async () => {
    const bfs = bfsAnswer(explicitCheck({ model: climb, properties: [notThree], limits: {}, deadlock: false }));
    expect(bfs).toEqual({ kind: 'violated', length: 4 });
    const bad: string[] = [];
    await withSession(async (session: SmtSession) => {
      for (const [maxK, timeLimitSec] of [
        [4, undefined],
        [4, 60],
        [3, undefined],
        [3, 60],
      ] as const) {
        const t0 = Date.now();
        const r = await prove(climb, [notThree], { maxK, session, strengthening: [belowOne], ...(timeLimitSec ? { timeLimitSec } : {}) });
        judge(`maxK ${maxK}, time limit ${timeLimitSec}`, climb, [notThree], bfs, r, bad, maxK, Date.now() - t0, [belowOne]);
        if (maxK === 4) expect(r.status === 'violated' && r.violation.trace?.steps.length).toBe(4);
        else expect(r.status === 'cti' && r.hintFailed && r.trace?.steps.length).toBe(2);
      }
      // Without the hint: the base case's own violation at maxK 4, a counterexample to induction at
      // maxK 3; both end in the stuck state 3, which is no failure of k-induction's (no deadlock check).
      for (const maxK of [4, 3]) {
        const t0 = Date.now();
        const r = await prove(climb, [notThree], { maxK, session });
        judge(`maxK ${maxK}, no hint`, climb, [notThree], bfs, r, bad, maxK, Date.now() - t0);
        expect(r.status).toBe(maxK === 4 ? 'violated' : 'cti');
      }
      // Without properties the wrong hint does not fit: the bounded search after it looks for
      // property violations only, not for the deadlock 3 steps deep.
      const t0 = Date.now();
      const r = await prove(climb, [], { maxK: 4, session, strengthening: [belowOne] });
      judge('no property', climb, [], { kind: 'ok', length: 0 }, r, bad, 4, Date.now() - t0, [belowOne]);
      expect(r.status === 'cti' && r.hintFailed).toBe(true);
    });
    expect(bad).toEqual([]);
  }, 60_000);

  /** n stays where it is, or jumps from 2 (never reached) to 3, which the invariant forbids. */
  const stall = buildModel(
    defineProtocol({
      name: 'stall',
      summary: 'a value that stays, and an unreachable jump',
      spec: 'checker/smt/proveDifferential.test.ts',
      params: {},
      variants: [],
      build(b) {
        const n = b.v('n', range(0, 3));
        b.init('zero', () => []);
        b.rule('Stay', {}, () => ({ guard: true, body: [assign(n, n)] }));
        b.rule('Jump', {}, () => ({ guard: eq(n, 2), body: [assign(n, 3)] }));
        return { n };
      },
    }),
  );
  const notJumped = invariant('not-jumped', 'T-5', 'n never reaches 3', not(eq(stall.handles.n, 3)));

  it('simple paths prove a model with a self-loop at k = 2 (the default), a counterexample to induction at maxK 1; without them, one at the default maxK that stays in 2; an invariant false everywhere fails at the start; a true hint proves it at k = 1', async () => {
    const bfs = bfsAnswer(explicitCheck({ model: stall, properties: [notJumped], limits: {}, deadlock: false }));
    expect(bfs.kind).toBe('ok');
    const bad: string[] = [];
    await withSession(async (session: SmtSession) => {
      let t0 = Date.now();
      const r = await prove(stall, [notJumped], { session });
      judge('default', stall, [notJumped], bfs, r, bad, DEFAULT_MAX_K, Date.now() - t0);
      expect(r.status === 'proved' && r.k).toBe(2);
      t0 = Date.now();
      const one = await prove(stall, [notJumped], { session, maxK: 1 });
      judge('maxK 1', stall, [notJumped], bfs, one, bad, 1, Date.now() - t0);
      expect(one.status === 'cti' && one.k).toBe(1);
      // Without distinct states the path 2, 2, ..., 2, 3 is a counterexample to induction at every k
      // (with a time limit far above the time needed: 20 s, not 20 ms).
      const loop = await prove(stall, [notJumped], { session, simplePath: false, timeLimitSec: 20 });
      expect(loop.status === 'cti' && loop.k).toBe(DEFAULT_MAX_K);
      if (loop.status === 'cti') {
        const t = loop.trace as Trace;
        expect(replayPath(stall, pathOf(t, false))).toBeNull();
        expect(t.steps.map((x) => x.state[0])).toEqual([...Array(DEFAULT_MAX_K).fill(2), 3]);
        expect(loop.property).toBe('not-jumped');
      }
      // An invariant that is false in every state (its query folds to a constant) fails at the start.
      const never = invariant('never', 'T-7', 'false on purpose', lit(false));
      t0 = Date.now();
      const none0 = await prove(stall, [never], { session });
      judge('constant false', stall, [never], { kind: 'violated', length: 1 }, none0, bad, DEFAULT_MAX_K, Date.now() - t0);
      expect(none0.status === 'violated' && none0.violation.trace?.steps.length).toBe(1);
      const hint = invariant('never-two', 'T-6', 'n is never 2', not(eq(stall.handles.n, 2)));
      t0 = Date.now();
      const hinted = await prove(stall, [notJumped], { session, strengthening: [hint] });
      judge('true hint', stall, [notJumped], bfs, hinted, bad, DEFAULT_MAX_K, Date.now() - t0, [hint]);
      expect(hinted.status === 'proved' && hinted.k).toBe(1);
    });
    expect(bad).toEqual([]);
  }, 60_000);

  it('the time limit is reported where it ran out: at the hint query, or at the step case when every base-case query folds to a constant; arithmetic too wide for the translation is MC010', async () => {
    // Nothing in `stall` can raise a model error: with no invariant the base case's query is the
    // constant false, answered without z3; the next query is the first to meet the time limit.
    const still = stepProperty(stall, 'still', 'T-8', 'n never changes', null, () => eq(stall.handles.n, pre(stall.handles.n)));
    const r = await prove(stall, [still], { timeLimitSec: 1e-9 });
    expect(r.status === 'incomplete' && r.reason).toMatch(/time limit of 1e-9s reached in the step case at k=1/);
    const wrong = invariant('wrong', 'T-9', 'false on purpose', lit(false));
    const h = await prove(stall, [], { timeLimitSec: 1e-9, strengthening: [wrong] });
    expect(h.status === 'incomplete' && h.reason).toMatch(/time limit of 1e-9s reached in the base case at depth 0/);
    const wide = buildModel(
      defineProtocol({
        name: 'wide',
        summary: 'a sum beyond 2^30',
        spec: 'checker/smt/proveDifferential.test.ts',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 600_000_000));
          b.init('zero', () => []);
          b.rule('Double', {}, () => ({ guard: lt(add(x, x), 5), body: [assign(x, 1)] }));
          return { x };
        },
      }),
    );
    const e = await prove(wide, [invariant('small', 'T-10', 'x stays below 2', lt(wide.handles.x, 2))], { maxK: 2 });
    expect(e.status === 'error' && e.code).toBe('MC010');
  }, 60_000);
});
