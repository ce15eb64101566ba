/**
 * The reachable states of a model at its built size, indexed for cube queries. Why this module
 * exists: invariant inference (invariantLearner.ts) blocks counterexamples to induction with cubes
 * (conjunctions of `slot = value`) and must know whether a cube is unreachable. When the state
 * space fits a budget, a breadth-first search answers that exactly: a cube is unreachable iff no
 * reachable state matches it. States are stored column-wise as one bitset per (slot, value), so the
 * states matching a cube are the AND of its literals' bitsets.
 *
 * The search uses the compiled rules of the explicit engine (and is therefore only as trustworthy
 * as they are): a lemma found with it is still re-proved by z3 before anyone sees it.
 */
import { ModelRuntimeError } from '../../model/lang/errors.js';
import { initState } from '../../model/lang/interp.js';
import type { Model } from '../../model/lang/protocol.js';
import { type ScalarType, cardinality, fromCode, toCode } from '../../model/lang/types.js';
import type { Property } from '../../properties/property.js';
import { compileModel } from '../../model/lang/compile.js';
import { StateStore } from '../explicit/stateStore.js';

/** One literal of a cube: slot `slot` holds natural value `value`. */
export interface SlotLit {
  readonly slot: number;
  readonly value: number;
}

/** Why the search did not produce the reachable set. */
export type ReachFailure = 'limit' | 'violation' | 'error';

export type ReachBuild =
  | { readonly status: 'complete'; readonly set: ReachableSet; readonly elapsedMs: number }
  | { readonly status: ReachFailure; readonly reason: string; readonly states: number; readonly elapsedMs: number };

/** The reachable states, as one bitset per slot value. */
export class ReachableSet {
  readonly model: Model;
  /** Number of reachable states. */
  readonly n: number;
  /** Largest BFS depth. */
  readonly depth: number;
  /** Reachable states with no enabled rule that are not legal end states (deadlocks). */
  deadlocks = 0;
  private readonly words: number;
  /** bits[slot][code]: the states whose slot holds that code. */
  private readonly bits: Uint32Array[][];

  /** Packed states (as strings of their words), for membership. */
  private readonly keys: Set<string>;
  private readonly pack: (s: Int32Array, w: Uint32Array, off: number) => void;
  private readonly packed: Uint32Array;

  constructor(
    model: Model,
    n: number,
    depth: number,
    bits: Uint32Array[][],
    keys: Set<string>,
    pack: (s: Int32Array, w: Uint32Array, off: number) => void,
    words: number,
  ) {
    this.model = model;
    this.n = n;
    this.depth = depth;
    this.words = (n + 31) >>> 5;
    this.bits = bits;
    this.keys = keys;
    this.pack = pack;
    this.packed = new Uint32Array(words);
  }

  /** Whether `s` is a reachable state. */
  has(s: Int32Array): boolean {
    this.pack(s, this.packed, 0);
    return this.keys.has(this.packed.join(','));
  }

  private lit(l: SlotLit): Uint32Array {
    const t = this.model.layout.slotTypes[l.slot];
    const row = t ? this.bits[l.slot]?.[toCode(t, l.value)] : undefined;
    if (!row) throw new Error(`no such slot value: slot ${l.slot} = ${l.value}`);
    return row;
  }

  /** Number of reachable states matching every literal of `cube`. */
  count(cube: readonly SlotLit[]): number {
    if (cube.length === 0) return this.n;
    const rows = cube.map((l) => this.lit(l));
    let c = 0;
    for (let w = 0; w < this.words; w++) {
      let x = 0xffffffff;
      for (const r of rows) {
        x &= r[w] as number;
        if (x === 0) break;
      }
      if (x !== 0) c += popcount(x);
    }
    return c;
  }

  /** Whether some reachable state matches every literal of `cube`. */
  meets(cube: readonly SlotLit[]): boolean {
    if (cube.length === 0) return this.n > 0;
    const rows = cube.map((l) => this.lit(l));
    for (let w = 0; w < this.words; w++) {
      let x = 0xffffffff;
      for (const r of rows) {
        x &= r[w] as number;
        if (x === 0) break;
      }
      if (x !== 0) return true;
    }
    return false;
  }

