/**
 * Compiles a model and its properties to JavaScript over flat Int32Array states. Why this module
 * exists: the explicit engine needs hundreds of thousands of successor computations a second, which
 * an AST interpreter cannot give. Index types are small, so quantifiers and forEach loops are
 * unrolled and most offsets fold to constants. The interpreter in model/lang/interp.ts stays the
 * reference semantics; tests check this compiler against it.
 */
import { ModelRuntimeError } from './errors.js';
import type { ArithOp, CmpOp, Expr, Loc } from './expr.js';
import { locShape } from './layout.js';
import type { Model, RuleDef } from './protocol.js';
import type { Stmt } from './stmt.js';
import { type ScalarType, type Type, cardinality, minValue, toCode } from './types.js';
import { type ExprOf, type ExprVisitor, type StmtVisitor, visitExpr, visitStmt } from './visit.js';

/** Called once per enabled rule instance with the successor in `t`; `stepFail` is a step property index or -1. */
export type EmitFn = (instance: number, stepFail: number) => void;

/** A predicate on one state (an invariant or a cover), as the property kinds of properties/ provide it. */
export interface StatePredicate {
  readonly kind: 'invariant' | 'cover';
  readonly pred: Expr;
}
/** A predicate on a step: plain reads see the post-state, `pre(...)` the pre-state; `rule` limits it to one rule. */
export interface StepPredicate {
  readonly kind: 'step';
  readonly rule: string | null;
  readonly pred: Expr;
}
/** Anything with a kind: the compiler picks out invariants, step predicates and covers and ignores the rest. */
export interface Kinded {
  readonly kind: string;
}

export interface CompiledModel<P extends Kinded = Kinded> {
  /**
   * Computes all successors of `s`, writing each into `t` before calling `emit`. Returns how many
   * were enabled. `t` holds a successor only during its `emit` (the slots its rule wrote are put
   * back from `s` afterwards), so `emit` copies what it keeps and must not write into `t`.
   */
  readonly expand: (s: Int32Array, t: Int32Array, emit: EmitFn) => number;
  /** Index (into `invariants`) of the first invariant `s` violates, or -1. */
  readonly firstViolated: (s: Int32Array) => number;
  /** One predicate per cover. */
  readonly covers: readonly ((s: Int32Array) => boolean)[];
  /** Whether `s` is a legal end state. */
  readonly isEnd: (s: Int32Array) => boolean;
  readonly invariants: readonly (P & StatePredicate)[];
  readonly steps: readonly (P & StepPredicate)[];
  readonly coverProps: readonly (P & StatePredicate)[];
  /** Packing of a state into 32-bit words. */
  readonly words: number;
  readonly pack: (s: Int32Array, w: Uint32Array, off: number) => void;
  readonly unpack: (w: Uint32Array, off: number, s: Int32Array) => void;
  /** Total bits of a packed state. */
  readonly bits: number;
  /** The generated source of `expand`, for debugging. */
  readonly source: string;
  /** All generated sources, to rebuild the functions in another thread (`loadCompiled`). */
  readonly sources: CompiledSources;
}

type Code = { readonly c: string; readonly bool: boolean };
type Ctx = {
  readonly vars: ReadonlyMap<number, string>;
  readonly cur: string;
  readonly pre: string | null;
  /** A rule body's writes, to undo once its successor is emitted (`expand` only; see `Undo`). */
  readonly undo?: Undo;
};

/**
 * The slots a rule body writes, so that `expand` can put them back from the state expanded once
 * the successor is emitted, instead of copying the whole state before each successor. A constant
 * offset is put back as it is; an offset computed at run time (it may read the successor being
 * built) is kept in a variable of its own at the write (`sites` names them), and put back from there.
 */
class Undo {
  readonly constants = new Set<number>();
  readonly sites: string[] = [];
  /** Site variables that start a run of more than one slot (a `reset` of a record or array), with the run's length. */
  readonly spans = new Map<string, number>();
  /** The offset expression to write at: the constant itself, or a new variable assigned the offset. */
  at(off: string, out: string[], ind: string): string {
    if (isConst(off)) {
      this.constants.add(Number(off));
      return off;
    }
    const v = `o${this.sites.length}`;
    this.sites.push(v);
    out.push(`${ind}${v} = ${off};`);
    return v;
  }
  /** Marks the `n` slots from the offset `at` returned (a constant or a site variable) as written. */
  range(at: string, n: number): void {
    if (isConst(at)) for (let i = 1; i < n; i++) this.constants.add(Number(at) + i);
    else if (n > 1) this.spans.set(at, n);
  }
  /** Declarations of the site variables (before the body) and the statements that undo the body (after `emit`). */
  code(t: string, s: string): { declare: string | null; restore: string[] } {
    const restore = [...this.constants].sort((a, b) => a - b).map((k) => `${t}[${k}] = ${s}[${k}];`);
    for (const v of this.sites) {
      const n = this.spans.get(v) ?? 1;
      for (let i = 0; i < n; i++) restore.push(`${t}[${v}${i ? ` + ${i}` : ''}] = ${s}[${v}${i ? ` + ${i}` : ''}];`);
    }
    return { declare: this.sites.length ? `let ${this.sites.map((v) => `${v} = 0`).join(', ')};` : null, restore };
  }
}

