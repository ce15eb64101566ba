/**
 * `expandRange` holds the successors it meets and stores them a batch at a time (expander.ts,
 * `flush`), so that the cache misses of their lookups overlap; `expandOne` (the depth-first walk)
 * holds the successors of its one state. Their TSDoc promises everything a search sees is as if
 * each successor had been stored at once. Oracle: the same expansion done one state at a time with
 * `expandOne` by an expander given an `onEdge` callback (a liveness graph's build, which stores at
 * once), then the promise of `expandRange` (stop at a state whose expansion ends the search, or
 * after the state at which `maxStates` are stored) applied by hand. Model: the grid of test/searchWalk.ts (states (a, b), 0..40 each; 1,681
 * in all, two successors each), every state in the frontier and a fresh target store, so that one
 * range holds thousands of successors, many more than a batch, and a finding, a limit or a full
 * store falls in the middle of a batch, after later states were already expanded.
 */
import { describe, expect, it, vi } from 'vitest';
import { and, eq, ne } from '../../model/lang/expr.js';
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { type Property, cover, invariant, stepProperty } from '../../properties/property.js';
import { grid } from '../../test/searchWalk.js';
import { Expander, type ExpanderStores, type Reduction, type SeenSet } from './expander.js';
import { searchFor } from './explicit.js';
import { StateStore } from './stateStore.js';
import { StoreFullError } from './storeMemory.js';

type Grid = ReturnType<typeof grid>['model'];

interface Setup {
  /** States of three words (the grid's `wide` form). */
  readonly wide?: boolean;
  /** A collapsing target store (`wide` states kept as a head id and the last word); `headSlots`: its head store's most table slots. */
  readonly collapse?: { readonly headSlots?: number };
  readonly properties?: (h: Grid['handles'], model: Grid) => Property[];
  /** Wraps the model's expansion (for errors and deadlocks at chosen states). */
  readonly reduction?: (expand: Reduction['expand']) => Reduction;
  readonly maxStates?: number;
  /** The target store's most table slots (a full store part-way). */
  readonly maxTableSlots?: number;
  readonly seen?: (a: number, b: number) => boolean;
  readonly shared?: boolean;
  /** The invariants raise a model error on this state (as an unwrap of none would). */
  readonly throwAt?: readonly [number, number];
  /** The frontier's states, in this order. */
  readonly order?: 'levels' | 'columns';
  /** The new-state callback (the depth-first walk's queue) refuses the n-th new state (from 0) as a full stack would. */
  readonly refuseNew?: number;
}

/** The grid's states in the frontier's order by levels: by a + b, then by a. */
function frontierCells(): [number, number][] {
  const cells: [number, number][] = [];
  for (let d = 0; d <= 80; d++) for (let a = Math.max(0, d - 40); a <= Math.min(40, d); a++) cells.push([a, d - a]);
  return cells;
}

/** A frontier store holding the grid's states `cells`, in that order. */
function frontierOf(cm: ReturnType<typeof searchFor>['cm'], nSlots: number, cells: readonly [number, number][]): StateStore {
  const frontier = new StateStore(cm.words);
  const s = new Int32Array(nSlots);
  const w = new Uint32Array(cm.words);
  for (const [a, b] of cells) {
    s[0] = a;
    s[1] = b;
    cm.pack(s, w, 0);
    frontier.insert(w, 0);
  }
  return frontier;
}

/**
 * Runs the setup three times, `expandRange` over the whole frontier (`batched`), `expandOne` state
 * by state (`depthFirst`), and the oracle (`oneByOne`: `expandOne` storing at once), and returns
 * what each gives.
 */
