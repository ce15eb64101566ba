/**
 * Partial-order reduction by stubborn sets. Why this module exists: invalidation protocols are
 * many actors (pages, slots, invalidators) whose steps mostly touch different variables; exploring
 * every interleaving of independent steps multiplies the states without finding anything new. In
 * each state the search explores only the successors through a stubborn set of rule instances
 * (Valmari), built from the rules' static read and write sets so that every goal the search looks
 * for stays reachable: a state breaking an invariant, a state where a cover holds, a step breaking
 * a step property, a deadlock.
 *
 * Static part (per rule instance, at slot granularity: an index the instance fixes picks one slot,
 * any other index every slot of the array): the slots its guard and body may read and its body may
 * write, and its guard split into conjuncts with the slots each reads. Two instances are dependent
 * when one may write a slot the other reads or writes.
 *
 * In a state s, the stubborn set is the closure of a seed under: an enabled instance brings every
 * instance dependent on it; a disabled one brings every instance that may write a slot read by the
 * first of its guard's conjuncts that is false in s (only those can enable it). The seed holds
 * - for each invariant (true in s): writers of slots some path to a state breaking it must change,
 *   found by walking the invariant at s (to make a conjunction false one of its conjuncts must turn
 *   false: all of them count; to make a disjunction false, its cheapest true disjunct must; and
 *   dually for true), down to atoms (comparisons, counts...), whose writers are taken;
 * - for each cover false in s: the same towards making it true;
 * - for each step property: the instances of the rule it checks that may write its trigger (when
 *   stepTrigger.ts finds one: a variable such that a step leaving it unchanged cannot break the
 *   property; else every instance of the rule) and, when one of them is enabled, the writers of the
 *   slots the property reads (the step may then be taken first);
 * - when that brings no enabled instance: one enabled instance (each is tried; the smallest set wins).
 * Every path from s to a goal then contains an instance of the set, and the first such instance is
 * enabled in s and commutes with the steps before it: moving it to the front gives a shorter path
 * from an explored successor, so every goal stays reachable (no cycle proviso is needed), and
 * deadlocks too (the standard stubborn-set theorem). The walk is per canonical state under
 * symmetry reduction, which keeps the argument (a goal's permutation is a goal).
 *
 * What it does not keep: shortest counterexamples (explicit.ts searches again without it for one),
 * state counts, and run-time model errors (a value out of range) in states it skips.
 */
import { type Kinded, predicateSource } from '../../model/lang/compile.js';
import type { Expr, Loc } from '../../model/lang/expr.js';
import { locShape, slotCount } from '../../model/lang/layout.js';
import type { Model, RuleInstance } from '../../model/lang/protocol.js';
import type { Stmt } from '../../model/lang/stmt.js';
import { subExprs } from '../../model/lang/visit.js';
import type { Reduction } from './expander.js';
import { postReads, unbreakableWithout } from './stepTrigger.js';

/** The static tables of the reduction: plain data, so that a worker thread can rebuild it. */
export interface ReductionData {
  readonly nInst: number;
  readonly nSlots: number;
  /** Instances dependent on instance i: depList[depStart[i] .. depStart[i + 1]). */
  readonly depStart: Int32Array;
  readonly depList: Int32Array;
  /** Conjunct j of instance i is conjunct number conjStart[i] + j; its enablers: nesList[nesStart[c] .. nesStart[c + 1]). */
  readonly conjStart: Int32Array;
  readonly nesStart: Int32Array;
  readonly nesList: Int32Array;
  /** Body of `function (k, s)`: the index of instance k's first false guard conjunct, or -1. */
  readonly firstFalseSource: string;
  /** Writers of atom a: atomList[atomStart[a] .. atomStart[a + 1]). */
  readonly atomStart: Int32Array;
  readonly atomList: Int32Array;
  /**
   * Body of `function (s, o, done)`: writes the atoms of the goals' seed into `o`, returns how many;
   * `done[i]` is 1 for a cover already reached (in the order of the cover properties).
   */
  readonly seedSource: string;
  /** Step properties: the checked rule's instances, and the writers of the slots the property reads. */
  readonly steps: readonly { readonly instances: Int32Array; readonly writers: Int32Array }[];
}

/** A property as the reduction reads it. */
interface PropertyLike extends Kinded {
  readonly pred?: Expr;
  readonly rule?: string | null;
}

type Bind = ReadonlyMap<number, number>;

