/**
 * The exhaustive explicit-state engine. Why this module exists: it is the engine whose "ok" means
 * every reachable state was checked. BFS visits states level by level, so the first violation found
 * has a shortest trace; DFS uses a stack instead of the level order. It never prints: progress goes
 * through hooks, results are returned as data. The walk itself is search.ts; this module turns what
 * the walk found into a result.
 */
import { StoreFullError, limitOf } from './storeMemory.js';
import { failingStart, failingStep } from '../../model/lang/interp.js';
import { compileModel } from '../../model/lang/compile.js';
import { McError } from '../../model/lang/errors.js';
import { DEADLOCK, type Property } from '../../properties/property.js';
import type { TraceStep } from '../../counterexamples/trace.js';
import {
  type CheckJob,
  type CheckResult,
  type CoverReport,
  type ExplicitStats,
  type Guarantee,
  type Hooks,
  type Violation,
  bytesPerStateOf,
  deadlockViolation,
  modelErrorMessage,
} from '../engine.js';
import type { Finding } from './expander.js';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { BitstateSet } from './bitstate.js';
import { type CheckpointIdentity, Checkpointer, identityOf, resumeFrom } from './checkpoint.js';
import { FingerprintSet } from './fingerprintSet.js';
import { reductionData } from './partialOrder.js';
import { Search, type SearchEnd } from './search.js';
import { checkSymmetric } from './symmetry.js';
import { WorkerPool } from './workerPool.js';
import { explicitTrace, traceTo } from './traces.js';

/** The figures of a search so far. */
export function searchStats(search: Search): ExplicitStats {
  const elapsedMs = Date.now() - search.startMs + search.elapsedBefore;
  const bytes = search.storeBytes();
  const states = search.count;
  const f = search.figures();
  const { seen } = search;
  return {
    engine: 'explicit',
    symmetry: search.canon.active,
    states,
    transitions: f.generated,
    depth: f.maxDepth,
    elapsedMs,
    statesPerSec: elapsedMs > 0 ? Math.round((states * 1000) / elapsedMs) : states * 1000,
    bytesPerState: bytesPerStateOf(bytes, states),
    storeBytes: bytes,
    ...(search.kind === 'exact' ? {} : { store: search.kind, queueBytes: search.queueBytes() }),
    ...(search.store.collapsing ? { collapse: true as const } : {}),
    ...(seen instanceof FingerprintSet ? { omissionProbability: seen.omissionProbability(states) } : {}),
    ...(seen instanceof BitstateSet ? { coverage: seen.coverage() } : {}),
    ...(search.opts.shard ? { shard: `${search.opts.shard.index + 1}/${search.opts.shard.count}`, store: search.kind } : {}),
  };
}

/** What an exhaustive search with this store proves (a shard alone proves it of its part only). */
function guaranteeOf(search: Search): Guarantee {
  if (search.opts.shard) return 'shard';
  return search.kind === 'exact' ? 'exhaustive' : search.kind;
}

/** Whether each cover was reached, and at which depth. */
function coverReports(search: Search<Property>): CoverReport[] {
  const { coverDepth } = search.figures();
  return search.cm.coverProps.map((p, i) => ({ name: p.name, requirement: p.requirement, reached: coverDepth[i] !== null, depth: coverDepth[i] ?? null }));
}

/** The violation a finding reports, with its trace. */
function violationOf(search: Search<Property>, f: Exclude<Finding, { kind: 'error' }>): Violation {
  const { cm, model } = search;
  switch (f.kind) {
    case 'invariant': {
      const p = cm.invariants[f.index] as Property;
      const trace = traceTo(search, f.pos, p);
      return { property: p.name, requirement: p.requirement, kind: 'invariant', message: `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`, trace };
    }
    case 'step': {
      const p = cm.steps[f.index] as Property;
      const trace = traceTo(search, f.from, p, { via: f.via, state: f.state, stepFail: true });
      const message = `step property ${p.name} (${p.requirement}) violated by ${model.instances[f.via]?.label}: ${p.doc}`;
      return { property: p.name, requirement: p.requirement, kind: 'step', message, trace };
    }
    case 'deadlock':
      return deadlockViolation(traceTo(search, f.pos, { name: DEADLOCK, requirement: 'deadlock' }));
  }
}

/**
 * The result of a model error: the trace to the state where it happens, naming what fails (through
 * the reference semantics): a rule instance, or a property evaluated after a step (the trace then
 * ends with that step) or on a start state.
 */
