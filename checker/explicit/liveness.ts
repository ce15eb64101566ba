/**
 * Liveness checking under fairness in the explicit engine. Why this module exists: progress bugs
 * (DMA stalled forever, a fault handler retrying forever, a migration that never ends) are not
 * visible in any single state; they are cycles, or runs that stop, in which the goal never holds.
 * This checks `eventually`, `leadsTo` and `alwaysEventually` properties exactly on the reachable
 * graph and returns each failure as a lasso trace. It never prints.
 *
 * For each property (and each value of its `each` index) the check:
 * 1. marks the seeds: start states where q fails (`eventually`), states where p holds and q fails
 *    (`leadsTo`), or every state where q fails (`alwaysEventually`);
 * 2. takes the region of states reachable from a seed through states where q fails;
 * 3. looks in the region for a state with no successor (a run that stops before q: a deadlock, or
 *    a legal end state) and for fair cycles (fairCycles.ts);
 * 4. if either exists, a BFS over (state, seen-a-seed) pairs finds the shortest prefix to one of
 *    them, and a loop is built inside the fair component that meets every fairness requirement.
 *
 * Lasso convention (what counterexamples/lasso.ts checks): `trace.loop = L` and the last step's
 * state equals step L's state: the last choice is the step that closes the loop, and the steps
 * L+1..last repeat forever. A run that stops (no rule enabled) is written with `loop` = the last
 * index and no closing step: the behaviour stutters in that state forever.
 */
import { McError, ModelRuntimeError } from '../../model/lang/errors.js';
import { type FairnessMode, fairnessRequirements } from '../../model/lang/fairness.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Liveness, Property } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import { type CheckJob, type CheckResult, type Engine, type ExplicitStats, type Hooks, type Progress, type Violation, bytesPerStateOf } from '../engine.js';
import { compilePredicate } from '../../model/lang/compile.js';
import { explicitCheck, explicitRun } from './explicit.js';
import { FAIR, type FairnessGroups, IN_REGION, type LazyBuffers, STRONG, type TakeArray, WEAK, findFairComponents, takeRegionArrays } from './fairCycles.js';
import { type GraphBuild, type GraphSizeHint, type StateGraph, buildGraph, buildGraphAsync, graphPath, graphState, initVia, sourceOf } from './graph.js';
import { type MemoryLimit, StoreFullError, allocate, fullCollection, limitOf } from './storeMemory.js';
import { quotientFairness, violatedOnQuotient } from './annotatedQuotient.js';
import { type LivenessSymmetry, concreteLasso, livenessSymmetry } from './livenessSymmetry.js';
import type { StateStore } from './stateStore.js';
import { isFileError } from './fileWrites.js';
import { explicitTrace } from './traces.js';

/** Options of the liveness check. */
export interface LivenessOptions {
  /** `declared` (default): the fairness the rules declare; `none`: no fairness at all. */
  readonly fairness?: FairnessMode;
  /**
   * The figures of a complete safety search of the same job (exact store, no partial-order
   * reduction): its states and transitions are the graph's when it ran with the same symmetry
   * reduction, so the edge arrays are made once at their final size. A wrong guess costs only a copy.
   */
  readonly safety?: ExplicitStats;
  /**
   * The packed states of a graph of at least this many bytes of them are moved to a temporary file
   * during the fair-cycle analysis (StateStore.evict), which reads them only to evaluate its goals
   * (one pass) and to print a lasso; their memory then holds the analysis' own arrays. Default
   * 64 MiB; 0 always, Infinity never.
   */
  readonly evictStatesFrom?: number;
}

/** Default of `LivenessOptions.evictStatesFrom`: below this the file would save little. */
const EVICT_STATES_FROM = 64 * 2 ** 20;

/** The graph's size from the safety search's figures, when they count the same graph. */
function sizeHint(opts: LivenessOptions, sym: LivenessSymmetry | null): GraphSizeHint | null {
  const s = opts.safety;
  if (!s || s.por || s.shard !== undefined || (s.store ?? 'exact') !== 'exact' || s.symmetry !== (sym?.use === true)) return null;
  return { states: s.states, edges: s.transitions };
}

/** How a lasso ends: a fair cycle, or a state with no enabled rule (stuttering forever there). */
export type LassoKind = 'cycle' | 'deadlock' | 'end-state';

/** Fairness requirements of a model in the array form the cycle search reads. */
export function fairnessGroups(model: Model, mode: FairnessMode): FairnessGroups {
  const reqs = fairnessRequirements(model, mode);
  const groupOf = new Int32Array(model.instances.length).fill(-1);
  const kind = new Uint8Array(reqs.length);
  reqs.forEach((r, gi) => {
    kind[gi] = r.kind === 'weak' ? WEAK : STRONG;
    for (const i of r.instances) groupOf[i] = gi;
  });
  return { groupOf, kind, count: reqs.length };
}