/** The value of an index expression when the instance fixes it (a literal or a rule parameter), else null. */
function fixedValue(e: Expr, bind: Bind): number | null {
  if (e.op === 'lit') return e.value;
  if (e.op === 'var') return bind.get(e.id) ?? null;
  if (e.op === 'some') return fixedValue(e.e, bind);
  return null;
}

/** Adds the slots `loc` may denote. */
function locSlots(model: Model, loc: Loc, bind: Bind, out: Set<number>): void {
  const shape = locShape(model.layout, loc);
  let bases = [shape.base];
  for (const ix of shape.indexes) {
    const v = fixedValue(ix.e, bind);
    bases = bases.flatMap((b) => (v !== null ? [b + v * ix.stride] : Array.from({ length: ix.size }, (_, i) => b + i * ix.stride)));
  }
  const span = slotCount(shape.type);
  for (const b of bases) for (let k = 0; k < span; k++) out.add(b + k);
}

/** Adds the slots an expression may read. */
function exprReads(model: Model, e: Expr, bind: Bind, out: Set<number>): void {
  if (e.op === 'read') locSlots(model, e.loc, bind, out);
  for (const x of subExprs(e)) exprReads(model, x, bind, out);
}

/** Adds the slots statements may read and write. */
function stmtEffects(model: Model, ss: readonly Stmt[], bind: Bind, reads: Set<number>, writes: Set<number>): void {
  for (const s of ss) {
    switch (s.kind) {
      case 'assign':
        locSlots(model, s.loc, bind, writes);
        for (const p of s.loc.path) if (p.kind === 'at') exprReads(model, p.e, bind, reads);
        exprReads(model, s.e, bind, reads);
        break;
      case 'reset':
        locSlots(model, s.loc, bind, writes);
        for (const p of s.loc.path) if (p.kind === 'at') exprReads(model, p.e, bind, reads);
        break;
      case 'if':
        exprReads(model, s.c, bind, reads);
        stmtEffects(model, s.thenBody, bind, reads, writes);
        stmtEffects(model, s.elseBody, bind, reads, writes);
        break;
      case 'forEach':
        stmtEffects(model, s.body, bind, reads, writes);
        break;
    }
  }
}

/** The conjuncts of a guard (nested `and`s flattened, in evaluation order). */
function conjuncts(e: Expr): Expr[] {
  return e.op === 'and' ? e.args.flatMap(conjuncts) : [e];
}

function bindingsOf(inst: RuleInstance): Map<number, number> {
  return new Map(inst.rule.params.map((p, i) => [(p.v as { id: number }).id, inst.args[i] as number]));
}

const intersects = (a: ReadonlySet<number>, b: ReadonlySet<number>): boolean => {
  for (const x of a) if (b.has(x)) return true;
  return false;
};

/** A formula at a state: an atom, or all / any of sub-formulas (negations pushed inwards). */
interface Item {
  readonly e: Expr;
  readonly bind: Bind;
  readonly neg: boolean;
}
type Shape = { readonly kind: 'atom' } | { readonly kind: 'all' | 'any'; readonly items: readonly Item[] };

function shapeOf({ e, bind, neg }: Item): Shape {
  const all = neg ? 'any' : 'all';
  const any = neg ? 'all' : 'any';
  const items = (es: readonly Expr[], n = neg) => es.map((x) => ({ e: x, bind, neg: n }));
  switch (e.op) {
    case 'not':
      return shapeOf({ e: e.e, bind, neg: !neg });
    case 'and':
      return { kind: all, items: items(e.args) };
    case 'or':
      return { kind: any, items: items(e.args) };
    case 'implies':
      return {
        kind: any,
        items: [
          { e: e.a, bind, neg: !neg },
          { e: e.b, bind, neg },
        ],
      };
    case 'quant': {
      if (e.q === 'count') return { kind: 'atom' };
      const values = Array.from({ length: e.index.size }, (_, v) => ({ e: e.body, bind: new Map([...bind, [e.id, v]]), neg }));
      return { kind: e.q === 'forall' ? all : any, items: values };
    }
    default:
      return { kind: 'atom' };
  }
}

/**
 * Generates the code that collects, at a state `s`, the atoms some change of which every path to a
 * goal needs (see the module comment), as `o[n++] = atom;` statements.
 */
class SeedCode {
  readonly atoms: Set<number>[] = [];
  private readonly atomIds = new Map<string, number>();

