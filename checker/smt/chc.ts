/**
 * The model as constrained Horn clauses. Why this module exists: IC3/PDR (z3's Spacer engine)
 * proves safety without hand-written invariants by finding an inductive invariant itself, and it
 * reads a transition system as Horn clauses over one relation `Reach` of the state. The state is the
 * flat slot vector that bounded model checking uses (one Boolean or bit-vector per slot, through
 * translate.ts and symbolic.ts), so both engines read the same encoding of every rule:
 * - one fact per start state: `Reach(init_k)`;
 * - one clause per rule instance (its parameters are fixed): `Reach(s) & guard(s) & no model error
 *   in the body => Reach(next(s))`, with `next` the body's effect, slot by slot;
 * - one query clause per safety obligation, `Reach(s) & bad(s) => Err`: an invariant fails in `s`,
 *   an enabled instance raises a model error in `s`, or a step property fails on a step from `s`.
 * `Err` is derivable exactly when some reachable state breaks an obligation. Every clause is named
 * (`init:k`, `step:id`, `bad:...`), so a derivation of `Err` reads as a trace: the start state, the
 * instances taken, and the obligation broken (see pdr.ts).
 */
import type { Z3_ast, Z3_func_decl, Z3_sort } from 'z3-solver';
import type { Model, RuleInstance } from '../../model/lang/protocol.js';
import type { Invariant, StepProperty } from '../../properties/property.js';
import { type BoolSym, type Sym, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { type SlotEnv, SlotTranslator } from './translate.js';
import type { SmtSession } from './z3Host.js';

/** What a clause stands for. */
export type ChcClauseKind =
  | { readonly kind: 'init'; readonly init: number }
  | { readonly kind: 'step'; readonly instance: number }
  | { readonly kind: 'invariant'; readonly property: Invariant }
  | { readonly kind: 'stepProperty'; readonly property: StepProperty; readonly instance: number }
  | { readonly kind: 'modelError'; readonly instance: number };

/** One named Horn clause. */
export interface ChcClause {
  readonly name: string;
  readonly what: ChcClauseKind;
  /** `forall state. body => head` (a fact has no body). */
  readonly term: Z3_ast;
}

/** The Horn clauses of a model and the handles to read the solver's answers. */
export interface ChcSystem {
  readonly tm: Terms;
  readonly ops: SymOps;
  readonly tr: SlotTranslator;
  /** `Reach`, over the slot sorts in layout order. */
  readonly reach: Z3_func_decl;
  /** The nullary error relation the query asks about. */
  readonly err: Z3_func_decl;
  /** The state variables (one constant per slot), bound in every clause. */
  readonly vars: readonly Z3_ast[];
  /** The state variables as symbolic values (natural value = code + offset). */
  readonly state: readonly Sym[];
  readonly clauses: readonly ChcClause[];
  /** Clause name -> clause. */
  readonly byName: ReadonlyMap<string, ChcClause>;
}

/** What the clauses must prove. */
export interface ChcProperties {
  readonly invariants: readonly Invariant[];
  readonly steps: readonly StepProperty[];
}

function bindArgs(inst: RuleInstance): Map<number, Sym> {
  const m = new Map<number, Sym>();
  inst.rule.params.forEach((p, i) => {
    m.set((p.v as { id: number }).id, { k: 'v', v: inst.args[i] as number });
  });
  return m;
}

/**
 * Builds the Horn clauses of `model` for the safety obligations `props` (and that no enabled rule
 * raises a model error) in `session`. Throws SmtUnsupported when the translation cannot express
 * the model.
 */
export function buildChc(session: SmtSession, model: Model, props: ChcProperties): ChcSystem {
  const tm = new Terms(session);
  const ops = new SymOps(tm);
  const tr = new SlotTranslator(ops, model);
  const { layout } = model;
  const sorts = layout.slotTypes.map((ty) => (ty.kind === 'bool' ? tm.boolSort() : tm.bvSort(ops.slotWidth(ty))));
  const vars = layout.slotTypes.map((_, j) => tm.constant(`s.${layout.slotNames[j]}`, sorts[j] as Z3_sort));
  const state = layout.slotTypes.map((ty, j) => ops.slotSym(ty, vars[j] as Z3_ast));
  const reach = tm.func('Reach', sorts, tm.boolSort());
  const err = tm.func('Err', [], tm.boolSort());
  const reachOf = (cur: readonly Sym[]) =>
    tm.app(
      reach,
      layout.slotTypes.map((ty, j) => ops.slotTerm(ty, cur[j] as Sym)),
    );
  const here = tm.app(reach, vars);
  const errApp = tm.app(err, []);
  const env = (bind: Map<number, Sym>, pre: readonly Sym[] | null, pc: BoolSym, errs: BoolSym[], cur: readonly Sym[] = state): SlotEnv => ({
    cur: [...cur],
    pre,
    bind,
    pc,
    errs,
  });
  const clauses: ChcClause[] = [];
  const rule = (name: string, what: ChcClauseKind, body: BoolSym, head: Z3_ast) => {
    if (body.c === false) return;
    const premise = body.c === true ? here : tm.and([here, body.t]);
    clauses.push({ name, what, term: tm.forall(vars, tm.implies(premise, head)) });
  };

  // Start states.
  model.inits.forEach((init, k) => {
    const e = env(
      new Map(),
      null,
      ops.T,
      [],
      layout.slotTypes.map((ty) => ops.defaultSym(ty)),
    );
    tr.exec(init.body, e);
    clauses.push({ name: `init:${k}`, what: { kind: 'init', init: k }, term: reachOf(e.cur) });
  });

  // Steps, model errors and step properties, instance by instance.
  for (const inst of model.instances) {
    const bind = bindArgs(inst);
    const gErrs: BoolSym[] = [];
    const g = tr.bool(inst.rule.guard, env(bind, null, ops.T, gErrs));
    const bErrs: BoolSym[] = [];
    let next: Sym[] = [...state];
    if (g.c !== false) {
      const e = env(bind, state, g, bErrs);
      tr.exec(inst.rule.body, e);
      next = e.cur;
    }
    const fails = ops.or([...gErrs, ...bErrs]);
    rule(`error:${inst.id}`, { kind: 'modelError', instance: inst.id }, fails, errApp);
    if (g.c === false) continue;
    rule(`step:${inst.id}`, { kind: 'step', instance: inst.id }, ops.and([g, ops.not(fails)]), reachOf(next));
    for (const p of props.steps) {
      if (p.rule !== null && inst.rule.name !== p.rule) continue;
      const pErrs: BoolSym[] = [];
      const ok = tr.bool(p.pred, env(bind, state, ops.T, pErrs, next));
      rule(
        `stepProperty:${p.name}:${inst.id}`,
        { kind: 'stepProperty', property: p, instance: inst.id },
        ops.and([g, ops.not(fails), ops.or([ops.not(ok), ...pErrs])]),
        errApp,
      );
    }
  }

  // Invariants (an error evaluating one counts as its failure).
  for (const p of props.invariants) {
    const pErrs: BoolSym[] = [];
    const ok = tr.bool(p.pred, env(new Map(), null, ops.T, pErrs));
    rule(`invariant:${p.name}`, { kind: 'invariant', property: p }, ops.or([ops.not(ok), ...pErrs]), errApp);
  }
  return { tm, ops, tr, reach, err, vars, state, clauses, byName: new Map(clauses.map((c) => [c.name, c])) };
}
