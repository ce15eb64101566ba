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
import type { Expr, Loc } from '../../model/lang/expr.js';
import { slotCount } from '../../model/lang/layout.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Stmt } from '../../model/lang/stmt.js';
import { type ScalarType, type Type, cardinality, fromCode } from '../../model/lang/types.js';
import { type BoolSym, type NumLike, SmtUnsupported, type Sym, type SymOps } from './symbolic.js';

/** Where expressions are evaluated and statements executed. */
export interface SlotEnv {
  /** Current value of every slot; statements replace entries (never mutate a Sym). */
  cur: Sym[];
  /** The state before the step, read by `pre(...)` (step properties and rule bodies). */
  readonly pre: readonly Sym[] | null;
  /** Values of bound variables (rule parameters, quantifier and loop variables). */
  readonly bind: Map<number, Sym>;
  /** The condition under which this code runs. */
  readonly pc: BoolSym;
  /** Conditions under which a model error is raised (shared by nested environments). */
  readonly errs: BoolSym[];
}

/** One slot a location may name, and when. */
interface Candidate { readonly off: number; readonly cond: BoolSym }

export class SlotTranslator {
  readonly ops: SymOps;
  readonly model: Model;

  constructor(ops: SymOps, model: Model) {
    this.ops = ops;
    this.model = model;
  }

  private fail(env: SlotEnv, bad: BoolSym): void {
    const c = this.ops.and([env.pc, bad]);
    if (c.c !== false) env.errs.push(c);
  }

