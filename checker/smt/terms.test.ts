/**
 * The term builder (terms.ts) against plain arithmetic and logic. Why this file exists: both SMT
 * translations build every term through `Terms`, so a fault here (a bit-vector value not reduced
 * modulo its width, `and([])` taken as false, two constants of one name merged, a quantifier decided
 * with its variables swapped) would turn into a wrong verdict everywhere; the translators' own tests
 * reach this code only through whole models. Each builder is checked here by evaluating what it
 * builds in a z3 model and comparing with the same operation computed in JavaScript (BigInt).
 */
import fc from 'fast-check';
import type { Z3_ast } from 'z3-solver';
import { afterAll, describe, expect, it } from 'vitest';
import { Terms, bitsFor } from './terms.js';
import { type ModelHandle, type SmtSession, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** Runs `fn` with the terms of a fresh session and a model of an empty solver (ground terms evaluate in it). */
async function withModel<T>(fn: (t: Terms, m: ModelHandle, s: SmtSession) => T | Promise<T>): Promise<T> {
  return withSession(async (s) => {
    const t = new Terms(s);
    const solver = s.newSolver();
    expect(await s.check(solver, null)).toBe('sat');
    return fn(t, s.model(solver), s);
  });
}

/** `v mod 2^w` in [0, 2^w), computed without z3. */
function modW(v: bigint, w: number): bigint {
  const m = 1n << BigInt(w);
  return ((v % m) + m) % m;
}

describe('bitsFor', () => {
  it('is the fewest bits (at least one) whose codes 0..2^b-1 cover n values, for n from 0 to 5000', () => {
    for (let n = 0; n <= 5000; n++) {
      const b = bitsFor(n);
      expect(b, `n=${n}`).toBeGreaterThanOrEqual(1);
      expect(2 ** b >= n, `n=${n}: 2^${b} < n`).toBe(true);
      if (b > 1) expect(2 ** (b - 1) < n, `n=${n}: ${b - 1} bits would do`).toBe(true);
    }
  });
});

describe('Terms', () => {
  it('bv(v, w) is v modulo 2^w (negative and too large values too), has width w, and is one term per value', async () => {
    await withModel((t, m) => {
      const cases = fc.sample(fc.tuple(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.integer({ min: 1, max: 18 })), { numRuns: 300, seed: 61 });
      for (const [v, w] of [...cases, [0, 1], [1, 1], [2, 1], [-1, 1], [255, 8], [256, 8], [-256, 8]] as [number, number][]) {
        const a = t.bv(v, w);
        expect(BigInt(t.evalBv(m, a)), `${v} in ${w} bits`).toBe(modW(BigInt(v), w));
        expect(t.width(a)).toBe(w);
        expect(t.bv(v + 2 ** w, w), `${v} + 2^${w} is the same cached term`).toBe(a);
        expect(t.same(t.bv(v - 2 ** w, w), a)).toBe(true);
      }
      expect(t.same(t.bv(3, 4), t.bv(3, 5)), 'the width is part of the value').toBe(false);
    });
  });

  it('add, sub, mul, ult, ule, zext and extract compute what BigInt arithmetic modulo 2^w does', async () => {
    await withModel((t, m) => {
      const cases = fc.sample(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.nat(5000), fc.nat(5000), fc.nat(4)), { numRuns: 300, seed: 62 });
      for (const [w, x, y, by] of cases) {
        const [a, b] = [t.bv(x, w), t.bv(y, w)];
        const [X, Y] = [modW(BigInt(x), w), modW(BigInt(y), w)];
        const what = `${X}, ${Y} in ${w} bits`;
        expect(BigInt(t.evalBv(m, t.add(a, b))), `${what}: add`).toBe(modW(X + Y, w));
        expect(BigInt(t.evalBv(m, t.sub(a, b))), `${what}: sub`).toBe(modW(X - Y, w));
        expect(BigInt(t.evalBv(m, t.mul(a, b))), `${what}: mul`).toBe(modW(X * Y, w));
        expect(t.evalBool(m, t.ult(a, b)), `${what}: ult`).toBe(X < Y);
        expect(t.evalBool(m, t.ule(a, b)), `${what}: ule`).toBe(X <= Y);
        const wide = t.zext(a, by);
        expect(t.width(wide), `${what}: zext by ${by}`).toBe(w + by);
        expect(BigInt(t.evalBv(m, wide))).toBe(X);
        if (by === 0) expect(wide, 'zext by 0 is the term itself').toBe(a);
        const lo = Math.min(by, w - 1);
        const hi = w - 1;
        expect(BigInt(t.evalBv(m, t.extract(hi, lo, a))), `${what}: bits ${hi}..${lo}`).toBe(X >> BigInt(lo));
        expect(t.width(t.extract(hi, lo, a))).toBe(hi - lo + 1);
      }
    });
  });

  it('and, or, not, implies, eq, ite and distinct follow their truth tables, and and([]) is true, or([]) false, one argument itself', async () => {
    await withModel((t, m) => {
      const lit = (b: boolean) => (b ? t.T : t.F);
      expect(t.evalBool(m, t.and([]))).toBe(true);
      expect(t.evalBool(m, t.or([]))).toBe(false);
      const x = t.boolConst('x');
      expect(t.and([x]), 'and of one argument is the argument').toBe(x);
      expect(t.or([x]), 'or of one argument is the argument').toBe(x);
      for (const bs of fc.sample(fc.array(fc.boolean(), { minLength: 2, maxLength: 5 }), { numRuns: 60, seed: 63 })) {
        const ts = bs.map(lit);
        expect(t.evalBool(m, t.and(ts)), `and ${bs}`).toBe(bs.every(Boolean));
        expect(t.evalBool(m, t.or(ts)), `or ${bs}`).toBe(bs.some(Boolean));
      }
      for (const a of [false, true])
        for (const b of [false, true]) {
          expect(t.evalBool(m, t.not(lit(a)))).toBe(!a);
          expect(t.evalBool(m, t.implies(lit(a), lit(b))), `${a} => ${b}`).toBe(!a || b);
          expect(t.evalBool(m, t.eq(lit(a), lit(b))), `${a} = ${b}`).toBe(a === b);
          expect(t.evalBv(m, t.ite(lit(a), t.bv(b ? 5 : 6, 4), t.bv(9, 4))), `ite ${a}`).toBe(a ? (b ? 5 : 6) : 9);
        }
      expect(t.evalBool(m, t.distinct([])), 'no terms are distinct').toBe(true);
      expect(t.evalBool(m, t.distinct([t.bv(1, 3)])), 'one term is distinct').toBe(true);
      expect(t.evalBool(m, t.distinct([t.bv(1, 3), t.bv(2, 3), t.bv(3, 3)]))).toBe(true);
      expect(t.evalBool(m, t.distinct([t.bv(1, 3), t.bv(2, 3), t.bv(1, 3)]))).toBe(false);
    });
  });

  it('constants and functions of one name are distinct (the name is made unique), and sorts are one per width', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const [a, b, c] = [t.bvConst('x', 4), t.bvConst('x', 4), t.boolConst('x')];
      expect([t.toString(a), t.toString(b), t.toString(c)]).toEqual(['x', '|x#2|', '|x#3|']);
      expect(t.width(a)).toBe(4);
      expect(t.bvSort(4)).toBe(t.bvSort(4));
      expect(t.bvSort(4)).not.toBe(t.bvSort(5));
      const f = t.func('f', [t.bvSort(4)], t.boolSort());
      const g = t.func('f', [t.bvSort(4)], t.boolSort());
      expect(t.toString(t.app(g, [a]))).toBe('(|f#2| x)');
      expect(t.toString(t.app(t.func('f', [t.bvSort(4)], t.boolSort()), [a]))).toBe('(|f#3| x)');
      // Two constants (or functions) merged under one name could not take different values.
      const solver = s.newSolver();
      s.add(solver, t.not(t.eq(a, b)));
      s.add(solver, t.app(f, [a]));
      s.add(solver, t.not(t.app(g, [a])));
      s.add(solver, c);
      expect(await s.check(solver, null)).toBe('sat');
      const m = s.model(solver);
      expect(t.evalBv(m, a)).not.toBe(t.evalBv(m, b));
      expect([t.evalBool(m, t.app(f, [a])), t.evalBool(m, t.app(g, [a])), t.evalBool(m, c)]).toEqual([true, false, true]);
      expect(() => t.evalBv(m, c), 'a Boolean is not a bit-vector value').toThrow(/bit-vector/);
      // Constants the query never mentions take a value of the model (model completion).
      const [u, p, e] = [t.bvConst('unmentioned', 4), t.boolConst('unmentioned'), t.constant('unmentioned', t.sort('U'))];
      expect(t.evalBv(m, u)).toBeGreaterThanOrEqual(0);
      expect(typeof t.evalBool(m, p)).toBe('boolean');
      expect(t.same(t.evalTerm(m, e), e), 'an element of the sort, not the constant itself').toBe(false);
    });
  });

  it('evalBool decides quantifiers z3 leaves unevaluated over the model universe, with each bound variable in its place', async () => {
    await withSession(async (s) => {
      const t = new Terms(s);
      const srt = t.sort('P');
      const [a, b] = [t.constant('a', srt), t.constant('b', srt)];
      const [x, y] = [t.constant('x', srt), t.constant('y', srt)];
      const q = t.func('q', [srt], t.boolSort());
      const r = t.func('r', [srt, srt], t.boolSort());
      const solver = s.newSolver();
      // Exactly two elements a, b; q holds of a only; r holds of (a, b) only.
      s.add(solver, t.distinct([a, b]));
      s.add(solver, t.forall([x], t.or([t.eq(x, a), t.eq(x, b)])));
      s.add(solver, t.app(q, [a]));
      s.add(solver, t.not(t.app(q, [b])));
      s.add(solver, t.forall([x, y], t.eq(t.app(r, [x, y]), t.and([t.eq(x, a), t.eq(y, b)]))));
      expect(await s.check(solver, null)).toBe('sat');
      const m = s.model(solver);
      const universe = t.universe(m, srt);
      expect(universe.length).toBe(2);
      expect(universe.some((e) => t.same(e, t.evalTerm(m, a)))).toBe(true);
      expect(universe.some((e) => t.same(e, t.evalTerm(m, b)))).toBe(true);
      expect(t.same(t.evalTerm(m, a), t.evalTerm(m, b))).toBe(false);
      const cases: [string, Z3_ast, boolean][] = [
        ['forall x. q(x)', t.forall([x], t.app(q, [x])), false],
        ['exists x. q(x)', t.exists([x], t.app(q, [x])), true],
        ['exists x. not q(x)', t.exists([x], t.not(t.app(q, [x]))), true],
        ['forall x. q(x) or not q(x) is not q(x) of the other', t.forall([x], t.or([t.app(q, [x]), t.eq(x, b)])), true],
        ['exists x y. r(x, y) and q(x)', t.exists([x, y], t.and([t.app(r, [x, y]), t.app(q, [x])])), true],
        ['exists x y. r(x, y) and q(y)', t.exists([x, y], t.and([t.app(r, [x, y]), t.app(q, [y])])), false],
        ['forall x y. r(x, y) => q(x)', t.forall([x, y], t.implies(t.app(r, [x, y]), t.app(q, [x]))), true],
        ['forall x y. r(x, y) => q(y)', t.forall([x, y], t.implies(t.app(r, [x, y]), t.app(q, [y]))), false],
        ['forall x. exists y. r(x, y) or x = b', t.forall([x], t.exists([y], t.or([t.app(r, [x, y]), t.eq(x, b)]))), true],
        ['exists x. forall y. not r(y, x)', t.exists([x], t.forall([y], t.not(t.app(r, [y, x])))), true],
        ['forall x. exists y. r(y, x)', t.forall([x], t.exists([y], t.app(r, [y, x]))), false],
        ['not (forall x. q(x)) and exists x. q(x)', t.and([t.not(t.forall([x], t.app(q, [x]))), t.exists([x], t.app(q, [x]))]), true],
        // z3 leaves these as an application over a quantifier (`not (exists ...)`): the quantifier is found inside.
        ['(forall x. q(x)) = (exists x. q(x))', t.eq(t.forall([x], t.app(q, [x])), t.exists([x], t.app(q, [x]))), false],
        ['if exists x. q(x) then forall x. q(x) else true', t.ite(t.exists([x], t.app(q, [x])), t.forall([x], t.app(q, [x])), t.T), false],
        ['(exists x. not q(x)) = (exists x. q(x))', t.eq(t.exists([x], t.not(t.app(q, [x]))), t.exists([x], t.app(q, [x]))), true],
      ];
      for (const [what, term, want] of cases) expect(t.evalBool(m, term), what).toBe(want);
      // Two bound variables of different sorts: each must get an element of its own sort.
      const srt2 = t.sort('F');
      const [u, v, w] = [t.constant('u', srt2), t.constant('v', srt2), t.constant('w', srt2)];
      const z = t.constant('z', srt2);
      const p2 = t.func('p2', [srt, srt2], t.boolSort());
      const solver2 = s.newSolver();
      s.add(solver2, t.distinct([a, b]));
      s.add(solver2, t.forall([x], t.or([t.eq(x, a), t.eq(x, b)])));
      s.add(solver2, t.distinct([u, v, w]));
      s.add(solver2, t.forall([z], t.or([t.eq(z, u), t.eq(z, v), t.eq(z, w)])));
      // p2 holds of (a, u) and (b, v) only.
      s.add(solver2, t.forall([x, z], t.eq(t.app(p2, [x, z]), t.or([t.and([t.eq(x, a), t.eq(z, u)]), t.and([t.eq(x, b), t.eq(z, v)])]))));
      expect(await s.check(solver2, null)).toBe('sat');
      const m2 = s.model(solver2);
      expect([t.universe(m2, srt).length, t.universe(m2, srt2).length]).toEqual([2, 3]);
      const cases2: [string, Z3_ast, boolean][] = [
        ['exists x z. p2(x, z)', t.exists([x, z], t.app(p2, [x, z])), true],
        ['forall x. exists z. p2(x, z)', t.forall([x], t.exists([z], t.app(p2, [x, z]))), true],
        ['exists z. forall x. not p2(x, z)', t.exists([z], t.forall([x], t.not(t.app(p2, [x, z])))), true],
        ['forall z. exists x. p2(x, z)', t.forall([z], t.exists([x], t.app(p2, [x, z]))), false],
        ['exists x z. p2(x, z) and x = b and z = u', t.exists([x, z], t.and([t.app(p2, [x, z]), t.eq(x, b), t.eq(z, u)])), false],
        ['exists x z. p2(x, z) and x = b and z = v', t.exists([x, z], t.and([t.app(p2, [x, z]), t.eq(x, b), t.eq(z, v)])), true],
      ];
      for (const [what, term, want] of cases2) expect(t.evalBool(m2, term), what).toBe(want);
      const body = t.app(q, [a]);
      expect(t.forall([], body), 'forall over nothing is its body').toBe(body);
      expect(t.exists([], body), 'exists over nothing is its body').toBe(body);
    });
  });
});
