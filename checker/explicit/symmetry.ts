/**
 * Symmetry reduction over symmetric index types (Murphi scalarsets). Why this module exists: when
 * the values of an index type are interchangeable (DMA slots, say), states that differ only by a
 * permutation of those values behave alike, so the engine stores one canonical representative per
 * class (see `Canonicalizer`). Soundness needs rules and properties that never single out a value
 * of a symmetric type; `checkSymmetric` rejects models that do.
 */
import { McError } from '../../model/lang/errors.js';
import type { Expr } from '../../model/lang/expr.js';
import type { Model } from '../../model/lang/protocol.js';
import { type SlotPlacement, slotPlacement } from '../../model/lang/compile.js';
import type { Stmt } from '../../model/lang/stmt.js';
import type { IndexType, Type } from '../../model/lang/types.js';
import type { Property } from '../../properties/property.js';

/** Throws MC010 when a rule, property or end state uses a value of a symmetric index as a number or constant. */
export function checkSymmetric(model: Model, properties: readonly Property[]): void {
  const sym = new Set(model.indexes.filter((i) => i.symmetric).map((i) => i.name));
  if (sym.size === 0) return;
  const isSym = (t: { kind: string; name?: string; inner?: { kind: string; name?: string } }) =>
    (t.kind === 'index' && sym.has(t.name as string)) || (t.kind === 'option' && t.inner?.kind === 'index' && sym.has(t.inner.name as string));
  const walkE = (e: Expr, where: string): void => {
    if (e.op === 'lit' && isSym(e.type) && !(e.type.kind === 'option' && e.value === -1)) {
      throw new McError('MC010', `${where}: the constant ${e.value} of symmetric index ${(e.type as IndexType).name ?? ''} breaks symmetry`);
    }
    if (e.op === 'ord' && isSym(e.e.type)) throw new McError('MC010', `${where}: ord() of a symmetric index value breaks symmetry`);
    for (const v of Object.values(e)) {
      if (v && typeof v === 'object' && 'op' in v) walkE(v as Expr, where);
      if (Array.isArray(v)) for (const x of v) if (x && typeof x === 'object' && 'op' in x) walkE(x as Expr, where);
    }
    if (e.op === 'read') for (const p of e.loc.path) if (p.kind === 'at') walkE(p.e, where);
  };
  const resetsSymmetric = (t: Type): boolean =>
    t.kind === 'record' ? Object.values(t.fields).some(resetsSymmetric) : t.kind === 'array' ? resetsSymmetric(t.elem) : t.kind === 'index' && sym.has(t.name);
  const walkS = (ss: readonly Stmt[], where: string): void => {
    for (const s of ss) {
      if (s.kind === 'assign' || s.kind === 'reset') for (const p of s.loc.path) if (p.kind === 'at') walkE(p.e, where);
      if (s.kind === 'reset' && resetsSymmetric(s.loc.type)) throw new McError('MC010', `${where}: reset() sets a symmetric index value to a constant`);
      if (s.kind === 'assign') walkE(s.e, where);
      if (s.kind === 'if') {
        walkE(s.c, where);
        walkS(s.thenBody, where);
        walkS(s.elseBody, where);
      }
      if (s.kind === 'forEach') walkS(s.body, where);
    }
  };
  for (const r of model.rules) {
    walkE(r.guard, `rule ${r.name}`);
    walkS(r.body, `rule ${r.name}`);
  }
  for (const p of properties) {
    if (p.kind === 'liveness') {
      walkE(p.p, `property ${p.name}`);
      walkE(p.q, `property ${p.name}`);
    } else walkE(p.pred, `property ${p.name}`);
  }
  if (model.endState) walkE(model.endState, 'endState');
}

/** A well-mixed 32-bit hash of two integers (summed into signatures, so the order of terms does not matter). */
function mix2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Codes of a symmetric value in a signature: none, the element itself, another element. */
const NONE = -1;
const SELF = -2;
const OTHER = -3;
/** Groups up to this size are searched whole (cheaper than signatures for two or three elements). */
const WHOLE_GROUP_MAX = 6;