const num = (x: Code): string => (x.bool ? `(${x.c} ? 1 : 0)` : x.c);
const boo = (x: Code): string => (x.bool ? x.c : `(${x.c} !== 0)`);

const CMP_JS: Readonly<Record<CmpOp, string>> = { eq: '===', ne: '!==', lt: '<', le: '<=', gt: '>', ge: '>=' };
const ARITH_JS: Readonly<Record<ArithOp, string>> = { add: '+', sub: '-', mul: '*' };
const isConst = (c: string) => /^-?\d+$/.test(c);

/** Generates JavaScript source for expressions and statements of one model. */
class Gen {
  private readonly model: Model;
  constructor(model: Model) {
    this.model = model;
  }

  /** The slot offset of a location: a number when constant, else a JS expression. */
  offset(loc: Loc, ctx: Ctx): string {
    const shape = locShape(this.model.layout, loc);
    let k = shape.base;
    const dyn: string[] = [];
    for (const ix of shape.indexes) {
      const c = this.expr(ix.e, ctx);
      if (isConst(c.c)) k += Number(c.c) * ix.stride;
      else dyn.push(ix.stride === 1 ? `(${num(c)})` : `(${num(c)}) * ${ix.stride}`);
    }
    return dyn.length === 0 ? String(k) : `${k} + ${dyn.join(' + ')}`;
  }

  /** Unrolls a quantifier: one copy of the body per index value. */
  private quant(e: ExprOf<'quant'>, ctx: Ctx): Code {
    const parts: Code[] = [];
    for (let i = 0; i < e.index.size; i++) {
      const vars = new Map(ctx.vars);
      vars.set(e.id, String(i));
      parts.push(this.expr(e.body, { ...ctx, vars }));
    }
    if (e.q === 'forall') return { c: `(${parts.map(boo).join(' && ')})`, bool: true };
    if (e.q === 'exists') return { c: `(${parts.map(boo).join(' || ')})`, bool: true };
    return { c: `(${parts.map(num).join(' + ')})`, bool: false };
  }

  private readonly exprs: ExprVisitor<Code, Ctx> = {
    lit: (e) => ({ c: String(e.value), bool: false }),
    var: (e, ctx) => {
      const v = ctx.vars.get(e.id);
      if (v === undefined) throw new Error(`unbound variable ${e.name}`);
      return { c: v, bool: false };
    },
    read: (e, ctx) => ({ c: `${ctx.cur}[${this.offset(e.loc, ctx)}]`, bool: false }),
    pre: (e, ctx) => {
      if (!ctx.pre) throw new Error('pre() outside a step');
      return this.expr(e.e, { ...ctx, cur: ctx.pre, pre: null });
    },
    not: (e, ctx) => ({ c: `!${boo(this.expr(e.e, ctx))}`, bool: true }),
    and: (e, ctx) => ({ c: `(${e.args.map((a) => boo(this.expr(a, ctx))).join(' && ')})`, bool: true }),
    or: (e, ctx) => ({ c: `(${e.args.map((a) => boo(this.expr(a, ctx))).join(' || ')})`, bool: true }),
    implies: (e, ctx) => ({ c: `(!${boo(this.expr(e.a, ctx))} || ${boo(this.expr(e.b, ctx))})`, bool: true }),
    cmp: (e, ctx) => ({ c: `(${num(this.expr(e.a, ctx))} ${CMP_JS[e.cmp]} ${num(this.expr(e.b, ctx))})`, bool: true }),
    arith: (e, ctx) => ({ c: `(${num(this.expr(e.a, ctx))} ${ARITH_JS[e.fn]} ${num(this.expr(e.b, ctx))})`, bool: false }),
    ite: (e, ctx) => {
      const a = this.expr(e.a, ctx);
      const b = this.expr(e.b, ctx);
      if (a.bool && b.bool) return { c: `(${boo(this.expr(e.c, ctx))} ? ${a.c} : ${b.c})`, bool: true };
      return { c: `(${boo(this.expr(e.c, ctx))} ? ${num(a)} : ${num(b)})`, bool: false };
    },
    quant: (e, ctx) => this.quant(e, ctx),
    isSome: (e, ctx) => ({ c: `(${num(this.expr(e.e, ctx))} >= 0)`, bool: true }),
    unwrap: (e, ctx) => ({ c: `U(${num(this.expr(e.e, ctx))})`, bool: false }),
    some: (e, ctx) => this.expr(e.e, ctx),
    ord: (e, ctx) => this.expr(e.e, ctx),
  };