/** Builds a trace from a start state and the edges taken from it. */
function edgeTrace(g: StateGraph, root: number, edges: readonly number[]): TraceStep[] {
  const { model } = g;
  const via = initVia(g, root);
  const steps: TraceStep[] = [{ choice: via, label: `init ${model.inits[via]?.name ?? via}`, state: graphState(g, root) }];
  for (const e of edges) {
    const k = g.labels[e] as number;
    steps.push({ choice: k, label: model.instances[k]?.label ?? `#${k}`, state: graphState(g, g.targets[e] as number) });
  }
  return steps;
}

/** No parent: the search started here. */
const ROOT = 0xffffffff;
/** A pair not reached yet, and a start pair, in the prefix search. */
const UNSEEN = 0xffffffff;
const ROOT_PAIR = 0xfffffffe;
/** In the prefix search, the parent pair's phase is kept in the top bit of its edge. */
const PHASE_BIT = 0x80000000;

/**
 * Arrays of the BFS searches inside a fair component (only when a goal is violated): a stamp and
 * a parent edge per state, and a queue. The parent state of an edge is found from the edge
 * (`sourceOf`), so none is stored. All three are the check's arrays, lent again.
 */
class Scratch {
  round = 0;
  constructor(
    readonly stamp: Int32Array,
    readonly parentEdge: Uint32Array,
    readonly queue: Uint32Array,
  ) {
    stamp.fill(0);
  }
}

/**
 * BFS inside the component `tok === T` from `from`. `goal(v)` returns -2 when v itself is the goal,
 * an edge index to finish with that edge, or -1. Returns the edges of the path (plus the final edge).
 */
function bfsInComponent(g: StateGraph, tok: Int32Array, T: number, from: number, sc: Scratch, goal: (v: number) => number): number[] | null {
  const { offsets, targets } = g;
  const r = ++sc.round;
  let head = 0;
  let tail = 0;
  sc.queue[tail++] = from;
  sc.stamp[from] = r;
  sc.parentEdge[from] = ROOT;
  while (head < tail) {
    const v = sc.queue[head++] as number;
    const gl = goal(v);
    if (gl !== -1) {
      const path: number[] = gl >= 0 ? [gl] : [];
      for (let x = v; sc.parentEdge[x] !== ROOT; ) {
        const e = sc.parentEdge[x] as number;
        path.push(e);
        x = sourceOf(g, e);
      }
      return path.reverse();
    }
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const w = targets[j] as number;
      if (tok[w] !== T || sc.stamp[w] === r) continue;
      sc.stamp[w] = r;
      sc.parentEdge[w] = j;
      sc.queue[tail++] = w;
    }
  }
  return null;
}

function pathInComponent(g: StateGraph, tok: Int32Array, T: number, from: number, sc: Scratch, goal: (v: number) => number): number[] {
  const p = bfsInComponent(g, tok, T, from, sc, goal);
  if (!p) throw new Error('internal: no path to an obligation inside a strongly connected component');
  return p;
}

/**
 * A loop from `entry` back to `entry` inside its fair component that meets every fairness
 * requirement: each requirement enabled somewhere in the component is either taken on the loop,
 * or (weak, not enabled everywhere) disabled in some loop state. Greedy: always go to the nearest
 * unmet obligation.
 */
function fairLoop(g: StateGraph, tok: Int32Array, entry: number, groups: FairnessGroups, sc: Scratch): number[] {
  const { offsets, targets, labels } = g;
  const T = tok[entry] as number;
  const { groupOf } = groups;
  // The groups enabled somewhere in the component, and those of them taken inside it.
  const enabledIn = new Set<number>();
  const taken = new Set<number>();
  bfsInComponent(g, tok, T, entry, sc, (v) => {
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const grp = groupOf[labels[j] as number] as number;
      if (grp < 0) continue;
      enabledIn.add(grp);
      if (tok[targets[j] as number] === T) taken.add(grp);
    }
    return -1;
  });
  const needEdge = new Set<number>();
  const needDisabled = new Set<number>();
  for (const grp of enabledIn) {
    if (taken.has(grp)) needEdge.add(grp);
    else needDisabled.add(grp);
  }
  const enabledAt = (v: number, grp: number) => {
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) if (groupOf[labels[j] as number] === grp) return true;
    return false;
  };
  const visitState = (v: number) => {
    for (const grp of needDisabled) if (!enabledAt(v, grp)) needDisabled.delete(grp);
  };
  const loop: number[] = [];
  const walk = (edges: readonly number[]) => {
    for (const e of edges) {
      loop.push(e);
      const grp = groupOf[labels[e] as number] as number;
      if (grp >= 0) needEdge.delete(grp);
      visitState(targets[e] as number);
    }
  };
  let cur = entry;
  visitState(entry);
  while (needEdge.size || needDisabled.size) {
    const path = pathInComponent(g, tok, T, cur, sc, (v) => {
      for (const grp of needDisabled) if (!enabledAt(v, grp)) return -2;
      for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
        if (tok[targets[j] as number] === T && needEdge.has(groupOf[labels[j] as number] as number)) return j;
      }
      return -1;
    });
    walk(path);
    if (path.length) cur = targets[path[path.length - 1] as number] as number;
  }
  if (cur !== entry || loop.length === 0) {
    walk(
      pathInComponent(g, tok, T, cur, sc, (v) => {
        for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) if (targets[j] === entry) return j;
        return -1;
      }),
    );
  }
  return loop;
}

