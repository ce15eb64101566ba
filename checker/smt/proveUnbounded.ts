/**
 * Inductive-invariant proofs for every size of the index types. Why this module exists: explicit
 * search and k-induction prove a protocol for the parameter values it is built with; driver authors
 * want "for any number of pages, frames and DMA slots". With index types as uninterpreted sorts
 * (sortedTranslator.ts) this checks, for Inv = the safety invariants and the strengthening ones:
 * - start: InitCondition => Inv (for all sizes), and every start state of the model as built
 *   satisfies InitCondition and Inv (at its sizes; the init block is code, not a formula);
 * - consecution, rule by rule with its parameters as unknown elements: Inv and the guard imply Inv
 *   after the body, every step property of the rule, and no model error (unwrap of none, a value
 *   out of its range).
 * Ranges (data values, counters) keep the bounds of the model as built: the proof is for every size
 * of the index types and those bounds. A failing obligation gives a counterexample to induction over
 * universes of whatever size z3 picked.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import type { Expr } from '../../model/lang/expr.js';
import { holds, initState } from '../../model/lang/interp.js';
import type { Model, RuleDef } from '../../model/lang/protocol.js';
import type { Invariant, Property, StepProperty } from '../../properties/property.js';
import { splitProperties } from './bmc.js';
import type { Obligation, ProofResult, UnboundedCti } from './proofResult.js';
import { traceOf } from './replay.js';
import { type BoolSym, SmtUnsupported, type Sym, SymOps } from './symbolic.js';
import { type LeafFn, type SortedEnv, SortedTranslator } from './sortedTranslator.js';
import { Terms } from './terms.js';
import { type SmtSession, type SolverBackend, withSession } from './z3Host.js';

/** Options of the proof for every size (`proveUnbounded`): strengthening invariants, a start condition, a time limit, the solver. */
export interface UnboundedOptions {
  /** Strengthening invariants, assumed and proved with the properties (PropertySet.proofHints). */
  readonly strengthening?: readonly Invariant[];
  /** Size-generic description of the start states (PropertySet.proofHints); without it the start is checked at the model's sizes only. */
  readonly initCondition?: Expr;
  /** Index types kept at their built size (PropertySet.proofHints `fixedIndexes`). */
  readonly fixedIndexes?: readonly string[];
  readonly timeLimitSec?: number;
  readonly session?: SmtSession;
  /** Which z3 answers the queries (default `wasm`). */
  readonly solver?: SolverBackend;
}

interface Goal {
  readonly name: string;
  readonly requirement: string;
  readonly rule: RuleDef | null;
  readonly bad: BoolSym;
  readonly post: readonly LeafFn[] | null;
  readonly args: readonly Sym[];
}

/**
 * Proves that the safety invariants and step properties of `properties` (with `opts.strengthening`)
 * hold in every reachable state of `model` for every size of its index types.
 * Returns `proved` with the obligations and notes on what the proof covers, `cti` with the first
 * failing obligation and its counterexample to induction, `violated` when a start state breaks an
 * invariant, `incomplete` on a timeout or z3 `unknown`, or `error` (MC010: the model uses something
 * the sorted translation cannot express, or the start condition is wrong).
 */
export async function proveUnbounded(model: Model, properties: readonly Property[], opts: UnboundedOptions = {}): Promise<ProofResult> {
  const start = Date.now();
  const split = splitProperties(properties);
  const invariants = [...split.invariants, ...(opts.strengthening ?? [])];
  const startResult = checkStartStates(model, invariants, opts, start);
  if (startResult) return startResult;
  const go = async (session: SmtSession): Promise<ProofResult> => {
    const ops = new SymOps(new Terms(session));
    const tr = sortedTranslatorFor(model, ops, opts, start);
    if (!(tr instanceof SortedTranslator)) return tr;
    return new UnboundedProof(model, invariants, split.steps, opts, session, ops, tr, start).run();
  };
  return opts.session ? go(opts.session) : withSession(go, opts.solver ?? 'wasm');
}

const METHOD = 'inductive-invariant' as const;

/** A counterexample-to-induction result. */
type Cti = Extract<ProofResult, { status: 'cti' }>;

/** MC010 for a model the sorted translation cannot express. */
function cannotExpress(e: SmtUnsupported, start: number): ProofResult {
  return {
    status: 'error',
    method: METHOD,
    code: 'MC010',
    trace: null,
    elapsedMs: Date.now() - start,
    message: `the unbounded translation cannot express this model: ${e.message}`,
  };
}

/**
 * The start states of the model as built: they must satisfy the start condition and every
 * invariant. The result that stops the proof (an invariant broken at the start, a wrong start
 * condition, a model error), or null.
 */