  /**
   * Widens each literal of an unreachable cube to a set of values, one value at a time, as long as
   * no reachable state matches: `x = 1 & y = 2` may become `x in {1,2} & y = 2`.
   */
  widen(cube: readonly SlotLit[]): { slot: number; values: number[] }[] {
    const types = this.model.layout.slotTypes;
    const lits = cube.map((l) => ({ slot: l.slot, values: [l.value] }));
    const rowOf = (slot: number, values: readonly number[]) => {
      const out = new Uint32Array(this.words);
      for (const v of values) {
        const r = this.lit({ slot, value: v });
        for (let w = 0; w < this.words; w++) out[w] = (out[w] as number) | (r[w] as number);
      }
      return out;
    };
    const rows = lits.map((l) => rowOf(l.slot, l.values));
    const meetsRows = (rs: readonly Uint32Array[]) => {
      for (let w = 0; w < this.words; w++) {
        let x = 0xffffffff;
        for (const r of rs) {
          x &= r[w] as number;
          if (x === 0) break;
        }
        if (x !== 0) return true;
      }
      return false;
    };
    lits.forEach((l, i) => {
      const ty = types[l.slot] as ScalarType;
      for (let code = 0; code < cardinality(ty); code++) {
        const v = fromCode(ty, code);
        if (l.values.includes(v)) continue;
        const wider = rowOf(l.slot, [...l.values, v]);
        const trial = rows.map((r, k) => (k === i ? wider : r));
        if (!meetsRows(trial)) {
          l.values.push(v);
          rows[i] = wider;
        }
      }
      l.values.sort((a, b) => a - b);
    });
    // A literal that admits every value says nothing.
    return lits.filter((l) => l.values.length < cardinality(types[l.slot] as ScalarType));
  }

  /** The states in which slots `a` and `b` hold the same value (one of `values`). */
  equalSet(a: number, b: number, values: readonly number[]): Uint32Array {
    const out = new Uint32Array(this.words);
    for (const v of values) {
      const ra = this.lit({ slot: a, value: v });
      const rb = this.lit({ slot: b, value: v });
      for (let w = 0; w < this.words; w++) out[w] = (out[w] as number) | ((ra[w] as number) & (rb[w] as number));
    }
    return out;
  }

  private all(): Uint32Array {
    const a = new Uint32Array(this.words).fill(0xffffffff);
    if (this.n & 31) a[this.words - 1] = (1 << (this.n & 31)) - 1;
    return a;
  }

  /** Whether every reachable state matching `when` (every state, when null) is in `set`. */
  subsetOf(when: SlotLit | null, set: Uint32Array): boolean {
    const r = when ? this.lit(when) : this.all();
    for (let w = 0; w < this.words; w++) if (((r[w] as number) & ~(set[w] as number)) !== 0) return false;
    return true;
  }

  /** Whether no reachable state matching `when` (no state, when null) is in `set`. */
  disjointFrom(when: SlotLit | null, set: Uint32Array): boolean {
    const r = when ? this.lit(when) : this.all();
    for (let w = 0; w < this.words; w++) if (((r[w] as number) & (set[w] as number)) !== 0) return false;
    return true;
  }

  /**
   * Every cube of one or two literals that no reachable state matches and that has no such
   * sub-cube: the values a slot never takes, then the pairs of values two slots never take together.
   */
  absentCubes(): SlotLit[][] {
    const types = this.model.layout.slotTypes;
    const out: SlotLit[][] = [];
    const present: { lit: SlotLit; row: Uint32Array }[] = [];
    types.forEach((ty, j) => {
      (this.bits[j] as Uint32Array[]).forEach((row, code) => {
        const lit = { slot: j, value: fromCode(ty, code) };
        if (row.some((x) => x !== 0)) present.push({ lit, row });
        else out.push([lit]);
      });
    });
    for (let a = 0; a < present.length; a++) {
      const A = present[a] as { lit: SlotLit; row: Uint32Array };
      for (let b = a + 1; b < present.length; b++) {
        const B = present[b] as { lit: SlotLit; row: Uint32Array };
        if (B.lit.slot === A.lit.slot) continue;
        let meet = false;
        for (let w = 0; w < this.words; w++) {
          if (((A.row[w] as number) & (B.row[w] as number)) !== 0) {
            meet = true;
            break;
          }
        }
        if (!meet) out.push([A.lit, B.lit]);
      }
    }
    return out;
  }

