/**
 * Fair strongly connected components of a region of the state graph. Why this module exists: a
 * liveness property fails exactly when the region where its goal never holds contains a cycle
 * that every fairness requirement accepts (or a state with no successor). This finds all such
 * cycles at once, as the standard Streett / Emerson-Lei refinement does:
 *
 * 1. split the region into SCCs (iterative Tarjan over typed arrays; no recursion, no object per
 *    state); an SCC without an internal edge holds no cycle and is dropped;
 * 2. in an SCC C, a weak requirement that is enabled in every state of C and taken on no edge
 *    inside C is broken by every cycle of C: C is dropped;
 * 3. a strong requirement enabled somewhere in C but taken on no edge inside C is broken by every
 *    cycle through a state where it is enabled: those states are removed and the rest of C is
 *    split again (back to 1);
 * 4. otherwise C is fair: one cycle through every state and every edge of C meets every
 *    requirement (a weak one is taken or, not being enabled everywhere, is disabled somewhere).
 *
 * Every state is processed once per refinement level, and the sets refined form a laminar family,
 * so the work is O((n + m) * levels).
 */
import type { StateGraph } from './graph.js';

/** Fairness requirements in array form: a group id per rule instance and a kind per group. */
export interface FairnessGroups {
  /** Group of each rule instance, or -1 when the instance is in no fairness requirement. */
  readonly groupOf: Int32Array;
  /** Per group: 1 weak, 2 strong. */
  readonly kind: Uint8Array;
  readonly count: number;
}

export const WEAK = 1;
export const STRONG = 2;

/** The result: every state in a fair component has `fair[v] = 1`; `tok[v]` names its component. */
export interface FairComponents {
  readonly fair: Uint8Array;
  readonly tok: Int32Array;
  /** Number of fair components. */
  readonly count: number;
  /** Bytes of the arrays used by the search. */
  readonly bytes: number;
}

/** Arrays of the refinement, sized once for the region. */
class Refinement {
  readonly tok: Int32Array;
  readonly fair: Uint8Array;
  /** Members of the sets being refined, grouped: each work item is a range of this array. */
  readonly members: Uint32Array;
  // Iterative Tarjan.
  private readonly index: Int32Array;
  private readonly low: Int32Array;
  private readonly onStack: Uint8Array;
  private readonly sstack: Uint32Array;
  private readonly callNode: Uint32Array;
  private readonly callEdge: Uint32Array;
  private readonly out: Uint32Array;
  // Per fairness group, for the analysis of one component.
  private readonly gRound: Int32Array;
  private readonly gLast: Int32Array;
  private readonly gEnabled: Uint32Array;
  private readonly gTaken: Uint8Array;
  private readonly gBad: Int32Array;
  private readonly touched: Int32Array;
  /** Work items: triples (first member, end, token). */
  private readonly work: number[] = [];
  private nextTok = 1;
  private round = 0;
  fairCount = 0;

  constructor(
    private readonly g: StateGraph,
    inRegion: Uint8Array,
    private readonly groups: FairnessGroups,
  ) {
    const { n } = g;
    this.tok = new Int32Array(n).fill(-1);
    this.fair = new Uint8Array(n);
    let size = 0;
    for (let v = 0; v < n; v++) if (inRegion[v]) size++;
    this.members = new Uint32Array(size);
    for (let v = 0, k = 0; v < n; v++) {
      if (!inRegion[v]) continue;
      this.members[k++] = v;
      this.tok[v] = 0;
    }
    this.index = new Int32Array(n);
    this.low = new Int32Array(n);
    this.onStack = new Uint8Array(n);
    this.sstack = new Uint32Array(size);
    this.callNode = new Uint32Array(size);
    this.callEdge = new Uint32Array(size);
    this.out = new Uint32Array(size);
    const G = groups.count;
    this.gRound = new Int32Array(G).fill(-1);
    this.gLast = new Int32Array(G);
    this.gEnabled = new Uint32Array(G);
    this.gTaken = new Uint8Array(G);
    this.gBad = new Int32Array(G).fill(-1);
    this.touched = new Int32Array(G);
    this.work.push(0, size, 0);
  }

  /** Bytes of the per-state arrays. */
  get bytes(): number {
    return (
      this.tok.byteLength +
      this.fair.byteLength +
      this.members.byteLength +
      this.index.byteLength +
      this.low.byteLength +
      this.onStack.byteLength +
      this.sstack.byteLength +
      this.callNode.byteLength +
      this.callEdge.byteLength +
      this.out.byteLength
    );
  }

  /** Refines until no work is left: split each set into SCCs, then analyse each SCC. */
  run(): void {
    const found: number[] = [];
    while (this.work.length) {
      const T = this.work.pop() as number;
      const b = this.work.pop() as number;
      const a = this.work.pop() as number;
      found.length = 0;
      this.splitIntoSccs(a, b, T, found);
      for (let i = 0; i < found.length; i += 3) this.analyse(found[i] as number, found[i + 1] as number, found[i + 2] as number);
    }
  }

