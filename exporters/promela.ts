/**
 * Prints a built model and its properties as a Promela model for SPIN. Why this module exists: SPIN
 * is the other peer we compare the explicit engine with, on the same model, so the text is printed
 * from the model's data (types, rules, start states), never written by hand.
 *
 * Shape of the output: one `active proctype` whose body runs the start state in a `d_step`, then
 * loops over `do :: atomic { if :: d_step { guard -> body } ... fi; d_step { check_invariants() } } od`
 * with one `d_step` option per rule instance (parameters unrolled). States inside an atomic
 * sequence are not stored, so SPIN stores exactly our states plus one: the state before the
 * start-state `d_step` (all variables at their declared defaults, the process at its first
 * statement). With a single process, partial-order reduction changes nothing. SPIN's dead-variable
 * elimination (on by default) must be turned off with `spin -o2 -a` for the counts to compare: it
 * merges states that differ only in a variable nothing exported reads (odp-mirror's `dirty`, read
 * only by a cover, which is not exported, cost 18 % of its states). The invariant check
 * is printed once, after the choice, rather than in every option: that keeps pan.c small (gcc -O2
 * took 10 s instead of 3 s with a copy per option) and pan faster. SPIN's search depth counts the
 * steps inside the atomic sequence: one rule is `PROMELA_DEPTH_PER_STEP` levels of depth.
 *
 * Encoding choices:
 * - every scalar is its natural value (bool 0/1, enum ordinal via `#define`, range value, index
 *   ordinal, option -1 for none), stored in the narrowest of bool/byte/short/int; records are
 *   typedefs, arrays of arrays are wrapped in a typedef with one field `e`;
 * - quantifiers and `forEach` loops are unrolled (index types are small and Promela has neither);
 * - invariants are asserted at the end of every step (and after the start state) through the inline
 *   `check_invariants()`; each assertion goes through a `hidden byte` named after the property, so
 *   that pan's "assertion violated inv_mirror_coherent" names it; step properties are asserted at
 *   the end of the rule they concern, reading `pre(...)` values from hidden copies made before the body;
 * - model errors are assertions too: an `unwrap` of none (the expression's definedness is asserted
 *   before it is evaluated, following the short-circuit order of our semantics) and a value out of
 *   its range (asserted before the store, only where the bounds of the expression may exceed them);
 *   a guard that cannot be evaluated enables its option, which then fails its assertion;
 * - deadlock is pan's "invalid end state" (the `do` blocks). With a legal end state, the loop gets
 *   an `end` label and a no-deadlock assertion joins the invariants.
 * Covers and liveness properties are not exported (a plain safety run of pan has no cover report,
 * and SPIN's weak fairness is per process, not per rule). The hidden variables rule out pan's
 * breadth-first mode (`-DBFS` refuses them); for a shortest counterexample compile with `-DREACH`
 * and run `./pan -i`.
 */
import { McError } from '../model/lang/errors.js';
import type { ArithOp, CmpOp, Expr, Loc } from '../model/lang/expr.js';
import type { Model, RuleInstance } from '../model/lang/protocol.js';
import type { Stmt } from '../model/lang/stmt.js';
import { type EnumType, type ScalarType, type Type, isScalar, minValue } from '../model/lang/types.js';
import { type ExprVisitor, type StmtVisitor, locIndexExprs, varsReadInPre, visitExpr, visitStmt } from '../model/lang/visit.js';
import type { Property, StepProperty } from '../properties/property.js';

const CMP_PROMELA: Readonly<Record<CmpOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
const ARITH_PROMELA: Readonly<Record<ArithOp, string>> = { add: '+', sub: '-', mul: '*' };

/**
 * Levels of SPIN search depth per rule step (the option's d_step, the invariant check's d_step, the
 * jump back to the loop head): an error at SPIN depth d is on our step ceil(d / 3).
 */
export const PROMELA_DEPTH_PER_STEP = 3;

/** Options of the Promela printer. */
export interface PromelaOptions {
  /** Check for deadlocks (default true, as in a check job). */
  readonly deadlock?: boolean;
}

const KEYWORDS = new Set(
  (
    'active assert atomic bit bool break byte c_code c_decl c_expr c_state c_track chan d_step do else empty enabled ' +
    'eval false fi full goto hidden if in init inline int len local mtype nempty never nfull non_atomic np_ od of ' +
    'pc_value print printf printm priority proctype provided run select short show skip timeout trace true typedef ' +
    'unless unsigned xr xs for ltl always eventually until weak stronguntil implies equivalent now main'
  ).split(' '),
);

