/**
 * `prove --infer`: proofs without hand-written invariants. Why this module exists: k-induction
 * proves a protocol only with strengthening invariants someone wrote; this finds them.
 *
 * At the sizes the model is built with:
 * 1. Every reachable state is enumerated (reachableSet.ts). A state or step that breaks an
 *    obligation ends the proof attempt: the explicit engine's breadth-first search gives the
 *    shortest trace, which the interpreter replays (replay.ts) before it is reported.
 * 2. An inductive invariant is learned from counterexamples to induction, with the reachable states
 *    as the oracle of which cubes are unreachable (invariantLearner.ts).
 * 3. It is printed as expressions of the modelling language (invariantPrinter.ts), and those very
 *    expressions are handed to the existing k-induction (`prove`, k = 1) as strengthening
 *    invariants: the proof counts only when z3 confirms that they hold initially, are inductive
 *    together with the properties, and imply every property (the soundness guard).
 * When the state space is too large to enumerate, z3's Spacer engine is run on the Horn clauses of
 * the model instead (spacer.ts); its answers go through the same guards.
 *
 * Extra invariants (hints fed back, `opts.hints`) are obligations like the properties: a wrong one
 * is refuted with a trace, reported as a hint that does not hold, never as a property violation.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import type { Expr } from '../../model/lang/expr.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type Invariant, type Property, type StepProperty, invariant } from '../../properties/property.js';
import type { Trace } from '../../counterexamples/trace.js';
import { explicitCheck } from '../explicit/explicit.js';
import { splitProperties } from './bmc.js';
import { type LearnProgress, learnInvariant } from './invariantLearner.js';
import { type PrintedFact, exprSource, printFacts } from './invariantPrinter.js';
import { prove } from './prove.js';
import type { ProofResult } from './proofResult.js';
import { buildReachableSet } from './reachableSet.js';
import { modelErrorOf, replayPath, stuckFinding, traceOf, violationFinding, violationOf } from './replay.js';
import { type SpacerAnswer, spacerSolve } from './spacer.js';
import { SmtUnsupported } from './symbolic.js';
import { type SmtSession, type SolverBackend, withSession } from './z3Host.js';

/** Reachable states enumerated before giving up on the exact oracle (default). */
export const DEFAULT_INFER_MAX_STATES = 3_000_000;

/** What `proveInfer` reports while it runs. */
export type InferProgress =
  | { readonly phase: 'reach'; readonly states: number; readonly elapsedMs: number }
  | { readonly phase: 'spacer'; readonly reason: string; readonly elapsedMs: number }
  | (LearnProgress & { readonly phase: 'learn' | 'minimize' })
  | { readonly phase: 'guard'; readonly conjuncts: number; readonly elapsedMs: number };

export interface InferOptions {
  readonly timeLimitSec?: number;
  /** Which z3 answers the queries (default `wasm`). */
  readonly solver?: SolverBackend;
  readonly session?: SmtSession;
  /** Invariants fed back as hints: proved (or refuted) together with the properties. */
  readonly hints?: readonly Invariant[];
  /** Reachable states enumerated at most (default DEFAULT_INFER_MAX_STATES); beyond them Spacer is run. */
  readonly maxStates?: number;
  /** Run Spacer on the Horn clauses instead of enumerating the reachable states (tests, benchmarks). */
  readonly spacer?: boolean;
  readonly onProgress?: (p: InferProgress) => void;
}

/** An inferred invariant: the printed conjuncts, each with its model source. */
export interface InferredInvariant {
  readonly conjuncts: readonly PrintedFact[];
  /** The conjuncts as named strengthening invariants (what the guard re-proved). */
  readonly invariants: readonly Invariant[];
}

/** A proof result; a proof carries the inferred invariant. */
export type InferResult = ProofResult & { readonly invariant?: InferredInvariant };

/** The name of the i-th inferred conjunct. */
export const inferredName = (i: number) => `inferred-${i + 1}`;

/** Named invariants for printed conjuncts. */
export function inferredInvariants(conjuncts: readonly { readonly expr: Expr }[]): Invariant[] {
  return conjuncts.map((c, i) => invariant(inferredName(i), 'INFERRED', 'found by prove --infer', c.expr));
}

