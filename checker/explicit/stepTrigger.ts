/**
 * Which steps can break a step property. Why this module exists: a step property checked on every
 * rule (`rule: null`) would otherwise make every rule instance a goal of the partial-order
 * reduction, and a protocol with one such property gets no reduction at all. Most step properties
 * are about a change ("a step that installs a translation ...", "a step that drops a writable
 * mapping ..."): a step that leaves some variable alone cannot break them. This module finds such a
 * variable (the property's trigger) by a sound symbolic check, so the reduction only has to treat
 * the writers of that variable as the property's steps.
 *
 * The check: for a candidate variable v, every read of v in the post-state is taken as a read of the
 * pre-state (what it is on a step that does not write v), and the predicate is simplified. If it
 * simplifies to true, no step that leaves v unchanged can break the property. The simplifier only
 * uses rules that hold for every value: equal terms are equal (`x = x`, `x <= x`), a conjunction
 * holding a formula and its negation is false (a disjunction: true), `isSome(some(x))`, constant
 * folding through `not`, `and`, `or`, `implies`, `ite` and the quantifiers. Anything it cannot
 * decide stays an opaque atom, so "true" is only ever returned for a valid formula.
 */
import type { Expr, Loc } from '../../model/lang/expr.js';
import { locIndexExprs, subExprs } from '../../model/lang/visit.js';

/** Evaluation context of a read: the state after the step, or the state before it (`pre`). */
type Ctx = 'post' | 'pre';

/** A simplified formula: a constant, or an opaque atom named by its key ('!' prefix: negated). */
type Formula = boolean | string;

class Simplifier {
  /** Names of the quantified variables in scope, by depth: alpha-equivalent formulas get one key. */
  private readonly bound = new Map<number, string>();

  constructor(
    /** Index of the variable whose post-state reads are taken as pre-state reads. */
    private readonly frozen: number,
  ) {}

  /** `key` of a quantifier's body, with its variable named by its depth. */
  private under<T>(e: Extract<Expr, { op: 'quant' }>, key: () => T): T {
    this.bound.set(e.id, `Q${this.bound.size}`);
    try {
      return key();
    } finally {
      this.bound.delete(e.id);
    }
  }

  private locKey(loc: Loc, ctx: Ctx): string {
    let ix: Ctx = ctx;
    // The whole read moves to the pre-state (`unbreakableWithout` checks first that its indexes do not read the post-state).
    if (ctx === 'post' && loc.varIdx === this.frozen) ix = 'pre';
    const path = loc.path.map((p) => (p.kind === 'field' ? `.${p.name}` : `[${this.value(p.e, ix)}]`)).join('');
    return `${ix}:${loc.varIdx}${path}`;
  }

  /** A key naming the value of `e`: two expressions with the same key have the same value. */
  value(e: Expr, ctx: Ctx): string {
    switch (e.op) {
      case 'lit':
        return `L${e.value}`;
      case 'var':
        return this.bound.get(e.id) ?? `V${e.id}`;
      case 'read':
        return this.locKey(e.loc, ctx);
      case 'pre':
        return this.value(e.e, 'pre');
      case 'arith':
        return `${e.fn}(${this.value(e.a, ctx)},${this.value(e.b, ctx)})`;
      case 'quant':
        if (e.q === 'count') return `count:${e.index.name}(${this.under(e, () => this.value(e.body, ctx))})`;
        return `F(${this.formula(e, ctx)})`;
      case 'ite':
        return `ite(${this.value(e.c, ctx)},${this.value(e.a, ctx)},${this.value(e.b, ctx)})`;
      case 'unwrap':
      case 'some':
      case 'ord':
        return `${e.op}(${this.value(e.e, ctx)})`;
      default:
        return `F(${this.formula(e, ctx)})`;
    }
  }

