/**
 * Property kinds. Why this module exists: properties are named predicates written in the modelling
 * language, each citing the spec requirement it checks, so that every engine evaluates the same
 * thing and every report can say which requirement of which spec was broken.
 */
import { type Expr, type Operand, boolExpr, fail, freshVar, within } from '../model/lang/expr.js';
import type { Model, ProtocolDef, RuleDef } from '../model/lang/protocol.js';
import { scopeProblem } from '../model/lang/visit.js';
import type { IndexType } from '../model/lang/types.js';

interface PropertyBase {
  /** kebab-case name, as users type it. */
  readonly name: string;
  /** The spec requirement it checks, e.g. `FM-R3`. */
  readonly requirement: string;
  /** One line in plain words. */
  readonly doc: string;
}

/** Holds in every reachable state. */
export interface Invariant extends PropertyBase {
  readonly kind: 'invariant';
  readonly pred: Expr;
}
/**
 * Holds on every step (pre-state, rule instance, post-state). Plain references read the post-state;
 * `pre(x)` reads the pre-state. With `rule` set, only steps of that rule are checked, and `pred` may
 * use that rule's parameters.
 */
export interface StepProperty extends PropertyBase {
  readonly kind: 'step';
  readonly rule: string | null;
  readonly pred: Expr;
}
/** Must be reachable: a cover never reached means the model may be vacuous. */
export interface Cover extends PropertyBase {
  readonly kind: 'cover';
  readonly pred: Expr;
}

/**
 * A temporal property checked under the fairness the rules declare:
 * - `eventually`: every behaviour reaches a state where `q` holds (`p` unused, true);
 * - `leadsTo`: every state where `p` holds is followed (now or later) by one where `q` holds;
 * - `alwaysEventually`: `q` holds infinitely often (equivalently `true leadsTo q` from every state).
 * A counterexample is a lasso: a prefix and a loop that repeats forever without reaching `q`.
 */
export interface Liveness extends PropertyBase {
  readonly kind: 'liveness';
  readonly form: 'eventually' | 'leadsTo' | 'alwaysEventually';
  readonly p: Expr;
  readonly q: Expr;
  /**
   * Set for a per-instance property (`leadsToEach`): `p` and `q` mention the index variable `v`,
   * and the property is checked once for every value of `index` (for each DMA slot, each page).
   */
  readonly each?: { readonly index: IndexType; readonly v: Expr };
}

/** Any property kind: invariant, step property, cover or liveness. */
export type Property = Invariant | StepProperty | Cover | Liveness;

/** `p ~> q`: every state satisfying p is followed by one satisfying q. */
export function leadsTo(name: string, requirement: string, doc: string, p: Operand, q: Operand): Liveness {
  return within(`liveness ${name}`, () => ({
    kind: 'liveness' as const,
    form: 'leadsTo' as const,
    name,
    requirement,
    doc,
    p: statePredicate('leadsTo', p),
    q: statePredicate('leadsTo', q),
  }));
}

/**
 * `p(i) ~> q(i)` for every value `i` of an index type, e.g. every stalled DMA slot completes:
 * `leadsToEach('stall-completes', 'FM-L1', '...', Slot, (d) => [eq(dma.at(d).f('state'), 'stalled'), eq(dma.at(d).f('state'), 'idle')])`.
 */
export function leadsToEach(name: string, requirement: string, doc: string, index: IndexType, fn: (i: Expr) => readonly [Operand, Operand]): Liveness {
  return within(`liveness ${name}`, () => {
    const v = freshVar(index, index.name.toLowerCase());
    const [p, q] = fn(v);
    const each = new Set([(v as { id: number }).id]);
    return {
      kind: 'liveness' as const,
      form: 'leadsTo' as const,
      name,
      requirement,
      doc,
      p: statePredicate('leadsTo', p, each),
      q: statePredicate('leadsTo', q, each),
      each: { index, v },
    };
  });
}

/** `<> q` from the start states. */
export function eventually(name: string, requirement: string, doc: string, q: Operand): Liveness {
  return within(`liveness ${name}`, () => ({
    kind: 'liveness' as const,
    form: 'eventually' as const,
    name,
    requirement,
    doc,
    p: boolExpr(true, 'eventually'),
    q: statePredicate('eventually', q),
  }));
}

