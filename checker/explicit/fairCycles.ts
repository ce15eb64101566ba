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
 *
 * Memory (the liveness check's budget is 64 bytes a state, graph included): the component token
 * of each state (4 bytes) doubles as Tarjan's index while the state is on the stack (a negative
 * value), lowlinks live only in the frames of the depth-first walk (which grow as deep as it goes),
 * and the members of the sets being refined move between two arrays of one index a state: a split
 * reads the set from one and writes its components into the same range of the other, with the
 * Tarjan stack growing down from the end of that range (a state is on the stack or in a finished
 * component, never both). About 12 bytes a state plus the walk's frames, and the caller lends the
 * two arrays (the BFS searches reuse them afterwards).
 */
/** What the search reads of a graph: CSR edges with a rule instance each (the state graph, or the annotated quotient's product with a tracked value). */
export interface EdgeGraph {
  readonly n: number;
  readonly m: number;
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
  readonly labels: Uint8Array | Uint16Array | Uint32Array;
  /**
   * A product with a tracked value, without copying the edges (annotatedQuotient.ts): node u is
   * (state ⌊u / N⌋, value u mod N); its edges are the state's, and edge e from (c, j) goes to
   * (targets[e], tmap[ann[e] * N + j]). `n` then counts nodes; `offsets` stays per state.
   */
  readonly track?: { readonly N: number; readonly tmap: Int32Array; readonly ann: Uint8Array | Uint16Array } | null;
}

/** A view of an edge graph by node: its edge range and each edge's target node. */
export class Nodes {
  readonly N: number;
  private readonly tmap: Int32Array | null;
  private readonly tann: Uint8Array | Uint16Array | null;
  constructor(readonly g: EdgeGraph) {
    this.N = g.track?.N ?? 1;
    this.tmap = g.track?.tmap ?? null;
    this.tann = g.track?.ann ?? null;
  }
  /** First edge of node u. */
  first(u: number): number {
    return this.g.offsets[this.N === 1 ? u : (u / this.N) | 0] as number;
  }
  /** End of node u's edges. */
  end(u: number): number {
    return this.g.offsets[(this.N === 1 ? u : (u / this.N) | 0) + 1] as number;
  }
  /** Target node of edge e taken from node u. */
  target(e: number, u: number): number {
    const t = this.g.targets[e] as number;
    if (this.tmap === null) return t;
    const N = this.N;
    return t * N + (this.tmap[((this.tann as Uint8Array | Uint16Array)[e] as number) * N + (u - ((u / N) | 0) * N)] as number);
  }
}

/**
 * Fairness requirements per instance that the permutations of an annotated quotient rename
 * (annotatedQuotient.ts): their instances are left out of `FairnessGroups` and followed along
 * each component by threads instead.
 */
export interface Threads {
  /** Per edge, the index of its permutation. */
  readonly ann: Uint8Array | Uint16Array;
  /** Per permutation, the instance each instance becomes. */
  readonly instMap: readonly Int32Array[];
  /** The orbits of the renamed requirements: each a list of instances (one requirement each) that the permutations map among themselves. */
  readonly orbits: readonly Int32Array[];
  /** Per instance: its position in its orbit. */
  readonly posInOrbit: Int32Array;
  /** Per instance: WEAK or STRONG (renamed requirements only). */
  readonly kindOf: Uint8Array;
}

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

/** Bit of the caller's flags: the state is in the region searched. */
export const IN_REGION = 8;
/** Bit of the caller's flags set on every state of a fair component. */
export const FAIR = 16;
/** Bit of the caller's flags: the state is to leave its component (a strong requirement followed by a thread is broken there). */
const DROP = 32;

/** The result: `flags[v] & FAIR` on every state of a fair component; `tok[v]` names its component. */
export interface FairComponents {
  readonly tok: Int32Array;
  /** Number of fair components. */
  readonly count: number;
  /** Most bytes of the depth-first walk's frames (the other arrays are the caller's). */
  readonly frameBytes: number;
}

/**
 * The two member arrays of the refinement, n entries each: the second is needed for every split
 * (components and the Tarjan stack), the first only once a component is refined again (a strong
 * requirement broken in it), so it is made on demand.
 */
export interface MemberBuffers {
  /** `get(1)` always exists; `get(0)` is made the first time it is asked for. */
  get(i: number): Uint32Array;
}

/**
 * How the analysis takes an array of a size that grows with the graph: `make()`, which allocates
 * about `bytes` bytes for `what`. The liveness check passes one that refuses past the search's
 * memory limit (storeMemory.ts `allocate`, throwing `StoreFullError`), so that an analysis that
 * does not fit ends as a limit, not as a process the kernel kills.
 */