/** One property, or one value of a per-instance property, with its compiled predicates. */
interface Goal {
  readonly prop: Liveness;
  readonly each: number | null;
  readonly p: (s: Int32Array) => boolean;
  readonly q: (s: Int32Array) => boolean;
}

function goalsOf(model: Model, props: readonly Liveness[]): Goal[] {
  const out: Goal[] = [];
  for (const prop of props) {
    const values = prop.each ? Array.from({ length: prop.each.index.size }, (_, i) => i) : [null];
    for (const each of values) {
      const bind = new Map<number, number>();
      if (prop.each && each !== null) bind.set((prop.each.v as { id: number }).id, each);
      out.push({ prop, each, p: compilePredicate(model, prop.p, bind), q: compilePredicate(model, prop.q, bind) });
    }
  }
  return out;
}

/** A found violation of one goal: a lasso of edges. */
interface Lasso {
  readonly kind: LassoKind;
  readonly root: number;
  readonly prefix: readonly number[];
  readonly loop: readonly number[];
}

/** Flag bits of a state for the goal being checked (fairCycles.ts adds IN_REGION and FAIR). */
const P = 1;
const Q = 2;
const SEED = 4;

/** The arrays one liveness check reuses for every goal. */
interface Work {
  /** P and Q of the goal, then its seed, region and fair bits. */
  readonly flags: Uint8Array;
  /** Component tokens of the fair-cycle search. */
  readonly tok: Int32Array;
  /** Two arrays of one entry a state: the region's BFS queue and the refinement's member lists (the second made on demand), then the lasso searches' queues. */
  readonly members: LazyBuffers;
  /** The prefix search's parent edge of each (state, seed passed) pair, then the component searches' stamps; made when a goal is first violated. */
  parents: Uint32Array | null;
  /** Most bytes of the fair-cycle search's frames. */
  frameBytes: number;
  /** Takes the arrays that grow with the graph, under the search's memory limit. */
  readonly take: TakeArray;
}