function ident(raw: string): string {
  let s = raw.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z]/.test(s)) s = `x${s}`;
  return KEYWORDS.has(s) ? `${s}_` : s;
}

class Namer {
  private readonly taken = new Set<string>();
  fresh(raw: string): string {
    const base = ident(raw);
    let s = base;
    for (let k = 2; this.taken.has(s); k++) s = `${base}_${k}`;
    this.taken.add(s);
    return s;
  }
}

/** Bound index variables have concrete values once unrolled; `pre` redirects reads to the copies. */
interface Scope {
  readonly bound: ReadonlyMap<number, number>;
  readonly pre: boolean;
}

type Bounds = readonly [number, number];

/** The natural values a scalar type holds. */
function scalarBounds(t: ScalarType): Bounds {
  switch (t.kind) {
    case 'bool':
      return [0, 1];
    case 'enum':
      return [0, t.values.length - 1];
    case 'range':
      return [t.lo, t.hi];
    case 'index':
      return [0, t.size - 1];
    case 'option':
      return [-1, scalarBounds(t.inner)[1]];
  }
}

const and2 = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : `(${a} && ${b})`);

class PromelaPrinter {
  private readonly names = new Namer();
  private readonly defines: string[] = [];
  private readonly enumConsts = new Map<string, string[]>();
  private readonly typedefs: string[] = [];
  private readonly typedefNames = new Map<string, string>();
  private readonly varNames: string[];
  private readonly preNames: string[];

  constructor(private readonly model: Model) {
    this.varNames = model.vars.map((v) => this.names.fresh(v.name));
    this.preNames = model.vars.map((v) => this.names.fresh(`pre_${v.name}`));
    for (const v of model.vars) this.declare(v.type, 'x', v.name);
  }

  // --- types and declarations ------------------------------------------------------------------

  private enumConst(t: EnumType, i: number): string {
    const k = `${t.name}:${t.values.join(',')}`;
    let c = this.enumConsts.get(k);
    if (c === undefined) {
      const prefix = ident(t.name);
      c = t.values.map((v) => this.names.fresh(`${prefix}_${v}`));
      this.enumConsts.set(k, c);
      c.forEach((n, j) => {
        this.defines.push(`#define ${n} ${j}`);
      });
    }
    return c[i] as string;
  }

  private scalarType(t: ScalarType): string {
    if (t.kind === 'bool') return 'bool';
    if (t.kind === 'option' && t.inner.kind === 'range' && t.inner.lo !== 0) {
      throw new McError(
        'MC010',
        `cannot export option(${t.inner.lo}..${t.inner.hi}): an option of a range is encoded as -1 (none) or the value, which needs lo = 0`,
      );
    }
    const [lo, hi] = scalarBounds(t);
    if (lo >= 0 && hi <= 255) return 'byte';
    if (lo >= -32768 && hi <= 32767) return 'short';
    return 'int';
  }

  /** A typedef for a record or for an array used as an element; returns its name. */
  private typedef(t: Type, hint: string): string {
    const key = JSON.stringify(t);
    let n = this.typedefNames.get(key);
    if (n === undefined) {
      const body =
        t.kind === 'record' ? Object.entries(t.fields).map(([f, ft]) => `  ${this.declare(ft, ident(f), f)}`) : [`  ${this.declare(t, 'e', `${hint}_row`)}`];
      n = this.names.fresh(hint.charAt(0).toUpperCase() + hint.slice(1));
      this.typedefNames.set(key, n);
      this.typedefs.push(`typedef ${n} {\n${body.join(';\n')}\n}`);
    }
    return n;
  }

  /** The declaration of `name` with type `t`, with its default as initialiser. */
  private declare(t: Type, name: string, hint: string): string {
    const scalar = (st: ScalarType, n: string) => {
      const d = minValue(st);
      return `${this.scalarType(st)} ${n}${d !== 0 ? ` = ${d}` : ''}`;
    };
    if (isScalar(t)) return scalar(t, name);
    if (t.kind === 'record') return `${this.typedef(t, hint)} ${name}`;
    const dim = `${name}[${t.index.size}]`;
    if (isScalar(t.elem)) return scalar(t.elem, dim);
    return `${this.typedef(t.elem, t.elem.kind === 'record' ? hint : `${hint}_row`)} ${dim}`;
  }

