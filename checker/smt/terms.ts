/**
 * A thin term builder over z3's low-level API for one session. Why this module exists: the
 * translators build hundreds of thousands of terms; going through the low-level API keeps them free
 * of JavaScript wrappers and finalizers (see z3Host.ts), and this class keeps that API readable:
 * cached sorts and constants, n-ary and/or that drop trivial arguments, bit-vector helpers, and
 * evaluation of terms in a model.
 */
import { type Z3_ast, Z3_ast_kind, type Z3_func_decl, Z3_lbool, type Z3_sort } from 'z3-solver';
import type { ModelHandle, SmtSession } from './z3Host.js';

/** Number of bits needed for the codes 0..n-1 (at least 1). */
export function bitsFor(n: number): number {
  let b = 1;
  while (2 ** b < n) b++;
  return b;
}

export class Terms {
  readonly s: SmtSession;
  readonly T: Z3_ast;
  readonly F: Z3_ast;
  private readonly boolSortP: Z3_sort;
  private readonly bvSorts = new Map<number, Z3_sort>();
  private readonly bvVals = new Map<string, Z3_ast>();
  private readonly names = new Set<string>();

  constructor(session: SmtSession) {
    this.s = session;
    const { z, ctx } = session;
    this.T = z.mk_true(ctx);
    this.F = z.mk_false(ctx);
    this.boolSortP = z.mk_bool_sort(ctx);
  }

  private get z() {
    return this.s.z;
  }
  private get c() {
    return this.s.ctx;
  }

  boolSort(): Z3_sort {
    return this.boolSortP;
  }

  bvSort(w: number): Z3_sort {
    let srt = this.bvSorts.get(w);
    if (srt === undefined) {
      srt = this.z.mk_bv_sort(this.c, w);
      this.bvSorts.set(w, srt);
    }
    return srt;
  }

  /** A fresh uninterpreted sort. */
  sort(name: string): Z3_sort {
    return this.z.mk_uninterpreted_sort(this.c, this.z.mk_string_symbol(this.c, name));
  }

  /** A constant of the given sort; names are made unique within the session. */
  constant(name: string, srt: Z3_sort): Z3_ast {
    let n = name;
    for (let i = 2; this.names.has(n); i++) n = `${name}#${i}`;
    this.names.add(n);
    return this.z.mk_const(this.c, this.z.mk_string_symbol(this.c, n), srt);
  }

  boolConst(name: string): Z3_ast {
    return this.constant(name, this.boolSortP);
  }

  bvConst(name: string, w: number): Z3_ast {
    return this.constant(name, this.bvSort(w));
  }

  /** An uninterpreted function. */
  func(name: string, domain: readonly Z3_sort[], range: Z3_sort): Z3_func_decl {
    let n = name;
    for (let i = 2; this.names.has(n); i++) n = `${name}#${i}`;
    this.names.add(n);
    return this.z.mk_func_decl(this.c, this.z.mk_string_symbol(this.c, n), [...domain], range);
  }

  app(f: Z3_func_decl, args: readonly Z3_ast[]): Z3_ast {
    return this.z.mk_app(this.c, f, [...args]);
  }

  /** The bit-vector value `v mod 2^w`. */
  bv(v: number, w: number): Z3_ast {
    const m = 2 ** w;
    const x = ((v % m) + m) % m;
    const key = `${w}:${x}`;
    let t = this.bvVals.get(key);
    if (t === undefined) {
      t = this.z.mk_numeral(this.c, String(x), this.bvSort(w));
      this.bvVals.set(key, t);
    }
    return t;
  }

  not(a: Z3_ast): Z3_ast {
    return this.z.mk_not(this.c, a);
  }
  and(xs: readonly Z3_ast[]): Z3_ast {
    if (xs.length === 0) return this.T;
    if (xs.length === 1) return xs[0] as Z3_ast;
    return this.z.mk_and(this.c, [...xs]);
  }
  or(xs: readonly Z3_ast[]): Z3_ast {
    if (xs.length === 0) return this.F;
    if (xs.length === 1) return xs[0] as Z3_ast;
    return this.z.mk_or(this.c, [...xs]);
  }
  implies(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_implies(this.c, a, b);
  }
  eq(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_eq(this.c, a, b);
  }
  distinct(xs: readonly Z3_ast[]): Z3_ast {
    return xs.length < 2 ? this.T : this.z.mk_distinct(this.c, [...xs]);
  }
  ite(c: Z3_ast, a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_ite(this.c, c, a, b);
  }
  zext(a: Z3_ast, by: number): Z3_ast {
    return by === 0 ? a : this.z.mk_zero_ext(this.c, by, a);
  }
  extract(hi: number, lo: number, a: Z3_ast): Z3_ast {
    return this.z.mk_extract(this.c, hi, lo, a);
  }
  add(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_bvadd(this.c, a, b);
  }
  sub(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_bvsub(this.c, a, b);
  }
  mul(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_bvmul(this.c, a, b);
  }
  ult(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_bvult(this.c, a, b);
  }
  ule(a: Z3_ast, b: Z3_ast): Z3_ast {
    return this.z.mk_bvule(this.c, a, b);
  }
  /** Width of a bit-vector term. */
  width(a: Z3_ast): number {
    return this.z.get_bv_sort_size(this.c, this.z.get_sort(this.c, a));
  }

