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
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { type FairnessMode, fairnessRequirements } from '../../model/lang/fairness.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Liveness, Property } from '../../properties/property.js';
import type { Trace, TraceStep } from '../../counterexamples/trace.js';
import { type CheckJob, type CheckResult, type Engine, type ExplicitStats, type Hooks, type Violation, bytesPerStateOf } from '../engine.js';
import { compilePredicate } from '../../model/lang/compile.js';
import { explicitCheck } from './explicit.js';
import { type FairnessGroups, STRONG, WEAK, findFairComponents } from './fairCycles.js';
import { type StateGraph, buildGraph, graphState } from './graph.js';

/** Options of the liveness check. */
export interface LivenessOptions {
  /** `declared` (default): the fairness the rules declare; `none`: no fairness at all. */
  readonly fairness?: FairnessMode;
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
function edgeTrace(g: StateGraph, root: number, edges: readonly number[], prop: Liveness): TraceStep[] {
  const { model } = g;
  const via = g.store.via(root);
  const steps: TraceStep[] = [{ choice: via, label: `init ${model.inits[via]?.name ?? via}`, state: graphState(g, root) }];
  for (const e of edges) {
    const k = g.labels[e] as number;
    steps.push({ choice: k, label: model.instances[k]?.label ?? `#${k}`, state: graphState(g, g.targets[e] as number) });
  }
  void prop;
  return steps;
}

/** Scratch arrays shared by the BFS searches of one check (sized once). */
class Scratch {
  readonly stamp: Int32Array;
  readonly parentEdge: Uint32Array;
  readonly parentNode: Int32Array;
  readonly queue: Uint32Array;
  round = 0;
  constructor(n: number) {
    this.stamp = new Int32Array(n);
    this.parentEdge = new Uint32Array(n);
    this.parentNode = new Int32Array(n);
    this.queue = new Uint32Array(n);
  }
  get bytes(): number {
    return this.stamp.byteLength * 4;
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
  sc.parentNode[from] = -1;
  while (head < tail) {
    const v = sc.queue[head++] as number;
    const gl = goal(v);
    if (gl !== -1) {
      const path: number[] = gl >= 0 ? [gl] : [];
      for (let x = v; sc.parentNode[x] !== -1; x = sc.parentNode[x] as number) path.push(sc.parentEdge[x] as number);
      return path.reverse();
    }
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const w = targets[j] as number;
      if (tok[w] !== T || sc.stamp[w] === r) continue;
      sc.stamp[w] = r;
      sc.parentNode[w] = v;
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
  // Per group over the component: in how many states enabled, and whether taken inside.
  const enabledIn = new Map<number, number>();
  const taken = new Set<number>();
  // Last state in which each group was counted (each state is visited once by the BFS).
  const lastSeen = new Int32Array(groups.count).fill(-1);
  bfsInComponent(g, tok, T, entry, sc, (v) => {
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const grp = groupOf[labels[j] as number] as number;
      if (grp < 0) continue;
      if (lastSeen[grp] !== v) {
        lastSeen[grp] = v;
        enabledIn.set(grp, (enabledIn.get(grp) ?? 0) + 1);
      }
      if (tok[targets[j] as number] === T) taken.add(grp);
    }
    return -1;
  });
  const needEdge = new Set<number>();
  const needDisabled = new Set<number>();
  for (const grp of enabledIn.keys()) {
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

/** Checks one goal on a complete graph; returns a lasso or null. */
function checkGoal(
  g: StateGraph,
  goal: Goal,
  pq: Uint8Array,
  groups: FairnessGroups,
  sc: Scratch,
  bfs: { code: Int32Array; edge: Uint32Array; queue: Uint32Array },
): Lasso | null {
  const { n, offsets, targets } = g;
  const form = goal.prop.form;
  const P = 1;
  const Q = 2;
  // Seeds and the region reachable from them through states where q fails.
  const seed = new Uint8Array(n);
  const inR = new Uint8Array(n);
  let tail = 0;
  const isInit = (v: number) => g.store.parent(v) === -1;
  for (let v = 0; v < n; v++) {
    const f = pq[v] as number;
    if (f & Q) continue;
    const sd = form === 'eventually' ? isInit(v) : form === 'leadsTo' ? (f & P) !== 0 : true;
    if (sd) {
      seed[v] = 1;
      inR[v] = 1;
      sc.queue[tail++] = v;
    }
  }
  if (tail === 0) return null;
  for (let head = 0; head < tail; head++) {
    const v = sc.queue[head] as number;
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) {
      const w = targets[j] as number;
      if (inR[w] || (pq[w] as number) & Q) continue;
      inR[w] = 1;
      sc.queue[tail++] = w;
    }
  }
  const comps = findFairComponents(g, inR, groups);
  const stops = (v: number) => offsets[v] === offsets[v + 1];
  let anyStop = false;
  for (let v = 0; v < n && !anyStop; v++) if (inR[v] && stops(v)) anyStop = true;
  if (comps.count === 0 && !anyStop) return null;

  // Shortest prefix: BFS over (state, phase); phase 1 = a seed has been passed and q failed since.
  const { code: parent, edge: pedge, queue } = bfs;
  parent.fill(-2);
  let qt = 0;
  const push = (c: number, from: number, e: number) => {
    if (parent[c] !== -2) return false;
    parent[c] = from;
    pedge[c] = e;
    queue[qt++] = c;
    return true;
  };
  const isTarget = (v: number) => comps.fair[v] === 1 || stops(v);
  let hit = -1;
  for (let v = 0; v < n && isInit(v) && hit < 0; v++) {
    if (form !== 'eventually') push(v * 2, -1, 0);
    if (seed[v] && push(v * 2 + 1, -1, 0) && isTarget(v)) hit = v * 2 + 1;
  }
  for (let head = 0; head < qt && hit < 0; head++) {
    const c = queue[head] as number;
    const v = c >>> 1;
    const phase = c & 1;
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e && hit < 0; j++) {
      const w = targets[j] as number;
      if (phase === 0) {
        push(w * 2, c, j);
        if (seed[w] && push(w * 2 + 1, c, j) && isTarget(w)) hit = w * 2 + 1;
      } else if (inR[w] && push(w * 2 + 1, c, j) && isTarget(w)) {
        hit = w * 2 + 1;
      }
    }
  }
  if (hit < 0) throw new Error('internal: a fair component or stopping state was found but is not reachable');
  const prefix: number[] = [];
  let c = hit;
  while (parent[c] !== -1) {
    prefix.push(pedge[c] as number);
    c = parent[c] as number;
  }
  prefix.reverse();
  const root = c >>> 1;
  const entry = hit >>> 1;
  if (comps.fair[entry] !== 1) {
    const end = g.cm.isEnd(graphState(g, entry));
    return { kind: end ? 'end-state' : 'deadlock', root, prefix, loop: [] };
  }
  return { kind: 'cycle', root, prefix, loop: fairLoop(g, comps.tok, entry, groups, sc) };
}

function describeGoal(goal: Goal): string {
  const e = goal.prop.each;
  return e && goal.each !== null ? ` for ${e.index.name} ${goal.each}` : '';
}

function lassoViolation(g: StateGraph, goal: Goal, lasso: Lasso, mode: FairnessMode): Violation {
  const { prop } = goal;
  const steps = edgeTrace(g, lasso.root, [...lasso.prefix, ...lasso.loop], prop);
  const loopAt = lasso.prefix.length;
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
  const { model } = job;
  const mode = opts.fairness ?? 'declared';
  const props = job.properties.filter((p): p is Liveness => p.kind === 'liveness');
  const start = Date.now();
  const built = buildGraph(model, job.limits, hooks);
  const g = built.graph;
  let extraBytes = 0;
  const stats = (): ExplicitStats => {
    const elapsedMs = Date.now() - start;
    const bytes = g.bytes + extraBytes;
    return {
      engine: 'explicit',
      symmetry: false,
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
    const ids = built.at >= 0 ? g.store.path(built.at) : [];
    const trace: Trace | null = ids.length
      ? {
          protocol: model.protocol,
          variant: model.variant,
          params: model.params,
          engine: 'explicit',
          property: null,
          requirement: null,
          note: built.error.message,
          steps: ids.map((id, i) => {
            const via = g.store.via(id);
            return {
              choice: via,
              label: i === 0 ? `init ${model.inits[via]?.name ?? via}` : (model.instances[via]?.label ?? `#${via}`),
              state: graphState(g, id),
            };
          }),
        }
      : null;
    return { status: 'error', code: built.error.code, message: built.error.message, stats: stats(), trace };
  }
  if (built.status === 'incomplete') return { status: 'incomplete', reason: built.reason, stats: stats(), covers: [] };

  const goals = goalsOf(model, props);
  const groups = fairnessGroups(model, mode);
  // p and q of every goal on every state, evaluated in one pass over the states.
  const pq = goals.map(() => new Uint8Array(g.n));
  const s = new Int32Array(model.layout.nSlots);
  const w = new Uint32Array(g.cm.words);
  try {
    for (let v = 0; v < g.n; v++) {
      g.store.read(v, w, 0);
      g.cm.unpack(w, 0, s);
      goals.forEach((goal, i) => {
        (pq[i] as Uint8Array)[v] = (goal.p(s) ? 1 : 0) | (goal.q(s) ? 2 : 0);
      });
    }
  } catch (e) {
    if (e instanceof ModelRuntimeError)
      return { status: 'error', code: e.code, message: `evaluating a liveness property: ${e.message}`, stats: stats(), trace: null };
    throw e;
  }
  const sc = new Scratch(g.n);
  const bfs = { code: new Int32Array(2 * g.n), edge: new Uint32Array(2 * g.n), queue: new Uint32Array(2 * g.n) };
  // Region flags, the fair-cycle search (about 35 bytes a state) and the goal flags.
  extraBytes = sc.bytes + bfs.code.byteLength * 3 + pq.length * g.n + 2 * g.n + 35 * g.n;
  const violations: Violation[] = [];
  const done = new Set<Liveness>();
  for (let i = 0; i < goals.length; i++) {
    const goal = goals[i] as Goal;
    if (done.has(goal.prop)) continue;
    const lasso = checkGoal(g, goal, pq[i] as Uint8Array, groups, sc, bfs);
    if (lasso) {
      violations.push(lassoViolation(g, goal, lasso, mode));
      done.add(goal.prop);
    }
  }
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
  const hasLive = job.properties.some((p: Property) => p.kind === 'liveness');
  const safe = explicitCheck(job, hooks);
  if (!hasLive || safe.status === 'error' || safe.status === 'incomplete') return safe;
  const live = livenessCheck(job, hooks, opts);
  const { engine: _engine, liveness: _none, ...liveFigures } = live.stats;
  const stats: ExplicitStats = { ...safe.stats, liveness: liveFigures };
  if (live.status === 'error') return { ...live, stats };
  const sv = safe.status === 'violated' ? safe.violations : [];
  const lv = live.status === 'violated' ? live.violations : [];
  const first = sv.filter((v) => v.kind === 'invariant' || v.kind === 'step');
  const last = sv.filter((v) => v.kind !== 'invariant' && v.kind !== 'step');
  const violations = [...first, ...lv, ...last];
  if (violations.length) return { status: 'violated', guarantee: 'exhaustive', stats, violations, covers: safe.covers };
  if (live.status === 'incomplete') return { ...live, stats, covers: safe.covers };
  return { status: 'ok', guarantee: 'exhaustive', stats, covers: safe.covers };
}

/** The explicit engine with liveness behind the common interface (name `explicit`). */
export const explicitLivenessEngine: Engine = {
  name: 'explicit',
  run: async (job, hooks) => explicitCheckWithLiveness(job, hooks),
};
