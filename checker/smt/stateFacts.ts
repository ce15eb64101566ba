/**
 * Facts about the state, mined from the reachable states. Why this module exists: invariant
 * inference (invariantLearner.ts) blocks a counterexample to induction with a fact that no
 * reachable state breaks; small, natural facts make a readable invariant, so a pool of them is
 * mined up front (a value a slot never takes, two values two slots never take together, two slots
 * equal or different whenever a third has some value) and used when one fits. A fact is plain data
 * over slots, so it can be evaluated on a state here, translated to z3 (invariantLearner.ts) and
 * printed as model code (invariantPrinter.ts).
 */
import type { Model } from '../../model/lang/protocol.js';
import { type ScalarType, cardinality, fromCode } from '../../model/lang/types.js';
import type { ReachableSet, SlotLit } from './reachableSet.js';

/**
 * A fact about one state:
 * - `cube`: not every literal holds (no reachable state matches the cube);
 * - `sets`: not every slot holds one of its listed values (a cube widened to sets of values);
 * - `eq` / `ne`: when `when` holds (always when null), slots `a` and `b` hold equal (different)
 *   natural values.
 */
export type Fact =
  | { readonly kind: 'cube'; readonly lits: readonly SlotLit[] }
  | { readonly kind: 'sets'; readonly lits: readonly SetLit[] }
  | { readonly kind: 'eq' | 'ne'; readonly when: SlotLit | null; readonly a: number; readonly b: number };

/** A slot holding one of some values. */
export interface SetLit {
  readonly slot: number;
  readonly values: readonly number[];
}

/** Whether `f` holds in state `s`. */
export function factHolds(f: Fact, s: Int32Array): boolean {
  if (f.kind === 'cube') return !f.lits.every((l) => s[l.slot] === l.value);
  if (f.kind === 'sets') return !f.lits.every((l) => l.values.includes(s[l.slot] as number));
  if (f.when && s[f.when.slot] !== f.when.value) return true;
  return (s[f.a] === s[f.b]) === (f.kind === 'eq');
}

/** The slots a fact mentions. */
export function factSlots(f: Fact): number[] {
  if (f.kind === 'cube' || f.kind === 'sets') return f.lits.map((l) => l.slot);
  return f.when ? [f.when.slot, f.a, f.b] : [f.a, f.b];
}

/** The values two scalar types share (natural values), or null when they are not comparable. */
function sharedValues(a: ScalarType, b: ScalarType): number[] | null {
  const base = (t: ScalarType) => (t.kind === 'option' ? t.inner : t);
  const ba = base(a);
  const bb = base(b);
  const same =
    (ba.kind === 'bool' && bb.kind === 'bool') ||
    (ba.kind === 'enum' && bb.kind === 'enum' && ba.name === bb.name) ||
    (ba.kind === 'index' && bb.kind === 'index' && ba.name === bb.name) ||
    (ba.kind === 'range' && bb.kind === 'range');
  if (!same) return null;
  const vals = (t: ScalarType) => Array.from({ length: cardinality(t) }, (_, c) => fromCode(t, c));
  const vb = new Set(vals(b));
  return vals(a).filter((v) => vb.has(v));
}

/**
 * Facts true in every reachable state: the absent one- and two-literal cubes, and for every pair of
 * comparable slots the (conditional) equalities and disequalities that always hold. Trivial facts
 * (implied by the types, or conditions on one of the two slots) are left out.
 */
export function mineFacts(model: Model, reach: ReachableSet): Fact[] {
  const facts: Fact[] = reach.absentCubes().map((lits) => ({ kind: 'cube' as const, lits }));
  const types = model.layout.slotTypes;
  const n = types.length;
  const lits: SlotLit[] = [];
  types.forEach((ty, j) => {
    for (let c = 0; c < cardinality(ty); c++) {
      const lit = { slot: j, value: fromCode(ty, c) };
      if (reach.meets([lit])) lits.push(lit);
    }
  });
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const shared = sharedValues(types[a] as ScalarType, types[b] as ScalarType);
      if (!shared || shared.length === 0) continue;
      const eq = reach.equalSet(a, b, shared);
      const always = reach.subsetOf(null, eq);
      const never = reach.disjointFrom(null, eq);
      if (always) {
        facts.push({ kind: 'eq', when: null, a, b });
        continue;
      }
      if (never) {
        facts.push({ kind: 'ne', when: null, a, b });
        continue;
      }
      for (const w of lits) {
        if (w.slot === a || w.slot === b) continue;
        if (reach.subsetOf(w, eq)) facts.push({ kind: 'eq', when: w, a, b });
        else if (reach.disjointFrom(w, eq)) facts.push({ kind: 'ne', when: w, a, b });
      }
    }
  }
  return facts;
}