  private selfLoop(v: number): boolean {
    const { offsets, targets } = this.g;
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) if (targets[j] === v) return true;
    return false;
  }

  /**
   * Step 1: Tarjan over the members[a..b) with token T. Each SCC with an internal edge gets a fresh
   * token and is pushed to `found` as a range of members (rewritten in SCC order); the others leave.
   */
  private splitIntoSccs(a: number, b: number, T: number, found: number[]): void {
    const { members, index, tok } = this;
    for (let i = a; i < b; i++) index[members[i] as number] = -1;
    const st = { counter: 0, sp: 0, outLen: 0 };
    for (let i = a; i < b; i++) {
      const r = members[i] as number;
      if (index[r] === -1 && tok[r] === T) this.strongConnect(r, T, a, st, found);
    }
    members.set(this.out.subarray(0, st.outLen), a);
  }

  /** Iterative Tarjan from root `r` (no recursion: deep graphs would overflow the stack). */
  private strongConnect(r: number, T: number, a: number, st: { counter: number; sp: number; outLen: number }, found: number[]): void {
    const { offsets, targets } = this.g;
    const { index, low, onStack, sstack, callNode, callEdge, tok } = this;
    const visit = (v: number) => {
      index[v] = low[v] = st.counter++;
      sstack[st.sp++] = v;
      onStack[v] = 1;
    };
    visit(r);
    let cp = 0;
    callNode[cp] = r;
    callEdge[cp] = offsets[r] as number;
    cp++;
    while (cp > 0) {
      const v = callNode[cp - 1] as number;
      const ej = callEdge[cp - 1] as number;
      if (ej < (offsets[v + 1] as number)) {
        callEdge[cp - 1] = ej + 1;
        const w = targets[ej] as number;
        if (tok[w] !== T) continue;
        if (index[w] === -1) {
          visit(w);
          callNode[cp] = w;
          callEdge[cp] = offsets[w] as number;
          cp++;
        } else if (onStack[w] && (index[w] as number) < (low[v] as number)) {
          low[v] = index[w] as number;
        }
        continue;
      }
      cp--;
      if (cp > 0) {
        const u = callNode[cp - 1] as number;
        if ((low[v] as number) < (low[u] as number)) low[u] = low[v] as number;
      }
      if (low[v] === index[v]) this.popScc(v, a, st, found);
    }
  }

  /** Pops the SCC rooted at `v` off the Tarjan stack; keeps it when it holds a cycle. */
  private popScc(v: number, a: number, st: { sp: number; outLen: number }, found: number[]): void {
    const { sstack, onStack, out, tok } = this;
    const cs = st.outLen;
    let w: number;
    do {
      w = sstack[--st.sp] as number;
      onStack[w] = 0;
      out[st.outLen++] = w;
    } while (w !== v);
    if (st.outLen - cs === 1 && !this.selfLoop(v)) {
      tok[v] = -1;
      st.outLen = cs;
      return;
    }
    const T2 = this.nextTok++;
    for (let k = cs; k < st.outLen; k++) tok[out[k] as number] = T2;
    found.push(a + cs, a + st.outLen, T2);
  }

  /** Counts, per fairness group, the states of members[s..e) where it is enabled, and whether it is taken inside. */
  private countGroups(s: number, e: number, T: number): number {
    const { offsets, targets, labels } = this.g;
    const { groupOf } = this.groups;
    const { gRound, gEnabled, gTaken, gLast, touched, members, tok } = this;
    const round = ++this.round;
    let nt = 0;
    for (let k = s; k < e; k++) {
      const v = members[k] as number;
      for (let j = offsets[v] as number, je = offsets[v + 1] as number; j < je; j++) {
        const grp = groupOf[labels[j] as number] as number;
        if (grp < 0) continue;
        if (gRound[grp] !== round) {
          gRound[grp] = round;
          gEnabled[grp] = 0;
          gTaken[grp] = 0;
          gLast[grp] = -1;
          touched[nt++] = grp;
        }
        if (gLast[grp] !== v) {
          gLast[grp] = v;
          gEnabled[grp] = (gEnabled[grp] as number) + 1;
        }
        if (tok[targets[j] as number] === T) gTaken[grp] = 1;
      }
    }
    return nt;
  }

  /** Steps 2-4 for the component members[s..e) with token T. */
  private analyse(s: number, e: number, T: number): void {
    const { kind } = this.groups;
    const { gTaken, gEnabled, gBad, touched, members, tok, fair } = this;
    const nt = this.countGroups(s, e, T);
    let bad = 0;
    for (let i = 0; i < nt; i++) {
      const grp = touched[i] as number;
      if (gTaken[grp]) continue;
      if (kind[grp] === WEAK && gEnabled[grp] === e - s) {
        for (let k = s; k < e; k++) tok[members[k] as number] = -1;
        return;
      }
      if (kind[grp] === STRONG) {
        gBad[grp] = this.round;
        bad++;
      }
    }
    if (bad === 0) {
      for (let k = s; k < e; k++) fair[members[k] as number] = 1;
      this.fairCount++;
      return;
    }
    this.dropStronglyUnfair(s, e, T);
  }

  /** Step 3: removes the states where a strong requirement never taken in the component is enabled; refines the rest. */
  private dropStronglyUnfair(s: number, e: number, T: number): void {
    const { offsets, labels } = this.g;
    const { groupOf } = this.groups;
    const { members, tok, gBad, round } = this;
    let w = s;
    for (let k = s; k < e; k++) {
      const v = members[k] as number;
      let drop = false;
      for (let j = offsets[v] as number, je = offsets[v + 1] as number; j < je && !drop; j++) {
        const grp = groupOf[labels[j] as number] as number;
        if (grp >= 0 && gBad[grp] === round) drop = true;
      }
      if (drop) tok[v] = -1;
      else members[w++] = v;
    }
    if (w > s) this.work.push(s, w, T);
  }
}

/**
 * Finds every fair component of the subgraph induced by the states with `inRegion[v] = 1`.
 * Components are maximal among the refined sets, and each is strongly connected with at least one
 * internal edge.
 */
export function findFairComponents(g: StateGraph, inRegion: Uint8Array, groups: FairnessGroups): FairComponents {
  const r = new Refinement(g, inRegion, groups);
  r.run();
  return { fair: r.fair, tok: r.tok, count: r.fairCount, bytes: r.bytes };
}
