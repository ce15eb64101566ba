/**
 * Test helpers for symmetry reduction, written without symmetry.ts: states renamed by a permutation
 * of each symmetric index type, read from the layout's slot names and the variables' types, and
 * what the canonical search needs to be checked against (the symmetric coordinates and value type
 * of each slot, every combination of permutations, the packed order).
 */
import fc from 'fast-check';
import type { Model } from '../model/lang/protocol.js';
import { type IndexType, type Type, cardinality, minValue } from '../model/lang/types.js';

/** Every permutation of 0..n-1 (element i goes to p[i]). */
export function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** A permutation per symmetric type, by type name (a type not named stays). */
export type Renaming = Record<string, number[]>;

/** Every combination of a permutation per symmetric type of the model (by name). */
export function allPerms(model: Model): Renaming[] {
  let out: Renaming[] = [{}];
  for (const t of model.indexes.filter((i) => i.symmetric)) out = out.flatMap((c) => permutations(t.size).map((p) => ({ ...c, [t.name]: p })));
  return out;
}

/** One step of a slot's path from its variable: an array index (with the array's index type) or a record field. */
type Step = { at: IndexType; i: number } | { field: string };

/** What a slot is, from its name: its variable, the steps to it and the symmetric type its value refers to (or null). */
export interface SlotShape {
  readonly variable: string;
  readonly steps: readonly Step[];
  readonly valueType: string | null;
}

/** The shape of every slot of the layout, read from the slot names and the variables' types. */
export function slotShapes(model: Model): SlotShape[] {
  const { slotNames, slotTypes, vars } = model.layout;
  return slotNames.map((name, k) => {
    const v = vars.find((x) => name === x.name || name.startsWith(`${x.name}[`) || name.startsWith(`${x.name}.`)) as { name: string; type: Type };
    let t: Type = v.type;
    const steps: Step[] = [];
    for (const m of name.slice(v.name.length).matchAll(/\[(\d+)\]|\.(\w+)/g)) {
      if (m[2] !== undefined) {
        steps.push({ field: m[2] });
        t = (t as Extract<Type, { kind: 'record' }>).fields[m[2]] as Type;
      } else {
        const arr = t as Extract<Type, { kind: 'array' }>;
        steps.push({ at: arr.index, i: Number(m[1]) });
        t = arr.elem;
      }
    }
    const st = slotTypes[k] as Type;
    const valueType = st.kind === 'index' ? st.name : st.kind === 'option' && st.inner.kind === 'index' ? st.inner.name : null;
    return { variable: v.name, steps, valueType };
  });
}

/** The name of a slot after renaming its array indexes. */
function renamedName(shape: SlotShape, perm: Renaming): string {
  return (
    shape.variable +
    shape.steps
      .map((st) => {
        if ('field' in st) return `.${st.field}`;
        const p = perm[st.at.name];
        return `[${p ? p[st.i] : st.i}]`;
      })
      .join('')
  );
}

/**
 * A function that renames states by `perm`: the slot each slot moves to and the new value of a
 * slot referring to a symmetric type (none, -1, stays none), computed once for the permutation.
 */
export function renamer(model: Model, perm: Renaming, shapes: readonly SlotShape[] = slotShapes(model)): (s: Int32Array) => Int32Array {
  const where = new Map(model.layout.slotNames.map((n, k) => [n, k]));
  const dest = Int32Array.from(shapes, (sh) => where.get(renamedName(sh, perm)) as number);
  const values = shapes.map((sh) => (sh.valueType ? perm[sh.valueType] : undefined));
  return (s) => {
    const u = new Int32Array(s.length);
    for (let k = 0; k < s.length; k++) {
      const v = s[k] as number;
      const p = values[k];
      u[dest[k] as number] = p && v >= 0 ? (p[v] as number) : v;
    }
    return u;
  };
}

/** The state with element i of each symmetric type renamed perm[type][i]. */
export function permute(model: Model, s: Int32Array, perm: Renaming): Int32Array {
  return renamer(model, perm)(s);
}

/** `a` before `b` in the order of canonical forms: packed words compared from the last word down. */
export function packedLess(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/**
 * States with most slots at their least value (twins and equal signatures are common): each slot
 * is its least value with weight `least`, any value with weight `any`.
 */
export function sparseState(model: Model, least: number, any: number): fc.Arbitrary<Int32Array> {
  return fc
    .tuple(
      ...model.layout.slotTypes.map((t) =>
        fc.oneof(
          { arbitrary: fc.constant(minValue(t)), weight: least },
          { arbitrary: fc.integer({ min: minValue(t), max: minValue(t) + cardinality(t) - 1 }), weight: any },
        ),
      ),
    )
    .map((xs) => Int32Array.from(xs));
}
