/**
 * Prints a built model and its properties as a Murphi model for Rumur. Why this module exists: the
 * peers (Rumur here, SPIN in promela.ts) must check the very model our engines check, so the text is
 * printed from the model's data (types, rules, start states), never written by hand or patched as
 * strings. The acid test is that Rumur reaches exactly as many states as the explicit engine.
 *
 * Encoding choices, each keeping Rumur's state count equal to ours:
 * - index types print as subranges `0..n-1`; with the `symmetry` option, those marked symmetric
 *   print as scalarsets and Rumur runs with `--symmetry-reduction exhaustive`, which, like our
 *   engine's symmetry reduction, stores exactly one state per class of permuted states (Rumur's
 *   default heuristic may store several). An option of a symmetric index is refused then: its
 *   -1 for none is no value of a scalarset;
 * - enums print as Murphi enums with the values prefixed by the type (`MigStep_idle`), since two
 *   enums of one model may share a value name;
 * - an option of an index or of a range `0..hi` prints as the subrange `-1..hi`, -1 meaning none:
 *   exactly our natural values, so states correspond one to one. An option of an enum or bool
 *   prints as a record `{ isSome; val }` whose `val` is kept at its first value while none, so that
 *   again one of our states is one Murphi state;
 * - `unwrap` calls a function that raises a Murphi `error` on none, as our engines raise a model
 *   error; an out-of-range assignment is a run-time error in Rumur as in ours;
 * - a step property becomes an `assert` at the end of the rule it concerns (every rule when it
 *   names none); the variables it reads through `pre(...)` are copied into rule locals first;
 * - deadlock: without a legal end state, run Rumur with `--deadlock-detection stuck` (no rule
 *   enabled, our definition; Rumur's default also flags states whose rules all loop); with an end
 *   state the check is printed as an invariant and Rumur's own check is turned off.
 *   `rumurFlags` returns the flags to use.
 * Liveness properties are not exported: Rumur's `liveness` (AG EF) is not our fair leads-to.
 */
import { McError } from '../model/lang/errors.js';
import type { ArithOp, CmpOp, Expr, Loc } from '../model/lang/expr.js';
import type { Model, RuleDef } from '../model/lang/protocol.js';
import type { Stmt } from '../model/lang/stmt.js';
import type { EnumType, IndexType, OptionType, ScalarType, Type } from '../model/lang/types.js';
import { type ExprOf, type ExprVisitor, type StmtVisitor, varsReadInPre, visitExpr, visitStmt } from '../model/lang/visit.js';
import type { Property, StepProperty } from '../properties/property.js';

/** Options of the Murphi printer. */
export interface MurphiOptions {
  /** Check for deadlocks (default true, as in a check job). */
  readonly deadlock?: boolean;
  /** Print symmetric index types as scalarsets, for a run with symmetry reduction (default false). */
  readonly symmetry?: boolean;
}

// Keywords of Murphi and Rumur; identifiers are case-sensitive, keywords are not.
const KEYWORDS = new Set(
  (
    'alias array assert assume begin boolean by case clear const cover do else elsif end endalias endexists endfor ' +
    'endforall endfunction endif endprocedure endrecord endrule endruleset endstartstate endswitch endwhile enum error ' +
    'exists false for forall function if in interleaved invariant isundefined liveness of procedure process program ' +
    'put record return rule ruleset scalarset startstate switch then to traceuntil true type union undefine var while ' +
    'ismember multiset multisetadd multisetcount multisetremove multisetremovepred choose property real log'
  ).split(' '),
);

/** Turns any string into a Murphi identifier that is not a keyword. */
function ident(raw: string): string {
  let s = raw.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z]/.test(s)) s = `x${s}`;
  return KEYWORDS.has(s.toLowerCase()) ? `${s}_` : s;
}

/** Hands out global identifiers without clashes. */
class Namer {
  private readonly taken = new Set<string>();
  fresh(raw: string): string {
    const base = ident(raw);
    let s = base;
    for (let k = 2; this.taken.has(s); k++) s = `${base}_${k}`;
    this.taken.add(s);
    return s;
  }
  has(s: string): boolean {
    return this.taken.has(s);
  }
}