  expr(e: Expr, ctx: Ctx): Code {
    return visitExpr(this.exprs, e, ctx);
  }

  private readonly stmtGen: StmtVisitor<void, { ctx: Ctx; out: string[]; ind: string }> = {
    assign: (st, { ctx, out, ind }) => {
      const off = ctx.undo ? ctx.undo.at(this.offset(st.loc, ctx), out, ind) : this.offset(st.loc, ctx);
      const t = st.loc.type as ScalarType;
      const v = this.expr(st.e, ctx);
      const same = st.e.type === t || (st.e.type.kind === t.kind && t.kind !== 'range' && t.kind !== 'option');
      if (isConst(v.c) || same || v.bool) {
        out.push(`${ind}${ctx.cur}[${off}] = ${num(v)};`);
      } else {
        const lo = minValue(t);
        const hi = lo + cardinality(t) - 1;
        out.push(`${ind}{ const v = ${num(v)}; if (v < ${lo} || v > ${hi}) R(v, ${off}); ${ctx.cur}[${off}] = v; }`);
      }
    },
    reset: (st, { ctx, out, ind }) => {
      const defaults = this.defaults(st.loc.type);
      const off = ctx.undo ? ctx.undo.at(this.offset(st.loc, ctx), out, ind) : this.offset(st.loc, ctx);
      ctx.undo?.range(off, defaults.length);
      for (let i = 0; i < defaults.length; i++) out.push(`${ind}${ctx.cur}[${off} + ${i}] = ${defaults[i]};`);
    },
    if: (st, { ctx, out, ind }) => {
      out.push(`${ind}if (${boo(this.expr(st.c, ctx))}) {`);
      this.stmts(st.thenBody, ctx, out, `${ind}  `);
      if (st.elseBody.length) {
        out.push(`${ind}} else {`);
        this.stmts(st.elseBody, ctx, out, `${ind}  `);
      }
      out.push(`${ind}}`);
    },
    forEach: (st, { ctx, out, ind }) => {
      for (let i = 0; i < st.index.size; i++) {
        const vars = new Map(ctx.vars);
        vars.set(st.id, String(i));
        this.stmts(st.body, { ...ctx, vars }, out, ind);
      }
    },
  };

  stmts(ss: readonly Stmt[], ctx: Ctx, out: string[], ind: string): void {
    for (const st of ss) visitStmt(this.stmtGen, st, { ctx, out, ind });
  }

  defaults(t: Type): number[] {
    const out: number[] = [];
    const walk = (x: Type) => {
      if (x.kind === 'record') for (const ft of Object.values(x.fields)) walk(ft);
      else if (x.kind === 'array') for (let i = 0; i < x.index.size; i++) walk(x.elem);
      else out.push(minValue(x));
    };
    walk(t);
    return out;
  }
}

function bitsFor(t: ScalarType): number {
  const c = cardinality(t);
  return c <= 1 ? 0 : Math.ceil(Math.log2(c));
}

/**
 * Where each slot of a state lies in its packed form: slots are laid into 32-bit words in order
 * from the low bits, none straddling two words, each as its value plus `bias` in `bits` bits (a
 * slot of one value takes none: `word` -1). `packCode` generates the packing from this, and the
 * symmetry reduction rewrites single slots of a packed state with it.
 */
export interface SlotPlacement {
  readonly words: number;
  readonly word: Int32Array;
  readonly shift: Int32Array;
  readonly bits: Int32Array;
  /** `bits` low bits set (all 32 for a slot of 32 bits). */
  readonly mask: Uint32Array;
  readonly bias: Int32Array;
}

