/**
 * The reference semantics of the language: a direct interpreter over flat states. Why this module
 * exists: it is the one definition of what a rule does. The explicit engine compiles rules for
 * speed and is tested against this interpreter; replay and the SMT soundness guard run traces
 * through it, so a trace is accepted only if the plain semantics agrees.
 */
import { ModelRuntimeError } from './errors.js';
import type { ArithOp, CmpOp, Expr, Loc } from './expr.js';
import { type Layout, defaultState, locOffset, slotCount } from './layout.js';
import type { InitDef, Model, RuleInstance } from './protocol.js';
import type { Stmt } from './stmt.js';
import { type ScalarType, type Type, inType, isScalar, minValue, typeName } from './types.js';
import { type ExprOf, type ExprVisitor, type StmtVisitor, visitExpr, visitStmt } from './visit.js';

/** Evaluation environment: the state read by plain references, the pre-state, bound variables. */
export interface Env {
  readonly s: Int32Array;
  readonly pre: Int32Array | null;
  readonly bind: Map<number, number>;
  readonly layout: Layout;
  readonly where: string;
}

function offset(env: Env, loc: Loc): number {
  return locOffset(env.layout, loc, (e) => evalExpr(e, env));
}

const CMP: Readonly<Record<CmpOp, (a: number, b: number) => boolean>> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
};
const ARITH: Readonly<Record<ArithOp, (a: number, b: number) => number>> = { add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b };

/** A quantifier over an index type: binds its variable to each value in turn. */
function evalQuant(e: ExprOf<'quant'>, env: Env): number {
  let n = 0;
  try {
    for (let i = 0; i < e.index.size; i++) {
      env.bind.set(e.id, i);
      const v = evalExpr(e.body, env) !== 0;
      if (e.q === 'forall' && !v) return 0;
      if (e.q === 'exists' && v) return 1;
      if (v) n++;
    }
  } finally {
    env.bind.delete(e.id);
  }
  return e.q === 'forall' ? 1 : e.q === 'exists' ? 0 : n;
}

/** The meaning of every expression kind: a natural value (booleans are 0/1). */
const evaluator: ExprVisitor<number, Env> = {
  lit: (e) => e.value,
  var: (e, env) => {
    const v = env.bind.get(e.id);
    if (v === undefined) throw new ModelRuntimeError(env.where, `unbound variable ${e.name}`);
    return v;
  },
  read: (e, env) => env.s[offset(env, e.loc)] as number,
  pre: (e, env) => {
    if (!env.pre) throw new ModelRuntimeError(env.where, 'pre() used outside a step property');
    return evalExpr(e.e, { ...env, s: env.pre, pre: null });
  },
  not: (e, env) => (evalExpr(e.e, env) ? 0 : 1),
  and: (e, env) => (e.args.every((a) => evalExpr(a, env) !== 0) ? 1 : 0),
  or: (e, env) => (e.args.some((a) => evalExpr(a, env) !== 0) ? 1 : 0),
  implies: (e, env) => (!evalExpr(e.a, env) || evalExpr(e.b, env) ? 1 : 0),
  cmp: (e, env) => (CMP[e.cmp](evalExpr(e.a, env), evalExpr(e.b, env)) ? 1 : 0),
  arith: (e, env) => ARITH[e.fn](evalExpr(e.a, env), evalExpr(e.b, env)),
  ite: (e, env) => (evalExpr(e.c, env) ? evalExpr(e.a, env) : evalExpr(e.b, env)),
  quant: evalQuant,
  isSome: (e, env) => (evalExpr(e.e, env) >= 0 ? 1 : 0),
  unwrap: (e, env) => {
    const v = evalExpr(e.e, env);
    if (v < 0) throw new ModelRuntimeError(env.where, 'unwrap of none');
    return v;
  },
  some: (e, env) => evalExpr(e.e, env),
  ord: (e, env) => evalExpr(e.e, env),
};