/** How expressions are printed: names of bound variables, and where plain reads go. */
interface Scope {
  readonly bound: ReadonlyMap<number, string>;
  /** Inside `pre(...)`: reads go to the rule's pre-state copies. */
  readonly pre: boolean;
  readonly preLocals: ReadonlyMap<number, string>;
  /** Names in use by enclosing binders (to avoid shadowing). */
  readonly used: ReadonlySet<string>;
}

const isRecordOption = (t: Type | { kind: 'int' }): t is OptionType => t.kind === 'option' && (t.inner.kind === 'enum' || t.inner.kind === 'bool');

const CMP_MURPHI: Readonly<Record<CmpOp, string>> = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
const ARITH_MURPHI: Readonly<Record<ArithOp, string>> = { add: '+', sub: '-', mul: '*' };
const notAnOption = (e: Expr): never => {
  throw new Error(`unexpected option expression ${e.op}`);
};

const enumKey = (t: EnumType) => `${t.name}:${t.values.join(',')}`;

class MurphiPrinter {
  private readonly names = new Namer();
  private readonly indexNames = new Map<string, string>();
  private readonly enumNames = new Map<string, { name: string; consts: string[] }>();
  private readonly varNames: string[] = [];
  private readonly typeDecls: string[] = [];
  private readonly funcDecls: string[] = [];
  private readonly optTypes = new Map<string, string>();
  private readonly unwrapFns = new Map<string, string>();
  private readonly mkOptFns = new Map<string, string>();

  constructor(
    private readonly model: Model,
    private readonly symmetry: boolean,
  ) {
    for (const idx of model.indexes) this.indexType(idx);
    for (const v of model.vars) this.declareTypes(v.type);
    for (const v of model.vars) this.varNames.push(this.names.fresh(v.name));
  }

  // --- types -----------------------------------------------------------------------------------

  private indexType(t: IndexType): string {
    let n = this.indexNames.get(t.name);
    if (n === undefined) {
      n = this.names.fresh(t.name);
      this.indexNames.set(t.name, n);
      if (t.symmetric && this.symmetry) this.typeDecls.push(`  ${n}: scalarset(${t.size});`);
      else {
        const note = t.symmetric ? ' -- symmetric in the model; printed as a subrange, without symmetry reduction' : '';
        this.typeDecls.push(`  ${n}: 0..${t.size - 1};${note}`);
      }
    }
    return n;
  }

  private enumType(t: EnumType): { name: string; consts: string[] } {
    const k = enumKey(t);
    let e = this.enumNames.get(k);
    if (e === undefined) {
      const name = this.names.fresh(t.name);
      const consts = t.values.map((v) => this.names.fresh(`${name}_${v}`));
      e = { name, consts };
      this.enumNames.set(k, e);
      this.typeDecls.push(`  ${name}: enum { ${consts.join(', ')} };`);
    }
    return e;
  }

  private declareTypes(t: Type): void {
    if (t.kind === 'record') for (const ft of Object.values(t.fields)) this.declareTypes(ft);
    else if (t.kind === 'array') {
      this.indexType(t.index);
      this.declareTypes(t.elem);
    } else this.scalarType(t);
  }

  private scalarType(t: ScalarType): string {
    switch (t.kind) {
      case 'bool':
        return 'boolean';
      case 'enum':
        return this.enumType(t).name;
      case 'range':
        return `${t.lo}..${t.hi}`;
      case 'index':
        return this.indexType(t);
      case 'option':
        return this.optionType(t);
    }
  }