  /** The simplified truth value of a boolean expression. */
  formula(e: Expr, ctx: Ctx): Formula {
    switch (e.op) {
      case 'lit':
        return e.value !== 0;
      case 'pre':
        return this.formula(e.e, 'pre');
      case 'not':
        return negate(this.formula(e.e, ctx));
      case 'and':
        return junction(
          e.args.map((x) => this.formula(x, ctx)),
          false,
        );
      case 'or':
        return junction(
          e.args.map((x) => this.formula(x, ctx)),
          true,
        );
      case 'implies':
        return junction([negate(this.formula(e.a, ctx)), this.formula(e.b, ctx)], true);
      case 'ite': {
        const c = this.formula(e.c, ctx);
        if (c === true) return this.formula(e.a, ctx);
        if (c === false) return this.formula(e.b, ctx);
        const a = this.formula(e.a, ctx);
        const b = this.formula(e.b, ctx);
        if (a === b) return a;
        return `ite(${c},${a},${b})`;
      }
      case 'quant': {
        // A count is an int, never a formula; an index type has at least one value (types.ts).
        const body = this.under(e, () => this.formula(e.body, ctx));
        return typeof body === 'boolean' ? body : `${e.q}:${e.index.name}(${body})`;
      }
      case 'cmp': {
        const a = this.value(e.a, ctx);
        const b = this.value(e.b, ctx);
        const la = e.a.op === 'lit' ? e.a.value : null;
        const lb = e.b.op === 'lit' ? e.b.value : null;
        if (a === b || (la !== null && lb !== null)) {
          const [x, y] = a === b ? [0, 0] : [la as number, lb as number];
          return { eq: x === y, ne: x !== y, lt: x < y, le: x <= y, gt: x > y, ge: x >= y }[e.cmp];
        }
        // `ne` is the negation of `eq`, `ge` of `lt`, `gt` of `le` (b, a): one atom for each pair.
        const [p, q] = a < b ? [a, b] : [b, a];
        switch (e.cmp) {
          case 'eq':
            return `eq(${p},${q})`;
          case 'ne':
            return `!eq(${p},${q})`;
          case 'lt':
            return `lt(${a},${b})`;
          case 'ge':
            return `!lt(${a},${b})`;
          case 'gt':
            return `lt(${b},${a})`;
          default:
            return `!lt(${b},${a})`;
        }
      }
      case 'isSome':
        // (A literal none or some cannot be written as the operand of isSome: it has no type there.)
        if (e.e.op === 'some') return true;
        return `isSome(${this.value(e.e, ctx)})`;
      default:
        return `B(${this.value(e, ctx)})`;
    }
  }
}

const negate = (f: Formula): Formula => (typeof f === 'boolean' ? !f : f.startsWith('!') ? f.slice(1) : `!${f}`);

/** A conjunction (`any` false) or disjunction (`any` true) of simplified parts. */
function junction(parts: readonly Formula[], any: boolean): Formula {
  const atoms = new Set<string>();
  for (const p of parts) {
    if (p === any) return any;
    if (typeof p === 'string') {
      if (atoms.has(negate(p) as string)) return any;
      atoms.add(p);
    }
  }
  if (atoms.size === 0) return !any;
  if (atoms.size === 1) return [...atoms][0] as string;
  return `${any ? 'or' : 'and'}(${[...atoms].sort().join(',')})`;
}

/** The reads of `e` in the post-state (outside every `pre`), those inside index expressions included. */
export function postReads(e: Expr, out: Extract<Expr, { op: 'read' }>[] = []): Extract<Expr, { op: 'read' }>[] {
  if (e.op === 'pre') return out;
  if (e.op === 'read') out.push(e);
  for (const x of subExprs(e)) postReads(x, out);
  return out;
}

/** Whether `e` reads the post-state anywhere. */
const readsPost = (e: Expr): boolean => postReads(e).length > 0;

/** The variables `e` reads in the post-state, by index. */
export const postReadVariables = (e: Expr): Set<number> => new Set(postReads(e).map((r) => r.loc.varIdx));

/**
 * Whether a step that leaves variable `varIdx` unchanged can never break the step property `pred`:
 * true only when that is proved by the simplification described in the module comment.
 */
export function unbreakableWithout(pred: Expr, varIdx: number): boolean {
  // A read of the variable indexed by a post-state value may name another slot before the step.
  if (postReads(pred).some((r) => r.loc.varIdx === varIdx && locIndexExprs(r.loc).some(readsPost))) return false;
  return new Simplifier(varIdx).formula(pred, 'post') === true;
}