/** The slots of a layout as the symmetric types see them, in flat arrays. */
class SymmetricLayout {
  readonly sizes: number[] = [];
  /** Per slot: its symmetric coordinates are coords[cStart[k] .. cStart[k + 1]). */
  readonly cStart: Int32Array;
  readonly cType: Int32Array;
  readonly cIndex: Int32Array;
  readonly cStride: Int32Array;
  /** Per coordinate: the hash of the slot's template (symmetric coordinates abstracted) and the coordinate's position. */
  readonly cTag: Uint32Array;
  /** Per slot: the symmetric type its value refers to (an index or an option of one), or -1, and its template's hash. */
  readonly valueType: Int32Array;
  readonly pointedTag: Uint32Array;
  /**
   * The slots a permutation can change: those indexed by a symmetric type or holding one of its
   * values. A permutation maps them onto themselves and leaves every other slot in place, so a
   * permuted copy needs only these rewritten (most of a protocol's state is pages and frames, not
   * DMA slots).
   */
  readonly affected: Int32Array;
  /**
   * Per type and element, the slots it indexes; per type, the slots holding one of its values. An
   * exchange of two elements moves or rewrites only those slots (see `twins`).
   */
  readonly elementSlots: Int32Array[][];
  readonly valueSlots: Int32Array[];

  constructor(model: Pick<Model, 'indexes' | 'layout'>, sym: readonly IndexType[]) {
    const typeOf = new Map(sym.map((t, i) => [t.name, i]));
    for (const t of sym) this.sizes.push(t.size);
    const coords: { type: number; index: number; stride: number; tag: number }[][] = [];
    const valueType: number[] = [];
    const pointed: number[] = [];
    const templates = new Map<string, number>();
    const walk = (t: Type, key: string, cs: { type: number; index: number; stride: number }[]) => {
      if (t.kind === 'record') {
        for (const [f, ft] of Object.entries(t.fields)) walk(ft, `${key}.${f}`, cs);
        return;
      }
      if (t.kind === 'array') {
        const inner = slotCountOf(t.elem);
        const ti = typeOf.get(t.index.name);
        for (let i = 0; i < t.index.size; i++) {
          if (ti === undefined) walk(t.elem, `${key}[${i}]`, cs);
          else walk(t.elem, `${key}[*]`, [...cs, { type: ti, index: i, stride: inner }]);
        }
        return;
      }
      let tpl = templates.get(key);
      if (tpl === undefined) templates.set(key, (tpl = templates.size + 1));
      coords.push(cs.map((c, j) => ({ ...c, tag: mix2(tpl, j) })));
      const vt = t.kind === 'index' ? typeOf.get(t.name) : t.kind === 'option' && t.inner.kind === 'index' ? typeOf.get(t.inner.name) : undefined;
      valueType.push(vt ?? -1);
      pointed.push(mix2(tpl, 1 << 20));
    };
    for (const v of model.layout.vars) walk(v.type, v.name, []);
    this.cStart = new Int32Array(coords.length + 1);
    const flat = coords.flat();
    coords.reduce((at, cs, k) => {
      this.cStart[k] = at;
      return at + cs.length;
    }, 0);
    this.cStart[coords.length] = flat.length;
    this.cType = Int32Array.from(flat, (c) => c.type);
    this.cIndex = Int32Array.from(flat, (c) => c.index);
    this.cStride = Int32Array.from(flat, (c) => c.stride);
    this.cTag = Uint32Array.from(flat, (c) => c.tag);
    this.valueType = Int32Array.from(valueType);
    this.pointedTag = Uint32Array.from(pointed);
    this.affected = Int32Array.from(coords.keys()).filter((k) => (coords[k] as unknown[]).length > 0 || (valueType[k] as number) >= 0);
    this.elementSlots = sym.map((t, ti) =>
      Array.from({ length: t.size }, (_, i) => Int32Array.from(coords.keys()).filter((k) => (coords[k] ?? []).some((c) => c.type === ti && c.index === i))),
    );
    this.valueSlots = sym.map((_, ti) => Int32Array.from(coords.keys()).filter((k) => valueType[k] === ti));
  }