/** The placement of the slots of types `types` (see `SlotPlacement`). */
export function slotPlacement(types: readonly ScalarType[]): SlotPlacement {
  const n = types.length;
  const p = { word: new Int32Array(n), shift: new Int32Array(n), bits: new Int32Array(n), mask: new Uint32Array(n), bias: new Int32Array(n) };
  let word = 0;
  let used = 0;
  types.forEach((t, i) => {
    const b = bitsFor(t);
    p.bits[i] = b;
    p.mask[i] = 2 ** b - 1;
    p.bias[i] = toCode(t, 0); // code = natural + bias
    if (b === 0) {
      p.word[i] = -1;
      return;
    }
    if (used + b > 32) {
      word++;
      used = 0;
    }
    p.word[i] = word;
    p.shift[i] = used;
    used += b;
  });
  return { words: word + 1, ...p };
}

/** Generates pack/unpack code from the slots' placement (`slotPlacement`). */
function packCode(model: Model): { words: number; bits: number; pack: string[]; unpack: string[] } {
  const types = model.layout.slotTypes;
  const place = slotPlacement(types);
  const pack: string[] = [];
  const unpack: string[] = [];
  const parts: string[][] = Array.from({ length: place.words }, () => []);
  let bits = 0;
  types.forEach((t, i) => {
    const b = place.bits[i] as number;
    bits += b;
    if (b === 0) {
      unpack.push(`s[${i}] = ${minValue(t)};`);
      return;
    }
    const bias = place.bias[i] as number;
    const word = place.word[i] as number;
    const used = place.shift[i] as number;
    const codeExpr = bias === 0 ? `s[${i}]` : `(s[${i}] + ${bias})`;
    (parts[word] as string[]).push(used === 0 ? codeExpr : `(${codeExpr} << ${used})`);
    const mask = `0x${(place.mask[i] as number).toString(16)}`;
    const field = used === 0 ? `w[off + ${word}]` : `(w[off + ${word}] >>> ${used})`;
    unpack.push(`s[${i}] = (${field} & ${mask})${bias === 0 ? '' : ` - ${bias}`};`);
  });
  parts.forEach((ps, word) => {
    pack.push(`w[off + ${word}] = ${ps.length ? ps.join(' | ') : '0'};`);
  });
  return { words: place.words, bits, pack, unpack };
}

/** Compiles the model's rules, start-state-independent predicates and packing. */
export function compileModel<P extends Kinded>(model: Model, properties: readonly P[]): CompiledModel<P> {
  const g = new Gen(model);
  const invariants = properties.filter((p) => p.kind === 'invariant') as (P & StatePredicate)[];
  const steps = properties.filter((p) => p.kind === 'step') as (P & StepPredicate)[];
  const coverProps = properties.filter((p) => p.kind === 'cover') as (P & StatePredicate)[];
  const lines: string[] = ['let n = 0;', 't.set(s);'];
  let base = 0;
  model.rules.forEach((r: RuleDef) => {
    const vars = new Map<number, string>();
    const names = r.params.map((_, i) => `a${i}`);
    r.params.forEach((p, i) => {
      vars.set((p.v as { id: number }).id, names[i] as string);
    });
    const gctx: Ctx = { vars, cur: 's', pre: null };
    const bctx: Ctx = { vars, cur: 't', pre: 's' };
    let ind = '';
    let idExpr = String(base);
    let stride = 1;
    const sizes = r.params.map((p) => p.index.size);
    for (let i = r.params.length - 1; i >= 0; i--) {
      idExpr += ` + a${i}${stride === 1 ? '' : ` * ${stride}`}`;
      stride *= sizes[i] as number;
    }
    r.params.forEach((p, i) => {
      lines.push(`${ind}for (let a${i} = 0; a${i} < ${p.index.size}; a${i}++) {`);
      ind += '  ';
    });
    lines.push(`${ind}if (${boo(g.expr(r.guard, gctx))}) {`);
    // t equals s here: the state is copied once, and each body's writes are undone after its emit.
    const undo = new Undo();
    const body: string[] = [];
    g.stmts(r.body, { ...bctx, undo }, body, `${ind}  `);
    const { declare, restore } = undo.code('t', 's');
    if (declare) lines.push(`${ind}  ${declare}`);
    lines.push(...body);
    const mine = steps.map((p, i) => ({ p, i })).filter(({ p }) => p.kind === 'step' && (p.rule === null || p.rule === r.name));
    lines.push(`${ind}  let f = -1;`);
    for (const { p, i } of mine) lines.push(`${ind}  if (f < 0 && !${boo(g.expr(p.pred, bctx))}) f = ${i};`);
    lines.push(`${ind}  n++; emit(${idExpr}, f);`);
    for (const line of restore) lines.push(`${ind}  ${line}`);
    lines.push(`${ind}}`);
    for (let i = 0; i < r.params.length; i++) {
      ind = ind.slice(2);
      lines.push(`${ind}}`);
    }
    base += stride;
  });
  lines.push('return n;');
  const sctx: Ctx = { vars: new Map(), cur: 's', pre: null };
  const invLines = invariants.map((p, i) => `if (!${boo(g.expr(p.pred, sctx))}) return ${i};`);
  invLines.push('return -1;');
  const coverSrc = coverProps.map((p) => `return ${boo(g.expr(p.pred, sctx))};`);
  const endSrc = model.endState ? `return ${boo(g.expr(model.endState, sctx))};` : 'return false;';
  const pk = packCode(model);
  const sources: CompiledSources = {
    expand: lines.join('\n'),
    firstViolated: invLines.join('\n'),
    covers: coverSrc,
    isEnd: endSrc,
    pack: pk.pack.join('\n'),
    unpack: pk.unpack.join('\n'),
    words: pk.words,
    bits: pk.bits,
  };
  return { ...loadCompiled(sources, model.layout.slotNames), invariants, steps, coverProps };
}