function both(setup: Setup) {
  const { model } = grid(null, { wide: setup.wide ?? false });
  const properties = setup.properties?.(model.handles, model) ?? [];
  const { cm, canon } = searchFor({ model, properties, limits: {}, deadlock: true });
  if (setup.throwAt) {
    const [a0, b0] = setup.throwAt;
    const firstViolated = cm.firstViolated;
    (cm as { firstViolated: typeof firstViolated }).firstViolated = (st) => {
      if (st[0] === a0 && st[1] === b0) throw new ModelRuntimeError('I', 'unwrap of none');
      return firstViolated(st);
    };
  }
  const nSlots = model.layout.nSlots;
  const cells = frontierCells();
  if (setup.order === 'columns') cells.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const frontier = frontierOf(cm, nSlots, cells);
  const seen: SeenSet | null = setup.seen
    ? {
        has: (x) => {
          const u = new Int32Array(nSlots);
          cm.unpack(x, 0, u);
          return (setup.seen as (a: number, b: number) => boolean)(u[0] as number, u[1] as number);
        },
      }
    : null;
  let oracleEdges = 0;
  const run = (how: 'range' | 'one' | 'oracle') => {
    const target = new StateStore(cm.words, {
      parents: true,
      maxVia: 2,
      tableBits: 8,
      collapse: setup.collapse !== undefined,
      ...(setup.maxTableSlots ? { maxTableSlots: setup.maxTableSlots } : {}),
    });
    // The head store takes no options of its own: its limit is set as a search's memory would end it.
    if (setup.collapse?.headSlots) (target as unknown as { head: { maxSlots: number } }).head.maxSlots = setup.collapse.headSlots;
    if (setup.shared) target.reserve(4000);
    const stores: ExpanderStores = { frontier, frontierBase: 0, target, targetBase: 0, seen };
    const por = setup.reduction ? setup.reduction((st, t, emit) => cm.expand(st, t, emit)) : null;
    let news = 0;
    const onNew = () => {
      if (news++ === setup.refuseNew) throw new StoreFullError('limit', 'the stack is full', 'the depth-first stack');
    };
    const exp = new Expander(cm, canon, por, nSlots, stores, {
      deadlock: true,
      shared: setup.shared ?? false,
      parents: true,
      ...(setup.refuseNew !== undefined ? { onNew } : {}),
      // An edge callback turns holding off: the oracle stores each successor at once (and is told each edge).
      ...(how === 'oracle'
        ? {
            onEdge: () => {
              oracleEdges++;
            },
          }
        : {}),
    });
    const max = setup.maxStates ?? Number.POSITIVE_INFINITY;
    let reached: number;
    if (how === 'range') reached = exp.expandRange(0, frontier.count, 3, max);
    else {
      reached = frontier.count;
      for (let p = 0; p < frontier.count; p++) {
        if (!exp.expandOne(p, 4)) {
          reached = p;
          break;
        }
        if (target.count >= max) {
          reached = p + 1;
          break;
        }
      }
    }
    const states: number[][] = [];
    const u = new Uint32Array(cm.words);
    const v = new Int32Array(nSlots);
    for (let id = 0; id < target.count; id++) {
      target.read(id, u, 0);
      cm.unpack(u, 0, v);
      states.push(setup.shared ? [v[0] as number, v[1] as number] : [v[0] as number, v[1] as number, target.parent(id), target.via(id)]);
    }
    return {
      reached,
      finding: exp.finding,
      full: exp.full?.message ?? null,
      figures: { ...exp.figures, coverDepth: [...exp.figures.coverDepth] },
      states,
    };
  };
  const runs = { batched: run('range'), depthFirst: run('one'), oneByOne: run('oracle') };
  return { ...runs, oracleEdges };
}

/** A reduction that expands as the model does, except at state (a, b): `act` there. */
const at =
  (a0: number, b0: number, act: 'error' | 'error-after-one' | 'error-after-all' | 'deadlock') =>
  (expand: Reduction['expand']): Reduction => ({
    expand(s, t, emit) {
      if (s[0] !== a0 || s[1] !== b0) return expand(s, t, emit);
      if (act === 'deadlock') return 0;
      if (act === 'error-after-one') expand(s, t, (k, f) => k === 0 && emit(k, f));
      if (act === 'error-after-all') expand(s, t, emit);
      throw new ModelRuntimeError('IncA', 'unwrap of none');
    },
  });