  get nSlots(): number {
    return this.valueType.length;
  }

  /** Where each slot goes under the permutation (element i of type t goes to perm[t][i]). */
  destinations(perm: readonly Int32Array[]): Int32Array {
    return Int32Array.from({ length: this.nSlots }, (_, k) => this.image(k, perm));
  }

  /** The slot that slot k becomes when each type t is permuted by perm[t] (element i goes to perm[t][i]). */
  image(k: number, perm: readonly Int32Array[]): number {
    const { cStart, cType, cIndex, cStride } = this;
    let d = k;
    for (let c = cStart[k] as number, e = cStart[k + 1] as number; c < e; c++) {
      const i = cIndex[c] as number;
      d += (((perm[cType[c] as number] as Int32Array)[i] as number) - i) * (cStride[c] as number);
    }
    return d;
  }

  /**
   * Writes into `u` the state `s` with each type t permuted by perm[t] (element i goes to perm[t][i]).
   * Only the affected slots are written: `u` must already hold `s` in the others.
   */
  permuteInto(s: Int32Array, perm: readonly Int32Array[], u: Int32Array): void {
    const { valueType, affected } = this;
    for (let a = 0; a < affected.length; a++) {
      const k = affected[a] as number;
      u[this.image(k, perm)] = renamed(s[k] as number, valueType[k] as number, perm);
    }
  }
}

/** Value `v` of a slot whose values are of symmetric type `vt` (-1: none) after the permutation (none, -1, stays). */
function renamed(v: number, vt: number, perm: readonly Int32Array[]): number {
  return vt >= 0 && v >= 0 ? ((perm[vt] as Int32Array)[v] as number) : v;
}

/**
 * Canonicalises states under permutations of the symmetric index types, exactly: the canonical
 * form of a state is the least packed form over a set of permutations that depends only on the
 * state's class, so two states get the same form exactly when a permutation maps one to the other
 * (the counts are those of trying every permutation, as Rumur's exhaustive mode does), without
 * trying n! of them.
 *
 * For groups of up to six permutations every one is tried. Otherwise each element of a symmetric
 * type gets a signature that no permutation changes (a sum of hashes over the slots it indexes —
 * their template, position and value, a reference to itself told apart from one to another element
 * — and over the slots that refer to it); elements are ordered by signature, and only orders of
 * elements with equal signatures (a cell) are tried. Within a cell, elements whose exchange leaves
 * the state unchanged (twins: idle processes, empty slots) are interchangeable, so only
 * arrangements of their classes are tried. A typical state then needs one or a few permutations,
 * whatever n.
 */
export class Canonicalizer {
  readonly active: boolean;
  private readonly lay: SymmetricLayout | null = null;
  /** Whole-group search: every permutation but the identity, as the slot each slot's value comes from and a permutation per type. */
  private readonly whole: { readonly from: Int32Array; readonly perm: Int32Array[] }[] | null = null;
  /** Per type: signature of each element, elements in signature order, start of each one's cell, twin class labels, permutation. */
  private readonly sig: Uint32Array[] = [];
  private readonly order: Int32Array[] = [];
  private readonly cellStart: Int32Array[] = [];
  private readonly cls: Int32Array[] = [];
  private readonly labels: Int32Array[] = [];
  private readonly used: Uint8Array[] = [];
  private readonly perm: Int32Array[] = [];
  /** The inverse of `perm` (per type), for the slot a permuted value comes from. */
  private readonly inv: Int32Array[] = [];
  private readonly best: Uint32Array;
  /**
   * The least permuted state so far, unpacked, and whether it differs from the state itself
   * (whole-group search). Candidates are compared without packing them: packed forms are compared
   * from the last word down, and slots are packed in order from the low bits of the first word
   * (none straddles two words) as their value plus a fixed bias, so that order is the order of the
   * slot values from the last slot down; every candidate equals the state outside the affected
   * slots, so those decide it.
   */
  private readonly bestS: Int32Array;
  private improved = false;
  /** Permutations tried so far (a figure for benchmarks). */
  tried = 0;
  /** The next permutation tried is the first of this state's set. */
  private first = false;
  /** With `track`: the permutation that gave the best form so far (per type), and the identity. */
  private readonly bestPerm: Int32Array[] = [];
  private readonly identity: Int32Array[] = [];
  private readonly track: boolean;
  /** The symmetric types permuted (size above one), in the order of the permutations' arrays. */
  readonly types: readonly IndexType[];

