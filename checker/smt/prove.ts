/**
 * k-induction with z3. Why this module exists: BMC only says "no violation within k steps"; a proof
 * that the safety properties hold in every reachable state of a model (at its parameter sizes) needs
 * induction, and when induction fails a person needs to see why: the counterexample to induction.
 *
 * The property P of a state is: every invariant holds (the safety invariants plus any strengthening
 * invariants supplied) and no enabled rule raises a model error; step properties must hold on every
 * step. For k = 1, 2, ...:
 * - base case: no path of k-1 steps from a start state breaks P (a real counterexample otherwise);
 * - step case: no path of k steps whose first k states satisfy P (and whose first k-1 steps satisfy
 *   the step properties) breaks P at its end; with `simplePath` the states on the path are distinct,
 *   which makes the method complete for finite models at a large enough k.
 * When the step case holds, P holds in every reachable state. Deadlock freedom is not part of P.
 * Every model z3 returns is replayed by the interpreter (replay.ts), as in BMC.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Invariant, Property } from '../../properties/property.js';
import { bmcCheck, decodePath, splitProperties } from './bmc.js';
import type { ProofResult } from './proofResult.js';
import { modelErrorOf, replayPath, stuckFinding, traceOf, violationFinding, violationOf } from './replay.js';
import { type BoolSym, SmtUnsupported, SymOps } from './symbolic.js';
import { Terms } from './terms.js';
import { SlotTranslator } from './translate.js';
import { Unrolling } from './unroll.js';
import { type SmtSession, type SolverBackend, type SolverHandle, withSession } from './z3Host.js';

/** Options of k-induction (`prove`): the largest k, a time limit, strengthening invariants, the solver. */
export interface ProveOptions {
  /** Largest k tried (default 8). */
  readonly maxK?: number;
  readonly timeLimitSec?: number;
  /** Extra invariants assumed and proved together with the properties (see PropertySet.proofHints). */
  readonly strengthening?: readonly Invariant[];
  /** Require the states of the step-case path to be distinct (default true). */
  readonly simplePath?: boolean;
  readonly session?: SmtSession;
  /** Which z3 answers the queries (default `wasm`). */
  readonly solver?: SolverBackend;
}

export const DEFAULT_MAX_K = 8;

/**
 * Tries to prove the safety properties (invariants and step properties of `properties`, plus
 * `opts.strengthening`) of `model` by k-induction, k = 1..maxK.
 * Returns `proved` with the k that succeeded, `violated` when the base case finds a real
 * counterexample, `cti` with the step case's counterexample to induction at k = maxK (a trace whose
 * first state need not be reachable), `incomplete` on a timeout or z3 `unknown`, or `error`.
 */
export async function prove(model: Model, properties: readonly Property[], opts: ProveOptions = {}): Promise<ProofResult> {
  const start = Date.now();
  const startError = startStateError(model, start);
  if (startError) return startError;
  if ((opts.maxK ?? DEFAULT_MAX_K) < 1) throw new Error('maxK must be at least 1');
  const go = (s: SmtSession) => new KInduction(model, properties, opts, s, start).run();
  return opts.session ? go(opts.session) : withSession(go, opts.solver ?? 'wasm');
}

/** The error result when a start state raises a model error (nothing to prove then), else null. */
function startStateError(model: Model, start: number): ProofResult | null {
  for (const init of model.inits) {
    try {
      initState(model, init);
    } catch (e) {
      if (e instanceof ModelRuntimeError)
        return { status: 'error', method: 'k-induction', code: e.code, message: e.message, trace: null, elapsedMs: Date.now() - start };
      throw e;
    }
  }
  return null;
}

/**
 * One k-induction run in one z3 session, in named steps: for each k the base case (`baseCase`, with
 * `hintFailure` when only a hint fails and `baseViolation` when a property does), then the step case
 * (`stepCase`: `proved`, or the counterexample to induction `ctiAt`).
 */
class KInduction {
  private readonly split: ReturnType<typeof splitProperties>;
  private readonly hints: readonly Invariant[];
  private readonly props: ReturnType<typeof splitProperties>;
  private readonly maxK: number;
  private readonly deadline: number | null;
  private readonly ops: SymOps;
  private readonly base: Unrolling;
  private readonly step: Unrolling;
  private readonly bs: SolverHandle;
  private readonly ss: SolverHandle;

