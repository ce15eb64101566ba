/**
 * The generic walks of visit.ts, node kind by node kind: the direct sub-expressions of every
 * expression kind, the parts of every statement kind, and the walks built on them (`someExpr`,
 * `varsReadInPre`, `scopeProblem`, `stmtScopeProblem`). Why this file exists: the back ends'
 * tests reach these walks only through whole models, where a walk that skips a child of some kind
 * (an index inside a location, the condition of an `ite`) changes nothing the models happen to use.
 * Every expected list below is written out by hand from the node built.
 */
import { describe, expect, it } from 'vitest';
import { type Expr, add, and, eq, exists, freshVar, implies, isSome, ite, lit, not, or, ord, pre, read, some, unwrap } from './expr.js';
import { buildModel, defineProtocol } from './protocol.js';
import { assign, forEach, reset, when } from './stmt.js';
import { arrayOf, bool, option, range, record } from './types.js';
import { locIndexExprs, scopeProblem, someExpr, stmtExprs, stmtScopeProblem, subExprs, subStmts, varsReadInPre } from './visit.js';

const model = buildModel(
  defineProtocol({
    name: 'visit-toy',
    summary: 'one variable of each shape the walks meet',
    spec: 'model/lang/visit.test.ts',
    params: {},
    variants: [],
    build(b) {
      const P = b.index('P', 2);
      const Q = b.index('Q', 3);
      const m = b.v('m', arrayOf(P, record({ f: arrayOf(Q, range(0, 3)) })));
      const x = b.v('x', range(0, 3));
      const o = b.v('o', option(P));
      const flag = b.v('flag', bool);
      b.init('i', () => []);
      return { P, Q, m, x, o, flag };
    },
  }),
);
const { P, Q, m, x, o, flag } = model.handles;
const i = freshVar(P, 'i');
const j = freshVar(Q, 'j');
const X = read(x);
const F = read(flag);
const cell = m.at(i).f('f').at(j);

describe('subExprs: the direct sub-expressions of every kind', () => {
  it('a read gives the index expressions of its location, in order; a literal and a variable give none', () => {
    expect(locIndexExprs((read(cell) as Extract<Expr, { op: 'read' }>).loc)).toEqual([i, j]);
    expect(subExprs(read(cell))).toEqual([i, j]);
    expect(subExprs(X)).toEqual([]);
    expect(subExprs(lit(2))).toEqual([]);
    expect(subExprs(i)).toEqual([]);
  });

  it('each operator gives its operands', () => {
    const a = eq(X, 1);
    const c = eq(X, 2);
    expect(subExprs(pre(X))).toEqual([X]);
    expect(subExprs(not(F))).toEqual([F]);
    expect(subExprs(and(a, c, F))).toEqual([a, c, F]);
    expect(subExprs(or(a, c))).toEqual([a, c]);
    expect(subExprs(implies(a, c))).toEqual([a, c]);
    expect(subExprs(a)).toEqual([X, (a as Extract<Expr, { op: 'cmp' }>).b]);
    const sum = add(X, 1);
    expect(subExprs(sum)).toEqual([X, (sum as Extract<Expr, { op: 'arith' }>).b]);
    const choice = ite(F, X, 1);
    expect(subExprs(choice)).toEqual([F, X, (choice as Extract<Expr, { op: 'ite' }>).b]);
    const q = exists(P, (k) => eq(o, some(k)));
    expect(subExprs(q)).toEqual([(q as Extract<Expr, { op: 'quant' }>).body]);
    const O = read(o);
    expect(subExprs(isSome(O))).toEqual([O]);
    expect(subExprs(unwrap(O))).toEqual([O]);
    expect(subExprs(some(i))).toEqual([i]);
    expect(subExprs(ord(i))).toEqual([i]);
  });
});

describe('someExpr', () => {
  it('finds a node anywhere below, an index of a read included, and stops at the first hit', () => {
    const deep = and(F, not(eq(read(cell), 3)));
    expect(someExpr(deep, (e) => e === j)).toBe(true);
    expect(someExpr(deep, (e) => e.op === 'arith')).toBe(false);
    const seen: string[] = [];
    someExpr(or(F, eq(X, 1)), (e) => {
      seen.push(e.op);
      return e === F;
    });
    expect(seen).toEqual(['or', 'read']);
  });
});