describe('expandRange, and expandOne (the depth-first walk), store the successors they hold as if each had been stored at once', () => {
  it('a whole run: the same states, parents, rule instances, figures and end (more successors than a batch holds); the oracle is told every edge', () => {
    const { batched, depthFirst, oneByOne, oracleEdges } = both({});
    expect(batched.states.length).toBeGreaterThan(1000);
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect([batched.reached, oracleEdges]).toEqual([1681, oneByOne.figures.generated]);
  });

  it('states of three words (held three words apart): the same as each stored at once, with an invariant late in the run', () => {
    const { batched, depthFirst, oneByOne } = both({
      wide: true,
      properties: (h) => [invariant('not-30-20', 'I', '', ne(and(eq(h.a, 30), eq(h.b, 20)), true))],
    });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding?.kind).toBe('invariant');
    const plain = both({ wide: true });
    expect([plain.batched, plain.depthFirst]).toEqual([plain.oneByOne, plain.oneByOne]);
    expect(plain.batched.states.length).toBe(1680);
  });

  it.each([
    [
      'an invariant broken by the first state stored (id 0 of the target)',
      (h: Grid['handles']) => [invariant('not-1-0', 'I', '', ne(and(eq(h.a, 1), eq(h.b, 0)), true))],
    ],
    ['an invariant broken late in the run', (h: Grid['handles']) => [invariant('not-30-20', 'I', '', ne(and(eq(h.a, 30), eq(h.b, 20)), true))]],
    [
      'an invariant broken by the last state (found when the range ends)',
      (h: Grid['handles']) => [invariant('not-40-40', 'I', '', ne(and(eq(h.a, 40), eq(h.b, 40)), true))],
    ],
    ['an invariant broken by the first successor stored', (h: Grid['handles']) => [invariant('not-0-1', 'I', '', ne(and(eq(h.a, 0), eq(h.b, 1)), true))]],
    ['a step property broken part-way', (_h: Grid['handles'], m: Grid) => [stepProperty(m, 'no-a-25', 'S', '', 'IncA', () => ne(m.handles.a, 25))]],
    ['covers met at several points', (h: Grid['handles']) => [cover('a-7', 'C', '', eq(h.a, 7)), cover('b-33', 'C', '', and(eq(h.b, 33), eq(h.a, 2)))]],
  ])('%s: the same finding, figures, states and stopping position', (_name, properties) => {
    const { batched, depthFirst, oneByOne } = both({ properties });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding !== null || batched.figures.coverDepth.every((d) => d === 4)).toBe(true);
  });

  it.each([1, 2, 100, 255, 256, 257, 700, 1500])('a state limit of %i: stops after the same state, with the same states', (maxStates) => {
    const { batched, depthFirst, oneByOne } = both({ maxStates });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.states.length).toBeGreaterThanOrEqual(Math.min(maxStates, 1680));
    expect(batched.reached).toBeLessThan(1681);
  });

  it.each([
    ['a model error', at(20, 5, 'error')],
    ['a model error after one successor was emitted', at(20, 5, 'error-after-one')],
    ['a deadlock', at(33, 2, 'deadlock')],
  ] as const)('%s at a state part-way: the successors met before it are stored first, then the same finding', (_name, reduction) => {
    const { batched, depthFirst, oneByOne } = both({ reduction });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding?.kind).toBe(_name === 'a deadlock' ? 'deadlock' : 'error');
  });

  it.each([
    [30, 20],
    [1, 0],
    [40, 40],
  ] as const)('a property raising a model error on new state (%i, %i): an error of its parent, as when stored at once', (a, b) => {
    const { batched, depthFirst, oneByOne } = both({ throwAt: [a, b] });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding?.kind).toBe('error');
  });

  it('an invariant broken by a successor held before a model error comes first', () => {
    const { batched, depthFirst, oneByOne } = both({
      properties: (h) => [invariant('not-21-5', 'I', '', ne(and(eq(h.a, 21), eq(h.b, 5)), true))],
      reduction: at(20, 5, 'error-after-one'),
      order: 'columns',
    });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding?.kind).toBe('invariant');
  });

  it.each([2 ** 9, 2 ** 10])(
    'a store that cannot grow past %i slots: the parent of the successor that did not fit counts as not expanded, what was stored stays',
    (maxTableSlots) => {
      const { batched, depthFirst, oneByOne } = both({ maxTableSlots });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect(batched.full).not.toBeNull();
      expect(batched.reached).toBeLessThan(1681);
    },
  );

  it('a store that fills while a state is expanded, which then raises a model error: the store is full and no error is reported (the state counts as not expanded)', () => {
    // Held successors are stored when 256 are held, so the batch that fills the store is stored
    // while a later state than the one whose successor did not fit is expanded: each state from
    // that one on raises the error in turn (128 states hold 256 successors).
    const plain = both({ maxTableSlots: 2 ** 9 });
    const cells = frontierCells();
    for (let q = plain.oneByOne.reached; q < plain.oneByOne.reached + 130; q++) {
      const [a, b] = cells[q] as [number, number];
      const { batched, depthFirst, oneByOne } = both({ maxTableSlots: 2 ** 9, reduction: at(a, b, 'error-after-all') });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect(oneByOne.full).not.toBeNull();
      expect(oneByOne.finding).toBeNull();
    }
  });

  it('an error that is neither a full store nor a model error, thrown by the store or by the new-state callback while a batch is stored, comes out of expandRange as it is', () => {
    const { model } = grid();
    const { cm, canon } = searchFor({ model, properties: [], limits: {}, deadlock: true });
    const nSlots = model.layout.nSlots;
    const frontier = frontierOf(cm, nSlots, frontierCells());
    const expander = (onNew?: () => void) =>
      new Expander(
        cm,
        canon,
        null,
        nSlots,
        { frontier, frontierBase: 0, target: new StateStore(cm.words, { parents: true, maxVia: 2, tableBits: 8 }), targetBase: 0, seen: null },
        { deadlock: true, shared: false, parents: true, ...(onNew ? { onNew } : {}) },
      );
    const internal = new Error('internal: a defect, not the model');
    // The 300th new state's callback (the depth-first walk's queue) fails: not taken for a model error of its parent.
    let news = 0;
    const failing = expander(() => {
      if (news++ === 300) throw internal;
    });
    expect(() => failing.expandRange(0, frontier.count, 3, Number.POSITIVE_INFINITY)).toThrow(internal);
    expect(failing.finding).toBeNull();
    // The store's insert fails: not taken for a full store.
    let inserts = 0;
    const real = StateStore.prototype.insertHashed;
    const spy = vi.spyOn(StateStore.prototype, 'insertHashed').mockImplementation(function (this: StateStore, ...args) {
      if (inserts++ === 300) throw internal;
      return real.apply(this, args);
    });
    try {
      const storing = expander();
      expect(() => storing.expandRange(0, frontier.count, 3, Number.POSITIVE_INFINITY)).toThrow(internal);
      expect(storing.full).toBeNull();
    } finally {
      spy.mockRestore();
    }
  });

  it('a full store when a batch fills in the middle of a state (some successors seen before): no later successor of that state is counted', () => {
    for (const maxTableSlots of [2 ** 9, 2 ** 10])
      for (const m of [5, 7]) {
        const { batched, depthFirst, oneByOne } = both({ maxTableSlots, seen: (a, b) => (a * 3 + b) % m === 2 });
        expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
        expect(batched.full).not.toBeNull();
      }
  });

  it('states of earlier levels (compact stores) are not stored, in the frontier order by columns too', () => {
    for (const order of ['levels', 'columns'] as const) {
      const { batched, depthFirst, oneByOne } = both({ seen: (a, b) => (a * 7 + b) % 5 === 1, order });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect(batched.states.length).toBeLessThan(1400);
    }
  });

  it('a collapsing store (heads stored first, then the two-word forms): the same states, one by one and shared, with an invariant late in the run', () => {
    const properties = (h: Grid['handles']) => [invariant('not-30-20', 'I', '', ne(and(eq(h.a, 30), eq(h.b, 20)), true))];
    for (const shared of [false, true]) {
      const { batched, depthFirst, oneByOne } = both({ wide: true, collapse: {}, shared, properties });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect(batched.finding?.kind).toBe('invariant');
      const plain = both({ wide: true, collapse: {}, shared });
      expect([plain.batched, plain.depthFirst]).toEqual([plain.oneByOne, plain.oneByOne]);
      // Ids given out in blocks count until the store settles.
      expect(plain.batched.states.length).toBe(shared ? 1728 : 1680);
    }
  });

  it.each([2 ** 10, 2 ** 11])(
    'a collapsing store whose head store cannot grow past %i slots: the states before the head that did not fit are stored, its parent counts as not expanded',
    (headSlots) => {
      const { batched, depthFirst, oneByOne } = both({ wide: true, collapse: { headSlots } });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect(batched.full).toBe(`its table has at most ${headSlots} slots`);
      expect(batched.states.length).toBe(headSlots * 0.75);
    },
  );

  it.each([0, 1, 255, 256, 700])(
    'a new state that cannot be queued (the %i-th: a depth-first stack that cannot grow): stored and checked, the search full there, its parent not expanded',
    (refuseNew) => {
      const { batched, depthFirst, oneByOne } = both({ refuseNew });
      expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
      expect([oneByOne.full, oneByOne.states.length]).toEqual(['the stack is full', refuseNew + 1]);
    },
  );

  it('shared inserts (compare-and-swap, ids in blocks): the same states', () => {
    const { batched, depthFirst, oneByOne } = both({
      shared: true,
      properties: (h) => [invariant('not-30-20', 'I', '', ne(and(eq(h.a, 30), eq(h.b, 20)), true))],
    });
    expect([batched, depthFirst]).toEqual([oneByOne, oneByOne]);
    expect(batched.finding?.kind).toBe('invariant');
  });
});
