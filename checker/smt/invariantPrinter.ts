/**
 * Inferred invariants as expressions of the modelling language. Why this module exists: a proof
 * found by invariant inference is only useful to a person (and only checkable by the independent
 * solver path) when the invariant is written the way the model is: `mig.at(p).f('step')`, enum
 * names, `some(...)`/`none`, quantifiers over index types. Facts (stateFacts.ts) talk about slots;
 * this module turns them into `Expr` trees built with the language's own constructors, so what is
 * printed is exactly what k-induction re-proves, and prints those trees as TypeScript source.
 *
 * Simplification is exact, never a weakening:
 * - a family of facts that differ only by a renaming of index values (page 0 / page 1, frame 1 /
 *   frame 2) is printed once, quantified over the index types (distinct values for distinct
 *   variables), when every member of the family is present;
 * - a fact "not (a and b and c)" is printed as the implication "a and b implies c takes one of its
 *   other values", with the shorter of the allowed and the excluded values.
 */
import { type Expr, type Operand, Ref, and, eq, forall, implies, ne, none, not, or, some } from '../../model/lang/expr.js';
import type { Model } from '../../model/lang/protocol.js';
import { type IndexType, type ScalarType, type Type, cardinality, fromCode, isScalar, option } from '../../model/lang/types.js';
import type { SlotLit } from './reachableSet.js';
import type { Fact, SetLit } from './stateFacts.js';

/** One printed conjunct of an inferred invariant. */
export interface PrintedFact {
  /** The conjunct, built with the language's constructors. */
  readonly expr: Expr;
  /** The same conjunct as model source code. */
  readonly source: string;
  /** How many slot-level facts it stands for. */
  readonly covers: number;
}

type Step = { readonly kind: 'field'; readonly name: string } | { readonly kind: 'at'; readonly index: IndexType; readonly value: number };

/** Where each slot lives: its variable and the path of fields and index values into it. */
interface SlotAddress {
  readonly varIdx: number;
  readonly steps: readonly Step[];
  readonly type: ScalarType;
}

function addresses(model: Model): SlotAddress[] {
  const out: SlotAddress[] = [];
  const walk = (varIdx: number, t: Type, steps: Step[]) => {
    if (isScalar(t)) {
      out.push({ varIdx, steps, type: t });
    } else if (t.kind === 'record') {
      for (const [f, ft] of Object.entries(t.fields)) walk(varIdx, ft, [...steps, { kind: 'field', name: f }]);
    } else {
      for (let i = 0; i < t.index.size; i++) walk(varIdx, t.elem, [...steps, { kind: 'at', index: t.index, value: i }]);
    }
  };
  model.vars.forEach((v, i) => {
    walk(i, v.type, []);
  });
  return out;
}

const addrKey = (varIdx: number, steps: readonly Step[]) => `${varIdx}:${steps.map((s) => (s.kind === 'field' ? `.${s.name}` : `[${s.value}]`)).join('')}`;

/** A renaming of index values: per index type name, value -> value. */
type Renaming = ReadonlyMap<string, readonly number[]>;

/** The index type an index-valued scalar type draws its values from. */
function indexOf(t: ScalarType): IndexType | null {
  if (t.kind === 'index') return t;
  if (t.kind === 'option' && t.inner.kind === 'index') return t.inner;
  return null;
}

/** Symbolic bindings used while building a quantified conjunct: index value -> bound variable. */
type Binding = ReadonlyMap<string, ReadonlyMap<number, Expr>>;

class FactPrinter {
  readonly model: Model;
  private readonly addr: SlotAddress[];
  private readonly slotByKey = new Map<string, number>();

  constructor(model: Model) {
    this.model = model;
    this.addr = addresses(model);
    this.addr.forEach((a, j) => {
      this.slotByKey.set(addrKey(a.varIdx, a.steps), j);
    });
  }