function checkStartStates(model: Model, invariants: readonly Invariant[], opts: UnboundedOptions, start: number): ProofResult | null {
  const elapsed = () => Date.now() - start;
  for (const [i, init] of model.inits.entries()) {
    let s: Int32Array;
    try {
      s = initState(model, init);
      if (opts.initCondition && !holds(model, opts.initCondition, s)) {
        return {
          status: 'error',
          method: METHOD,
          code: 'MC010',
          trace: null,
          elapsedMs: elapsed(),
          message: `the start condition of the proof hints does not hold in start state '${init.name}'`,
        };
      }
      const bad = invariants.find((p) => !holds(model, p.pred, s));
      if (bad) {
        const path = { choices: [i], states: [s], fromInit: true };
        return {
          status: 'violated',
          method: METHOD,
          elapsedMs: elapsed(),
          violation: {
            property: bad.name,
            requirement: bad.requirement,
            kind: 'invariant',
            message: `invariant ${bad.name} (${bad.requirement}) violated: ${bad.doc}`,
            trace: traceOf(model, path, bad, { depth: 0 }),
          },
        };
      }
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { status: 'error', method: METHOD, code: e.code, message: e.message, trace: null, elapsedMs: elapsed() };
      throw e;
    }
  }
  return null;
}

/** The sorted translator of `model` with the hints' fixed index types, or the MC010 result that refuses it. */
function sortedTranslatorFor(model: Model, ops: SymOps, opts: UnboundedOptions, start: number): SortedTranslator | ProofResult {
  const unknown = (opts.fixedIndexes ?? []).find((n) => !model.indexes.some((ix) => ix.name === n));
  if (unknown)
    return {
      status: 'error',
      method: METHOD,
      code: 'MC010',
      trace: null,
      elapsedMs: Date.now() - start,
      message: `the proof hints fix index type ${unknown}, which the model does not have`,
    };
  try {
    return new SortedTranslator(ops, model, new Set(opts.fixedIndexes ?? []));
  } catch (e) {
    if (e instanceof SmtUnsupported) return cannotExpress(e, start);
    throw e;
  }
}

/**
 * One proof for every size in one z3 session, in named steps: the obligations (`startGoals`,
 * `ruleGoals`), the check that the assumptions are not vacuous (`vacuity`), each obligation
 * discharged (`discharge`, a counterexample to induction read by `ctiOf`), and the verdict
 * (`proved`).
 */
class UnboundedProof {
  private readonly solver;
  /** The pre-state's symbols (declared in `run`, where an expression z3 cannot take is reported as MC010). */
  private pre!: ReturnType<SortedTranslator['declareState']>;

  constructor(
    private readonly model: Model,
    private readonly invariants: readonly Invariant[],
    private readonly steps: readonly StepProperty[],
    private readonly opts: UnboundedOptions,
    private readonly session: SmtSession,
    private readonly ops: SymOps,
    private readonly tr: SortedTranslator,
    private readonly start: number,
  ) {
    this.solver = session.newSolver();
  }

  private elapsed(): number {
    return Date.now() - this.start;
  }

  private get deadline(): number | null {
    return this.opts.timeLimitSec === undefined ? null : this.start + this.opts.timeLimitSec * 1000;
  }

  private env(cur: readonly LeafFn[], bind: Map<number, Sym>, prev: readonly LeafFn[] | null, errs: BoolSym[]): SortedEnv {
    return { cur: [...cur], pre: prev, bind, pc: this.ops.T, errs };
  }

  /**
   * Invariant `p` over the state `cur`, and when evaluating it raises a model error there (an unwrap
   * of none): a property that cannot be evaluated in a reachable state is a model error, as in
   * explicit search and k-induction, so it is an obligation too, never a value taken for granted.
   */
  private inv(p: Invariant, cur: readonly LeafFn[]): { holds: BoolSym; err: BoolSym } {
    const errs: BoolSym[] = [];
    const holds = this.tr.bool(p.pred, this.env(cur, new Map(), null, errs));
    return { holds, err: this.ops.or(errs) };
  }

  /** Invariant `p` holds in `cur` and can be evaluated there (the induction hypothesis). */
  private invHolds(p: Invariant, cur: readonly LeafFn[]): BoolSym {
    const v = this.inv(p, cur);
    return this.ops.and([v.holds, this.ops.not(v.err)]);
  }