  /**
   * Rows (see `sortRows`): per element of the one symmetric type, the slots it indexes in
   * ascending order, where the layout is made of such rows; null otherwise.
   */
  private readonly rows: Int32Array[] | null = null;
  /** `sortRows`: the elements in the order of the positions they go to. */
  private readonly rowOrder: Int32Array = new Int32Array(0);
  /** `unchangedFrom`: the packed words holding a slot a permutation can change, and those slots' bits in each. */
  private readonly affectedWords: Int32Array = new Int32Array(0);
  private readonly affectedBits: Uint32Array = new Uint32Array(0);
  /** `sortRows`: where each slot lies in the packed form, to rewrite the rows moved there. */
  private readonly place: SlotPlacement | null = null;

  /**
   * `wholeGroupMax`: groups up to this size are searched whole (default 6; tests set 0 to use
   * signatures always). `rows: false`: never sort rows (tests compare the searches).
   */
  constructor(
    model: Pick<Model, 'indexes' | 'layout'>,
    private readonly words: number,
    private readonly pack: (s: Int32Array, w: Uint32Array, off: number) => void,
    opts: { wholeGroupMax?: number; track?: boolean; rows?: boolean } = {},
  ) {
    const sym = model.indexes.filter((i) => i.symmetric && i.size > 1);
    this.types = sym;
    this.track = opts.track ?? false;
    for (const t of sym) {
      this.identity.push(Int32Array.from({ length: t.size }, (_, i) => i));
      this.bestPerm.push(Int32Array.from({ length: t.size }, (_, i) => i));
    }
    this.active = sym.length > 0;
    this.bestS = new Int32Array(model.layout.nSlots);
    this.best = new Uint32Array(words);
    if (!this.active) return;
    this.lay = new SymmetricLayout(model, sym);
    const place = slotPlacement(model.layout.slotTypes);
    const bits = new Uint32Array(place.words);
    for (const k of this.lay.affected) {
      const wd = place.word[k] as number;
      // A slot of one value (no bits) is equal in every state.
      if (wd >= 0) bits[wd] = (bits[wd] as number) | ((place.mask[k] as number) << (place.shift[k] as number));
    }
    const used = [...bits.keys()].filter((i) => bits[i] !== 0);
    this.affectedWords = Int32Array.from(used);
    this.affectedBits = Uint32Array.from(used, (i) => bits[i] as number);
    if (!this.track && (opts.rows ?? true)) {
      this.rows = rowsOf(this.lay);
      this.rowOrder = new Int32Array(this.rows?.length ?? 0);
      this.place = place;
    }
    for (const t of sym) {
      this.sig.push(new Uint32Array(t.size));
      this.order.push(new Int32Array(t.size));
      this.cellStart.push(new Int32Array(t.size));
      this.cls.push(new Int32Array(t.size));
      this.labels.push(new Int32Array(t.size));
      this.used.push(new Uint8Array(t.size));
      this.perm.push(new Int32Array(t.size));
      this.inv.push(new Int32Array(t.size));
    }
    if (this.group <= (opts.wholeGroupMax ?? WHOLE_GROUP_MAX)) {
      let combos: Int32Array[][] = [[]];
      for (const t of sym) combos = combos.flatMap((c) => permutations(t.size).map((p) => [...c, Int32Array.from(p)]));
      const lay = this.lay;
      this.whole = combos
        .filter((c) => c.some((p) => p.some((x, i) => x !== i)))
        .map((perm) => {
          // The slot whose value lands in each slot (the inverse of the destinations).
          const dest = lay.destinations(perm);
          const from = new Int32Array(dest.length);
          dest.forEach((d, k) => {
            from[d] = k;
          });
          return { from, perm };
        });
    }
  }