  constructor(
    private readonly model: Model,
    /** Per slot: the instances that may write it, as a bit set over instances. */
    private readonly writerBits: Map<number, Uint32Array>,
    private readonly words: number,
  ) {}

  /** JavaScript for the truth value of an item at `s`. */
  value(it: Item): string {
    const src = predicateSource(this.model, it.e, it.bind);
    return it.neg ? `!${src}` : src;
  }

  private readsOf(it: Item): Set<number> {
    const out = new Set<number>();
    exprReads(this.model, it.e, it.bind, out);
    return out;
  }

  /** Static cost of changing an item: how many instances may write a slot it reads. */
  cost(it: Item): number {
    const acc = new Uint32Array(this.words);
    for (const x of this.readsOf(it)) {
      const b = this.writerBits.get(x);
      if (b) for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) | (b[i] as number);
    }
    let n = 0;
    for (let w of acc) for (; w; w &= w - 1) n++;
    return n;
  }

  private atom(it: Item): number {
    const reads = this.readsOf(it);
    const key = [...reads].sort((a, b) => a - b).join(',');
    let id = this.atomIds.get(key);
    if (id === undefined) {
      id = this.atoms.length;
      this.atoms.push(reads);
      this.atomIds.set(key, id);
    }
    return id;
  }

  /** Code for the atoms that must change for the item (whose value is now `!target`) to become `target`. */
  up(it: Item, target: boolean, out: string[], ind: string): void {
    const sh = shapeOf(it);
    if (sh.kind === 'atom') {
      out.push(`${ind}o[n++] = ${this.atom(it)};`);
      return;
    }
    // A conjunction turning false, or a disjunction turning true: any part may change, so all count.
    if ((sh.kind === 'all') !== target) {
      for (const sub of sh.items) this.up(sub, target, out, ind);
      return;
    }
    // A conjunction turning true (a disjunction turning false): every false (true) part must change;
    // the cheapest one that now has the wrong value is enough.
    const ordered = sh.items.map((sub) => ({ sub, c: this.cost(sub) })).sort((a, b) => a.c - b.c);
    ordered.forEach(({ sub }, i) => {
      out.push(`${ind}${i ? '} else ' : ''}if (${target ? '!' : ''}(${this.value(sub)})) {`);
      this.up(sub, target, out, `${ind}  `);
    });
    if (ordered.length) out.push(`${ind}}`);
  }
}