  /** Every scalar inside a value of type `t` at `at` (a Promela lvalue), with its type. */
  private scalarPaths(t: Type, at: string): [string, ScalarType][] {
    if (isScalar(t)) return [[at, t]];
    if (t.kind === 'record') return Object.entries(t.fields).flatMap(([f, ft]) => this.scalarPaths(ft, `${at}.${ident(f)}`));
    return Array.from({ length: t.index.size }, (_, i) => this.scalarPaths(t.elem, `${at}[${i}]${t.elem.kind === 'array' ? '.e' : ''}`)).flat();
  }

  // --- expressions -----------------------------------------------------------------------------

  private loc(l: Loc, sc: Scope): string {
    let s = (sc.pre ? this.preNames : this.varNames)[l.varIdx] as string;
    let t = (this.model.vars[l.varIdx] as { type: Type }).type;
    for (const p of l.path) {
      if (p.kind === 'field') {
        s += `.${ident(p.name)}`;
        t = (t as Extract<Type, { kind: 'record' }>).fields[p.name] as Type;
      } else {
        const elem = (t as Extract<Type, { kind: 'array' }>).elem;
        s += `[${this.expr(p.e, sc)}]${elem.kind === 'array' ? '.e' : ''}`;
        t = elem;
      }
    }
    return s;
  }

  private withVar(sc: Scope, id: number, v: number): Scope {
    const bound = new Map(sc.bound);
    bound.set(id, v);
    return { ...sc, bound };
  }

  private instances(e: Extract<Expr, { op: 'quant' }>, sc: Scope): Scope[] {
    return Array.from({ length: e.index.size }, (_, i) => this.withVar(sc, e.id, i));
  }

  private readonly exprs: ExprVisitor<string, Scope> = {
    lit: (e) => {
      if (e.type.kind === 'bool') return e.value ? 'true' : 'false';
      if (e.type.kind === 'enum') return this.enumConst(e.type, e.value);
      return e.value < 0 ? `(${e.value})` : String(e.value);
    },
    var: (e, sc) => {
      const v = sc.bound.get(e.id);
      if (v === undefined) throw new Error(`unbound variable ${e.name}`);
      return String(v);
    },
    read: (e, sc) => this.loc(e.loc, sc),
    pre: (e, sc) => this.expr(e.e, { ...sc, pre: true }),
    not: (e, sc) => `!(${this.expr(e.e, sc)})`,
    and: (e, sc) => (e.args.length === 0 ? 'true' : `(${e.args.map((a) => this.expr(a, sc)).join(' && ')})`),
    or: (e, sc) => (e.args.length === 0 ? 'false' : `(${e.args.map((a) => this.expr(a, sc)).join(' || ')})`),
    implies: (e, sc) => `(!(${this.expr(e.a, sc)}) || ${this.expr(e.b, sc)})`,
    cmp: (e, sc) => `(${this.expr(e.a, sc)} ${CMP_PROMELA[e.cmp]} ${this.expr(e.b, sc)})`,
    arith: (e, sc) => `(${this.expr(e.a, sc)} ${ARITH_PROMELA[e.fn]} ${this.expr(e.b, sc)})`,
    ite: (e, sc) => `(${this.expr(e.c, sc)} -> ${this.expr(e.a, sc)} : ${this.expr(e.b, sc)})`,
    quant: (e, sc) => {
      const parts = this.instances(e, sc).map((s) => this.expr(e.body, s));
      if (e.q === 'count') return `(${parts.map((p) => `(${p} -> 1 : 0)`).join(' + ')})`;
      return `(${parts.join(e.q === 'forall' ? ' && ' : ' || ')})`;
    },
    isSome: (e, sc) => `(${this.expr(e.e, sc)} != -1)`,
    unwrap: (e, sc) => this.expr(e.e, sc),
    some: (e, sc) => this.expr(e.e, sc),
    ord: (e, sc) => this.expr(e.e, sc),
  };

  expr(e: Expr, sc: Scope): string {
    return visitExpr(this.exprs, e, sc);
  }