  /** Number of permutations of the symmetric types (the group the canonical form is taken over). */
  get group(): number {
    return (this.lay?.sizes ?? []).reduce((p, n) => p * factorial(n), 1);
  }

  /**
   * Whether the packed state `t` is canonical because it agrees with the packed canonical state
   * `src` on every slot a permutation can change (`SymmetricLayout.affected`; compared as the bits
   * of those slots in each packed word, `affectedBits`): every permuted copy of `t` then differs
   * from `t` exactly where the same copy of `src` differs from `src`, and in the same way (the
   * other slots are equal in both), so none is less than `t` as none is less than `src`; the
   * signatures, made of the affected slots only, are the same too. Most steps of a protocol change
   * no slot indexed by a symmetric type, so this saves their canonicalisation. With `track`, the
   * permutation kept is then the identity.
   */
  unchangedFrom(src: Uint32Array, t: Uint32Array): boolean {
    const { affectedWords: words, affectedBits: bits } = this;
    for (let i = 0; i < words.length; i++) {
      const wd = words[i] as number;
      if ((((src[wd] as number) ^ (t[wd] as number)) & (bits[i] as number)) !== 0) return false;
    }
    if (this.track) this.keepPerm(this.identity);
    return true;
  }

  /**
   * Replaces the packed state in `out` (already `pack(s)`) with its canonical form.
   * Returns true when it changed.
   */
  canonical(s: Int32Array, out: Uint32Array): boolean {
    const { best, words, bestS } = this;
    if (this.rows) return this.sortRows(s, out);
    if (this.whole) {
      // The identity is one of the group: start from the state itself.
      bestS.set(s);
      this.improved = false;
      if (this.track) this.keepPerm(this.identity);
      for (const p of this.whole) this.tryWhole(s, p.from, p.perm);
      if (!this.improved) return false;
    } else {
      // Only the arrangements count (the identity is not one unless it sorts the signatures).
      this.signatures(s);
      this.prepare(s);
      this.first = true;
      do this.tryPermutation(s, this.arrangement());
      while (this.nextArrangement());
    }
    this.pack(bestS, best, 0);
    for (let i = 0; i < words; i++) {
      if (out[i] !== best[i]) {
        out.set(best);
        return true;
      }
    }
    return false;
  }

  /**
   * Whole-group search: compares the state permuted by `perm` with the best so far slot by slot,
   * from the most significant affected slot down (see `bestS` for why that is the packed order),
   * computing each permuted value from the slot it comes from (`from`), and stops at the first
   * difference: most permutations are told apart by a slot or two, and only a better one is
   * written out.
   */
  private tryWhole(s: Int32Array, from: Int32Array, perm: readonly Int32Array[]): void {
    this.tried++;
    const { bestS } = this;
    const { valueType: vts, affected } = this.lay as SymmetricLayout;
    for (let a = affected.length - 1; a >= 0; a--) {
      const k = affected[a] as number;
      const x = renamed(s[from[k] as number] as number, vts[k] as number, perm);
      const y = bestS[k] as number;
      if (x === y) continue;
      if (x < y) {
        for (let b = a; b >= 0; b--) {
          const k2 = affected[b] as number;
          bestS[k2] = renamed(s[from[k2] as number] as number, vts[k2] as number, perm);
        }
        this.improved = true;
        if (this.track) this.keepPerm(perm);
      }
      return;
    }
  }