  constructor(
    private readonly model: Model,
    private readonly properties: readonly Property[],
    private readonly opts: ProveOptions,
    private readonly s: SmtSession,
    private readonly start: number,
  ) {
    this.split = splitProperties(properties);
    this.hints = opts.strengthening ?? [];
    this.props = { ...this.split, invariants: [...this.split.invariants, ...this.hints] };
    this.maxK = opts.maxK ?? DEFAULT_MAX_K;
    this.deadline = opts.timeLimitSec === undefined ? null : start + opts.timeLimitSec * 1000;
    const tm = new Terms(s);
    this.ops = new SymOps(tm);
    const tr = new SlotTranslator(this.ops, model);
    // No covers: a proof is about the invariants and step properties, and the unrolling would count
    // a cover's evaluation error (an unwrap of none in an arbitrary, unreachable state) as a bad state.
    const unrolled = { ...this.props, covers: [] };
    this.base = new Unrolling(tm, this.ops, tr, unrolled, false);
    this.step = new Unrolling(tm, this.ops, tr, unrolled, false);
    this.bs = s.newSolver('QF_BV');
    this.ss = s.newSolver('QF_BV');
  }

  private elapsed(): number {
    return Date.now() - this.start;
  }

  /**
   * A model error, or any invariant (hints included) or step property broken in state t. The
   * properties are translated first: a property that cannot be evaluated in state t (an unwrap of
   * none) is a model error of t, which `err` sees only once they are.
   */
  private bad(u: Unrolling, t: number): BoolSym {
    const violated = u.violated(t);
    return this.ops.or([u.err(t), violated]);
  }

  /** A model error, or a property (not a hint) broken in state t or on the step into it. */
  private badRequirement(u: Unrolling, t: number): BoolSym {
    const inv = u.invariantsAt(t, this.split.invariants).map((x) => this.ops.not(x));
    return this.ops.or([...inv, ...(t > 0 ? [u.stepViolated(t)] : []), u.err(t)]);
  }

  private incomplete(what: string): ProofResult {
    const { s, opts } = this;
    return {
      status: 'incomplete',
      method: 'k-induction',
      elapsedMs: this.elapsed(),
      reason: s.lastReason === 'time limit reached' ? `time limit of ${opts.timeLimitSec}s reached ${what}` : `z3 answered unknown ${what} (${s.lastReason})`,
    };
  }

  private disagree(why: string): ProofResult {
    return {
      status: 'error',
      method: 'k-induction',
      code: 'MC040',
      trace: null,
      elapsedMs: this.elapsed(),
      message: `the SMT encoding and the interpreter disagree: ${why}`,
    };
  }

  /** Asks whether `q` can hold; a satisfiable query stays pushed (its model is read next). */
  private async ask(solver: SolverHandle, q: BoolSym): Promise<'sat' | 'unsat' | 'unknown'> {
    const { s } = this;
    if (q.c === false) return 'unsat';
    s.push(solver);
    s.add(solver, q.t);
    const a = await s.check(solver, this.deadline);
    if (a !== 'sat') s.pop(solver);
    return a;
  }

  /** The path of the satisfied query on `solver` (then popped). */
  private pathOf(u: Unrolling, solver: SolverHandle, depth: number, fromInit: boolean) {
    const m = this.s.model(solver);
    const path = decodePath(u, m, depth, fromInit);
    this.s.releaseModel(m);
    this.s.pop(solver);
    return path;
  }

  async run(): Promise<ProofResult> {
    const { s, ops, base, step, bs, ss } = this;
    try {
      s.add(bs, base.addState().t);
      s.add(bs, base.initConstraint().t);
      s.add(ss, step.addState().t);
      s.add(ss, ops.not(this.bad(step, 0)).t);
      let lastCti: ProofResult | null = null;
      for (let k = 1; k <= this.maxK; k++) {
        const baseResult = await this.baseCase(k);
        if (baseResult) return baseResult;
        const stepResult = await this.stepCase(k);
        if (stepResult.status !== 'cti') return stepResult;
        lastCti = stepResult;
      }
      if (!lastCti) throw new Error('unreachable: maxK < 1');
      return { ...lastCti, elapsedMs: this.elapsed() };
    } catch (e) {
      if (e instanceof SmtUnsupported)
        return {
          status: 'error',
          method: 'k-induction',
          code: 'MC010',
          message: `the SMT translation cannot express this model: ${e.message}`,
          trace: null,
          elapsedMs: this.elapsed(),
        };
      throw e;
    } finally {
      s.releaseSolver(bs);
      s.releaseSolver(ss);
    }
  }

