/**
 * The one traversal of the language. Why this module exists: the interpreter, the rule compiler, the
 * two SMT translations and the two exporters each give every expression and statement kind a
 * meaning. Each of them is written as a visitor: an object with exactly one handler per kind, typed
 * so that the compiler rejects a back end that forgets a kind. Adding an operator is one new member
 * of `Expr` (model/lang/expr.ts) plus one handler in each visitor, and the compiler lists the
 * visitors that still lack it.
 *
 * Walks that only look for something (which variables an expression reads, whether it uses `pre`)
 * need no handler per kind: `subExprs` gives the direct sub-expressions of any node, including the
 * index expressions inside a location.
 */
import type { Expr, Loc } from './expr.js';
import type { Stmt } from './stmt.js';

/** Every expression kind, e.g. `'cmp'`. */
export type ExprKind = Expr['op'];
/** The expression node of one kind. */
export type ExprOf<K extends ExprKind> = Extract<Expr, { readonly op: K }>;
/** A handler for every expression kind, giving a result of type `R` in a context of type `C`. */
export type ExprVisitor<R, C> = { readonly [K in ExprKind]: (e: ExprOf<K>, ctx: C) => R };

/** Every statement kind, e.g. `'assign'`. */
export type StmtKind = Stmt['kind'];
/** The statement node of one kind. */
export type StmtOf<K extends StmtKind> = Extract<Stmt, { readonly kind: K }>;
/** A handler for every statement kind. */
export type StmtVisitor<R, C> = { readonly [K in StmtKind]: (s: StmtOf<K>, ctx: C) => R };

/** Applies the visitor's handler for `e`'s kind. Handlers recurse by calling `visitExpr` again. */
export function visitExpr<R, C>(v: ExprVisitor<R, C>, e: Expr, ctx: C): R {
  return (v[e.op] as (e: Expr, ctx: C) => R)(e, ctx);
}

/** Applies the visitor's handler for `s`'s kind. */
export function visitStmt<R, C>(v: StmtVisitor<R, C>, s: Stmt, ctx: C): R {
  return (v[s.kind] as (s: Stmt, ctx: C) => R)(s, ctx);
}

/** The index expressions inside a location (`a[i].f[j]` gives `i`, `j`). */
export function locIndexExprs(loc: Loc): Expr[] {
  const out: Expr[] = [];
  for (const p of loc.path) if (p.kind === 'at') out.push(p.e);
  return out;
}

const children: ExprVisitor<readonly Expr[], null> = {
  lit: () => [],
  var: () => [],
  read: (e) => locIndexExprs(e.loc),
  pre: (e) => [e.e],
  not: (e) => [e.e],
  and: (e) => e.args,
  or: (e) => e.args,
  implies: (e) => [e.a, e.b],
  cmp: (e) => [e.a, e.b],
  arith: (e) => [e.a, e.b],
  ite: (e) => [e.c, e.a, e.b],
  quant: (e) => [e.body],
  isSome: (e) => [e.e],
  unwrap: (e) => [e.e],
  some: (e) => [e.e],
  ord: (e) => [e.e],
};

/** The direct sub-expressions of `e` (the index expressions of a read included). */
export function subExprs(e: Expr): readonly Expr[] {
  return visitExpr(children, e, null);
}

/** Whether `e` or any expression below it satisfies `pred` (pre-order, stops at the first hit). */
export function someExpr(e: Expr, pred: (x: Expr) => boolean): boolean {
  return pred(e) || subExprs(e).some((x) => someExpr(x, pred));
}

const stmtParts: StmtVisitor<{ readonly exprs: readonly Expr[]; readonly stmts: readonly Stmt[] }, null> = {
  assign: (s) => ({ exprs: [...locIndexExprs(s.loc), s.e], stmts: [] }),
  reset: (s) => ({ exprs: locIndexExprs(s.loc), stmts: [] }),
  if: (s) => ({ exprs: [s.c], stmts: [...s.thenBody, ...s.elseBody] }),
  forEach: (s) => ({ exprs: [], stmts: s.body }),
};

/** The expressions a statement evaluates directly (its value, condition and location indexes). */
export function stmtExprs(s: Stmt): readonly Expr[] {
  return visitStmt(stmtParts, s, null).exprs;
}

/** The statements nested directly in `s`. */
export function subStmts(s: Stmt): readonly Stmt[] {
  return visitStmt(stmtParts, s, null).stmts;
}

/** The state variables (positions in `Model.vars`) that `e` reads inside `pre(...)`. */
export function varsReadInPre(e: Expr, inPre = false, out = new Set<number>()): Set<number> {
  if (e.op === 'read' && inPre) out.add(e.loc.varIdx);
  for (const x of subExprs(e)) varsReadInPre(x, inPre || e.op === 'pre', out);
  return out;
}

/**
 * Checks that `e` uses only bound variables: those of enclosing quantifiers, and `allowed` (the
 * parameters of the rule it belongs to); and `pre(...)` only where `allowPre` (step properties and
 * rule bodies). Returns what is wrong, in words, or null.
 */
export function scopeProblem(e: Expr, allowed: ReadonlySet<number>, allowPre: boolean): string | null {
  if (e.op === 'var' && !allowed.has(e.id)) return `uses the variable ${e.name} outside the rule or quantifier that binds it`;
  if (e.op === 'pre' && !allowPre) return 'uses pre(...), which only step properties and rule bodies can';
  const inner = e.op === 'quant' ? new Set([...allowed, e.id]) : allowed;
  for (const x of subExprs(e)) {
    const p = scopeProblem(x, inner, allowPre);
    if (p) return p;
  }
  return null;
}

/** As `scopeProblem`, for statements (a `forEach` binds its variable in its body). */
export function stmtScopeProblem(s: Stmt, allowed: ReadonlySet<number>, allowPre: boolean): string | null {
  for (const x of stmtExprs(s)) {
    const p = scopeProblem(x, allowed, allowPre);
    if (p) return p;
  }
  const inner = s.kind === 'forEach' ? new Set([...allowed, s.id]) : allowed;
  for (const x of subStmts(s)) {
    const p = stmtScopeProblem(x, inner, allowPre);
    if (p) return p;
  }
  return null;
}