/** Builds the static tables of the reduction for a model and the properties checked. */
export function reductionData(model: Model, properties: readonly PropertyLike[]): ReductionData {
  const insts = model.instances;
  const n = insts.length;
  const reads: Set<number>[] = [];
  const writes: Set<number>[] = [];
  const conjReads: Set<number>[][] = [];
  const conjSrc: string[][] = [];
  for (const inst of insts) {
    const bind = bindingsOf(inst);
    const r = new Set<number>();
    const w = new Set<number>();
    const cs = conjuncts(inst.rule.guard);
    conjReads.push(
      cs.map((c) => {
        const cr = new Set<number>();
        exprReads(model, c, bind, cr);
        for (const x of cr) r.add(x);
        return cr;
      }),
    );
    conjSrc.push(cs.map((c) => predicateSource(model, c, bind)));
    stmtEffects(model, inst.rule.body, bind, r, w);
    reads.push(r);
    writes.push(w);
  }
  const words = Math.ceil(n / 32) || 1;
  const writerBits = new Map<number, Uint32Array>();
  const writersOf = new Map<number, number[]>();
  writes.forEach((w, i) => {
    for (const x of w) {
      let b = writerBits.get(x);
      if (!b) writerBits.set(x, (b = new Uint32Array(words)));
      b[i >>> 5] = (b[i >>> 5] as number) | (1 << (i & 31));
      let l = writersOf.get(x);
      if (!l) writersOf.set(x, (l = []));
      l.push(i);
    }
  });
  const writersOfSet = (slots: Iterable<number>): number[] => {
    const en = new Set<number>();
    for (const x of slots) for (const j of writersOf.get(x) ?? []) en.add(j);
    return [...en].sort((a, b) => a - b);
  };
  // Dependency lists.
  const depStart = new Int32Array(n + 1);
  const deps: number[] = [];
  for (let i = 0; i < n; i++) {
    depStart[i] = deps.length;
    const wi = writes[i] as Set<number>;
    const ri = reads[i] as Set<number>;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const wj = writes[j] as Set<number>;
      if (intersects(wi, reads[j] as Set<number>) || intersects(wi, wj) || intersects(wj, ri)) deps.push(j);
    }
  }
  depStart[n] = deps.length;
  // Enablers of each guard conjunct.
  const conjStart = new Int32Array(n + 1);
  const nesStart: number[] = [];
  const nes: number[] = [];
  let c = 0;
  for (let i = 0; i < n; i++) {
    conjStart[i] = c;
    for (const cr of conjReads[i] as Set<number>[]) {
      nesStart.push(nes.length);
      nes.push(...writersOfSet(cr));
      c++;
    }
  }
  conjStart[n] = c;
  nesStart.push(nes.length);
  // The goals' seed: invariants towards false, covers (when false) towards true.
  const gen = new SeedCode(model, writerBits, words);
  const seed: string[] = ['let n = 0;'];
  let cover = 0;
  for (const p of properties) {
    if (!p.pred) continue;
    const it = { e: p.pred, bind: new Map<number, number>(), neg: false };
    if (p.kind === 'invariant') gen.up(it, false, seed, '');
    else if (p.kind === 'cover') {
      // A cover reached in a level before this one is a goal no more (`done`, fixed during a level).
      seed.push(`if (!done[${cover++}] && !(${gen.value(it)})) {`);
      gen.up(it, true, seed, '  ');
      seed.push('}');
    }
  }
  seed.push('return n;');
  const atomStart = new Int32Array(gen.atoms.length + 1);
  const atomList: number[] = [];
  gen.atoms.forEach((slots, a) => {
    atomStart[a] = atomList.length;
    atomList.push(...writersOfSet(slots));
  });
  atomStart[gen.atoms.length] = atomList.length;
  const steps = properties
    .filter((p) => p.kind === 'step')
    .map((p) => {
      const slots = new Set<number>();
      if (p.pred) exprReads(model, p.pred, new Map(), slots);
      let instances = insts.filter((x) => p.rule === null || p.rule === undefined || x.rule.name === p.rule).map((x) => x.id);
      // Only a step writing the property's trigger variable can break it (stepTrigger.ts): those are its steps.
      if (p.pred) {
        const pred = p.pred;
        const reads = postReads(pred);
        for (const v of new Set(reads.map((r) => r.loc.varIdx))) {
          if (!unbreakableWithout(pred, v)) continue;
          const vSlots = new Set<number>();
          for (const r of reads) if (r.loc.varIdx === v) locSlots(model, r.loc, new Map(), vSlots);
          const writers = new Set(writersOfSet(vSlots));
          instances = instances.filter((i) => writers.has(i));
        }
      }
      return { instances: Int32Array.from(instances), writers: Int32Array.from(writersOfSet(slots)) };
    });
  const cases = conjSrc.map((cs, i) => `case ${i}: ${cs.map((src, j) => `if (!${src}) return ${j};`).join(' ')} return -1;`);
  return {
    nInst: n,
    nSlots: model.layout.nSlots,
    depStart,
    depList: Int32Array.from(deps),
    conjStart,
    nesStart: Int32Array.from(nesStart),
    nesList: Int32Array.from(nes),
    firstFalseSource: `switch (k) {\n${cases.join('\n')}\n}\nreturn -1;`,
    atomStart,
    atomList: Int32Array.from(atomList),
    seedSource: seed.join('\n'),
    steps,
  };
}

