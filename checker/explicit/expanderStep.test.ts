/**
 * The expander (expander.ts) driven by hand, one call at a time, on stores the test makes: what
 * its TSDoc promises of `insertStart`, `expandRange`, `expandOne`, the figures (`ExpanderFigures`),
 * the callbacks (`onNew`, `onEdge`), shards, the `Reduction` contract (the count of enabled
 * instances decides deadlocks; only model errors become findings), `setShared` and `claimChunk`
 * with a control array set by hand. Why this file exists: the searches of search.test.ts reach the
 * expander only through the coordinator, which never asks it some of these things (a start state
 * already seen, a claim after a stop, the room of a round used up) and reads only some figures.
 * Oracle: the grid of test/searchWalk.ts (two counters a, b in 0..40, `IncA` is rule instance 0,
 * `IncB` instance 1, end states a = 40), whose successors, levels and depths are worked out by hand:
 * (a, b) has successors (a+1, b) then (a, b+1), each while below 40; level d holds the d+1 states
 * with a + b = d.
 */
import { describe, expect, it } from 'vitest';
import { eq, ne } from '../../model/lang/expr.js';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { type Property, cover, invariant } from '../../properties/property.js';
import { grid } from '../../test/searchWalk.js';
import {
  CTRL,
  CTRL_SIZE,
  Expander,
  type ExpanderOptions,
  type ExpanderStores,
  type Finding,
  type Reduction,
  type SeenSet,
  claimChunk,
  firstFinding,
  shardOf,
} from './expander.js';
import { searchFor } from './explicit.js';
import { ID_BLOCK, StateStore } from './stateStore.js';

type Grid = ReturnType<typeof grid>['model'];

/** The compiled grid (with `properties`), a store with parents, and helpers to pack and read its states. */
function kit(properties: (h: Grid['handles']) => Property[] = () => []) {
  const { model } = grid(null);
  const search = searchFor({ model, properties: properties(model.handles), limits: {}, deadlock: true });
  const { cm, canon } = search;
  const nSlots = model.layout.nSlots;
  const store = () => new StateStore(cm.words, { parents: true, maxVia: 2 });
  const state = (a: number, b: number) => {
    const s = new Int32Array(nSlots);
    s[0] = a;
    s[1] = b;
    return s;
  };
  const packed = (a: number, b: number) => {
    const w = new Uint32Array(cm.words);
    cm.pack(state(a, b), w, 0);
    return w;
  };
  const read = (st: StateStore, id: number): [number, number] => {
    const w = new Uint32Array(cm.words);
    st.read(id, w, 0);
    const s = new Int32Array(nSlots);
    cm.unpack(w, 0, s);
    return [s[0] as number, s[1] as number];
  };
  const all = (st: StateStore) => Array.from({ length: st.count }, (_, i) => read(st, i));
  const exact = (st: StateStore): ExpanderStores => ({ frontier: st, frontierBase: 0, target: st, targetBase: 0, seen: null });
  const expander = (stores: ExpanderStores, opts: Partial<ExpanderOptions> = {}, por: Reduction | null = null) =>
    new Expander(cm, canon, por, nSlots, stores, { deadlock: true, shared: false, parents: true, ...opts });
  return { cm, state, packed, read, all, store, exact, expander };
}

