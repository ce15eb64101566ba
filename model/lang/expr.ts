/**
 * Typed expressions and state references. Why this module exists: the language is data, so that
 * the explicit engine can compile it to JavaScript, the SMT engine can translate it to z3 terms, and
 * exporters can print it; an expression is an immutable tree whose every node carries its type.
 * Type errors are found when the tree is built, and name the rule or property being built.
 */
import { ModelBuildError } from './errors.js';
import {
  type ArrayType,
  type EnumType,
  type ExprType,
  type IndexType,
  type OptionType,
  type RangeType,
  type RecordType,
  type ScalarType,
  type Type,
  bool,
  compatible,
  inType,
  int,
  isScalar,
  typeName,
} from './types.js';

/** One step of a path into a state variable: a record field or an array element. */
export type PathElem = { readonly kind: 'field'; readonly name: string } | { readonly kind: 'at'; readonly e: Expr };

/** A location in the state: a variable and a path of fields and indexes into it. */
export interface Loc {
  readonly varIdx: number;
  readonly varName: string;
  readonly path: readonly PathElem[];
  readonly type: Type;
}

/** The comparison operators of `cmp` expressions. */
export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
/** The arithmetic operators of `arith` expressions. */
export type ArithOp = 'add' | 'sub' | 'mul';
/** The quantifiers over an index type. */
export type QuantOp = 'forall' | 'exists' | 'count';

/** An expression node. Every node carries the type it evaluates to. */
export type Expr =
  | { readonly op: 'lit'; readonly type: ExprType; readonly value: number }
  | { readonly op: 'var'; readonly type: IndexType; readonly id: number; readonly name: string }
  | { readonly op: 'read'; readonly type: ScalarType; readonly loc: Loc }
  | { readonly op: 'pre'; readonly type: ExprType; readonly e: Expr }
  | { readonly op: 'not'; readonly type: typeof bool; readonly e: Expr }
  | { readonly op: 'and'; readonly type: typeof bool; readonly args: readonly Expr[] }
  | { readonly op: 'or'; readonly type: typeof bool; readonly args: readonly Expr[] }
  | { readonly op: 'implies'; readonly type: typeof bool; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'cmp'; readonly type: typeof bool; readonly cmp: CmpOp; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'arith'; readonly type: typeof int; readonly fn: ArithOp; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'ite'; readonly type: ExprType; readonly c: Expr; readonly a: Expr; readonly b: Expr }
  | {
      readonly op: 'quant';
      readonly type: ExprType;
      readonly q: QuantOp;
      readonly index: IndexType;
      readonly id: number;
      readonly name: string;
      readonly body: Expr;
    }
  | { readonly op: 'isSome'; readonly type: typeof bool; readonly e: Expr }
  | { readonly op: 'unwrap'; readonly type: ScalarType; readonly e: Expr }
  | { readonly op: 'some'; readonly type: OptionType; readonly e: Expr }
  | { readonly op: 'ord'; readonly type: typeof int; readonly e: Expr };

/** The "no value" literal of option types; its type comes from the context it is used in. */
export const none: unique symbol = Symbol('none');

/** Anything that can stand where an expression is expected: literals are typed from context. */
export type Operand = Expr | Ref | number | boolean | string | typeof none;

// ---------------------------------------------------------------------------------------------
// Build context: where errors are reported.

let context: string[] = [];

/** Runs `fn` with `where` named as the place of any build error it raises. */
export function within<T>(where: string, fn: () => T): T {
  const saved = context;
  context = [...context, where];
  try {
    return fn();
  } finally {
    context = saved;
  }
}

/** Throws a build error naming the current rule or property. */
export function fail(message: string): never {
  throw new ModelBuildError(context.length ? context.join(' / ') : 'model', message);
}

let nextVarId = 1;
/** Creates a fresh bound variable (rule parameter or quantifier variable) over an index type. */
export function freshVar(index: IndexType, name: string): Expr {
  return { op: 'var', type: index, id: nextVarId++, name };
}