  async run(): Promise<ProofResult> {
    const { session, ops, tr, solver } = this;
    try {
      this.pre = tr.declareState('');
      const pre = this.pre;
      const hyp = this.invariants.map((p) => this.invHolds(p, pre.fns));
      const goals = [...this.startGoals(hyp), ...this.ruleGoals()];
      // Background: literal distinctness, type bounds of the pre-state.
      session.add(solver, ops.and([tr.literalAxioms(), ...pre.axioms]).t);
      const vacuous = await this.vacuity(hyp);
      if (vacuous) return vacuous;
      const { obligations, failure, unknown } = await this.discharge(goals, hyp);
      if (failure) return { ...failure, obligations, elapsedMs: this.elapsed() };
      if (unknown !== null) {
        return {
          status: 'incomplete',
          method: METHOD,
          elapsedMs: this.elapsed(),
          reason: unknown.endsWith('time limit reached')
            ? `time limit of ${this.opts.timeLimitSec}s reached (${unknown})`
            : `z3 answered unknown on ${unknown}`,
        };
      }
      return this.proved(obligations);
    } catch (e) {
      if (e instanceof SmtUnsupported) return cannotExpress(e, this.start);
      throw e;
    } finally {
      session.releaseSolver(solver);
    }
  }

  /**
   * Start: the start condition implies every invariant (which can be evaluated there), at every size.
   * `hyp` holds each invariant's `invHolds` over the pre-state, in the order of `invariants`.
   */
  private startGoals(hyp: readonly BoolSym[]): Goal[] {
    const { opts, ops, pre } = this;
    if (!opts.initCondition) return [];
    const init = this.tr.bool(opts.initCondition, this.env(pre.fns, new Map(), null, []));
    return this.invariants.map((p, i) => ({
      name: `start condition implies ${p.name}`,
      requirement: p.requirement,
      rule: null,
      post: null,
      args: [],
      bad: ops.and([init, ops.not(hyp[i] as BoolSym)]),
    }));
  }

  /**
   * Consecution, rule by rule with its parameters as unknown elements: no model error (in the guard,
   * the body, or evaluating an invariant after the step or a step property of the rule), every
   * invariant kept, every step property of the rule.
   */
  private ruleGoals(): Goal[] {
    const { model, ops, tr, pre } = this;
    const goals: Goal[] = [];
    for (const rule of model.rules) {
      const bind = new Map<number, Sym>();
      const args = rule.params.map((p) => {
        const x = tr.fresh(p.index, `${rule.name}.${p.name}`);
        bind.set((p.v as { id: number }).id, x);
        return x;
      });
      const gErrs: BoolSym[] = [];
      const guard = tr.bool(rule.guard, this.env(pre.fns, bind, null, gErrs));
      const bErrs: BoolSym[] = [];
      const body = this.env(pre.fns, bind, pre.fns, bErrs);
      tr.exec(rule.body, body);
      const post = body.cur;
      const goal = (name: string, requirement: string, bad: BoolSym): Goal => ({ name, requirement, rule, post, args, bad });
      const after = this.invariants.map((p) => ({ p, v: this.inv(p, post) }));
      const pErrs: BoolSym[] = [];
      const kept = this.steps
        .filter((sp) => sp.rule === null || sp.rule === rule.name)
        .map((sp) => ({ sp, ok: tr.bool(sp.pred, this.env(post, bind, pre.fns, pErrs)) }));
      const propErrs = [...after.map(({ v }) => v.err), ...pErrs];
      goals.push(goal(`${rule.name} raises no model error`, 'model error', ops.or([...gErrs, ops.and([guard, ops.or([...bErrs, ...propErrs])])])));
      for (const { p, v } of after) goals.push(goal(`${rule.name} preserves ${p.name}`, p.requirement, ops.and([guard, ops.not(v.holds)])));
      for (const { sp, ok } of kept) goals.push(goal(`${rule.name} keeps step property ${sp.name}`, sp.requirement, ops.and([guard, ops.not(ok)])));
    }
    return goals;
  }

  /** Guards against a vacuous proof: the invariants (and the start condition) must be satisfiable. */
  private async vacuity(hyp: readonly BoolSym[]): Promise<ProofResult | null> {
    const { session, solver, opts, ops, pre } = this;
    const vacuity: [string, BoolSym][] = [['the invariants', ops.and([...hyp])]];
    if (opts.initCondition) vacuity.push(['the start condition', this.tr.bool(opts.initCondition, this.env(pre.fns, new Map(), null, []))]);
    for (const [what, f] of vacuity) {
      session.push(solver);
      session.add(solver, f.t);
      const ans = await session.check(solver, this.deadline);
      session.pop(solver);
      if (ans === 'unknown')
        return {
          status: 'incomplete',
          method: METHOD,
          elapsedMs: this.elapsed(),
          reason: `z3 answered unknown on whether ${what} can hold (${session.lastReason})`,
        };
      if (ans === 'unsat')
        return {
          status: 'error',
          method: METHOD,
          code: 'MC010',
          trace: null,
          elapsedMs: this.elapsed(),
          message: `${what} cannot hold in any state: the proof would be vacuous`,
        };
    }
    return null;
  }