describe('start states', () => {
  it('insertStart returns the position of a new start state (target base plus id) and -1 for one already stored or seen', () => {
    const k = kit();
    const st = k.store();
    const exp = k.expander({ ...k.exact(st), targetBase: 10 });
    expect([exp.insertStart(k.state(0, 0), 0), exp.insertStart(k.state(0, 3), 1), exp.insertStart(k.state(0, 0), 1)]).toEqual([10, 11, -1]);
    expect([st.count, st.parent(0), st.via(1)]).toEqual([2, -1, 1]);
    // A state of an earlier level (compact stores) is not new either, and is not stored.
    const old = k.packed(5, 5);
    const seen: SeenSet = { has: (w) => w.every((x, i) => x === old[i]) };
    const exp2 = k.expander({ ...k.exact(k.store()), seen });
    expect([exp2.insertStart(k.state(5, 5), 0), exp2.insertStart(k.state(5, 6), 0)]).toEqual([-1, 0]);
  });

  it('a start state is at depth 0, also after states were expanded: covers it meets and the deepest level', () => {
    const k = kit((h) => [cover('a-is-3', 'C-1', '', eq(h.a, 3))]);
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    expect(exp.expandRange(0, 1, 0)).toBe(1);
    expect([exp.currentChildDepth, exp.figures.maxDepth, exp.figures.coverDepth[0]]).toEqual([1, 1, -1]);
    exp.insertStart(k.state(3, 0), 0);
    expect([exp.currentChildDepth, exp.figures.maxDepth, exp.figures.coverDepth[0]]).toEqual([0, 1, 0]);
  });

  it('a start state breaking an invariant is a finding from -1 by its init index, first in single-thread order', () => {
    const k = kit((h) => [invariant('b-not-2', 'I-1', '', ne(h.b, 2))]);
    const exp = k.expander(k.exact(k.store()));
    exp.insertStart(k.state(0, 0), 0);
    expect(exp.finding).toBeNull();
    exp.insertStart(k.state(1, 2), 1);
    expect(exp.finding).toEqual({ kind: 'invariant', index: 0, pos: 1, from: -1, via: 1 });
    // So that, merged with the findings of other threads, it comes before anything found expanding state 0.
    const other: Finding = { kind: 'invariant', index: 0, pos: 2, from: 0, via: 0 };
    expect(firstFinding(other, exp.finding)).toBe(exp.finding);
  });
});

describe('expanding states', () => {
  it('levels of the grid: the successors in instance order, parents and instances kept, figures counted', () => {
    const k = kit();
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    expect(exp.expandRange(0, 1, 0)).toBe(1);
    expect(k.all(st)).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
    ]);
    expect([st.parent(1), st.via(1), st.parent(2), st.via(2)]).toEqual([0, 0, 0, 1]);
    expect(exp.expandRange(1, 3, 1)).toBe(3);
    // Level 2: (2,0), (1,1) from (1,0); (0,2) from (0,1), whose (1,1) is already stored.
    expect(k.all(st).slice(3)).toEqual([
      [2, 0],
      [1, 1],
      [0, 2],
    ]);
    expect({ ...exp.figures, coverDepth: [...exp.figures.coverDepth] }).toEqual({ expanded: 3, generated: 6, maxDepth: 2, coverDepth: [] });
    // Depth-first use: one state at a time, its successors at the depth given.
    expect(exp.expandOne(5, 7)).toBe(true);
    expect([exp.currentChildDepth, exp.figures.expanded, exp.figures.generated, exp.figures.maxDepth, st.count]).toEqual([7, 4, 8, 7, 8]);
  });

  it('maxStates: stops after the state at which that many states are stored', () => {
    const k = kit();
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    exp.expandRange(0, 1, 0);
    // Expanding (1,0) stores the 4th and 5th states, (0,1) the 6th.
    expect(exp.expandRange(1, 3, 1, 5)).toBe(2);
    expect(st.count).toBe(5);
    expect(exp.expandRange(2, 3, 1, 6)).toBe(3);
    expect(exp.expandRange(3, 6, 2, 6)).toBe(4);
  });

  it('onNew gets each new state once, onEdge every transition with the target position, into another store at a base', () => {
    const k = kit();
    const frontier = k.store();
    const target = k.store();
    const news: number[] = [];
    const edges: number[][] = [];
    const w = new Uint32Array(k.cm.words);
    for (const [a, b] of [
      [1, 0],
      [0, 1],
    ]) {
      k.cm.pack(k.state(a as number, b as number), w, 0);
      frontier.insert(w, 0);
    }
    const stores: ExpanderStores = { frontier, frontierBase: 1, target, targetBase: 3, seen: null };
    const exp = k.expander(stores, { onNew: (p) => news.push(p), onEdge: (f, t, i) => edges.push([f, t, i]) });
    expect(exp.expandRange(1, 3, 1)).toBe(3);
    expect(k.all(target)).toEqual([
      [2, 0],
      [1, 1],
      [0, 2],
    ]);
    expect(news).toEqual([3, 4, 5]);
    expect(edges).toEqual([
      [1, 3, 0],
      [1, 4, 1],
      [2, 4, 0],
      [2, 5, 1],
    ]);
  });

  it('a new state breaking an invariant ends the expansion: no later successor is generated or stored', () => {
    const k = kit((h) => [invariant('a-not-1', 'I-1', '', ne(h.a, 1))]);
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    expect(exp.expandRange(0, 1, 0)).toBe(0);
    expect(exp.finding).toEqual({ kind: 'invariant', index: 0, pos: 1, from: 0, via: 0 });
    expect([exp.figures.expanded, exp.figures.generated, st.count]).toEqual([1, 1, 2]);
  });

  it('covers: the depth of the first state meeting each', () => {
    const k = kit((h) => [cover('b-is-2', 'C-1', '', eq(h.b, 2)), cover('a-is-1', 'C-2', '', eq(h.a, 1))]);
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    exp.expandRange(0, 1, 0);
    expect([...exp.figures.coverDepth]).toEqual([-1, 1]);
    exp.expandRange(1, 3, 1);
    expect([...exp.figures.coverDepth]).toEqual([2, 1]);
  });
});

