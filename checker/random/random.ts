/**
 * The random-interleaving engine. Why this module exists: exhaustive search stops scaling long before
 * the configurations driver authors care about (four pages, six frames, several DMA slots), but most
 * protocol bugs need only a short, specific interleaving. fast-check generates choice lists, each
 * entry picking the i-th enabled rule instance modulo the number enabled, so every list is a valid
 * run; a failing list is shrunk by fast-check to a short one, which gives counterexamples close to
 * the BFS shortest. Safety properties (invariants, step properties, deadlock) are checked at every
 * step of every run. Half the runs are swarm runs, which hold back a random subset of the rules
 * (see `heldBackOf`): a uniform walk almost never produces the lopsided interleavings that races
 * such as odp-mirror's valid-flag ABA need.
 *
 * What it must not do: report a run that found nothing as a proof. Its `ok` carries the guarantee
 * `sampled`, with the number of runs and the depth (each run takes up to `depth` steps; fast-check
 * draws the length). Covers it does not reach are reported unreached, not as violations; liveness
 * properties are not checked here. It never prints; progress goes through hooks.
 *
 * Reproduction: the same seed gives the same runs, the same shrinking and the same trace; the trace
 * records the seed, fast-check's counterexample path and the raw choice list.
 */
import fc from 'fast-check';
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { type EvaluatedProperty, type FailingStep, failingAfter, failingOnStart, failingStep, initState } from '../../model/lang/interp.js';
import type { Model, RuleInstance } from '../../model/lang/protocol.js';
import { DEADLOCK, type Property } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import {
  type CheckJob,
  type CheckResult,
  type CoverReport,
  type Engine,
  type Hooks,
  type Progress,
  type RandomStats,
  type Violation,
  deadlockViolation,
  modelErrorMessage,
} from '../engine.js';
import { StateStore } from '../explicit/stateStore.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import { ChoiceRunner, type RecordedStep, type RunOutcome, type RunStop } from './runChoices.js';

/** Runs when the job gives none. */
export const DEFAULT_RUNS = 1000;
/** Steps per run when the job gives no depth limit. */
export const DEFAULT_DEPTH = 50;
/** A fresh seed for a job that gives none; the result and every trace record the seed used, so runs reproduce. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
/** Largest raw choice value generated; taken modulo the number of enabled instances. */
const MAX_CHOICE = 0xffff;

/** Options beyond the common job. */
export interface RandomOptions {
  /**
   * A fast-check counterexample path (`extra.fcPath` of a random trace). With the same seed it
   * replays that counterexample directly instead of searching again.
   */
  readonly path?: string;
  /** Swarm runs (default true): half the runs hold back a random subset of the rules. */
  readonly swarm?: boolean;
}

/**
 * The raw input of one run: the start-state index, the choice list, and for a swarm run the rules
 * held back (one flag per rule; null for a plain run).
 */
type RunInput = readonly [number, readonly number[], readonly boolean[] | null];

/**
 * Whether two stops are the same broken property: the same invariant, the same step property, or
 * both a deadlock. A model error is no property, so it is never the same stop. Exported for its tests.
 */
export function sameStop(a: RunStop | null, b: RunStop): boolean {
  if (a === null || a.kind !== b.kind || a.kind === 'modelError') return false;
  // The same kind (b's is a's): a deadlock, or the same property of that kind.
  return a.kind === 'deadlock' || a.index === (b as typeof a).index;
}

/**
 * Shortens a failing run while it still breaks the same property, to a fixpoint: drop one step; or
 * move one step later, leaving out the steps that are then no longer enabled (an operation issued
 * while its page is blocked, then resumed, becomes one issued after the unblock). `steps` are rule
 * instances (by id); the result is too. Exported for its tests.
 */