/** The reduction in a search: stubborn sets over the static tables (one per thread). */
export class PartialOrder implements Reduction {
  private readonly firstFalse: (k: number, s: Int32Array) => number;
  private readonly seedAtoms: (s: Int32Array, o: Int32Array, done: Uint8Array) => number;
  /** Successors of the state being expanded: instance, step-property failure, state. */
  private readonly ks: Int32Array;
  private readonly fs: Int32Array;
  private readonly buf: Int32Array;
  private readonly tmp: Int32Array;
  private readonly atomsOut: Int32Array;
  /** How many successors `collect` has kept of the state being expanded. */
  private m = 0;
  /** Keeps a successor of the state being expanded (from `tmp`). */
  private readonly collect = (k: number, f: number): void => {
    const m = this.m++;
    this.ks[m] = k;
    this.fs[m] = f;
    this.buf.set(this.tmp, m * this.d.nSlots);
  };
  /** Sets of instances are bit sets of `words` 32-bit words. */
  private readonly words: number;
  /** Rows of bit sets: the instances dependent on each instance; the enablers of each guard conjunct; the writers of each atom; per step property its instances and its readers' writers. */
  private readonly depBits: Uint32Array;
  private readonly nesBits: Uint32Array;
  private readonly atomBits: Uint32Array;
  private readonly stepBits: Uint32Array;
  /** The instances enabled in the state expanded; the closure being built, and the part of it expanded; the seed's closure. */
  private readonly en: Uint32Array;
  private readonly set: Uint32Array;
  private readonly done: Uint32Array;
  private readonly base: Uint32Array;
  private readonly slotOf: Int32Array;
  private readonly chosen: Int32Array;
  private readonly best: Int32Array;
  /** States expanded, and of them those expanded through fewer instances than were enabled. */
  reduced = 0;
  expanded = 0;

  /**
   * `coversDone`: 1 for each cover reached in a finished level (shared by the threads; the
   * coordinator sets it between levels, so a level's reduction does not depend on timing).
   */
  constructor(
    private readonly d: ReductionData,
    private readonly cmExpand: (s: Int32Array, t: Int32Array, emit: (k: number, f: number) => void) => number,
    private readonly coversDone: Uint8Array,
  ) {
    const U = (v: number) => {
      if (v < 0) throw new RangeError('unwrap of none');
      return v;
    };
    this.firstFalse = new Function('U', `return function (k, s) {\n${d.firstFalseSource}\n};`)(U) as (k: number, s: Int32Array) => number;
    this.seedAtoms = new Function('U', `return function (s, o, done) {\n${d.seedSource}\n};`)(U) as (s: Int32Array, o: Int32Array, done: Uint8Array) => number;
    const n = d.nInst;
    this.ks = new Int32Array(n);
    this.fs = new Int32Array(n);
    this.buf = new Int32Array(Math.max(1, n) * d.nSlots);
    this.tmp = new Int32Array(d.nSlots);
    this.atomsOut = new Int32Array(Math.max(1, d.seedSource.split('o[n++]').length));
    this.slotOf = new Int32Array(n);
    this.chosen = new Int32Array(n);
    this.best = new Int32Array(n);
    const words = (this.words = Math.ceil(n / 32) || 1);
    /** Bit-set rows, one per list. */
    const rows = (lists: readonly ArrayLike<number>[]): Uint32Array => {
      const out = new Uint32Array(lists.length * words);
      lists.forEach((list, r) => {
        for (let x = 0; x < list.length; x++) {
          const v = list[x] as number;
          out[r * words + (v >>> 5)] = (out[r * words + (v >>> 5)] as number) | (1 << (v & 31));
        }
      });
      return out;
    };
    /** The lists of a table of starts and entries: row r is list[start[r] .. start[r + 1]). */
    const lists = (start: Int32Array, list: Int32Array) => Array.from({ length: start.length - 1 }, (_, r) => list.subarray(start[r], start[r + 1]));
    this.depBits = rows(lists(d.depStart, d.depList));
    this.nesBits = rows(lists(d.nesStart, d.nesList));
    this.atomBits = rows(lists(d.atomStart, d.atomList));
    this.stepBits = rows(d.steps.flatMap((x) => [x.instances, x.writers]));
    this.en = new Uint32Array(words);
    this.set = new Uint32Array(words);
    this.done = new Uint32Array(words);
    this.base = new Uint32Array(words);
  }

  expand(s: Int32Array, t: Int32Array, emit: (k: number, f: number) => void): number {
    const { d, ks, fs } = this;
    const W = d.nSlots;
    this.m = 0;
    const n = this.cmExpand(s, this.tmp, this.collect);
    const m = this.m;
    this.expanded++;
    const size = m > 1 ? this.choose(s, m) : m;
    if (size < m) this.reduced++;
    const { buf } = this;
    for (let i = 0; i < size; i++) {
      const j = size < m ? (this.best[i] as number) : i;
      for (let x = 0, y = j * W; x < W; x++, y++) t[x] = buf[y] as number;
      emit(ks[j] as number, fs[j] as number);
    }
    return n;
  }

