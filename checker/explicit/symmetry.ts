/**
 * Symmetry reduction over symmetric index types (Murphi scalarsets). Why this module exists: when
 * the values of an index type are interchangeable (DMA slots, say), states that differ only by a
 * permutation of those values behave alike, so the engine stores one canonical representative per
 * class: the permuted state with the smallest packed words. Soundness needs rules and properties
 * that never single out a value of a symmetric type; `checkSymmetric` rejects models that do.
 */
import { McError } from '../../model/lang/errors.js';
import type { Expr } from '../../model/lang/expr.js';
import type { Model } from '../../model/lang/protocol.js';
import type { Stmt } from '../../model/lang/stmt.js';
import type { IndexType, Type } from '../../model/lang/types.js';
import type { Property } from '../../properties/property.js';

function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

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

/** Canonicalises states: applies every permutation of the symmetric indexes and keeps the least packed form. */
export class Canonicalizer {
  /** For each non-identity permutation: destination slot of each slot, and the value map per slot. */
  private readonly perms: { dest: Int32Array; map: (Int32Array | null)[] }[] = [];
  private readonly u: Int32Array;
  private readonly w: Uint32Array;
  readonly active: boolean;

  constructor(
    model: Pick<Model, 'indexes' | 'layout'>,
    private readonly words: number,
    private readonly pack: (s: Int32Array, w: Uint32Array, off: number) => void,
  ) {
    const sym = model.indexes.filter((i) => i.symmetric && i.size > 1);
    this.active = sym.length > 0;
    this.u = new Int32Array(model.layout.nSlots);
    this.w = new Uint32Array(words);
    if (!this.active) return;
    // Coordinates of each slot: the path of array positions (with their index type) and its scalar type.
    const coords: { key: (string | number)[]; idx: (string | null)[]; valIndex: string | null }[] = [];
    const walk = (t: Type, key: (string | number)[], idx: (string | null)[]) => {
      if (t.kind === 'record') for (const [f, ft] of Object.entries(t.fields)) walk(ft, [...key, f], [...idx, null]);
      else if (t.kind === 'array') for (let i = 0; i < t.index.size; i++) walk(t.elem, [...key, i], [...idx, t.index.name]);
      else coords.push({ key, idx, valIndex: t.kind === 'index' ? t.name : t.kind === 'option' && t.inner.kind === 'index' ? t.inner.name : null });
    };
    for (const v of model.layout.vars) walk(v.type, [v.name], [null]);
    const slotOf = new Map(coords.map((c, k) => [JSON.stringify(c.key), k]));
    // Every combination of one permutation per symmetric index type.
    let combos: Map<string, number[]>[] = [new Map()];
    for (const ix of sym) {
      const next: Map<string, number[]>[] = [];
      for (const c of combos) for (const p of permutations(ix.size)) next.push(new Map([...c, [ix.name, p]]));
      combos = next;
    }
    for (const combo of combos) {
      if ([...combo.values()].every((p) => p.every((x, i) => x === i))) continue;
      const dest = new Int32Array(coords.length);
      const map: (Int32Array | null)[] = [];
      coords.forEach((c, k) => {
        const key = c.key.map((x, j) => {
          const ixName = c.idx[j];
          const p = ixName ? combo.get(ixName) : undefined;
          return p && typeof x === 'number' ? (p[x] as number) : x;
        });
        dest[k] = slotOf.get(JSON.stringify(key)) as number;
        const p = c.valIndex ? combo.get(c.valIndex) : undefined;
        map.push(p ? Int32Array.from(p) : null);
      });
      this.perms.push({ dest, map });
    }
  }

  /** Number of permutations tried per state (including the identity). */
  get group(): number {
    return this.perms.length + 1;
  }

  /**
   * Replaces the packed state in `out` (already `pack(s)`) with its canonical form.
   * Returns true when it changed.
   */
  canonical(s: Int32Array, out: Uint32Array): boolean {
    let changed = false;
    const { u, w, words } = this;
    for (const { dest, map } of this.perms) {
      for (let k = 0; k < s.length; k++) {
        const v = s[k] as number;
        const m = map[k];
        u[dest[k] as number] = m && v >= 0 ? (m[v] as number) : v;
      }
      this.pack(u, w, 0);
      let less = false;
      for (let i = words - 1; i >= 0; i--) {
        const a = w[i] as number;
        const b = out[i] as number;
        if (a !== b) {
          less = a < b;
          break;
        }
      }
      if (less) {
        out.set(w);
        changed = true;
      }
    }
    return changed;
  }
}
