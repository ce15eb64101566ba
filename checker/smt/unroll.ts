/**
 * The unrolled transition system: one z3 term per slot per step, the rule-instance choice of each
 * step, and the formulas the bounded engines ask about. Why this module exists: BMC and k-induction
 * share the same encoding and differ only in which formulas they assert; keeping the encoding here
 * means one place decides what a step, an error or a violation is.
 *
 * Step t -> t+1 is encoded functionally: the choice `sel_t` is a bit-vector over rule-instance ids
 * (parameters are fixed per instance), the chosen instance's guard must hold, and each slot of state
 * t+1 equals an if-then-else over the instances that write it, falling back to its value at t (the
 * frame condition). Values are decoded back to natural values with `fromCode`.
 */
import type { Z3_ast } from 'z3-solver';
import type { Model, RuleInstance } from '../../model/lang/protocol.js';
import type { ScalarType } from '../../model/lang/types.js';
import { fromCode } from '../../model/lang/types.js';
import type { Cover, Invariant, StepProperty } from '../../properties/property.js';
import type { BoolSym, Sym, SymOps } from './symbolic.js';
import { type Terms, bitsFor } from './terms.js';
import type { SlotEnv, SlotTranslator } from './translate.js';
import type { ModelHandle } from './z3Host.js';

/** What the rule instances do in one state. */
interface StepInfo {
  readonly guards: readonly BoolSym[];
  /** Slot values after each instance's body. */
  readonly next: readonly (readonly Sym[])[];
  /** Some enabled instance raises a model error (or a guard or property cannot be evaluated). */
  readonly err: BoolSym;
  /** No instance is enabled and the state is not a legal end state (false when not checked). */
  readonly deadlock: BoolSym;
}

export interface UnrollProps {
  readonly invariants: readonly Invariant[];
  readonly steps: readonly StepProperty[];
  readonly covers: readonly Cover[];
}

export class Unrolling {
  readonly tm: Terms;
  readonly ops: SymOps;
  readonly tr: SlotTranslator;
  readonly model: Model;
  readonly props: UnrollProps;
  readonly checkDeadlock: boolean;
  /** Slot variables of each step. */
  readonly vars: Z3_ast[][] = [];
  /** Slot values of each step (the variables as symbolic values). */
  readonly states: Sym[][] = [];
  /** Choice variable of each transition t -> t+1. */
  readonly sels: Z3_ast[] = [];
  private readonly selEqs: Z3_ast[][] = [];
  private readonly infos: StepInfo[] = [];
  private readonly propErrs: BoolSym[][] = [];
  private readonly invCache: BoolSym[] = [];
  /** Each cover's value in state t and the conditions under which evaluating it is an error, translated once a depth. */
  private readonly coverCache: { holds: BoolSym; errs: BoolSym[] }[][] = [];
  readonly selWidth: number;
  private initSel: Z3_ast | null = null;

  constructor(tm: Terms, ops: SymOps, tr: SlotTranslator, props: UnrollProps, checkDeadlock: boolean) {
    this.tm = tm;
    this.ops = ops;
    this.tr = tr;
    this.model = tr.model;
    this.props = props;
    this.checkDeadlock = checkDeadlock;
    this.selWidth = bitsFor(Math.max(1, this.model.instances.length));
  }

  get depth(): number {
    return this.states.length - 1;
  }

  /** Adds the variables of the next step; returns their domain constraint (codes within the type). */
  addState(): BoolSym {
    const t = this.states.length;
    const { layout } = this.model;
    const vars: Z3_ast[] = [];
    const syms: Sym[] = [];
    const dom: BoolSym[] = [];
    layout.slotTypes.forEach((ty, i) => {
      const name = `s${t}:${layout.slotNames[i]}`;
      const v = ty.kind === 'bool' ? this.tm.boolConst(name) : this.tm.bvConst(name, this.ops.slotWidth(ty));
      vars.push(v);
      syms.push(this.ops.slotSym(ty, v));
      const mc = this.ops.maxCode(ty);
      if (mc !== null) dom.push(this.ops.bool(this.tm.ule(v, this.tm.bv(mc, this.ops.slotWidth(ty)))));
    });
    this.vars.push(vars);
    this.states.push(syms);
    this.propErrs.push([]);
    return this.ops.and(dom);
  }

  private env(t: number, bind: Map<number, Sym>, pre: readonly Sym[] | null, pc: BoolSym, errs: BoolSym[]): SlotEnv {
    return { cur: [...(this.states[t] as Sym[])], pre, bind, pc, errs };
  }

  private bindArgs(inst: RuleInstance): Map<number, Sym> {
    const m = new Map<number, Sym>();
    inst.rule.params.forEach((p, i) => {
      m.set((p.v as { id: number }).id, { k: 'v', v: inst.args[i] as number });
    });
    return m;
  }