export type TakeArray = <T>(bytes: number, what: string, make: () => T) => T;

/** A `TakeArray` without a limit. */
export const takeFreely: TakeArray = (_bytes, _what, make) => make();

/** Member arrays of n entries: the second made at once, the first when first asked for. */
export class LazyBuffers implements MemberBuffers {
  private a: Uint32Array | null = null;
  readonly b: Uint32Array;
  constructor(
    private readonly n: number,
    private readonly take: TakeArray = takeFreely,
  ) {
    this.b = take(4 * n, "the fair-cycle search's member list", () => new Uint32Array(n));
  }
  get(i: number): Uint32Array {
    if (i === 1) return this.b;
    this.a ??= this.take(4 * this.n, "the fair-cycle search's second member list", () => new Uint32Array(this.n));
    return this.a;
  }
  /** Bytes of the arrays made so far. */
  get bytes(): number {
    return this.b.byteLength + (this.a?.byteLength ?? 0);
  }
}

/** The arrays of one state a caller of `findFairComponents` lends it: the flags, the component tokens and the member lists. */
export interface RegionArrays {
  readonly flags: Uint8Array;
  readonly tok: Int32Array;
  readonly members: LazyBuffers;
}

/** `RegionArrays` of `n` states, taken with `take` (flags, then tokens, then the first member list). */
export function takeRegionArrays(n: number, take: TakeArray): RegionArrays {
  return {
    flags: take(n, "the fair-cycle search's flags", () => new Uint8Array(n)),
    tok: take(4 * n, "the fair-cycle search's component tokens", () => new Int32Array(n)),
    members: new LazyBuffers(n, take),
  };
}

/**
 * The refinement's pending sets, each a quadruple (first member, end, token, which member array + 1),
 * in a typed array grown by half through `take`. The sets pending at once have disjoint member
 * ranges, so there are at most as many as states: a JavaScript array of them could pass V8's
 * largest array (about 112 M entries) on a graph of tens of millions of states.
 */
class WorkStack {
  private a = new Uint32Array(256);
  private top = 0;
  constructor(private readonly take: TakeArray) {}

  /** Whether no set is pending. */
  get empty(): boolean {
    return this.top === 0;
  }

  get bytes(): number {
    return this.a.byteLength;
  }

  push(first: number, end: number, token: number, which: number): void {
    if (this.top + 4 > this.a.length) {
      const size = Math.ceil(this.a.length * 1.5);
      const b = this.take(4 * size, "the fair-cycle search's pending sets", () => new Uint32Array(size));
      b.set(this.a);
      this.a = b;
    }
    const { a, top } = this;
    a[top] = first;
    a[top + 1] = end;
    a[top + 2] = token;
    a[top + 3] = which + 1;
    this.top = top + 4;
  }

  /** Removes the last set; its fields are then read with `field(0..3)` until the next push. */
  pop(): void {
    this.top -= 4;
  }

  /** Field k of the set last popped: 0 first member, 1 end, 2 token, 3 which member array (-1: none). */
  field(k: number): number {
    const x = this.a[this.top + k] as number;
    return k === 3 ? x - 1 : x;
  }
}

/** Token of a state on the Tarjan stack with index i (tokens of sets are >= 0; -1 is outside every set). */
const onStackTok = (i: number): number => -2 - i;
/** A frame's root bit (top bit of its edge cursor: edge indices stay below 2^31). */
const ROOT_BIT = 0x80000000;
const EDGE_MASK = 0x7fffffff;

/** Arrays of the refinement. */
class Refinement {
  // Frames of the depth-first walk: node, next edge, lowlink.
  private fNode = new Uint32Array(1024);
  private fEdge = new Uint32Array(1024);
  // Per fairness group, for the analysis of one component.
  private readonly gRound: Int32Array;
  private readonly gLast: Int32Array;
  private readonly gEnabled: Uint32Array;
  private readonly gTaken: Uint8Array;
  private readonly gBad: Int32Array;
  private readonly touched: Int32Array;
  /** Work items: quadruples (first member, end, token, which member array; -1: the states with the token, in id order). */
  private readonly work: WorkStack;
  private nextTok = 1;
  private round = 0;
  private counter = 0;
  /** The member array the current split writes. */
  private outBuf = 1;
  private readonly nodes: Nodes;
  fairCount = 0;