/** `[]<> q`. */
export function alwaysEventually(name: string, requirement: string, doc: string, q: Operand): Liveness {
  return within(`liveness ${name}`, () => ({
    kind: 'liveness' as const,
    form: 'alwaysEventually' as const,
    name,
    requirement,
    doc,
    p: boolExpr(true, 'alwaysEventually'),
    q: statePredicate('alwaysEventually', q),
  }));
}

/** A predicate on one state: no free variables (only those of its own quantifiers), no `pre(...)`. */
function statePredicate(what: string, pred: Operand, allowed: ReadonlySet<number> = new Set()): Expr {
  const e = boolExpr(pred, what);
  const wrong = scopeProblem(e, allowed, false);
  return wrong ? fail(wrong) : e;
}

/** Holds in every reachable state. */
export function invariant(name: string, requirement: string, doc: string, pred: Operand): Invariant {
  return { kind: 'invariant', name, requirement, doc, pred: within(`invariant ${name}`, () => statePredicate('invariant', pred)) };
}

/** Must be reachable: a cover never reached means the model may be vacuous. */
export function cover(name: string, requirement: string, doc: string, pred: Operand): Cover {
  return { kind: 'cover', name, requirement, doc, pred: within(`cover ${name}`, () => statePredicate('cover', pred)) };
}

/** A step property on the steps of one rule of `model` (its parameters are passed to `fn`). */
export function stepProperty(
  model: Model,
  name: string,
  requirement: string,
  doc: string,
  rule: string | null,
  fn: (args: Readonly<Record<string, Expr>>) => Operand,
): StepProperty {
  return within(`step property ${name}`, () => {
    let args: Record<string, Expr> = {};
    if (rule !== null) {
      const r = model.rules.find((x) => x.name === rule);
      if (!r) fail(`no rule ${rule} in ${model.protocol} (rules: ${model.rules.map((x) => x.name).join(', ')})`);
      args = Object.fromEntries((r as RuleDef).params.map((p) => [p.name, p.v]));
    }
    const pred = boolExpr(fn(args), 'step property');
    const wrong = scopeProblem(pred, new Set(Object.values(args).map((v) => (v as { id: number }).id)), true);
    if (wrong) fail(wrong);
    return { kind: 'step' as const, name, requirement, doc, rule, pred };
  });
}

/**
 * Facts a protocol supplies for proofs (checker/smt: `prove`, `proveUnbounded`), beyond its
 * properties. They are not checked by the other engines, so they never change a check's verdict or
 * counterexample.
 * - `strengthening`: invariants true in every reachable state which, together with the safety
 *   invariants, are inductive (every rule preserves their conjunction). A wrong one is rejected by
 *   the proof with a counterexample to induction (or a trace when it fails in a reachable state).
 * - `initCondition`: a description of the start states written without index literals, so it means
 *   the same at every size (the proof for all sizes starts from it; every start state is checked to
 *   satisfy it at the sizes the model is built with).
 * - `fixedIndexes`: index types the proof for every size keeps at their built size.
 */
export interface ProofHints {
  readonly strengthening: readonly Invariant[];
  readonly initCondition?: Expr;
  /**
   * Index types the proof for every size (`prove --unbounded`) keeps at their built size, because
   * the model numbers their values (index literals, `count`, `ord` as a number); the proof then
   * covers every size of the other index types only, and says so.
   */
  readonly fixedIndexes?: readonly string[];
}

/** The properties of one protocol, built against a built model (its handles and rules). */
export interface PropertySet<H> {
  readonly protocol: ProtocolDef<H>;
  build(model: Model<H>): readonly Property[];
  /** Optional facts for proofs (see ProofHints). */
  readonly proofHints?: (model: Model<H>) => ProofHints;
}

/** Declares the properties of a protocol (built against each built model) and, optionally, its proof hints. */
export function definePropertySet<H>(
  protocol: ProtocolDef<H>,
  build: (model: Model<H>) => readonly Property[],
  proofHints?: (model: Model<H>) => ProofHints,
): PropertySet<H> {
  return proofHints ? { protocol, build, proofHints } : { protocol, build };
}

/** The safety properties of a set (invariants and step properties): what BMC and the proofs check. */
export function safetyProperties(ps: readonly Property[]): (Invariant | StepProperty)[] {
  return ps.filter((p): p is Invariant | StepProperty => p.kind === 'invariant' || p.kind === 'step');
}

/** The name deadlock reports use (a state with no enabled rule that is not a legal end state). */
export const DEADLOCK = 'deadlock';