  /** Base case at k: no bad state or step at depth k-1 from a start state. Null when it holds (then assumed). */
  private async baseCase(k: number): Promise<ProofResult | null> {
    const { s, ops, base, bs } = this;
    const d = k - 1;
    if (d > 0) {
      s.add(bs, base.addState().t);
      s.add(bs, base.transition(d - 1).t);
    }
    // The properties first: a hint that fails at the same depth is not what the user must see.
    const b = await this.ask(bs, this.badRequirement(base, d));
    if (b === 'unknown') return this.incomplete(`in the base case at depth ${d}`);
    if (b === 'sat') return this.baseViolation(d);
    if (this.hints.length) {
      const h = await this.ask(bs, ops.or(base.invariantsAt(d, this.hints).map((x) => ops.not(x))));
      if (h === 'unknown') return this.incomplete(`in the base case at depth ${d}`);
      if (h === 'sat') return this.hintFailure(k, d);
    }
    s.add(bs, ops.not(this.bad(base, d)).t);
    return null;
  }

  /** A property fails (or a rule raises a model error) `d` steps from a start state: a real counterexample. */
  private baseViolation(d: number): ProofResult {
    const { model, s, split, props } = this;
    const path = this.pathOf(this.base, this.bs, d, true);
    const why = replayPath(model, path);
    if (why) return this.disagree(why);
    const last = path.states[d] as Int32Array;
    const f = stuckFinding(model, last, false) ?? violationFinding(model, split.invariants, props.steps, path);
    if (!f) return this.disagree(`z3 claims a violation at depth ${d}; the interpreter finds none`);
    const extra = { depth: d, solver: s.solverName, method: 'k-induction base case' };
    if (f.kind === 'error') {
      const { message, trace } = modelErrorOf(model, f, path, extra);
      return { status: 'error', method: 'k-induction', code: 'MC011', message, trace, elapsedMs: this.elapsed() };
    }
    if (f.kind === 'deadlock') return this.disagree('deadlock reported by the base case');
    return { status: 'violated', method: 'k-induction', violation: violationOf(model, f, path, extra), elapsedMs: this.elapsed() };
  }

  /**
   * Only a hint fails `d` steps from a start state. The hints are wrong there, but a requirement may
   * still fail deeper within the base case's reach: that is what the user must see; otherwise the
   * hints do not fit.
   */
  private async hintFailure(k: number, d: number): Promise<ProofResult> {
    const { model, s, hints, maxK, deadline } = this;
    const path = this.pathOf(this.base, this.bs, d, true);
    const why = replayPath(model, path);
    if (why) return this.disagree(why);
    const f = violationFinding(model, hints, [], path);
    if (f?.kind !== 'invariant') return this.disagree(`z3 claims a hint fails at depth ${d}; the interpreter finds it holds`);
    const deeper = await bmcCheck(
      {
        model,
        properties: this.properties,
        limits: { depth: Math.max(d, maxK - 1), ...(deadline !== null ? { timeLimitSec: Math.max(0.001, (deadline - Date.now()) / 1000) } : {}) },
        deadlock: false,
      },
      {},
      { covers: false, session: s },
    );
    if (deeper.status === 'violated' && deeper.violations[0])
      return { status: 'violated', method: 'k-induction', violation: deeper.violations[0], elapsedMs: this.elapsed() };
    if (deeper.status === 'error')
      return { status: 'error', method: 'k-induction', code: deeper.code, message: deeper.message, trace: deeper.trace, elapsedMs: this.elapsed() };
    // The deeper search did not finish (time limit, z3 unknown): whether a property fails within its
    // reach is not known, so the answer is neither a counterexample nor "the hints do not fit".
    if (deeper.status !== 'ok')
      return {
        status: 'incomplete',
        method: 'k-induction',
        reason: `the hint ${f.property.name} fails ${d} steps from the start (the hints do not fit), and the search for a property failing within ${Math.max(d, maxK - 1)} steps did not finish: ${deeper.status === 'incomplete' ? deeper.reason : deeper.status}`,
        elapsedMs: this.elapsed(),
      };
    return {
      status: 'cti',
      method: 'k-induction',
      k,
      property: f.property.name,
      requirement: f.property.requirement,
      elapsedMs: this.elapsed(),
      hintFailed: true,
      message: `the hints do not fit this ${model.variant ? 'variant' : 'model'}: ${d} steps from the start lead to a state where the hint ${f.property.name} fails while every property holds, and no property fails within ${Math.max(d, maxK - 1)} steps (a hint is not a requirement: this is not a bug report; check gives the requirements' own verdict)`,
      trace: traceOf(model, path, f.property, { depth: d, solver: s.solverName, method: 'k-induction base case (hint)' }),
    };
  }

