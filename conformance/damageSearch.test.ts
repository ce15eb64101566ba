/**
 * The search for short continuations to damage (damageSearch.ts), on a model of two one-bit
 * counters and a finish step, where every path can be listed by hand.
 */
import { describe, expect, it } from 'vitest';
import { compileModel } from '../model/lang/compile.js';
import { and, eq, not } from '../model/lang/expr.js';
import { buildModel, defineProtocol } from '../model/lang/protocol.js';
import { assign } from '../model/lang/stmt.js';
import { sameState, stateDiffs } from '../model/lang/layout.js';
import { bool, range } from '../model/lang/types.js';
import { continuationsToDamage } from './damageSearch.js';

const two = defineProtocol({
  name: 'two-counters',
  summary: 'a and b go 0 -> 1, then Finish; nothing after',
  spec: 'harness/damageSearch.test.ts',
  params: {},
  variants: [],
  build(b) {
    const a = b.v('a', range(0, 1));
    const c = b.v('b', range(0, 1));
    const done = b.v('done', bool);
    b.init('zero', () => []);
    b.rule('IncA', {}, () => ({ guard: eq(a, 0), body: [assign(a, 1)] }));
    b.rule('IncB', {}, () => ({ guard: eq(c, 0), body: [assign(c, 1)] }));
    b.rule('Finish', {}, () => ({ guard: and(eq(a, 1), eq(c, 1), not(done)), body: [assign(done, true)] }));
    return {};
  },
});

const model = buildModel(two);
const cm = compileModel(model, []);
const start = new Int32Array(3);
const [INC_A, INC_B, FINISH] = [0, 1, 2];
const both = (_s: Int32Array, _k: number, t: Int32Array) => t[0] === 1 && t[1] === 1;
const opts = { maxDepth: 5, limit: 10, maxSeen: 100, deadlocks: false };

describe('continuationsToDamage', () => {
  it('finds every shortest path whose last step the guide flags, breadth first', () => {
    expect(continuationsToDamage(cm, start, both, opts)).toEqual([
      [INC_A, INC_B],
      [INC_B, INC_A],
    ]);
  });

  it('stops at the limit', () => {
    expect(continuationsToDamage(cm, start, both, { ...opts, limit: 1 })).toEqual([[INC_A, INC_B]]);
  });

  it('searches no deeper than maxDepth steps', () => {
    const fin = (_s: Int32Array, k: number) => k === FINISH;
    expect(continuationsToDamage(cm, start, fin, { ...opts, maxDepth: 2 })).toEqual([]);
    expect(continuationsToDamage(cm, start, fin, { ...opts, maxDepth: 3 })).toEqual([[INC_A, INC_B, FINISH]]);
  });

  it('expands each state once (the second path to a=b=1 is not expanded again)', () => {
    // Both orders reach a=b=1, but the state is remembered after the first, so only one path goes on.
    const once = continuationsToDamage(cm, start, () => false, { ...opts, deadlocks: true });
    expect(once).toEqual([[INC_A, INC_B, FINISH]]);
  });

  it('counts a path to a state with no enabled rule when asked (not the start state itself)', () => {
    expect(continuationsToDamage(cm, start, () => false, opts)).toEqual([]);
    const stuck = Int32Array.from([1, 1, 1]);
    expect(continuationsToDamage(cm, stuck, () => false, { ...opts, deadlocks: true })).toEqual([]);
  });

  it('remembers at most maxSeen states: beyond that nothing new is expanded', () => {
    expect(continuationsToDamage(cm, start, both, { ...opts, maxSeen: 0 })).toEqual([]);
    expect(continuationsToDamage(cm, start, both, { ...opts, maxSeen: 1 })).toEqual([[INC_A, INC_B]]);
  });
});

describe('continuationsToDamage never returns more than the limit', () => {
  const x0 = new Int32Array(1);
  /** x from 0: Left (to 1), Right (to 2); Flag (2 to 3), and with `down` Down (1 to 4); nothing else is enabled. */
  const fork = (leftFirst: boolean, down: boolean) => {
    const m = buildModel(
      defineProtocol({
        name: 'fork',
        summary: 'two branches, one flagged, one ending in a deadlock',
        spec: 'conformance/damageSearch.test.ts',
        params: {},
        variants: [],
        build(b) {
          const x = b.v('x', range(0, 4));
          b.init('zero', () => []);
          const left = () => b.rule('Left', {}, () => ({ guard: eq(x, 0), body: [assign(x, 1)] }));
          const right = () => b.rule('Right', {}, () => ({ guard: eq(x, 0), body: [assign(x, 2)] }));
          if (leftFirst) left();
          right();
          if (!leftFirst) left();
          if (down) b.rule('Down', {}, () => ({ guard: eq(x, 1), body: [assign(x, 4)] }));
          b.rule('Flag', {}, () => ({ guard: eq(x, 2), body: [assign(x, 3)] }));
          return {};
        },
      }),
    );
    const k = m.instances.findIndex((i) => i.rule.name === 'Flag');
    const flagged = (_s: Int32Array, kk: number) => kk === k;
    const search = (limit: number) =>
      continuationsToDamage(compileModel(m, []), x0, flagged, { ...opts, deadlocks: true, limit }).map((p) => p.map((i) => m.instances[i]?.rule.name));
    return search;
  };
  it('two flagged successors of one state: only the first, with a limit of one', () => {
    expect(continuationsToDamage(cm, start, () => true, { ...opts, limit: 1 })).toEqual([[INC_A]]);
    expect(continuationsToDamage(cm, start, () => true, opts)).toEqual([[INC_A], [INC_B]]);
  });

  it('a deadlock later in the level where the limit was reached is not added', () => {
    const search = fork(false, false); // level 1: x = 2 (Right, flagged next) before x = 1 (Left, a deadlock)
    expect(search(10)).toEqual([['Right', 'Flag'], ['Left']]);
    expect(search(1)).toEqual([['Right', 'Flag']]);
  });

  it('no deeper level is searched once the limit is reached, even for deadlocks', () => {
    const search = fork(true, true); // level 1: x = 1 (its successor x = 4 queued) before x = 2 (flagged next)
    expect(search(10)).toEqual([
      ['Right', 'Flag'],
      ['Left', 'Down'],
    ]);
    expect(search(1)).toEqual([['Right', 'Flag']]);
  });
});

describe('sameState and stateDiffs', () => {
  it('compare states slot by slot and name the differences', () => {
    expect(sameState(Int32Array.from([1, 0, 1]), Int32Array.from([1, 0, 1]))).toBe(true);
    expect(sameState(Int32Array.from([1, 0, 1]), Int32Array.from([1, 0, 0]))).toBe(false);
    expect(sameState(Int32Array.from([1, 0]), Int32Array.from([1, 0, 0]))).toBe(false);
    expect(stateDiffs(model.layout, Int32Array.from([0, 1, 0]), Int32Array.from([0, 0, 1]), ['trace', 'harness'])).toEqual([
      'b: trace 1, harness 0',
      'done: trace false, harness true',
    ]);
    expect(stateDiffs(model.layout, start, start, ['trace', 'harness'])).toEqual([]);
  });
});