  /**
   * Extends `start` (a sub-cube of the full state `s`) with literals of `s` until no reachable state
   * matches it, preferring at each step the literal that excludes the most states still matching
   * (ties: the order of `prefer`, then slot order); then drops every literal not needed. Returns null
   * when `s` itself is reachable.
   */
  unreachableCube(s: Int32Array, start: readonly number[], prefer: readonly number[] = []): SlotLit[] | null {
    const types = this.model.layout.slotTypes;
    const rowOf = (j: number) => (this.bits[j] as Uint32Array[])[toCode(types[j] as never, s[j] as number)] as Uint32Array;
    const cur = new Uint32Array(this.words);
    cur.fill(0xffffffff);
    if (this.n & 31) cur[this.words - 1] = (1 << (this.n & 31)) - 1;
    const chosen: number[] = [];
    const and = (j: number) => {
      const r = rowOf(j);
      for (let w = 0; w < this.words; w++) cur[w] = (cur[w] as number) & (r[w] as number);
      chosen.push(j);
    };
    for (const j of start) and(j);
    const rank = new Map<number, number>();
    prefer.forEach((j, i) => {
      if (!rank.has(j)) rank.set(j, i);
    });
    const left = () => {
      let c = 0;
      for (let w = 0; w < this.words; w++) if (cur[w] !== 0) c += popcount(cur[w] as number);
      return c;
    };
    let remaining = left();
    while (remaining > 0) {
      let best = -1;
      let bestLeft = remaining;
      for (let j = 0; j < types.length; j++) {
        if (chosen.includes(j)) continue;
        const r = rowOf(j);
        let c = 0;
        for (let w = 0; w < this.words; w++) {
          const x = (cur[w] as number) & (r[w] as number);
          if (x !== 0) c += popcount(x);
        }
        const better = c < bestLeft || (c === bestLeft && best >= 0 && c < remaining && (rank.get(j) ?? 1e9) < (rank.get(best) ?? 1e9));
        if (better) {
          best = j;
          bestLeft = c;
        }
      }
      if (best < 0) return null;
      and(best);
      remaining = bestLeft;
    }
    // Drop literals that are not needed, latest first.
    let cube = chosen.map((j) => ({ slot: j, value: s[j] as number }));
    for (let i = cube.length - 1; i >= 0 && cube.length > 1; i--) {
      const without = cube.filter((_, k) => k !== i);
      if (!this.meets(without)) cube = without;
    }
    return cube.sort((a, b) => a.slot - b.slot);
  }
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Enumerates the reachable states of `model` breadth-first (no reduction) and indexes them. Stops
 * with `violation` when a state breaks one of `properties` (invariants, step properties), `error`
 * when a rule raises a model error, and `limit` past `maxStates` states or the deadline.
 */
export function buildReachableSet(model: Model, properties: readonly Property[], maxStates: number, deadline: number | null): ReachBuild {
  const start = Date.now();
  const elapsed = () => Date.now() - start;
  const cm = compileModel(model, properties);
  // No parents: the set is read by id and by content only, never walked back.
  const store = new StateStore(cm.words);
  const tmp = new Uint32Array(cm.words);
  const s = new Int32Array(model.layout.nSlots);
  const t = new Int32Array(model.layout.nSlots);
  let problem: { status: ReachFailure; reason: string } | null = null;
  const add = (st: Int32Array) => {
    cm.pack(st, tmp, 0);
    const r = store.insert(tmp, 0);
    if (r >= 0 && cm.firstViolated(st) >= 0) problem = { status: 'violation', reason: 'an invariant fails in a reachable state' };
  };
  try {
    for (const init of model.inits) add(initState(model, init));
  } catch (e) {
    if (e instanceof ModelRuntimeError) return { status: 'error', reason: e.message, states: 0, elapsedMs: elapsed() };
    throw e;
  }
  let cursor = 0;
  let deadlocks = 0;
  let levelEnd = store.count;
  let depth = 0;
  const emit = (_k: number, f: number) => {
    if (problem) return;
    if (f >= 0) {
      problem = { status: 'violation', reason: 'a step property fails on a reachable step' };
      return;
    }
    add(t);
  };
  while (cursor < store.count && !problem) {
    if (cursor === levelEnd) {
      depth++;
      levelEnd = store.count;
    }
    store.read(cursor++, tmp, 0);
    cm.unpack(tmp, 0, s);
    try {
      if (cm.expand(s, t, emit) === 0 && !cm.isEnd(s)) deadlocks++;
    } catch (e) {
      if (e instanceof ModelRuntimeError) return { status: 'error', reason: e.message, states: store.count, elapsedMs: elapsed() };
      throw e;
    }
    if (store.count > maxStates) return { status: 'limit', reason: `more than ${maxStates} reachable states`, states: store.count, elapsedMs: elapsed() };
    if ((cursor & 4095) === 0 && deadline !== null && Date.now() > deadline) {
      return { status: 'limit', reason: 'time limit reached while enumerating the reachable states', states: store.count, elapsedMs: elapsed() };
    }
  }
  const found = problem as { status: ReachFailure; reason: string } | null;
  if (found) return { ...found, states: store.count, elapsedMs: elapsed() };
  // Column bitsets.
  const n = store.count;
  const words = (n + 31) >>> 5;
  const types = model.layout.slotTypes;
  const bits = types.map((ty) => Array.from({ length: cardinality(ty) }, () => new Uint32Array(words)));
  const keys = new Set<string>();
  for (let id = 0; id < n; id++) {
    store.read(id, tmp, 0);
    keys.add(tmp.join(','));
    cm.unpack(tmp, 0, s);
    const w = id >>> 5;
    const b = 1 << (id & 31);
    for (let j = 0; j < types.length; j++) {
      const row = (bits[j] as Uint32Array[])[toCode(types[j] as never, s[j] as number)] as Uint32Array;
      row[w] = (row[w] as number) | b;
    }
  }
  const set = new ReachableSet(model, n, depth, bits, keys, cm.pack, cm.words);
  set.deadlocks = deadlocks;
  return { status: 'complete', set, elapsedMs: elapsed() };
}
