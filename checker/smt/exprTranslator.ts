/**
 * What the two SMT translations share. Why this module exists: the bounded translation
 * (translate.ts: a state is one term per slot) and the unbounded one (sortedTranslator.ts: index
 * types are uninterpreted sorts, a state is one function per leaf) differ only in how they name
 * locations, literals, quantifiers and loops. Boolean connectives with the interpreter's
 * short-circuit order, comparisons, arithmetic, options and the path-conditioned collection of model
 * errors are written here once, as the shared part of one visitor per translation.
 */
import type { Expr, Loc } from '../../model/lang/expr.js';
import type { Stmt } from '../../model/lang/stmt.js';
import { type ExprOf, type ExprVisitor, type StmtOf, type StmtVisitor, visitExpr, visitStmt } from '../../model/lang/visit.js';
import { type BoolSym, type NumLike, SmtUnsupported, type Sym, type SymOps } from './symbolic.js';

/** Where expressions are evaluated and statements executed; `V` is what a translation keeps per slot or leaf. */
export interface SymEnv<V> {
  /** Current value of every slot or leaf; statements replace entries (never mutate a value). */
  cur: V[];
  /** The state before the step, read by `pre(...)` (step properties and rule bodies). */
  readonly pre: readonly V[] | null;
  /** Values of bound variables (rule parameters, quantifier and loop variables). */
  readonly bind: Map<number, Sym>;
  /** The condition under which this code runs. */
  readonly pc: BoolSym;
  /** Conditions under which a model error is raised (shared by nested environments). */
  readonly errs: BoolSym[];
}

/** The shared part of a symbolic translation; subclasses supply what depends on the state encoding. */
export abstract class ExprTranslator<V, E extends SymEnv<V> = SymEnv<V>> {
  readonly ops: SymOps;

  constructor(ops: SymOps) {
    this.ops = ops;
  }

  /** A literal of the expression's type. */
  protected abstract literalOf(e: ExprOf<'lit'>): Sym;
  /** The value of a scalar location. */
  protected abstract readLoc(loc: Loc, env: E): Sym;
  /** A quantifier (`forall`, `exists`, `count`) over an index type. */
  protected abstract quantifier(e: ExprOf<'quant'>, env: E): Sym;
  /** An option holding the value of `e.e`. */
  protected abstract someOf(e: ExprOf<'some'>, env: E): Sym;
  /** The ordinal of an index value. */
  protected abstract ordOf(e: ExprOf<'ord'>, env: E): Sym;
  /** `target := value`. */
  protected abstract assign(st: StmtOf<'assign'>, env: E): void;
  /** Every scalar inside a location back to its default. */
  protected abstract reset(st: StmtOf<'reset'>, env: E): void;
  /** A loop over every value of an index type. */
  protected abstract forEach(st: StmtOf<'forEach'>, env: E): void;
  /** The value of a slot or leaf after an `if`: `a` where `c` holds, `b` elsewhere. */
  protected abstract join(c: BoolSym, a: V, b: V): V;

  /** Adds "a model error is raised" under the current path condition. */
  protected fail(env: E, bad: BoolSym): void {
    const c = this.ops.and([env.pc, bad]);
    if (c.c !== false) env.errs.push(c);
  }

  /** The same environment under a narrower path condition (and optionally its own error list). */
  protected sub(env: E, pc: BoolSym, errs: BoolSym[] = env.errs): E {
    return { ...env, pc, errs };
  }

  /** Runs `fn` with the variable `id` bound to `v`, restoring the previous binding afterwards. */
  protected bound<T>(env: E, id: number, v: Sym, fn: () => T): T {
    const saved = env.bind.get(id);
    env.bind.set(id, v);
    try {
      return fn();
    } finally {
      if (saved === undefined) env.bind.delete(id);
      else env.bind.set(id, saved);
    }
  }

  /** `and`/`or`: a later argument is evaluated only when the earlier ones did not decide (short-circuit). */
  private chain(args: readonly Expr[], isAnd: boolean, env: E): BoolSym {
    const ops = this.ops;
    const done: BoolSym[] = [];
    for (const a of args) {
      const guard = isAnd ? done : done.map((d) => ops.not(d));
      const x = this.bool(a, this.sub(env, ops.and([env.pc, ...guard])));
      done.push(x);
      if (x.c === !isAnd) break;
    }
    return isAnd ? ops.and(done) : ops.or(done);
  }