  constructor(
    private readonly g: EdgeGraph,
    private readonly flags: Uint8Array,
    private readonly groups: FairnessGroups,
    readonly tok: Int32Array,
    private readonly bufs: MemberBuffers,
    private readonly threads: Threads | null = null,
    private readonly take: TakeArray = takeFreely,
  ) {
    this.nodes = new Nodes(g);
    this.work = new WorkStack(take);
    const { n } = g;
    if (g.m >= EDGE_MASK) throw new Error(`internal: ${g.m} edges are more than the fair-cycle search can number (2^31)`);
    let size = 0;
    for (let v = 0; v < n; v++) {
      if ((flags[v] as number) & IN_REGION) {
        size++;
        tok[v] = 0;
      } else tok[v] = -1;
    }
    const G = groups.count;
    this.gRound = new Int32Array(G).fill(-1);
    this.gLast = new Int32Array(G);
    this.gEnabled = new Uint32Array(G);
    this.gTaken = new Uint8Array(G);
    this.gBad = new Int32Array(G).fill(-1);
    this.touched = new Int32Array(G);
    // The whole region, read from the tokens (no member list: which = -1).
    this.work.push(0, size, 0, -1);
  }

  /** Bytes of the frames, the pending sets and the thread search. */
  get frameBytes(): number {
    return (
      this.fNode.byteLength + this.fEdge.byteLength + this.work.bytes + (this.tMask ? this.tMask.byteLength + this.qNode.byteLength + this.qPos.byteLength : 0)
    );
  }

  /** Refines until no work is left: split each set into SCCs, then analyse each SCC. */
  run(): void {
    const { work } = this;
    while (!work.empty) {
      work.pop();
      const a = work.field(0);
      const b = work.field(1);
      const T = work.field(2);
      const which = work.field(3);
      const out = which === 1 ? 0 : 1;
      this.splitIntoSccs(a, b, T, which, out);
    }
  }

  private selfLoop(v: number): boolean {
    const nd = this.nodes;
    for (let j = nd.first(v), e = nd.end(v); j < e; j++) if (nd.target(j, v) === v) return true;
    return false;
  }

  /**
   * Step 1: Tarjan over the members src[a..b) with token T. Each SCC with an internal edge gets a
   * fresh token and is written to dst, from a on, and analysed at once (steps 2-4: its range is
   * final, and the analysis reads only its own tokens, which no open state shares); the others
   * leave the sets (token -1). The Tarjan stack grows down from dst[b - 1].
   */
  private splitIntoSccs(a: number, b: number, T: number, which: number, out: number): void {
    const dst = this.bufs.get(out);
    this.outBuf = out;
    const { tok } = this;
    const st = { out: a, sp: b, end: b };
    this.counter = 0;
    if (which < 0) {
      for (let r = 0, n = this.g.n; r < n; r++) if (tok[r] === T) this.strongConnect(r, T, dst, st);
      return;
    }
    const src = this.bufs.get(which);
    for (let i = a; i < b; i++) {
      const r = src[i] as number;
      if (tok[r] === T) this.strongConnect(r, T, dst, st);
    }
  }

  private growFrames(): void {
    const size = Math.ceil(this.fNode.length * 1.5);
    const [node, edge] = this.take(8 * size, "the fair-cycle search's depth-first frames", () => [new Uint32Array(size), new Uint32Array(size)]);
    node.set(this.fNode);
    edge.set(this.fEdge);
    this.fNode = node;
    this.fEdge = edge;
  }

  /** Opens state v in frame cp (its rindex is the next index); returns the new frame count. */
  private open(v: number, cp: number): number {
    if (cp === this.fNode.length) this.growFrames();
    this.tok[v] = onStackTok(this.counter++);
    this.fNode[cp] = v;
    this.fEdge[cp] = (this.nodes.first(v) | ROOT_BIT) >>> 0;
    return cp + 1;
  }