  /** State 0 is one of the start states (each init body run from the all-default state). */
  initConstraint(): BoolSym {
    const ops = this.ops;
    const { layout } = this.model;
    const starts = this.model.inits.map((init) => {
      const env: SlotEnv = { cur: layout.slotTypes.map((ty) => ops.defaultSym(ty)), pre: null, bind: new Map(), pc: ops.T, errs: [] };
      this.tr.exec(init.body, env);
      return env.cur;
    });
    const n = starts.length;
    let pick: (slot: number) => Sym;
    const parts: BoolSym[] = [];
    if (n === 1) pick = (j) => (starts[0] as Sym[])[j] as Sym;
    else {
      const w = bitsFor(n);
      const sel = this.tm.bvConst('init', w);
      this.initSel = sel;
      if (n < 2 ** w) parts.push(ops.bool(this.tm.ule(sel, this.tm.bv(n - 1, w))));
      const is = starts.map((_, i) => ops.bool(this.tm.eq(sel, this.tm.bv(i, w))));
      pick = (j) => {
        let v = (starts[n - 1] as Sym[])[j] as Sym;
        for (let i = n - 2; i >= 0; i--) v = ops.ite(is[i] as BoolSym, (starts[i] as Sym[])[j] as Sym, v);
        return v;
      };
    }
    layout.slotTypes.forEach((ty, j) => {
      parts.push(ops.bool(this.tm.eq((this.vars[0] as Z3_ast[])[j] as Z3_ast, ops.slotTerm(ty, pick(j)))));
    });
    return ops.and(parts);
  }

  /** Guards, successors, model errors and deadlock of the instances in state t. */
  info(t: number): StepInfo {
    const have = this.infos[t];
    if (have) return have;
    const ops = this.ops;
    const s = this.states[t] as Sym[];
    const guards: BoolSym[] = [];
    const next: Sym[][] = [];
    const errs: BoolSym[] = [];
    for (const inst of this.model.instances) {
      const bind = this.bindArgs(inst);
      const g = this.tr.bool(inst.rule.guard, this.env(t, bind, null, ops.T, errs));
      guards.push(g);
      if (g.c === false) {
        next.push(s);
        continue;
      }
      const env = this.env(t, bind, s, g, errs);
      this.tr.exec(inst.rule.body, env);
      next.push(env.cur);
    }
    let deadlock = ops.F;
    if (this.checkDeadlock) {
      const end = this.model.endState ? this.tr.bool(this.model.endState, this.env(t, new Map(), null, ops.T, errs)) : ops.F;
      deadlock = ops.and([ops.not(end), ...guards.map((g) => ops.not(g))]);
    }
    const info: StepInfo = { guards, next, err: ops.or(errs), deadlock };
    this.infos[t] = info;
    return info;
  }

  /** State t is stuck: a model error or a deadlock. */
  stuck(t: number): BoolSym {
    return this.ops.or([this.err(t), this.info(t).deadlock]);
  }

  /** A model error in state t (including errors evaluating the properties on it so far). */
  err(t: number): BoolSym {
    return this.ops.or([this.info(t).err, ...(this.propErrs[t] as BoolSym[])]);
  }

  private selEq(t: number, id: number): Z3_ast {
    return (this.selEqs[t] as Z3_ast[])[id] as Z3_ast;
  }

  /** The step t -> t+1 (state t+1 must exist): an enabled instance is chosen and applied. */
  transition(t: number): BoolSym {
    const ops = this.ops;
    const tm = this.tm;
    const n = this.model.instances.length;
    if (n === 0) return ops.F;
    const info = this.info(t);
    const w = this.selWidth;
    const sel = tm.bvConst(`sel${t}`, w);
    this.sels[t] = sel;
    this.selEqs[t] = this.model.instances.map((inst) => tm.eq(sel, tm.bv(inst.id, w)));
    const parts: BoolSym[] = [];
    if (n < 2 ** w) parts.push(ops.bool(tm.ule(sel, tm.bv(n - 1, w))));
    info.guards.forEach((g, i) => {
      if (g.c !== true) parts.push(ops.implies(ops.bool(this.selEq(t, i)), g));
    });
    const s = this.states[t] as Sym[];
    const cur = this.vars[t] as Z3_ast[];
    const nxt = this.vars[t + 1] as Z3_ast[];
    this.model.layout.slotTypes.forEach((ty: ScalarType, j) => {
      let acc = cur[j] as Z3_ast;
      for (let i = n - 1; i >= 0; i--) {
        const v = (info.next[i] as Sym[])[j] as Sym;
        if (v !== s[j] && info.guards[i]?.c !== false) acc = tm.ite(this.selEq(t, i), ops.slotTerm(ty, v), acc);
      }
      parts.push(ops.bool(tm.eq(nxt[j] as Z3_ast, acc)));
    });
    return ops.and(parts);
  }