/**
 * Proves the safety properties of `model` (at its built sizes) with an inferred invariant.
 * `proved` carries the invariant; `violated` a replayed shortest trace; `cti` a hint that does not
 * hold (with its trace); `incomplete` a limit; `error` MC011 (a model error, with its trace) or
 * MC040 (the engines disagree).
 */
export async function proveInfer(model: Model, properties: readonly Property[], opts: InferOptions = {}): Promise<InferResult> {
  const start = Date.now();
  const elapsed = () => Date.now() - start;
  const method = 'inferred-invariant' as const;
  const deadline = opts.timeLimitSec === undefined ? null : start + opts.timeLimitSec * 1000;
  for (const init of model.inits) {
    try {
      initState(model, init);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { status: 'error', method, code: e.code, message: e.message, trace: null, elapsedMs: elapsed() };
      throw e;
    }
  }
  const hints = opts.hints ?? [];
  const split = splitProperties(properties);
  const obligations = { invariants: [...split.invariants, ...hints], steps: split.steps };
  const all: Property[] = [...obligations.invariants, ...obligations.steps];

  const withSpacer = async (why: string): Promise<InferResult> => {
    opts.onProgress?.({ phase: 'spacer', reason: why, elapsedMs: elapsed() });
    const go = (session: SmtSession) => bySpacer(session, model, properties, obligations, hints, deadline, opts, start);
    return opts.session ? go(opts.session) : withSession(go, 'wasm');
  };
  if (opts.spacer) return withSpacer('asked for');

  // 1. The reachable states.
  opts.onProgress?.({ phase: 'reach', states: 0, elapsedMs: 0 });
  const rb = buildReachableSet(model, all, opts.maxStates ?? DEFAULT_INFER_MAX_STATES, deadline);
  if (rb.status === 'violation' || rb.status === 'error')
    return { ...(await counterexample(model, [...split.invariants, ...split.steps], hints)), elapsedMs: elapsed() };
  if (rb.status === 'limit') {
    const timeUp = deadline !== null && Date.now() >= deadline;
    if (timeUp)
      return {
        status: 'incomplete',
        method,
        elapsedMs: elapsed(),
        reason: `time limit of ${opts.timeLimitSec}s reached while enumerating the reachable states (${rb.states} so far)`,
      };
    return withSpacer(`${rb.reason}: too many to enumerate`);
  }
  if (rb.status !== 'complete') throw new Error('unreachable');
  const reach = rb.set;
  opts.onProgress?.({ phase: 'reach', states: reach.n, elapsedMs: elapsed() });

  const go = async (session: SmtSession): Promise<InferResult> => {
    // 2. Learn.
    const learned = await learnInvariant(session, model, obligations, reach, {
      deadline,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    if (learned.status === 'incomplete') {
      return {
        status: 'incomplete' as const,
        method,
        elapsedMs: elapsed(),
        reason:
          learned.reason === 'time limit reached'
            ? `time limit of ${opts.timeLimitSec}s reached while learning the invariant (${learned.lemmas} lemmas, ${learned.ctis} counterexamples to induction blocked)`
            : `z3 answered unknown while learning the invariant (${learned.reason})`,
      };
    }
    if (learned.status === 'disagree') return disagree(learned.message, elapsed());
    // 3. Print, then re-prove the printed expressions with k-induction.
    const conjuncts = printFacts(model, learned.lemmas);
    const invs = inferredInvariants(conjuncts);
    opts.onProgress?.({ phase: 'guard', conjuncts: conjuncts.length, elapsedMs: elapsed() });
    const left = deadline === null ? undefined : Math.max(1, (deadline - Date.now()) / 1000);
    const guard = await prove(model, properties, {
      strengthening: [...hints, ...invs],
      maxK: 1,
      session,
      ...(left !== undefined ? { timeLimitSec: left } : {}),
    });
    if (guard.status === 'incomplete') return { ...guard, method, elapsedMs: elapsed(), reason: `while re-proving the inferred invariant: ${guard.reason}` };
    if (guard.status !== 'proved') {
      return disagree(
        `the inferred invariant was not re-proved by 1-induction (${guard.status}${guard.status === 'cti' || guard.status === 'error' ? `: ${guard.message}` : ''})`,
        elapsed(),
      );
    }
    const names = [...obligations.invariants, ...obligations.steps].map((p) => p.name);
    return {
      status: 'proved' as const,
      method,
      elapsedMs: elapsed(),
      properties: names,
      invariant: { conjuncts, invariants: invs },
      notes: [
        `at ${JSON.stringify(model.params)}${model.variant ? ` (variant ${model.variant})` : ''}: holds in every reachable state at these parameter values only`,
        `inferred invariant: ${conjuncts.length} conjuncts (${learned.lemmas.length} facts; ${reach.n} reachable states, ${learned.ctis} counterexamples to induction blocked, ${learned.queries} z3 queries)`,
        'soundness guard: the printed conjuncts hold initially and, with the properties, are 1-inductive (z3 k-induction, k = 1), so every property holds in every reachable state',
        'proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom and liveness are not part of the proof',
        ...(reach.deadlocks
          ? [
              `deadlock freedom (not part of the proof) does not hold: ${reach.deadlocks} reachable states have no enabled rule and are not legal end states; check reports one with a trace`,
            ]
          : []),
      ],
    };
  };
  return opts.session ? go(opts.session) : withSession(go, opts.solver ?? 'wasm');
}

/**
 * The proof by Spacer: an unsafe answer is replayed by the interpreter (and shortened by breadth-first
 * search within the state budget), a safe one is printed and re-proved by k-induction.
 */
async function bySpacer(
  session: SmtSession,
  model: Model,
  properties: readonly Property[],
  obligations: { invariants: readonly Invariant[]; steps: readonly StepProperty[] },
  hints: readonly Invariant[],
  deadline: number | null,
  opts: InferOptions,
  start: number,
): Promise<InferResult> {
  const method = 'inferred-invariant' as const;
  const elapsed = () => Date.now() - start;
  let a: SpacerAnswer;
  try {
    a = await spacerSolve(session, model, obligations, deadline);
  } catch (e) {
    if (e instanceof SmtUnsupported)
      return {
        status: 'error',
        method,
        code: 'MC010',
        trace: null,
        elapsedMs: elapsed(),
        message: `the SMT translation cannot express this model: ${e.message}`,
      };
    throw e;
  }
  if (a.status === 'disagree') return disagree(a.message, elapsed());
  if (a.status === 'unknown') {
    return {
      status: 'incomplete',
      method,
      elapsedMs: elapsed(),
      reason: a.reason === 'time limit reached' ? `time limit of ${opts.timeLimitSec}s reached in Spacer` : `Spacer answered unknown (${a.reason})`,
    };
  }
  if (a.status === 'unsafe') {
    const split = splitProperties(properties);
    const last = a.path.states[a.path.states.length - 1] as Int32Array;
    const f = violationFinding(model, [...split.invariants, ...hints], split.steps, a.path) ?? stuckFinding(model, last, false);
    if (!f || f.kind === 'deadlock') return disagree(`Spacer's derivation (${a.clause}) replays but breaks nothing`, elapsed());
    // The same problem, breadth-first within the state budget: a shortest trace when it fits.
    const bfs = await counterexample(model, [...split.invariants, ...split.steps], hints, opts.maxStates ?? DEFAULT_INFER_MAX_STATES);
    if (bfs.status !== 'error' || bfs.code !== 'MC040') return { ...bfs, elapsedMs: elapsed() };
    const extra = { depth: a.path.states.length - 1, solver: session.solverName, method: 'prove --infer (Spacer derivation)' };
    if (f.kind === 'error') {
      const { message, trace } = modelErrorOf(model, f, a.path, extra);
      return { status: 'error', method, code: 'MC011', message, trace, elapsedMs: elapsed() };
    }
    if (f.kind === 'invariant' && hints.includes(f.property)) {
      const n = a.path.states.length - 1;
      return {
        status: 'cti',
        method,
        property: f.property.name,
        requirement: f.property.requirement,
        hintFailed: true,
        elapsedMs: elapsed(),
        trace: traceOf(model, a.path, f.property, extra),
        message: `the hint ${f.property.name} does not hold: ${n} steps lead to a state where it fails (the properties themselves hold there); the hints do not fit this model`,
      };
    }
    return { status: 'violated', method, violation: violationOf(model, f, a.path, extra), elapsedMs: elapsed() };
  }
  if (!a.invariant)
    return {
      status: 'incomplete',
      method,
      elapsedMs: elapsed(),
      reason: `Spacer proved the properties, but its invariant cannot be printed as model code (${a.why})`,
    };
  const parts = a.invariant.op === 'and' ? a.invariant.args : [a.invariant];
  const conjuncts = parts.map((expr) => ({ expr, source: exprSource(expr), covers: 1 }));
  const invs = inferredInvariants(conjuncts);
  const left = deadline === null ? undefined : Math.max(1, (deadline - Date.now()) / 1000);
  const guard = await prove(model, properties, { strengthening: [...hints, ...invs], maxK: 1, session, ...(left !== undefined ? { timeLimitSec: left } : {}) });
  if (guard.status !== 'proved') return disagree(`Spacer's invariant was not re-proved by 1-induction (${guard.status})`, elapsed());
  return {
    status: 'proved',
    method,
    elapsedMs: elapsed(),
    properties: [...obligations.invariants, ...obligations.steps].map((p) => p.name),
    invariant: { conjuncts, invariants: invs },
    notes: [
      `at ${JSON.stringify(model.params)}${model.variant ? ` (variant ${model.variant})` : ''}: holds in every reachable state at these parameter values only`,
      `inferred invariant: ${conjuncts.length} conjuncts, found by z3's Spacer engine (IC3/PDR on the Horn clauses of the model)`,
      'soundness guard: the printed conjuncts hold initially and, with the properties, are 1-inductive (z3 k-induction, k = 1), so every property holds in every reachable state',
      'proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom is not part of the proof',
    ],
  };
}

function disagree(why: string, elapsedMs: number): ProofResult {
  return {
    status: 'error',
    method: 'inferred-invariant',
    code: 'MC040',
    trace: null,
    elapsedMs,
    message: `the invariant inference and the independent check disagree: ${why}`,
  };
}

/**
 * The shortest counterexample (explicit BFS), replayed by the interpreter. A property broken at
 * some depth is reported before a hint broken at the same or a greater depth; a hint broken alone
 * is a `cti` (the hint does not hold), not a violation.
 */
async function counterexample(model: Model, props: readonly Property[], hints: readonly Invariant[], maxStates?: number): Promise<ProofResult> {
  const method = 'inferred-invariant' as const;
  const run = (ps: readonly Property[]) =>
    explicitCheck({ model, properties: ps, limits: maxStates === undefined ? {} : { maxStates }, deadlock: false, symmetry: false });
  const r = run(props);
  if (r.status === 'violated') {
    const v = r.violations[0];
    if (v?.trace) {
      const why = replayTrace(model, v.trace, props);
      if (why) return disagreeAt(why);
      return {
        status: 'violated',
        method,
        violation: { ...v, trace: { ...v.trace, extra: { ...(v.trace.extra ?? {}), method: 'prove --infer (breadth-first: a shortest trace)' } } },
        elapsedMs: 0,
      };
    }
  }
  if (r.status === 'error') return { status: 'error', method, code: r.code, message: r.message, trace: r.trace, elapsedMs: 0 };
  if (hints.length) {
    const h = run(hints);
    const v = h.status === 'violated' ? h.violations[0] : undefined;
    if (v?.trace) {
      const n = v.trace.steps.length - 1;
      return {
        status: 'cti',
        method,
        property: v.property,
        requirement: v.requirement,
        trace: v.trace,
        elapsedMs: 0,
        hintFailed: true,
        message: `the hint ${v.property} does not hold: ${n} steps lead to a state where it fails (the properties themselves hold there); the hints do not fit this model`,
      };
    }
  }
  return disagreeAt('the reachable-state search found a violation that breadth-first search does not reproduce');
}

function disagreeAt(why: string): ProofResult {
  return disagree(why, 0);
}

/** Replays an explicit-engine trace through the interpreter and checks that it breaks its property. */
function replayTrace(model: Model, trace: Trace, props: readonly Property[]): string | null {
  const path = { choices: trace.steps.map((s) => s.choice), states: trace.steps.map((s) => s.state), fromInit: true };
  const why = replayPath(model, path);
  if (why) return `the shortest trace does not replay: ${why}`;
  const split = splitProperties(props);
  const last = path.states[path.states.length - 1] as Int32Array;
  const f = violationFinding(model, split.invariants, split.steps, path) ?? stuckFinding(model, last, false);
  if (!f) return 'the shortest trace replays but breaks no property';
  return null;
}