  /**
   * The condition under which evaluating an expression raises no model error (an unwrap of none), in
   * the short-circuit order of the reference interpreter; null when it cannot fail.
   */
  private readonly definedness: ExprVisitor<string | null, Scope> = {
    lit: () => null,
    var: () => null,
    read: (e, sc) => locIndexExprs(e.loc).reduce<string | null>((d, x) => and2(d, this.defined(x, sc)), null),
    pre: (e, sc) => this.defined(e.e, { ...sc, pre: true }),
    not: (e, sc) => this.defined(e.e, sc),
    isSome: (e, sc) => this.defined(e.e, sc),
    some: (e, sc) => this.defined(e.e, sc),
    ord: (e, sc) => this.defined(e.e, sc),
    unwrap: (e, sc) => and2(this.defined(e.e, sc), `(${this.expr(e.e, sc)} != -1)`),
    and: (e, sc) =>
      this.chain(
        e.args.map((a) => [a, sc] as const),
        true,
      ),
    or: (e, sc) =>
      this.chain(
        e.args.map((a) => [a, sc] as const),
        false,
      ),
    implies: (e, sc) => {
      const da = this.defined(e.a, sc);
      const db = this.defined(e.b, sc);
      return db === null ? da : and2(da, `(!(${this.expr(e.a, sc)}) || ${db})`);
    },
    cmp: (e, sc) => and2(this.defined(e.a, sc), this.defined(e.b, sc)),
    arith: (e, sc) => and2(this.defined(e.a, sc), this.defined(e.b, sc)),
    ite: (e, sc) => {
      const da = this.defined(e.a, sc);
      const db = this.defined(e.b, sc);
      const branch = da === null && db === null ? null : `(${this.expr(e.c, sc)} -> ${da ?? 'true'} : ${db ?? 'true'})`;
      return and2(this.defined(e.c, sc), branch);
    },
    quant: (e, sc) => {
      const inst = this.instances(e, sc).map((s) => [e.body, s] as const);
      if (e.q === 'count') return inst.reduce<string | null>((d, [b, s]) => and2(d, this.defined(b, s)), null);
      return this.chain(inst, e.q === 'forall');
    },
  };

  defined(e: Expr, sc: Scope): string | null {
    return visitExpr(this.definedness, e, sc);
  }

  /** Definedness of a short-circuit chain: a later operand is evaluated only if the earlier ones did not decide. */
  private chain(items: readonly (readonly [Expr, Scope])[], isAnd: boolean): string | null {
    let acc: string | null = null;
    for (let i = items.length - 1; i >= 0; i--) {
      const [a, s] = items[i] as readonly [Expr, Scope];
      const da = this.defined(a, s);
      const rest = acc === null ? null : `(${isAnd ? `!(${this.expr(a, s)})` : this.expr(a, s)} || ${acc})`;
      acc = and2(da, rest);
    }
    return acc;
  }

  /** Bounds of the values an expression can take (to know when a store needs a range check). */
  private readonly valueBounds: ExprVisitor<Bounds, Scope> = {
    lit: (e) => [e.value, e.value],
    var: (e, sc) => {
      const v = sc.bound.get(e.id) as number;
      return [v, v];
    },
    read: (e) => scalarBounds(e.type),
    pre: (e, sc) => this.bounds(e.e, sc),
    some: (e, sc) => this.bounds(e.e, sc),
    unwrap: (e, sc) => {
      const [lo, hi] = this.bounds(e.e, sc);
      return [Math.max(0, lo), hi];
    },
    ord: (e) => [0, (e.e.type as { size: number }).size - 1],
    arith: (e, sc) => {
      const [al, ah] = this.bounds(e.a, sc);
      const [bl, bh] = this.bounds(e.b, sc);
      if (e.fn === 'add') return [al + bl, ah + bh];
      if (e.fn === 'sub') return [al - bh, ah - bl];
      const ps = [al * bl, al * bh, ah * bl, ah * bh];
      return [Math.min(...ps), Math.max(...ps)];
    },
    ite: (e, sc) => {
      const [al, ah] = this.bounds(e.a, sc);
      const [bl, bh] = this.bounds(e.b, sc);
      return [Math.min(al, bl), Math.max(ah, bh)];
    },
    quant: (e) => (e.q === 'count' ? [0, e.index.size] : [0, 1]),
    not: () => [0, 1],
    and: () => [0, 1],
    or: () => [0, 1],
    implies: () => [0, 1],
    cmp: () => [0, 1],
    isSome: () => [0, 1],
  };

  private bounds(e: Expr, sc: Scope): Bounds {
    return visitExpr(this.valueBounds, e, sc);
  }

  // --- statements ------------------------------------------------------------------------------

  private assertDefined(e: Expr, sc: Scope, out: string[], ind: string): void {
    const d = this.defined(e, sc);
    if (d !== null) out.push(`${ind}assert(${d});`);
  }

