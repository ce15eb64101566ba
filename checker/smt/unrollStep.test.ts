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
 *   unsatisfiable.
 */
import fc from 'fast-check';
import type { Z3_ast } from 'z3-solver';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { applyRule, enabled, failingInstance, holds, initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type ScalarType, cardinality, fromCode } from '../../model/lang/types.js';
import type { Invariant, StepProperty } from '../../properties/property.js';
import { build, planArb } from './randomProtocol.testkit.js';
import { type Sym, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { SlotTranslator } from './translate.js';
import { Unrolling } from './unroll.js';
import { shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** The interpreter's answer, or 'error' when it raises a model error. */
function orError<T>(f: () => T): T | 'error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelRuntimeError) return 'error';
    throw e;
  }
}

/** Up to `max` states reachable from the start states (BFS with the interpreter), then `extra` arbitrary ones. */
function statesOf(model: Model, max: number, extra: number, seed: number): Int32Array[] {
  const out: Int32Array[] = [];
  const seen = new Set<string>();
  const add = (s: Int32Array) => {
    const k = s.join(',');
    if (seen.has(k) || out.length >= max) return;
    seen.add(k);
    out.push(s);
  };
  for (const init of model.inits) add(initState(model, init));
  for (let i = 0; i < out.length && out.length < max; i++) {
    const s = out[i] as Int32Array;
    for (const inst of model.instances) {
      const next = orError(() => (enabled(model, inst, s) ? applyRule(model, inst, s) : null));
      if (next !== null && next !== 'error') add(next);
    }
  }
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  for (let i = 0; i < extra; i++) out.push(Int32Array.from(model.layout.slotTypes, (t) => fromCode(t, rnd(cardinality(t)))));
  return out;
}

describe('one step of the SMT unrolling agrees with the interpreter on random protocols', () => {
  it('guards, model errors, deadlock, the invariant, every successor and the transition relation', async () => {
    const plans = fc.sample(planArb(), { numRuns: 16, seed: 20261205 });
    const bad: string[] = [];
    const compared = { successors: 0, errors: 0, deadlocks: 0, disabled: 0 };
    await withSession(async (session) => {
      for (const [pi, plan] of plans.entries()) {
        const { model, props } = build(plan);
        const tm = new Terms(session);
        const ops = new SymOps(tm);
        const tr = new SlotTranslator(ops, model);
        const invariants = props.filter((p): p is Invariant => p.kind === 'invariant');
        const steps = props.filter((p): p is StepProperty => p.kind === 'step');
        const u = new Unrolling(tm, ops, tr, { invariants, steps, covers: [] }, true);
        const solver = session.newSolver('QF_BV');
        session.add(solver, u.addState().t);
        session.add(solver, u.addState().t);
        const types = model.layout.slotTypes;
        const info = u.info(0);
        const err = u.err(0);
        const inv = u.invViolated(0);
        const trans = u.transition(0);
        const n = model.instances.length;
        const valueIn = (m: Parameters<typeof u.holds>[0], t: ScalarType, x: Sym) =>
          t.kind === 'bool' ? (tm.evalBool(m, ops.slotTerm(t, x)) ? 1 : 0) : fromCode(t, tm.evalBv(m, ops.slotTerm(t, x)));
        const where = (s: Int32Array) => `plan ${pi} state [${s.join(',')}]`;
        for (const s of statesOf(model, 5, 3, pi + 1)) {
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
            if (got.join(',') !== want.join(','))
              bad.push(`${where(s)}: ${inst.label} gives [${got.join(',')}] in smt, [${want.join(',')}] in the interpreter`);
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
    });
    expect(bad).toEqual([]);
    // The plans must exercise every outcome, or the agreement says little.
    expect(compared.successors).toBeGreaterThan(100);
    expect(compared.errors).toBeGreaterThan(5);
    expect(compared.deadlocks).toBeGreaterThan(5);
    expect(compared.disabled).toBeGreaterThan(20);
  }, 60_000);
});
