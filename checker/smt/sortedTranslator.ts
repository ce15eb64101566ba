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
import { type ExprOf, type StmtOf, locIndexExprs, stmtExprs, subExprs, subStmts } from '../../model/lang/visit.js';
import type { Stmt } from '../../model/lang/stmt.js';
import { ExprTranslator, type SymEnv } from './exprTranslator.js';
import type { Value } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import { type IndexType, type ScalarType, type Type, cardinality, fromCode, isScalar, typeName } from '../../model/lang/types.js';
import { type BoolSym, type ElemSym, type NumLike, SmtUnsupported, type Sym, type SymOps } from './symbolic.js';
import type { Terms } from './terms.js';
import type { ModelHandle } from './z3Host.js';

/** One scalar leaf of a state variable: a function of the array indexes on its path. */
interface Leaf {
  readonly id: number;
  readonly name: string;
  readonly dims: readonly IndexType[];
  readonly type: ScalarType;
}
type Shape =
  | { readonly kind: 'leaf'; readonly leaf: Leaf }
  | { readonly kind: 'record'; readonly fields: readonly (readonly [string, Shape])[] }
  | { readonly kind: 'array'; readonly index: IndexType; readonly elem: Shape };

/** The value of a leaf at given index elements. */
export type LeafFn = (args: readonly Z3_ast[]) => Sym;

/** Where expressions are evaluated and statements executed: one function per leaf. */
export type SortedEnv = SymEnv<LeafFn>;

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

export class SortedTranslator extends ExprTranslator<LeafFn> {
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
    super(ops);
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

  private litOf(t: Expr['type'], value: number): Sym {
    if (t.kind === 'bool') return this.ops.lit(value !== 0);
    if (t.kind === 'index') return this.literal(t, value);
    if (t.kind === 'option' && t.inner.kind === 'index') {
      return value < 0 ? { k: 'o', some: this.ops.F, val: this.literal(t.inner, 0) } : { k: 'o', some: this.ops.T, val: this.literal(t.inner, value) };
    }
    return { k: 'v', v: value };
  }

  protected literalOf(e: ExprOf<'lit'>): Sym {
    return this.litOf(e.type, e.value);
  }

  protected readLoc(loc: Loc, env: SortedEnv): Sym {
    const { shape, args } = this.resolve(loc, env);
    if (shape.kind !== 'leaf') throw new Error('read of a non-scalar');
    return (env.cur[shape.leaf.id] as LeafFn)(args);
  }

  /** A z3 quantifier over the index sort; `count` depends on the sort's size and is refused. */
  protected quantifier(e: ExprOf<'quant'>, env: SortedEnv): Sym {
    const ops = this.ops;
    if (this.isFixed(e.index)) return this.expandQuant(e, env);
    if (e.q === 'count') throw new SmtUnsupported(`count over ${e.index.name} depends on its size`);
    const x = this.fresh(e.index, e.name);
    // Errors inside the body happen for some element (short-circuit order is over-approximated).
    const inner: BoolSym[] = [];
    const body = this.bound(env, e.id, x, () => this.bool(e.body, this.sub(env, env.pc, inner)));
    for (const err of inner) env.errs.push(ops.bool(this.tm.exists([x.t], err.t)));
    if (body.c !== undefined) return body;
    return ops.bool(e.q === 'forall' ? this.tm.forall([x.t], body.t) : this.tm.exists([x.t], body.t));
  }

  /** An option of an index is a pair; other options are numbers (-1 for none), so some(b) of a Boolean is its 0/1 value. */
  protected someOf(e: ExprOf<'some'>, env: SortedEnv): Sym {
    const x = this.expr(e.e, env);
    if (x.k === 'e') return { k: 'o', some: this.ops.T, val: x };
    return x.k === 'b' ? this.ops.ite(x, { k: 'v', v: 1 }, { k: 'v', v: 0 }) : x;
  }