  /** Each invariant's value in state t (evaluation errors count as model errors of state t). */
  invariantsAt(t: number, which: readonly Invariant[] = this.props.invariants): BoolSym[] {
    const errs = this.propErrs[t] as BoolSym[];
    return which.map((p) => this.tr.bool(p.pred, this.env(t, new Map(), null, this.ops.T, errs)));
  }

  /**
   * Some invariant fails in state t. Covers are evaluated in every state too, so an error in a
   * cover's predicate (an unwrap of none) is a model error of state t, as the explicit engine
   * reports it; otherwise z3 would give the erroring predicate some value.
   */
  invViolated(t: number): BoolSym {
    let v = this.invCache[t];
    if (!v) {
      const errs = this.propErrs[t] as BoolSym[];
      for (const c of this.coverSyms(t)) errs.push(...c.errs);
      v = this.ops.or(this.invariantsAt(t).map((x) => this.ops.not(x)));
      this.invCache[t] = v;
    }
    return v;
  }

  /** Some step property fails on the step t-1 -> t (t >= 1, transition t-1 added). */
  stepViolated(t: number): BoolSym {
    const ops = this.ops;
    const out: BoolSym[] = [];
    const errs = this.propErrs[t] as BoolSym[];
    for (const p of this.props.steps) {
      for (const inst of this.model.instances) {
        if (p.rule !== null && inst.rule.name !== p.rule) continue;
        if (this.info(t - 1).guards[inst.id]?.c === false) continue;
        // Evaluated only on steps of this instance: a model error in the predicate (an unwrap
        // the rule's guard makes safe) counts only when this instance is the one taken.
        const taken = ops.bool(this.selEq(t - 1, inst.id));
        const ok = this.tr.bool(p.pred, this.env(t, this.bindArgs(inst), this.states[t - 1] as Sym[], taken, errs));
        out.push(ops.and([taken, ops.not(ok)]));
      }
    }
    return ops.or(out);
  }

  /** A safety violation on reaching state t: an invariant in t, or a step property on t-1 -> t. */
  violated(t: number): BoolSym {
    return t === 0 ? this.invViolated(0) : this.ops.or([this.invViolated(t), this.stepViolated(t)]);
  }

  /** Cover `c` holds in state t, and can be evaluated there (an error is a model error of t, see invViolated). */
  coverAt(t: number, c: Cover): BoolSym {
    const i = this.props.covers.indexOf(c);
    const { holds, errs } = i >= 0 ? (this.coverSyms(t)[i] as { holds: BoolSym; errs: BoolSym[] }) : this.coverSym(t, c);
    return this.ops.and([holds, this.ops.not(this.ops.or(errs))]);
  }

  /** The covers of the properties in state t (translated once a depth: invViolated and coverAt both read them). */
  private coverSyms(t: number): { holds: BoolSym; errs: BoolSym[] }[] {
    let v = this.coverCache[t];
    if (!v) {
      v = this.props.covers.map((c) => this.coverSym(t, c));
      this.coverCache[t] = v;
    }
    return v;
  }

  private coverSym(t: number, c: Cover): { holds: BoolSym; errs: BoolSym[] } {
    const errs: BoolSym[] = [];
    return { holds: this.tr.bool(c.pred, this.env(t, new Map(), null, this.ops.T, errs)), errs };
  }

  /** States t and u differ in some slot. */
  differ(t: number, u: number): BoolSym {
    const a = this.vars[t] as Z3_ast[];
    const b = this.vars[u] as Z3_ast[];
    return this.ops.or(a.map((x, j) => this.ops.not(this.ops.bool(this.tm.eq(x, b[j] as Z3_ast)))));
  }

  // --- Decoding ------------------------------------------------------------------------------

  decodeState(m: ModelHandle, t: number): Int32Array {
    const s = new Int32Array(this.model.layout.nSlots);
    const vars = this.vars[t] as Z3_ast[];
    this.model.layout.slotTypes.forEach((ty, j) => {
      const v = vars[j] as Z3_ast;
      s[j] = ty.kind === 'bool' ? (this.tm.evalBool(m, v) ? 1 : 0) : fromCode(ty, this.tm.evalBv(m, v));
    });
    return s;
  }

  /** The init index (choice 0). */
  decodeInit(m: ModelHandle): number {
    return this.initSel === null ? 0 : this.tm.evalBv(m, this.initSel);
  }

  /** The rule instance chosen on step t -> t+1. */
  decodeChoice(m: ModelHandle, t: number): number {
    return this.tm.evalBv(m, this.sels[t] as Z3_ast);
  }

  holds(m: ModelHandle, b: BoolSym): boolean {
    return b.c ?? this.tm.evalBool(m, b.t);
  }
}
