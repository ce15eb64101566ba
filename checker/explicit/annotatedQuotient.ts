/**
 * Liveness verdicts on the annotated quotient (Emerson and Sistla). Why this module exists: the
 * built-in protocols check progress for each DMA slot or CPU (a symmetric type) under fairness
 * per instance of rules with such a parameter, and a permutation renames both; the plain reduced
 * graph cannot tell "slot 0 is starved" from "some slot is starved at each step". With the
 * permutation kept on each edge (graph.ts, `ann`), the exact verdicts of the full graph are
 * computed on the reduced one.
 *
 * Setting. G permutes states and rule instances; the full graph X is G-invariant (x -k-> y gives
 * σx -σk-> σy). The quotient edge c -k-> c' carries π with π(succ_k(c)) = c'. Following a walk
 * of the quotient from c with the frame σ (the concrete state is σ(c)), an edge taken with
 * instance k is the concrete instance σ(k), and the frame becomes σπ⁻¹; so an object t named in
 * the concrete frame (a slot value, an instance) is called σ⁻¹(t) in the canonical one and
 * becomes π(σ⁻¹(t)) along the edge. A thread is such a walk of pairs (c, name).
 *
 * Procedure, per property:
 * 1. A property checked for each value of a symmetric type Y (size N) is checked on the product
 *    P of the quotient with the tracked value: nodes (c, j), edges (c, j) -> (c', π_Y(j)), goal
 *    predicates of value j read at c, all j seeded at once (the property fails for some value
 *    iff it fails in P from some (init, j): a concrete run from σ(c0) failing for value i is, in
 *    c0's frame, one failing for σ⁻¹(i)). A property with no such index is checked on the
 *    quotient itself (its region is a union of orbits).
 * 2. The Emerson-Lei refinement (fairCycles.ts) runs on that graph. The full graph's refinement
 *    is G-equivariant (its region, requirements and SCCs are permuted by G, and so is everything
 *    it removes), so its sets are unions of orbits: each SCC C of the analysed graph stands for
 *    the concrete SCC D of its first state u0 (taken as a concrete state) and its images. D is
 *    what is reachable from u0 inside the preimage of C (a walk of C lifts to a run from x to
 *    τ(x); repeating it ord(τ) times returns to x, so everything reached reaches back).
 * 3. A requirement the permutations map onto itself (per rule, or per instance of a rule with no
 *    symmetric parameter) reads the same on D and on C: enabled in a state, taken on an edge
 *    inside. A requirement per instance F of a rule with a symmetric parameter is followed by a
 *    thread from (u0, F) inside C: every pair it reaches is a concrete state of D with F's name
 *    there, and every state of D is reached (with one of its names, which agree on whether F is
 *    enabled). So F is enabled everywhere in D, somewhere in D, or taken inside D exactly when
 *    the thread says so; a weak F enabled everywhere and never taken drops C, a strong F enabled
 *    somewhere and never taken removes the states where the thread finds it enabled (the removed
 *    set is a union of orbits: whether σx is removed does not depend on the representative), and
 *    C is refined again.
 * 4. Fair components or states with no successor in the region mean a violation, exactly as on
 *    the full graph.
 *
 * The lasso of a violated property is not lifted from the quotient (a cycle that is fair only
 * through its renamings would need repeating with the frame tracked): the caller checks that
 * property again on the full graph, which gives the shortest-prefix lasso of the full check and
 * confirms the verdict. Memory: the permutation index is 1 byte an edge (2 past 256
 * permutations); the product P is a view of the quotient's edges (no copy), and the search's
 * arrays (about 17 bytes a node, the threads' visited bits included) are per node of P.
 */
import type { Model } from '../../model/lang/protocol.js';
import type { FairnessMode } from '../../model/lang/fairness.js';
import { fairnessRequirements } from '../../model/lang/fairness.js';
import type { Liveness } from '../../properties/property.js';
import {
  type EdgeGraph,
  FAIR,
  type FairnessGroups,
  IN_REGION,
  Nodes,
  STRONG,
  type TakeArray,
  type Threads,
  WEAK,
  findFairComponents,
  takeFreely,
  takeRegionArrays,
} from './fairCycles.js';
import type { StateGraph } from './graph.js';

/** One value of a property with its compiled predicates (liveness.ts's goals). */
export interface QuotientGoal {
  readonly prop: Liveness;
  readonly each: number | null;
  readonly p: (s: Int32Array) => boolean;
  readonly q: (s: Int32Array) => boolean;
}

const P = 1;
const Q = 2;

/** The fairness of a model split into what the quotient reads directly and what threads follow. */
export interface QuotientFairness {
  readonly groups: FairnessGroups;
  readonly threads: Threads;
}

/** Whether a rule instance is renamed by some permutation (a parameter of a permuted symmetric type). */
function renamed(model: Model, symTypes: ReadonlySet<string>, k: number): boolean {
  return (model.instances[k]?.rule.params ?? []).some((p) => symTypes.has(p.index.name));
}

/** The instance each instance becomes under each permutation of the graph. */
function instanceMaps(g: StateGraph): Int32Array[] {
  const { model } = g;
  const types = (g.canon?.types ?? []).map((t) => t.name);
  const byKey = new Map<string, number>();
  for (const inst of model.instances) byKey.set(`${inst.ruleIdx}:${inst.args.join(',')}`, inst.id);
  return g.perms.map((perm) =>
    Int32Array.from(model.instances, (inst) => {
      const args = inst.args.map((v, i) => {
        const t = types.indexOf(inst.rule.params[i]?.index.name ?? '');
        return t >= 0 ? ((perm[t] as Int32Array)[v] as number) : v;
      });
      const id = byKey.get(`${inst.ruleIdx}:${args.join(',')}`);
      if (id === undefined) throw new Error(`internal: no instance ${inst.rule.name}(${args.join(',')})`);
      return id;
    }),
  );
}

