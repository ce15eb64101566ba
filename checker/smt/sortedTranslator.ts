/**
 * Translation of the modelling language with index types as uninterpreted sorts. Why this module
 * exists: a proof for every number of pages, frames and DMA slots cannot unroll arrays into slots.
 * Here an index type is a z3 sort of unknown size, an array over index types is an uninterpreted
 * function (one per scalar leaf: `pte.frame : Page -> Frame`), quantifiers over index types are z3
 * quantifiers, and a rule's parameters are constants of their sorts. A state is a function per leaf;
 * statements build the post-state as functions "like the old one, except at the assigned index",
 * so no quantified frame axioms are needed.
 *
 * Index values have no numbers, so most of what depends on them is refused (SmtUnsupported):
 * `count` and `ord` used as a number. Two constructs have a size-independent meaning and are kept:
 * - `ord(a) < ord(b)` (and the other comparisons of two `ord`s of one index type): a strict total
 *   order on the sort, an uninterpreted relation with its three axioms (every numbering of a finite
 *   set is such an order, so every size is covered);
 * - `forEach` whose iterations touch disjoint cells (every access to a variable the body writes
 *   goes through the loop variable at one fixed array position): all iterations at once, as a
 *   pointwise update of the arrays it writes.
 * Index literals (0 as the default of a reset index field, say) become distinct named constants, so
 * a proof using literal k holds for sizes above k. An index type can be kept at its built size
 * instead (`fixed`): its elements are then exactly its literals 0..n-1, and quantifiers, `count`,
 * `ord` and `forEach` over it are expanded as in the bounded translation. Enum, range and option
 * values keep the bit-vector encoding of symbolic.ts: their bounds are those of the model as built.
 */
import type { Z3_ast, Z3_func_decl, Z3_sort } from 'z3-solver';
import type { Expr, Loc } from '../../model/lang/expr.js';
import type { Value } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Stmt } from '../../model/lang/stmt.js';
import { type IndexType, type ScalarType, type Type, cardinality, fromCode, isScalar, typeName } from '../../model/lang/types.js';
import { type BoolSym, type ElemSym, type NumLike, SmtUnsupported, type Sym, type SymOps } from './symbolic.js';
import type { Terms } from './terms.js';
import type { ModelHandle } from './z3Host.js';

/** One scalar leaf of a state variable: a function of the array indexes on its path. */
interface Leaf { readonly id: number; readonly name: string; readonly dims: readonly IndexType[]; readonly type: ScalarType }
type Shape =
  | { readonly kind: 'leaf'; readonly leaf: Leaf }
  | { readonly kind: 'record'; readonly fields: readonly (readonly [string, Shape])[] }
  | { readonly kind: 'array'; readonly index: IndexType; readonly elem: Shape };

/** The value of a leaf at given index elements. */
export type LeafFn = (args: readonly Z3_ast[]) => Sym;

/** Where expressions are evaluated and statements executed. */
export interface SortedEnv {
  cur: LeafFn[];
  readonly pre: readonly LeafFn[] | null;
  readonly bind: Map<number, Sym>;
  readonly pc: BoolSym;
  readonly errs: BoolSym[];
}

function memo(fn: LeafFn): LeafFn {
  const cache = new Map<string, Sym>();
  return (args) => {
    const key = args.join(',');
    let v = cache.get(key);
    if (v === undefined) {
      v = fn(args);
      cache.set(key, v);
    }
    return v;
  };
}

export class SortedTranslator {
  readonly ops: SymOps;
  readonly tm: Terms;
  readonly model: Model;
  readonly leaves: Leaf[] = [];
  private readonly shapes: Shape[] = [];
  private readonly sorts = new Map<string, Z3_sort>();
  private readonly literals = new Map<string, Map<number, Z3_ast>>();
  /** Index types kept at their built size (elements = literals 0..n-1). */
  readonly fixed: ReadonlySet<string>;
  /** The strict order `ord(a) < ord(b)` of each index sort it is used on. */
  private readonly orders = new Map<string, Z3_func_decl>();