  /** The index values a fact mentions, per index type (array subscripts and index-typed values). */
  constants(f: Fact): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    const note = (ix: IndexType, v: number) => {
      let s = out.get(ix.name);
      if (!s) out.set(ix.name, (s = new Set()));
      s.add(v);
    };
    const slot = (j: number) => {
      for (const st of (this.addr[j] as SlotAddress).steps) if (st.kind === 'at') note(st.index, st.value);
    };
    const value = (j: number, v: number) => {
      const ix = indexOf((this.addr[j] as SlotAddress).type);
      if (ix && v >= 0) note(ix, v);
    };
    for (const l of factLits(f)) {
      slot(l.slot);
      value(l.slot, l.value);
    }
    if (f.kind === 'sets') {
      for (const l of f.lits) {
        slot(l.slot);
        for (const v of l.values) value(l.slot, v);
      }
    }
    if (f.kind === 'eq' || f.kind === 'ne') {
      slot(f.a);
      slot(f.b);
    }
    return out;
  }

  private renameSlot(j: number, r: Renaming): number {
    const a = this.addr[j] as SlotAddress;
    const steps = a.steps.map((s) =>
      s.kind === 'at' && r.has(s.index.name) ? { ...s, value: (r.get(s.index.name) as readonly number[])[s.value] as number } : s,
    );
    const k = this.slotByKey.get(addrKey(a.varIdx, steps));
    if (k === undefined) throw new Error('renamed slot does not exist');
    return k;
  }

  private renameValue(j: number, v: number, r: Renaming): number {
    const ix = indexOf((this.addr[j] as SlotAddress).type);
    if (!ix || v < 0 || !r.has(ix.name)) return v;
    return (r.get(ix.name) as readonly number[])[v] as number;
  }

  rename(f: Fact, r: Renaming): Fact {
    const lit = (l: SlotLit): SlotLit => ({ slot: this.renameSlot(l.slot, r), value: this.renameValue(l.slot, l.value, r) });
    if (f.kind === 'cube') return { kind: 'cube', lits: f.lits.map(lit) };
    if (f.kind === 'sets')
      return {
        kind: 'sets',
        lits: f.lits.map((l) => ({ slot: this.renameSlot(l.slot, r), values: l.values.map((v) => this.renameValue(l.slot, v, r)).sort((a, b) => a - b) })),
      };
    return { kind: f.kind, when: f.when ? lit(f.when) : null, a: this.renameSlot(f.a, r), b: this.renameSlot(f.b, r) };
  }

  // --- Building expressions ---------------------------------------------------------------------

  ref(j: number, bind: Binding): Ref {
    const a = this.addr[j] as SlotAddress;
    const v = this.model.vars[a.varIdx];
    if (!v) throw new Error('bad variable');
    let r = new Ref({ varIdx: a.varIdx, varName: v.name, path: [], type: v.type });
    for (const s of a.steps) r = s.kind === 'field' ? r.f(s.name) : r.at(bind.get(s.index.name)?.get(s.value) ?? s.value);
    return r;
  }

  /** The operand for natural value `v` stored in slot `j`. */
  value(j: number, v: number, bind: Binding): Operand {
    const t = (this.addr[j] as SlotAddress).type;
    const ix = indexOf(t);
    const sym = ix && v >= 0 ? bind.get(ix.name)?.get(v) : undefined;
    switch (t.kind) {
      case 'bool':
        return v !== 0;
      case 'enum':
        return t.values[v] as string;
      case 'option': {
        if (v < 0) return none;
        const inner: Expr = sym ?? { op: 'lit', type: t.inner, value: v };
        return some(inner, option(t.inner));
      }
      default:
        return sym ?? v;
    }
  }

  /** `slot j = v`, written the short way for Booleans. */
  litExpr(l: SlotLit, bind: Binding): Expr {
    const t = (this.addr[l.slot] as SlotAddress).type;
    const r = this.ref(l.slot, bind);
    if (t.kind === 'bool') return l.value ? eq(r, true) : not(r);
    return eq(r, this.value(l.slot, l.value, bind));
  }

  /**
   * Whether slot j holds values of an index type whose values are bound (a quantified family): only
   * the values the fact mentions are bound, so its other values cannot be written (frame 2 is
   * "the frame that is neither f nor f2" only for one member of the family).
   */
  private bound(j: number, bind: Binding): boolean {
    const ix = indexOf((this.addr[j] as SlotAddress).type);
    return ix !== null && bind.has(ix.name);
  }

  /**
   * `slot j` takes one of `values` (all natural values of the slot's type), written with the shorter
   * of the values allowed and the values excluded; through the values allowed when its index values
   * are bound.
   */
  inExpr(j: number, values: readonly number[], bind: Binding): Expr {
    const t = (this.addr[j] as SlotAddress).type;
    const all = this.allValues(j);
    const out = all.filter((v) => !values.includes(v));
    const r = this.ref(j, bind);
    if (t.kind === 'bool' && values.length === 1) return values[0] ? eq(r, true) : not(r);
    if (values.length === 1) return eq(r, this.value(j, values[0] as number, bind));
    if (this.bound(j, bind)) return or(...values.map((v) => eq(r, this.value(j, v, bind))));
    if (out.length === 1) return ne(r, this.value(j, out[0] as number, bind));
    if (values.length <= out.length) return or(...values.map((v) => eq(r, this.value(j, v, bind))));
    return and(...out.map((v) => ne(r, this.value(j, v, bind))));
  }

  /** `slot j` takes none of `values`: one of the others, or, when its index values are bound, none of these. */
  outExpr(j: number, values: readonly number[], bind: Binding): Expr {
    if (this.bound(j, bind)) {
      const r = this.ref(j, bind);
      const nes = values.map((v) => ne(r, this.value(j, v, bind)));
      return nes.length === 1 ? (nes[0] as Expr) : and(...nes);
    }
    return this.inExpr(
      j,
      this.allValues(j).filter((v) => !values.includes(v)),
      bind,
    );
  }

  /** Every natural value of slot j's type. */
  private allValues(j: number): number[] {
    const t = (this.addr[j] as SlotAddress).type;
    return Array.from({ length: cardinality(t) }, (_, c) => fromCode(t, c));
  }

  /** A fact (or a merged group) as an expression under the binding. */
  factExpr(f: Fact, bind: Binding): Expr {
    if (f.kind === 'sets') {
      const last = f.lits[f.lits.length - 1] as (typeof f.lits)[number];
      const concl = this.outExpr(last.slot, last.values, bind);
      if (f.lits.length === 1) return concl;
      const hyps = f.lits.slice(0, -1).map((l) => this.inExpr(l.slot, l.values, bind));
      return implies(hyps.length === 1 ? (hyps[0] as Expr) : and(...hyps), concl);
    }
    if (f.kind === 'cube') {
      const ls = f.lits.map((l) => this.litExpr(l, bind));
      if (ls.length === 1) return this.negLit(f.lits[0] as SlotLit, bind);
      const last = f.lits[f.lits.length - 1] as SlotLit;
      return implies(ls.length === 2 ? (ls[0] as Expr) : and(...ls.slice(0, -1)), this.negLit(last, bind));
    }
    const side = (j: number, other: number): Operand => {
      const t = (this.addr[j] as SlotAddress).type;
      const o = (this.addr[other] as SlotAddress).type;
      return o.kind === 'option' && t.kind !== 'option' ? some(this.ref(j, bind), o) : this.ref(j, bind);
    };
    const e = f.kind === 'eq' ? eq(side(f.a, f.b), side(f.b, f.a)) : ne(side(f.a, f.b), side(f.b, f.a));
    return f.when ? implies(this.litExpr(f.when, bind), e) : e;
  }

  negLit(l: SlotLit, bind: Binding): Expr {
    return this.outExpr(l.slot, [l.value], bind);
  }
}