export function dropIrrelevantSteps(runner: ChoiceRunner, init: Int32Array, steps: readonly number[], stop: RunStop, checkDeadlock: boolean): number[] {
  let cur = [...steps];
  const attempt = (cand: readonly number[], lenient: boolean): boolean => {
    const r = runner.runInstances(init, cand, checkDeadlock, lenient);
    if (!r) return false;
    // A run shows a deadlock only when it is given a choice after its last step.
    const out = stop.kind === 'deadlock' ? runner.run(init, [...r.choices, 0], { checkDeadlock }) : r.outcome;
    // Kept only when shorter: a dropped step's candidate always is, a moved step's need not be.
    if (!sameStop(out.stop, stop) || out.length >= cur.length) return false;
    cur = r.taken.slice(0, out.length);
    return true;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = cur.length - 1; i >= 0; i--) {
      // After a drop, cur may be shorter than i (the property broke earlier): such an i gives cur itself, which is not shorter.
      if (attempt([...cur.slice(0, i), ...cur.slice(i + 1)], false)) changed = true;
    }
    for (let i = 0; i < cur.length && !changed; i++) {
      for (let j = i + 1; j < cur.length && !changed; j++) {
        const moved = [...cur.slice(0, i), ...cur.slice(i + 1, j + 1), cur[i] as number, ...cur.slice(j + 1)];
        if (attempt(moved, true)) changed = true;
      }
    }
  }
  return cur;
}

/** Counts and the set of distinct states of one random check: sampled runs and shrinking runs apart. */
class RunTally {
  readonly sampled = { runs: 0, steps: 0, generated: 0, maxLen: 0 };
  readonly shrinking = { runs: 0, steps: 0 };
  /** Set once a sampled run has failed: every later run is fast-check (or us) shrinking it. */
  failedOnce = false;
  /** Distinct states the sampled runs visited, packed as the explicit engine stores them. */
  distinct: StateStore | null = null;
  /** When the check started (epoch ms). */
  readonly start = Date.now();
  private readonly seed: number;

  constructor(seed: number) {
    this.seed = seed;
  }

  count(out: RunOutcome): void {
    if (this.failedOnce) {
      this.shrinking.runs++;
      this.shrinking.steps += out.length;
      return;
    }
    this.sampled.runs++;
    this.sampled.steps += out.length;
    this.sampled.generated += out.generated;
    if (out.length > this.sampled.maxLen) this.sampled.maxLen = out.length;
    if (out.stop !== null) this.failedOnce = true;
  }

  stats(): RandomStats {
    return {
      engine: 'random',
      runs: this.sampled.runs,
      steps: this.sampled.steps,
      states: this.distinct?.count ?? 0,
      depth: this.sampled.maxLen,
      shrinkRuns: this.shrinking.runs,
      shrinkSteps: this.shrinking.steps,
      seed: this.seed,
      elapsedMs: Date.now() - this.start,
    };
  }

  /** The progress figures at `now` (epoch ms). */
  progress(now: number): Progress {
    const el = now - this.start;
    const n = this.distinct?.count ?? 0;
    return {
      generated: this.sampled.generated,
      distinct: n,
      queue: 0,
      depth: this.sampled.maxLen,
      elapsedMs: el,
      statesPerSec: Math.round((n * 1000) / Math.max(1, el)),
    };
  }
}

/**
 * The earliest depth at which each cover is reached by any run. Every state is checked against every
 * cover, also once all are reached: a later run can reach one at a smaller depth.
 */
class CoverTracker {
  private readonly depth: (number | null)[];
  private readonly cm: CompiledModel<Property>;

  constructor(cm: CompiledModel<Property>) {
    this.cm = cm;
    this.depth = cm.coverProps.map(() => null);
  }

  see(s: Int32Array, d: number): void {
    for (let i = 0; i < this.depth.length; i++) {
      const c = this.depth[i] ?? null;
      if ((c === null || d < c) && (this.cm.covers[i] as (x: Int32Array) => boolean)(s)) this.depth[i] = d;
    }
  }

  reports(): CoverReport[] {
    return this.cm.coverProps.map((p, i) => ({ name: p.name, requirement: p.requirement, reached: this.depth[i] !== null, depth: this.depth[i] ?? null }));
  }
}