/** Evaluates an expression to its natural value (booleans are 0/1). */
export function evalExpr(e: Expr, env: Env): number {
  return visitExpr(evaluator, e, env);
}

function resetRegion(t: Type, s: Int32Array, off: number): void {
  if (isScalar(t)) {
    s[off] = minValue(t);
    return;
  }
  if (t.kind === 'array') {
    const m = slotCount(t.elem);
    for (let i = 0; i < t.index.size; i++) resetRegion(t.elem, s, off + i * m);
    return;
  }
  let k = off;
  for (const ft of Object.values(t.fields)) {
    resetRegion(ft, s, k);
    k += slotCount(ft);
  }
}

/** The effect of every statement kind on `env.s`; a value out of its type is a run-time model error. */
const executor: StmtVisitor<void, Env> = {
  assign: (st, env) => {
    const off = offset(env, st.loc);
    const v = evalExpr(st.e, env);
    const t = st.loc.type as ScalarType;
    if (!inType(t, v)) throw new ModelRuntimeError(env.where, `value ${v} out of range ${typeName(t)} assigned to ${env.layout.slotNames[off]}`);
    env.s[off] = v;
  },
  reset: (st, env) => resetRegion(st.loc.type, env.s, offset(env, st.loc)),
  if: (st, env) => execStmts(evalExpr(st.c, env) ? st.thenBody : st.elseBody, env),
  forEach: (st, env) => {
    try {
      for (let i = 0; i < st.index.size; i++) {
        env.bind.set(st.id, i);
        execStmts(st.body, env);
      }
    } finally {
      env.bind.delete(st.id);
    }
  },
};

/** Executes statements in place on `env.s`; a value out of its type is a run-time model error. */
export function execStmts(stmts: readonly Stmt[], env: Env): void {
  for (const st of stmts) visitStmt(executor, st, env);
}

/** The start state produced by one init block. */
export function initState(model: Model, init: InitDef): Int32Array {
  const s = defaultState(model.layout);
  execStmts(init.body, { s, pre: null, bind: new Map(), layout: model.layout, where: `init ${init.name}` });
  return s;
}

function bindArgs(inst: RuleInstance): Map<number, number> {
  const m = new Map<number, number>();
  inst.rule.params.forEach((p, i) => {
    m.set((p.v as { id: number }).id, inst.args[i] as number);
  });
  return m;
}

/** Whether a rule instance is enabled in state `s`. */
export function enabled(model: Model, inst: RuleInstance, s: Int32Array): boolean {
  return evalExpr(inst.rule.guard, { s, pre: null, bind: bindArgs(inst), layout: model.layout, where: inst.label }) !== 0;
}

/** Applies an enabled rule instance to `s`, returning the next state (s is unchanged). */
export function applyRule(model: Model, inst: RuleInstance, s: Int32Array): Int32Array {
  const t = new Int32Array(s);
  execStmts(inst.rule.body, { s: t, pre: s, bind: bindArgs(inst), layout: model.layout, where: inst.label });
  return t;
}

/**
 * The first enabled rule instance (in instance order) that raises a run-time model error in state
 * `s`, with the error's message, or null when none does. Engines that find a model error through
 * compiled code use it to name the failing step of their trace (through the reference semantics).
 */
export function failingInstance(model: Model, s: Int32Array): { via: number; message: string } | null {
  for (const inst of model.instances) {
    try {
      if (enabled(model, inst, s)) applyRule(model, inst, s);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { via: inst.id, message: e.message };
      throw e;
    }
  }
  return null;
}

/** A property as `failingStep` evaluates it (invariants and covers on states, step properties on steps). */
export interface EvaluatedProperty {
  readonly kind: 'invariant' | 'cover' | 'step';
  readonly name: string;
  readonly pred: Expr;
  readonly rule?: string | null;
}