/**
 * `every slot of lits holds one of its values` (and, with `same`, the two slots are equal), written
 * as the language writes it; for invariants found by other means than facts (spacer.ts).
 */
export function exprOfLits(model: Model, lits: readonly SetLit[], same?: readonly [number, number]): Expr {
  const p = new FactPrinter(model);
  const parts = lits.map((l) => p.inExpr(l.slot, l.values, new Map()));
  if (same) {
    const [a, b] = same;
    parts.push(p.factExpr({ kind: 'eq', when: null, a, b }, new Map()));
  }
  return parts.length === 1 ? (parts[0] as Expr) : and(...parts);
}

/** The literals a fact mentions (its cube, or its condition). */
function factLits(f: Fact): readonly SlotLit[] {
  if (f.kind === 'sets') return [];
  return f.kind === 'cube' ? f.lits : f.when ? [f.when] : [];
}

function factKey(f: Fact): string {
  if (f.kind === 'sets')
    return `s:${[...f.lits]
      .sort((a, b) => a.slot - b.slot)
      .map((l) => `${l.slot}=${l.values.join('|')}`)
      .join(',')}`;
  if (f.kind === 'cube')
    return `c:${[...f.lits]
      .sort((a, b) => a.slot - b.slot || a.value - b.value)
      .map((l) => `${l.slot}=${l.value}`)
      .join(',')}`;
  const [a, b] = f.a < f.b ? [f.a, f.b] : [f.b, f.a];
  return `${f.kind}:${f.when ? `${f.when.slot}=${f.when.value}` : ''}:${a}:${b}`;
}