/** Splits the fairness requirements: those renamed by the permutations (one instance each) become threads. */
export function quotientFairness(g: StateGraph, mode: FairnessMode): QuotientFairness {
  const { model } = g;
  const symTypes = new Set((g.canon?.types ?? []).map((t) => t.name));
  const reqs = fairnessRequirements(model, mode);
  const nInst = model.instances.length;
  const groupOf = new Int32Array(nInst).fill(-1);
  const kind = new Uint8Array(reqs.length);
  const kindOf = new Uint8Array(nInst);
  const threaded: number[] = [];
  reqs.forEach((r, gi) => {
    kind[gi] = r.kind === 'weak' ? WEAK : STRONG;
    const only = r.instances[0] as number;
    if (r.instances.length === 1 && renamed(model, symTypes, only)) {
      kindOf[only] = kind[gi] as number;
      threaded.push(only);
    } else for (const i of r.instances) groupOf[i] = gi;
  });
  const instMap = instanceMaps(g);
  // Orbits: closure of each threaded instance under the permutations met (the group they generate).
  const posInOrbit = new Int32Array(nInst).fill(-1);
  const orbits: Int32Array[] = [];
  for (const k of threaded) {
    if (posInOrbit[k] !== -1) continue;
    const orbit = [k];
    posInOrbit[k] = 0;
    for (let i = 0; i < orbit.length; i++) {
      for (const m of instMap) {
        const x = m[orbit[i] as number] as number;
        if (posInOrbit[x] !== -1) continue;
        posInOrbit[x] = orbit.length;
        orbit.push(x);
      }
    }
    if (orbit.length > 32) throw new Error(`internal: an orbit of ${orbit.length} renamed fairness requirements (at most 32)`);
    orbits.push(Int32Array.from(orbit));
  }
  const ann = g.ann;
  if (!ann) throw new Error('internal: the annotated quotient has no permutations');
  return { groups: { groupOf, kind, count: reqs.length }, threads: { ann, instMap, orbits, posInOrbit, kindOf } };
}

/** The product of the quotient with a tracked value of symmetric type `t` (index into the graph's types, N values), as a view of the quotient's edges. */
function product(g: StateGraph, t: number, N: number): EdgeGraph {
  const ann = g.ann as Uint8Array | Uint16Array;
  const tmap = new Int32Array(g.perms.length * N);
  g.perms.forEach((perm, p) => {
    for (let j = 0; j < N; j++) tmap[p * N + j] = (perm[t] as Int32Array)[j] as number;
  });
  return { n: g.n * N, m: g.m, offsets: g.offsets, targets: g.targets, labels: g.labels, track: { N, tmap, ann } };
}

/**
 * Whether the property (its goals: one, or one per value of its index) fails on the full graph,
 * decided on the annotated quotient `g`. Returns the bytes of the arrays it used.
 */
export function violatedOnQuotient(
  g: StateGraph,
  goals: readonly QuotientGoal[],
  fair: QuotientFairness,
  readState: (c: number) => Int32Array,
  take: TakeArray = takeFreely,
): { violated: boolean; bytes: number } {
  const prop = (goals[0] as QuotientGoal).prop;
  const types = (g.canon?.types ?? []).map((t) => t.name);
  const t = prop.each ? types.indexOf(prop.each.index.name) : -1;
  const N = t >= 0 ? goals.length : 1;
  const A: EdgeGraph = t >= 0 ? product(g, t, N) : g;
  const nd = new Nodes(A);
  // Without a tracked value the goals are those of a type the permutations leave alone, or one: each is checked on the quotient.
  const sets = t >= 0 ? [goals] : goals.map((x) => [x]);
  const { flags, tok, members: ab } = takeRegionArrays(A.n, take);
  let bytes = flags.byteLength + tok.byteLength + ab.bytes;
  const threads = fair.threads;
  const form = prop.form;
  for (const set of sets) {
    for (let c = 0; c < g.n; c++) {
      const s = readState(c);
      for (let j = 0; j < set.length; j++) {
        const goal = set[j] as QuotientGoal;
        flags[c * set.length + j] = (goal.p(s) ? P : 0) | (goal.q(s) ? Q : 0);
      }
    }
    let tail = 0;
    for (let u = 0; u < A.n; u++) {
      const f = flags[u] as number;
      if (f & Q) continue;
      const c = Math.floor(u / set.length);
      const sd = form === 'eventually' ? c < g.nInit : form === 'leadsTo' ? (f & P) !== 0 : true;
      if (sd) {
        flags[u] = f | IN_REGION;
        ab.b[tail++] = u;
      }
    }
    if (tail === 0) continue;
    for (let h = 0; h < tail; h++) {
      const u = ab.b[h] as number;
      for (let j = nd.first(u), e = nd.end(u); j < e; j++) {
        const x = nd.target(j, u);
        const f = flags[x] as number;
        if (f & (IN_REGION | Q)) continue;
        flags[x] = f | IN_REGION;
        ab.b[tail++] = x;
      }
    }
    for (let u = 0; u < A.n; u++) if ((flags[u] as number) & IN_REGION && nd.first(u) === nd.end(u)) return { violated: true, bytes };
    const comps = findFairComponents(A, flags, fair.groups, tok, ab, threads, take);
    bytes = Math.max(bytes, flags.byteLength + tok.byteLength + ab.bytes + comps.frameBytes);
    for (let u = 0; u < A.n; u++) if ((flags[u] as number) & FAIR) return { violated: true, bytes };
  }
  return { violated: false, bytes };
}
