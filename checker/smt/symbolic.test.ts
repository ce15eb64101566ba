/**
 * Symbolic values (symbolic.ts) against the same operations on plain numbers. Why this file
 * exists: both SMT translations compute on "natural values" through `SymOps` (a bit-vector code
 * plus an offset, with static bounds), and a fault here (an offset applied twice, a bound one too
 * small, a constant folded the wrong way) gives z3 a different model than the interpreter runs,
 * which turns into a wrong "proved". Each operation is applied to random symbolic and constant
 * operands whose values are known, the result is evaluated in a z3 model, and it must be what
 * JavaScript computes; static bounds must hold the value and be the exact bounds of the operation
 * over the operands' ranges, and a result folded to a constant must be the right constant.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type ScalarType, bool, cardinality, enumOf, fromCode, index, minValue, option, range } from '../../model/lang/types.js';
import { type BoolSym, type ElemSym, type NumLike, type OptSym, SmtUnsupported, type Sym, SymOps } from './symbolic.js';
import { Terms, bitsFor } from './terms.js';
import { type ModelHandle, shutdownSmt, withSession } from './z3Host.js';

afterAll(async () => {
  await shutdownSmt();
});

/** Runs `fn` with the symbolic operations of a fresh session and a model of an empty solver (ground terms evaluate in it). */
function withOps(fn: (tm: Terms, ops: SymOps, m: ModelHandle) => Promise<void>): Promise<void> {
  return withSession(async (s) => {
    const tm = new Terms(s);
    const solver = s.newSolver();
    expect(await s.check(solver, null)).toBe('sat');
    await fn(tm, new SymOps(tm), s.model(solver));
  });
}

/** A symbolic or constant number with the natural value it stands for. */
interface Num {
  readonly sym: NumLike;
  readonly value: number;
}

/** A plan for a number: a value in lo..hi, as a constant or as a code term with an offset at or below lo. */
const numPlan = fc
  .record({
    lo: fc.integer({ min: -6, max: 6 }),
    span: fc.nat(9),
    at: fc.nat(1000),
    below: fc.nat(2),
    wider: fc.nat(1),
    constant: fc.boolean(),
  })
  .map((p) => ({ ...p, hi: p.lo + p.span, value: p.lo + (p.at % (p.span + 1)) }));

type NumPlan = typeof numPlan extends fc.Arbitrary<infer T> ? T : never;