function errorResult(search: Search<Property>, f: Extract<Finding, { kind: 'error' }>): CheckResult<ExplicitStats> {
  const properties = [...search.cm.invariants, ...search.cm.steps, ...search.cm.coverProps];
  if (f.runtime && f.at !== null) {
    const trace = traceTo(search, f.at, null);
    const fail = failingStep(search.model, properties, (trace.steps[trace.steps.length - 1] as TraceStep).state);
    const steps = fail?.step ? [...trace.steps, { choice: fail.via, ...fail.step }] : trace.steps;
    return {
      status: 'error',
      code: f.code,
      message: fail ? modelErrorMessage(fail.message, steps.length - 1) : f.message,
      stats: searchStats(search),
      trace: { ...trace, steps, note: fail?.message ?? f.message, ...(fail && !fail.step ? { extra: { failingChoice: fail.via } } : {}) },
    };
  }
  const start = f.runtime ? failingStart(search.model, properties) : null;
  if (start?.step) {
    const steps = [{ choice: start.via, ...start.step }];
    return {
      status: 'error',
      code: f.code,
      message: modelErrorMessage(start.message, 0),
      stats: searchStats(search),
      trace: explicitTrace(search.model, null, steps, start.message),
    };
  }
  return { status: 'error', code: f.code, message: f.message, stats: searchStats(search), trace: null };
}

/** Unreached covers, reported as violations: a model that never reaches one may be vacuous. */
function unreachedCovers(search: Search<Property>, covers: readonly CoverReport[]): Violation[] {
  return search.cm.coverProps
    .filter((_, i) => !covers[i]?.reached)
    .map((p) => ({
      property: p.name,
      requirement: p.requirement,
      kind: 'cover' as const,
      trace: null,
      message: `cover ${p.name} (${p.requirement}) is never reached: the model may be vacuous (${p.doc})`,
    }));
}

/** The result of a search that ended as `end`. */
export function resultOf(search: Search<Property>, end: SearchEnd): CheckResult<ExplicitStats> {
  if (end.kind === 'found' && end.finding.kind === 'error') return errorResult(search, end.finding);
  const covers = coverReports(search);
  if (end.kind === 'found') {
    const violations = [violationOf(search, end.finding as Exclude<Finding, { kind: 'error' }>)];
    return { status: 'violated', guarantee: guaranteeOf(search), stats: searchStats(search), violations, covers };
  }
  if (end.kind === 'limit') return { status: 'incomplete', reason: end.reason, stats: searchStats(search), covers };
  const unreached = unreachedCovers(search, covers);
  if (unreached.length) return { status: 'violated', guarantee: guaranteeOf(search), stats: searchStats(search), covers, violations: unreached };
  return { status: 'ok', guarantee: guaranteeOf(search), stats: searchStats(search), covers };
}

/** The search a job asks for (symmetry checked first: a model that breaks it is rejected, MC010). */
export function searchFor(job: CheckJob, spillDir?: string): Search<Property> {
  if (job.symmetry) checkSymmetric(job.model, job.properties);
  const x = job.explicit ?? {};
  const store = x.store ?? 'exact';
  if (store !== 'exact' && job.strategy === 'dfs')
    throw new McError('MC030', `--store ${store} needs the breadth-first strategy (the levels are what it keeps)`);
  if (x.por === true && job.strategy === 'dfs') throw new McError('MC030', '--por needs the breadth-first strategy');
  const search = new Search<Property>(job.model, job.properties, {
    strategy: job.strategy ?? 'bfs',
    symmetry: job.symmetry ?? false,
    deadlock: job.deadlock ?? true,
    store,
    ...(x.memoryBytes !== undefined ? { memoryBytes: x.memoryBytes } : {}),
    memoryLimit: limitOf(x.memoryLimit),
    ...(x.collapse ? { collapse: true } : {}),
    ...(spillDir !== undefined ? { spillDir } : {}),
    ...(porOn(job) ? { reduction: reductionData(job.model, job.properties) } : {}),
    ...(x.shard ? { shard: x.shard, hashSeed: Math.imul(x.shard.index + 1, 0x9e3779b9) >>> 0 } : {}),
  });
  return search;
}

/**
 * Whether the job's search runs under partial-order reduction: asked for, or `auto` and sound for
 * everything the search reports (breadth-first, safety properties only, and compiled rules that
 * never raise a run-time model error: no unwrap of an option, no range-checked assignment).
 */