/** Every injective map from `from` into 0..size-1. */
function injections(from: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  const go = (i: number, acc: number[]) => {
    if (i === from.length) {
      out.push([...acc]);
      return;
    }
    for (let v = 0; v < size; v++) {
      if (acc.includes(v)) continue;
      acc.push(v);
      go(i + 1, acc);
      acc.pop();
    }
  };
  go(0, []);
  return out;
}

/**
 * Prints `facts` (each true in every reachable state of `model`) as conjuncts of the modelling
 * language. Every fact is covered by exactly one conjunct, and every conjunct is the conjunction of
 * the facts it covers.
 */
export function printFacts(model: Model, facts: readonly Fact[]): PrintedFact[] {
  const p = new FactPrinter(model);
  const keys = new Map<string, Fact>();
  for (const f of facts) keys.set(factKey(f), f);
  const done = new Set<string>();
  const out: PrintedFact[] = [];
  const types = new Map(model.indexes.map((ix) => [ix.name, ix]));
  for (const f of facts) {
    const key = factKey(f);
    if (done.has(key)) continue;
    const consts = p.constants(f);
    // Try to quantify over every index type the fact mentions (a type of size 1 gains nothing).
    const names = [...consts.keys()].filter((n) => (types.get(n)?.size ?? 1) > 1);
    let family: Fact[] | null = null;
    let bindNames: string[] = [];
    for (const choice of [names, ...names.map((n) => [n])]) {
      if (choice.length === 0) continue;
      const members: Fact[] = [];
      const memberKeys = new Set<string>();
      let complete = true;
      const per = choice.map((n) => {
        const vals = [...(consts.get(n) as Set<number>)].sort((a, b) => a - b);
        return { n, vals, maps: injections(vals, (types.get(n) as IndexType).size) };
      });
      const combos = per.reduce<number[][][]>((acc, x) => acc.flatMap((a) => x.maps.map((m) => [...a, m])), [[]]);
      for (const combo of combos) {
        const r = new Map<string, number[]>();
        per.forEach((x, i) => {
          const size = (types.get(x.n) as IndexType).size;
          const perm = Array.from({ length: size }, (_, v) => v);
          x.vals.forEach((v, k) => {
            perm[v] = (combo[i] as number[])[k] as number;
          });
          r.set(x.n, perm);
        });
        const img = p.rename(f, r);
        const k = factKey(img);
        const have = keys.get(k);
        if (!have || done.has(k)) {
          complete = false;
          break;
        }
        // A renaming may map the fact to itself or to a member already met: each counts once.
        if (!memberKeys.has(k)) {
          memberKeys.add(k);
          members.push(have);
        }
      }
      if (complete && members.length > 1) {
        family = members;
        bindNames = choice;
        break;
      }
    }
    if (!family) {
      done.add(key);
      out.push(render(p, f, new Map(), [], 1));
      continue;
    }
    for (const m of family) done.add(factKey(m));
    const vars = bindNames.flatMap((n) => [...(consts.get(n) as Set<number>)].sort((a, b) => a - b).map((v) => ({ n, v })));
    out.push(render(p, f, new Map(), vars, family.length));
  }
  return out;
}