  private optionType(t: OptionType): string {
    const inner = t.inner;
    const key =
      inner.kind === 'enum' ? `e:${enumKey(inner)}` : inner.kind === 'index' ? `i:${inner.name}` : inner.kind === 'range' ? `r:${inner.lo}:${inner.hi}` : 'b';
    let n = this.optTypes.get(key);
    if (n !== undefined) return n;
    if (inner.kind === 'index' && inner.symmetric && this.symmetry) {
      throw new McError('MC010', `cannot export option(${inner.name}) with symmetry: none (-1) is no value of the scalarset ${inner.name}`);
    }
    if (inner.kind === 'range' && inner.lo !== 0) {
      throw new McError(
        'MC010',
        `cannot export option(${inner.lo}..${inner.hi}): an option of a range is encoded as -1 (none) or the value, which needs lo = 0`,
      );
    }
    const innerName = this.scalarType(inner);
    n = this.names.fresh(inner.kind === 'range' ? `OptionOf0to${inner.hi}` : `OptionOf${inner.kind === 'bool' ? 'Bool' : innerName}`);
    this.optTypes.set(key, n);
    if (isRecordOption(t)) {
      this.typeDecls.push(`  ${n}: record isSome: boolean; val: ${innerName}; end; -- none: isSome false and val at its first value`);
    } else {
      const hi = inner.kind === 'index' ? inner.size - 1 : (inner as { hi: number }).hi;
      this.typeDecls.push(`  ${n}: -1..${hi}; -- -1 is none`);
    }
    return n;
  }

  /** The Murphi text of a type (records and arrays inline). */
  typeText(t: Type, indent: string): string {
    if (t.kind === 'array') return `array [${this.indexType(t.index)}] of ${this.typeText(t.elem, indent)}`;
    if (t.kind === 'record') {
      const fields = Object.entries(t.fields).map(([f, ft]) => `${indent}  ${ident(f)}: ${this.typeText(ft, `${indent}  `)};`);
      return `record\n${fields.join('\n')}\n${indent}end`;
    }
    return this.scalarType(t);
  }

  private unwrapFn(t: OptionType): string {
    const opt = this.optionType(t);
    let f = this.unwrapFns.get(opt);
    if (f === undefined) {
      f = this.names.fresh(`unwrap${opt}`);
      this.unwrapFns.set(opt, f);
      const inner = this.scalarType(t.inner);
      const innerRange = t.inner.kind === 'range' ? `0..${t.inner.hi}` : inner;
      this.funcDecls.push(
        isRecordOption(t)
          ? `function ${f}(s: boolean; v: ${inner}): ${inner};\nbegin\n  if !s then error "unwrap of none" end;\n  return v;\nend;`
          : `function ${f}(x: ${opt}): ${innerRange};\nbegin\n  if x = -1 then error "unwrap of none" end;\n  return x;\nend;`,
      );
    }
    return f;
  }

  private mkOptFn(t: OptionType): string {
    const opt = this.optionType(t);
    let f = this.mkOptFns.get(opt);
    if (f === undefined) {
      f = this.names.fresh(`make${opt}`);
      this.mkOptFns.set(opt, f);
      const inner = this.scalarType(t.inner);
      this.funcDecls.push(
        `function ${f}(s: boolean; v: ${inner}): ${opt};\nvar r: ${opt};\nbegin\n  clear r;\n  if s then r.isSome := true; r.val := v; end;\n  return r;\nend;`,
      );
    }
    return f;
  }

  // --- expressions -----------------------------------------------------------------------------

  private bind(sc: Scope, id: number, raw: string): { sc: Scope; name: string } {
    const base = ident(raw);
    let name = base;
    for (let k = 2; this.names.has(name) || sc.used.has(name); k++) name = `${base}${k}`;
    const bound = new Map(sc.bound);
    bound.set(id, name);
    return { sc: { ...sc, bound, used: new Set([...sc.used, name]) }, name };
  }

  loc(l: Loc, sc: Scope): string {
    let s = sc.pre ? (sc.preLocals.get(l.varIdx) as string) : (this.varNames[l.varIdx] as string);
    for (const p of l.path) s += p.kind === 'field' ? `.${ident(p.name)}` : `[${this.expr(p.e, sc)}]`;
    return s;
  }

  private lit(t: Expr['type'], value: number): string {
    switch (t.kind) {
      case 'bool':
        return value ? 'true' : 'false';
      case 'enum':
        return this.enumType(t).consts[value] as string;
      case 'index':
        if (t.symmetric && this.symmetry)
          throw new McError('MC010', `cannot export the constant ${value} of the symmetric index ${t.name} as a scalarset value`);
        return String(value);
      default:
        return value < 0 ? `(${value})` : String(value);
    }
  }