// ---------------------------------------------------------------------------------------------
// References into the state.

/**
 * A reference to a state location: a variable, then `.at(i)` for array elements and `.f(name)` for
 * record fields. A reference to a scalar location can be used wherever an expression is expected.
 *
 * @example `dma.at(d).f('state')` is the `state` field of DMA slot `d`.
 */
export class Ref {
  readonly loc: Loc;
  constructor(loc: Loc) {
    this.loc = loc;
  }
  get type(): Type {
    return this.loc.type;
  }
  /** The element of an array at index `i` (an expression of the array's index type, or a number). */
  at(i: Operand): Ref {
    const t = this.loc.type;
    if (t.kind !== 'array') fail(`${this.describe()} is ${typeName(t)}, not an array`);
    const ie = toExpr(i, (t as ArrayType).index);
    if (ie.type.kind !== 'index' || ie.type.name !== (t as ArrayType).index.name) {
      fail(`${this.describe()} is indexed by ${(t as ArrayType).index.name}, not by ${typeName(ie.type)}`);
    }
    return new Ref({ ...this.loc, path: [...this.loc.path, { kind: 'at', e: ie }], type: (t as ArrayType).elem });
  }
  /** The field `name` of a record. */
  f(name: string): Ref {
    const t = this.loc.type;
    if (t.kind !== 'record') fail(`${this.describe()} is ${typeName(t)}, not a record`);
    const ft = (t as RecordType).fields[name];
    if (!ft) fail(`${this.describe()} has no field '${name}' (fields: ${Object.keys((t as RecordType).fields).join(', ')})`);
    return new Ref({ ...this.loc, path: [...this.loc.path, { kind: 'field', name }], type: ft });
  }
  describe(): string {
    return this.loc.varName + this.loc.path.map((p) => (p.kind === 'field' ? `.${p.name}` : '[..]')).join('');
  }
}

/** Reads a scalar reference as an expression. */
export function read(r: Ref): Expr {
  if (!isScalar(r.loc.type)) fail(`${r.describe()} is ${typeName(r.loc.type)}; only scalar locations can be read`);
  return { op: 'read', type: r.loc.type as ScalarType, loc: r.loc };
}

// ---------------------------------------------------------------------------------------------
// Coercion of operands.

function isExpr(x: unknown): x is Expr {
  return typeof x === 'object' && x !== null && 'op' in x;
}

/** Turns an operand into an expression; literals take the `expected` type. */
export function toExpr(x: Operand, expected?: ExprType): Expr {
  if (x instanceof Ref) return read(x);
  if (isExpr(x)) return x;
  if (x === none) {
    if (expected?.kind !== 'option') fail(`'none' used where ${expected ? typeName(expected) : 'no option type'} is expected`);
    return { op: 'lit', type: expected, value: -1 };
  }
  if (typeof x === 'boolean') return { op: 'lit', type: bool, value: x ? 1 : 0 };
  if (typeof x === 'string') {
    const et = expected?.kind === 'option' ? expected.inner : expected;
    if (et?.kind !== 'enum') fail(`the literal '${x}' needs an enum context, found ${expected ? typeName(expected) : 'none'}`);
    const ix = (et as EnumType).values.indexOf(x);
    if (ix < 0) fail(`'${x}' is not a value of ${typeName(et as EnumType)} (values: ${(et as EnumType).values.join(', ')})`);
    return { op: 'lit', type: et as EnumType, value: ix };
  }
  if (typeof x === 'number') {
    if (!Number.isInteger(x)) fail(`non-integer literal ${x}`);
    if (!expected || expected.kind === 'int' || expected.kind === 'range') return { op: 'lit', type: int, value: x };
    if (expected.kind === 'index') {
      if (!inType(expected, x)) fail(`literal ${x} is outside index ${expected.name} (0..${expected.size - 1})`);
      return { op: 'lit', type: expected, value: x };
    }
    fail(`number ${x} used where ${typeName(expected)} is expected`);
  }
  return fail(`not an expression: ${String(x)}`);
}

