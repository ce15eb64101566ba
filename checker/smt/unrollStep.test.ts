/**
 * One step of the SMT unrolling (unroll.ts, translate.ts, the statements of exprTranslator.ts),
 * compared with the interpreter (the reference semantics) on random tiny protocols, state by state
 * and rule instance by rule instance. Why this test exists: BMC against BFS
 * (smtDifferential.test.ts) compares whole searches, which costs tens of seconds and tells only
 * that some depth differs; this one is fast and names the slot, the guard or the error that
 * differs. For every state (reachable ones and arbitrary codes within the slot types) z3 fixes
 * state 0 to it and must agree with the interpreter on:
 * - each instance's guard, and whether some enabled instance raises a model error (`err`);
 * - deadlock (no instance enabled; the random protocols have no end state) and the invariant;
 * - the successor of each enabled instance that raises no error, as read from the step's terms;
 * - the transition relation: choosing an enabled instance gives exactly that successor and
 *   decodes back to its id; choosing a disabled one, or a choice code past the last instance, is
 *   unsatisfiable; on the step taken, the step properties of its rule and whether the state changed;
 * - the slot domains (no code past a type's last value) and the start states (exactly the
 *   interpreter's, each decoded as an init that gives it).
 * The random protocols have no forEach, no reset at a computed index and few three-init models, so a
 * hand-written model of every statement form is compared too; and they have only arrays of scalars
 * (one slot an element), no `false` literal and no quantifier whose body can fail, so a second model
 * has arrays of records and of arrays (an element several slots wide) read, written and reset at
 * constant and computed indexes, and quantifiers whose body fails only past the deciding element or
 * under a condition not taken.
 */