describe('the Reduction contract and model errors', () => {
  const none = (n: number): Reduction => ({ expand: () => n });

  it('no instance enabled in a state that is not an end state is a deadlock (when asked); instances enabled but none emitted is not', () => {
    const k = kit();
    for (const [por, deadlock, a, found] of [
      [none(0), true, 0, true],
      [none(0), false, 0, false],
      [none(0), true, 40, false],
      [none(2), true, 0, false],
    ] as const) {
      const st = k.store();
      const exp = k.expander(k.exact(st), { deadlock }, por);
      exp.insertStart(k.state(a, 0), 0);
      expect(exp.expandRange(0, 1, 0)).toBe(found ? 0 : 1);
      expect(exp.finding).toEqual(found ? { kind: 'deadlock', pos: 0 } : null);
    }
  });

  it('a model error while expanding is a finding at that state; any other error is thrown', () => {
    const k = kit();
    const st = k.store();
    const err = new ModelRuntimeError('IncA', 'unwrap of none');
    const exp = k.expander(
      k.exact(st),
      {},
      {
        expand: () => {
          throw err;
        },
      },
    );
    exp.insertStart(k.state(0, 0), 0);
    expect(exp.expandRange(0, 1, 0)).toBe(0);
    expect(exp.finding).toEqual({ kind: 'error', code: 'MC011', message: err.message, runtime: true, at: 0 });
    const exp2 = k.expander(
      k.exact(k.store()),
      {},
      {
        expand: () => {
          throw new TypeError('a bug');
        },
      },
    );
    exp2.insertStart(k.state(0, 0), 0);
    expect(() => exp2.expandRange(0, 1, 0)).toThrow(TypeError);
  });
});

describe('shards and shared inserts', () => {
  it('a shard keeps of the successors at depth 1 those of its hash only; the shards together keep each once; deeper ones all', () => {
    const k = kit();
    const level1 = [
      [1, 0],
      [0, 1],
    ] as const;
    const kept: string[] = [];
    for (const index of [0, 1]) {
      const st = k.store();
      const exp = k.expander(k.exact(st), { shard: { index, count: 2 } });
      exp.insertStart(k.state(0, 0), 0);
      exp.expandRange(0, 1, 0);
      const mine = level1.filter(([a, b]) => shardOf(k.packed(a, b), 2) === index);
      expect(k.all(st).slice(1)).toEqual(mine);
      kept.push(...mine.map((s) => s.join()));
      // Depth 2 is not split: all successors of (1,0) or (0,1) are kept.
      exp.expandRange(1, st.count, 1);
      expect(st.count).toBe(1 + mine.length + (mine.length === 2 ? 3 : 2 * mine.length));
      expect(exp.figures.generated).toBe(2 + 2 * mine.length);
    }
    expect(kept.sort()).toEqual(['0,1', '1,0']);
  });

  it('shared inserts take ids in blocks (count grows by ID_BLOCK) and keep no parents; setShared switches them on and off', () => {
    const k = kit();
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    st.reserve(4 * ID_BLOCK);
    exp.setShared(true);
    expect(exp.shared).toBe(true);
    exp.expandRange(0, 1, 0);
    expect([st.count, st.parent(1)]).toEqual([1 + ID_BLOCK, -1]);
    const st2 = k.store();
    const exp2 = k.expander(k.exact(st2), { shared: true });
    st2.reserve(4 * ID_BLOCK);
    expect(exp2.insertStart(k.state(0, 0), 0)).toBe(0);
    expect(st2.count).toBe(ID_BLOCK);
    exp2.setShared(false);
    expect(exp2.shared).toBe(false);
  });
});

