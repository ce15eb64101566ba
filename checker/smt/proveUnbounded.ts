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
  const elapsed = () => Date.now() - start;
  const method = 'inductive-invariant' as const;
  const split = splitProperties(properties);
  const invariants = [...split.invariants, ...(opts.strengthening ?? [])];
  const steps: readonly StepProperty[] = split.steps;
  const deadline = opts.timeLimitSec === undefined ? null : start + opts.timeLimitSec * 1000;

  // The start states of the model as built: they must satisfy the start condition and every invariant.
  for (const [i, init] of model.inits.entries()) {
    let s: Int32Array;
    try {
      s = initState(model, init);
      if (opts.initCondition && !holds(model, opts.initCondition, s)) {
        return {
          status: 'error',
          method,
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
          method,
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
      if (e instanceof ModelRuntimeError) return { status: 'error', method, code: e.code, message: e.message, trace: null, elapsedMs: elapsed() };
      throw e;
    }
  }

  const go = async (session: SmtSession): Promise<ProofResult> => {
    const tm = new Terms(session);
    const ops = new SymOps(tm);
    let tr: SortedTranslator;
    try {
      const unknown = (opts.fixedIndexes ?? []).find((n) => !model.indexes.some((ix) => ix.name === n));
      if (unknown)
        return {
          status: 'error',
          method,
          code: 'MC010',
          trace: null,
          elapsedMs: elapsed(),
          message: `the proof hints fix index type ${unknown}, which the model does not have`,
        };
      tr = new SortedTranslator(ops, model, new Set(opts.fixedIndexes ?? []));
    } catch (e) {
      if (e instanceof SmtUnsupported)
        return {
          status: 'error',
          method,
          code: 'MC010',
          trace: null,
          elapsedMs: elapsed(),
          message: `the unbounded translation cannot express this model: ${e.message}`,
        };
      throw e;
    }
    const solver = session.newSolver();
    try {
      const pre = tr.declareState('');
      const env = (cur: readonly LeafFn[], bind: Map<number, Sym>, prev: readonly LeafFn[] | null, errs: BoolSym[]): SortedEnv => ({
        cur: [...cur],
        pre: prev,
        bind,
        pc: ops.T,
        errs,
      });
      const invs = (cur: readonly LeafFn[]) => invariants.map((p) => tr.bool(p.pred, env(cur, new Map(), null, [])));
      const hyp = invs(pre.fns);
      const goals: Goal[] = [];
      // Start: the start condition implies every invariant, at every size.
      if (opts.initCondition) {
        const init = tr.bool(opts.initCondition, env(pre.fns, new Map(), null, []));
        invariants.forEach((p) => {
          goals.push({
            name: `start condition implies ${p.name}`,
            requirement: p.requirement,
            rule: null,
            post: null,
            args: [],
            bad: ops.and([init, ops.not(tr.bool(p.pred, env(pre.fns, new Map(), null, [])))]),
          });
        });
      }
      // Consecution, rule by rule.
      for (const rule of model.rules) {
        const bind = new Map<number, Sym>();
        const args = rule.params.map((p) => {
          const x = tr.fresh(p.index, `${rule.name}.${p.name}`);
          bind.set((p.v as { id: number }).id, x);
          return x;
        });
        const gErrs: BoolSym[] = [];
        const guard = tr.bool(rule.guard, env(pre.fns, bind, null, gErrs));
        const bErrs: BoolSym[] = [];
        const body = env(pre.fns, bind, pre.fns, bErrs);
        tr.exec(rule.body, body);
        const post = body.cur;
        goals.push({
          name: `${rule.name} raises no model error`,
          requirement: 'model error',
          rule,
          post,
          args,
          bad: ops.or([...gErrs, ops.and([guard, ops.or(bErrs)])]),
        });
        invariants.forEach((p) => {
          goals.push({
            name: `${rule.name} preserves ${p.name}`,
            requirement: p.requirement,
            rule,
            post,
            args,
            bad: ops.and([guard, ops.not(tr.bool(p.pred, env(post, new Map(), null, [])))]),
          });
        });
        for (const sp of steps) {
          if (sp.rule !== null && sp.rule !== rule.name) continue;
          const ok = tr.bool(sp.pred, env(post, bind, pre.fns, []));
          goals.push({
            name: `${rule.name} keeps step property ${sp.name}`,
            requirement: sp.requirement,
            rule,
            post,
            args,
            bad: ops.and([guard, ops.not(ok)]),
          });
        }
      }
      // Background: literal distinctness, type bounds of the pre-state.
      session.add(solver, ops.and([tr.literalAxioms(), ...pre.axioms]).t);
      // Guard against a vacuous proof: the invariants (and the start condition) must be satisfiable.
      const vacuity: [string, BoolSym][] = [['the invariants', ops.and(hyp)]];
      if (opts.initCondition) vacuity.push(['the start condition', tr.bool(opts.initCondition, env(pre.fns, new Map(), null, []))]);
      for (const [what, f] of vacuity) {
        session.push(solver);
        session.add(solver, f.t);
        const ans = await session.check(solver, deadline);
        session.pop(solver);
        if (ans === 'unknown')
          return { status: 'incomplete', method, elapsedMs: elapsed(), reason: `z3 answered unknown on whether ${what} can hold (${session.lastReason})` };
        if (ans === 'unsat')
          return {
            status: 'error',
            method,
            code: 'MC010',
            trace: null,
            elapsedMs: elapsed(),
            message: `${what} cannot hold in any state: the proof would be vacuous`,
          };
      }
      const obligations: Obligation[] = [];
      let failure: ProofResult | null = null;
      let unknown: string | null = null;
      for (const g of goals) {
        if (g.bad.c === false) {
          obligations.push({ name: g.name, status: 'proved' });
          continue;
        }
        session.push(solver);
        try {
          // The start-condition goals do not assume Inv in the pre-state.
          if (g.rule !== null || g.post !== null) session.add(solver, ops.and(hyp).t);
          session.add(solver, g.bad.t);
          const ans = await session.check(solver, deadline);
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
          if (!failure) {
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
              failure = {
                status: 'cti',
                method,
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
        } finally {
          session.pop(solver);
        }
      }
      if (failure) return { ...failure, obligations, elapsedMs: elapsed() };
      if (unknown !== null) {
        return {
          status: 'incomplete',
          method,
          elapsedMs: elapsed(),
          reason: unknown.endsWith('time limit reached') ? `time limit of ${opts.timeLimitSec}s reached (${unknown})` : `z3 answered unknown on ${unknown}`,
        };
      }
      const sizes = tr.minSizes();
      const params = Object.entries(model.params).filter(([k]) => typeof model.params[k] === 'number');
      return {
        status: 'proved',
        method,
        obligations,
        elapsedMs: elapsed(),
        properties: [...invariants, ...steps].map((p) => p.name),
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
          'proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom is not part of the proof',
        ],
      };
    } catch (e) {
      if (e instanceof SmtUnsupported)
        return {
          status: 'error',
          method,
          code: 'MC010',
          trace: null,
          elapsedMs: elapsed(),
          message: `the unbounded translation cannot express this model: ${e.message}`,
        };
      throw e;
    } finally {
      session.releaseSolver(solver);
    }
  };
  return opts.session ? go(opts.session) : withSession(go, opts.solver ?? 'wasm');
}