  /** The two parts (isSome, value) of an option that prints as a record; only option-valued kinds have them. */
  private readonly optionParts: ExprVisitor<[string, string], Scope> = {
    lit: (e) => ['false', this.lit((e.type as OptionType).inner, 0)],
    read: (e, sc) => {
      const l = this.loc(e.loc, sc);
      return [`${l}.isSome`, `${l}.val`];
    },
    pre: (e, sc) => this.parts(e.e, { ...sc, pre: true }),
    some: (e, sc) => ['true', this.expr(e.e, sc)],
    ite: (e, sc) => {
      const c = this.expr(e.c, sc);
      const [as, av] = this.parts(e.a, sc);
      const [bs, bv] = this.parts(e.b, sc);
      return [`(${c} ? ${as} : ${bs})`, `(${c} ? ${av} : ${bv})`];
    },
    var: notAnOption,
    not: notAnOption,
    and: notAnOption,
    or: notAnOption,
    implies: notAnOption,
    cmp: notAnOption,
    arith: notAnOption,
    quant: notAnOption,
    isSome: notAnOption,
    unwrap: notAnOption,
    ord: notAnOption,
  };

  private parts(e: Expr, sc: Scope): [string, string] {
    return visitExpr(this.optionParts, e, sc);
  }

  /** Murphi has no counting quantifier: `count` sums the unrolled body. */
  private quant(e: ExprOf<'quant'>, sc: Scope): string {
    if (e.q === 'count') {
      const terms = Array.from({ length: e.index.size }, (_, i) => {
        const bound = new Map(sc.bound);
        bound.set(e.id, String(i));
        return `(${this.expr(e.body, { ...sc, bound })} ? 1 : 0)`;
      });
      return `(${terms.join(' + ')})`;
    }
    const { sc: inner, name } = this.bind(sc, e.id, e.name);
    return `${e.q} ${name}: ${this.indexType(e.index)} do ${this.expr(e.body, inner)} end`;
  }

  private cmp(e: ExprOf<'cmp'>, sc: Scope): string {
    if (isRecordOption(e.a.type) || isRecordOption(e.b.type)) {
      const [as, av] = this.parts(e.a, sc);
      const [bs, bv] = this.parts(e.b, sc);
      const same = `(${as} = ${bs} & ${av} = ${bv})`;
      return e.cmp === 'eq' ? same : `!${same}`;
    }
    return `(${this.expr(e.a, sc)} ${CMP_MURPHI[e.cmp]} ${this.expr(e.b, sc)})`;
  }

  private unwrap(e: ExprOf<'unwrap'>, sc: Scope): string {
    const t = e.e.type as OptionType;
    if (isRecordOption(t)) {
      const [s, v] = this.parts(e.e, sc);
      return `${this.unwrapFn(t)}(${s}, ${v})`;
    }
    return `${this.unwrapFn(t)}(${this.expr(e.e, sc)})`;
  }

  private readonly exprs: ExprVisitor<string, Scope> = {
    lit: (e) => this.lit(e.type, e.value),
    var: (e, sc) => {
      const n = sc.bound.get(e.id);
      if (n === undefined) throw new Error(`unbound variable ${e.name}`);
      return n;
    },
    read: (e, sc) => this.loc(e.loc, sc),
    pre: (e, sc) => this.expr(e.e, { ...sc, pre: true }),
    not: (e, sc) => `!(${this.expr(e.e, sc)})`,
    and: (e, sc) => (e.args.length === 0 ? 'true' : `(${e.args.map((a) => this.expr(a, sc)).join(' & ')})`),
    or: (e, sc) => (e.args.length === 0 ? 'false' : `(${e.args.map((a) => this.expr(a, sc)).join(' | ')})`),
    implies: (e, sc) => `(${this.expr(e.a, sc)} -> ${this.expr(e.b, sc)})`,
    cmp: (e, sc) => this.cmp(e, sc),
    arith: (e, sc) => `(${this.expr(e.a, sc)} ${ARITH_MURPHI[e.fn]} ${this.expr(e.b, sc)})`,
    ite: (e, sc) => `(${this.expr(e.c, sc)} ? ${this.expr(e.a, sc)} : ${this.expr(e.b, sc)})`,
    quant: (e, sc) => this.quant(e, sc),
    isSome: (e, sc) => (isRecordOption(e.e.type) ? this.parts(e.e, sc)[0] : `(${this.expr(e.e, sc)} != -1)`),
    unwrap: (e, sc) => this.unwrap(e, sc),
    some: (e, sc) => this.expr(e.e, sc),
    ord: (e, sc) => this.expr(e.e, sc),
  };

