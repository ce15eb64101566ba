/**
 * Protocols: parameters, named bug variants, state variables, start states and guarded rules.
 * Why this module exists: a protocol is written once, through this builder, and the resulting
 * `Model` (plain data plus a layout) is what every engine, the trace reader and the exporters read.
 * It knows no engine and no particular protocol.
 *
 * @example
 * ```ts
 * export const toy = defineProtocol({
 *   name: 'toy', summary: 'a counter', spec: 'spec/toy.md',
 *   params: { max: intParam(3, 1, 8, 'largest value') },
 *   variants: [],
 *   build(b, cfg) {
 *     const n = b.v('n', range(0, cfg.int('max')));
 *     b.rule('Inc', {}, () => ({ guard: lt(n, cfg.int('max')), body: [assign(n, add(n, 1))] }));
 *     return { n };
 *   },
 * });
 * ```
 */
import { McError } from './errors.js';
import { type Expr, type Operand, Ref, boolExpr, fail, freshVar, within } from './expr.js';
import { type Layout, makeLayout } from './layout.js';
import type { Stmt } from './stmt.js';
import { type IndexType, type Type, index as mkIndex } from './types.js';
import { scopeProblem, stmtScopeProblem } from './visit.js';

/** A protocol parameter: an integer in [min, max] or one of a set of names. */
export type ParamSpec =
  | { readonly kind: 'int'; readonly default: number; readonly min: number; readonly max: number; readonly doc: string }
  | { readonly kind: 'enum'; readonly default: string; readonly values: readonly string[]; readonly doc: string };

/** An integer parameter: its default, its range and what it means. */
export const intParam = (def: number, min: number, max: number, doc: string): ParamSpec => ({ kind: 'int', default: def, min, max, doc });
/** A parameter that is one of a list of names (a mode, an order): its default, its values and what it means. */
export const enumParam = (def: string, values: readonly string[], doc: string): ParamSpec => ({ kind: 'enum', default: def, values, doc });

/** A named bug variant: a one-knob mutation that reproduces a real bug or misuse. */
export interface VariantSpec {
  readonly name: string;
  /** One line: the bug this variant reproduces. */
  readonly summary: string;
  /** The kernel commit, thread or document it comes from. */
  readonly cites: string;
  /**
   * Parameter values the variant needs to show its bug (a mode, an actor the default size leaves
   * out), applied beneath the values the user gives: `check P --variant V` builds V at these values
   * and the defaults elsewhere, while an explicit user value still wins (and `appliesTo` then judges
   * the result, refusing with MC005 when the bug cannot show). The resolved values are what the
   * model records, so a saved trace's header names them and replay rebuilds the same model.
   */
  readonly params?: Readonly<Record<string, number | string>>;
  /** Returns why the variant does not apply to these parameters, or null when it does. */
  readonly appliesTo?: (params: ParamValues) => string | null;
}

/** Parameter values by name, as a model is built with them. */
export type ParamValues = Readonly<Record<string, number | string>>;

/** Fairness of a rule, for liveness checking. */
export type Fairness = 'none' | 'weak' | 'strong';

/**
 * What one fairness requirement covers: each instance of the rule on its own (`instance`, the
 * default: one requirement per actor, e.g. per page or per DMA slot), or all instances of the rule
 * together (`rule`: some instance is eventually taken, which lets one actor starve).
 */
export type FairnessScope = 'instance' | 'rule';

/** A rule (a Murphi ruleset when it has parameters). */
export interface RuleDef {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly index: IndexType; readonly v: Expr }[];
  readonly guard: Expr;
  readonly body: readonly Stmt[];
  readonly fairness: Fairness;
  /** Scope of `fairness`; absent means `instance`. */
  readonly fairnessScope?: FairnessScope;
}

/** One rule with concrete parameter values: the unit the engines choose between. */
export interface RuleInstance {
  /** Position in `Model.instances`; the number stored in choice lists. */
  readonly id: number;
  readonly ruleIdx: number;
  readonly rule: RuleDef;
  readonly args: readonly number[];
  /** Printed form, `Name(p=0, d=1)`. */
  readonly label: string;
}