/**
 * The generated JavaScript of a compiled model, as plain strings: what another thread needs to
 * rebuild the same functions (`loadCompiled`) without the model's syntax tree.
 */
export interface CompiledSources {
  readonly expand: string;
  readonly firstViolated: string;
  readonly covers: readonly string[];
  readonly isEnd: string;
  readonly pack: string;
  readonly unpack: string;
  readonly words: number;
  readonly bits: number;
}

/** The functions of a compiled model, rebuilt from its sources (in this thread or another). */
export type LoadedModel = Omit<CompiledModel, 'invariants' | 'steps' | 'coverProps'> & { readonly sources: CompiledSources };

/** Rebuilds the functions of a compiled model from its sources; `slotNames` name slots in model errors. */
export function loadCompiled(sources: CompiledSources, slotNames: readonly string[]): LoadedModel {
  const U = (v: number) => {
    if (v < 0) throw new ModelRuntimeError('?', 'unwrap of none');
    return v;
  };
  const R = (v: number, off: number) => {
    throw new ModelRuntimeError('?', `value ${v} out of range assigned to ${slotNames[off]}`);
  };
  // Each function is named after what it is, so that a CPU profile tells them apart.
  const mk = <T>(name: string, args: string[], body: string): T =>
    new Function('U', 'R', `return function ${name}(${args.join(', ')}) {\n${body}\n};`)(U, R) as T;
  return {
    expand: mk('expand', ['s', 't', 'emit'], sources.expand),
    firstViolated: mk('firstViolated', ['s'], sources.firstViolated),
    covers: sources.covers.map((c, i) => mk<(s: Int32Array) => boolean>(`cover${i}`, ['s'], c)),
    isEnd: mk('isEnd', ['s'], sources.isEnd),
    words: sources.words,
    bits: sources.bits,
    pack: mk('pack', ['s', 'w', 'off'], sources.pack),
    unpack: mk('unpack', ['w', 'off', 's'], sources.unpack),
    source: sources.expand,
    sources,
  };
}

/**
 * Compiles one boolean expression over a state (a liveness goal, for example) to a JavaScript
 * predicate. `bind` gives values to index variables the expression leaves free (the `each`
 * variable of a per-instance liveness property). Used by the liveness checker, which evaluates its
 * goals on every reachable state.
 */
export function compilePredicate(model: Model, e: Expr, bind: ReadonlyMap<number, number> = new Map()): (s: Int32Array) => boolean {
  const src = `return ${predicateSource(model, e, bind)};`;
  const U = (v: number) => {
    if (v < 0) throw new ModelRuntimeError('property', 'unwrap of none');
    return v;
  };
  return new Function('U', `return function (s) {\n${src}\n};`)(U) as (s: Int32Array) => boolean;
}

/**
 * The JavaScript source of a boolean expression over the state `s` (with `bind` giving values to
 * free index variables): what `compilePredicate` compiles. It may call `U` (unwrap of none), which
 * the caller defines. Used to compile many predicates into one function (the partial-order
 * reduction evaluates guard conjuncts of every rule instance).
 */
export function predicateSource(model: Model, e: Expr, bind: ReadonlyMap<number, number> = new Map()): string {
  const vars = new Map<number, string>();
  for (const [id, v] of bind) vars.set(id, String(v));
  return boo(new Gen(model).expr(e, { vars, cur: 's', pre: null }));
}