/** Checks one goal on a complete graph whose P and Q bits are in `w.flags`; returns a lasso or null. */
function checkGoal(g: StateGraph, goal: Goal, groups: FairnessGroups, w: Work): Lasso | null {
  const { n, offsets, targets } = g;
  const { flags, tok } = w;
  const form = goal.prop.form;
  // Seeds and the region reachable from them through states where q fails.
  const queue = w.members.b;
  let tail = 0;
  const isInit = (v: number) => v < g.nInit;
  for (let v = 0; v < n; v++) {
    const f = flags[v] as number;
    if (f & Q) continue;
    const sd = form === 'eventually' ? isInit(v) : (f & P) !== 0; // alwaysEventually's p is the constant true
    if (sd) {
      flags[v] = f | SEED | IN_REGION;
      queue[tail++] = v;
    }
  }
  if (tail === 0) return null;
  for (let head = 0; head < tail; head++) {
    const v = queue[head] as number;
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const x = targets[j] as number;
      const f = flags[x] as number;
      if (f & (IN_REGION | Q)) continue;
      flags[x] = f | IN_REGION;
      queue[tail++] = x;
    }
  }
  const comps = findFairComponents(g, flags, groups, tok, w.members, null, w.take);
  w.frameBytes = Math.max(w.frameBytes, comps.frameBytes);
  const stops = (v: number) => offsets[v] === offsets[v + 1];
  let anyStop = false;
  for (let v = 0; v < n && !anyStop; v++) if ((flags[v] as number) & IN_REGION && stops(v)) anyStop = true;
  if (comps.count === 0 && !anyStop) return null;

  // Shortest prefix: BFS over (state, phase) pairs; phase 1 = a seed has been passed and q failed
  // since. Phase-0 pairs are reached from start states only through phase-0 pairs, in the order a
  // plain BFS from the start states meets the states, which is the order of their ids: the parent
  // of (v, 0) is the edge by which the graph search found v (graphPath), and only a bit a state
  // marks them. Phase-1 pairs keep their parent edge, the parent's phase in its top bit.
  if (g.m >= PHASE_BIT - 1) throw new McError('MC040', `internal error: ${g.m} edges are more than the lasso search can number`);
  w.parents ??= w.take(4 * n, "the lasso search's parents", () => new Uint32Array(n));
  const parent1 = w.parents;
  parent1.fill(UNSEEN);
  const seen0 = w.take((n >>> 3) + 1, "the lasso search's marks", () => new Uint8Array((n >>> 3) + 1));
  const qa = w.members.b;
  const qb = w.members.get(0);
  const qAt = (i: number) => (i < n ? (qa[i] as number) : (qb[i - n] as number));
  let qt = 0;
  const enqueue = (c: number) => {
    if (qt < n) qa[qt] = c;
    else qb[qt - n] = c;
    qt++;
  };
  const push0 = (v: number) => {
    if ((seen0[v >>> 3] as number) & (1 << (v & 7))) return;
    seen0[v >>> 3] = (seen0[v >>> 3] as number) | (1 << (v & 7));
    enqueue(v * 2);
  };
  const push1 = (v: number, from: number) => {
    if (parent1[v] !== UNSEEN) return false;
    parent1[v] = from;
    enqueue(v * 2 + 1);
    return true;
  };
  const isTarget = (v: number) => ((flags[v] as number) & FAIR) !== 0 || stops(v);
  const inR = (v: number) => ((flags[v] as number) & IN_REGION) !== 0;
  const seed = (v: number) => ((flags[v] as number) & SEED) !== 0;
  let hit = -1;
  for (let v = 0; v < g.nInit && hit < 0; v++) {
    if (form !== 'eventually') push0(v);
    if (seed(v) && push1(v, ROOT_PAIR) && isTarget(v)) hit = v;
  }
  for (let head = 0; head < qt && hit < 0; head++) {
    const c = qAt(head);
    const v = c >>> 1;
    const phase = c & 1;
    const tag = phase ? PHASE_BIT : 0;
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e && hit < 0; j++) {
      const x = targets[j] as number;
      if (phase === 0) {
        push0(x);
        if (seed(x) && push1(x, j) && isTarget(x)) hit = x;
      } else if (inR(x) && push1(x, (j | tag) >>> 0) && isTarget(x)) {
        hit = x;
      }
    }
  }
  if (hit < 0) throw new Error('internal: a fair component or stopping state was found but is not reachable');
  const back: number[] = [];
  let v = hit;
  let root = -1;
  let head0: number[] = [];
  for (;;) {
    const pe = parent1[v] as number;
    if (pe === ROOT_PAIR) {
      root = v;
      break;
    }
    const e = pe & (PHASE_BIT - 1);
    back.push(e);
    v = sourceOf(g, e);
    if (pe >>> 31 === 0) {
      // The rest of the way is phase 0: the search's own BFS path to v.
      const path = graphPath(g, v, w.members.b);
      root = path.root;
      head0 = path.edges;
      break;
    }
  }
  const prefix = [...head0, ...back.reverse()];
  const entry = hit;
  if (((flags[entry] as number) & FAIR) === 0) {
    const end = g.cm.isEnd(graphState(g, entry));
    return { kind: end ? 'end-state' : 'deadlock', root, prefix, loop: [] };
  }
  const sc = new Scratch(new Int32Array(parent1.buffer, parent1.byteOffset, n), w.members.b, w.members.get(0));
  return { kind: 'cycle', root, prefix, loop: fairLoop(g, tok, entry, groups, sc) };
}

function describeGoal(goal: Goal): string {
  const e = goal.prop.each;
  return e && goal.each !== null ? ` for ${e.index.name} ${goal.each}` : '';
}