describe('statements: their expressions and nested statements', () => {
  it('assign, reset, if and forEach', () => {
    const set = assign(cell, add(X, 1));
    expect(stmtExprs(set)).toEqual([i, j, (set as Extract<typeof set, { kind: 'assign' }>).e]);
    expect(subStmts(set)).toEqual([]);
    expect(stmtExprs(reset(cell))).toEqual([i, j]);
    expect(subStmts(reset(cell))).toEqual([]);
    const s1 = assign(flag, true);
    const s2 = assign(x, 0);
    const s3 = reset(o);
    const branch = when(F, [s1, s2], s3);
    expect(stmtExprs(branch)).toEqual([F]);
    expect(subStmts(branch)).toEqual([s1, s2, s3]);
    const loop = forEach(P, () => [s1, s3]);
    expect(stmtExprs(loop)).toEqual([]);
    expect(subStmts(loop)).toEqual([s1, s3]);
  });
});

describe('varsReadInPre', () => {
  it('collects the variables read inside pre(...), at any depth, and no others', () => {
    const xIdx = model.vars.findIndex((v) => v.name === 'x');
    const mIdx = model.vars.findIndex((v) => v.name === 'm');
    const flagIdx = model.vars.findIndex((v) => v.name === 'flag');
    expect([...varsReadInPre(and(F, eq(pre(add(X, read(cell))), 2)))].sort()).toEqual([xIdx, mIdx].sort());
    expect([...varsReadInPre(and(F, eq(X, 2)))]).toEqual([]);
    expect([...varsReadInPre(pre(and(F, not(F))))]).toEqual([flagIdx]);
  });
});

describe('scopeProblem and stmtScopeProblem', () => {
  it('a variable is bound by the allowed set or an enclosing quantifier, also inside the index of a read', () => {
    expect(scopeProblem(eq(read(cell), 1), new Set(), false)).toMatch(/uses the variable i outside the rule or quantifier that binds it/);
    expect(scopeProblem(eq(read(cell), 1), new Set([(i as { id: number }).id]), false)).toMatch(/uses the variable j /);
    expect(scopeProblem(eq(read(cell), 1), new Set([(i as { id: number }).id, (j as { id: number }).id]), false)).toBeNull();
    expect(
      scopeProblem(
        exists(P, (k) => eq(o, some(k))),
        new Set(),
        false,
      ),
    ).toBeNull();
    expect(
      scopeProblem(
        and(
          F,
          exists(Q, (k) => eq(read(m.at(i).f('f').at(k)), 1)),
        ),
        new Set(),
        false,
      ),
    ).toMatch(/variable i /);
  });

  it('pre(...) only where allowed, found at any depth', () => {
    expect(scopeProblem(and(F, eq(pre(X), 1)), new Set(), false)).toBe('uses pre(...), which only step properties and rule bodies can');
    expect(scopeProblem(and(F, eq(pre(X), 1)), new Set(), true)).toBeNull();
  });

  it('statements: their own expressions, then nested statements, with forEach binding its variable', () => {
    const iId = (i as { id: number }).id;
    expect(stmtScopeProblem(assign(cell, 1), new Set([iId]), false)).toMatch(/variable j /);
    expect(stmtScopeProblem(when(eq(X, 1), assign(m.at(i).f('f').at(0), 1)), new Set(), false)).toMatch(/variable i /);
    expect(stmtScopeProblem(when(eq(X, 1), [], assign(m.at(i).f('f').at(0), 1)), new Set([iId]), false)).toBeNull();
    // Every nested statement is checked, not only the first: here the second branch is the wrong one.
    expect(stmtScopeProblem(when(eq(X, 1), assign(x, 1), assign(m.at(i).f('f').at(0), 1)), new Set(), false)).toMatch(/variable i /);
    expect(
      stmtScopeProblem(
        forEach(Q, (k) => assign(m.at(0).f('f').at(k), 1)),
        new Set(),
        false,
      ),
    ).toBeNull();
    expect(
      stmtScopeProblem(
        forEach(Q, (k) => when(eq(read(m.at(0).f('f').at(k)), 1), assign(x, pre(X)))),
        new Set(),
        false,
      ),
    ).toMatch(/pre\(/);
    expect(
      stmtScopeProblem(
        forEach(Q, (k) => when(eq(read(m.at(0).f('f').at(k)), 1), assign(x, pre(X)))),
        new Set(),
        true,
      ),
    ).toBeNull();
  });
});
