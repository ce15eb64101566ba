/**
 * The reference semantics of the language: a direct interpreter over flat states. Why this module
 * exists: it is the one definition of what a rule does. The explicit engine compiles rules for
 * speed and is tested against this interpreter; replay and the SMT soundness guard run traces
 * through it, so a trace is accepted only if the plain semantics agrees.
 */
import { ModelRuntimeError } from './errors.js';
import type { Expr, Loc } from './expr.js';
import { type Layout, defaultState, locOffset, slotCount } from './layout.js';
import type { InitDef, Model, RuleInstance } from './protocol.js';
import type { Stmt } from './stmt.js';
import { type ScalarType, type Type, inType, isScalar, minValue, typeName } from './types.js';

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

/** Evaluates an expression to its natural value (booleans are 0/1). */
export function evalExpr(e: Expr, env: Env): number {
  switch (e.op) {
    case 'lit': return e.value;
    case 'var': {
      const v = env.bind.get(e.id);
      if (v === undefined) throw new ModelRuntimeError(env.where, `unbound variable ${e.name}`);
      return v;
    }
    case 'read': return env.s[offset(env, e.loc)] as number;
    case 'pre': {
      if (!env.pre) throw new ModelRuntimeError(env.where, 'pre() used outside a step property');
      return evalExpr(e.e, { ...env, s: env.pre, pre: null });
    }
    case 'not': return evalExpr(e.e, env) ? 0 : 1;
    case 'and': return e.args.every((a) => evalExpr(a, env) !== 0) ? 1 : 0;
    case 'or': return e.args.some((a) => evalExpr(a, env) !== 0) ? 1 : 0;
    case 'implies': return !evalExpr(e.a, env) || evalExpr(e.b, env) ? 1 : 0;
    case 'cmp': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      switch (e.cmp) {
        case 'eq': return a === b ? 1 : 0;
        case 'ne': return a !== b ? 1 : 0;
        case 'lt': return a < b ? 1 : 0;
        case 'le': return a <= b ? 1 : 0;
        case 'gt': return a > b ? 1 : 0;
        case 'ge': return a >= b ? 1 : 0;
      }
      break;
    }
    case 'arith': {
      const a = evalExpr(e.a, env);
      const b = evalExpr(e.b, env);
      return e.fn === 'add' ? a + b : e.fn === 'sub' ? a - b : a * b;
    }
    case 'ite': return evalExpr(e.c, env) ? evalExpr(e.a, env) : evalExpr(e.b, env);
    case 'quant': {
      let n = 0;
      for (let i = 0; i < e.index.size; i++) {
        env.bind.set(e.id, i);
        const v = evalExpr(e.body, env) !== 0;
        if (e.q === 'forall' && !v) { env.bind.delete(e.id); return 0; }
        if (e.q === 'exists' && v) { env.bind.delete(e.id); return 1; }
        if (v) n++;
      }
      env.bind.delete(e.id);
      return e.q === 'forall' ? 1 : e.q === 'exists' ? 0 : n;
    }
    case 'isSome': return evalExpr(e.e, env) >= 0 ? 1 : 0;
    case 'unwrap': {
      const v = evalExpr(e.e, env);
      if (v < 0) throw new ModelRuntimeError(env.where, 'unwrap of none');
      return v;
    }
    case 'some': return evalExpr(e.e, env);
    case 'ord': return evalExpr(e.e, env);
  }
  throw new Error('unreachable');
}

function resetRegion(t: Type, s: Int32Array, off: number): void {
  if (isScalar(t)) {
    s[off] = minValue(t);
    return;
  }
  const n = slotCount(t);
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
  void n;
}

/** Executes statements in place on `env.s`; a value out of its type is a run-time model error. */
export function execStmts(stmts: readonly Stmt[], env: Env): void {
  for (const st of stmts) {
    switch (st.kind) {
      case 'assign': {
        const off = offset(env, st.loc);
        const v = evalExpr(st.e, env);
        const t = st.loc.type as ScalarType;
        if (!inType(t, v)) {
          throw new ModelRuntimeError(env.where, `value ${v} out of range ${typeName(t)} assigned to ${env.layout.slotNames[off]}`);
        }
        env.s[off] = v;
        break;
      }
      case 'reset': resetRegion(st.loc.type, env.s, offset(env, st.loc)); break;
      case 'if': execStmts(evalExpr(st.c, env) ? st.thenBody : st.elseBody, env); break;
      case 'forEach':
        for (let i = 0; i < st.index.size; i++) {
          env.bind.set(st.id, i);
          execStmts(st.body, env);
        }
        env.bind.delete(st.id);
        break;
    }
  }
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

/** Evaluates a closed boolean expression on a state (with an optional pre-state and bindings). */
export function holds(model: Model, e: Expr, s: Int32Array, pre: Int32Array | null = null, bind = new Map<number, number>()): boolean {
  return evalExpr(e, { s, pre, bind, layout: model.layout, where: 'property' }) !== 0;
}

/** Binds the parameters of an instance's rule (used to evaluate step properties on a step). */
export function instanceBindings(inst: RuleInstance): Map<number, number> {
  return bindArgs(inst);
}