  /** `ord` of a fixed index type is its literal's number; of an open sort it has none (only comparisons of two ords, see cmp). */
  protected ordOf(e: ExprOf<'ord'>, env: SortedEnv): Sym {
    const ops = this.ops;
    const t = e.e.type;
    if (t.kind !== 'index' || !this.isFixed(t)) throw new SmtUnsupported(`ord() of ${typeName(t)} used as a number depends on the numbering of index values`);
    const x = this.expr(e.e, env);
    if (x.k !== 'e') throw new Error('ord of a non-element');
    let r: Sym = { k: 'v', v: t.size - 1 };
    for (let v = t.size - 2; v >= 0; v--) r = ops.ite(ops.eq(x, this.literal(t, v)), { k: 'v', v }, r);
    return r;
  }

  /** `ord(a) <cmp> ord(b)` over an open sort is the order relation (equal ords are equal elements); every other comparison as usual. */
  protected override cmp(e: ExprOf<'cmp'>, env: SortedEnv): BoolSym {
    if (e.a.op !== 'ord' || e.b.op !== 'ord' || e.a.e.type.kind !== 'index' || this.isFixed(e.a.e.type)) return super.cmp(e, env);
    const ops = this.ops;
    const ix = e.a.e.type;
    const a = this.expr(e.a.e, env);
    const b = this.expr(e.b.e, env);
    if (a.k !== 'e' || b.k !== 'e') throw new Error('ord of a non-element');
    const less = this.order(ix);
    const lt = (x: ElemSym, y: ElemSym) => ops.bool(this.tm.app(less, [x.t, y.t]));
    switch (e.cmp) {
      case 'eq':
        return ops.eq(a, b);
      case 'ne':
        return ops.not(ops.eq(a, b));
      case 'lt':
        return lt(a, b);
      case 'gt':
        return lt(b, a);
      case 'le':
        return ops.or([lt(a, b), ops.eq(a, b)]);
      case 'ge':
        return ops.or([lt(b, a), ops.eq(a, b)]);
    }
  }

