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

/**
 * Finds every fair component of the subgraph induced by the states with `inRegion[v] = 1`.
 * Components are maximal among the refined sets, and each is strongly connected with at least one
 * internal edge.
 */
export function findFairComponents(g: StateGraph, inRegion: Uint8Array, groups: FairnessGroups): FairComponents {
  const { n, offsets, targets, labels } = g;
  const { groupOf, kind } = groups;
  const tok = new Int32Array(n).fill(-1);
  const fair = new Uint8Array(n);
  let size = 0;
  for (let v = 0; v < n; v++) if (inRegion[v]) size++;
  const members = new Uint32Array(size);
  {
    let k = 0;
    for (let v = 0; v < n; v++)
      if (inRegion[v]) {
        members[k++] = v;
        tok[v] = 0;
      }
  }
  const index = new Int32Array(n);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const sstack = new Uint32Array(size);
  const callNode = new Uint32Array(size);
  const callEdge = new Uint32Array(size);
  const out = new Uint32Array(size);
  const G = groups.count;
  const gRound = new Int32Array(G).fill(-1);
  const gLast = new Int32Array(G);
  const gEnabled = new Uint32Array(G);
  const gTaken = new Uint8Array(G);
  const gBad = new Int32Array(G).fill(-1);
  const touched = new Int32Array(G);
  const bytes =
    tok.byteLength +
    fair.byteLength +
    members.byteLength +
    index.byteLength +
    low.byteLength +
    onStack.byteLength +
    sstack.byteLength +
    callNode.byteLength +
    callEdge.byteLength +
    out.byteLength;

  const work: number[] = [0, size, 0];
  let nextTok = 1;
  let round = 0;
  let fairCount = 0;
  const found: number[] = [];

  const selfLoop = (v: number): boolean => {
    for (let j = offsets[v] as number, e = offsets[v + 1] as number; j < e; j++) if (targets[j] === v) return true;
    return false;
  };

  /** Steps 2-4 for the component members[s..e) with token T. */
  const analyse = (s: number, e: number, T: number) => {
    round++;
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
    const compSize = e - s;
    let bad = 0;
    for (let i = 0; i < nt; i++) {
      const grp = touched[i] as number;
      if (gTaken[grp]) continue;
      if (kind[grp] === WEAK && gEnabled[grp] === compSize) {
        for (let k = s; k < e; k++) tok[members[k] as number] = -1;
        return;
      }
      if (kind[grp] === STRONG) {
        gBad[grp] = round;
        bad++;
      }
    }
    if (bad === 0) {
      for (let k = s; k < e; k++) fair[members[k] as number] = 1;
      fairCount++;
      return;
    }
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
    if (w > s) work.push(s, w, T);
  };

  while (work.length) {
    const T = work.pop() as number;
    const b = work.pop() as number;
    const a = work.pop() as number;
    for (let i = a; i < b; i++) index[members[i] as number] = -1;
    let counter = 0;
    let sp = 0;
    let outLen = 0;
    found.length = 0;
    for (let i = a; i < b; i++) {
      const r = members[i] as number;
      if (index[r] !== -1 || tok[r] !== T) continue;
      index[r] = low[r] = counter++;
      sstack[sp++] = r;
      onStack[r] = 1;
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
            index[w] = low[w] = counter++;
            sstack[sp++] = w;
            onStack[w] = 1;
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
        if (low[v] === index[v]) {
          const cs = outLen;
          let w: number;
          do {
            w = sstack[--sp] as number;
            onStack[w] = 0;
            out[outLen++] = w;
          } while (w !== v);
          if (outLen - cs === 1 && !selfLoop(v)) {
            tok[v] = -1;
            outLen = cs;
          } else {
            const T2 = nextTok++;
            for (let k = cs; k < outLen; k++) tok[out[k] as number] = T2;
            found.push(a + cs, a + outLen, T2);
          }
        }
      }
    }
    members.set(out.subarray(0, outLen), a);
    for (let i = 0; i < found.length; i += 3) analyse(found[i] as number, found[i + 1] as number, found[i + 2] as number);
  }
  return { fair, tok, count: fairCount, bytes };
}
