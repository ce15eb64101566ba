/**
 * Statements of rule bodies and start states. Why this module exists: bodies are data, like
 * expressions, so every engine executes the same semantics. Statements run in order and later ones
 * see the effect of earlier ones (Murphi semantics); a whole body is one atomic step.
 */
import { type Expr, type Loc, type Operand, type Ref, boolExpr, fail, freshVar, toExpr } from './expr.js';
import { type IndexType, type ScalarType, compatible, isScalar, typeName } from './types.js';

/** A statement of a rule body or start state: an assignment, a reset, a conditional or a loop over an index type. */
export type Stmt =
  | { readonly kind: 'assign'; readonly loc: Loc; readonly e: Expr }
  | { readonly kind: 'reset'; readonly loc: Loc }
  | { readonly kind: 'if'; readonly c: Expr; readonly thenBody: readonly Stmt[]; readonly elseBody: readonly Stmt[] }
  | { readonly kind: 'forEach'; readonly index: IndexType; readonly id: number; readonly name: string; readonly body: readonly Stmt[] };

/** `target := value`. Storing a value outside the target's range is a run-time model error. */
export function assign(target: Ref, value: Operand): Stmt {
  if (!isScalar(target.type)) fail(`cannot assign to ${target.describe()} of type ${typeName(target.type)}; use reset() or assign its fields`);
  const e = toExpr(value, target.type as ScalarType);
  if (!compatible(target.type as ScalarType, e.type)) {
    fail(`cannot assign ${typeName(e.type)} to ${target.describe()} of type ${typeName(target.type)}`);
  }
  if (e.op === 'lit' && target.type.kind === 'range' && (e.value < target.type.lo || e.value > target.type.hi)) {
    fail(`constant ${e.value} is out of range ${typeName(target.type)} for ${target.describe()}`);
  }
  return { kind: 'assign', loc: target.loc, e };
}

/** Sets every scalar inside `target` to its type's default (false, first enum value, lo, none). */
export function reset(target: Ref): Stmt {
  return { kind: 'reset', loc: target.loc };
}

/** `if c then ... else ... end`. */
export function when(c: Operand, then: Stmt | readonly Stmt[], otherwise: Stmt | readonly Stmt[] = []): Stmt {
  const list = (s: Stmt | readonly Stmt[]) => (Array.isArray(s) ? (s as readonly Stmt[]) : [s as Stmt]);
  return { kind: 'if', c: boolExpr(c, 'if'), thenBody: list(then), elseBody: list(otherwise) };
}

/** `for i: Index do ... end`. */
export function forEach(index: IndexType, fn: (i: Expr) => Stmt | readonly Stmt[]): Stmt {
  const v = freshVar(index, index.name.toLowerCase());
  const body = fn(v);
  return { kind: 'forEach', index, id: (v as { id: number }).id, name: (v as { name: string }).name, body: Array.isArray(body) ? body : [body as Stmt] };
}