function asBool(x: Operand, what: string): Expr {
  const e = toExpr(x, bool);
  if (e.type.kind !== 'bool') fail(`${what} needs a bool, got ${typeName(e.type)}`);
  return e;
}

function pair(a: Operand, b: Operand): [Expr, Expr] {
  const literal = (x: Operand) => !(x instanceof Ref) && !isExpr(x);
  if (literal(a) && !literal(b)) {
    const eb = toExpr(b);
    return [toExpr(a, eb.type), eb];
  }
  const ea = toExpr(a);
  return [ea, toExpr(b, ea.type)];
}

// ---------------------------------------------------------------------------------------------
// Constructors.

/** A literal (or any operand) as an expression, typed from `t` when given (e.g. an enum value or `none` of an option type). */
export const lit = (x: Operand, t?: ExprType): Expr => toExpr(x, t);
/** Boolean negation. */
export const not = (a: Operand): Expr => ({ op: 'not', type: bool, e: asBool(a, 'not') });
/** Conjunction of any number of boolean operands (one operand is returned as is). */
export const and = (...xs: Operand[]): Expr =>
  xs.length === 1 ? asBool(xs[0] as Operand, 'and') : { op: 'and', type: bool, args: xs.map((x) => asBool(x, 'and')) };
/** Disjunction of any number of boolean operands (one operand is returned as is). */
export const or = (...xs: Operand[]): Expr =>
  xs.length === 1 ? asBool(xs[0] as Operand, 'or') : { op: 'or', type: bool, args: xs.map((x) => asBool(x, 'or')) };
/** Implication: `a` implies `b`. */
export const implies = (a: Operand, b: Operand): Expr => ({ op: 'implies', type: bool, a: asBool(a, 'implies'), b: asBool(b, 'implies') });

function cmp(c: CmpOp, a: Operand, b: Operand): Expr {
  const [ea, eb] = pair(a, b);
  if (!compatible(ea.type, eb.type)) fail(`cannot compare ${typeName(ea.type)} with ${typeName(eb.type)}`);
  if (c !== 'eq' && c !== 'ne') {
    const ok = (t: ExprType) => t.kind === 'int' || t.kind === 'range';
    if (!ok(ea.type) || !ok(eb.type)) fail(`'${c}' needs numbers, got ${typeName(ea.type)} and ${typeName(eb.type)}`);
  }
  return { op: 'cmp', type: bool, cmp: c, a: ea, b: eb };
}
/** Equality of two operands of compatible types (numbers, enum values, index values, options, `none`). */
export const eq = (a: Operand, b: Operand) => cmp('eq', a, b);
/** Inequality of two operands of compatible types. */
export const ne = (a: Operand, b: Operand) => cmp('ne', a, b);
/** Less than, on integers, ranges and index values. */
export const lt = (a: Operand, b: Operand) => cmp('lt', a, b);
/** Less than or equal, on integers, ranges and index values. */
export const le = (a: Operand, b: Operand) => cmp('le', a, b);
/** Greater than, on integers, ranges and index values. */
export const gt = (a: Operand, b: Operand) => cmp('gt', a, b);
/** Greater than or equal, on integers, ranges and index values. */
export const ge = (a: Operand, b: Operand) => cmp('ge', a, b);

function arith(fn: ArithOp, a: Operand, b: Operand): Expr {
  const ea = toExpr(a, int);
  const eb = toExpr(b, int);
  for (const e of [ea, eb]) if (e.type.kind !== 'int' && e.type.kind !== 'range') fail(`'${fn}' needs numbers, got ${typeName(e.type)}`);
  return { op: 'arith', type: int, fn, a: ea, b: eb };
}
/** Integer addition (the result must fit the range it is assigned to; a model error otherwise). */
export const add = (a: Operand, b: Operand) => arith('add', a, b);
/** Integer subtraction. */
export const sub = (a: Operand, b: Operand) => arith('sub', a, b);
/** Integer multiplication. */
export const mul = (a: Operand, b: Operand) => arith('mul', a, b);