  /** Each obligation in turn: proved, unknown (a time limit stops the rest) or failed (the first failure's counterexample kept). */
  private async discharge(
    goals: readonly Goal[],
    hyp: readonly BoolSym[],
  ): Promise<{ obligations: Obligation[]; failure: Cti | null; unknown: string | null }> {
    const { session, solver, ops } = this;
    const obligations: Obligation[] = [];
    let failure: Cti | null = null;
    let unknown: string | null = null;
    for (const g of goals) {
      if (g.bad.c === false) {
        obligations.push({ name: g.name, status: 'proved' });
        continue;
      }
      session.push(solver);
      try {
        // The start-condition goals do not assume Inv in the pre-state.
        if (g.rule !== null || g.post !== null) session.add(solver, ops.and([...hyp]).t);
        session.add(solver, g.bad.t);
        const ans = await session.check(solver, this.deadline);
        if (ans === 'unsat') {
          obligations.push({ name: g.name, status: 'proved' });
          continue;
        }
        if (ans === 'unknown') {
          obligations.push({ name: g.name, status: 'unknown' });
          unknown ??= `${g.name}: ${session.lastReason}`;
          if (session.lastReason === 'time limit reached') break;
          continue;
        }
        obligations.push({ name: g.name, status: 'failed' });
        failure ??= this.ctiOf(g, obligations);
      } finally {
        session.pop(solver);
      }
    }
    return { obligations, failure, unknown };
  }

  /** The counterexample to induction of the satisfied obligation `g`, over the universes z3 picked. */
  private ctiOf(g: Goal, obligations: Obligation[]): Cti {
    const { session, solver, tr, pre } = this;
    const m = session.model(solver);
    try {
      const u = tr.universes(m);
      const sizes = Object.fromEntries([...u].map(([k, v]) => [k, v.length]));
      const cti: UnboundedCti = {
        rule: g.rule?.name ?? '(start condition)',
        args: Object.fromEntries((g.rule?.params ?? []).map((p, i) => [p.name, tr.natural(u, m, g.args[i] as Sym)])),
        sizes,
        before: tr.decodeState(u, m, pre.fns),
        after: g.post ? tr.decodeState(u, m, g.post) : {},
      };
      return {
        status: 'cti',
        method: METHOD,
        property: g.name,
        requirement: g.requirement,
        trace: null,
        cti,
        obligations,
        elapsedMs: 0,
        message: g.rule
          ? `not inductive: ${g.name} fails from a state satisfying every invariant (sizes ${JSON.stringify(sizes)}); a strengthening invariant excluding that state is missing, or the protocol is wrong`
          : `the start condition does not imply ${g.name.replace('start condition implies ', '')}`,
      };
    } finally {
      session.releaseModel(m);
    }
  }

  private proved(obligations: Obligation[]): ProofResult {
    const { model, tr, opts } = this;
    const sizes = tr.minSizes();
    const params = Object.entries(model.params).filter(([k]) => typeof model.params[k] === 'number');
    return {
      status: 'proved',
      method: METHOD,
      obligations,
      elapsedMs: this.elapsed(),
      properties: [...this.invariants, ...this.steps].map((p) => p.name),
      notes: [
        `for every size of ${model.indexes
          .filter((ix) => !tr.fixed.has(ix.name))
          .map((ix) => `${ix.name} (>= ${sizes[ix.name]})`)
          .join(', ')}${
          tr.fixed.size
            ? `; ${[...tr.fixed].map((n) => `${n} kept at its built size ${model.indexes.find((ix) => ix.name === n)?.size}`).join(', ')} (the model numbers its values)`
            : ''
        }`,
        `ranges keep the bounds of the model as built (${params.map(([k, v]) => `${k}=${v}`).join(', ')}; the index-size parameters do not matter): value ranges and counters are not generalised`,
        opts.initCondition
          ? 'start: the start condition implies every invariant for all sizes; the start states are checked against it at the sizes built only (the init block is code)'
          : 'start: no start condition given, so the start states are checked at the sizes built only',
        'proved: every invariant listed, every step property, and that no enabled rule raises a model error (nor any property evaluated after its step); deadlock freedom is not part of the proof',
      ],
    };
  }
}
