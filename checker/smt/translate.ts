/**
 * Translation of expressions and statements over the flat slot layout into symbolic values. Why this
 * module exists: bounded model checking and k-induction see a state as one scalar z3 term per slot
 * (the toolchain notes measured SMT arrays ten times slower), so every location is resolved to slot
 * offsets: a constant index picks one slot, a computed index becomes an if-then-else chain over the
 * slots it can name. Statements run in order on a map "slot -> current value", so later statements
 * see earlier assignments, exactly as the interpreter (model/lang/interp.ts) runs them.
 *
 * Model errors (unwrap of none, a value outside its range) are collected as conditions under the
 * path condition that reaches them, mirroring the interpreter's short-circuit evaluation.
 */
import type { Loc } from '../../model/lang/expr.js';
import { locShape, slotCount } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import { type ScalarType, cardinality, fromCode } from '../../model/lang/types.js';
import type { ExprOf, StmtOf } from '../../model/lang/visit.js';
import { ExprTranslator, type SymEnv } from './exprTranslator.js';
import type { BoolSym, NumLike, Sym, SymOps } from './symbolic.js';

/** Where expressions are evaluated and statements executed: one symbolic value per slot. */
export type SlotEnv = SymEnv<Sym>;

/** One slot a location may name, and when. */
interface Candidate {
  readonly off: number;
  readonly cond: BoolSym;
}

export class SlotTranslator extends ExprTranslator<Sym> {
  readonly model: Model;

  constructor(ops: SymOps, model: Model) {
    super(ops);
    this.model = model;
  }

  /** The slots a location may denote (its first slot, for a location of record or array type). */
  candidates(loc: Loc, env: SlotEnv): Candidate[] {
    const ops = this.ops;
    const shape = locShape(this.model.layout, loc);
    let list: Candidate[] = [{ off: shape.base, cond: ops.T }];
    for (const { e, stride, size } of shape.indexes) {
      const ix = ops.asNum(this.expr(e, env), 'an array index');
      if (ix.k === 'v') {
        list = list.map((c) => ({ off: c.off + ix.v * stride, cond: c.cond }));
        continue;
      }
      const next: Candidate[] = [];
      for (const c of list) {
        for (let i = Math.max(0, ix.lo); i <= Math.min(size - 1, ix.hi); i++) {
          next.push({ off: c.off + i * stride, cond: ops.and([c.cond, ops.eqNum(ix, { k: 'v', v: i })]) });
        }
      }
      list = next;
    }
    return list;
  }

  /** Reads a scalar location: an if-then-else chain when the index is computed. */
  read(loc: Loc, env: SlotEnv): Sym {
    const cs = this.candidates(loc, env);
    const last = cs[cs.length - 1];
    if (!last) throw new Error(`no slot for ${loc.varName}`);
    let r = env.cur[last.off] as Sym;
    for (let i = cs.length - 2; i >= 0; i--) {
      const c = cs[i] as Candidate;
      r = this.ops.ite(c.cond, env.cur[c.off] as Sym, r);
    }
    return r;
  }

  protected literalOf(e: ExprOf<'lit'>): Sym {
    return e.type.kind === 'bool' ? this.ops.lit(e.value !== 0) : { k: 'v', v: e.value };
  }

  protected readLoc(loc: Loc, env: SlotEnv): Sym {
    return this.read(loc, env);
  }

  /** Unrolled over the index values; forall stops at the first false body, exists at the first true one. */
  protected quantifier(e: ExprOf<'quant'>, env: SlotEnv): Sym {
    const ops = this.ops;
    const vals: BoolSym[] = [];
    let sum: NumLike = { k: 'v', v: 0 };
    for (let i = 0; i < e.index.size; i++) {
      const guard = e.q === 'forall' ? vals : e.q === 'exists' ? vals.map((x) => ops.not(x)) : [];
      const b = this.bound(env, e.id, { k: 'v', v: i }, () => this.bool(e.body, this.sub(env, ops.and([env.pc, ...guard]))));
      vals.push(b);
      if (e.q === 'count') sum = ops.arith('add', sum, ops.asNum(ops.ite(b, { k: 'v', v: 1 }, { k: 'v', v: 0 }), 'count'));
      else if (b.c === (e.q === 'exists')) break;
    }
    return e.q === 'forall' ? ops.and(vals) : e.q === 'exists' ? ops.or(vals) : sum;
  }

  /** An option's slot holds a number (-1 for none), so some(b) of a Boolean is its 0/1 value. */
  protected someOf(e: ExprOf<'some'>, env: SlotEnv): Sym {
    const x = this.expr(e.e, env);
    return x.k === 'b' ? this.ops.ite(x, { k: 'v', v: 1 }, { k: 'v', v: 0 }) : x;
  }

  protected ordOf(e: ExprOf<'ord'>, env: SlotEnv): Sym {
    return this.expr(e.e, env);
  }

  /** A value as stored in a slot of type `t`: bounds narrowed to the type (wider only on error paths). */
  private stored(t: ScalarType, v: Sym): Sym {
    if (v.k !== 'n') return v;
    const lo = fromCode(t, 0);
    const hi = fromCode(t, cardinality(t) - 1);
    return v.lo >= lo && v.hi <= hi ? v : this.ops.slotSym(t, this.ops.slotTerm(t, v));
  }

  protected assign(st: StmtOf<'assign'>, env: SlotEnv): void {
    const ops = this.ops;
    const t = st.loc.type as ScalarType;
    const cs = this.candidates(st.loc, env);
    let v = this.expr(st.e, env);
    if (t.kind !== 'bool') {
      const n = ops.asNum(v, 'an assignment');
      this.fail(env, ops.not(ops.inRange(n, fromCode(t, 0), fromCode(t, cardinality(t) - 1))));
      v = this.stored(t, n);
    }
    for (const c of cs) env.cur[c.off] = ops.ite(c.cond, v, env.cur[c.off] as Sym);
  }

  protected reset(st: StmtOf<'reset'>, env: SlotEnv): void {
    const ops = this.ops;
    const n = slotCount(st.loc.type);
    for (const c of this.candidates(st.loc, env)) {
      for (let k = 0; k < n; k++) {
        const off = c.off + k;
        const d = ops.defaultSym(this.model.layout.slotTypes[off] as ScalarType);
        env.cur[off] = ops.ite(c.cond, d, env.cur[off] as Sym);
      }
    }
  }

  protected forEach(st: StmtOf<'forEach'>, env: SlotEnv): void {
    for (let i = 0; i < st.index.size; i++) this.bound(env, st.id, { k: 'v', v: i }, () => this.exec(st.body, env));
  }

  protected join(c: BoolSym, a: Sym, b: Sym): Sym {
    return this.ops.ite(c, a, b);
  }
}