function lassoViolation(g: StateGraph, goal: Goal, lasso: Lasso, mode: FairnessMode): Violation {
  const { prop } = goal;
  // Under symmetry reduction the lasso's states are canonical: it is walked again on concrete states.
  const { steps, loopAt } = g.canon
    ? concreteLasso(g, lasso.root, lasso.prefix, lasso.loop)
    : { steps: edgeTrace(g, lasso.root, [...lasso.prefix, ...lasso.loop]), loopAt: lasso.prefix.length };
  const where = describeGoal(goal);
  const fair = mode === 'none' ? 'with no fairness assumed' : 'under the declared fairness';
  const what =
    lasso.kind === 'cycle'
      ? `livelock: steps ${loopAt + 1}..${steps.length - 1} repeat forever ${fair} and the goal never holds`
      : lasso.kind === 'deadlock'
        ? `deadlock: the run stops after ${loopAt} steps in a state with no enabled rule (not a legal end state) before the goal holds`
        : `the run ends after ${loopAt} steps in a legal end state before the goal holds`;
  const note =
    lasso.kind === 'cycle'
      ? `lasso: state ${loopAt} is repeated at the end; steps ${loopAt + 1}..${steps.length - 1} repeat forever`
      : `stutter: no rule is enabled in the last state; by the stuttering convention the run stays there forever (loop = last state)`;
  const trace: Trace = {
    protocol: g.model.protocol,
    variant: g.model.variant,
    params: g.model.params,
    engine: 'explicit',
    property: prop.name,
    requirement: prop.requirement,
    steps,
    loop: loopAt,
    note,
    extra: {
      lasso: lasso.kind,
      fairness: mode,
      ...(prop.each && goal.each !== null ? { each: { index: prop.each.index.name, name: (prop.each.v as { name: string }).name, value: goal.each } } : {}),
    },
  };
  return {
    property: prop.name,
    requirement: prop.requirement,
    kind: 'liveness',
    trace,
    message: `liveness ${prop.name} (${prop.requirement}) violated${where}: ${what}: ${prop.doc}`,
  };
}

/**
 * Checks the liveness properties of `job` (other properties are ignored) on the full reachable
 * graph. `ok` with guarantee `exhaustive` means no fair run breaks any of them; a limit gives
 * `incomplete` (a partial graph proves nothing about cycles).
 */
export function livenessCheck(job: CheckJob, hooks: Hooks = {}, opts: LivenessOptions = {}): CheckResult<ExplicitStats> {
  const start = Date.now();
  const sym = symmetryFor(job, opts);
  const memory = limitOf(job.explicit?.memoryLimit);
  const r = livenessOnGraph(
    job,
    buildGraph(job.model, job.limits, hooks, sym?.use === true, sizeHint(opts, sym), annotatedFor(sym), memory),
    opts,
    start,
    sym,
    hooks,
    memory,
  );
  if (!('recheck' in r)) return r;
  const fullJob = { ...job, properties: r.recheck };
  return confirmed(
    r,
    livenessOnGraph(
      fullJob,
      buildGraph(job.model, job.limits, hooks, false, null, false, memory),
      opts,
      start,
      recheckReason(r),
      hooks,
      memory,
    ) as CheckResult<ExplicitStats>,
  );
}

/** Whether the graph keeps each edge's permutation (livenessSymmetry.ts). */
function annotatedFor(sym: LivenessSymmetry | null): boolean {
  return sym?.use === true && sym.annotated;
}

/** Properties the annotated quotient found violated: checked again on the full graph for their lassos. */
interface Recheck {
  readonly recheck: Liveness[];
  readonly stats: ExplicitStats;
}

function recheckReason(r: Recheck): LivenessSymmetry {
  return {
    use: false,
    reason: `the annotated quotient (${r.stats.states} states) found ${r.recheck.map((p) => p.name).join(', ')} violated; the lassos come from the full graph`,
  };
}

/** The full graph's result for the properties the quotient found violated, which must be exactly those. */
function confirmed(r: Recheck, full: CheckResult<ExplicitStats>): CheckResult<ExplicitStats> {
  if (full.status !== 'violated' && full.status !== 'ok') return full;
  const got = full.status === 'violated' ? full.violations.map((v) => v.property).sort() : [];
  const want = r.recheck.map((p) => p.name).sort();
  if (got.join('\n') !== want.join('\n'))
    return {
      status: 'error',
      code: 'MC040',
      message: `internal error: the annotated quotient and the full graph disagree on liveness (${want.join(', ')} against ${got.join(', ') || 'none'})`,
      stats: full.stats,
      trace: null,
    };
  return full;
}

/**
 * Whether the liveness graph is built under symmetry reduction: asked for (`job.symmetry`), and
 * exact for the job's liveness properties and fairness (livenessSymmetry.ts); null when not asked.
 */
function symmetryFor(job: CheckJob, opts: LivenessOptions): LivenessSymmetry | null {
  if (!job.symmetry) return null;
  const props = job.properties.filter((p): p is Liveness => p.kind === 'liveness');
  return livenessSymmetry(job.model, props, opts.fairness ?? 'declared');
}