  /**
   * Iterative depth-first walk from `r` finding SCCs, in Pearce's form of Tarjan's algorithm: one
   * number a state (its "rindex": the visit index, lowered to the smallest index it reaches on the
   * stack), kept in its token while the state is open, and a root bit in its frame instead of a
   * lowlink. A state is pushed on the component stack only when it turns out not to be a root.
   */
  private strongConnect(r: number, T: number, dst: Uint32Array, st: { out: number; sp: number; end: number }): void {
    const nd = this.nodes;
    const { tok } = this;
    let cp = this.open(r, 0);
    while (cp > 0) {
      const f = cp - 1;
      const v = this.fNode[f] as number;
      const fe = this.fEdge[f] as number;
      const ej = (fe & EDGE_MASK) >>> 0;
      if (ej < nd.end(v)) {
        this.fEdge[f] = fe + 1;
        const w = nd.target(ej, v);
        const t = tok[w] as number;
        if (t === T) cp = this.open(w, cp);
        else if (t <= -2 && t > (tok[v] as number)) {
          // w is open with a smaller rindex (tokens of open states are -2 - rindex).
          tok[v] = t;
          this.fEdge[f] = ((fe + 1) & EDGE_MASK) >>> 0;
        }
        continue;
      }
      cp--;
      const isRoot = (fe & ROOT_BIT) !== 0;
      if (isRoot) this.popScc(v, dst, st);
      else dst[--st.sp] = v;
      if (cp > 0) {
        // Back in the parent u: the child's rindex lowers u's when smaller (still open: not a root).
        const u = this.fNode[cp - 1] as number;
        const tv = tok[v] as number;
        if (tv <= -2 && tv > (tok[u] as number)) {
          tok[u] = tv;
          this.fEdge[cp - 1] = ((this.fEdge[cp - 1] as number) & EDGE_MASK) >>> 0;
        }
      }
    }
  }

  /** Closes the SCC of the root `v`: v and the states above it on the component stack whose rindex is not below v's. */
  private popScc(v: number, dst: Uint32Array, st: { out: number; sp: number; end: number }): void {
    const { tok } = this;
    const tv = tok[v] as number;
    const cs = st.out;
    dst[st.out++] = v;
    tok[v] = -1;
    while (st.sp < st.end && (tok[dst[st.sp] as number] as number) <= tv) {
      const w = dst[st.sp++] as number;
      dst[st.out++] = w;
      tok[w] = -1;
    }
    if (st.out - cs === 1 && !this.selfLoop(v)) {
      st.out = cs;
      return;
    }
    const T2 = this.nextTok++;
    for (let k = cs; k < st.out; k++) tok[dst[k] as number] = T2;
    this.analyse(cs, st.out, T2, this.outBuf);
  }

  /** Counts, per fairness group, the states of members[s..e) where it is enabled, and whether it is taken inside. */
  private countGroups(members: Uint32Array, s: number, e: number, T: number): number {
    const { labels } = this.g;
    const nd = this.nodes;
    const { groupOf } = this.groups;
    const { gRound, gEnabled, gTaken, gLast, touched, tok } = this;
    const round = ++this.round;
    let nt = 0;
    for (let k = s; k < e; k++) {
      const v = members[k] as number;
      for (let j = nd.first(v), je = nd.end(v); j < je; j++) {
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
        if (tok[nd.target(j, v)] === T) gTaken[grp] = 1;
      }
    }
    return nt;
  }

  /** Steps 2-4 for the component members[s..e) (in bufs[which]) with token T. */
  private analyse(s: number, e: number, T: number, which: number): void {
    const { kind } = this.groups;
    const { gTaken, gEnabled, gBad, touched, tok, flags } = this;
    const members = this.bufs.get(which);
    const nt = this.countGroups(members, s, e, T);
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
    if (this.threads) {
      const t = this.followThreads(members, s, T);
      if (t < 0) {
        for (let k = s; k < e; k++) {
          const v = members[k] as number;
          tok[v] = -1;
          flags[v] = (flags[v] as number) & ~DROP;
        }
        return;
      }
      bad += t;
    }
    if (bad === 0) {
      for (let k = s; k < e; k++) flags[members[k] as number] = (flags[members[k] as number] as number) | FAIR;
      this.fairCount++;
      return;
    }
    this.dropStronglyUnfair(members, s, e, T, which);
  }

  // Thread search arrays: visited positions of each state (a bit per orbit position), and the queue of (state, position) pairs.
  private tMask: Uint8Array | Uint16Array | Uint32Array | null = null;
  private qNode = new Uint32Array(1024);
  private qPos = new Uint8Array(1024);