  private readonly stmtPrinter: StmtVisitor<string[], { sc: Scope; ind: string }> = {
    assign: (st, { sc, ind }) => {
      const out: string[] = [];
      for (const x of locIndexExprs(st.loc)) this.assertDefined(x, sc, out, ind);
      this.assertDefined(st.e, sc, out, ind);
      const target = this.loc(st.loc, sc);
      const value = this.expr(st.e, sc);
      const [lo, hi] = scalarBounds(st.loc.type as ScalarType);
      const [el, eh] = this.bounds(st.e, sc);
      if (el < lo || eh > hi) out.push(`${ind}assert(${lo} <= ${value} && ${value} <= ${hi});`);
      out.push(`${ind}${target} = ${value};`);
      return out;
    },
    reset: (st, { sc, ind }) => {
      const out: string[] = [];
      for (const x of locIndexExprs(st.loc)) this.assertDefined(x, sc, out, ind);
      for (const [at, t] of this.scalarPaths(st.loc.type, this.loc(st.loc, sc)))
        out.push(`${ind}${at} = ${this.expr({ op: 'lit', type: t, value: minValue(t) }, sc)};`);
      return out;
    },
    if: (st, { sc, ind }) => {
      const out: string[] = [];
      this.assertDefined(st.c, sc, out, ind);
      const branch = (b: readonly Stmt[]) => {
        const lines = this.stmts(b, sc, `${ind}   `);
        return lines.length ? lines : [`${ind}   skip;`];
      };
      out.push(`${ind}if`, `${ind}:: ${this.expr(st.c, sc)} ->`, ...branch(st.thenBody), `${ind}:: else ->`, ...branch(st.elseBody), `${ind}fi;`);
      return out;
    },
    forEach: (st, { sc, ind }) => Array.from({ length: st.index.size }, (_, i) => this.stmts(st.body, this.withVar(sc, st.id, i), ind)).flat(),
  };

  stmts(body: readonly Stmt[], sc: Scope, ind: string): string[] {
    return body.flatMap((st) => visitStmt(this.stmtPrinter, st, { sc, ind }));
  }

  /** `hidden byte flag; flag = (pred); assert(flag)`, so that pan names the property. */
  private namedAssert(flag: string, pred: Expr, sc: Scope, ind: string): string[] {
    const out: string[] = [];
    this.assertDefined(pred, sc, out, ind);
    out.push(`${ind}${flag} = ${this.expr(pred, sc)};`, `${ind}assert(${flag});`);
    return out;
  }

  // --- the whole model -------------------------------------------------------------------------

