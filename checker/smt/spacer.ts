/**
 * z3's Spacer engine (IC3/PDR for constrained Horn clauses) on the clauses of chc.ts. Why this
 * module exists: when the reachable states are too many to enumerate, `prove --infer` has no exact
 * oracle; Spacer needs none. Its answers are claims until checked:
 * - unsafe: the derivation of `Err` names its clauses along the trace (`init:k`, `step:id`, then
 *   the obligation broken); the instances are re-executed by the interpreter from the start state,
 *   and the obligation must really fail at the end (replay.ts), else the engines disagree;
 * - safe: the interpretation of `Reach` Spacer found is read back over the slot variables, printed
 *   as model-language expressions where its atoms allow (slot = value, slot <= value, slot = slot),
 *   and re-proved by k-induction like any inferred invariant (proveInfer.ts).
 * On the built-in protocols at their default sizes Spacer does not finish within minutes (measured,
 * see spec); it is the fallback beyond the explicit enumeration, not the main engine.
 */
import type { Z3_ast, Z3_fixedpoint } from 'z3-solver';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { type Expr, and, not, or } from '../../model/lang/expr.js';
import { applyRule, enabled, initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { compatible, fromCode, toCode } from '../../model/lang/types.js';
import { type ChcProperties, type ChcSystem, buildChc } from './chc.js';
import type { DecodedPath } from './replay.js';
import { exprOfLits } from './invariantPrinter.js';
import type { SmtSession } from './z3Host.js';
import { MAX_CHECK_MS } from './z3Host.js';

export type SpacerAnswer =
  | { readonly status: 'safe'; readonly invariant: Expr | null; readonly why: string; readonly elapsedMs: number }
  | { readonly status: 'unsafe'; readonly path: DecodedPath; readonly clause: string; readonly elapsedMs: number }
  | { readonly status: 'unknown'; readonly reason: string; readonly elapsedMs: number }
  | { readonly status: 'disagree'; readonly message: string; readonly elapsedMs: number };

/**
 * Runs Spacer on the Horn clauses of `model` for `props` (and no model error), with z3's timeout set
 * from `deadline`. Runs in the wasm z3 of `session` (the fixedpoint engine is not mirrored to a
 * native process).
 */
export async function spacerSolve(session: SmtSession, model: Model, props: ChcProperties, deadline: number | null): Promise<SpacerAnswer> {
  const start = Date.now();
  const elapsed = () => Date.now() - start;
  const sys = buildChc(session, model, props);
  const { z, ctx } = session;
  const fp = z.mk_fixedpoint(ctx);
  z.fixedpoint_inc_ref(ctx, fp);
  try {
    const sym = (x: string) => z.mk_string_symbol(ctx, x);
    const p = z.mk_params(ctx);
    z.params_inc_ref(ctx, p);
    z.params_set_symbol(ctx, p, sym('engine'), sym('spacer'));
    // z3's eager inlining of clauses loses facts when it maps the invariant back to `Reach`: on
    // random tiny protocols the invariant read back left out a slot's value that no step writes
    // (spacer.test.ts), so it no longer implied the obligations by itself. Off.
    z.params_set_bool(ctx, p, sym('xform.inline_eager'), false);
    const left = deadline === null ? MAX_CHECK_MS : Math.min(MAX_CHECK_MS, deadline - Date.now());
    if (left <= 0) return { status: 'unknown', reason: 'time limit reached', elapsedMs: elapsed() };
    z.params_set_uint(ctx, p, sym('timeout'), Math.max(1, Math.floor(left)));
    z.fixedpoint_set_params(ctx, fp, p);
    z.params_dec_ref(ctx, p);
    z.fixedpoint_register_relation(ctx, fp, sys.reach);
    z.fixedpoint_register_relation(ctx, fp, sys.err);
    for (const c of sys.clauses) z.fixedpoint_add_rule(ctx, fp, c.term, sym(c.name));
    session.checkError();
    const keepAlive = setInterval(() => {}, 2 ** 30);
    let r: number;
    try {
      r = await z.fixedpoint_query(ctx, fp, sys.tm.app(sys.err, []));
    } finally {
      clearInterval(keepAlive);
    }
    // A query stopped by its timeout leaves the error "canceled" in the context: that is an
    // unknown answer, not a translator bug; the error is cleared so the session stays usable.
    if (r === 0 && z.get_error_code(ctx) !== 0) {
      const msg = z.get_error_msg(ctx, z.get_error_code(ctx));
      z.set_error(ctx, 0);
      if (!/cancel|timeout/i.test(msg)) throw new Error(`z3 error: ${msg}`);
      return { status: 'unknown', reason: deadline !== null && Date.now() >= deadline - 1000 ? 'time limit reached' : msg, elapsedMs: elapsed() };
    }
    session.checkError();
    if (r === 0) {
      const why = z.fixedpoint_get_reason_unknown(ctx, fp);
      return {
        status: 'unknown',
        reason: /timeout|canceled/i.test(why) && deadline !== null && Date.now() >= deadline - 50 ? 'time limit reached' : why,
        elapsedMs: elapsed(),
      };
    }
    if (r === 1) return unsafe(session, fp, sys, model, elapsed);
    return { ...safeInvariant(session, fp, sys, model), status: 'safe', elapsedMs: elapsed() };
  } finally {
    z.fixedpoint_dec_ref(ctx, fp);
  }
}

/** Decodes the derivation of Err into a path the interpreter re-executes. */
function unsafe(session: SmtSession, fp: Z3_fixedpoint, sys: ChcSystem, model: Model, elapsed: () => number): SpacerAnswer {
  const { z, ctx } = session;
  // The query itself appears as an unnamed rule (`<null>`).
  const names = z
    .get_symbol_string(ctx, z.fixedpoint_get_rule_names_along_trace(ctx, fp))
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x && x !== '<null>');
  const known = names.map((n) => sys.byName.get(n));
  if (known.some((c) => !c))
    return { status: 'disagree', message: `Spacer's derivation names clauses this encoding does not have: ${names.join(';')}`, elapsedMs: elapsed() };
  // The trace lists the clauses from the query back to a fact, or from the fact forward: orient it.
  const clauses = known as NonNullable<(typeof known)[number]>[];
  const ordered = clauses[0]?.what.kind === 'init' ? clauses : [...clauses].reverse();
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  if (first?.what.kind !== 'init' || !last || !['invariant', 'modelError', 'stepProperty'].includes(last.what.kind)) {
    return { status: 'disagree', message: `Spacer's derivation is not a start fact, steps and an obligation: ${names.join(';')}`, elapsedMs: elapsed() };
  }
  const choices = [first.what.init];
  const steps = ordered.slice(1, -1);
  if (steps.some((c) => c.what.kind !== 'step'))
    return { status: 'disagree', message: `Spacer's derivation has an obligation in the middle: ${names.join(';')}`, elapsedMs: elapsed() };
  for (const c of steps) if (c.what.kind === 'step') choices.push(c.what.instance);
  // A step property is broken by its own step: that instance is the path's last step.
  if (last.what.kind === 'stepProperty') choices.push(last.what.instance);
  const states: Int32Array[] = [];
  try {
    const init = model.inits[first.what.init];
    if (!init) throw new Error('no such start state');
    let s = initState(model, init);
    states.push(s);
    for (const id of choices.slice(1)) {
      const inst = model.instances[id];
      if (!inst || !enabled(model, inst, s)) {
        return { status: 'disagree', message: `Spacer's derivation takes ${inst?.label ?? id}, which the interpreter finds disabled`, elapsedMs: elapsed() };
      }
      s = applyRule(model, inst, s);
      states.push(s);
    }
  } catch (e) {
    if (e instanceof ModelRuntimeError)
      return { status: 'disagree', message: `the interpreter raises a model error along Spacer's derivation: ${e.message}`, elapsedMs: elapsed() };
    throw e;
  }
  return { status: 'unsafe', path: { choices, states, fromInit: true }, clause: last.name, elapsedMs: elapsed() };
}