  /**
   * Signature search: the first arrangement becomes the best so far; each later one is compared
   * with it as in tryWhole, slot by slot from the most significant affected slot, the slot a
   * permuted value comes from found through the inverse permutation, and abandoned at the first
   * difference.
   */
  private tryPermutation(s: Int32Array, perm: readonly Int32Array[]): void {
    const lay = this.lay as SymmetricLayout;
    this.tried++;
    if (this.first) {
      this.bestS.set(s);
      lay.permuteInto(s, perm, this.bestS);
      if (this.track) this.keepPerm(perm);
      this.first = false;
      return;
    }
    const { inv, bestS } = this;
    for (let t = 0; t < perm.length; t++) {
      const p = perm[t] as Int32Array;
      const q = inv[t] as Int32Array;
      for (let i = 0; i < p.length; i++) q[p[i] as number] = i;
    }
    const { valueType, affected } = lay;
    // The value slot k takes comes from the slot the inverse permutation makes of k.
    const valueAt = (k: number): number => renamed(s[lay.image(k, inv)] as number, valueType[k] as number, perm);
    for (let a = affected.length - 1; a >= 0; a--) {
      const k = affected[a] as number;
      const x = valueAt(k);
      const y = bestS[k] as number;
      if (x === y) continue;
      if (x < y) {
        bestS[k] = x;
        for (let b = a - 1; b >= 0; b--) bestS[affected[b] as number] = valueAt(affected[b] as number);
        if (this.track) this.keepPerm(perm);
      }
      return;
    }
  }

  /**
   * Row search, where the state's symmetric part is made of rows (`rowsOf`: one symmetric type,
   * no slot holding one of its values, each affected slot indexed once by it). A permutation then only moves whole rows,
   * and the least packed form, compared from the last slot down, puts the least row last: the
   * rows sorted by their slots from the last down, the greatest first. One sort of n rows instead
   * of trying permutations (fence-migrate: its DMA slots). Rewrites in the packed state `out` the
   * slots of the rows that moved (`place`), and returns true when any did.
   */
  private sortRows(s: Int32Array, out: Uint32Array): boolean {
    const rows = this.rows as Int32Array[];
    const order = this.rowOrder;
    const n = order.length;
    this.tried++;
    for (let i = 0; i < n; i++) order[i] = i;
    // Insertion sort (n is small), greatest row first; equal rows keep their order.
    for (let i = 1; i < n; i++) {
      const x = order[i] as number;
      let j = i - 1;
      while (j >= 0 && compareRows(s, rows[order[j] as number] as Int32Array, rows[x] as Int32Array) < 0) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = x;
    }
    let moved = false;
    for (let p = 0; p < n && !moved; p++) moved = order[p] !== p && compareRows(s, rows[order[p] as number] as Int32Array, rows[p] as Int32Array) !== 0;
    if (!moved) return false;
    const { word, shift, mask: masks, bias } = this.place as SlotPlacement;
    for (let p = 0; p < n; p++) {
      if (order[p] === p) continue;
      const from = rows[order[p] as number] as Int32Array;
      const to = rows[p] as Int32Array;
      for (let j = 0; j < to.length; j++) {
        const k = to[j] as number;
        const wd = word[k] as number;
        // A slot of one value is packed in no bit (and is equal in every row).
        if (wd < 0) continue;
        const sh = shift[k] as number;
        const mask = masks[k] as number;
        const code = ((s[from[j] as number] as number) + (bias[k] as number)) & mask;
        out[wd] = ((out[wd] as number) & ~(mask << sh)) | (code << sh);
      }
    }
    return true;
  }

  private keepPerm(perm: readonly Int32Array[]): void {
    for (let t = 0; t < perm.length; t++) (this.bestPerm[t] as Int32Array).set(perm[t] as Int32Array);
  }

  /**
   * With `track`: the permutation the last `canonical` call applied (element i of type t went to
   * `[t][i]`, types in the order of `types`): it maps the state given to its canonical form. Valid
   * until the next call.
   */
  permutation(): readonly Int32Array[] {
    if (!this.track) throw new Error('internal: the canonicaliser does not keep its permutations');
    return this.bestPerm;
  }