  expr(e: Expr, sc: Scope): string {
    return visitExpr(this.exprs, e, sc);
  }

  // --- statements ------------------------------------------------------------------------------

  private readonly stmtPrinter: StmtVisitor<string[], { sc: Scope; ind: string }> = {
    assign: (st, { sc, ind }) => {
      const t = st.loc.type;
      if (isRecordOption(t)) {
        const [s, v] = this.parts(st.e, sc);
        return [`${ind}${this.loc(st.loc, sc)} := ${this.mkOptFn(t)}(${s}, ${v});`];
      }
      return [`${ind}${this.loc(st.loc, sc)} := ${this.expr(st.e, sc)};`];
    },
    // `clear` sets booleans to false, enums to their first value and subranges to their low
    // bound (-1, none, for an option): our defaults, also for record-encoded options.
    reset: (st, { sc, ind }) => [`${ind}clear ${this.loc(st.loc, sc)};`],
    if: (st, { sc, ind }) => [
      `${ind}if ${this.expr(st.c, sc)} then`,
      ...this.stmts(st.thenBody, sc, `${ind}  `),
      ...(st.elseBody.length ? [`${ind}else`, ...this.stmts(st.elseBody, sc, `${ind}  `)] : []),
      `${ind}end;`,
    ],
    forEach: (st, { sc, ind }) => {
      const { sc: inner, name } = this.bind(sc, st.id, st.name);
      return [`${ind}for ${name}: ${this.indexType(st.index)} do`, ...this.stmts(st.body, inner, `${ind}  `), `${ind}end;`];
    },
  };

  stmts(body: readonly Stmt[], sc: Scope, ind: string): string[] {
    return body.flatMap((st) => visitStmt(this.stmtPrinter, st, { sc, ind }));
  }

  // --- the whole model -------------------------------------------------------------------------

