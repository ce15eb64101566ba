/**
 * The z3 session (z3Host.ts) on its own: answers, deadlines, scopes, assumptions, errors, release
 * and close, on the wasm z3 and (where one is installed) a native z3 mirroring the same solver.
 * Why this file exists: every SMT engine goes through `SmtSession`, and the engines' tests reach it
 * only through whole models, so a session that answers `unknown` for the wrong reason, forgets a
 * deadline, loses a scope or keeps a stale native model would show up there as a wrong verdict
 * without saying where it came from.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findNativeZ3 } from './nativeZ3.js';
import { Terms } from './terms.js';
import { MAX_CHECK_MS, type SmtSession, type SolverBackend, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/**
 * Runs `fn` while counting the wasm z3's checks (the z3 functions are shared by every session of
 * the process): how many were made, and the most running at once.
 */
async function watchChecks(s: SmtSession, fn: () => Promise<void>): Promise<{ calls: number; most: number }> {
  const z = s.z as unknown as Record<string, unknown>;
  const orig = z.solver_check_assumptions as (...a: unknown[]) => Promise<number>;
  const seen = { calls: 0, most: 0 };
  let active = 0;
  z.solver_check_assumptions = async (...a: unknown[]) => {
    seen.calls++;
    seen.most = Math.max(seen.most, ++active);
    try {
      return await orig(...a);
    } finally {
      active--;
    }
  };
  try {
    await fn();
  } finally {
    z.solver_check_assumptions = orig;
  }
  return seen;
}

const backends: SolverBackend[] = findNativeZ3() === null ? ['wasm'] : ['wasm', 'native'];

/** x * y = 2^61 - 1 over 64-bit vectors, 1 < x, y: z3 needs far more than a few milliseconds (and the answer is unsat: a Mersenne prime). */
function hardQuery(s: SmtSession, t: Terms) {
  const solver = s.newSolver();
  const [x, y] = [t.bvConst('x', 64), t.bvConst('y', 64)];
  const wide = (a: ReturnType<Terms['bvConst']>) => t.zext(a, 64);
  s.add(solver, t.eq(t.mul(wide(x), wide(y)), t.bv(2 ** 61 - 1, 128)));
  s.add(solver, t.ult(t.bv(1, 64), x));
  s.add(solver, t.ult(t.bv(1, 64), y));
  return solver;
}

describe.each(backends)('an SMT session (%s)', (backend) => {
  it('answers sat with a model of the query, unsat, and names the solver', async () => {
    await withSession(async (s) => {
      expect(s.solverName).toBe(`z3-${backend}`);
      const t = new Terms(s);
      const solver = s.newSolver();
      const x = t.bvConst('x', 8);
      s.add(solver, t.ult(t.bv(200, 8), x));
      s.add(solver, t.ult(x, t.bv(202, 8)));
      expect(await s.check(solver, null)).toBe('sat');
      expect(t.evalBv(s.model(solver), x)).toBe(201);
      s.add(solver, t.not(t.eq(x, t.bv(201, 8))));
      expect(await s.check(solver, null)).toBe('unsat');
      // The native z3 answered both checks (and the wasm one none of them).
      expect(s.nativeStats.queries).toBe(backend === 'native' ? 2 : 0);
      // A model of constants comes from the native z3 itself, not from solving again in wasm.
      expect(s.nativeStats.modelsResolved).toBe(0);
    }, backend);
  }, 30_000);

  it('push and pop: what is asserted in a scope goes with it, and the model is that of the last check', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      const x = t.bvConst('x', 4);
      s.add(solver, t.ule(t.bv(3, 4), x));
      s.push(solver);
      s.add(solver, t.eq(x, t.bv(9, 4)));
      expect(await s.check(solver, null)).toBe('sat');
      expect(t.evalBv(s.model(solver), x)).toBe(9);
      s.add(solver, t.eq(x, t.bv(10, 4)));
      expect(await s.check(solver, null)).toBe('unsat');
      s.pop(solver);
      s.push(solver);
      s.add(solver, t.eq(x, t.bv(5, 4)));
      expect(await s.check(solver, null)).toBe('sat');
      expect(t.evalBv(s.model(solver), x), 'the model of this check, not of the first').toBe(5);
      s.pop(solver);
      s.add(solver, t.ule(x, t.bv(2, 4)));
      expect(await s.check(solver, null), 'the scope with x = 5 is gone, x >= 3 is not').toBe('unsat');
      expect(s.smtlib(solver)).toMatch(/bvule/);
    }, backend);
  }, 30_000);

  it('assumptions hold for one check only', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      const [a, b] = [t.boolConst('a'), t.boolConst('b')];
      s.add(solver, t.or([t.not(a), t.not(b)]));
      expect(await s.check(solver, null, [a, b])).toBe('unsat');
      expect(await s.check(solver, null, [a])).toBe('sat');
      const m = s.model(solver);
      expect([t.evalBool(m, a), t.evalBool(m, b)]).toEqual([true, false]);
      expect(await s.check(solver, null, [b])).toBe('sat');
      expect(t.evalBool(s.model(solver), a), 'a is no longer assumed').toBe(false);
      expect(await s.check(solver, null)).toBe('sat');
    }, backend);
  }, 30_000);

  it('a deadline already passed answers unknown at once, as a time limit; a deadline reached during a check too', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = hardQuery(s, t);
      const t0 = Date.now();
      const checks = await watchChecks(s, async () => {
        expect(await s.check(solver, Date.now() - 1)).toBe('unknown');
      });
      expect([checks.calls, s.nativeStats.queries], 'z3 was not asked').toEqual([0, 0]);
      expect(s.lastReason).toBe('time limit reached');
      expect(Date.now() - t0).toBeLessThan(1000);
      s.lastReason = '';
      expect(await s.check(solver, Date.now() + 300)).toBe('unknown');
      expect(s.lastReason).toBe('time limit reached');
    }, backend);
  }, 60_000);

  it('a model with a function (which a native model cannot carry as constants) is found and read back', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const solver = s.newSolver();
      const x = t.bvConst('x', 4);
      const f = t.func('f', [t.bvSort(4)], t.bvSort(4));
      s.add(solver, t.eq(t.app(f, [x]), t.bv(3, 4)));
      s.add(solver, t.eq(t.app(f, [t.bv(2, 4)]), t.bv(7, 4)));
      s.add(solver, t.eq(x, t.bv(1, 4)));
      expect(await s.check(solver, null)).toBe('sat');
      const m = s.model(solver);
      expect([t.evalBv(m, x), t.evalBv(m, t.app(f, [x])), t.evalBv(m, t.app(f, [t.bv(2, 4)]))]).toEqual([1, 3, 7]);
      expect(s.nativeStats.modelsResolved).toBe(backend === 'native' ? 1 : 0);
    }, backend);
  }, 30_000);

  it('checks started together each get their own answer', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const [one, two] = [s.newSolver(), s.newSolver()];
      const x = t.bvConst('x', 4);
      s.add(one, t.eq(x, t.bv(1, 4)));
      s.add(two, t.and([t.eq(x, t.bv(1, 4)), t.eq(x, t.bv(2, 4))]));
      const answers = await Promise.all([s.check(one, null), s.check(two, null), s.check(one, null)]);
      expect(answers).toEqual(['sat', 'unsat', 'sat']);
    }, backend);
  }, 30_000);
});