/**
 * Spacer's inductive invariant for `Reach`, as an expression over the model's state, when its atoms
 * are ones the printer knows; null otherwise (with the reason).
 */
function safeInvariant(session: SmtSession, fp: Z3_fixedpoint, sys: ChcSystem, model: Model): { invariant: Expr | null; why: string } {
  const { z, ctx } = session;
  const delta = z.fixedpoint_get_cover_delta(ctx, fp, -1, sys.reach);
  // The cover speaks of Reach's arguments as bound variables 0..n-1.
  const bounds = sys.vars.map((v, j) => z.mk_bound(ctx, j, z.get_sort(ctx, v)));
  const inv = z.substitute(ctx, delta, bounds, [...sys.vars]);
  session.checkError();
  return printInvariant(session, sys, model, inv);
}

/**
 * A formula `t` over the slot variables of `sys` (as Spacer's invariant is, once read back) as a
 * model-language expression, or null with the reason when it has a term the printer does not know;
 * exported for the printer's own tests (spacerPrinter.test.ts).
 */
export function printInvariant(session: SmtSession, sys: ChcSystem, model: Model, t: Z3_ast): { invariant: Expr | null; why: string } {
  try {
    return { invariant: toExpr(session, sys, model, t), why: '' };
  } catch (e) {
    if (e instanceof Unprintable) return { invariant: null, why: e.message };
    throw e;
  }
}