  /** `forall bound. body` over constants used as bound variables. */
  forall(bound: readonly Z3_ast[], body: Z3_ast): Z3_ast {
    if (bound.length === 0) return body;
    return this.z.mk_forall_const(
      this.c,
      0,
      bound.map((b) => this.z.to_app(this.c, b)),
      [],
      body,
    );
  }
  exists(bound: readonly Z3_ast[], body: Z3_ast): Z3_ast {
    if (bound.length === 0) return body;
    return this.z.mk_exists_const(
      this.c,
      0,
      bound.map((b) => this.z.to_app(this.c, b)),
      [],
      body,
    );
  }

  /**
   * Value of a Boolean term in a model (evaluated with model completion: unconstrained constants
   * take a value of the model). z3's evaluator leaves a quantifier as it is; each one left is
   * decided over the model's universe of its bound sorts (finite: the quantifiers of the sorted
   * translation range over index sorts). A term left undecided without a quantifier is an error.
   */
  evalBool(m: ModelHandle, t: Z3_ast): boolean {
    const v = this.z.model_eval(this.c, m.ptr, t, true);
    if (v === null) throw new Error('z3 could not evaluate a Boolean term');
    const b = this.z.get_bool_value(this.c, v);
    if (b !== Z3_lbool.Z3_L_UNDEF) return b === Z3_lbool.Z3_L_TRUE;
    const qs = this.quantifiersIn(v);
    if (qs.length === 0) throw new Error('z3 could not evaluate a Boolean term');
    return this.evalBool(
      m,
      this.z.substitute(
        this.c,
        v,
        qs,
        qs.map((q) => (this.quantifierHolds(m, q) ? this.T : this.F)),
      ),
    );
  }

  /** The outermost quantifiers in a term. */
  private quantifiersIn(t: Z3_ast, out: Z3_ast[] = []): Z3_ast[] {
    const kind = this.z.get_ast_kind(this.c, t);
    if (kind === Z3_ast_kind.Z3_QUANTIFIER_AST) out.push(t);
    else if (kind === Z3_ast_kind.Z3_APP_AST) {
      const a = this.z.to_app(this.c, t);
      for (let i = 0; i < this.z.get_app_num_args(this.c, a); i++) this.quantifiersIn(this.z.get_app_arg(this.c, a, i), out);
    }
    return out;
  }

  /** A quantifier decided by instantiating its body with every element of the model's universes. */
  private quantifierHolds(m: ModelHandle, q: Z3_ast): boolean {
    const z = this.z;
    const n = z.get_quantifier_num_bound(this.c, q);
    const universes = Array.from({ length: n }, (_, j) => this.universe(m, z.get_quantifier_bound_sort(this.c, q, j)));
    const body = z.get_quantifier_body(this.c, q);
    const forall = z.is_quantifier_forall(this.c, q);
    const pick: Z3_ast[] = [];
    const walk = (j: number): boolean => {
      // Every bound variable chosen: de Bruijn index i names bound variable n-1-i.
      if (j === n) return this.evalBool(m, z.substitute_vars(this.c, body, [...pick].reverse())) !== forall;
      for (const el of universes[j] as Z3_ast[]) {
        pick.push(el);
        const found = walk(j + 1);
        pick.pop();
        if (found) return true;
      }
      return false;
    };
    // forall: holds unless an instance is false; exists: holds if an instance is true.
    return walk(0) !== forall;
  }

  /** Unsigned value of a bit-vector term in a model. */
  evalBv(m: ModelHandle, t: Z3_ast): number {
    const v = this.z.model_eval(this.c, m.ptr, t, true);
    if (v === null || !this.z.is_numeral_ast(this.c, v)) throw new Error('z3 could not evaluate a bit-vector term');
    return Number(this.z.get_numeral_string(this.c, v));
  }

  /** A term evaluated in a model (for uninterpreted sorts: an element of the model's universe). */
  evalTerm(m: ModelHandle, t: Z3_ast): Z3_ast {
    const v = this.z.model_eval(this.c, m.ptr, t, true);
    if (v === null) throw new Error('z3 could not evaluate a term');
    return v;
  }

  /** The elements of an uninterpreted sort in a model. */
  universe(m: ModelHandle, srt: Z3_sort): Z3_ast[] {
    const vec = this.z.model_get_sort_universe(this.c, m.ptr, srt);
    this.z.ast_vector_inc_ref(this.c, vec);
    try {
      const n = this.z.ast_vector_size(this.c, vec);
      return Array.from({ length: n }, (_, i) => this.z.ast_vector_get(this.c, vec, i));
    } finally {
      this.z.ast_vector_dec_ref(this.c, vec);
    }
  }

  /** Whether two terms are the same z3 term (structural identity). */
  same(a: Z3_ast, b: Z3_ast): boolean {
    return this.z.is_eq_ast(this.c, a, b);
  }

  toString(t: Z3_ast): string {
    return this.z.ast_to_string(this.c, t);
  }
}