  constructor(ops: SymOps, model: Model, fixed: ReadonlySet<string> = new Set()) {
    this.ops = ops;
    this.tm = ops.tm;
    this.model = model;
    this.fixed = fixed;
    for (const ix of model.indexes) this.sorts.set(ix.name, this.tm.sort(ix.name));
    for (const v of model.vars) this.shapes.push(this.shape(v.type, v.name, []));
    for (const ix of model.indexes) if (fixed.has(ix.name)) for (let v = 0; v < ix.size; v++) this.literal(ix, v);
  }

  private isFixed(ix: IndexType): boolean {
    return this.fixed.has(ix.name);
  }

  /** The elements of a fixed index type, in order. */
  private elements(ix: IndexType): ElemSym[] {
    return Array.from({ length: ix.size }, (_, v) => this.literal(ix, v));
  }

  /** The strict order of an open index sort, created on first use. */
  private order(ix: IndexType): Z3_func_decl {
    let f = this.orders.get(ix.name);
    if (!f) {
      const srt = this.sortOf(ix);
      f = this.tm.func(`less<${ix.name}>`, [srt, srt], this.tm.boolSort());
      this.orders.set(ix.name, f);
    }
    return f;
  }

  private shape(t: Type, name: string, dims: readonly IndexType[]): Shape {
    if (isScalar(t)) {
      if (t.kind === 'option' && t.inner.kind === 'range' && t.inner.lo !== 0) throw new SmtUnsupported(`${name}: option of a range not starting at 0`);
      const leaf: Leaf = { id: this.leaves.length, name, dims, type: t };
      this.leaves.push(leaf);
      return { kind: 'leaf', leaf };
    }
    if (t.kind === 'record') return { kind: 'record', fields: Object.entries(t.fields).map(([f, ft]) => [f, this.shape(ft, `${name}.${f}`, dims)] as const) };
    return { kind: 'array', index: t.index, elem: this.shape(t.elem, `${name}[]`, [...dims, t.index]) };
  }

  sortOf(ix: IndexType | string): Z3_sort {
    const s = this.sorts.get(typeof ix === 'string' ? ix : ix.name);
    if (s === undefined) throw new Error(`unknown index type ${typeof ix === 'string' ? ix : ix.name}`);
    return s;
  }

  /** The element named by an index literal (distinct from every other literal of its sort). */
  literal(ix: IndexType, v: number): ElemSym {
    let m = this.literals.get(ix.name);
    if (!m) {
      m = new Map();
      this.literals.set(ix.name, m);
    }
    let t = m.get(v);
    if (t === undefined) {
      t = this.tm.constant(`${ix.name}!${v}`, this.sortOf(ix));
      m.set(v, t);
    }
    return { k: 'e', t, sort: ix.name };
  }

  /**
   * The background facts: index literals of one sort are distinct elements; a fixed index type has
   * no other element; each order used is a strict total order.
   */
  literalAxioms(): BoolSym {
    const ops = this.ops;
    const tm = this.tm;
    const out = [...this.literals.values()].map((m) => ops.bool(tm.distinct([...m.values()])));
    for (const ix of this.model.indexes) {
      if (!this.isFixed(ix)) continue;
      const x = tm.constant(`${ix.name}#all`, this.sortOf(ix));
      out.push(ops.bool(tm.forall([x], tm.or(this.elements(ix).map((e) => tm.eq(x, e.t))))));
    }
    for (const [name, less] of this.orders) {
      const srt = this.sortOf(name);
      const [x, y, z] = ['x', 'y', 'z'].map((v) => tm.constant(`${name}#${v}`, srt)) as [Z3_ast, Z3_ast, Z3_ast];
      const lt = (a: Z3_ast, b: Z3_ast) => tm.app(less, [a, b]);
      out.push(ops.bool(tm.forall([x], tm.not(lt(x, x)))));
      out.push(ops.bool(tm.forall([x, y, z], tm.implies(tm.and([lt(x, y), lt(y, z)]), lt(x, z)))));
      out.push(ops.bool(tm.forall([x, y], tm.or([tm.eq(x, y), lt(x, y), lt(y, x)]))));
    }
    return ops.and(out);
  }