/** Where a run-time model error happens: the instance (or start state) and, for a property, the step to the state it is evaluated in. */
export interface FailingStep {
  /** The rule instance (or, for a start state, the start state's index) whose step fails or leads to the failure. */
  readonly via: number;
  readonly message: string;
  /** Set when a property fails to evaluate: the step (its label and the state it leads to) the trace must end with. */
  readonly step?: { readonly label: string; readonly state: Int32Array };
}

/**
 * The first property of `properties` that cannot be evaluated on state `s`, reached by instance
 * `pre` from state `from` (both null: a start state), as a message naming it; or null.
 */
export function failingProperty(
  model: Model,
  properties: readonly EvaluatedProperty[],
  s: Int32Array,
  pre: RuleInstance | null,
  from: Int32Array | null,
): string | null {
  for (const p of properties) {
    const step = p.kind === 'step';
    if (step && (!pre || (p.rule != null && p.rule !== pre.rule.name))) continue;
    try {
      evalExpr(p.pred, { s, pre: step ? from : null, bind: pre ? bindArgs(pre) : new Map(), layout: model.layout, where: p.name });
    } catch (e) {
      if (e instanceof ModelRuntimeError) return `in property ${p.name}: ${e.detail}`;
      throw e;
    }
  }
  return null;
}

/** The first property that cannot be evaluated on the step of `inst` from `from` to `t`, as the step that leads to it. */
export function failingAfter(model: Model, properties: readonly EvaluatedProperty[], from: Int32Array, inst: RuleInstance, t: Int32Array): FailingStep | null {
  const message = failingProperty(model, properties, t, inst, from);
  return message ? { via: inst.id, message: `${message}, on the state after ${inst.label}`, step: { label: inst.label, state: t } } : null;
}

/** The first invariant or cover that cannot be evaluated on start state number `i`, `s`, as that start. */
export function failingOnStart(model: Model, properties: readonly EvaluatedProperty[], i: number, s: Int32Array): FailingStep | null {
  const message = failingProperty(model, properties, s, null, null);
  const name = model.inits[i]?.name;
  return message ? { via: i, message: `${message}, on start state ${name}`, step: { label: `init ${name}`, state: s } } : null;
}

/**
 * The first step from `s` (in instance order) that raises a run-time model error: a rule instance
 * that fails itself (as `failingInstance`), else one after which a property (a step property of
 * the step, an invariant or cover of the state it leads to) fails to evaluate. Null when none does.
 */
export function failingStep(model: Model, properties: readonly EvaluatedProperty[], s: Int32Array): FailingStep | null {
  const rule = failingInstance(model, s);
  if (rule) return rule;
  for (const inst of model.instances) {
    if (!enabled(model, inst, s)) continue;
    const fail = failingAfter(model, properties, s, inst, applyRule(model, inst, s));
    if (fail) return fail;
  }
  return null;
}

/** The first start state on which an invariant or cover fails to evaluate, with the error; null if none does or a start state fails to build first. */
export function failingStart(model: Model, properties: readonly EvaluatedProperty[]): FailingStep | null {
  for (let i = 0; i < model.inits.length; i++) {
    let s: Int32Array;
    try {
      s = initState(model, model.inits[i] as InitDef);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return null; // the start state itself fails: its own error names it
      throw e;
    }
    const fail = failingOnStart(model, properties, i, s);
    if (fail) return fail;
  }
  return null;
}

/** Evaluates a closed boolean expression on a state (with an optional pre-state and bindings). */
export function holds(model: Model, e: Expr, s: Int32Array, pre: Int32Array | null = null, bind = new Map<number, number>()): boolean {
  return evalExpr(e, { s, pre, bind, layout: model.layout, where: 'property' }) !== 0;
}

/** Binds the parameters of an instance's rule (used to evaluate step properties on a step). */
export function instanceBindings(inst: RuleInstance): Map<number, number> {
  return bindArgs(inst);
}