describe('SymOps', () => {
  it('eqNum, lessNum, arith, inRange, ite, unwrap, isSome and code give the values plain arithmetic gives, within exact static bounds', async () => {
    await withOps(async (tm, ops, m) => {
      const build = (p: NumPlan): Num => {
        if (p.constant) return { sym: { k: 'v', v: p.value }, value: p.value };
        const off = p.lo - p.below;
        const w = bitsFor(p.hi - off + 1) + p.wider;
        return { sym: ops.num(tm.bv(p.value - off, w), w, off, p.lo, p.hi), value: p.value };
      };
      // `+ 0` makes -0 (a product of 0 and a negative number) 0.
      const natOf = (x: NumLike): number => (x.k === 'v' ? x.v : tm.evalBv(m, x.t) + x.off) + 0;
      const truth = (b: BoolSym, want: boolean, what: string) => {
        expect(tm.evalBool(m, b.t), what).toBe(want);
        if (b.c !== undefined) expect(b.c, `${what}: folded`).toBe(want);
      };
      const plans = fc.sample(fc.tuple(numPlan, numPlan, fc.integer({ min: -8, max: 8 }), fc.nat(8), fc.boolean()), { numRuns: 400, seed: 71 });
      for (const [pa, pb, rlo, rspan, cond] of plans) {
        const [a, b] = [build(pa), build(pb)];
        const what = `${JSON.stringify(a.sym.k === 'v' ? a.value : pa)} vs ${JSON.stringify(b.sym.k === 'v' ? b.value : pb)}`;
        expect(natOf(a.sym), `${what}: the operand`).toBe(a.value);
        // What the operands' static ranges decide is a constant, never a z3 term.
        const over = (f: (x: number, y: number) => number | boolean) => {
          const out = new Set<number | boolean>();
          for (let x = ops.lo(a.sym); x <= ops.hi(a.sym); x++) for (let y = ops.lo(b.sym); y <= ops.hi(b.sym); y++) out.add(f(x, y) as never);
          return out.size === 1;
        };
        const folded = (r: Sym, decided: boolean, op: string) => {
          if (decided) expect(r.k === 'v' || (r.k === 'b' && r.c !== undefined), `${what}: ${op} is decided by the ranges, so it is a constant`).toBe(true);
        };
        folded(
          ops.eqNum(a.sym, b.sym),
          over((x, y) => x === y),
          'eq',
        );
        folded(
          ops.lessNum(a.sym, b.sym, true),
          over((x, y) => x < y),
          '<',
        );
        folded(
          ops.lessNum(a.sym, b.sym, false),
          over((x, y) => x <= y),
          '<=',
        );
        folded(
          ops.arith('add', a.sym, b.sym),
          over((x, y) => x + y),
          'add',
        );
        folded(
          ops.arith('sub', a.sym, b.sym),
          over((x, y) => x - y),
          'sub',
        );
        folded(
          ops.arith('mul', a.sym, b.sym),
          over((x, y) => x * y + 0),
          'mul',
        );
        folded(
          ops.inRange(a.sym, rlo, rlo + rspan),
          over((x) => x >= rlo && x <= rlo + rspan),
          'inRange',
        );
        folded(
          ops.isSome(a.sym),
          over((x) => x >= 0),
          'isSome',
        );
        if (ops.lo(a.sym) === ops.hi(a.sym)) expect(a.sym.k, 'a number of one value is a constant').toBe('v');
        truth(ops.eqNum(a.sym, b.sym), a.value === b.value, `${what}: eq`);
        // An arithmetic result compared and combined again (its term has the width it claims).
        const sum = ops.arith('add', a.sym, b.sym);
        truth(ops.eqNum(sum, b.sym), a.value + b.value === b.value, `${what}: a + b = b`);
        truth(ops.lessNum(a.sym, sum, true), a.value < a.value + b.value, `${what}: a < a + b`);
        expect(natOf(ops.arith('sub', sum, a.sym)), `${what}: (a + b) - a`).toBe(b.value);
        expect(natOf(ops.ite(ops.bool(tm.T), sum, a.sym) as NumLike), `${what}: ite(true, a + b, a)`).toBe(a.value + b.value);
        truth(ops.eq(a.sym, b.sym), a.value === b.value, `${what}: eq`);
        truth(ops.lessNum(a.sym, b.sym, true), a.value < b.value, `${what}: <`);
        truth(ops.lessNum(a.sym, b.sym, false), a.value <= b.value, `${what}: <=`);
        const fns = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y + 0 };
        for (const [fn, f] of Object.entries(fns) as ['add' | 'sub' | 'mul', (x: number, y: number) => number][]) {
          const r = ops.arith(fn, a.sym, b.sym);
          expect(natOf(r), `${what}: ${fn}`).toBe(f(a.value, b.value));
          // The bounds are those of the operation over the operands' ranges, which the value lies in.
          let [lo, hi] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
          for (let x = ops.lo(a.sym); x <= ops.hi(a.sym); x++)
            for (let y = ops.lo(b.sym); y <= ops.hi(b.sym); y++) [lo, hi] = [Math.min(lo, f(x, y)), Math.max(hi, f(x, y))];
          expect([ops.lo(r) + 0, ops.hi(r) + 0], `${what}: bounds of ${fn}`).toEqual([lo, hi]);
        }
        const rhi = rlo + rspan;
        truth(ops.inRange(a.sym, rlo, rhi), a.value >= rlo && a.value <= rhi, `${what}: in ${rlo}..${rhi}`);
        for (const c of [ops.lit(cond), ops.bool(cond ? tm.T : tm.F)]) {
          const r = ops.ite(c, a.sym, b.sym) as NumLike;
          expect(natOf(r), `${what}: ite ${cond}`).toBe(cond ? a.value : b.value);
          // Folded, the chosen value; else either value may come out.
          const may = c.c === undefined ? [a.value, b.value] : [cond ? a.value : b.value];
          expect(ops.lo(r) <= Math.min(...may) && ops.hi(r) >= Math.max(...may), `${what}: ite bounds`).toBe(true);
        }
        truth(ops.isSome(a.sym), a.value >= 0, `${what}: isSome`);
        // Unwrapped, a symbolic number keeps bounds a value can have: 0 or more, even one that is never
        // some (its value is then meaningless: the caller records the model error), and never lo > hi.
        const unwrapped = ops.unwrap(a.sym) as NumLike;
        const bounds = `${what}: unwrap bounds ${ops.lo(unwrapped)}..${ops.hi(unwrapped)}`;
        if (a.sym.k === 'n') expect(0 <= ops.lo(unwrapped) && ops.lo(unwrapped) <= ops.hi(unwrapped), bounds).toBe(true);
        if (a.value >= 0) {
          const u = ops.unwrap(a.sym) as NumLike;
          expect(natOf(u), `${what}: unwrap`).toBe(a.value);
          expect(ops.lo(u) >= 0 && ops.lo(u) <= a.value && ops.hi(u) >= a.value, `${what}: unwrap bounds ${ops.lo(u)}..${ops.hi(u)}`).toBe(true);
        }
        // The code of a value at any offset at or below it, in any width that holds it.
        const off2 = a.value - (pb.at % 5);
        const w2 = bitsFor(a.value - off2 + 1) + (pa.at % 3);
        const code = ops.code(a.sym, off2, w2);
        expect(tm.width(code)).toBe(w2);
        expect(tm.evalBv(m, code), `${what}: code at ${off2} in ${w2} bits`).toBe(a.value - off2);
      }
    });
  });

  it('Boolean connectives agree with their truth tables, and fold constants to the right constant', async () => {
    await withOps(async (tm, ops, m) => {
      // A Boolean is a folded constant, or a term z3 evaluates (the code cannot see its value).
      const sym = ([v, folded]: [boolean, boolean]): BoolSym => (folded ? ops.lit(v) : ops.bool(v ? tm.not(tm.F) : tm.not(tm.T)));
      const check = (b: BoolSym, want: boolean, what: string) => {
        expect(tm.evalBool(m, b.t), what).toBe(want);
        if (b.c !== undefined) expect(b.c, `${what}: folded`).toBe(want);
      };
      const arb = fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 0, maxLength: 4 });
      for (const xs of fc.sample(arb, { numRuns: 200, seed: 72 })) {
        const syms = xs.map(sym);
        const vals = xs.map(([v]) => v);
        const what = JSON.stringify(xs);
        check(ops.and(syms), vals.every(Boolean), `and ${what}`);
        check(ops.or(syms), vals.some(Boolean), `or ${what}`);
        if (xs.length >= 2) {
          const [a, b] = [syms[0] as BoolSym, syms[1] as BoolSym];
          const [va, vb] = [vals[0] as boolean, vals[1] as boolean];
          check(ops.not(a), !va, `not ${what}`);
          check(ops.implies(a, b), !va || vb, `implies ${what}`);
          check(ops.iff(a, b), va === vb, `iff ${what}`);
          check(ops.eq(a, b), va === vb, `eq ${what}`);
          if (xs.length >= 3) {
            const c = syms[2] as BoolSym;
            check(ops.ite(c, a, b) as BoolSym, vals[2] ? va : vb, `ite ${what}`);
          }
        }
        // Folding: every operand folded gives a folded result.
        if (xs.every(([, f]) => f)) expect([ops.and(syms).c, ops.or(syms).c]).toEqual([vals.every(Boolean), vals.some(Boolean)]);
      }
      const x = ops.bool(tm.boolConst('x'));
      const y = ops.bool(tm.boolConst('y'));
      for (const a of [false, true]) {
        const A = ops.lit(a);
        expect(ops.not(A).c, `not ${a} folded`).toBe(!a);
        for (const b of [false, true]) {
          const B = ops.lit(b);
          expect([ops.iff(A, B).c, ops.implies(A, B).c, (ops.ite(x, A, B) as BoolSym).c], `${a}, ${b} folded`).toEqual([
            a === b,
            !a || b,
            a === b ? a : undefined,
          ]);
          expect(ops.ite(B, x, y), `ite(${b}, x, y) is a branch`).toBe(b ? x : y);
        }
        // iff with one constant is the other operand or its negation, with no new equality.
        expect(ops.iff(A, x), `iff(${a}, x)`).toEqual(a ? x : ops.not(x));
        expect(ops.iff(x, A), `iff(x, ${a})`).toEqual(a ? x : ops.not(x));
      }
      expect(ops.and([]).c).toBe(true);
      expect(ops.or([]).c).toBe(false);
      expect(ops.and([ops.T, x, ops.T]), 'and keeps the one operand that is not true').toBe(x);
      expect(ops.or([ops.F, x]), 'or keeps the one operand that is not false').toBe(x);
      expect(ops.ite(x, ops.T, ops.F), 'ite(c, true, false) is c').toBe(x);
      expect(ops.ite(x, ops.T, ops.T)).toBe(ops.T);
      expect(ops.ite(x, y, y), 'the same value on both branches is that value').toBe(y);
      // Constants that are not the shared T and F objects fold the same way.
      const [t1, t2, f1] = [{ k: 'b', t: tm.T, c: true } as BoolSym, { k: 'b', t: tm.T, c: true } as BoolSym, { k: 'b', t: tm.F, c: false } as BoolSym];
      expect((ops.ite(x, t1, t2) as BoolSym).c, 'ite(c, true, true) is true').toBe(true);
      expect(ops.ite(x, t1, f1), 'ite(c, true, false) is c').toBe(x);
      expect(tm.toString((ops.ite(x, f1, t1) as BoolSym).t)).toBe('(not x)');
      expect(ops.iff(t1, f1).c).toBe(false);
      expect(tm.toString((ops.ite(x, ops.F, ops.T) as BoolSym).t)).toBe('(not x)');
    });
  });

  it('elements and options of an index sort compare and choose as values do', async () => {
    await withSession(async (s) => {
      const tm = new Terms(s);
      const ops = new SymOps(tm);
      const srt = tm.sort('Page');
      const els = [0, 1, 2].map((i) => tm.constant(`p${i}`, srt));
      const solver = s.newSolver();
      s.add(solver, tm.distinct(els));
      expect(await s.check(solver, null)).toBe('sat');
      const m = s.model(solver);
      const elem = (i: number): ElemSym => ({ k: 'e', t: els[i] as never, sort: 'Page' });
      const opt = (some: boolean, i: number): OptSym => ({ k: 'o', some: ops.bool(some ? tm.not(tm.F) : tm.F), val: elem(i) });
      const sameElem = (x: Sym, i: number) => tm.same(tm.evalTerm(m, (x as ElemSym).t), tm.evalTerm(m, els[i] as never));
      for (const [i, j] of [
        [0, 0],
        [0, 1],
        [2, 1],
      ] as const) {
        expect(tm.evalBool(m, ops.eq(elem(i), elem(j)).t), `p${i} = p${j}`).toBe(i === j);
        for (const c of [false, true]) {
          expect(sameElem(ops.ite(ops.bool(c ? tm.T : tm.F), elem(i), elem(j)), c ? i : j), `ite ${c} p${i} p${j}`).toBe(true);
          const o = ops.ite(ops.bool(c ? tm.T : tm.F), opt(true, i), opt(false, j)) as OptSym;
          expect(tm.evalBool(m, o.some.t)).toBe(c);
          if (c) expect(sameElem(o.val, i)).toBe(true);
        }
        for (const sa of [false, true])
          for (const sb of [false, true]) {
            // Two options are equal when both are none, or both hold the same element.
            const want = sa === sb && (!sa || i === j);
            expect(tm.evalBool(m, ops.eq(opt(sa, i), opt(sb, j)).t), `${sa ? `some p${i}` : 'none'} = ${sb ? `some p${j}` : 'none'}`).toBe(want);
          }
      }
      const o = opt(true, 1);
      expect(ops.isSome(o)).toBe(o.some);
      expect(ops.unwrap(o)).toBe(o.val);
      expect(ops.eq(elem(2), elem(2))).toBe(ops.T);
      // Values of different kinds are refused by ite and eq, in either order.
      const num = ops.num(tm.bvConst('k', 2), 2, 0, 0, 3);
      const kinds: [string, Sym][] = [
        ['Boolean', ops.bool(tm.boolConst('q'))],
        ['number', num],
        ['constant', { k: 'v', v: 1 }],
        ['element', elem(0)],
        ['option', opt(true, 1)],
      ];
      const numeric = (k: string) => k === 'number' || k === 'constant';
      for (const [ka, a] of kinds)
        for (const [kb, b] of kinds) {
          if (ka === kb || (numeric(ka) && numeric(kb))) continue;
          expect(() => ops.ite(ops.bool(tm.boolConst('c')), a, b), `ite of a ${ka} and a ${kb}`).toThrow(/mismatched/);
          expect(() => ops.eq(a, b), `eq of a ${ka} and a ${kb}`).toThrow(/mismatched/);
        }
      expect(() => ops.eq(elem(0), { k: 'v', v: 0 })).toThrow(/mismatched/);
      expect(() => ops.asNum(elem(0), 'unwrap')).toThrow(SmtUnsupported);
      expect(() => ops.asNum(elem(0), 'unwrap')).toThrow('unwrap needs a number here, got a index element');
      expect(() => ops.asNum(ops.T, 'unwrap')).toThrow(/Boolean/);
      expect(() => ops.asBool({ k: 'v', v: 1 })).toThrow(/Boolean/);
    });
  });

  it('refuses arithmetic too wide for the translation, and accepts it at the widest', async () => {
    await withSession(async (s) => {
      const tm = new Terms(s);
      const ops = new SymOps(tm);
      const x = ops.num(tm.bvConst('x', 2), 2, 0, 0, 3);
      expect(() => ops.arith('mul', x, { k: 'v', v: 2 ** 29 })).toThrow(SmtUnsupported);
      expect(() => ops.arith('add', x, { k: 'v', v: 2 ** 30 - 3 })).not.toThrow();
      expect(() => ops.arith('add', x, { k: 'v', v: 2 ** 30 - 2 })).toThrow(SmtUnsupported);
      expect(ops.arith('mul', x, { k: 'v', v: 0 }), 'a product with 0 is the constant 0').toEqual({ k: 'v', v: 0 });
    });
  });

  it('slot values: a slot code reads back as the value of its type, a value stored gets its code, defaults and widths', async () => {
    await withOps(async (tm, ops, m) => {
      const types: [string, ScalarType][] = [
        ['range(-2, 3)', range(-2, 3)],
        ['range(1, 4)', range(1, 4)],
        ['enum of 3', enumOf('E', ['a', 'b', 'c'])],
        ['index of 4', index('P', 4)],
        ['option(range(0, 2))', option(range(0, 2))],
        ['option(index of 5)', option(index('F', 5))],
      ];
      expect(ops.slotWidth(bool)).toBe(0);
      expect(ops.maxCode(bool)).toBe(null);
      expect(ops.defaultSym(bool)).toBe(ops.F);
      const b = tm.boolConst('b');
      expect(ops.slotSym(bool, b)).toEqual({ k: 'b', t: b });
      expect(ops.slotTerm(bool, ops.T)).toBe(tm.T);
      for (const [name, t] of types) {
        const n = cardinality(t);
        const w = ops.slotWidth(t);
        expect(w, `${name}: width`).toBe(bitsFor(n));
        expect(ops.maxCode(t), `${name}: largest valid code`).toBe(n === 2 ** w ? null : n - 1);
        expect(ops.defaultSym(t), `${name}: default`).toEqual({ k: 'v', v: minValue(t) });
        for (let code = 0; code < n; code++) {
          const v = fromCode(t, code);
          const read = ops.slotSym(t, tm.bv(code, w)) as NumLike;
          expect(read.k === 'v' ? read.v : tm.evalBv(m, read.t) + read.off, `${name}: code ${code}`).toBe(v);
          expect([ops.lo(read), ops.hi(read)], `${name}: bounds`).toEqual(n === 1 ? [v, v] : [fromCode(t, 0), fromCode(t, n - 1)]);
          expect(tm.evalBv(m, ops.slotTerm(t, { k: 'v', v })), `${name}: value ${v} stored`).toBe(code);
          expect(tm.evalBv(m, ops.slotTerm(t, read)), `${name}: code ${code} stored back`).toBe(code);
        }
      }
    });
  });
});
