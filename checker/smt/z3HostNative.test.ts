/**
 * The native solver path of `SmtSession` (z3Host.ts) against a scripted stand-in for z3
 * (fakeZ3.testkit.ts). Why this file exists: with a real native z3, z3Host.test.ts sees only answers
 * that agree with the wasm z3; the session must also refuse a native model the wasm z3 rejects (a
 * native z3 that disagrees must never turn into a wrong counterexample), name a time limit only when
 * the deadline was reached, solve again in wasm when the model cannot be carried, send the solver's
 * logic, keep assumptions to one check, and start no process for a solver that is wasm-only.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, fakeZ3, pidOf, removeFakes, sentLines, startsOf, within } from './fakeZ3.testkit.js';
import { Terms } from './terms.js';
import { shutdownSmt, withSession } from './z3Host.js';

const saved = process.env.MIRRORCHECK_Z3;
beforeEach(() => {
  delete process.env.MIRRORCHECK_Z3;
});
afterEach(() => {
  if (saved === undefined) delete process.env.MIRRORCHECK_Z3;
  else process.env.MIRRORCHECK_Z3 = saved;
  removeFakes();
});
afterAll(async () => {
  await shutdownSmt();
});

describe('an SMT session on a native z3 (a scripted stand-in)', () => {
  it('refuses to start without a native z3', async () => {
    process.env.MIRRORCHECK_Z3 = '/nonexistent/mirrorcheck/z3';
    await expect(withSession(async () => 'started', 'native')).rejects.toThrow(/^native z3 not found on the PATH$/);
  }, 30_000);

  it('answers sat with the native model carried into wasm, and refuses a native model that does not satisfy the query', async () => {
    const { bin, starts } = fakeZ3({
      answers: ['sat', 'sat'],
      replies: ['(model (define-fun x () (_ BitVec 8) #xc9))', '(model (define-fun x () (_ BitVec 8) #x05))'],
    });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      const x = t.bvConst('x', 8);
      s.add(solver, t.ult(t.bv(200, 8), x));
      s.add(solver, t.not(t.eq(x, t.bv(0, 8))));
      expect(await within(s.check(solver, null), 20_000)).toBe('sat');
      expect(t.evalBv(s.model(solver), x)).toBe(201);
      expect(s.nativeStats).toMatchObject({ queries: 1, modelsResolved: 0 });
      // 5 is not above 200 (though it is not 0): the wasm z3 finds the native model wrong.
      await expect(within(s.check(solver, null), 20_000)).rejects.toThrow(/^the native z3 model does not satisfy the query in the wasm z3$/);
      expect(s.nativeStats.queries).toBe(2);
    }, 'native');
    // One native process: the wasm solvers that hold the native models start none.
    expect(startsOf(starts)).toBe(1);
  }, 30_000);

  it('solves again in wasm when the native model defines a function, and counts it; fails when the wasm z3 finds no model', async () => {
    const fn = '(model (define-fun f ((a (_ BitVec 4))) (_ BitVec 4) #x3))';
    const { bin } = fakeZ3({ answers: ['sat', 'sat'], replies: [fn, fn] });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      const x = t.bvConst('x', 4);
      s.add(solver, t.eq(x, t.bv(9, 4)));
      expect(await within(s.check(solver, null), 20_000)).toBe('sat');
      expect(t.evalBv(s.model(solver), x)).toBe(9);
      expect(s.nativeStats).toMatchObject({ queries: 1, modelsResolved: 1 });
      // Now unsat: a native sat whose model must be found again fails when the wasm z3 finds none.
      s.add(solver, t.eq(x, t.bv(10, 4)));
      await expect(within(s.check(solver, null), 20_000)).rejects.toThrow(/^the native z3 model does not satisfy the query in the wasm z3$/);
    }, 'native');
  }, 30_000);

  it('refuses a native model that leaves out a constant the query fixes (its default value would be decoded)', async () => {
    const { bin } = fakeZ3({ answers: ['sat'], replies: ['(model (define-fun x () (_ BitVec 8) #xc9))'] });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      s.add(solver, t.ult(t.bv(200, 8), t.bvConst('x', 8)));
      s.add(solver, t.eq(t.bvConst('y', 8), t.bv(3, 8)));
      await expect(within(s.check(solver, null), 20_000)).rejects.toThrow(/^the native z3 model does not satisfy the query in the wasm z3$/);
    }, 'native');
  }, 30_000);

  it('gives the native reason for unknown, but "time limit reached" once the deadline is (nearly) reached', async () => {
    const { bin } = fakeZ3({
      answers: ['unknown', 'sleep:400:unknown'],
      replies: ['(:reason-unknown "canceled")', '(:reason-unknown "canceled")'],
    });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      s.add(solver, t.ult(t.bv(1, 8), t.bvConst('x', 8)));
      expect(await within(s.check(solver, Date.now() + 60_000), 20_000)).toBe('unknown');
      expect(s.lastReason).toBe('canceled');
      expect(await within(s.check(solver, Date.now() + 200), 20_000)).toBe('unknown');
      expect(s.lastReason).toBe('time limit reached');
      // The time spent in the native z3 includes the 400 ms it took to answer.
      expect(s.nativeStats.ms).toBeGreaterThanOrEqual(400);
      expect(s.nativeStats.ms).toBeLessThan(20_000);
    }, 'native');
  }, 30_000);

  it("sends the solver's logic, keeps assumptions to one check, and starts no process for a wasm-only solver", async () => {
    const { bin, log, starts } = fakeZ3({ answers: ['unsat', 'unsat'] });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      s.newSolver(undefined, true);
      const solver = s.newSolver('QF_BV');
      const x = t.bvConst('x', 8);
      s.add(solver, t.ult(t.bv(1, 8), x));
      expect(await within(s.check(solver, null, [t.eq(x, t.bv(0, 8))]), 20_000)).toBe('unsat');
      expect(await within(s.check(solver, null), 20_000)).toBe('unsat');
      const lines = sentLines(log);
      expect(lines).toContain('(set-logic QF_BV)');
      const checks = lines.flatMap((l, i) => (l === '(check-sat)' ? [i] : []));
      expect(checks).toHaveLength(2);
      // The assumption is asserted in a scope of its own, popped after the first check.
      const first = lines.slice(0, checks[0]);
      const push = first.indexOf('(push 1)');
      expect(push).toBeGreaterThan(-1);
      expect(first.slice(push + 1).some((l) => l.startsWith('(assert'))).toBe(true);
      expect(lines[(checks[0] as number) + 1]).toBe('(pop 1)');
    }, 'native');
    // One process: the wasm-only solver started none.
    expect(startsOf(starts)).toBe(1);
  }, 30_000);

  it('releasing a solver ends its native process', async () => {
    const { bin, log } = fakeZ3({ answers: ['unsat'] });
    process.env.MIRRORCHECK_Z3 = bin;
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      s.add(solver, t.ult(t.bv(1, 8), t.bvConst('x', 8)));
      expect(await within(s.check(solver, null), 20_000)).toBe('unsat');
      const pid = pidOf(log);
      expect(alive(pid)).toBe(true);
      s.releaseSolver(solver);
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(pid)).toBe(false);
    }, 'native');
  }, 30_000);
});