  print(properties: readonly Property[], opts: PromelaOptions): string {
    const m = this.model;
    const top: Scope = { bound: new Map(), pre: false };
    const flags: string[] = [];
    const flag = (prefix: string, name: string) => {
      const f = this.names.fresh(`${prefix}_${name}`);
      flags.push(f);
      return f;
    };

    // Invariants (and the deadlock check when the model has legal end states).
    const checks: string[] = [];
    for (const p of properties) {
      if (p.kind !== 'invariant') continue;
      checks.push(`  /* ${p.requirement}: ${p.doc} */`, ...this.namedAssert(flag('inv', p.name), p.pred, top, '  '));
    }
    const deadlock = opts.deadlock ?? true;
    if (deadlock && m.endState !== null) {
      const f = flag('no', 'deadlock');
      // A guard that cannot be evaluated counts as enabled: its option then reports the model error.
      const enabled = m.instances.map((inst) => {
        const sc = this.instanceScope(inst);
        const gd = this.defined(inst.rule.guard, sc);
        return gd === null ? this.expr(inst.rule.guard, sc) : `(!(${gd}) || ${this.expr(inst.rule.guard, sc)})`;
      });
      checks.push(
        '  /* no rule is enabled only in a legal end state */',
        `  ${f} = (${[this.expr(m.endState, top), ...enabled].join(' ||\n    ')});`,
        `  assert(${f});`,
      );
    }

    const steps = properties.filter((p): p is StepProperty => p.kind === 'step');
    const stepFlags = new Map(steps.map((p) => [p.name, flag('step', p.name)]));
    const options = m.instances.map((inst) =>
      this.option(
        inst,
        steps.filter((p) => p.rule === null || p.rule === inst.rule.name),
        stepFlags,
      ),
    );

    const initBlocks = m.inits.map((init) => [`d_step { /* start state ${init.name} */`, ...this.stmts(init.body, top, '  '), '  check_invariants()', '}']);
    const start =
      initBlocks.length === 1
        ? (initBlocks[0] as string[]).map((l) => `  ${l}`)
        : ['  if', ...initBlocks.flatMap((b) => [`  :: ${b[0]}`, ...b.slice(1).map((l) => `     ${l}`)]), '  fi'];
    start[start.length - 1] += ';';

    const skipped = properties
      .filter((p) => p.kind === 'cover' || p.kind === 'liveness')
      .map((p) => `/* ${p.kind} "${p.name}" (${p.requirement}) is not exported */`);
    const params = Object.entries(m.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const vars = m.vars.map((v, i) => `${this.declare(v.type, this.varNames[i] as string, v.name)};`);
    const pres = m.vars
      .map((v, i) => `hidden ${this.declare(v.type, this.preNames[i] as string, v.name)};`)
      .filter((_, i) => steps.some((p) => varsReadInPre(p.pred).has(i)));
    const proc = this.names.fresh(m.protocol);
    return [
      `/* ${m.protocol}${m.variant ? ` variant ${m.variant}` : ''} (${params}), printed by mirrorcheck from the model.`,
      '   Check: spin -o2 -a model.pml && gcc -O2 -DSAFETY -DMEMLIM=8000 -o pan pan.c && ./pan -m10000000',
      '   SPIN stores one state more than mirrorcheck (the one before the start-state d_step);',
      '   -o2 keeps SPIN from merging states that differ only in variables no exported property reads. */',
      '',
      ...this.defines,
      '',
      ...this.typedefs.map((t) => `${t};`),
      '',
      ...vars,
      '',
      '/* pre-state copies for step properties, and property flags: hidden, not part of the state */',
      ...pres,
      ...flags.map((f) => `hidden byte ${f};`),
      '',
      'inline check_invariants() {',
      ...(checks.length ? checks : ['  skip']),
      '}',
      '',
      ...skipped,
      '',
      `active proctype ${proc}() {`,
      ...start,
      deadlock && m.endState === null ? '' : 'end_loop:',
      '  do',
      '  :: atomic {',
      '     if',
      ...options.flat(),
      '     fi;',
      '     d_step { check_invariants() }',
      '     }',
      '  od',
      '}',
      '',
    ].join('\n');
  }

  private instanceScope(inst: RuleInstance): Scope {
    const bound = new Map<number, number>();
    inst.rule.params.forEach((p, i) => {
      bound.set((p.v as { id: number }).id, inst.args[i] as number);
    });
    return { bound, pre: false };
  }

  private option(inst: RuleInstance, steps: readonly StepProperty[], stepFlags: ReadonlyMap<string, string>): string[] {
    const sc = this.instanceScope(inst);
    const ind = '          ';
    const g = this.expr(inst.rule.guard, sc);
    const gd = this.defined(inst.rule.guard, sc);
    const out = [`     :: d_step { /* ${inst.label} */`];
    // A guard that cannot be evaluated enables the option, which then fails: a model error, as ours.
    if (gd === null) out.push(`${ind}${g} ->`);
    else out.push(`${ind}(!(${gd}) || ${g}) ->`, `${ind}assert(${gd});`);
    const preVars = new Set<number>();
    for (const p of steps) varsReadInPre(p.pred, false, preVars);
    for (const v of [...preVars].sort((a, b) => a - b)) {
      const t = (this.model.vars[v] as { type: Type }).type;
      const src = this.scalarPaths(t, this.varNames[v] as string);
      const dst = this.scalarPaths(t, this.preNames[v] as string);
      src.forEach(([s], i) => {
        out.push(`${ind}${(dst[i] as [string, ScalarType])[0]} = ${s};`);
      });
    }
    out.push(...this.stmts(inst.rule.body, sc, ind));
    for (const p of steps) out.push(`${ind}/* ${p.requirement}: ${p.doc} */`, ...this.namedAssert(stepFlags.get(p.name) as string, p.pred, sc, ind));
    const head = gd === null ? 2 : 3;
    if (out.length === head) out.push(`${ind}skip`);
    out[out.length - 1] = (out[out.length - 1] as string).replace(/;$/, '');
    out.push('        }');
    return out;
  }
}

/**
 * Prints `model` with its invariants and step properties as a Promela model for SPIN.
 *
 * @example
 * ```ts
 * const model = buildModel(fenceMigrate, { params: { pages: 3 } });
 * writeFileSync('fm.pml', toPromela(model, fenceMigrateProperties.build(model)));
 * // spin -o2 -a fm.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m10000000
 * ```
 */
export function toPromela(model: Model, properties: readonly Property[], opts: PromelaOptions = {}): string {
  return new PromelaPrinter(model).print(properties, opts);
}