/** Builds the conjunct for `f` with `vars` (index values) replaced by distinct bound variables. */
function render(p: FactPrinter, f: Fact, _b: Binding, vars: readonly { n: string; v: number }[], covers: number): PrintedFact {
  const model = p.model;
  const build = (i: number, bind: Map<string, Map<number, Expr>>, bound: Expr[]): Expr => {
    if (i === vars.length) {
      const body = p.factExpr(f, bind);
      const distinct: Expr[] = [];
      for (let a = 0; a < bound.length; a++) {
        for (let b = a + 1; b < bound.length; b++)
          if ((bound[a] as { type: IndexType }).type.name === (bound[b] as { type: IndexType }).type.name)
            distinct.push(ne(bound[a] as Expr, bound[b] as Expr));
      }
      return distinct.length ? implies(distinct.length === 1 ? (distinct[0] as Expr) : and(...distinct), body) : body;
    }
    const { n, v } = vars[i] as { n: string; v: number };
    const ix = model.indexes.find((x) => x.name === n) as IndexType;
    return forall(ix, (x) => {
      const m = new Map([...bind].map(([k, mm]) => [k, new Map(mm)]));
      if (!m.has(n)) m.set(n, new Map());
      (m.get(n) as Map<number, Expr>).set(v, x);
      return build(i + 1, m, [...bound, x]);
    });
  };
  const expr = build(0, new Map(), []);
  return { expr, source: exprSource(expr), covers };
}

// --- Source text ------------------------------------------------------------------------------

/** Names bound variables as the model would: the index type's name in lower case, numbered when nested. */
function varName(e: Extract<Expr, { op: 'var' }>, names: Map<number, string>): string {
  const n = names.get(e.id);
  if (n) return n;
  return e.name;
}

/** Model source text of an expression (what a property or hints module would contain). */
export function exprSource(e: Expr, names: Map<number, string> = new Map()): string {
  const src = (x: Expr): string => exprSource(x, names);
  switch (e.op) {
    case 'lit': {
      const t = e.type;
      if (t.kind === 'bool') return e.value ? 'true' : 'false';
      if (t.kind === 'enum') return `'${t.values[e.value]}'`;
      if (t.kind === 'option') return e.value < 0 ? 'none' : String(e.value);
      return String(e.value);
    }
    case 'var':
      return varName(e, names);
    case 'read':
      return locSource(e.loc, names);
    case 'pre':
      return `pre(${src(e.e)})`;
    case 'not':
      return `not(${src(e.e)})`;
    case 'and':
    case 'or':
      return `${e.op}(${e.args.map(src).join(', ')})`;
    case 'implies':
      return `implies(${src(e.a)}, ${src(e.b)})`;
    case 'cmp': {
      if (e.cmp === 'eq' && e.b.op === 'lit' && e.b.type.kind === 'bool' && e.b.value === 1) return src(e.a);
      return `${e.cmp}(${src(e.a)}, ${src(e.b)})`;
    }
    case 'arith':
      return `${e.fn}(${src(e.a)}, ${src(e.b)})`;
    case 'ite':
      return `ite(${src(e.c)}, ${src(e.a)}, ${src(e.b)})`;
    case 'quant': {
      const base = e.index.name.toLowerCase().slice(0, 1);
      let n = base;
      const used = new Set(names.values());
      for (let i = 2; used.has(n); i++) n = `${base}${i}`;
      const inner = new Map(names);
      inner.set(e.id, n);
      return `${e.q}(${e.index.name}, (${n}) => ${exprSource(e.body, inner)})`;
    }
    case 'isSome':
      return `isSome(${src(e.e)})`;
    case 'unwrap':
      return `unwrap(${src(e.e)})`;
    case 'some': {
      return `some(${src(e.e)}, option(${typeSource(e.type.inner)}))`;
    }
    case 'ord':
      return `ord(${src(e.e)})`;
  }
}

/** Source text of a scalar type, as the model declares it. */
export function typeSource(t: ScalarType): string {
  switch (t.kind) {
    case 'bool':
      return 'bool';
    case 'enum':
      return `enumOf('${t.name}', [${t.values.map((v) => `'${v}'`).join(', ')}])`;
    case 'range':
      return `range(${t.lo}, ${t.hi})`;
    case 'index':
      return t.name;
    case 'option':
      return `option(${typeSource(t.inner)})`;
  }
}

function locSource(loc: Extract<Expr, { op: 'read' }>['loc'], names: Map<number, string>): string {
  return loc.varName + loc.path.map((s) => (s.kind === 'field' ? `.f('${s.name}')` : `.at(${exprSource(s.e, names)})`)).join('');
}