  /** Smallest size of each index type the proof covers (largest literal used + 1, at least 1); a fixed type's size. */
  minSizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const ix of this.model.indexes) out[ix.name] = Math.max(1, ...[...(this.literals.get(ix.name)?.keys() ?? [])].map((v) => v + 1));
    return out;
  }

  /** A fresh constant of an index sort (a rule parameter, or a variable to quantify over). */
  fresh(ix: IndexType, name: string): ElemSym {
    return { k: 'e', t: this.tm.constant(name, this.sortOf(ix)), sort: ix.name };
  }

  /** A state: one uninterpreted function per leaf, with the axioms that keep codes in their types. */
  declareState(prefix: string): { fns: LeafFn[]; axioms: BoolSym[] } {
    const tm = this.tm;
    const ops = this.ops;
    const fns: LeafFn[] = [];
    const axioms: BoolSym[] = [];
    for (const leaf of this.leaves) {
      const dom = leaf.dims.map((d) => this.sortOf(d));
      const name = `${prefix}${leaf.name}`;
      const mk = (suffix: string, range: Z3_sort) => {
        const f = tm.func(`${name}${suffix}`, dom, range);
        return (args: readonly Z3_ast[]) => tm.app(f, args);
      };
      const t = leaf.type;
      let fn: LeafFn;
      if (t.kind === 'bool') {
        const f = mk('', tm.boolSort());
        fn = (a) => ops.bool(f(a));
      } else if (t.kind === 'index') {
        const f = mk('', this.sortOf(t));
        fn = (a) => ({ k: 'e', t: f(a), sort: t.name });
      } else if (t.kind === 'option' && t.inner.kind === 'index') {
        const inner = t.inner;
        const fs = mk('?', tm.boolSort());
        const fv = mk('!', this.sortOf(inner));
        fn = (a) => ({ k: 'o', some: ops.bool(fs(a)), val: { k: 'e', t: fv(a), sort: inner.name } });
      } else {
        const w = ops.slotWidth(t);
        const f = mk('', tm.bvSort(w));
        fn = (a) => ops.slotSym(t, f(a));
        const mc = ops.maxCode(t);
        if (mc !== null) {
          const bound = leaf.dims.map((d, i) => tm.constant(`${name}#x${i}`, this.sortOf(d)));
          axioms.push(ops.bool(tm.forall(bound, tm.ule(f(bound), tm.bv(mc, w)))));
        }
      }
      fns.push(memo(fn));
    }
    return { fns, axioms };
  }

  private resolve(loc: Loc, env: SortedEnv): { shape: Shape; args: Z3_ast[] } {
    let shape = this.shapes[loc.varIdx] as Shape;
    const args: Z3_ast[] = [];
    for (const p of loc.path) {
      if (p.kind === 'field') {
        if (shape.kind !== 'record') throw new Error('field of a non-record');
        const f = shape.fields.find(([n]) => n === p.name);
        if (!f) throw new Error(`no field ${p.name}`);
        shape = f[1];
      } else {
        if (shape.kind !== 'array') throw new Error('index of a non-array');
        const ix = this.expr(p.e, env);
        if (ix.k !== 'e') throw new Error('array index is not an index element');
        args.push(ix.t);
        shape = shape.elem;
      }
    }
    return { shape, args };
  }

  private leavesOf(shape: Shape): Leaf[] {
    if (shape.kind === 'leaf') return [shape.leaf];
    if (shape.kind === 'record') return shape.fields.flatMap(([, s]) => this.leavesOf(s));
    return this.leavesOf(shape.elem);
  }

  private fail(env: SortedEnv, bad: BoolSym): void {
    const c = this.ops.and([env.pc, bad]);
    if (c.c !== false) env.errs.push(c);
  }

  private sub(env: SortedEnv, pc: BoolSym, errs: BoolSym[] = env.errs): SortedEnv {
    return { cur: env.cur, pre: env.pre, bind: env.bind, pc, errs };
  }

  bool(e: Expr, env: SortedEnv): BoolSym {
    return this.ops.asBool(this.expr(e, env));
  }

  private litOf(t: Expr['type'], value: number): Sym {
    if (t.kind === 'bool') return this.ops.lit(value !== 0);
    if (t.kind === 'index') return this.literal(t, value);
    if (t.kind === 'option' && t.inner.kind === 'index') {
      return value < 0 ? { k: 'o', some: this.ops.F, val: this.literal(t.inner, 0) } : { k: 'o', some: this.ops.T, val: this.literal(t.inner, value) };
    }
    return { k: 'v', v: value };
  }

  expr(e: Expr, env: SortedEnv): Sym {
    const ops = this.ops;
    switch (e.op) {
      case 'lit': return this.litOf(e.type, e.value);
      case 'var': {
        const v = env.bind.get(e.id);
        if (v === undefined) throw new Error(`unbound variable ${e.name}`);
        return v;
      }
      case 'read': {
        const { shape, args } = this.resolve(e.loc, env);
        if (shape.kind !== 'leaf') throw new Error('read of a non-scalar');
        return (env.cur[shape.leaf.id] as LeafFn)(args);
      }
      case 'pre': {
        if (!env.pre) throw new SmtUnsupported('pre() used outside a step');
        return this.expr(e.e, { cur: env.pre as LeafFn[], pre: null, bind: env.bind, pc: env.pc, errs: env.errs });
      }
      case 'not': return ops.not(this.bool(e.e, env));
      case 'and':
      case 'or': {
        const done: BoolSym[] = [];
        for (const a of e.args) {
          const guard = e.op === 'and' ? done : done.map((d) => ops.not(d));
          const x = this.bool(a, this.sub(env, ops.and([env.pc, ...guard])));
          done.push(x);
          if (x.c === (e.op === 'or')) break;
        }
        return e.op === 'and' ? ops.and(done) : ops.or(done);
      }
      case 'implies': {
        const a = this.bool(e.a, env);
        return ops.implies(a, this.bool(e.b, this.sub(env, ops.and([env.pc, a]))));
      }
      case 'cmp': {
        if (e.a.op === 'ord' && e.b.op === 'ord' && e.a.e.type.kind === 'index' && !this.isFixed(e.a.e.type)) return this.compareOrd(e.cmp, e.a.e, e.b.e, env);
        const a = this.expr(e.a, env);
        const b = this.expr(e.b, env);
        const num = (x: Sym): NumLike => ops.asNum(x, e.cmp);
        switch (e.cmp) {
          case 'eq': return ops.eq(a, b);
          case 'ne': return ops.not(ops.eq(a, b));
          case 'lt': return ops.lessNum(num(a), num(b), true);
          case 'le': return ops.lessNum(num(a), num(b), false);
          case 'gt': return ops.lessNum(num(b), num(a), true);
          case 'ge': return ops.lessNum(num(b), num(a), false);
        }
        break;
      }
      case 'arith': return ops.arith(e.fn, ops.asNum(this.expr(e.a, env), e.fn), ops.asNum(this.expr(e.b, env), e.fn));
      case 'ite': {
        const c = this.bool(e.c, env);
        if (c.c !== undefined) return this.expr(c.c ? e.a : e.b, env);
        const a = this.expr(e.a, this.sub(env, ops.and([env.pc, c])));
        const b = this.expr(e.b, this.sub(env, ops.and([env.pc, ops.not(c)])));
        return ops.ite(c, a, b);
      }
      case 'quant': {
        if (this.isFixed(e.index)) return this.expandQuant(e, env);
        if (e.q === 'count') throw new SmtUnsupported(`count over ${e.index.name} depends on its size`);
        const x = this.fresh(e.index, e.name);
        const saved = env.bind.get(e.id);
        env.bind.set(e.id, x);
        // Errors inside the body happen for some element (short-circuit order is over-approximated).
        const inner: BoolSym[] = [];
        const body = this.bool(e.body, this.sub(env, env.pc, inner));
        if (saved === undefined) env.bind.delete(e.id);
        else env.bind.set(e.id, saved);
        for (const err of inner) env.errs.push(ops.bool(this.tm.exists([x.t], err.t)));
        if (body.c !== undefined) return body;
        return ops.bool(e.q === 'forall' ? this.tm.forall([x.t], body.t) : this.tm.exists([x.t], body.t));
      }
      case 'isSome': return ops.isSome(this.expr(e.e, env));
      case 'unwrap': {
        const x = this.expr(e.e, env);
        this.fail(env, ops.not(ops.isSome(x)));
        return ops.unwrap(x);
      }
      case 'some': {
        const x = this.expr(e.e, env);
        return x.k === 'e' ? { k: 'o', some: ops.T, val: x } : x;
      }
      case 'ord': {
        const t = e.e.type;
        if (t.kind !== 'index' || !this.isFixed(t)) throw new SmtUnsupported(`ord() of ${typeName(t)} used as a number depends on the numbering of index values`);
        const x = this.expr(e.e, env);
        if (x.k !== 'e') throw new Error('ord of a non-element');
        let r: Sym = { k: 'v', v: t.size - 1 };
        for (let v = t.size - 2; v >= 0; v--) r = ops.ite(ops.eq(x, this.literal(t, v)), { k: 'v', v }, r);
        return r;
      }
    }
    throw new Error(`unknown expression ${(e as { op: string }).op}`);
  }

  /** `ord(a) <cmp> ord(b)` over an open sort: the order relation (equal ords are equal elements). */
  private compareOrd(cmp: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', ae: Expr, be: Expr, env: SortedEnv): BoolSym {
    const ops = this.ops;
    const a = this.expr(ae, env);
    const b = this.expr(be, env);
    if (a.k !== 'e' || b.k !== 'e' || ae.type.kind !== 'index') throw new Error('ord of a non-element');
    const less = this.order(ae.type);
    const lt = (x: ElemSym, y: ElemSym) => ops.bool(this.tm.app(less, [x.t, y.t]));
    switch (cmp) {
      case 'eq': return ops.eq(a, b);
      case 'ne': return ops.not(ops.eq(a, b));
      case 'lt': return lt(a, b);
      case 'gt': return lt(b, a);
      case 'le': return ops.or([lt(a, b), ops.eq(a, b)]);
      case 'ge': return ops.or([lt(b, a), ops.eq(a, b)]);
    }
  }

  /** A quantifier (or count) over a fixed index type, expanded over its elements as the bounded translation does. */
  private expandQuant(e: Extract<Expr, { op: 'quant' }>, env: SortedEnv): Sym {
    const ops = this.ops;
    const saved = env.bind.get(e.id);
    const vals: BoolSym[] = [];
    let sum: NumLike = { k: 'v', v: 0 };
    for (const x of this.elements(e.index)) {
      env.bind.set(e.id, x);
      const guard = e.q === 'forall' ? vals : e.q === 'exists' ? vals.map((v) => ops.not(v)) : [];
      const b = this.bool(e.body, this.sub(env, ops.and([env.pc, ...guard])));
      vals.push(b);
      if (e.q === 'count') sum = ops.arith('add', sum, ops.asNum(ops.ite(b, { k: 'v', v: 1 }, { k: 'v', v: 0 }), 'count'));
      else if (b.c === (e.q === 'exists')) break;
    }
    if (saved === undefined) env.bind.delete(e.id);
    else env.bind.set(e.id, saved);
    return e.q === 'forall' ? ops.and(vals) : e.q === 'exists' ? ops.or(vals) : sum;
  }

  private defaultOf(t: ScalarType): Sym {
    if (t.kind === 'index') return this.literal(t, 0);
    if (t.kind === 'option' && t.inner.kind === 'index') return { k: 'o', some: this.ops.F, val: this.literal(t.inner, 0) };
    return this.ops.defaultSym(t);
  }

  private argsEq(a: readonly Z3_ast[], b: readonly Z3_ast[]): BoolSym {
    return this.ops.and(b.map((x, i) => (x === a[i] ? this.ops.T : this.ops.bool(this.tm.eq(a[i] as Z3_ast, x)))));
  }

  /** Executes statements, replacing leaf functions of `env.cur`. */
  exec(stmts: readonly Stmt[], env: SortedEnv): void {
    const ops = this.ops;
    for (const st of stmts) {
      switch (st.kind) {
        case 'assign': {
          const { shape, args } = this.resolve(st.loc, env);
          if (shape.kind !== 'leaf') throw new Error('assignment to a non-scalar');
          const t = shape.leaf.type;
          let v = this.expr(st.e, env);
          if (t.kind !== 'bool' && v.k !== 'e' && v.k !== 'o') {
            const n = ops.asNum(v, 'an assignment');
            const lo = fromCode(t, 0);
            const hi = fromCode(t, cardinality(t) - 1);
            this.fail(env, ops.not(ops.inRange(n, lo, hi)));
            // Out of range only on a path that raises the model error just recorded; the value is
            // kept unwrapped so that a counterexample shows it (-1, not the bit-vector wrap).
          }
          if (t.kind === 'option' && t.inner.kind === 'index' && v.k === 'e') v = { k: 'o', some: ops.T, val: v };
          const old = env.cur[shape.leaf.id] as LeafFn;
          const val = v;
          env.cur[shape.leaf.id] = args.length === 0 ? () => val : memo((a) => ops.ite(this.argsEq(a, args), val, old(a)));
          break;
        }
        case 'reset': {
          const { shape, args } = this.resolve(st.loc, env);
          for (const leaf of this.leavesOf(shape)) {
            const old = env.cur[leaf.id] as LeafFn;
            const d = this.defaultOf(leaf.type);
            env.cur[leaf.id] = args.length === 0 ? () => d : memo((a) => ops.ite(this.argsEq(a.slice(0, args.length), args), d, old(a)));
          }
          break;
        }
        case 'if': {
          const c = this.bool(st.c, env);
          if (c.c !== undefined) {
            this.exec(c.c ? st.thenBody : st.elseBody, env);
            break;
          }
          const a: SortedEnv = { cur: [...env.cur], pre: env.pre, bind: env.bind, pc: ops.and([env.pc, c]), errs: env.errs };
          const b: SortedEnv = { cur: [...env.cur], pre: env.pre, bind: env.bind, pc: ops.and([env.pc, ops.not(c)]), errs: env.errs };
          this.exec(st.thenBody, a);
          this.exec(st.elseBody, b);
          for (let i = 0; i < env.cur.length; i++) {
            const x = a.cur[i] as LeafFn;
            const y = b.cur[i] as LeafFn;
            env.cur[i] = x === y ? x : memo((args) => ops.ite(c, x(args), y(args)));
          }
          break;
        }
        case 'forEach': {
          const saved = env.bind.get(st.id);
          if (this.isFixed(st.index)) {
            for (const x of this.elements(st.index)) {
              env.bind.set(st.id, x);
              this.exec(st.body, env);
            }
          } else {
            this.execPointwise(st, env);
          }
          if (saved === undefined) env.bind.delete(st.id);
          else env.bind.set(st.id, saved);
          break;
        }
      }
    }
  }

  /**
   * A `forEach` over an open sort, all iterations at once: the body runs once for a placeholder
   * element, and each array it writes becomes, at every index, what that run wrote with the
   * placeholder replaced by the index. Exact when the iterations touch disjoint cells, which
   * `disjointPosition` checks (refused otherwise). A model error in some iteration is an error.
   */
  private execPointwise(st: Extract<Stmt, { kind: 'forEach' }>, env: SortedEnv): void {
    const positions = disjointPositions(st);
    if (!positions) throw new SmtUnsupported(`forEach over ${st.index.name}: its iterations do not touch disjoint cells, so it has no size-independent translation`);
    const tm = this.tm;
    const ops = this.ops;
    const e = this.fresh(st.index, `${st.name}#each`);
    env.bind.set(st.id, e);
    const errs: BoolSym[] = [];
    const body: SortedEnv = { cur: [...env.cur], pre: env.pre, bind: env.bind, pc: env.pc, errs };
    this.exec(st.body, body);
    for (const err of errs) env.errs.push(ops.bool(tm.exists([e.t], err.t)));
    const z = tm.s.z;
    const ctx = tm.s.ctx;
    const subst = (t: Z3_ast, by: Z3_ast): Z3_ast => z.substitute(ctx, t, [e.t], [by]);
    const substSym = (x: Sym, by: Z3_ast): Sym => {
      switch (x.k) {
        case 'v': return x;
        case 'b': return x.c !== undefined ? x : ops.bool(subst(x.t, by));
        case 'n': return { ...x, t: subst(x.t, by) };
        case 'e': return { ...x, t: subst(x.t, by) };
        case 'o': return { k: 'o', some: substSym(x.some, by) as BoolSym, val: substSym(x.val, by) as ElemSym };
      }
    };
    for (const [varIdx, pos] of positions) {
      for (const leaf of this.leavesOf(this.shapes[varIdx] as Shape)) {
        const after = body.cur[leaf.id] as LeafFn;
        if (after === env.cur[leaf.id]) continue;
        env.cur[leaf.id] = memo((args) => substSym(after(args), args[pos] as Z3_ast));
      }
    }
  }

  // --- Decoding a model into structured values -----------------------------------------------

  /**
   * Element lists of every index sort in a model. The element an index literal k denotes is put at
   * position k, so a decoded state reads like a state of a model of that size.
   */
  universes(m: ModelHandle): Map<string, Z3_ast[]> {
    const out = new Map<string, Z3_ast[]>();
    for (const ix of this.model.indexes) {
      let els: Z3_ast[] = [];
      try {
        els = this.tm.universe(m, this.sortOf(ix));
      } catch {
        els = [];
      }
      const lits = [...(this.literals.get(ix.name) ?? new Map<number, Z3_ast>())].sort((a, b) => a[0] - b[0]);
      if (lits.length > 0 && Math.max(...lits.map(([k]) => k)) < els.length) {
        const ordered: (Z3_ast | undefined)[] = new Array(els.length).fill(undefined);
        const rest = [...els];
        for (const [k, t] of lits) {
          const v = this.tm.evalTerm(m, t);
          const at = rest.findIndex((el) => this.tm.same(el, v));
          if (at >= 0) ordered[k] = rest.splice(at, 1)[0];
        }
        els = ordered.map((el) => el ?? (rest.shift() as Z3_ast));
      }
      out.set(ix.name, els);
    }
    return out;
  }

  private elemIndex(u: Map<string, Z3_ast[]>, m: ModelHandle, x: ElemSym): number {
    const v = this.tm.evalTerm(m, x.t);
    const els = u.get(x.sort) ?? [];
    const i = els.findIndex((el) => this.tm.same(el, v));
    return i;
  }

  /** The natural value of a symbolic value in a model (index values: position in the universe). */
  natural(u: Map<string, Z3_ast[]>, m: ModelHandle, x: Sym): number {
    switch (x.k) {
      case 'b': return (x.c ?? this.tm.evalBool(m, x.t)) ? 1 : 0;
      case 'v': return x.v;
      case 'n': return this.tm.evalBv(m, x.t) + x.off;
      case 'e': return this.elemIndex(u, m, x);
      case 'o': return this.natural(u, m, x.some) ? this.elemIndex(u, m, x.val) : -1;
    }
  }

  /** A whole state as structured values over the model's universes. */
  decodeState(u: Map<string, Z3_ast[]>, m: ModelHandle, fns: readonly LeafFn[]): Record<string, Value> {
    const scalar = (t: ScalarType, v: number): Value => {
      switch (t.kind) {
        case 'bool': return v !== 0;
        case 'enum': return t.values[v] ?? `?${v}`;
        case 'option': return v < 0 ? null : scalar(t.inner, v);
        default: return v;
      }
    };
    const walk = (shape: Shape, args: Z3_ast[]): Value => {
      if (shape.kind === 'leaf') return scalar(shape.leaf.type, this.natural(u, m, (fns[shape.leaf.id] as LeafFn)(args)));
      if (shape.kind === 'record') return Object.fromEntries(shape.fields.map(([f, s]) => [f, walk(s, args)]));
      return (u.get(shape.index.name) ?? []).map((el) => walk(shape.elem, [...args, el]));
    };
    const out: Record<string, Value> = {};
    this.model.vars.forEach((v, i) => {
      out[v.name] = walk(this.shapes[i] as Shape, []);
    });
    return out;
  }
}

