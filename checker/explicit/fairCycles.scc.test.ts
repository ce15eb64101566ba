/**
 * The fair-cycle search's split into strongly connected components, against reachability computed
 * the slow way, on random graphs larger than the liveness tests' (whose models have a handful of
 * states): with no fairness requirement every component with a cycle is fair, so `FAIR` must mark
 * exactly the region's states on a cycle inside the region, and two of them must share a token
 * exactly when each reaches the other inside the region.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAIR, IN_REGION, LazyBuffers, findFairComponents } from './fairCycles.js';
import type { StateGraph } from './graph.js';

/** A graph with only the fields the search reads. */
function graphOf(n: number, succ: readonly number[][]): StateGraph {
  const offsets = new Uint32Array(n + 1);
  const targets: number[] = [];
  succ.forEach((ws, v) => {
    targets.push(...ws);
    offsets[v + 1] = targets.length;
  });
  return { n, m: targets.length, offsets, targets: Uint32Array.from(targets), labels: new Uint8Array(targets.length) } as unknown as StateGraph;
}

/** reach[v][w]: w reachable from v by one or more edges inside the region. */
function closure(n: number, succ: readonly number[][], inR: readonly boolean[]): boolean[][] {
  const reach = Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
  for (let v = 0; v < n; v++) {
    if (!inR[v]) continue;
    const stack = succ[v]!.filter((w) => inR[w]);
    while (stack.length) {
      const w = stack.pop()!;
      if (reach[v]![w]) continue;
      reach[v]![w] = true;
      for (const x of succ[w]!) if (inR[x]) stack.push(x);
    }
  }
  return reach;
}

const graphArb = fc.integer({ min: 1, max: 120 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    succ: fc.array(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n }),
    inR: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
  }),
);

describe('strongly connected components of the fair-cycle search', () => {
  it('mark exactly the states on a cycle of the region, one token per component', () => {
    fc.assert(
      fc.property(graphArb, ({ n, succ, inR }) => {
        const g = graphOf(n, succ);
        const flags = Uint8Array.from(inR, (b) => (b ? IN_REGION : 0));
        const tok = new Int32Array(n);
        const comps = findFairComponents(g, flags, { groupOf: new Int32Array(0), kind: new Uint8Array(0), count: 0 }, tok, new LazyBuffers(n));
        const reach = closure(n, succ, inR);
        const fair = Array.from(flags, (f) => (f & FAIR) !== 0);
        expect(fair).toEqual(Array.from({ length: n }, (_, v) => reach[v]![v]!));
        for (let v = 0; v < n; v++) for (let w = 0; w < n; w++) if (fair[v] && fair[w]) expect(tok[v] === tok[w]).toBe(reach[v]![w]! && reach[w]![v]!);
        expect(comps.count).toBe(new Set(Array.from(tok).filter((_, v) => fair[v])).size);
      }),
      { numRuns: 300 },
    );
  });
});