/** The violation a failing run's stop stands for, with its trace. */
function violationOf(
  stop: Exclude<RunStop, { kind: 'modelError' }>,
  cm: CompiledModel<Property>,
  traceFor: (p: { name: string; requirement: string }) => Trace,
  lastLabel: string,
): Violation {
  if (stop.kind === 'deadlock') {
    return deadlockViolation(traceFor({ name: DEADLOCK, requirement: 'deadlock' }));
  }
  if (stop.kind === 'step') {
    const p = cm.steps[stop.index] as Property;
    return {
      property: p.name,
      requirement: p.requirement,
      kind: 'step',
      message: `step property ${p.name} (${p.requirement}) violated by ${lastLabel}: ${p.doc}`,
      trace: traceFor(p),
    };
  }
  const p = cm.invariants[stop.index] as Property;
  return {
    property: p.name,
    requirement: p.requirement,
    kind: 'invariant',
    message: `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`,
    trace: traceFor(p),
  };
}

/** Checks the job's numbers (MC030: bad usage). */
function checkedSettings(job: CheckJob): { runs: number; depth: number; seed: number; checkDeadlock: boolean } {
  const runs = job.runs ?? DEFAULT_RUNS;
  const depth = job.limits.depth ?? DEFAULT_DEPTH;
  const seed = job.seed ?? freshSeed();
  if (!Number.isInteger(runs) || runs < 1) throw new McError('MC030', `--runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(depth) || depth < 1) throw new McError('MC030', `--depth must be a positive integer, got ${depth}`);
  if (!Number.isInteger(seed)) throw new McError('MC030', `--seed must be an integer, got ${seed}`);
  return { runs, depth, seed, checkDeadlock: job.deadlock ?? true };
}

/**
 * Runs `job` with the random engine: sample runs with fast-check (half of them swarm runs); when one
 * fails, shrink it (fast-check, then dropping steps that do not matter) and report the shortest run
 * found as the counterexample.
 *
 * @example
 * ```ts
 * const r = randomCheck({ model, properties, limits: { depth: 50 }, runs: 1000, seed: 7 });
 * if (r.status === 'violated') console.log(r.violations[0].trace?.steps.length);
 * ```
 */
export function randomCheck(job: CheckJob, hooks: Hooks = {}, opts: RandomOptions = {}): CheckResult<RandomStats> {
  const { model } = job;
  const { runs, depth, seed, checkDeadlock } = checkedSettings(job);
  const tally = new RunTally(seed);
  let cm: CompiledModel<Property>;
  let inits: Int32Array[];
  try {
    cm = compileModel(model, job.properties);
    inits = model.inits.map((i) => initState(model, i));
  } catch (e) {
    if (e instanceof McError) return { status: 'error', code: e.code, message: e.message, stats: tally.stats(), trace: null };
    throw e;
  }
  const runner = new ChoiceRunner(cm, model.layout.nSlots, model.instances.length);
  const seen = new StateStore(cm.words);
  tally.distinct = seen;
  const packed = new Uint32Array(cm.words);
  const covers = new CoverTracker(cm);
  const onState = (s: Int32Array, d: number) => {
    if (!tally.failedOnce) {
      cm.pack(s, packed, 0);
      seen.insert(packed, 0);
    }
    covers.see(s, d);
  };
  // Swarm testing (Groce et al., ISSTA 2012): half the runs hold back a random subset of the rules,
  // taking them only when nothing else is enabled. A uniform walk rarely lets one actor run far ahead
  // of another; holding the others back makes such interleavings (an ABA race, a starved
  // invalidation) common. fast-check shrinks a swarm run towards a plain one.
  const ruleOf = model.instances.map((inst) => model.rules.indexOf(inst.rule));
  const heldBackOf = (held: readonly boolean[] | null): Uint8Array | undefined =>
    held?.some(Boolean) ? Uint8Array.from(ruleOf, (r) => (held[r] ? 1 : 0)) : undefined;
  const execute = (input: RunInput, record?: (st: RecordedStep) => void): RunOutcome => {
    const heldBack = heldBackOf(input[2]);
    const out = runner.run(inits[input[0]] as Int32Array, input[1], {
      checkDeadlock,
      onState,
      ...(record ? { record } : {}),
      ...(heldBack ? { heldBack } : {}),
    });
    tally.count(out);
    return out;
  };

  // 1. Sample runs.
  const details = sample(
    model,
    job,
    hooks,
    tally,
    { runs, depth, seed, swarm: opts.swarm !== false, ...(opts.path !== undefined ? { path: opts.path } : {}) },
    execute,
  );
  // A time limit can interrupt fast-check before any run fails, or before any run at all (it then
  // reports a failure with no counterexample): either way nothing was found and the check is incomplete.
  if (!details.failed || (details.interrupted && details.counterexample === null)) {
    if (details.interrupted) {
      const reason = `time limit of ${job.limits.timeLimitSec}s reached after ${details.numRuns} of ${runs} runs`;
      return { status: 'incomplete', reason, stats: tally.stats(), covers: covers.reports() };
    }
    return { status: 'ok', guarantee: 'sampled', bound: depth, stats: tally.stats(), covers: covers.reports() };
  }
  // fast-check gives a failure without a counterexample only when interrupted (handled above) or
  // when too many runs were skipped (the property skips none). A model error in a run is a failing
  // run, with its counterexample, since the property returns the run's stop instead of throwing.
  if (details.counterexample === null) {
    return { status: 'error', code: 'MC040', message: 'random engine: fast-check reported a failure without a failing run', stats: tally.stats(), trace: null };
  }
  // 2. Shrink the failing run further and run it once more, recording its steps.
  const fcInput = details.counterexample[0];
  const initIdx = fcInput[0];
  const first: RecordedStep[] = [];
  const firstStop = execute(fcInput, (st) => first.push(st)).stop;
  if (firstStop === null) {
    // The property failed in fast-check but not when run again: the run is not deterministic.
    return { status: 'error', code: 'MC040', message: 'random engine: a failing run did not fail when re-executed', stats: tally.stats(), trace: null };
  }
  // fast-check's shrinking works on raw choices, whose meaning depends on what is enabled, so a step
  // that does not matter can survive it. Drop such steps while the same property still fails.
  const kept =
    firstStop.kind === 'modelError'
      ? first.map((r) => r.instance)
      : dropIrrelevantSteps(
          runner,
          inits[initIdx] as Int32Array,
          first.map((r) => r.instance),
          firstStop,
          checkDeadlock,
        );
  const rerun = runner.runInstances(inits[initIdx] as Int32Array, kept, checkDeadlock);
  // The kept steps are given again as plain choices (positions among all enabled instances).
  const input: RunInput = rerun ? [initIdx, rerun.choices, null] : fcInput;
  const recorded: RecordedStep[] = [];
  const stop = execute(input, (st) => recorded.push(st)).stop ?? firstStop;

  // 3. The trace and the result.
  return counterexample(model, cm, { seed, depth, details, fcInput, firstLength: first.length, input, inits, recorded, stop }, tally, covers);
}

/** The result of a failing run: its trace, and the violation (or model error) it shows. */
function counterexample(
  model: Model,
  cm: CompiledModel<Property>,
  run: {
    seed: number;
    depth: number;
    details: fc.RunDetails<[RunInput]>;
    fcInput: RunInput;
    firstLength: number;
    input: RunInput;
    inits: readonly Int32Array[];
    recorded: readonly RecordedStep[];
    stop: RunStop;
  },
  tally: RunTally,
  covers: CoverTracker,
): CheckResult<RandomStats> {
  const { seed, depth, details, fcInput, input, inits, recorded, stop } = run;
  const initIdx = input[0];
  // Indices and instances come from the model itself: every one exists.
  const steps: TraceStep[] = [
    { choice: initIdx, label: `init ${(model.inits[initIdx] as Model['inits'][number]).name}`, state: new Int32Array(inits[initIdx] as Int32Array) },
    ...recorded.map((r) => ({ choice: r.instance, label: (model.instances[r.instance] as Model['instances'][number]).label, state: r.state })),
  ];
  const held = fcInput[2];
  const extra: Record<string, unknown> = {
    fcSeed: details.seed,
    fcPath: details.counterexamplePath,
    fcCounterexampleSteps: run.firstLength,
    rawChoices: [initIdx, ...input[1]],
    ...(held?.some(Boolean) ? { swarmHeldBack: model.rules.filter((_, i) => held[i]).map((r) => r.name) } : {}),
    runs: details.numRuns,
    depth,
    shrinks: details.numShrinks,
  };
  const traceFor = (p: { name: string; requirement: string } | null, more: Partial<Trace> = {}): Trace => ({
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'random',
    property: p?.name ?? null,
    requirement: p?.requirement ?? null,
    steps,
    seed: String(seed),
    extra,
    ...more,
  });
  if (stop.kind === 'modelError') {
    const e = stop.error;
    if (!(e instanceof McError)) throw e;
    const f = e instanceof ModelRuntimeError ? failureAt(model, [...cm.invariants, ...cm.steps, ...cm.coverProps], steps) : null;
    const trace = traceFor(null, { note: f?.message ?? e.message, extra: { ...extra, ...(f && !f.step ? { failingChoice: f.via } : {}) } });
    const message = f ? modelErrorMessage(f.message, steps.length - 1) : e.message;
    return { status: 'error', code: e.code, stats: tally.stats(), trace, message };
  }
  const violation = violationOf(stop, cm, traceFor, (steps[steps.length - 1] as TraceStep).label);
  return { status: 'violated', guarantee: 'sampled', bound: depth, stats: tally.stats(), violations: [violation], covers: covers.reports() };
}

/**
 * What raised a run-time model error at the end of `steps` (through the reference semantics): a
 * property on the last state (or on its step), else the first step from it that fails or after
 * which a property fails (that step is then added to `steps`, so the trace ends where it fails).
 */
function failureAt(model: Model, properties: readonly EvaluatedProperty[], steps: TraceStep[]): FailingStep | null {
  const last = steps[steps.length - 1] as TraceStep;
  const before = steps[steps.length - 2];
  const here = before
    ? failingAfter(model, properties, before.state, model.instances[last.choice] as RuleInstance, last.state)
    : failingOnStart(model, properties, last.choice, last.state);
  if (here) return here;
  const next = failingStep(model, properties, last.state);
  if (next?.step) steps.push({ choice: next.via, ...next.step });
  return next;
}

/** fast-check's sampling of runs: a choice list per run, progress through the hooks. */
function sample(
  model: Model,
  job: CheckJob,
  hooks: Hooks,
  tally: RunTally,
  o: { runs: number; depth: number; seed: number; swarm: boolean; path?: string },
  execute: (input: RunInput) => RunOutcome,
): fc.RunDetails<[RunInput]> {
  const nRules = model.rules.length;
  const arb: fc.Arbitrary<RunInput> = fc.tuple(
    fc.nat({ max: model.inits.length - 1 }),
    fc.array(fc.nat({ max: MAX_CHOICE }), { maxLength: o.depth, size: 'max' }),
    o.swarm ? fc.option(fc.array(fc.boolean(), { minLength: nRules, maxLength: nRules }), { freq: 2, nil: null }) : fc.constant(null),
  );
  let lastReport = tally.start;
  // An exception of the caller's progress hook is the caller's, as in the other engines: fast-check
  // would take it for a failing run (and shrink it), so every later run fails at once without
  // running and the exception is thrown again once fast-check returns.
  let hookFailure: { error: unknown } | null = null;
  const prop = fc.property(arb, (input) => {
    if (hookFailure) return false;
    if (hooks.onProgress && ((tally.sampled.runs + tally.shrinking.runs + 1) & 63) === 0) {
      const now = Date.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        try {
          hooks.onProgress(tally.progress(now));
        } catch (error) {
          hookFailure = { error };
          return false;
        }
      }
    }
    return execute(input).stop === null;
  });
  const details = fc.check(prop, {
    seed: o.seed,
    numRuns: o.runs,
    ...(o.path !== undefined ? { path: o.path } : {}),
    ...(job.limits.timeLimitSec !== undefined ? { interruptAfterTimeLimit: job.limits.timeLimitSec * 1000, markInterruptAsFailure: false } : {}),
  });
  if (hookFailure) throw (hookFailure as { error: unknown }).error;
  return details;
}

/** The random engine behind the common interface. */
export const randomEngine: Engine = {
  name: 'random',
  run: async (job, hooks) => randomCheck(job, hooks),
};
