/**
 * Small mutations of a built model, for tests that show a property catches a broken protocol. Why
 * this module exists: a property set must catch bugs other than the protocol's named variants, so
 * each property is also tried against a one-step mutation of the correct model (a write removed,
 * a guard weakened) without adding test-only knobs to the protocol itself.
 */
import type { Expr } from '../model/lang/expr.js';
import type { Model, RuleDef } from '../model/lang/protocol.js';
import type { Stmt } from '../model/lang/stmt.js';

/** The model with rule `name` replaced by `fn(rule)`; instances keep their ids. */
export function withRule<H>(model: Model<H>, name: string, fn: (r: RuleDef) => { guard?: Expr; body?: readonly Stmt[] }): Model<H> {
  const idx = model.rules.findIndex((r) => r.name === name);
  if (idx < 0) throw new Error(`no rule ${name} in ${model.protocol}`);
  const old = model.rules[idx] as RuleDef;
  const repl = fn(old);
  const rule: RuleDef = { ...old, guard: repl.guard ?? old.guard, body: repl.body ?? old.body };
  const rules = model.rules.map((r, i) => (i === idx ? rule : r));
  return { ...model, rules, instances: model.instances.map((inst) => (inst.ruleIdx === idx ? { ...inst, rule } : inst)) };
}

/** Whether statement `s` writes variable `varName` (and, when given, a path ending in field `field`). */
function writes(s: Stmt, varName: string, field?: string): boolean {
  if (s.kind !== 'assign' && s.kind !== 'reset') return false;
  if (s.loc.varName !== varName) return false;
  if (field === undefined) return true;
  const last = s.loc.path[s.loc.path.length - 1];
  return last?.kind === 'field' && last.name === field;
}

/** Removes, at any depth, the statements that write `varName` (or its field `field`). */
export function dropWrites(body: readonly Stmt[], varName: string, field?: string): Stmt[] {
  const out: Stmt[] = [];
  for (const s of body) {
    if (writes(s, varName, field)) continue;
    if (s.kind === 'if') out.push({ ...s, thenBody: dropWrites(s.thenBody, varName, field), elseBody: dropWrites(s.elseBody, varName, field) });
    else if (s.kind === 'forEach') out.push({ ...s, body: dropWrites(s.body, varName, field) });
    else out.push(s);
  }
  return out;
}

/** The model with rule `name` no longer writing `varName` (or its field `field`). */
export function withoutWrites<H>(model: Model<H>, name: string, varName: string, field?: string): Model<H> {
  return withRule(model, name, (r) => {
    const body = dropWrites(r.body, varName, field);
    if (JSON.stringify(body) === JSON.stringify(r.body)) throw new Error(`rule ${name} writes no ${varName}${field ? `.${field}` : ''}`);
    return { body };
  });
}