  /** The enabled instances of the smallest stubborn set found, as successor indexes in `best` (ascending); `m` for all. */
  private choose(s: Int32Array, m: number): number {
    const { ks, en } = this;
    en.fill(0);
    for (let i = 0; i < m; i++) {
      const k = ks[i] as number;
      en[k >>> 5] = (en[k >>> 5] as number) | (1 << (k & 31));
      this.slotOf[k] = i;
    }
    let nAtoms: number;
    try {
      nAtoms = this.seedAtoms(s, this.atomsOut, this.coversDone);
    } catch {
      return m; // a goal cannot be walked at this state (an unwrap of none): explore everything
    }
    const base = this.closure(s, m, nAtoms, -1);
    if (base > 0) return this.keep(base);
    // The seed's closure is complete and holds no enabled instance: the closure of the seed and one
    // enabled instance has the enabled instances of that instance's closure outside it.
    this.base.set(this.done);
    let bestSize = m;
    for (let i = 0; i < m && bestSize > 1; i++) {
      const r = this.closure(s, bestSize, nAtoms, ks[i] as number);
      if (r > 0 && r < bestSize) bestSize = this.keep(r);
    }
    return bestSize;
  }

  /** Keeps the enabled instances just chosen (in `chosen`) as the best set, ascending (an insertion sort: a few dozen at most). */
  private keep(size: number): number {
    const { best, chosen } = this;
    for (let i = 0; i < size; i++) {
      const v = chosen[i] as number;
      let j = i;
      for (; j > 0 && (best[j - 1] as number) > v; j--) best[j] = best[j - 1] as number;
      best[j] = v;
    }
    return size;
  }

  /** `set` |= row `r` of `rows`. */
  private or(rows: Uint32Array, r: number): void {
    const { set, words } = this;
    for (let w = 0, x = r * words; w < words; w++, x++) set[w] = (set[w] as number) | (rows[x] as number);
  }

  /** How many instances of `set` are enabled. */
  private enabledIn(): number {
    let c = 0;
    for (let w = 0; w < this.words; w++) for (let x = (this.set[w] as number) & (this.en[w] as number); x !== 0; x &= x - 1) c++;
    return c;
  }

  /**
   * The closure of the goals' seed (or, when `extra` is not -1, of the seed's closure already in
   * `base` and the enabled instance `extra`): its enabled instances go to `chosen` (as successor
   * indexes); returns how many. Stops early when `limit` are reached or a disabled instance has no
   * false conjunct (then returns `limit`: not smaller).
   */
  private closure(s: Int32Array, limit: number, nAtoms: number, extra: number): number {
    const { d, set, done, en, words } = this;
    if (extra >= 0) {
      set.set(this.base);
      done.set(this.base);
      set[extra >>> 5] = (set[extra >>> 5] as number) | (1 << (extra & 31));
    } else {
      set.fill(0);
      done.fill(0);
      for (let a = 0; a < nAtoms; a++) this.or(this.atomBits, this.atomsOut[a] as number);
      for (let p = 0; p < d.steps.length; p++) {
        // A step property's instances; when one is enabled, the writers of what it reads too.
        this.or(this.stepBits, 2 * p);
        let on = 0;
        for (let w = 0, x = 2 * p * words; w < words; w++, x++) on |= (this.stepBits[x] as number) & (en[w] as number);
        if (on !== 0) this.or(this.stepBits, 2 * p + 1);
      }
    }
    for (let more = true; more; ) {
      more = false;
      for (let w = 0; w < words; w++) {
        for (let todo = (set[w] as number) & ~(done[w] as number); todo !== 0; todo = (set[w] as number) & ~(done[w] as number)) {
          const b = todo & -todo;
          done[w] = (done[w] as number) | b;
          more = true;
          const u = w * 32 + 31 - Math.clz32(b);
          if (((en[w] as number) & b) !== 0) {
            this.or(this.depBits, u);
            continue;
          }
          let j: number;
          try {
            j = this.firstFalse(u, s);
          } catch {
            j = -1;
          }
          // A disabled instance has a false conjunct; if none is found, give up on this set.
          if (j < 0) return limit;
          this.or(this.nesBits, (d.conjStart[u] as number) + j);
        }
      }
      if (this.enabledIn() >= limit) return limit;
    }
    let size = 0;
    for (let w = 0; w < words; w++)
      for (let x = (set[w] as number) & (en[w] as number); x !== 0; x &= x - 1) this.chosen[size++] = this.slotOf[w * 32 + 31 - Math.clz32(x & -x)] as number;
    return size;
  }
}
