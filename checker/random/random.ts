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
import { failingInstance, initState } from '../../model/lang/interp.js';
import { DEADLOCK, type Property } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import {
  type CheckJob,
  type CheckResult,
  type CoverReport,
  type Engine,
  type Hooks,
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

/** Whether two stops are the same broken property. */
function sameStop(a: RunStop | null, b: RunStop): boolean {
  if (a === null || a.kind !== b.kind) return false;
  return a.kind === 'deadlock' || (a.kind !== 'modelError' && b.kind !== 'modelError' && b.kind !== 'deadlock' && a.index === b.index);
}

/**
 * Shortens a failing run while it still breaks the same property, to a fixpoint: drop one step; or
 * move one step later, leaving out the steps that are then no longer enabled (an operation issued
 * while its page is blocked, then resumed, becomes one issued after the unblock).
 */
function dropIrrelevantSteps(runner: ChoiceRunner, init: Int32Array, steps: readonly number[], stop: RunStop, checkDeadlock: boolean): number[] {
  let cur = [...steps];
  const attempt = (cand: readonly number[], lenient: boolean): boolean => {
    const r = runner.runInstances(init, cand, checkDeadlock, lenient);
    if (!r || !sameStop(r.outcome.stop, stop) || r.outcome.length >= cur.length + (lenient ? 0 : 1)) return false;
    cur = r.taken.slice(0, r.outcome.length);
    return true;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = cur.length - 1; i >= 0; i--) {
      if (attempt([...cur.slice(0, i), ...cur.slice(i + 1)], false)) {
        changed = true;
        i = Math.min(i, cur.length);
      }
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

/**
 * Runs `job` with the random engine.
 *
 * @example
 * ```ts
 * const r = randomCheck({ model, properties, limits: { depth: 50 }, runs: 1000, seed: 7 });
 * if (r.status === 'violated') console.log(r.violations[0].trace?.steps.length);
 * ```
 */
export function randomCheck(job: CheckJob, hooks: Hooks = {}, opts: RandomOptions = {}): CheckResult<RandomStats> {
  const { model } = job;
  const runs = job.runs ?? DEFAULT_RUNS;
  const depth = job.limits.depth ?? DEFAULT_DEPTH;
  const seed = job.seed ?? freshSeed();
  const checkDeadlock = job.deadlock ?? true;
  const start = Date.now();
  // Sampled runs (fast-check's generated runs) and shrinking runs (after the first failure) apart.
  const sampled = { runs: 0, steps: 0, generated: 0, maxLen: 0 };
  const shrinking = { runs: 0, steps: 0 };
  let failedOnce = false;
  let distinct: StateStore | null = null;

  const stats = (): RandomStats => ({
    engine: 'random',
    runs: sampled.runs,
    steps: sampled.steps,
    states: distinct?.count ?? 0,
    depth: sampled.maxLen,
    shrinkRuns: shrinking.runs,
    shrinkSteps: shrinking.steps,
    seed,
    elapsedMs: Date.now() - start,
  });
  if (!Number.isInteger(runs) || runs < 1) throw new McError('MC030', `--runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(depth) || depth < 1) throw new McError('MC030', `--depth must be a positive integer, got ${depth}`);
  if (!Number.isInteger(seed)) throw new McError('MC030', `--seed must be an integer, got ${seed}`);

  let cm: CompiledModel<Property>;
  let inits: Int32Array[];
  try {
    cm = compileModel(model, job.properties);
    inits = model.inits.map((i) => initState(model, i));
  } catch (e) {
    if (e instanceof McError) return { status: 'error', code: e.code, message: e.message, stats: stats(), trace: null };
    throw e;
  }
  const runner = new ChoiceRunner(cm, model.layout.nSlots, model.instances.length);
  // The distinct states the sampled runs visit, packed as the explicit engine stores them.
  const seen = new StateStore(cm.words);
  distinct = seen;
  const packed = new Uint32Array(cm.words);
  const countState = (s: Int32Array) => {
    cm.pack(s, packed, 0);
    seen.insert(packed, 0, -1, 0);
  };
  // Swarm testing (Groce et al., ISSTA 2012): half the runs hold back a random subset of the rules,
  // taking them only when nothing else is enabled. A uniform walk rarely lets one actor run far ahead
  // of another; holding the others back makes such interleavings (an ABA race, a starved
  // invalidation) common. fast-check shrinks a swarm run towards a plain one.
  const ruleOf = model.instances.map((inst) => model.rules.indexOf(inst.rule));
  const heldBackOf = (held: readonly boolean[] | null): Uint8Array | undefined => {
    if (!held?.some(Boolean)) return undefined;
    return Uint8Array.from(ruleOf, (r) => (held[r] ? 1 : 0));
  };
  const coverDepth: (number | null)[] = cm.coverProps.map(() => null);
  let unreachedCovers = coverDepth.length;
  const onState = (s: Int32Array, d: number) => {
    if (!failedOnce) countState(s);
    if (unreachedCovers === 0) return;
    for (let i = 0; i < coverDepth.length; i++) {
      const c = coverDepth[i] ?? null;
      if ((c === null || d < c) && (cm.covers[i] as (x: Int32Array) => boolean)(s)) {
        if (c === null) unreachedCovers--;
        coverDepth[i] = d;
      }
    }
  };
  const coverReports = (): CoverReport[] =>
    cm.coverProps.map((p, i) => ({ name: p.name, requirement: p.requirement, reached: coverDepth[i] !== null, depth: coverDepth[i] ?? null }));

  let lastReport = start;
  const execute = (input: RunInput, record?: (st: RecordedStep) => void): RunOutcome => {
    const heldBack = heldBackOf(input[2]);
    const out = runner.run(inits[input[0]] as Int32Array, input[1], {
      checkDeadlock,
      onState,
      ...(record ? { record } : {}),
      ...(heldBack ? { heldBack } : {}),
    });
    if (failedOnce) {
      shrinking.runs++;
      shrinking.steps += out.length;
    } else {
      sampled.runs++;
      sampled.steps += out.length;
      sampled.generated += out.generated;
      if (out.length > sampled.maxLen) sampled.maxLen = out.length;
      if (out.stop !== null) failedOnce = true;
    }
    return out;
  };

  const nRules = model.rules.length;
  const arb: fc.Arbitrary<RunInput> = fc.tuple(
    fc.nat({ max: model.inits.length - 1 }),
    fc.array(fc.nat({ max: MAX_CHOICE }), { maxLength: depth, size: 'max' }),
    opts.swarm === false ? fc.constant(null) : fc.option(fc.array(fc.boolean(), { minLength: nRules, maxLength: nRules }), { freq: 2, nil: null }),
  );
  const prop = fc.property(arb, (input) => {
    if (hooks.onProgress && ((sampled.runs + shrinking.runs) & 63) === 0) {
      const now = Date.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        const el = now - start;
        hooks.onProgress({
          generated: sampled.generated,
          distinct: seen.count,
          queue: 0,
          depth: sampled.maxLen,
          elapsedMs: el,
          statesPerSec: Math.round((seen.count * 1000) / Math.max(1, el)),
        });
      }
    }
    return execute(input).stop === null;
  });
  const params: fc.Parameters<[RunInput]> = {
    seed,
    numRuns: runs,
    ...(opts.path !== undefined ? { path: opts.path } : {}),
    ...(job.limits.timeLimitSec !== undefined ? { interruptAfterTimeLimit: job.limits.timeLimitSec * 1000, markInterruptAsFailure: false } : {}),
  };
  const details = fc.check(prop, params);
  const generatedRuns = details.numRuns;

  if (!details.failed) {
    if (details.interrupted) {
      return {
        status: 'incomplete',
        reason: `time limit of ${job.limits.timeLimitSec}s reached after ${generatedRuns} of ${runs} runs`,
        stats: stats(),
        covers: coverReports(),
      };
    }
    return { status: 'ok', guarantee: 'sampled', bound: depth, stats: stats(), covers: coverReports() };
  }
  if (details.errorInstance && !details.counterexample) {
    const e: unknown = details.errorInstance;
    if (e instanceof McError) return { status: 'error', code: e.code, message: e.message, stats: stats(), trace: null };
    throw e;
  }
  const fcInput = (details.counterexample as [RunInput])[0];
  const initIdx = fcInput[0];
  const first: RecordedStep[] = [];
  const firstStop = execute(fcInput, (st) => first.push(st)).stop;
  if (firstStop === null) {
    // The property failed in fast-check but not when run again: the run is not deterministic.
    return { status: 'error', code: 'MC040', message: 'random engine: a failing run did not fail when re-executed', stats: stats(), trace: null };
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
  const steps: TraceStep[] = [
    { choice: initIdx, label: `init ${model.inits[initIdx]?.name ?? initIdx}`, state: new Int32Array(inits[initIdx] as Int32Array) },
    ...recorded.map((r) => ({ choice: r.instance, label: model.instances[r.instance]?.label ?? `#${r.instance}`, state: r.state })),
  ];
  const extra: Record<string, unknown> = {
    fcSeed: details.seed,
    fcPath: details.counterexamplePath,
    fcCounterexampleSteps: first.length,
    rawChoices: [initIdx, ...input[1]],
    ...(fcInput[2]?.some(Boolean) ? { swarmHeldBack: model.rules.filter((_, i) => fcInput[2]?.[i]).map((r) => r.name) } : {}),
    runs: generatedRuns,
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
    const last = (steps[steps.length - 1] as TraceStep).state;
    const f = e instanceof ModelRuntimeError ? failingInstance(model, last) : null;
    const trace = traceFor(null, { note: f?.message ?? e.message, extra: { ...extra, ...(f ? { failingChoice: f.via } : {}) } });
    return {
      status: 'error',
      code: e.code,
      stats: stats(),
      trace,
      message: f ? modelErrorMessage(f.message, steps.length - 1) : e.message,
    };
  }
  let violation: Violation;
  if (stop.kind === 'deadlock') {
    violation = deadlockViolation(traceFor({ name: DEADLOCK, requirement: 'deadlock' }));
  } else if (stop.kind === 'step') {
    const p = cm.steps[stop.index] as Property;
    const last = steps[steps.length - 1] as TraceStep;
    violation = {
      property: p.name,
      requirement: p.requirement,
      kind: 'step',
      message: `step property ${p.name} (${p.requirement}) violated by ${last.label}: ${p.doc}`,
      trace: traceFor(p),
    };
  } else {
    const p = cm.invariants[stop.index] as Property;
    violation = {
      property: p.name,
      requirement: p.requirement,
      kind: 'invariant',
      message: `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`,
      trace: traceFor(p),
    };
  }
  return { status: 'violated', guarantee: 'sampled', bound: depth, stats: stats(), violations: [violation], covers: coverReports() };
}

/** The random engine behind the common interface. */
export const randomEngine: Engine = {
  name: 'random',
  run: async (job, hooks) => randomCheck(job, hooks),
};
