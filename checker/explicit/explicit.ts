/**
 * The exhaustive explicit-state engine. Why this module exists: it is the engine whose "ok" means
 * every reachable state was checked. BFS visits states level by level, so the first violation found
 * has a shortest trace; DFS uses a stack instead of the level order. It never prints: progress goes
 * through hooks, results are returned as data. The walk itself is search.ts; this module turns what
 * the walk found into a result.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { failingInstance } from '../../model/lang/interp.js';
import { DEADLOCK, type Property } from '../../properties/property.js';
import type { TraceStep } from '../../counterexamples/trace.js';
import {
  type CheckJob,
  type CheckResult,
  type CoverReport,
  type ExplicitStats,
  type Hooks,
  type Violation,
  deadlockViolation,
  modelErrorMessage,
} from '../engine.js';
import { type Finding, Search, type SearchEnd } from './search.js';
import { checkSymmetric } from './symmetry.js';
import { traceFrom } from './traces.js';

/** The figures of a search so far. */
export function searchStats(search: Search): ExplicitStats {
  const { store } = search;
  const elapsedMs = Date.now() - search.startMs;
  const bytes = store.bytes();
  return {
    engine: 'explicit',
    symmetry: search.canon.active,
    states: store.count,
    transitions: search.generated,
    depth: search.maxDepth,
    elapsedMs,
    statesPerSec: elapsedMs > 0 ? Math.round((store.count * 1000) / elapsedMs) : store.count * 1000,
    bytesPerState: store.count ? Math.round((bytes / store.count) * 10) / 10 : 0,
    storeBytes: bytes,
  };
}

/** Whether each cover was reached, and at which depth. */
function coverReports(search: Search<Property>): CoverReport[] {
  return search.cm.coverProps.map((p, i) => ({
    name: p.name,
    requirement: p.requirement,
    reached: search.coverDepth[i] !== null,
    depth: search.coverDepth[i] ?? null,
  }));
}

/** The violation a finding reports, with its trace. */
function violationOf(search: Search<Property>, f: Exclude<Finding, { kind: 'error' }>): Violation {
  const { cm, store, model } = search;
  switch (f.kind) {
    case 'invariant': {
      const p = cm.invariants[f.index] as Property;
      const trace = traceFrom(search, store.path(f.id), p);
      return { property: p.name, requirement: p.requirement, kind: 'invariant', message: `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`, trace };
    }
    case 'step': {
      const p = cm.steps[f.index] as Property;
      const trace = traceFrom(search, store.path(f.from), p, { via: f.via, state: f.state, stepFail: true });
      const message = `step property ${p.name} (${p.requirement}) violated by ${model.instances[f.via]?.label}: ${p.doc}`;
      return { property: p.name, requirement: p.requirement, kind: 'step', message, trace };
    }
    case 'deadlock':
      return deadlockViolation(traceFrom(search, store.path(f.id), { name: DEADLOCK, requirement: 'deadlock' }));
  }
}

/** The result of a model error: the trace to the state where a rule fails, naming the failing rule instance. */
function errorResult(search: Search, f: Extract<Finding, { kind: 'error' }>): CheckResult<ExplicitStats> {
  const e = f.error;
  if (e instanceof ModelRuntimeError && f.at !== null) {
    const trace = traceFrom(search, search.store.path(f.at), null);
    const fail = failingInstance(search.model, (trace.steps[trace.steps.length - 1] as TraceStep).state);
    return {
      status: 'error',
      code: e.code,
      message: fail ? modelErrorMessage(fail.message, trace.steps.length - 1) : e.message,
      stats: searchStats(search),
      trace: { ...trace, note: fail?.message ?? e.message, ...(fail ? { extra: { failingChoice: fail.via } } : {}) },
    };
  }
  return { status: 'error', code: e.code, message: e.message, stats: searchStats(search), trace: null };
}

/** Unreached covers, reported as violations: a model that never reaches one may be vacuous. */
function unreachedCovers(search: Search<Property>): Violation[] {
  return search.cm.coverProps
    .filter((_, i) => search.coverDepth[i] === null)
    .map((p) => ({
      property: p.name,
      requirement: p.requirement,
      kind: 'cover' as const,
      trace: null,
      message: `cover ${p.name} (${p.requirement}) is never reached: the model may be vacuous (${p.doc})`,
    }));
}

/** The result of a search that ended as `end`. */
function resultOf(search: Search<Property>, end: SearchEnd): CheckResult<ExplicitStats> {
  if (end.kind === 'found' && end.finding.kind === 'error') return errorResult(search, end.finding);
  const covers = coverReports(search);
  if (end.kind === 'found') {
    const violations = [violationOf(search, end.finding as Exclude<Finding, { kind: 'error' }>)];
    return { status: 'violated', guarantee: 'exhaustive', stats: searchStats(search), violations, covers };
  }
  if (end.kind === 'limit') return { status: 'incomplete', reason: end.reason, stats: searchStats(search), covers };
  const unreached = unreachedCovers(search);
  if (unreached.length) return { status: 'violated', guarantee: 'exhaustive', stats: searchStats(search), covers, violations: unreached };
  return { status: 'ok', guarantee: 'exhaustive', stats: searchStats(search), covers };
}

/** Runs an exhaustive search (BFS by default) and returns the result. */
export function explicitCheck(job: CheckJob, hooks: Hooks = {}): CheckResult<ExplicitStats> {
  if (job.symmetry) checkSymmetric(job.model, job.properties);
  const search = new Search<Property>(job.model, job.properties, {
    strategy: job.strategy ?? 'bfs',
    symmetry: job.symmetry ?? false,
    deadlock: job.deadlock ?? true,
  });
  const end: SearchEnd = search.insertStarts()
    ? search.run(job.limits, search.ticker(job.limits, hooks))
    : { kind: 'found', finding: search.finding as Finding };
  return resultOf(search, end);
}
