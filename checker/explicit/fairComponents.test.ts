/**
 * `findFairComponents` on its own, against a brute-force oracle on random labelled graphs. Why this
 * test exists: fairCycles.test.ts compares the liveness verdicts, which depend only on whether some
 * fair component is reachable; this compares the components themselves, state by state: a state
 * is marked fair exactly when it lies on a fair cycle inside the region, and two fair states share
 * a component token exactly when one cycle through both is fair, and no other state carries a fair
 * component's token (the lasso search walks a component by its token). It also covers what the verdict
 * tests cannot see: states outside the region, several rule instances in one fairness group, a
 * group that is weak in one graph and strong in the next, and self-loops.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EdgeGraph, FAIR, type FairnessGroups, IN_REGION, LazyBuffers, STRONG, type TakeArray, WEAK, findFairComponents } from './fairCycles.js';

interface Edge {
  readonly from: number;
  readonly to: number;
  readonly label: number;
}

interface Case {
  readonly n: number;
  readonly edges: readonly Edge[];
  readonly inRegion: readonly boolean[];
  /** Group of each rule instance (label), -1 for none. */
  readonly groupOf: readonly number[];
  readonly kind: readonly (1 | 2)[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({ n: fc.integer({ min: 1, max: 7 }), labels: fc.integer({ min: 1, max: 4 }), groups: fc.integer({ min: 0, max: 3 }) })
  .chain(({ n, labels, groups }) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(
        fc.record({ from: fc.integer({ min: 0, max: n - 1 }), to: fc.integer({ min: 0, max: n - 1 }), label: fc.integer({ min: 0, max: labels - 1 }) }),
        { maxLength: 3 * n },
      ),
      inRegion: fc.array(
        fc.integer({ min: 0, max: 4 }).map((x) => x > 0),
        { minLength: n, maxLength: n },
      ),
      groupOf: fc.array(fc.integer({ min: -1, max: groups - 1 }), { minLength: labels, maxLength: labels }),
      kind: fc.array(fc.constantFrom<1 | 2>(WEAK, STRONG), { minLength: groups, maxLength: groups }),
    }),
  );

/** The graph in the CSR form the search reads (edges sorted by source; duplicates kept). */
function graphOf(c: Case): EdgeGraph {
  const sorted = [...c.edges].sort((a, b) => a.from - b.from);
  const offsets = new Uint32Array(c.n + 1);
  for (const e of sorted) (offsets[e.from + 1] as number)++;
  for (let v = 0; v < c.n; v++) offsets[v + 1] = (offsets[v + 1] as number) + (offsets[v] as number);
  return {
    n: c.n,
    m: sorted.length,
    offsets,
    targets: Uint32Array.from(sorted, (e) => e.to),
    labels: Uint32Array.from(sorted, (e) => e.label),
  };
}

/** Whether the states `S` (a bit mask) form a fair cycle: strongly connected through internal edges (one at least), every group met. */
function fairSet(c: Case, S: number): boolean {
  const inS = (v: number) => (S >> v) & 1;
  const internal = c.edges.filter((e) => inS(e.from) && inS(e.to));
  if (internal.length === 0) return false;
  const members = Array.from({ length: c.n }, (_, v) => v).filter(inS);
  const reach = (from: number) => {
    let seen = 1 << from;
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of internal)
        if ((seen >> e.from) & 1 && !((seen >> e.to) & 1)) {
          seen |= 1 << e.to;
          changed = true;
        }
    }
    return seen;
  };
  if (!members.every((v) => reach(v) === S)) return false;
  return c.kind.every((k, g) => {
    if (internal.some((e) => c.groupOf[e.label] === g)) return true;
    const enabledIn = members.filter((v) => c.edges.some((e) => e.from === v && c.groupOf[e.label] === g));
    return k === WEAK ? enabledIn.length < members.length : enabledIn.length === 0;
  });
}