  /** A comparison of two numbers or values (a translation may give some comparisons their own meaning). */
  protected cmp(e: ExprOf<'cmp'>, env: E): BoolSym {
    const ops = this.ops;
    const a = this.expr(e.a, env);
    const b = this.expr(e.b, env);
    const num = (x: Sym): NumLike => ops.asNum(x, e.cmp);
    switch (e.cmp) {
      case 'eq':
        return ops.eq(a, b);
      case 'ne':
        return ops.not(ops.eq(a, b));
      case 'lt':
        return ops.lessNum(num(a), num(b), true);
      case 'le':
        return ops.lessNum(num(a), num(b), false);
      case 'gt':
        return ops.lessNum(num(b), num(a), true);
      case 'ge':
        return ops.lessNum(num(b), num(a), false);
    }
  }

  private ite(e: ExprOf<'ite'>, env: E): Sym {
    const ops = this.ops;
    const c = this.bool(e.c, env);
    if (c.c !== undefined) return this.expr(c.c ? e.a : e.b, env);
    const a = this.expr(e.a, this.sub(env, ops.and([env.pc, c])));
    const b = this.expr(e.b, this.sub(env, ops.and([env.pc, ops.not(c)])));
    return ops.ite(c, a, b);
  }

  private readonly exprs: ExprVisitor<Sym, E> = {
    lit: (e) => this.literalOf(e),
    var: (e, env) => {
      const v = env.bind.get(e.id);
      if (v === undefined) throw new Error(`unbound variable ${e.name}`);
      return v;
    },
    read: (e, env) => this.readLoc(e.loc, env),
    pre: (e, env) => {
      if (!env.pre) throw new SmtUnsupported('pre() used outside a step');
      return this.expr(e.e, { ...env, cur: env.pre as V[], pre: null });
    },
    not: (e, env) => this.ops.not(this.bool(e.e, env)),
    and: (e, env) => this.chain(e.args, true, env),
    or: (e, env) => this.chain(e.args, false, env),
    implies: (e, env) => {
      const a = this.bool(e.a, env);
      return this.ops.implies(a, this.bool(e.b, this.sub(env, this.ops.and([env.pc, a]))));
    },
    cmp: (e, env) => this.cmp(e, env),
    arith: (e, env) => this.ops.arith(e.fn, this.ops.asNum(this.expr(e.a, env), e.fn), this.ops.asNum(this.expr(e.b, env), e.fn)),
    ite: (e, env) => this.ite(e, env),
    quant: (e, env) => this.quantifier(e, env),
    isSome: (e, env) => this.ops.isSome(this.expr(e.e, env)),
    unwrap: (e, env) => {
      const x = this.expr(e.e, env);
      this.fail(env, this.ops.not(this.ops.isSome(x)));
      // The value inside an option of a Boolean is its 0/1 code: back to a Boolean.
      const v = this.ops.unwrap(x);
      return e.type.kind === 'bool' ? this.ops.eq(v, { k: 'v', v: 1 }) : v;
    },
    some: (e, env) => this.someOf(e, env),
    ord: (e, env) => this.ordOf(e, env),
  };

  /** The symbolic value of an expression. */
  expr(e: Expr, env: E): Sym {
    return visitExpr(this.exprs, e, env);
  }

  /** The symbolic value of a boolean expression. */
  bool(e: Expr, env: E): BoolSym {
    return this.ops.asBool(this.expr(e, env));
  }

  private readonly stmts: StmtVisitor<void, E> = {
    assign: (st, env) => this.assign(st, env),
    reset: (st, env) => this.reset(st, env),
    if: (st, env) => {
      const ops = this.ops;
      const c = this.bool(st.c, env);
      if (c.c !== undefined) {
        this.exec(c.c ? st.thenBody : st.elseBody, env);
        return;
      }
      const a: E = { ...env, cur: [...env.cur], pc: ops.and([env.pc, c]) };
      const b: E = { ...env, cur: [...env.cur], pc: ops.and([env.pc, ops.not(c)]) };
      this.exec(st.thenBody, a);
      this.exec(st.elseBody, b);
      for (let i = 0; i < env.cur.length; i++) {
        const x = a.cur[i] as V;
        const y = b.cur[i] as V;
        env.cur[i] = x === y ? x : this.join(c, x, y);
      }
    },
    forEach: (st, env) => this.forEach(st, env),
  };

  /** Executes statements in order, replacing entries of `env.cur` (later statements see earlier ones). */
  exec(stmts: readonly Stmt[], env: E): void {
    for (const st of stmts) visitStmt(this.stmts, st, env);
  }
}