class Unprintable extends Error {}

/** A formula over the slot variables as a model-language expression (atoms: slot op constant, slot = slot, a bit of a slot). */
function toExpr(session: SmtSession, sys: ChcSystem, model: Model, t: Z3_ast): Expr {
  const { z, ctx } = session;
  const types = model.layout.slotTypes;
  const slotOf = new Map(sys.vars.map((v, j) => [z.get_ast_id(ctx, v), j]));
  const kindOf = (a: Z3_ast) => z.get_decl_kind(ctx, z.get_app_decl(ctx, z.to_app(ctx, a)));
  const args = (a: Z3_ast) => Array.from({ length: z.get_app_num_args(ctx, z.to_app(ctx, a)) }, (_, i) => z.get_app_arg(ctx, z.to_app(ctx, a), i));
  const slot = (a: Z3_ast): number | undefined => slotOf.get(z.get_ast_id(ctx, a));
  const num = (a: Z3_ast): number | undefined => (z.is_numeral_ast(ctx, a) ? Number(z.get_numeral_string(ctx, a)) : undefined);
  const values = (j: number, keep: (code: number) => boolean): number[] => {
    const ty = types[j];
    if (!ty) throw new Unprintable('bad slot');
    const out: number[] = [];
    for (let c = 0; c < 2 ** (ty.kind === 'bool' ? 1 : sys.ops.slotWidth(ty)); c++)
      if (keep(c) && c < (ty.kind === 'bool' ? 2 : (sys.ops.maxCode(ty) ?? Number.POSITIVE_INFINITY) + 1)) out.push(fromCode(ty, c));
    return out;
  };
  // Bit `i` of a slot's code: `((_ extract i i) x)` compared with #b0/#b1, or `((_ bit2bool i) x)`.
  const bitOf = (a: Z3_ast): { j: number; i: number } | null => {
    if (z.get_ast_kind(ctx, a) !== 1) return null;
    const k = kindOf(a);
    const decl = z.get_app_decl(ctx, z.to_app(ctx, a));
    const [x] = args(a);
    const j = x === undefined ? undefined : slot(x);
    if (j === undefined) return null;
    if (k === 1059) {
      const hi = z.get_decl_int_parameter(ctx, decl, 0);
      const lo = z.get_decl_int_parameter(ctx, decl, 1);
      return hi === lo ? { j, i: lo } : null;
    }
    if (k === 1071) return { j, i: z.get_decl_int_parameter(ctx, decl, 0) };
    return null;
  };
  const bitIs = (b: { j: number; i: number }, v: number) => exprOfLits(model, [{ slot: b.j, values: values(b.j, (c) => ((c >> b.i) & 1) === v) }]);
  // Two slots of one sort with equal codes. Their values are equal when both types compare (which
  // makes them of one kind) and count from the same value; otherwise (ranges from different bounds,
  // an option and its inner type, two enums) the codes they share are listed, pair by pair.
  const sameCode = (jx: number, jy: number): Expr => {
    const [tx, ty] = [types[jx], types[jy]];
    if (!tx || !ty) throw new Unprintable('bad slot');
    if (compatible(tx, ty) && fromCode(tx, 0) === fromCode(ty, 0)) return exprOfLits(model, [], [jx, jy]);
    const ys = new Set(values(jy, () => true).map((v) => toCode(ty, v)));
    const shared = values(jx, () => true)
      .map((v) => toCode(tx, v))
      .filter((c) => ys.has(c));
    return or(
      ...shared.map((c) =>
        exprOfLits(model, [
          { slot: jx, values: [fromCode(tx, c)] },
          { slot: jy, values: [fromCode(ty, c)] },
        ]),
      ),
    );
  };
  const go = (a: Z3_ast): Expr => {
    if (z.get_ast_kind(ctx, a) !== 1) throw new Unprintable(`Spacer's invariant has a quantifier or variable: ${z.ast_to_string(ctx, a).slice(0, 200)}`);
    const j = slot(a);
    if (j !== undefined) return exprOfLits(model, [{ slot: j, values: [1] }]);
    const k = kindOf(a);
    const xs = args(a);
    if (k === 1071) {
      const b = bitOf(a);
      if (b) return bitIs(b, 1);
    }
    switch (k) {
      case 256:
        return and(true); // Z3_OP_TRUE
      case 257:
        return or(false); // Z3_OP_FALSE
      case 261:
        return and(...xs.map(go)); // AND
      case 262:
        return or(...xs.map(go)); // OR
      case 263:
        return or(and(go(xs[0] as Z3_ast), go(xs[1] as Z3_ast)), and(not(go(xs[0] as Z3_ast)), not(go(xs[1] as Z3_ast)))); // IFF
      case 265:
        return not(go(xs[0] as Z3_ast)); // NOT
      case 266:
        return or(not(go(xs[0] as Z3_ast)), go(xs[1] as Z3_ast)); // IMPLIES
      case 258: {
        // EQ
        const [x, y] = xs as [Z3_ast, Z3_ast];
        const jx = slot(x);
        const jy = slot(y);
        if (jx !== undefined && num(y) !== undefined) return exprOfLits(model, [{ slot: jx, values: values(jx, (c) => c === num(y)) }]);
        if (jy !== undefined && num(x) !== undefined) return exprOfLits(model, [{ slot: jy, values: values(jy, (c) => c === num(x)) }]);
        if (jx !== undefined && jy !== undefined) return sameCode(jx, jy);
        const bx = bitOf(x);
        const by = bitOf(y);
        if (bx && num(y) !== undefined) return bitIs(bx, num(y) as number);
        if (by && num(x) !== undefined) return bitIs(by, num(x) as number);
        if (z.get_sort_kind(ctx, z.get_sort(ctx, x)) === 1) return or(and(go(x), go(y)), and(not(go(x)), not(go(y))));
        break;
      }
      case 1041: // bvule
      case 1043: // bvuge
      case 1045: // bvult
      case 1047: {
        // bvugt
        const [x, y] = xs as [Z3_ast, Z3_ast];
        const rel = (c: number, d: number) => (k === 1041 ? c <= d : k === 1043 ? c >= d : k === 1045 ? c < d : c > d);
        const jx = slot(x);
        const jy = slot(y);
        const ny = num(y);
        const nx = num(x);
        if (jx !== undefined && ny !== undefined) return exprOfLits(model, [{ slot: jx, values: values(jx, (c) => rel(c, ny)) }]);
        if (jy !== undefined && nx !== undefined) return exprOfLits(model, [{ slot: jy, values: values(jy, (c) => rel(nx, c)) }]);
        break;
      }
      default:
        break;
    }
    throw new Unprintable(`Spacer's invariant uses a term the printer does not know: ${z.ast_to_string(ctx, a).slice(0, 200)}`);
  };
  return go(t);
}