export function porOn(job: CheckJob): boolean {
  const por = job.explicit?.por ?? false;
  if (por !== 'auto') return por;
  if ((job.strategy ?? 'bfs') !== 'bfs' || job.properties.some((p) => p.kind === 'liveness')) return false;
  return !/\b[UR]\(/.test(compileModel(job.model, job.properties).sources.expand);
}

/** The first trace-bearing violation's length: the depth within which a search without reduction finds one too. */
function violationDepth(r: CheckResult<ExplicitStats>): number | null {
  if (r.status !== 'violated') return null;
  const lengths = r.violations.flatMap((v) => (v.trace ? [v.trace.steps.length - 1] : []));
  return lengths.length ? Math.min(...lengths) : null;
}

/**
 * Under partial-order reduction a counterexample is shortest in the reduced graph, not always in
 * the whole one. A violation of length L means one of length at most L exists; a search without
 * reduction limited to depth L + 1 finds the first of them in breadth-first order, which is what a
 * search without reduction reports. This is that search's job (null when no trace was found, or
 * `shortest: false` keeps the reduced traces). Costs at most the unreduced levels up to L.
 */
function shortestJob(job: CheckJob, reduced: CheckResult<ExplicitStats>): { job: CheckJob; depth: number } | null {
  const depth = violationDepth(reduced);
  const { checkpoint: _c, resume: _r, ...x } = job.explicit ?? {};
  if (depth === null || !porOn(job) || x.shortest === false) return null;
  return { job: { ...job, explicit: { ...x, por: false }, limits: { ...job.limits, depth: depth + 1 } }, depth };
}

/** The reduced search's result with the violations of the search without reduction (its figures are the run's). */
function withShortest(reduced: CheckResult<ExplicitStats>, again: CheckResult<ExplicitStats>, depth: number): CheckResult<ExplicitStats> {
  if (reduced.status !== 'violated' || again.status !== 'violated' || (violationDepth(again) ?? depth + 1) > depth) return reduced;
  return { ...reduced, violations: [...again.violations.filter((v) => v.trace !== null), ...reduced.violations.filter((v) => v.trace === null)] };
}

/** A shard's result names the check it is part of: what `merge` verifies all shards share. */
function withShardCheck(r: CheckResult<ExplicitStats>, identity: CheckpointIdentity): CheckResult<ExplicitStats> {
  if (!r.stats.shard) return r;
  const { shard: _shard, ...check } = identity;
  return { ...r, stats: { ...r.stats, shardCheck: createHash('sha256').update(JSON.stringify(check)).digest('hex').slice(0, 16) } };
}

/** The search's figures with the threads that made them and the reduction. */
function withRunFigures(r: CheckResult<ExplicitStats>, search: Search, workers: number, por: boolean): CheckResult<ExplicitStats> {
  const f = search.figures();
  const share = workers > 1 && f.expanded ? { workerShare: Math.round((f.byOthers / f.expanded) * 1000) / 1000 } : {};
  return { ...r, stats: { ...r.stats, workers, ...share, ...(por ? { por } : {}) } };
}

/**
 * Runs an exhaustive search with the job's explicit options: worker threads, checkpoints, resuming
 * a saved search, and an abort signal (an interrupt ends the run as `incomplete` with the figures
 * so far, after a last checkpoint). Gives the event loop a turn about every 100 ms.
 */
export async function explicitRun(job: CheckJob, hooks: Hooks = {}): Promise<CheckResult<ExplicitStats>> {
  const x = job.explicit ?? {};
  const workers = x.workers ?? 1;
  const strategy = job.strategy ?? 'bfs';
  const folder = x.resume ?? x.checkpoint?.dir;
  if (strategy === 'dfs' && (workers > 1 || folder !== undefined))
    throw new McError('MC030', 'worker threads, checkpoints and --resume need the breadth-first strategy');
  if (folder !== undefined) mkdirSync(folder, { recursive: true });
  const search = searchFor(job, folder);
  const identity = identityOf(job, search);
  const checkpointer = folder !== undefined ? new Checkpointer(search, folder, identity, x.checkpoint?.everyMs ?? 10 * 60_000) : null;
  if (x.resume !== undefined) {
    const r = resumeFrom(search, x.resume, identity);
    checkpointer?.continueFrom(r.generation, r.written);
  }
  const pool = workers > 1 ? new WorkerPool(workers - 1, search.workerInit()) : null;
  const interrupted = () => (job.signal?.aborted ? `interrupted (${String(job.signal.reason ?? 'signal')})` : null);
  try {
    const ctl = {
      tick: search.ticker(job.limits, hooks, interrupted),
      pool,
      sliceMs: 100,
      ...(x.parallelFrom !== undefined ? { parallelFrom: x.parallelFrom } : {}),
      ...(checkpointer ? { atPause: checkpointer.atPause } : {}),
    };
    let end = await search.runAsync(job.limits, ctl);
    // A search stopped early is saved, unless a checkpoint has just failed to be written (its reason says so).
    if (end.kind === 'limit' && checkpointer && checkpointer.failed === null) {
      try {
        checkpointer.write();
        end = { kind: 'limit', reason: `${end.reason}; the search is saved in ${checkpointer.dir} (continue it with --resume ${checkpointer.dir})` };
      } catch (e) {
        if (!(e instanceof StoreFullError)) throw e;
        end = { kind: 'limit', reason: `${end.reason}; ${e.message}` };
      }
    }
    const result = withShardCheck(withRunFigures(resultOf(search, end), search, workers, search.reduction !== null), identity);
    const again = shortestJob(job, result);
    return again ? withShortest(result, await explicitRun(again.job, hooks), again.depth) : result;
  } finally {
    await pool?.close();
    search.dispose();
  }
}

/** Runs an exhaustive search (BFS by default) in this thread and returns the result. */
export function explicitCheck(job: CheckJob, hooks: Hooks = {}): CheckResult<ExplicitStats> {
  const search = searchFor(job);
  let result: CheckResult<ExplicitStats>;
  try {
    result = resultOf(search, search.runSync(job.limits, { tick: search.ticker(job.limits, hooks) }));
  } finally {
    search.dispose();
  }
  if (search.reduction) result = { ...result, stats: { ...result.stats, por: true } };
  const again = shortestJob(job, result);
  return again ? withShortest(result, explicitCheck(again.job, hooks), again.depth) : result;
}