  /**
   * The renamed requirements on the component of members[s] (token T): for each requirement F of each
   * orbit, the thread of F from the component's first state (the pairs (state, what F is called
   * there) reached inside the component) says whether F is enabled in every state of the
   * concrete component, in some, and taken inside it. Returns -1 when a weak F is enabled
   * everywhere and never taken (no fair cycle), else the number of strong F broken, whose states
   * (those where F, under its name there, is enabled) get DROP.
   */
  private followThreads(members: Uint32Array, s: number, T: number): number {
    const th = this.threads as Threads;
    const { labels } = this.g;
    const nd = this.nodes;
    const { tok, flags } = this;
    if (!this.tMask) {
      // A bit per position of the largest orbit, in the narrowest array.
      const widest = th.orbits.reduce((a, o) => Math.max(a, o.length), 1);
      const n = this.g.n;
      const width = widest <= 8 ? 1 : widest <= 16 ? 2 : 4;
      this.tMask = this.take(width * n, "the fair-cycle search's thread marks", () =>
        width === 1 ? new Uint8Array(n) : width === 2 ? new Uint16Array(n) : new Uint32Array(n),
      );
    }
    const mask = this.tMask;
    const u0 = members[s] as number;
    let bad = 0;
    const enabledAt = (u: number, k: number) => {
      for (let j = nd.first(u), je = nd.end(u); j < je; j++) if (labels[j] === k) return true;
      return false;
    };
    for (const orbit of th.orbits) {
      for (let a = 0; a < orbit.length; a++) {
        let qt = 0;
        const push = (u: number, i: number) => {
          if ((mask[u] as number) & (1 << i)) return;
          mask[u] = (mask[u] as number) | (1 << i);
          if (qt === this.qNode.length) {
            const [n2, p2] = this.take(5 * qt * 2, "the fair-cycle search's thread queue", () => [new Uint32Array(qt * 2), new Uint8Array(qt * 2)] as const);
            n2.set(this.qNode);
            this.qNode = n2;
            p2.set(this.qPos);
            this.qPos = p2;
          }
          this.qNode[qt] = u;
          this.qPos[qt] = i;
          qt++;
        };
        push(u0, a);
        let all = true;
        let some = false;
        let taken = false;
        for (let h = 0; h < qt; h++) {
          const u = this.qNode[h] as number;
          const k = orbit[this.qPos[h] as number] as number;
          let en = false;
          for (let j = nd.first(u), je = nd.end(u); j < je; j++) {
            const isK = labels[j] === k;
            if (isK) en = true;
            const w = nd.target(j, u);
            if (tok[w] !== T) continue;
            if (isK) taken = true;
            push(w, th.posInOrbit[(th.instMap[th.ann[j] as number] as Int32Array)[k] as number] as number);
          }
          if (en) some = true;
          else all = false;
        }
        const kind = th.kindOf[orbit[a] as number];
        if (!taken && kind === WEAK && all) {
          for (let h = 0; h < qt; h++) mask[this.qNode[h] as number] = 0;
          return -1;
        }
        if (!taken && kind === STRONG && some) {
          bad++;
          for (let h = 0; h < qt; h++) {
            const u = this.qNode[h] as number;
            if (enabledAt(u, orbit[this.qPos[h] as number] as number)) flags[u] = (flags[u] as number) | DROP;
          }
        }
        for (let h = 0; h < qt; h++) mask[this.qNode[h] as number] = 0;
      }
    }
    return bad;
  }

  /** Step 3: removes the states where a strong requirement never taken in the component is enabled; refines the rest. */
  private dropStronglyUnfair(members: Uint32Array, s: number, e: number, T: number, which: number): void {
    const { labels } = this.g;
    const nd = this.nodes;
    const { groupOf } = this.groups;
    const { tok, gBad, round } = this;
    let w = s;
    const { flags } = this;
    for (let k = s; k < e; k++) {
      const v = members[k] as number;
      let drop = ((flags[v] as number) & DROP) !== 0;
      flags[v] = (flags[v] as number) & ~DROP;
      for (let j = nd.first(v), je = nd.end(v); j < je && !drop; j++) {
        const grp = groupOf[labels[j] as number] as number;
        if (grp >= 0 && gBad[grp] === round) drop = true;
      }
      if (drop) tok[v] = -1;
      else members[w++] = v;
    }
    if (w > s) this.work.push(s, w, T, which);
  }
}

/**
 * Finds every fair component of the subgraph induced by the states with `flags[v] & IN_REGION`,
 * and sets `FAIR` in their flags. Components are maximal among the refined sets, and each is
 * strongly connected with at least one internal edge. `tok` (n entries) receives the component
 * tokens; `bufs` lends the member arrays.
 */
export function findFairComponents(
  g: EdgeGraph,
  flags: Uint8Array,
  groups: FairnessGroups,
  tok: Int32Array,
  bufs: MemberBuffers,
  threads: Threads | null = null,
  take: TakeArray = takeFreely,
): FairComponents {
  const r = new Refinement(g, flags, groups, tok, bufs, threads, take);
  r.run();
  return { tok, count: r.fairCount, frameBytes: r.frameBytes };
}