  /** A quantifier (or count) over a fixed index type, expanded over its elements as the bounded translation does. */
  private expandQuant(e: ExprOf<'quant'>, env: SortedEnv): Sym {
    const ops = this.ops;
    const vals: BoolSym[] = [];
    let sum: NumLike = { k: 'v', v: 0 };
    for (const x of this.elements(e.index)) {
      const guard = e.q === 'forall' ? vals : e.q === 'exists' ? vals.map((v) => ops.not(v)) : [];
      const b = this.bound(env, e.id, x, () => this.bool(e.body, this.sub(env, ops.and([env.pc, ...guard]))));
      vals.push(b);
      if (e.q === 'count') sum = ops.arith('add', sum, ops.asNum(ops.ite(b, { k: 'v', v: 1 }, { k: 'v', v: 0 }), 'count'));
      else if (b.c === (e.q === 'exists')) break;
    }
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

  protected assign(st: StmtOf<'assign'>, env: SortedEnv): void {
    const ops = this.ops;
    const { shape, args } = this.resolve(st.loc, env);
    if (shape.kind !== 'leaf') throw new Error('assignment to a non-scalar');
    const t = shape.leaf.type;
    let v = this.expr(st.e, env);
    if (t.kind !== 'bool' && v.k !== 'e' && v.k !== 'o') {
      const n = ops.asNum(v, 'an assignment');
      const lo = fromCode(t, 0);
      const hi = fromCode(t, cardinality(t) - 1);
      this.fail(env, ops.not(ops.inRange(n, lo, hi)));
      // Out of range only on a path that raises the model error just recorded; the value is kept
      // unwrapped so that a counterexample shows it (-1, not the bit-vector wrap).
    }
    if (t.kind === 'option' && t.inner.kind === 'index' && v.k === 'e') v = { k: 'o', some: ops.T, val: v };
    const old = env.cur[shape.leaf.id] as LeafFn;
    const val = v;
    env.cur[shape.leaf.id] = args.length === 0 ? () => val : memo((a) => ops.ite(this.argsEq(a, args), val, old(a)));
  }

  protected reset(st: StmtOf<'reset'>, env: SortedEnv): void {
    const { shape, args } = this.resolve(st.loc, env);
    for (const leaf of this.leavesOf(shape)) {
      const old = env.cur[leaf.id] as LeafFn;
      const d = this.defaultOf(leaf.type);
      env.cur[leaf.id] = args.length === 0 ? () => d : memo((a) => this.ops.ite(this.argsEq(a.slice(0, args.length), args), d, old(a)));
    }
  }

  /** A loop over a fixed index type is unrolled; over an open sort it runs pointwise (see execPointwise). */
  protected forEach(st: StmtOf<'forEach'>, env: SortedEnv): void {
    if (!this.isFixed(st.index)) {
      this.bound(env, st.id, this.fresh(st.index, `${st.name}#each`), () => this.execPointwise(st, env));
      return;
    }
    for (const x of this.elements(st.index)) this.bound(env, st.id, x, () => this.exec(st.body, env));
  }

  /**
   * A `forEach` over an open sort, all iterations at once: the body runs once for a placeholder
   * element (bound to the loop variable by the caller), and each array it writes becomes, at every
   * index, what that run wrote with the placeholder replaced by the index. Exact when the iterations
   * touch disjoint cells, which `disjointPositions` checks (refused otherwise). A model error in some
   * iteration is an error.
   */
  private execPointwise(st: StmtOf<'forEach'>, env: SortedEnv): void {
    const positions = disjointPositions(st);
    if (!positions)
      throw new SmtUnsupported(`forEach over ${st.index.name}: its iterations do not touch disjoint cells, so it has no size-independent translation`);
    const tm = this.tm;
    const ops = this.ops;
    const e = env.bind.get(st.id) as ElemSym;
    const errs: BoolSym[] = [];
    const body: SortedEnv = { ...env, cur: [...env.cur], errs };
    this.exec(st.body, body);
    for (const err of errs) env.errs.push(ops.bool(tm.exists([e.t], err.t)));
    const z = tm.s.z;
    const ctx = tm.s.ctx;
    const subst = (t: Z3_ast, by: Z3_ast): Z3_ast => z.substitute(ctx, t, [e.t], [by]);
    const substSym = (x: Sym, by: Z3_ast): Sym => {
      switch (x.k) {
        case 'v':
          return x;
        case 'b':
          return x.c !== undefined ? x : ops.bool(subst(x.t, by));
        case 'n':
          return { ...x, t: subst(x.t, by) };
        case 'e':
          return { ...x, t: subst(x.t, by) };
        case 'o':
          return { k: 'o', some: substSym(x.some, by) as BoolSym, val: substSym(x.val, by) as ElemSym };
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

  protected join(c: BoolSym, a: LeafFn, b: LeafFn): LeafFn {
    return memo((args) => this.ops.ite(c, a(args), b(args)));
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
      case 'b':
        return (x.c ?? this.tm.evalBool(m, x.t)) ? 1 : 0;
      case 'v':
        return x.v;
      case 'n':
        return this.tm.evalBv(m, x.t) + x.off;
      case 'e':
        return this.elemIndex(u, m, x);
      case 'o':
        return this.natural(u, m, x.some) ? this.elemIndex(u, m, x.val) : -1;
    }
  }

  /** A whole state as structured values over the model's universes. */
  decodeState(u: Map<string, Z3_ast[]>, m: ModelHandle, fns: readonly LeafFn[]): Record<string, Value> {
    const scalar = (t: ScalarType, v: number): Value => {
      switch (t.kind) {
        case 'bool':
          return v !== 0;
        case 'enum':
          return t.values[v] ?? `?${v}`;
        case 'option':
          return v < 0 ? null : scalar(t.inner, v);
        default:
          return v;
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
function disjointPositions(st: StmtOf<'forEach'>): Map<number, number> | null {
  const loopAt = (loc: Loc): number[] => locIndexExprs(loc).flatMap((e, k) => (e.op === 'var' && e.id === st.id ? [k] : []));
  const writes: Loc[] = [];
  const reads: Loc[] = [];
  const expr = (e: Expr): void => {
    if (e.op === 'pre') return; // the state before the step: not written by the loop
    if (e.op === 'read') reads.push(e.loc);
    for (const x of subExprs(e)) expr(x);
  };
  const stmt = (s: Stmt): void => {
    if (s.kind === 'assign' || s.kind === 'reset') writes.push(s.loc);
    for (const e of stmtExprs(s)) expr(e);
    for (const x of subStmts(s)) stmt(x);
  };
  for (const s of st.body) stmt(s);
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