  /** The signatures of every element at state `s`. */
  private signatures(s: Int32Array): void {
    for (const g of this.sig) g.fill(0);
    const { sig } = this;
    const { cStart, cType, cIndex, cTag, valueType, pointedTag, affected } = this.lay as SymmetricLayout;
    // Other slots have no symmetric coordinate and hold no symmetric value: they add nothing.
    for (let a = 0; a < affected.length; a++) {
      const k = affected[a] as number;
      const v = s[k] as number;
      const vt = valueType[k] as number;
      for (let c = cStart[k] as number, e = cStart[k + 1] as number; c < e; c++) {
        const ct = cType[c] as number;
        const ci = cIndex[c] as number;
        const code = vt < 0 ? v : v < 0 ? NONE : vt === ct && v === ci ? SELF : OTHER;
        const g = sig[ct] as Uint32Array;
        g[ci] = ((g[ci] as number) + mix2(cTag[c] as number, code)) >>> 0;
      }
      if (vt >= 0 && v >= 0) {
        const g = sig[vt] as Uint32Array;
        g[v] = ((g[v] as number) + (pointedTag[k] as number) + (cStart[k + 1] as number) - (cStart[k] as number)) >>> 0;
      }
    }
  }

  /**
   * Whether exchanging elements a and b of type `type` leaves `s` unchanged. Only the slots a or b
   * index and the slots holding a value of the type can change, so only those are compared.
   */
  private twins(s: Int32Array, type: number, a: number, b: number): boolean {
    const lay = this.lay as SymmetricLayout;
    const slots = lay.elementSlots[type] as Int32Array[];
    return (
      this.unchangedBySwap(s, type, a, b, slots[a] as Int32Array) &&
      this.unchangedBySwap(s, type, a, b, slots[b] as Int32Array) &&
      this.unchangedBySwap(s, type, a, b, lay.valueSlots[type] as Int32Array)
    );
  }

  /** Whether exchanging a and b of `type` leaves each of `ks` with the value it has now. */
  private unchangedBySwap(s: Int32Array, type: number, a: number, b: number, ks: Int32Array): boolean {
    const { cStart, cType, cIndex, cStride, valueType } = this.lay as SymmetricLayout;
    for (let x = 0; x < ks.length; x++) {
      const k = ks[x] as number;
      let d = k;
      for (let c = cStart[k] as number, e = cStart[k + 1] as number; c < e; c++) {
        if (cType[c] !== type) continue;
        const i = cIndex[c] as number;
        if (i === a) d += (b - a) * (cStride[c] as number);
        else if (i === b) d += (a - b) * (cStride[c] as number);
      }
      let v = s[k] as number;
      if (valueType[k] === type && v >= 0) v = v === a ? b : v === b ? a : v;
      if (s[d] !== v) return false;
    }
    return true;
  }