/** A start state: assignments applied to the all-default state. */
export interface InitDef {
  readonly name: string;
  readonly body: readonly Stmt[];
}

/** A built model: what every engine reads. */
export interface Model<H = unknown> {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: ParamValues;
  readonly vars: readonly { readonly name: string; readonly type: Type }[];
  readonly indexes: readonly IndexType[];
  readonly rules: readonly RuleDef[];
  readonly instances: readonly RuleInstance[];
  readonly inits: readonly InitDef[];
  /** States where having no enabled rule is legal (not a deadlock); absent means none is legal. */
  readonly endState: Expr | null;
  readonly layout: Layout;
  /** The protocol's own handles (variables, index types) for its property set. */
  readonly handles: H;
}

/** Parameter access inside `build`. */
export interface BuildConfig {
  readonly params: ParamValues;
  readonly variant: string | null;
  int(name: string): number;
  str(name: string): string;
  /** True when the variant being built is `name`. */
  is(name: string): boolean;
}

/** The builder handed to a protocol's `build` function. */
export interface Builder {
  /** Declares an index type; its size usually comes from a parameter. */
  index(name: string, size: number, opts?: { symmetric?: boolean }): IndexType;
  /** Declares a state variable and returns a reference to it. */
  v(name: string, type: Type): Ref;
  /** Declares a start state (several make the initial states nondeterministic). */
  init(name: string, body: () => readonly Stmt[]): void;
  /** Declares a rule, expanded once per combination of its parameters' values. */
  rule<P extends Record<string, IndexType>>(
    name: string,
    params: P,
    fn: (args: { [K in keyof P]: Expr }) => { guard: Operand; body: readonly Stmt[] },
    opts?: { fairness?: Fairness; fairnessScope?: FairnessScope },
  ): void;
  /** Declares which states may legally have no enabled rule. */
  endState(pred: () => Operand): void;
}

/**
 * Who takes part in a protocol, for drawing its traces as sequence diagrams (`replay --render
 * mermaid`, the actor column of the HTML page). It changes nothing in what is checked.
 *
 * `participants` names each actor (an identifier such as `HCA`), in the order they are drawn, with
 * one line saying what it stands for. `rules` says, per rule name, which actor takes the step and
 * which one it acts on, as `[from, to]`, or one name for a step an actor takes on its own. A rule not
 * listed (or a protocol with no `actors` at all) is drawn from the actor its name starts with, the
 * Actor-Verb-Object convention: `DriverFenceDma` is a step of the participant whose name starts with
 * `Driver` (case-insensitive: `HcaCompleteDma` is `HCA`'s), or of an actor `Driver` when none is declared.
 *
 * @example
 * ```ts
 * actors: {
 *   participants: { MM: 'the kernel memory manager', Driver: 'the device driver', HCA: 'the adapter' },
 *   rules: { MmMigrateStart: ['MM', 'Driver'], DriverFenceDma: ['Driver', 'HCA'], MmCopyPage: 'MM' },
 * },
 * ```
 */
export interface ProtocolActors {
  readonly participants: Readonly<Record<string, string>>;
  readonly rules?: Readonly<Record<string, string | readonly [from: string, to: string]>>;
}

/** A protocol definition: written once, built for given parameters and variant. */
export interface ProtocolDef<H = unknown> {
  readonly name: string;
  readonly summary: string;
  /** Path of the spec document, relative to the project root. */
  readonly spec: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly variants: readonly VariantSpec[];
  /** Cross-parameter validation; returns a message when the combination is invalid. */
  readonly validate?: (p: ParamValues) => string | null;
  /** The actors of the protocol and the ones each rule involves, for sequence diagrams (optional). */
  readonly actors?: ProtocolActors;
  build(b: Builder, cfg: BuildConfig): H;
}

/** Declares a protocol (typed by the handles its `build` returns to the property set); see the example above. */
export function defineProtocol<H>(def: ProtocolDef<H>): ProtocolDef<H> {
  return def;
}