/**
 * For a `forEach` whose iterations touch disjoint cells: for each variable its body writes, the
 * array position (counting index steps along the path) where every access to that variable, read
 * or written, uses the loop variable. Null when some write or read of such a variable does not.
 */
function disjointPositions(st: Extract<Stmt, { kind: 'forEach' }>): Map<number, number> | null {
  const loopAt = (loc: Loc): number[] => {
    const out: number[] = [];
    let k = 0;
    for (const p of loc.path) {
      if (p.kind !== 'at') continue;
      if (p.e.op === 'var' && p.e.id === st.id) out.push(k);
      k++;
    }
    return out;
  };
  const writes: Loc[] = [];
  const reads: Loc[] = [];
  const expr = (e: Expr): void => {
    switch (e.op) {
      case 'read':
        reads.push(e.loc);
        for (const p of e.loc.path) if (p.kind === 'at') expr(p.e);
        return;
      case 'pre': return; // the state before the step: not written by the loop
      case 'not': case 'isSome': case 'unwrap': case 'some': case 'ord': expr(e.e); return;
      case 'and': case 'or': for (const a of e.args) expr(a); return;
      case 'implies': case 'cmp': case 'arith': expr(e.a); expr(e.b); return;
      case 'ite': expr(e.c); expr(e.a); expr(e.b); return;
      case 'quant': expr(e.body); return;
      default: return;
    }
  };
  const stmts = (ss: readonly Stmt[]): void => {
    for (const x of ss) {
      if (x.kind === 'assign') {
        writes.push(x.loc);
        for (const p of x.loc.path) if (p.kind === 'at') expr(p.e);
        expr(x.e);
      } else if (x.kind === 'reset') {
        writes.push(x.loc);
        for (const p of x.loc.path) if (p.kind === 'at') expr(p.e);
      } else if (x.kind === 'if') {
        expr(x.c);
        stmts(x.thenBody);
        stmts(x.elseBody);
      } else {
        stmts(x.body);
      }
    }
  };
  stmts(st.body);
  const pos = new Map<number, number>();
  for (const w of writes) {
    const at = loopAt(w);
    if (at.length === 0) return null;
    const k = at[0] as number;
    if (pos.has(w.varIdx) && pos.get(w.varIdx) !== k) return null;
    pos.set(w.varIdx, k);
  }
  for (const r of reads) {
    const k = pos.get(r.varIdx);
    if (k === undefined) continue;
    if (!loopAt(r).includes(k)) return null;
  }
  return pos;
}