describe('claimChunk with a control array set by hand', () => {
  /** The grid's first three levels stored (6 states), a control array over level 1 (positions 1, 2) and room for `limit` states. */
  function level(chunk: number, limit = 1000) {
    const k = kit();
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    exp.expandRange(0, 1, 0);
    const ctrl = new Uint32Array(new SharedArrayBuffer(4 * CTRL_SIZE));
    ctrl[CTRL.cursor] = 1;
    ctrl[CTRL.end] = 3;
    ctrl[CTRL.chunk] = chunk;
    ctrl[CTRL.depth] = 1;
    ctrl[CTRL.limit] = limit;
    return { k, st, exp, ctrl };
  }

  it('claims a chunk from the cursor and expands it to the end of the level; then the level is done', () => {
    const { st, exp, ctrl } = level(1);
    expect(claimChunk(exp, ctrl, st)).toBe('expanded');
    expect([ctrl[CTRL.cursor], exp.figures.expanded, st.count]).toEqual([2, 2, 5]);
    expect(claimChunk(exp, ctrl, st)).toBe('expanded');
    expect([ctrl[CTRL.cursor], exp.figures.expanded, st.count, exp.figures.maxDepth]).toEqual([3, 3, 6, 2]);
    expect(claimChunk(exp, ctrl, st)).toBe('level-done');
    expect(exp.figures.expanded).toBe(3);
    const big = level(5);
    expect([claimChunk(big.exp, big.ctrl, big.st), big.exp.figures.expanded, big.ctrl[CTRL.cursor]]).toEqual(['expanded', 3, 6]);
    expect(claimChunk(big.exp, big.ctrl, big.st)).toBe('level-done');
  });

  it('halted when stopping or pausing, need-room (and the need flag) when the target holds the limit, claiming nothing', () => {
    for (const slot of [CTRL.stop, CTRL.pause]) {
      const { st, exp, ctrl } = level(1);
      ctrl[slot] = 1;
      expect([claimChunk(exp, ctrl, st), ctrl[CTRL.cursor], exp.figures.expanded, ctrl[CTRL.need]]).toEqual(['halted', 1, 1, 0]);
    }
    for (const [limit, want] of [
      [3, 'need-room'],
      [4, 'expanded'],
    ] as const) {
      const { st, exp, ctrl } = level(1, limit);
      expect([claimChunk(exp, ctrl, st), ctrl[CTRL.need], ctrl[CTRL.cursor]]).toEqual(want === 'need-room' ? ['need-room', 1, 1] : ['expanded', 0, 2]);
    }
  });

  it('a finding in the chunk: found, and the stop flag is set for the other threads', () => {
    const k = kit((h) => [invariant('a-not-2', 'I-1', '', ne(h.a, 2))]);
    const st = k.store();
    const exp = k.expander(k.exact(st));
    exp.insertStart(k.state(0, 0), 0);
    exp.expandRange(0, 1, 0);
    const ctrl = new Uint32Array(new SharedArrayBuffer(4 * CTRL_SIZE));
    Object.assign(ctrl, { [CTRL.cursor]: 1, [CTRL.end]: 3, [CTRL.chunk]: 2, [CTRL.depth]: 1, [CTRL.limit]: 100 });
    expect([claimChunk(exp, ctrl, st), ctrl[CTRL.stop]]).toEqual(['found', 1]);
    expect(exp.finding).toEqual({ kind: 'invariant', index: 0, pos: 3, from: 1, via: 0 });
  });
});