/** `livenessCheck` that gives the event loop turns while it builds the graph, so that `job.signal` can stop it. */
export async function livenessRun(job: CheckJob, hooks: Hooks = {}, opts: LivenessOptions = {}): Promise<CheckResult<ExplicitStats>> {
  const start = Date.now();
  const interrupted = () => (job.signal?.aborted ? `interrupted (${String(job.signal.reason ?? 'signal')})` : null);
  const sym = symmetryFor(job, opts);
  const memory = limitOf(job.explicit?.memoryLimit);
  const r = livenessOnGraph(
    job,
    await buildGraphAsync(job.model, job.limits, hooks, interrupted, sym?.use === true, sizeHint(opts, sym), annotatedFor(sym), memory),
    opts,
    start,
    sym,
    hooks,
    memory,
  );
  if (!('recheck' in r)) return r;
  const fullJob = { ...job, properties: r.recheck };
  const full = livenessOnGraph(
    fullJob,
    await buildGraphAsync(job.model, job.limits, hooks, interrupted, false, null, false, memory),
    opts,
    start,
    recheckReason(r),
    hooks,
    memory,
  );
  return confirmed(r, full as CheckResult<ExplicitStats>);
}

/** The liveness check on a graph built (or stopped) by `buildGraph`. */
function livenessOnGraph(
  job: CheckJob,
  built: GraphBuild,
  opts: LivenessOptions,
  start: number,
  sym: LivenessSymmetry | null,
  hooks: Hooks,
  memory?: MemoryLimit,
): CheckResult<ExplicitStats> | Recheck {
  const { model } = job;
  const mode = opts.fairness ?? 'declared';
  const props = job.properties.filter((p): p is Liveness => p.kind === 'liveness');
  const g = built.graph;
  // The analysis of fair cycles has no levels to report; say once that it started, over how much.
  if (built.status === 'complete' && hooks.onProgress) {
    const elapsedMs = Date.now() - start;
    hooks.onProgress({ phase: 'fair cycles', generated: g.m, distinct: g.n, queue: 0, depth: g.maxDepth, elapsedMs, statesPerSec: 0 });
  }
  // Bytes of the analysis arrays at their peak (the graph's own are in g.bytes).
  let analysisBytes = 0;
  const stats = (): ExplicitStats => {
    const elapsedMs = Date.now() - start;
    // The most held at once: while the graph was built (store with its index, edges in chunks), or during the analysis.
    const bytes = Math.max(g.buildPeakBytes, g.bytes + analysisBytes);
    return {
      engine: 'explicit',
      symmetry: g.canon !== null,
      ...(sym && !sym.use ? { symmetryRefused: sym.reason } : {}),
      states: g.n,
      transitions: g.m,
      depth: g.maxDepth,
      elapsedMs,
      statesPerSec: elapsedMs > 0 ? Math.round((g.n * 1000) / elapsedMs) : g.n * 1000,
      bytesPerState: bytesPerStateOf(bytes, g.n),
      storeBytes: bytes,
    };
  };
  if (built.status === 'error') {
    let trace: Trace | null = null;
    if (built.at >= 0) {
      const { root, edges } = graphPath(g, built.at);
      trace = explicitTrace(model, null, g.canon ? concreteLasso(g, root, edges, []).steps : edgeTrace(g, root, edges), built.error.message);
    }
    return { status: 'error', code: built.error.code, message: built.error.message, stats: stats(), trace };
  }
  if (built.status === 'incomplete') return { status: 'incomplete', reason: built.reason, stats: stats(), covers: [] };

  const goals = goalsOf(model, props);
  const take: TakeArray = (bytes, what, make) => allocate(bytes, what, memory, make);
  // An analysis that does not fit ends as a limit: the graph was complete, so the figures are its.
  const refused = (e: StoreFullError, found: string): CheckResult<ExplicitStats> => ({
    status: 'incomplete',
    reason: `the fair-cycle analysis of the complete graph (${g.n} states, ${g.m} transitions) stopped${found}: ${e.message}${e.because === 'limit' ? '; a higher --max-memory goes further' : ''}`,
    stats: stats(),
    covers: [],
  });
  if (g.ann) {
    // The annotated quotient: verdicts here (annotatedQuotient.ts), lassos of violated properties from the full graph.
    const fairQ = quotientFairness(g, mode);
    const recheck: Liveness[] = [];
    const st = new Int32Array(model.layout.nSlots);
    const wd = new Uint32Array(g.cm.words);
    const readState = (c: number) => {
      g.store.read(c, wd, 0);
      g.cm.unpack(wd, 0, st);
      return st;
    };
    try {
      for (const prop of props) {
        const r = violatedOnQuotient(
          g,
          goals.filter((x) => x.prop === prop),
          fairQ,
          readState,
          take,
        );
        analysisBytes = Math.max(analysisBytes, r.bytes);
        if (r.violated) recheck.push(prop);
      }
    } catch (e) {
      if (e instanceof ModelRuntimeError)
        return { status: 'error', code: e.code, message: `evaluating a liveness property: ${e.message}`, stats: stats(), trace: null };
      if (e instanceof StoreFullError)
        return refused(
          e,
          recheck.length
            ? ` (on the symmetry quotient, having found ${recheck.map((p) => p.name).join(', ')} violated: its lasso comes from the full graph, not built)`
            : ' (on the symmetry quotient)',
        );
      throw e;
    }
    if (recheck.length) return { recheck, stats: stats() };
    return { status: 'ok', guarantee: 'exhaustive', stats: stats(), covers: [] };
  }
  const groups = fairnessGroups(model, mode);
  // Before the analysis' arrays are made: the memory of the states is then free for them.
  const evictedBytes = g.n * g.cm.words * 4 >= (opts.evictStatesFrom ?? EVICT_STATES_FROM) ? evictOrKeep(g.store) : 0;
  // The states let go (and the graph's dropped index) leave the resident memory only when collected: collected now, the
  // analysis's arrays take their place instead of adding to them.
  if (evictedBytes > 0) fullCollection();
  try {
    const held = (b: number) => {
      analysisBytes = Math.max(analysisBytes, b - evictedBytes);
    };
    return fairCycleAnalysis({ g, goals, groups, mode, stats, take, held }, refused);
  } finally {
    g.store.closeEvicted();
  }
}