  /** The slots a location may denote (its first slot, for a location of record or array type). */
  candidates(loc: Loc, env: SlotEnv): Candidate[] {
    const ops = this.ops;
    const v = this.model.layout.vars[loc.varIdx];
    if (!v) throw new Error(`unknown variable ${loc.varName}`);
    let list: Candidate[] = [{ off: v.base, cond: ops.T }];
    let t: Type = v.type;
    for (const p of loc.path) {
      if (p.kind === 'field') {
        if (t.kind !== 'record') throw new Error('field of a non-record');
        let k = 0;
        for (const [f, ft] of Object.entries(t.fields)) {
          if (f === p.name) {
            t = ft;
            break;
          }
          k += slotCount(ft);
        }
        list = list.map((c) => ({ off: c.off + k, cond: c.cond }));
      } else {
        if (t.kind !== 'array') throw new Error('index of a non-array');
        const stride = slotCount(t.elem);
        const size = t.index.size;
        const ix = ops.asNum(this.expr(p.e, env), 'an array index');
        if (ix.k === 'v') {
          list = list.map((c) => ({ off: c.off + ix.v * stride, cond: c.cond }));
        } else {
          const next: Candidate[] = [];
          for (const c of list) {
            for (let i = Math.max(0, ix.lo); i <= Math.min(size - 1, ix.hi); i++) {
              next.push({ off: c.off + i * stride, cond: ops.and([c.cond, ops.eqNum(ix, { k: 'v', v: i })]) });
            }
          }
          list = next;
        }
        t = t.elem;
      }
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

  private sub(env: SlotEnv, pc: BoolSym): SlotEnv {
    return { cur: env.cur, pre: env.pre, bind: env.bind, pc, errs: env.errs };
  }

  bool(e: Expr, env: SlotEnv): BoolSym {
    return this.ops.asBool(this.expr(e, env));
  }

  private num(e: Expr, env: SlotEnv, what: string): NumLike {
    return this.ops.asNum(this.expr(e, env), what);
  }

  /** The symbolic value of an expression. */
  expr(e: Expr, env: SlotEnv): Sym {
    const ops = this.ops;
    switch (e.op) {
      case 'lit': return e.type.kind === 'bool' ? ops.lit(e.value !== 0) : { k: 'v', v: e.value };
      case 'var': {
        const v = env.bind.get(e.id);
        if (v === undefined) throw new Error(`unbound variable ${e.name}`);
        return v;
      }
      case 'read': return this.read(e.loc, env);
      case 'pre': {
        if (!env.pre) throw new SmtUnsupported('pre() used outside a step');
        return this.expr(e.e, { cur: env.pre as Sym[], pre: null, bind: env.bind, pc: env.pc, errs: env.errs });
      }
      case 'not': return ops.not(this.bool(e.e, env));
      case 'and':
      case 'or': {
        // Later arguments are evaluated only when earlier ones did not decide (short-circuit).
        const done: BoolSym[] = [];
        for (const a of e.args) {
          const guard = e.op === 'and' ? done : done.map((d) => ops.not(d));
          const x = this.bool(a, this.sub(env, ops.and([env.pc, ...guard])));
          done.push(x);
          if (x.c === (e.op === 'or')) break;
        }
        return e.op === 'and' ? ops.and(done) : ops.or(done);
      }
      case 'implies': {
        const a = this.bool(e.a, env);
        const b = this.bool(e.b, this.sub(env, ops.and([env.pc, a])));
        return ops.implies(a, b);
      }
      case 'cmp': {
        const a = this.expr(e.a, env);
        const b = this.expr(e.b, env);
        switch (e.cmp) {
          case 'eq': return ops.eq(a, b);
          case 'ne': return ops.not(ops.eq(a, b));
          case 'lt': return ops.lessNum(ops.asNum(a, 'lt'), ops.asNum(b, 'lt'), true);
          case 'le': return ops.lessNum(ops.asNum(a, 'le'), ops.asNum(b, 'le'), false);
          case 'gt': return ops.lessNum(ops.asNum(b, 'gt'), ops.asNum(a, 'gt'), true);
          case 'ge': return ops.lessNum(ops.asNum(b, 'ge'), ops.asNum(a, 'ge'), false);
        }
        break;
      }
      case 'arith': return ops.arith(e.fn, this.num(e.a, env, e.fn), this.num(e.b, env, e.fn));
      case 'ite': {
        const c = this.bool(e.c, env);
        if (c.c !== undefined) return this.expr(c.c ? e.a : e.b, env);
        const a = this.expr(e.a, this.sub(env, ops.and([env.pc, c])));
        const b = this.expr(e.b, this.sub(env, ops.and([env.pc, ops.not(c)])));
        return ops.ite(c, a, b);
      }
      case 'quant': {
        const saved = env.bind.get(e.id);
        const vals: BoolSym[] = [];
        let sum: NumLike = { k: 'v', v: 0 };
        for (let i = 0; i < e.index.size; i++) {
          env.bind.set(e.id, { k: 'v', v: i });
          // forall stops at the first false body, exists at the first true one.
          const guard = e.q === 'forall' ? vals : e.q === 'exists' ? vals.map((x) => ops.not(x)) : [];
          const b = this.bool(e.body, this.sub(env, ops.and([env.pc, ...guard])));
          vals.push(b);
          if (e.q === 'count') sum = ops.arith('add', sum, ops.asNum(ops.ite(b, { k: 'v', v: 1 }, { k: 'v', v: 0 }), 'count'));
          else if (b.c === (e.q === 'exists')) break;
        }
        if (saved === undefined) env.bind.delete(e.id);
        else env.bind.set(e.id, saved);
        return e.q === 'forall' ? ops.and(vals) : e.q === 'exists' ? ops.or(vals) : sum;
      }
      case 'isSome': return ops.isSome(this.expr(e.e, env));
      case 'unwrap': {
        const x = this.expr(e.e, env);
        this.fail(env, ops.not(ops.isSome(x)));
        // The value inside an option of a Boolean is its 0/1 code: back to a Boolean.
        const v = ops.unwrap(x);
        return e.type.kind === 'bool' ? ops.eq(v, { k: 'v', v: 1 }) : v;
      }
      case 'some': {
        // An option's slot holds a number (-1 for none), so some(b) of a Boolean is its 0/1 value.
        const x = this.expr(e.e, env);
        return x.k === 'b' ? ops.ite(x, { k: 'v', v: 1 }, { k: 'v', v: 0 }) : x;
      }
      case 'ord': return this.expr(e.e, env);
    }
    throw new Error(`unknown expression ${(e as { op: string }).op}`);
  }

  /** A value as stored in a slot of type `t`: bounds narrowed to the type (wider only on error paths). */
  private stored(t: ScalarType, v: Sym): Sym {
    if (v.k !== 'n') return v;
    const lo = fromCode(t, 0);
    const hi = fromCode(t, cardinality(t) - 1);
    return v.lo >= lo && v.hi <= hi ? v : this.ops.slotSym(t, this.ops.slotTerm(t, v));
  }

  /** Executes statements, replacing entries of `env.cur`. */
  exec(stmts: readonly Stmt[], env: SlotEnv): void {
    const ops = this.ops;
    for (const st of stmts) {
      switch (st.kind) {
        case 'assign': {
          const t = st.loc.type as ScalarType;
          const cs = this.candidates(st.loc, env);
          let v = this.expr(st.e, env);
          if (t.kind !== 'bool') {
            const n = ops.asNum(v, 'an assignment');
            this.fail(env, ops.not(ops.inRange(n, fromCode(t, 0), fromCode(t, cardinality(t) - 1))));
            v = this.stored(t, n);
          }
          for (const c of cs) env.cur[c.off] = c.cond.c === true ? v : ops.ite(c.cond, v, env.cur[c.off] as Sym);
          break;
        }
        case 'reset': {
          const n = slotCount(st.loc.type);
          for (const c of this.candidates(st.loc, env)) {
            for (let k = 0; k < n; k++) {
              const off = c.off + k;
              const d = ops.defaultSym(this.model.layout.slotTypes[off] as ScalarType);
              env.cur[off] = c.cond.c === true ? d : ops.ite(c.cond, d, env.cur[off] as Sym);
            }
          }
          break;
        }
        case 'if': {
          const c = this.bool(st.c, env);
          if (c.c !== undefined) {
            this.exec(c.c ? st.thenBody : st.elseBody, env);
            break;
          }
          const a: SlotEnv = { cur: [...env.cur], pre: env.pre, bind: env.bind, pc: ops.and([env.pc, c]), errs: env.errs };
          const b: SlotEnv = { cur: [...env.cur], pre: env.pre, bind: env.bind, pc: ops.and([env.pc, ops.not(c)]), errs: env.errs };
          this.exec(st.thenBody, a);
          this.exec(st.elseBody, b);
          for (let i = 0; i < env.cur.length; i++) {
            const x = a.cur[i] as Sym;
            const y = b.cur[i] as Sym;
            env.cur[i] = x === y ? x : ops.ite(c, x, y);
          }
          break;
        }
        case 'forEach': {
          const saved = env.bind.get(st.id);
          for (let i = 0; i < st.index.size; i++) {
            env.bind.set(st.id, { k: 'v', v: i });
            this.exec(st.body, env);
          }
          if (saved === undefined) env.bind.delete(st.id);
          else env.bind.set(st.id, saved);
          break;
        }
      }
    }
  }
}