  /**
   * Orders the elements of each type by signature, marks the cells (equal signatures) and labels
   * each position with its twin class; the labels start ascending within each cell.
   */
  private prepare(s: Int32Array): void {
    for (let t = 0; t < this.sig.length; t++) {
      const g = this.sig[t] as Uint32Array;
      const order = this.order[t] as Int32Array;
      const cellStart = this.cellStart[t] as Int32Array;
      const cls = this.cls[t] as Int32Array;
      const n = order.length;
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = 1; i < n; i++) {
        const x = order[i] as number;
        let j = i - 1;
        while (j >= 0 && (g[order[j] as number] as number) > (g[x] as number)) {
          order[j + 1] = order[j] as number;
          j--;
        }
        order[j + 1] = x;
      }
      for (let i = 0; i < n; i++) {
        cellStart[i] = i > 0 && g[order[i - 1] as number] === g[order[i] as number] ? (cellStart[i - 1] as number) : i;
        cls[i] = i;
        for (let j = cellStart[i] as number; j < i; j++) {
          if (cls[j] === j && this.twins(s, t, order[j] as number, order[i] as number)) {
            cls[i] = j;
            break;
          }
        }
      }
      // The first arrangement: each cell's labels ascending.
      const lab = this.labels[t] as Int32Array;
      lab.set(cls);
      for (let end = n; end > 0; end = cellStart[end - 1] as number) sortRange(lab, cellStart[end - 1] as number, end);
    }
  }

  /** The permutation of each type for the current arrangement: position p takes the next unused element of class labels[p]. */
  private arrangement(): Int32Array[] {
    for (let t = 0; t < this.labels.length; t++) {
      const lab = this.labels[t] as Int32Array;
      const order = this.order[t] as Int32Array;
      const cls = this.cls[t] as Int32Array;
      const perm = this.perm[t] as Int32Array;
      const used = this.used[t] as Uint8Array;
      used.fill(0);
      for (let p = 0; p < lab.length; p++) {
        for (let i = (this.cellStart[t] as Int32Array)[p] as number; i < lab.length; i++) {
          if (!used[i] && cls[i] === lab[p]) {
            used[i] = 1;
            perm[order[i] as number] = p;
            break;
          }
        }
      }
    }
    return this.perm;
  }

  /** Advances to the next arrangement of twin-class labels within cells (lexicographic, with carry); false after the last. */
  private nextArrangement(): boolean {
    for (let t = this.labels.length - 1; t >= 0; t--) {
      const lab = this.labels[t] as Int32Array;
      const cs = this.cellStart[t] as Int32Array;
      for (let end = lab.length; end > 0; ) {
        const start = cs[end - 1] as number;
        if (end - start > 1) {
          if (nextPermutation(lab, start, end)) return true;
          sortRange(lab, start, end);
        }
        end = start;
      }
    }
    return false;
  }
}

/** Compares two rows of `s` slot by slot from the last slot down (the order of packed forms). */
function compareRows(s: Int32Array, x: Int32Array, y: Int32Array): number {
  for (let j = x.length - 1; j >= 0; j--) {
    const a = s[x[j] as number] as number;
    const b = s[y[j] as number] as number;
    if (a !== b) return a - b;
  }
  return 0;
}

/**
 * The rows of a layout whose symmetric part is made of rows (see `Canonicalizer.sortRows`): per
 * element, the slots it indexes, ascending; null when there is more than one symmetric type, a
 * slot holds one of its values, or a slot is indexed by it twice (a matrix).
 */
function rowsOf(lay: SymmetricLayout): Int32Array[] | null {
  if (lay.sizes.length !== 1 || (lay.valueSlots[0] as Int32Array).length > 0) return null;
  for (const k of lay.affected) if ((lay.cStart[k + 1] as number) - (lay.cStart[k] as number) !== 1) return null;
  // Each element's slots then correspond in order: an exchange of two elements moves each slot of
  // one by a fixed stride within its variable, and the variables' slots do not interleave.
  return lay.elementSlots[0] as Int32Array[];
}

function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Rearranges a[start..end) into the next lexicographic permutation; false when it was the last. */
function nextPermutation(a: Int32Array, start: number, end: number): boolean {
  let i = end - 2;
  while (i >= start && (a[i] as number) >= (a[i + 1] as number)) i--;
  if (i < start) return false;
  let j = end - 1;
  while ((a[j] as number) <= (a[i] as number)) j--;
  const x = a[i] as number;
  a[i] = a[j] as number;
  a[j] = x;
  for (let x = i + 1, y = end - 1; x < y; x++, y--) {
    const z = a[x] as number;
    a[x] = a[y] as number;
    a[y] = z;
  }
  return true;
}

/** Sorts a[start..end) in place, ascending (insertion sort: the ranges are a few elements, and a subarray view per call would be garbage). */
function sortRange(a: Int32Array, start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    const x = a[i] as number;
    let j = i - 1;
    while (j >= start && (a[j] as number) > x) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = x;
  }
}

/** Number of slots of a type. */
function slotCountOf(t: Type): number {
  if (t.kind === 'record') return Object.values(t.fields).reduce((n, ft) => n + slotCountOf(ft), 0);
  if (t.kind === 'array') return t.index.size * slotCountOf(t.elem);
  return 1;
}