/**
 * Moves the graph's states to a temporary file (StateStore.evict) and returns the bytes let go; 0
 * when the system refuses the file (no temporary folder, no space, read-only): the states then
 * stay in memory, which costs only memory.
 */
function evictOrKeep(store: StateStore): number {
  try {
    return store.evict();
  } catch (e) {
    if (isFileError(e)) return 0;
    throw e;
  }
}

/** What the fair-cycle analysis works on, how it takes its arrays, and what it reports to. */
interface Analysis {
  readonly g: StateGraph;
  readonly goals: readonly Goal[];
  readonly groups: FairnessGroups;
  readonly mode: FairnessMode;
  /** The statistics of a result. */
  readonly stats: () => ExplicitStats;
  /** Takes the arrays that grow with the graph (under the memory limit). */
  readonly take: TakeArray;
  /** Told the bytes of its arrays whenever they may be at their peak. */
  readonly held: (bytes: number) => void;
}

/**
 * The fair-cycle analysis of every goal on the full graph: a violation (with its lasso) per
 * property violated. Its arrays are taken with `a.take`; when one is refused (the memory limit), the
 * violations found so far are the result, or `refused(e, ...)` when there are none yet.
 */
function fairCycleAnalysis(a: Analysis, refused: (e: StoreFullError, found: string) => CheckResult<ExplicitStats>): CheckResult<ExplicitStats> {
  const violations: Violation[] = [];
  let checking: Goal | null = null;
  try {
    return analyseGoals(a, violations, (goal) => {
      checking = goal;
    });
  } catch (e) {
    if (!(e instanceof StoreFullError)) throw e;
    // What was found stands (each violation has its lasso); the properties not yet decided are not reported.
    if (violations.length) return { status: 'violated', guarantee: 'exhaustive', stats: a.stats(), violations, covers: [] };
    const at = checking as Goal | null;
    return refused(e, at ? ` while checking ${at.prop.name}${describeGoal(at)}` : ' before its first property');
  }
}

/** `fairCycleAnalysis` without the limit: pushes each violation to `violations` as it is found, and tells `checking` each goal it starts. */
function analyseGoals(a: Analysis, violations: Violation[], checking: (goal: Goal) => void): CheckResult<ExplicitStats> {
  const { g, goals, groups, mode, stats, take, held } = a;
  const { model } = g;
  const n = g.n;
  const work: Work = { ...takeRegionArrays(n, take), parents: null, frameBytes: 0, take };
  // p and q of up to four goals a byte, evaluated in one pass over the states for each four goals.
  const pq = take(n, "the liveness goals' bits", () => new Uint8Array(n));
  const measure = () =>
    held(work.flags.byteLength + work.tok.byteLength + work.members.bytes + (work.parents?.byteLength ?? 0) + work.frameBytes + pq.byteLength);
  const s = new Int32Array(model.layout.nSlots);
  const W = g.cm.words;
  const done = new Set<Liveness>();
  for (let i = 0; i < goals.length; i++) {
    const goal = goals[i] as Goal;
    const slot = i & 3;
    // The pass is made at the first goal of its four even when that goal's property has already
    // failed (the goal is then skipped): the other goals of the four read their bits from it.
    if (slot === 0) {
      const batch = goals.slice(i, i + 4);
      try {
        let v = 0;
        // Slice by slice: an evicted store reads its file in one pass.
        for (const slice of g.store.slices()) {
          for (let off = 0; off < slice.length; off += W, v++) {
            g.cm.unpack(slice, off, s);
            let bits = 0;
            for (let k = 0; k < batch.length; k++) {
              const b = batch[k] as Goal;
              if (done.has(b.prop)) continue;
              bits |= ((b.p(s) ? P : 0) | (b.q(s) ? Q : 0)) << (2 * k);
            }
            pq[v] = bits;
          }
        }
      } catch (e) {
        if (e instanceof ModelRuntimeError)
          return { status: 'error', code: e.code, message: `evaluating a liveness property: ${e.message}`, stats: stats(), trace: null };
        throw e;
      }
    }
    if (done.has(goal.prop)) continue;
    checking(goal);
    const { flags } = work;
    const shift = 2 * slot;
    for (let v = 0; v < g.n; v++) flags[v] = ((pq[v] as number) >>> shift) & (P | Q);
    const lasso = checkGoal(g, goal, groups, work);
    measure();
    if (lasso) {
      violations.push(lassoViolation(g, goal, lasso, mode));
      done.add(goal.prop);
    }
  }
  measure();
  if (violations.length) return { status: 'violated', guarantee: 'exhaustive', stats: stats(), violations, covers: [] };
  return { status: 'ok', guarantee: 'exhaustive', stats: stats(), covers: [] };
}