/** `c ? a : b`. */
export function ite(c: Operand, a: Operand, b: Operand): Expr {
  const ec = asBool(c, 'ite');
  const [ea, eb] = pair(a, b);
  if (!compatible(ea.type, eb.type)) fail(`ite branches differ: ${typeName(ea.type)} and ${typeName(eb.type)}`);
  const type = ea.type.kind === 'range' && eb.type.kind === 'range' && ea.type !== eb.type ? int : ea.type;
  return { op: 'ite', type, c: ec, a: ea, b: eb };
}

function quant(q: QuantOp, idx: IndexType, fn: (i: Expr) => Operand): Expr {
  const v = freshVar(idx, idx.name.toLowerCase());
  const body = asBool(fn(v), q);
  return { op: 'quant', type: q === 'count' ? int : bool, q, index: idx, id: (v as { id: number }).id, name: (v as { name: string }).name, body };
}
/** True when `fn(i)` holds for every value `i` of the index type. */
export const forall = (idx: IndexType, fn: (i: Expr) => Operand) => quant('forall', idx, fn);
/** True when `fn(i)` holds for some value `i` of the index type. */
export const exists = (idx: IndexType, fn: (i: Expr) => Operand) => quant('exists', idx, fn);
/** The number of values `i` of the index type for which `fn(i)` holds. */
export const count = (idx: IndexType, fn: (i: Expr) => Operand) => quant('count', idx, fn);

/** True when an option holds a value. */
export function isSome(x: Operand): Expr {
  const e = toExpr(x);
  if (e.type.kind !== 'option') fail(`isSome needs an option, got ${typeName(e.type)}`);
  return { op: 'isSome', type: bool, e };
}
/** True when an option holds no value. */
export const isNone = (x: Operand): Expr => not(isSome(x));
/** The value inside an option; evaluating it on none is a run-time model error. */
export function unwrap(x: Operand): Expr {
  const e = toExpr(x);
  if (e.type.kind !== 'option') fail(`unwrap needs an option, got ${typeName(e.type)}`);
  return { op: 'unwrap', type: (e.type as OptionType).inner, e };
}
/**
 * Wraps a scalar value into an option. An integer literal in an option of a range takes that range
 * (`some(1, option(range(0, 2)))`: a literal alone is an `int`, which an option cannot hold).
 */
export function some(x: Operand, t?: OptionType): Expr {
  const e = typeof x === 'number' && t?.inner.kind === 'range' ? rangeLiteral(x, t.inner) : toExpr(x, t?.inner);
  if (e.type.kind === 'option' || e.type.kind === 'int') fail(`some() needs a non-option scalar, got ${typeName(e.type)}`);
  return { op: 'some', type: t ?? { kind: 'option', inner: e.type as Exclude<ScalarType, OptionType> }, e };
}
function rangeLiteral(x: number, t: RangeType): Expr {
  if (!inType(t, x)) fail(`literal ${x} is outside ${typeName(t)}`);
  return { op: 'lit', type: t, value: x };
}
/** The ordinal of an index value as an integer. */
export function ord(x: Operand): Expr {
  const e = toExpr(x);
  if (e.type.kind !== 'index') fail(`ord needs an index value, got ${typeName(e.type)}`);
  return { op: 'ord', type: int, e };
}
/** Evaluates `x` in the state before the step (only inside step properties). */
export function pre(x: Operand): Expr {
  const e = toExpr(x);
  return { op: 'pre', type: e.type, e };
}

/** Asserts that an operand is a boolean expression (used by rule and property builders). */
export function boolExpr(x: Operand, what: string): Expr {
  return asBool(x, what);
}
