/**
 * The order in which findings of several threads are merged (expander.ts: `findingKey`,
 * `firstFinding`): the finding a single thread would meet first wins, whatever order the threads
 * report in. A single thread expands states in position order and, within a state, its rule
 * instances in order; a model error while expanding a state ends that state before any of its
 * successors is checked, a deadlock is known only after all of them; an error while building the
 * start states (no position) comes before everything. And `claimChunk`'s stop for want of room:
 * at the state limit of a round, or at the head limit of a collapsed store.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CTRL, CTRL_SIZE, type Expander, type Finding, claimChunk, findingKey, firstFinding } from './expander.js';
import { StateStore } from './stateStore.js';

const finding: fc.Arbitrary<Finding> = fc.oneof(
  fc.record({ kind: fc.constant('invariant' as const), index: fc.nat(3), pos: fc.nat(50), from: fc.nat(6), via: fc.nat(4) }),
  fc.record({ kind: fc.constant('step' as const), index: fc.nat(3), from: fc.nat(6), via: fc.nat(4), state: fc.constant(new Int32Array(1)) }),
  fc.record({ kind: fc.constant('deadlock' as const), pos: fc.nat(6) }),
  fc.record({
    kind: fc.constant('error' as const),
    code: fc.constant('MC011'),
    message: fc.constant(''),
    runtime: fc.boolean(),
    at: fc.option(fc.nat(6), { nil: null }),
  }),
);

/** When a single thread meets a finding: the state being expanded (-1: building the start states), then the moment within that state. */
function met(f: Finding): [number, number] {
  if (f.kind === 'error') return [f.at === null ? -1 : f.at, 0];
  if (f.kind === 'deadlock') return [f.pos, 1_000_000];
  return [f.from, 1 + f.via];
}
const metBefore = (a: Finding, b: Finding) => {
  const [x, y] = met(a);
  const [u, v] = met(b);
  return x < u || (x === u && y < v);
};

describe('merging the findings of several threads', () => {
  it('firstFinding keeps the one a single thread meets first (the first argument on a tie), and either when the other is null', () => {
    fc.assert(
      fc.property(finding, finding, (a, b) => {
        expect(firstFinding(a, b)).toBe(metBefore(b, a) ? b : a);
        expect([firstFinding(a, null), firstFinding(null, b), firstFinding(null, null)]).toEqual([a, b, null]);
      }),
      { numRuns: 2000, seed: 4401 },
    );
  });

  it('folding the findings in any order gives the first in single-thread order', () => {
    fc.assert(
      fc.property(fc.array(finding, { minLength: 1, maxLength: 8 }), fc.nat(), (fs, shift) => {
        const first = fs.reduce((m, f) => (metBefore(f, m) ? f : m));
        const rotated = [...fs.slice(shift % fs.length), ...fs.slice(0, shift % fs.length)];
        const got = rotated.reduce<Finding | null>((m, f) => firstFinding(m, f), null) as Finding;
        expect(met(got)).toEqual(met(first));
      }),
      { numRuns: 1000, seed: 4402 },
    );
  });

  it("findingKey: the state and the rule instance; an error sorts before its state's instances, a deadlock after them", () => {
    expect(findingKey({ kind: 'invariant', index: 0, pos: 9, from: 3, via: 2 })).toEqual([3, 2]);
    expect(findingKey({ kind: 'step', index: 1, from: 4, via: 0, state: new Int32Array(1) })).toEqual([4, 0]);
    expect(findingKey({ kind: 'deadlock', pos: 5 })).toEqual([5, Number.MAX_SAFE_INTEGER]);
    expect(findingKey({ kind: 'error', code: 'MC011', message: '', runtime: true, at: 6 })).toEqual([6, -1]);
    expect(findingKey({ kind: 'error', code: 'MC011', message: '', runtime: true, at: null })).toEqual([-1, -1]);
  });
});

describe('claimChunk: the room reserved for a round of several threads', () => {
  /** A target store of 4-word states collapsed from the start: `states` states sharing `heads` heads. */
  function target(states: number, heads: number): StateStore {
    const store = new StateStore(4, { collapse: true });
    const w = new Uint32Array(4);
    for (let i = 0; i < states; i++) {
      w[0] = i % heads;
      w[3] = i;
      store.insert(w, 0);
    }
    return store;
  }
  /** A control array of a level of 100 positions, claims of 10, and the two limits given. */
  function ctrlWith(limit: number, headLimit: number): Uint32Array {
    const ctrl = new Uint32Array(CTRL_SIZE);
    ctrl[CTRL.end] = 100;
    ctrl[CTRL.chunk] = 10;
    ctrl[CTRL.limit] = limit;
    ctrl[CTRL.headLimit] = headLimit;
    return ctrl;
  }
  const expanded: [number, number][] = [];
  const expander = { finding: null, expandRange: (a: number, b: number) => expanded.push([a, b]) } as unknown as Expander;

  it('claims while the store is under both limits, and stops (need-room, nothing claimed) at the state limit or, for a collapsed store, at the head limit', () => {
    const store = target(50, 5);
    expect([store.count, store.headCount]).toEqual([50, 5]);
    const cases = [
      [51, 6],
      [50, 6],
      [51, 5],
    ].map(([limit, headLimit]) => {
      const ctrl = ctrlWith(limit as number, headLimit as number);
      return [claimChunk(expander, ctrl, store), ctrl[CTRL.need], ctrl[CTRL.cursor]];
    });
    expect(cases).toEqual([
      ['expanded', 0, 10],
      ['need-room', 1, 0],
      ['need-room', 1, 0],
    ]);
    expect(expanded).toEqual([[0, 10]]);
  });
});