/**
 * The explicit engine with liveness: the safety search (explicitCheck: invariants, step
 * properties, covers, deadlock) and, when the job has liveness properties, the liveness check on
 * the full graph. Violations are listed safety first (invariants and step properties), then
 * liveness (each a lasso), then deadlock and unreached covers, so that a deadlock that is also a
 * liveness failure is shown first as the lasso that explains it.
 */
export function explicitCheckWithLiveness(job: CheckJob, hooks: Hooks = {}, opts: LivenessOptions = {}): CheckResult<ExplicitStats> {
  const safe = explicitCheck(job, inPhase(hooks, 'safety search'));
  return needsLiveness(job, safe) ? withLiveness(safe, livenessCheck(job, inPhase(hooks, 'liveness graph'), withSafety(opts, safe))) : safe;
}

/**
 * `explicitCheckWithLiveness` with the job's explicit options (worker threads, checkpoints of the
 * safety search) and its abort signal, which stops either phase.
 */
export async function explicitRunWithLiveness(job: CheckJob, hooks: Hooks = {}, opts: LivenessOptions = {}): Promise<CheckResult<ExplicitStats>> {
  const safe = await explicitRun(job, inPhase(hooks, 'safety search'));
  return needsLiveness(job, safe) ? withLiveness(safe, await livenessRun(job, inPhase(hooks, 'liveness graph'), withSafety(opts, safe))) : safe;
}

/** The liveness options with the safety search's figures when it explored everything (status ok). */
function withSafety(opts: LivenessOptions, safe: CheckResult<ExplicitStats>): LivenessOptions {
  return safe.status === 'ok' ? { ...opts, safety: safe.stats } : opts;
}

/** Whether the liveness phase runs after this safety result. */
/** `hooks` whose progress reports name `phase`, unless a report names its own (the fair-cycle analysis inside the liveness phase). */
function inPhase(hooks: Hooks, phase: NonNullable<Progress['phase']>): Hooks {
  const report = hooks.onProgress;
  return report ? { onProgress: (p) => report.call(hooks, { phase, ...p }) } : {};
}

function needsLiveness(job: CheckJob, safe: CheckResult<ExplicitStats>): boolean {
  return job.properties.some((p: Property) => p.kind === 'liveness') && safe.status !== 'error' && safe.status !== 'incomplete';
}

/** One result from the safety phase's and the liveness phase's. */
function withLiveness(safe: CheckResult<ExplicitStats>, live: CheckResult<ExplicitStats>): CheckResult<ExplicitStats> {
  const { engine: _engine, liveness: _none, ...liveFigures } = live.stats;
  const stats: ExplicitStats = { ...safe.stats, liveness: liveFigures };
  if (live.status === 'error') return { ...live, stats };
  const covers = 'covers' in safe ? safe.covers : [];
  const sv = safe.status === 'violated' ? safe.violations : [];
  const lv = live.status === 'violated' ? live.violations : [];
  const first = sv.filter((v) => v.kind === 'invariant' || v.kind === 'step');
  const last = sv.filter((v) => v.kind !== 'invariant' && v.kind !== 'step');
  const violations = [...first, ...lv, ...last];
  // The liveness graph is exact; the safety search's store decides what the whole check proves.
  const guarantee = safe.status === 'ok' || safe.status === 'violated' ? safe.guarantee : 'exhaustive';
  if (violations.length) return { status: 'violated', guarantee, stats, violations, covers };
  if (live.status === 'incomplete') return { ...live, stats, covers };
  return { status: 'ok', guarantee, stats, covers };
}

/** The explicit engine with liveness behind the common interface (name `explicit`). */
export const explicitLivenessEngine: Engine = {
  name: 'explicit',
  run: (job, hooks) => explicitRunWithLiveness(job, hooks),
};
