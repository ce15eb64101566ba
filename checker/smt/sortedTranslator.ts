/**
 * Translation of the modelling language with index types as uninterpreted sorts. Why this module
 * exists: a proof for every number of pages, frames and DMA slots cannot unroll arrays into slots.
 * Here an index type is a z3 sort of unknown size, an array over index types is an uninterpreted
 * function (one per scalar leaf: `pte.frame : Page -> Frame`), quantifiers over index types are z3
 * quantifiers, and a rule's parameters are constants of their sorts. A state is a function per leaf;
 * statements build the post-state as functions "like the old one, except at the assigned index",
 * so no quantified frame axioms are needed.
 *
 * Index values have no numbers, so what depends on them is refused (SmtUnsupported): `ord`, `count`
 * and `forEach`. Index literals (0 as the default of a reset index field, say) become distinct named
 * constants, so a proof using literal k holds for sizes above k. Enum, range and option values keep
 * the bit-vector encoding of symbolic.ts: their bounds are those of the model as built.
 */
import type { Z3_ast, Z3_sort } from 'z3-solver';
import type { Expr, Loc } from '../../model/lang/expr.js';
import type { ExprOf, StmtOf } from '../../model/lang/visit.js';
import { ExprTranslator, type SymEnv } from './exprTranslator.js';
import type { Value } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import { type IndexType, type ScalarType, type Type, cardinality, fromCode, isScalar, typeName } from '../../model/lang/types.js';
import { type BoolSym, type ElemSym, SmtUnsupported, type Sym, type SymOps } from './symbolic.js';
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

  constructor(ops: SymOps, model: Model) {
    super(ops);
    this.tm = ops.tm;
    this.model = model;
    for (const ix of model.indexes) this.sorts.set(ix.name, this.tm.sort(ix.name));
    for (const v of model.vars) this.shapes.push(this.shape(v.type, v.name, []));
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

  /** Index literals of one sort are distinct elements. */
  literalAxioms(): BoolSym {
    return this.ops.and([...this.literals.values()].map((m) => this.ops.bool(this.tm.distinct([...m.values()]))));
  }

  /** Smallest size of each index type the proof covers (largest literal used + 1, at least 1). */
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

  protected ordOf(e: ExprOf<'ord'>): Sym {
    throw new SmtUnsupported(`ord() of ${typeName(e.e.type)} depends on the numbering of index values`);
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
      if (n.k === 'n' && (n.lo < lo || n.hi > hi)) v = ops.slotSym(t, ops.slotTerm(t, n));
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

  protected forEach(st: StmtOf<'forEach'>): void {
    throw new SmtUnsupported(`forEach over ${st.index.name}: a loop over every index value has no size-independent translation here`);
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