describe('an SMT session (wasm)', () => {
  it('a check after the session is closed is refused; releasing twice, or after close, is harmless', async () => {
    let kept: SmtSession | null = null;
    await withSession(async (s) => {
      kept = s;
      const solver = s.newSolver();
      expect(await s.check(solver, null)).toBe('sat');
      const m = s.model(solver);
      s.releaseModel(m);
      s.releaseModel(m);
      s.releaseSolver(solver);
      s.releaseSolver(solver);
      s.newSolver();
    });
    const s = kept as unknown as SmtSession;
    expect(() => s.newSolver()).toThrow('SMT session used after close');
    await expect(s.check({ ptr: 0 as never }, null)).rejects.toThrow('SMT session used after close');
    s.close();
  }, 30_000);

  it('checks started together run one at a time in the process, across sessions', async () => {
    await withSession(async (s) => {
      const checks = await watchChecks(s, () =>
        withSession(async (other) => {
          const [t, u] = [new Terms(s), new Terms(other)];
          const [one, two] = [s.newSolver(), other.newSolver()];
          s.add(one, t.ule(t.bv(3, 8), t.bvConst('x', 8)));
          other.add(two, u.ule(u.bvConst('y', 8), u.bv(3, 8)));
          const answers = await Promise.all([s.check(one, null), other.check(two, null), s.check(one, null), other.check(two, null)]);
          expect(answers).toEqual(['sat', 'sat', 'sat', 'sat']);
        }),
      );
      expect([checks.calls, checks.most]).toEqual([4, 1]);
    });
  }, 30_000);

  it('withSession closes the session when its function throws, and passes the error on', async () => {
    let kept: SmtSession | null = null;
    await expect(
      withSession(async (s) => {
        kept = s;
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(() => (kept as unknown as SmtSession).newSolver()).toThrow('SMT session used after close');
  }, 30_000);

  it('checkError throws what z3 recorded (a sort mismatch), and nothing when there is nothing', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      expect(() => s.checkError()).not.toThrow();
      try {
        t.eq(t.bvConst('x', 4), t.boolConst('b'));
      } catch {
        // The wasm build may also throw at once; what is recorded is checked below.
      }
      expect(() => s.checkError()).toThrow(/^z3 error: /);
    });
  }, 30_000);

  it('the longest check allowed is under the 600 s after which the wasm z3 stops keeping Node alive', () => {
    expect(MAX_CHECK_MS).toBeLessThan(600_000);
    expect(MAX_CHECK_MS).toBeGreaterThanOrEqual(500_000);
  });

  it("z3's stderr: the notice of a worker that reported after being stopped is dropped, every other line is written, and loadZ3 installs it", () => {
    // A child process, because the channel writes to file descriptor 2 directly (as the wasm build does).
    const dist = fileURLToPath(new URL('../../dist/checker/smt/z3Host.js', import.meta.url));
    const script = [
      `import { loadZ3, z3PrintErr, shutdownSmt } from ${JSON.stringify(dist)};`,
      'const api = await loadZ3();',
      'process.stdout.write(String(api.em.printErr === z3PrintErr));',
      `z3PrintErr('received "cleanupThread" command from terminated worker: 1');`,
      `z3PrintErr('received "checkMailbox" command from terminated worker: 12');`,
      "z3PrintErr('z3 says', 'hello');",
      `z3PrintErr('received "cleanupThread" command from worker: 1');`,
      'await shutdownSmt();',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('true');
    expect(run.stderr).toBe('z3 says hello\nreceived "cleanupThread" command from worker: 1\n');
  });
});