/** Resolves parameter values given as strings or numbers against the protocol's declarations. */
export function resolveParams(def: ProtocolDef<unknown>, given: Readonly<Record<string, string | number>> = {}): ParamValues {
  const out: Record<string, number | string> = {};
  for (const k of Object.keys(given)) {
    if (!(k in def.params)) {
      throw new McError('MC003', `unknown parameter '${k}' for ${def.name} (parameters: ${Object.keys(def.params).join(', ')})`);
    }
  }
  for (const [k, spec] of Object.entries(def.params)) {
    const raw = given[k];
    if (raw === undefined) {
      out[k] = spec.default;
      continue;
    }
    if (spec.kind === 'int') {
      const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      if (!Number.isInteger(n) || n < spec.min || n > spec.max) {
        throw new McError('MC004', `parameter ${k}=${raw} is out of range for ${def.name} (integer ${spec.min}..${spec.max})`);
      }
      out[k] = n;
    } else {
      if (!spec.values.includes(String(raw))) {
        throw new McError('MC004', `parameter ${k}=${raw} is not one of ${spec.values.join(', ')}`);
      }
      out[k] = String(raw);
    }
  }
  const msg = def.validate?.(out);
  if (msg) throw new McError('MC004', `${def.name}: ${msg}`);
  return out;
}

/** What is wrong with an `actors` declaration: a participant that is not an identifier, or a rule naming an undeclared one. */
function actorsProblem(a: ProtocolActors): string | null {
  const names = Object.keys(a.participants);
  const bad = names.find((n) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(n));
  if (bad !== undefined) return `participant '${bad}' is not an identifier (letters, digits, _)`;
  for (const [rule, who] of Object.entries(a.rules ?? {})) {
    const unknown = (typeof who === 'string' ? [who] : who).find((n) => !names.includes(n));
    if (unknown !== undefined) return `rule ${rule} names '${unknown}', which is not a participant (${names.join(', ')})`;
  }
  return null;
}

/** The first non-null result of `f` over `xs`. */
function firstOf<T>(xs: readonly T[], f: (x: T) => string | null): string | null {
  for (const x of xs) {
    const r = f(x);
    if (r) return r;
  }
  return null;
}

function cartesian(sizes: readonly number[]): number[][] {
  let acc: number[][] = [[]];
  for (const n of sizes) {
    const next: number[][] = [];
    for (const a of acc) for (let i = 0; i < n; i++) next.push([...a, i]);
    acc = next;
  }
  return acc;
}

/**
 * The parameter values `variant` (null: the correct protocol) is built with: the variant's own
 * `params` beneath the `given` ones (a given value wins), resolved against the declarations.
 */
export function variantParams(def: ProtocolDef<unknown>, variant: string | null, given: Readonly<Record<string, string | number>> = {}): ParamValues {
  const vs = variant === null ? undefined : def.variants.find((v) => v.name === variant);
  return resolveParams(def, { ...(vs?.params ?? {}), ...given });
}

/**
 * Why `variant` of `def` cannot be built at the `given` values (its `params` beneath them), or null
 * when it can; an unknown variant or bad values throw as in `buildModel`.
 */
export function variantProblem(def: ProtocolDef<unknown>, variant: string, given: Readonly<Record<string, string | number>> = {}): string | null {
  const vs = def.variants.find((v) => v.name === variant);
  if (!vs) throw new McError('MC002', `unknown variant '${variant}' of ${def.name} (variants: ${def.variants.map((v) => v.name).join(', ')})`);
  return vs.appliesTo?.(variantParams(def, variant, given)) ?? null;
}

/**
 * Builds a protocol for the given variant (null: the correct protocol) and parameters; a variant's
 * own `params` apply beneath the given ones (see `VariantSpec.params`).
 */