  print(properties: readonly Property[], opts: MurphiOptions): string {
    const m = this.model;
    const empty: Scope = { bound: new Map(), pre: false, preLocals: new Map(), used: new Set() };
    const body: string[] = [];

    for (const init of m.inits) {
      body.push(`startstate "${init.name}"`, 'begin');
      for (const n of this.varNames) body.push(`  clear ${n};`);
      body.push(...this.stmts(init.body, empty, '  '), 'end;', '');
    }

    const steps = properties.filter((p): p is StepProperty => p.kind === 'step');
    for (const rule of m.rules)
      body.push(
        ...this.rule(
          rule,
          steps.filter((p) => p.rule === null || p.rule === rule.name),
        ),
        '',
      );

    for (const p of properties) {
      const note = `-- ${p.requirement}: ${p.doc}`;
      if (p.kind === 'invariant') body.push(note, `invariant "${p.name}"`, `  ${this.expr(p.pred, empty)};`, '');
      else if (p.kind === 'cover') body.push(note, `cover "${p.name}"`, `  ${this.expr(p.pred, empty)};`, '');
      else if (p.kind === 'liveness') body.push(`-- liveness "${p.name}" (${p.requirement}) is not exported: Rumur's liveness is AG EF without fairness`, '');
    }
    if ((opts.deadlock ?? true) && m.endState !== null) {
      const enabled = m.rules.map((r) => {
        let sc = empty;
        const binders = r.params.map((p) => {
          const b = this.bind(sc, (p.v as { id: number }).id, p.name);
          sc = b.sc;
          return `exists ${b.name}: ${this.indexType(p.index)} do `;
        });
        return `${binders.join('')}${this.expr(r.guard, sc)}${' end'.repeat(binders.length)}`;
      });
      body.push('-- no rule is enabled only in a legal end state (Rumur runs with --deadlock-detection off)');
      body.push(`invariant "deadlock"`, `  ${[this.expr(m.endState, empty), ...enabled].join('\n  | ')};`, '');
    }

    const params = Object.entries(m.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const vars = m.vars.map((v, i) => `  ${this.varNames[i]}: ${this.typeText(v.type, '  ')};`);
    return [
      `-- ${m.protocol}${m.variant ? ` variant ${m.variant}` : ''} (${params}), printed by mirrorcheck from the model.`,
      `-- Check: rumur ${rumurFlags(m, opts).join(' ')} model.m --output model.c`,
      '--        cc -std=c11 -march=native -O3 -o model model.c -lpthread && ./model',
      '',
      'type',
      ...this.typeDecls,
      '',
      'var',
      ...vars,
      '',
      ...this.funcDecls.flatMap((f) => [f, '']),
      ...body,
    ].join('\n');
  }

  private rule(rule: RuleDef, steps: readonly StepProperty[]): string[] {
    let sc: Scope = { bound: new Map(), pre: false, preLocals: new Map(), used: new Set() };
    const params: string[] = [];
    for (const p of rule.params) {
      const b = this.bind(sc, (p.v as { id: number }).id, p.name);
      sc = b.sc;
      params.push(`${b.name}: ${this.indexType(p.index)}`);
    }
    // Variables read in the pre-state by the step properties of this rule: copied before the body.
    const preVars = new Set<number>();
    for (const p of steps) varsReadInPre(p.pred, false, preVars);
    const preLocals = new Map<number, string>();
    for (const v of [...preVars].sort((a, b) => a - b)) {
      let n = `pre_${this.varNames[v]}`;
      while (this.names.has(n) || sc.used.has(n)) n = `${n}_`;
      preLocals.set(v, n);
    }
    sc = { ...sc, preLocals, used: new Set([...sc.used, ...preLocals.values()]) };
    const ind = params.length ? '  ' : '';
    const out: string[] = [];
    if (params.length) out.push(`ruleset ${params.join('; ')} do`);
    out.push(`${ind}rule "${rule.name}"`, `${ind}  ${this.expr(rule.guard, sc)}`, `${ind}==>`);
    if (preLocals.size) {
      out.push(`${ind}var`);
      for (const [v, n] of preLocals) out.push(`${ind}  ${n}: ${this.typeText((this.model.vars[v] as { type: Type }).type, `${ind}  `)};`);
    }
    out.push(`${ind}begin`);
    for (const [v, n] of preLocals) out.push(`${ind}  ${n} := ${this.varNames[v]};`);
    out.push(...this.stmts(rule.body, sc, `${ind}  `));
    for (const p of steps) out.push(`${ind}  -- ${p.requirement}: ${p.doc}`, `${ind}  assert "${p.name}" ${this.expr(p.pred, sc)};`);
    out.push(`${ind}end;`);
    if (params.length) out.push('end;');
    return out;
  }
}

/** The Rumur flags that make its deadlock check ours (see the module comment). */
export function rumurFlags(model: Model, opts: MurphiOptions = {}): string[] {
  const ours = (opts.deadlock ?? true) && model.endState === null;
  return ['--deadlock-detection', ours ? 'stuck' : 'off', ...(opts.symmetry ? ['--symmetry-reduction', 'exhaustive'] : [])];
}

/**
 * Prints `model` with its invariants, step properties and covers as a Murphi model for Rumur.
 *
 * @example
 * ```ts
 * const model = buildModel(fenceMigrate, { params: { pages: 3 } });
 * writeFileSync('fm.m', toMurphi(model, fenceMigrateProperties.build(model)));
 * // rumur --deadlock-detection stuck fm.m --output fm.c  (flags: rumurFlags(model))
 * ```
 */
export function toMurphi(model: Model, properties: readonly Property[], opts: MurphiOptions = {}): string {
  return `${new MurphiPrinter(model, opts.symmetry ?? false).print(properties, opts)}\n`;
}