describe('fair components against a brute force over every set of states', () => {
  it('a state is fair iff it lies on a fair cycle in the region; fair states share a token iff one fair cycle holds both', () => {
    let fairSeen = 0;
    let unfairCycles = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const groups: FairnessGroups = { groupOf: Int32Array.from(c.groupOf), kind: Uint8Array.from(c.kind), count: c.kind.length };
        const flags = Uint8Array.from(c.inRegion, (b) => (b ? IN_REGION : 0));
        const found = findFairComponents(graphOf(c), flags, groups, new Int32Array(c.n), new LazyBuffers(c.n));
        const r = { ...found, fair: Array.from(flags, (f) => (f & FAIR ? 1 : 0)) };
        const regionMask = c.inRegion.reduce((m, b, v) => (b ? m | (1 << v) : m), 0);
        const fairSets: number[] = [];
        for (let S = 1; S < 1 << c.n; S++) {
          if ((S & regionMask) !== S) continue;
          if (fairSet(c, S)) fairSets.push(S);
          else if (c.edges.some((e) => (S >> e.from) & 1 && (S >> e.to) & 1)) unfairCycles++;
        }
        const onFair = (v: number) => fairSets.some((S) => (S >> v) & 1);
        for (let v = 0; v < c.n; v++) expect([v, r.fair[v]]).toEqual([v, onFair(v) ? 1 : 0]);
        for (let u = 0; u < c.n; u++)
          for (let v = 0; v < c.n; v++) {
            if (!r.fair[u] || !r.fair[v]) continue;
            const together = fairSets.some((S) => (S >> u) & 1 && (S >> v) & 1);
            expect([u, v, r.tok[u] === r.tok[v]]).toEqual([u, v, together]);
          }
        // No other state carries a fair component's token (the lasso search walks a component by its token).
        const fairToks = new Set(
          Array.from({ length: c.n }, (_, v) => v)
            .filter((v) => r.fair[v])
            .map((v) => r.tok[v]),
        );
        for (let v = 0; v < c.n; v++) if (!r.fair[v]) expect([v, fairToks.has(r.tok[v] as number)]).toEqual([v, false]);
        // Each fair component is counted once.
        expect(r.count).toBe(
          new Set(
            Array.from({ length: c.n }, (_, v) => v)
              .filter((v) => r.fair[v])
              .map((v) => r.tok[v]),
          ).size,
        );
        fairSeen += r.count;
      }),
      { numRuns: 1500, seed: 20261205 },
    );
    // The generator must give both fair components and cycles that fairness rules out.
    expect(fairSeen).toBeGreaterThan(300);
    expect(unfairCycles).toBeGreaterThan(300);
  });
});

describe('many sets pending at once', () => {
  // K components a_i <-> b_i <-> c_i (label 0), and a_i -> x (label 1, a strong requirement; x outside the region): one split
  // finds all K, each drops a_i (the requirement is enabled there and never taken inside) and leaves {b_i, c_i} to refine
  // again, K sets pending at once (four entries each: 800 for K = 200, past the 256 first taken).
  const K = 200;
  const x = 3 * K;
  const edges: Edge[] = [];
  for (let i = 0; i < K; i++) {
    const [a, b, c] = [3 * i, 3 * i + 1, 3 * i + 2];
    edges.push(
      { from: a, to: b, label: 0 },
      { from: b, to: a, label: 0 },
      { from: b, to: c, label: 0 },
      { from: c, to: b, label: 0 },
      { from: a, to: x, label: 1 },
    );
  }
  const c: Case = { n: x + 1, edges, inRegion: Array.from({ length: x + 1 }, (_, v) => v < x), groupOf: [-1, 0], kind: [STRONG] };
  const groups: FairnessGroups = { groupOf: Int32Array.from(c.groupOf), kind: Uint8Array.from(c.kind), count: 1 };

  it('every b_i, c_i is a fair component of its own, no a_i is fair, and the pending sets were taken as asked', () => {
    const flags = Uint8Array.from(c.inRegion, (b) => (b ? IN_REGION : 0));
    const asked: string[] = [];
    const take: TakeArray = (bytes, what, make) => {
      asked.push(`${what} ${bytes}`);
      return make();
    };
    const r = findFairComponents(graphOf(c), flags, groups, new Int32Array(c.n), new LazyBuffers(c.n, take), null, take);
    const fair = Array.from(flags, (f) => (f & FAIR ? 1 : 0));
    const wrong = Array.from({ length: K }, (_, i) => i).filter(
      (i) => fair[3 * i] !== 0 || fair[3 * i + 1] !== 1 || fair[3 * i + 2] !== 1 || r.tok[3 * i + 1] !== r.tok[3 * i + 2],
    );
    expect([r.count, wrong, new Set(Array.from({ length: K }, (_, i) => r.tok[3 * i + 1])).size, fair[x]]).toEqual([K, [], K, 0]);
    // The member lists (4 bytes a state), the second taken once the first sets are refined again; the pending sets grown by
    // half from 256 entries: 384, 576, 864.
    expect(asked.filter((a) => a.includes('member list'))).toEqual([
      `the fair-cycle search's member list ${4 * c.n}`,
      `the fair-cycle search's second member list ${4 * c.n}`,
    ]);
    // The bytes it reports besides the caller's arrays: the frames (two arrays of 1,024 entries: the walks here are shallow)
    // and the pending sets at their largest (864 entries).
    expect(r.frameBytes).toBe(2 * 4 * 1024 + 4 * 864);
    expect(asked.filter((a) => a.startsWith("the fair-cycle search's pending sets"))).toEqual([
      "the fair-cycle search's pending sets 1536",
      "the fair-cycle search's pending sets 2304",
      "the fair-cycle search's pending sets 3456",
    ]);
  });

  it('pending sets that cannot grow: the refusal of take passes through, unchanged', () => {
    const flags = Uint8Array.from(c.inRegion, (b) => (b ? IN_REGION : 0));
    const refusal = new Error('refused');
    const take: TakeArray = (_bytes, what, make) => {
      if (what.includes('pending sets')) throw refusal;
      return make();
    };
    expect(() => findFairComponents(graphOf(c), flags, groups, new Int32Array(c.n), new LazyBuffers(c.n), null, take)).toThrow(refusal);
  });
});