import fc from 'fast-check';
import type { Z3_ast } from 'z3-solver';
import { afterAll, describe, expect, it } from 'vitest';
import { applyRule, enabled, failingInstance, holds, initState, instanceBindings } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type ScalarType, arrayOf, bool, enumOf, fromCode, option, range, record } from '../../model/lang/types.js';
import { add, and, count, eq, exists, forall, isNone, isSome, ite, le, lt, none, not, pre, some, unwrap } from '../../model/lang/expr.js';
import { buildModel, defineProtocol } from '../../model/lang/protocol.js';
import { assign, forEach, reset, when } from '../../model/lang/stmt.js';
import { type Invariant, type StepProperty, invariant, stepProperty } from '../../properties/property.js';
import { build, orError, planArb, statesOf } from './randomProtocol.testkit.js';
import { type Sym, SymOps } from './symbolic.js';
import { Terms, bitsFor } from './terms.js';
import { SlotTranslator } from './translate.js';
import { Unrolling } from './unroll.js';
import { type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** What the comparisons met, so that a test can require each outcome to occur. */
interface Compared {
  successors: number;
  errors: number;
  deadlocks: number;
  disabled: number;
  stepViolations: number;
}

/** Compares one step of the unrolling with the interpreter on `states`; differences go to `bad`. */
async function compareStep(
  session: SmtSession,
  name: string,
  model: Model,
  invariants: readonly Invariant[],
  steps: readonly StepProperty[],
  states: readonly Int32Array[],
  bad: string[],
  compared: Compared,
): Promise<void> {
  const tm = new Terms(session);
  const ops = new SymOps(tm);
  const tr = new SlotTranslator(ops, model);
  const u = new Unrolling(tm, ops, tr, { invariants, steps, covers: [] }, true);
  const solver = session.newSolver('QF_BV');
  session.add(solver, u.addState().t);
  session.add(solver, u.addState().t);
  const types = model.layout.slotTypes;
  const info = u.info(0);
  const err = u.err(0);
  const inv = u.invViolated(0);
  const trans = u.transition(0);
  const stepBad = u.stepViolated(1);
  const differ = u.differ(0, 1);
  // The domain of a slot: no code past the type's last value.
  for (const [j, t] of types.entries()) {
    const mc = ops.maxCode(t);
    if (mc === null) continue;
    session.push(solver);
    session.add(solver, tm.not(tm.ule((u.vars[0] as Z3_ast[])[j] as Z3_ast, tm.bv(mc, ops.slotWidth(t)))));
    if ((await session.check(solver, null)) !== 'unsat') bad.push(`${name}: slot ${model.layout.slotNames[j]} may hold code ${mc + 1}`);
    session.pop(solver);
  }
  // The start states: exactly the interpreter's, each decoded with the index of an init that gives it.
  const starts = new Set(model.inits.map((i) => initState(model, i).join(',')));
  const found = new Set<string>();
  session.push(solver);
  session.add(solver, u.initConstraint().t);
  while (found.size <= starts.size && (await session.check(solver, null)) === 'sat') {
    const m = session.model(solver);
    const s0 = u.decodeState(m, 0);
    const via = u.decodeInit(m);
    if (initState(model, model.inits[via]!).join(',') !== s0.join(',')) bad.push(`${name}: start state [${s0.join(',')}] decoded as init ${via}`);
    found.add(s0.join(','));
    session.releaseModel(m);
    session.add(
      solver,
      ops.not(ops.and(types.map((t, k) => ops.eq((u.states[0] as Sym[])[k] as Sym, t.kind === 'bool' ? ops.lit(s0[k] !== 0) : { k: 'v', v: s0[k] as number }))))
        .t,
    );
  }
  session.pop(solver);
  // The init selector takes exactly the values 0..inits-1 (its bit-vector may hold more). Each
  // call of initConstraint makes a fresh selector, read back after the call.
  if (model.inits.length > 1) {
    const w = bitsFor(model.inits.length);
    for (let v = 0; v < 2 ** w; v++) {
      session.push(solver);
      session.add(solver, u.initConstraint().t);
      const sel = (u as unknown as { initSel: Z3_ast }).initSel;
      session.add(solver, tm.eq(sel, tm.bv(v, w)));
      const ans = await session.check(solver, null);
      if ((ans === 'sat') !== v < model.inits.length) bad.push(`${name}: init selector ${v} is ${ans}`);
      session.pop(solver);
    }
  }
  if ([...found].sort().join(' ') !== [...starts].sort().join(' '))
    bad.push(`${name}: start states ${[...found].sort().join(' ')} in smt, ${[...starts].sort().join(' ')} in the interpreter`);
  const n = model.instances.length;
  const valueIn = (m: Parameters<typeof u.holds>[0], t: ScalarType, x: Sym) =>
    t.kind === 'bool' ? (tm.evalBool(m, ops.slotTerm(t, x)) ? 1 : 0) : fromCode(t, tm.evalBv(m, ops.slotTerm(t, x)));
  const where = (s: Int32Array) => `${name} state [${s.join(',')}]`;
  for (const s of states) {
    if (bad.length >= 8) break;
    session.push(solver);
    const cur = u.states[0] as Sym[];
    session.add(solver, ops.and(types.map((t, k) => ops.eq(cur[k] as Sym, t.kind === 'bool' ? ops.lit(s[k] !== 0) : { k: 'v', v: s[k] as number }))).t);
    expect(await session.check(solver, null)).toBe('sat');
    const m = session.model(solver);
    const wantErr = failingInstance(model, s) !== null;
    if (u.holds(m, err) !== wantErr) bad.push(`${where(s)}: err smt ${!wantErr}, interpreter ${wantErr}`);
    if (wantErr) compared.errors++;
    const wantInv = orError(() => !holds(model, (invariants[0] as Invariant).pred, s));
    if (wantInv !== 'error' && u.holds(m, inv) !== wantInv) bad.push(`${where(s)}: invariant violated smt ${!wantInv}, interpreter ${wantInv}`);
    const guards = model.instances.map((inst) => orError(() => enabled(model, inst, s)));
    if (!guards.includes('error')) {
      const wantDead = !guards.includes(true);
      if (u.holds(m, info.deadlock) !== wantDead) bad.push(`${where(s)}: deadlock smt ${!wantDead}, interpreter ${wantDead}`);
      if (wantDead) compared.deadlocks++;
    }
    const succ: (Int32Array | null)[] = [];
    model.instances.forEach((inst, i) => {
      const g = guards[i];
      succ.push(null);
      if (g === 'error') return;
      if (u.holds(m, info.guards[i]!) !== g) bad.push(`${where(s)}: guard of ${inst.label} smt ${!g}, interpreter ${g}`);
      if (!g) return;
      const want = orError(() => applyRule(model, inst, s));
      if (want === 'error') return;
      succ[i] = want;
      const got = types.map((t, j) => valueIn(m, t, info.next[i]![j]!));
      if (got.join(',') !== want.join(',')) bad.push(`${where(s)}: ${inst.label} gives [${got.join(',')}] in smt, [${want.join(',')}] in the interpreter`);
      compared.successors++;
    });
    session.releaseModel(m);
    // The transition relation, one choice at a time.
    const sel = u.sels[0] as Z3_ast;
    const w = u.selWidth;
    for (let i = 0; i < n; i++) {
      if (guards[i] === 'error' || (guards[i] === true && succ[i] === null)) continue;
      session.push(solver);
      session.add(solver, trans.t);
      session.add(solver, tm.eq(sel, tm.bv(i, w)));
      const ans = await session.check(solver, null);
      if (guards[i] === false) {
        if (ans !== 'unsat') bad.push(`${where(s)}: disabled ${model.instances[i]!.label} can be chosen`);
        compared.disabled++;
      } else if (ans !== 'sat') bad.push(`${where(s)}: enabled ${model.instances[i]!.label} cannot be chosen`);
      else {
        const m2 = session.model(solver);
        const got = u.decodeState(m2, 1);
        if (u.decodeChoice(m2, 0) !== i) bad.push(`${where(s)}: choice ${i} decodes as ${u.decodeChoice(m2, 0)}`);
        if (got.join(',') !== (succ[i] as Int32Array).join(','))
          bad.push(`${where(s)}: step ${model.instances[i]!.label} reaches [${got.join(',')}], the interpreter [${(succ[i] as Int32Array).join(',')}]`);
        const inst = model.instances[i]!;
        const next = succ[i] as Int32Array;
        const wantStep = orError(() =>
          steps.some((p) => (p.rule === null || p.rule === inst.rule.name) && !holds(model, p.pred, next, s, instanceBindings(inst))),
        );
        if (wantStep !== 'error' && u.holds(m2, stepBad) !== wantStep)
          bad.push(`${where(s)}: step ${inst.label} breaks a step property: smt ${!wantStep}, interpreter ${wantStep}`);
        if (wantStep === true) compared.stepViolations++;
        if (u.holds(m2, differ) !== (next.join(',') !== s.join(','))) bad.push(`${where(s)}: step ${inst.label}: states 0 and 1 differ wrongly`);
        session.releaseModel(m2);
      }
      session.pop(solver);
    }
    if (n < 2 ** w) {
      session.push(solver);
      session.add(solver, trans.t);
      session.add(solver, tm.eq(sel, tm.bv(n, w)));
      if ((await session.check(solver, null)) !== 'unsat') bad.push(`${where(s)}: choice code ${n} (no such instance) is satisfiable`);
      session.pop(solver);
    }
    session.pop(solver);
  }
  session.releaseSolver(solver);
}

/** Nothing compared yet. */
const noneCompared = (): Compared => ({ successors: 0, errors: 0, deadlocks: 0, disabled: 0, stepViolations: 0 });

/** `compareStep` on one model, in a session of its own: any disagreement fails the test. Returns what was compared. */
async function compareModel(
  name: string,
  model: Model,
  invariants: readonly Invariant[],
  steps: readonly StepProperty[],
  states: readonly Int32Array[],
): Promise<Compared> {
  const bad: string[] = [];
  const compared = noneCompared();
  await withSession((session) => compareStep(session, name, model, invariants, steps, states, bad, compared));
  expect(bad).toEqual([]);
  return compared;
}

describe('one step of the SMT unrolling agrees with the interpreter', () => {
  it('on random protocols: guards, model errors, deadlock, the invariant, every successor and the transition relation', async () => {
    const plans = fc.sample(planArb(), { numRuns: 16, seed: 20261205 });
    const bad: string[] = [];
    const compared = noneCompared();
    await withSession(async (session) => {
      for (const [pi, plan] of plans.entries()) {
        const { model, props } = build(plan);
        const invariants = props.filter((p): p is Invariant => p.kind === 'invariant');
        const steps = props.filter((p): p is StepProperty => p.kind === 'step');
        await compareStep(session, `plan ${pi}`, model, invariants, steps, statesOf(model, 5, 3, pi + 1), bad, compared);
      }
    });
    expect(bad).toEqual([]);
    // The plans must exercise every outcome, or the agreement says little.
    expect(compared.successors).toBeGreaterThan(100);
    expect(compared.errors).toBeGreaterThan(5);
    expect(compared.deadlocks).toBeGreaterThan(5);
    expect(compared.disabled).toBeGreaterThan(20);
  }, 60_000);

  it('on a model of every statement form: reset at a computed index, forEach, an if and an ite whose untaken branch would fail, three start states, rule-bound step properties', async () => {
    const def = defineProtocol({
      name: 'unroll-statements',
      summary: 'every statement form',
      spec: 'checker/smt/unrollStep.test.ts',
      params: {},
      variants: [],
      build(b) {
        const I = b.index('I', 3);
        const ot = option(I);
        const o = b.v('o', ot);
        const arr = b.v('arr', arrayOf(I, range(0, 3)));
        const flag = b.v('flag', arrayOf(I, bool));
        const n = b.v('n', range(0, 3));
        const e = b.v('e', enumOf('E', ['x', 'y', 'z']));
        b.init('zero', () => []);
        b.init('one', () => [assign(n, 1)]);
        b.init('two', () => [assign(e, 'y'), assign(o, some(2, ot))]);
        b.rule('ResetAt', { p: I }, ({ p }) => ({ guard: lt(0, arr.at(p)), body: [reset(arr.at(p))] }));
        b.rule('ResetPicked', {}, () => ({ guard: isSome(o), body: [reset(arr.at(unwrap(o))), assign(o, none)] }));
        b.rule('Fill', {}, () => ({ guard: true, body: [forEach(I, (j) => [assign(arr.at(j), ite(flag.at(j), 3, arr.at(j)))])] }));
        b.rule('Flag', { p: I }, ({ p }) => ({ guard: not(flag.at(p)), body: [assign(flag.at(p), true), assign(o, some(p, ot))] }));
        b.rule('CountIfSome', {}, () => ({ guard: true, body: [when(isSome(o), [assign(n, add(n, 1))], [assign(e, 'z')])] }));
        b.rule('Pick', {}, () => ({ guard: lt(n, 3), body: [assign(n, ite(isNone(o), 0, arr.at(unwrap(o))))] }));
        return { o, arr, flag, n, e };
      },
    });
    const model = buildModel(def);
    const { arr, n, e } = model.handles;
    const invariants = [invariant('not-3-z', 'T-1', 'n is 3 only while e is not z', not(and(eq(n, 3), eq(e, 'z'))))];
    const steps = [
      stepProperty(model, 'fill-keeps-0', 'T-2', 'Fill leaves cell 0 alone', 'Fill', () => eq(arr.at(0), pre(arr.at(0)))),
      stepProperty(model, 'pick-grows', 'T-3', 'Pick never lowers n', 'Pick', () => le(pre(n), n)),
    ];
    const compared = await compareModel('statements', model, invariants, steps, statesOf(model, 12, 40, 7));
    expect(compared.errors).toBeGreaterThan(3);
    expect(compared.stepViolations).toBeGreaterThan(3);
    expect(compared.successors).toBeGreaterThan(100);
  }, 60_000);

  it('on a model of arrays of records and of arrays: elements several slots wide read, written and reset at constant and computed indexes, a false literal, quantifiers whose body fails past the deciding element or under a condition not taken, a count', async () => {
    const def = defineProtocol({
      name: 'unroll-strides',
      summary: 'elements several slots wide, and quantifiers whose body can fail',
      spec: 'checker/smt/unrollStep.test.ts',
      params: {},
      variants: [],
      build(b) {
        const I = b.index('I', 3);
        const J = b.index('J', 2);
        const ot = option(I);
        const page = b.v('page', arrayOf(I, record({ pfn: range(0, 3), valid: bool })));
        const grid = b.v('grid', arrayOf(I, arrayOf(J, range(0, 2))));
        const ptr = b.v('ptr', arrayOf(I, ot));
        const qtr = b.v('qtr', arrayOf(I, ot));
        const o = b.v('o', ot);
        const hit = b.v('hit', bool);
        b.init('zero', () => []);
        b.init('mapped', () => [
          assign(page.at(1).f('valid'), true),
          assign(page.at(1).f('pfn'), 2),
          assign(ptr.at(0), some(1, ot)),
          assign(grid.at(2).at(1), 2),
        ]);
        b.rule('Map', { p: I }, ({ p }) => ({
          guard: not(page.at(p).f('valid')),
          body: [
            assign(page.at(p).f('valid'), true),
            assign(page.at(p).f('pfn'), ite(lt(page.at(p).f('pfn'), 3), add(page.at(p).f('pfn'), 1), 0)),
            assign(ptr.at(p), some(p, ot)),
          ],
        }));
        b.rule('Unmap', { p: I }, ({ p }) => ({ guard: page.at(p).f('valid'), body: [reset(page.at(p)), assign(hit, false)] }));
        b.rule('FixLast', {}, () => ({ guard: lt(page.at(2).f('pfn'), 3), body: [assign(page.at(2).f('pfn'), 3), assign(page.at(0).f('valid'), false)] }));
        b.rule('Bump', { q: J }, ({ q }) => ({ guard: lt(grid.at(1).at(q), 2), body: [assign(grid.at(1).at(q), add(grid.at(1).at(q), 1))] }));
        b.rule('CopyPicked', {}, () => ({ guard: isSome(o), body: [assign(grid.at(unwrap(o)).at(1), grid.at(2).at(0))] }));
        b.rule('ClearRow', { p: I }, ({ p }) => ({ guard: lt(0, grid.at(p).at(1)), body: [reset(grid.at(p)), reset(page.at(1))] }));
        b.rule('Pick', { p: I }, ({ p }) => ({ guard: isNone(o), body: [assign(o, some(p, ot))] }));
        b.rule('Drop', {}, () => ({ guard: isSome(o), body: [assign(o, none), assign(ptr.at(1), none)] }));
        // The body fails at an element whose pointer is none, unless an earlier element decided (one
        // array of pointers each, so that one rule's model error does not hide another's).
        b.rule('AllMapped', {}, () => ({ guard: forall(I, (j) => page.at(unwrap(ptr.at(j))).f('valid')), body: [assign(hit, true)] }));
        b.rule('AnyBelow3', {}, () => ({ guard: exists(I, (j) => lt(page.at(unwrap(qtr.at(j))).f('pfn'), 3)), body: [assign(hit, false)] }));
        b.rule('Few', {}, () => ({
          guard: lt(
            count(I, (j) => page.at(j).f('valid')),
            2,
          ),
          body: [assign(page.at(0).f('pfn'), 0)],
        }));
        // The body fails when o is none, which the condition excludes.
        b.rule('Seek', {}, () => ({
          guard: not(hit),
          body: [
            when(
              isSome(o),
              [
                assign(
                  hit,
                  exists(I, (j) => eq(unwrap(o), j)),
                ),
              ],
              [],
            ),
          ],
        }));
        return { page, grid, ptr, qtr, o, hit };
      },
    });
    const model = buildModel(def);
    const { page, grid } = model.handles;
    const invariants = [invariant('first-not-full', 'T-1', 'a valid first page is not at pfn 3', not(and(page.at(0).f('valid'), eq(page.at(0).f('pfn'), 3))))];
    const steps = [
      stepProperty(model, 'bump-one', 'T-2', 'Bump raises no cell by more than one', 'Bump', () => le(grid.at(1).at(1), add(pre(grid.at(1).at(1)), 1))),
    ];
    const compared = await compareModel('strides', model, invariants, steps, statesOf(model, 8, 20, 11));
    expect(compared.errors).toBeGreaterThan(3);
    expect(compared.successors).toBeGreaterThan(100);
    expect(compared.disabled).toBeGreaterThan(20);
  }, 60_000);

  it('on a model whose count runs a body that fails at any element (count decides nothing early)', async () => {
    const def = defineProtocol({
      name: 'unroll-count',
      summary: 'a count whose body can fail',
      spec: 'checker/smt/unrollStep.test.ts',
      params: {},
      variants: [],
      build(b) {
        const I = b.index('I', 3);
        const ot = option(I);
        const flag = b.v('flag', arrayOf(I, bool));
        const ptr = b.v('ptr', arrayOf(I, ot));
        b.init('zero', () => [assign(ptr.at(0), some(0, ot)), assign(ptr.at(1), some(1, ot)), assign(ptr.at(2), some(2, ot))]);
        b.rule('Few', {}, () => ({
          guard: lt(
            count(I, (j) => flag.at(unwrap(ptr.at(j)))),
            2,
          ),
          body: [assign(flag.at(0), true)],
        }));
        b.rule('Drop', { p: I }, ({ p }) => ({ guard: not(flag.at(p)), body: [assign(ptr.at(p), none)] }));
        return { flag, ptr };
      },
    });
    const model = buildModel(def);
    const invariants = [invariant('some-first', 'T-1', 'the first pointer is set', isSome(model.handles.ptr.at(0)))];
    const compared = await compareModel('count', model, invariants, [], statesOf(model, 8, 24, 13));
    expect(compared.errors).toBeGreaterThan(3);
    expect(compared.successors).toBeGreaterThan(20);
  }, 60_000);
});
