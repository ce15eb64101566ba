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
import { type EdgeGraph, FAIR, type FairnessGroups, IN_REGION, LazyBuffers, STRONG, WEAK, findFairComponents } from './fairCycles.js';

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