export function buildModel<H>(def: ProtocolDef<H>, opts: { variant?: string | null; params?: Readonly<Record<string, string | number>> } = {}): Model<H> {
  const variant = opts.variant ?? null;
  const params = variantParams(def as ProtocolDef<unknown>, variant, opts.params);
  if (variant !== null) {
    const vs = def.variants.find((v) => v.name === variant);
    if (!vs) throw new McError('MC002', `unknown variant '${variant}' of ${def.name} (variants: ${def.variants.map((v) => v.name).join(', ')})`);
    const why = vs.appliesTo?.(params);
    if (why) throw new McError('MC005', `variant ${variant} does not apply: ${why}`);
  }
  const vars: { name: string; type: Type }[] = [];
  const indexes: IndexType[] = [];
  const rules: RuleDef[] = [];
  const inits: InitDef[] = [];
  let endState: Expr | null = null;
  const b: Builder = {
    index(name, size, o) {
      const t = mkIndex(name, size, o);
      if (indexes.some((x) => x.name === name)) fail(`index type ${name} declared twice`);
      indexes.push(t);
      return t;
    },
    v(name, type) {
      if (vars.some((x) => x.name === name)) fail(`variable ${name} declared twice`);
      vars.push({ name, type });
      return new Ref({ varIdx: vars.length - 1, varName: name, path: [], type });
    },
    init(name, body) {
      within(`init ${name}`, () => {
        const stmts = body();
        const wrong = firstOf(stmts, (st) => stmtScopeProblem(st, new Set(), false));
        if (wrong) fail(wrong);
        inits.push({ name, body: stmts });
      });
    },
    rule(name, ps, fn, o) {
      within(`rule ${name}`, () => {
        if (rules.some((r) => r.name === name)) fail(`rule ${name} declared twice`);
        const plist = Object.entries(ps).map(([pn, idx]) => ({ name: pn, index: idx, v: freshVar(idx, pn) }));
        const args = Object.fromEntries(plist.map((p) => [p.name, p.v])) as never;
        const r = fn(args);
        const guard = boolExpr(r.guard, 'guard');
        const bound = new Set(plist.map((p) => (p.v as { id: number }).id));
        const wrong = scopeProblem(guard, bound, false) ?? firstOf(r.body, (st) => stmtScopeProblem(st, bound, true));
        if (wrong) fail(wrong);
        rules.push({
          name,
          params: plist,
          guard,
          body: r.body,
          fairness: o?.fairness ?? 'none',
          ...(o?.fairnessScope ? { fairnessScope: o.fairnessScope } : {}),
        });
      });
    },
    endState(pred) {
      endState = within('endState', () => {
        const e = boolExpr(pred(), 'endState');
        const wrong = scopeProblem(e, new Set(), false);
        return wrong ? fail(wrong) : e;
      });
    },
  };
  const cfg: BuildConfig = {
    params,
    variant,
    int: (n) => {
      const v = params[n];
      if (typeof v !== 'number')
        within(def.name, () =>
          fail(`cfg.int('${n}'): ${v === undefined ? `there is no parameter '${n}'` : `'${n}' is not an integer parameter (use cfg.str)`}`),
        );
      return v as number;
    },
    str: (n) => {
      const v = params[n];
      if (v === undefined) within(def.name, () => fail(`cfg.str('${n}'): there is no parameter '${n}'`));
      return String(v);
    },
    is: (n) => variant === n,
  };
  const handles = def.build(b, cfg);
  if (inits.length === 0) within(def.name, () => fail('no start state declared'));
  if (def.actors) {
    const wrong = actorsProblem(def.actors);
    if (wrong) within(`${def.name} actors`, () => fail(wrong));
  }
  const instances: RuleInstance[] = [];
  rules.forEach((rule, ruleIdx) => {
    for (const args of cartesian(rule.params.map((p) => p.index.size))) {
      const label = `${rule.name}(${rule.params.map((p, i) => `${p.name}=${args[i]}`).join(', ')})`;
      instances.push({ id: instances.length, ruleIdx, rule, args, label });
    }
  });
  return {
    protocol: def.name,
    variant,
    params,
    vars,
    indexes,
    rules,
    instances,
    inits,
    endState,
    layout: makeLayout(vars),
    handles,
  };
}
