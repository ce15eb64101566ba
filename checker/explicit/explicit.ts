/**
 * The exhaustive explicit-state engine. Why this module exists: it is the engine whose "ok" means
 * every reachable state was checked. BFS visits states level by level, so the first violation found
 * has a shortest trace; DFS uses a stack instead of the level order. It never prints: progress goes
 * through hooks, results are returned as data.
 */
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { applyRule, enabled, initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { DEADLOCK, type Property } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import { type CheckJob, type CheckResult, type CoverReport, type ExplicitStats, type Hooks, type Violation, bytesPerStateOf } from '../engine.js';
import { type CompiledModel, compileModel } from '../../model/lang/compile.js';
import { StateStore } from './stateStore.js';
import { Canonicalizer, checkSymmetric } from './symmetry.js';

/**
 * Builds a trace from a path of stored state ids (plus an optional final successor not stored).
 * Under symmetry reduction the stored states are canonical representatives, so the concrete trace
 * is rebuilt step by step: from the concrete start state, take a rule instance whose successor has
 * the stored canonical form. The result replays exactly on the model.
 */
function traceFrom(
  model: Model,
  cm: CompiledModel<Property>,
  canon: Canonicalizer,
  store: StateStore,
  ids: readonly number[],
  prop: { name: string; requirement: string } | null,
  extra?: { via: number; state: Int32Array; stepFail?: boolean },
): Trace {
  const w = new Uint32Array(cm.words);
  const unpackId = (id: number) => {
    store.read(id, w, 0);
    const s = new Int32Array(model.layout.nSlots);
    cm.unpack(w, 0, s);
    return s;
  };
  const label = (via: number) => model.instances[via]?.label ?? `#${via}`;
  let steps: TraceStep[];
  if (!canon.active) {
    steps = ids.map((id, i) => {
      const via = store.via(id);
      return { choice: via, label: i === 0 ? `init ${model.inits[via]?.name ?? via}` : label(via), state: unpackId(id) };
    });
    if (extra) steps.push({ choice: extra.via, label: label(extra.via), state: new Int32Array(extra.state) });
  } else {
    const rootVia = store.via(ids[0] as number);
    let cur = initState(model, model.inits[rootVia] as (typeof model.inits)[number]);
    steps = [{ choice: rootVia, label: `init ${model.inits[rootVia]?.name ?? rootVia}`, state: cur }];
    const targets: { words: Uint32Array; needStepFail: boolean; prefer: number }[] = ids.slice(1).map((id) => {
      const x = new Uint32Array(cm.words);
      store.read(id, x, 0);
      return { words: x, needStepFail: false, prefer: store.via(id) };
    });
    if (extra) {
      const x = new Uint32Array(cm.words);
      cm.pack(extra.state, x, 0);
      canon.canonical(extra.state, x);
      targets.push({ words: x, needStepFail: extra.stepFail ?? false, prefer: extra.via });
    }
    const t = new Int32Array(model.layout.nSlots);
    const pw = new Uint32Array(cm.words);
    for (const target of targets) {
      let found: { via: number; state: Int32Array } | null = null;
      cm.expand(cur, t, (k, f) => {
        if (found?.via === target.prefer || (target.needStepFail && f < 0)) return;
        cm.pack(t, pw, 0);
        canon.canonical(t, pw);
        for (let i = 0; i < cm.words; i++) if (pw[i] !== target.words[i]) return;
        found = { via: k, state: new Int32Array(t) };
      });
      const step = found as { via: number; state: Int32Array } | null;
      if (!step) throw new McError('MC040', 'internal error: cannot rebuild a concrete trace under symmetry reduction');
      steps.push({ choice: step.via, label: label(step.via), state: step.state });
      cur = step.state;
    }
  }
  return {
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'explicit',
    property: prop?.name ?? null,
    requirement: prop?.requirement ?? null,
    steps,
  };
}

/** Finds which enabled rule instance raises a run-time model error in state `s` (interpreter). */
function failingInstance(model: Model, s: Int32Array): { via: number; message: string } | null {
  for (const inst of model.instances) {
    try {
      if (enabled(model, inst, s)) applyRule(model, inst, s);
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { via: inst.id, message: e.message };
      throw e;
    }
  }
  return null;
}

/** Runs an exhaustive search (BFS by default) and returns the result. */
export function explicitCheck(job: CheckJob, hooks: Hooks = {}): CheckResult<ExplicitStats> {
  const { model, limits } = job;
  const strategy = job.strategy ?? 'bfs';
  const checkDeadlock = job.deadlock ?? true;
  const cm = compileModel(model, job.properties);
  const store = new StateStore(cm.words, Math.max(model.instances.length, model.inits.length));
  if (job.symmetry) checkSymmetric(model, job.properties);
  const canon = new Canonicalizer(job.symmetry ? model : { ...model, indexes: [] }, cm.words, cm.pack);
  const W = cm.words;
  const tmp = new Uint32Array(W);
  const rw = new Uint32Array(W);
  const s = new Int32Array(model.layout.nSlots);
  const t = new Int32Array(model.layout.nSlots);
  const start = Date.now();
  const coverDepth: (number | null)[] = cm.coverProps.map(() => null);
  const violations: Violation[] = [];
  let generated = 0;
  let curId = -1;
  let curDepth = 0;
  let maxDepth = 0;
  let stop = false;
  const dfsDepth: number[] = [];
  const stack: number[] = [];

  const stats = (): ExplicitStats => {
    const elapsedMs = Date.now() - start;
    const bytes = store.bytes();
    return {
      engine: 'explicit',
      symmetry: canon.active,
      states: store.count,
      transitions: generated,
      depth: maxDepth,
      elapsedMs,
      statesPerSec: elapsedMs > 0 ? Math.round((store.count * 1000) / elapsedMs) : store.count * 1000,
      bytesPerState: bytesPerStateOf(bytes, store.count),
      storeBytes: bytes,
    };
  };
  const coverReports = (): CoverReport[] =>
    cm.coverProps.map((p, i) => ({ name: p.name, requirement: p.requirement, reached: coverDepth[i] !== null, depth: coverDepth[i] ?? null }));

  /** Checks a newly stored state: invariants and covers. */
  const onNew = (id: number, st: Int32Array, depth: number) => {
    if (depth > maxDepth) maxDepth = depth;
    const bad = cm.firstViolated(st);
    if (bad >= 0) {
      const p = cm.invariants[bad] as Property;
      violations.push({
        property: p.name,
        requirement: p.requirement,
        kind: 'invariant',
        message: `invariant ${p.name} (${p.requirement}) violated: ${p.doc}`,
        trace: traceFrom(model, cm, canon, store, store.path(id), p),
      });
      stop = true;
      return;
    }
    for (let i = 0; i < coverDepth.length; i++) if (coverDepth[i] === null && (cm.covers[i] as (x: Int32Array) => boolean)(st)) coverDepth[i] = depth;
    if (strategy === 'dfs') {
      dfsDepth[id] = depth;
      stack.push(id);
    }
  };

  const emit = (k: number, f: number) => {
    if (stop) return;
    generated++;
    cm.pack(t, tmp, 0);
    if (canon.active) canon.canonical(t, tmp);
    if (f >= 0) {
      const p = cm.steps[f] as Property;
      violations.push({
        property: p.name,
        requirement: p.requirement,
        kind: 'step',
        message: `step property ${p.name} (${p.requirement}) violated by ${model.instances[k]?.label}: ${p.doc}`,
        trace: traceFrom(model, cm, canon, store, store.path(curId), p, { via: k, state: t, stepFail: true }),
      });
      stop = true;
      return;
    }
    const r = store.insert(tmp, 0, curId, k);
    if (r >= 0) onNew(r, t, curDepth + 1);
  };

  const errorResult = (e: unknown, id: number | null): CheckResult<ExplicitStats> => {
    if (e instanceof ModelRuntimeError && id !== null) {
      const trace = traceFrom(model, cm, canon, store, store.path(id), null);
      const f = failingInstance(model, (trace.steps[trace.steps.length - 1] as TraceStep).state);
      return {
        status: 'error',
        code: e.code,
        message: f ? `model error ${f.message} (after ${trace.steps.length - 1} steps; the trace leads to the state where it fails)` : e.message,
        stats: stats(),
        trace: { ...trace, note: f?.message ?? e.message, ...(f ? { extra: { failingChoice: f.via } } : {}) },
      };
    }
    if (e instanceof McError) return { status: 'error', code: e.code, message: e.message, stats: stats(), trace: null };
    throw e;
  };

  // Start states.
  for (let i = 0; i < model.inits.length && !stop; i++) {
    let st: Int32Array;
    try {
      st = initState(model, model.inits[i] as (typeof model.inits)[number]);
    } catch (e) {
      return errorResult(e, null);
    }
    cm.pack(st, tmp, 0);
    if (canon.active) canon.canonical(st, tmp);
    const r = store.insert(tmp, 0, -1, i);
    if (r >= 0) onNew(r, st, 0);
  }

  let lastReport = start;
  let expansions = 0;
  let incompleteReason: string | null = null;
  let cursor = 0;
  let levelEnd = store.count;
  const depthLimit = limits.depth ?? Number.POSITIVE_INFINITY;
  const report = (queue: number) => {
    const now = Date.now();
    if (hooks.onProgress && now - lastReport >= 1000) {
      lastReport = now;
      const el = now - start;
      hooks.onProgress({
        generated,
        distinct: store.count,
        queue,
        depth: curDepth,
        elapsedMs: el,
        statesPerSec: Math.round((store.count * 1000) / Math.max(1, el)),
      });
    }
    if (limits.timeLimitSec !== undefined && now - start >= limits.timeLimitSec * 1000) incompleteReason = `time limit of ${limits.timeLimitSec}s reached`;
  };

  while (!stop && incompleteReason === null) {
    let id: number;
    if (strategy === 'bfs') {
      if (cursor >= store.count) break;
      if (cursor === levelEnd) {
        curDepth++;
        levelEnd = store.count;
      }
      if (curDepth >= depthLimit) {
        incompleteReason = `depth limit ${depthLimit} reached with ${store.count - cursor} states unexplored`;
        break;
      }
      id = cursor++;
    } else {
      const x = stack.pop();
      if (x === undefined) break;
      id = x;
      curDepth = dfsDepth[id] as number;
      if (curDepth >= depthLimit) {
        incompleteReason ??= `depth limit ${depthLimit} reached`;
        continue;
      }
    }
    curId = id;
    store.read(id, rw, 0);
    cm.unpack(rw, 0, s);
    let n: number;
    try {
      n = cm.expand(s, t, emit);
    } catch (e) {
      return errorResult(e, id);
    }
    if (n === 0 && checkDeadlock && !stop && !cm.isEnd(s)) {
      violations.push({
        property: DEADLOCK,
        requirement: 'deadlock',
        kind: 'deadlock',
        message: 'deadlock: no rule is enabled and the state is not a legal end state',
        trace: traceFrom(model, cm, canon, store, store.path(id), { name: DEADLOCK, requirement: 'deadlock' }),
      });
      stop = true;
    }
    if (limits.maxStates !== undefined && store.count >= limits.maxStates && !stop) {
      incompleteReason = `state limit of ${limits.maxStates} reached`;
    }
    if ((++expansions & 1023) === 0) report(strategy === 'bfs' ? store.count - cursor : stack.length);
  }
  if (violations.length) return { status: 'violated', guarantee: 'exhaustive', stats: stats(), violations, covers: coverReports() };
  if (incompleteReason !== null) return { status: 'incomplete', reason: incompleteReason, stats: stats(), covers: coverReports() };
  const covers = coverReports();
  const unreached = cm.coverProps.filter((_, i) => coverDepth[i] === null);
  if (unreached.length) {
    return {
      status: 'violated',
      guarantee: 'exhaustive',
      stats: stats(),
      covers,
      violations: unreached.map((p) => ({
        property: p.name,
        requirement: p.requirement,
        kind: 'cover' as const,
        trace: null,
        message: `cover ${p.name} (${p.requirement}) is never reached: the model may be vacuous (${p.doc})`,
      })),
    };
  }
  return { status: 'ok', guarantee: 'exhaustive', stats: stats(), covers };
}