  /** Step case at k: k states satisfying P, then a bad state or step. `proved`, or the counterexample to induction (assumed away for k + 1). */
  private async stepCase(k: number): Promise<ProofResult> {
    const { s, ops, step, ss } = this;
    s.add(ss, step.addState().t);
    s.add(ss, step.transition(k - 1).t);
    if (this.opts.simplePath ?? true) for (let i = 0; i < k; i++) s.add(ss, step.differ(i, k).t);
    const a = await this.ask(ss, this.bad(step, k));
    if (a === 'unknown') return this.incomplete(`in the step case at k=${k}`);
    if (a === 'unsat') return this.proved(k);
    const cti = this.ctiAt(k);
    s.add(ss, ops.not(this.bad(step, k)).t);
    return cti;
  }

  private proved(k: number): ProofResult {
    const { model, opts, props } = this;
    return {
      status: 'proved',
      method: 'k-induction',
      k,
      properties: [...props.invariants, ...props.steps].map((p) => p.name),
      elapsedMs: this.elapsed(),
      notes: [
        `${k}-induction at ${JSON.stringify(model.params)}${model.variant ? ` (variant ${model.variant})` : ''}: holds in every reachable state at these parameter values only`,
        'proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom is not part of the proof',
        ...(opts.strengthening?.length ? [`strengthening invariants assumed and proved: ${opts.strengthening.map((p) => p.name).join(', ')}`] : []),
      ],
    };
  }

  /** The counterexample to induction of the satisfied step-case query at k, as a `cti` result. */
  private ctiAt(k: number): ProofResult {
    const { model, s, props } = this;
    const path = this.pathOf(this.step, this.ss, k, false);
    const why = replayPath(model, path);
    if (why) return this.disagree(`counterexample to induction: ${why}`);
    const last = path.states[k] as Int32Array;
    const f = stuckFinding(model, last, false) ?? violationFinding(model, props.invariants, props.steps, path);
    if (!f || f.kind === 'deadlock') return this.disagree(`z3 claims the step case fails at k=${k}; the interpreter finds no violation`);
    const prop = f.kind === 'error' ? { name: 'no-model-error', requirement: 'model error' } : f.property;
    const failing = f.kind === 'error' && f.via >= 0 ? (model.instances[f.via]?.label ?? `#${f.via}`) : 'a rule';
    return {
      status: 'cti',
      method: 'k-induction',
      k,
      property: prop.name,
      requirement: prop.requirement,
      elapsedMs: 0,
      message:
        f.kind === 'error'
          ? `that no rule raises a model error is not ${k}-inductive: ${k} steps from a state that satisfies every property (not necessarily reachable) lead to a state in which step ${k + 1}, ${failing}, raises a model error (${f.message}); a strengthening invariant that excludes the first state is missing`
          : `${prop.name} is not ${k}-inductive: ${k} steps from a state that satisfies every property (not necessarily reachable) lead to a state where it fails; a strengthening invariant that excludes the first state is missing`,
      trace: traceOf(model, path, prop, {
        depth: k,
        solver: s.solverName,
        method: 'k-induction step case',
        ...(f.kind === 'error' && f.via >= 0 ? { failingChoice: f.via } : {}),
      }),
    };
  }
}
