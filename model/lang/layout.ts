/**
 * The state layout: every state variable flattened into scalar slots. Why this module exists: all
 * engines and the trace format agree on one flat view of a state (slot i has scalar type
 * `slotTypes[i]`), so a state is an Int32Array of natural values, and structured values for people
 * and ITF files are derived from it in one place.
 */
import type { Expr, Loc } from './expr.js';
import { type ScalarType, type Type, isScalar, minValue } from './types.js';

/** A state variable as laid out: its first slot and its number of slots. */
export interface VarLayout {
  readonly name: string;
  readonly type: Type;
  readonly base: number;
  readonly size: number;
}

/** The flat layout of all state variables. */
export interface Layout {
  readonly vars: readonly VarLayout[];
  readonly nSlots: number;
  readonly slotTypes: readonly ScalarType[];
  /** Human-readable slot names, e.g. `dma[1].state`. */
  readonly slotNames: readonly string[];
}

/** A structured value: bool, enum name, integer (range or index), null for none, arrays, records. */
export type Value = boolean | number | string | null | readonly Value[] | { readonly [k: string]: Value };

/** Number of scalar slots a type occupies. */
export function slotCount(t: Type): number {
  if (isScalar(t)) return 1;
  if (t.kind === 'record') return Object.values(t.fields).reduce((n, ft) => n + slotCount(ft), 0);
  return t.index.size * slotCount(t.elem);
}

/** Lays out the given variables in declaration order. */
export function makeLayout(vars: readonly { name: string; type: Type }[]): Layout {
  const out: VarLayout[] = [];
  const slotTypes: ScalarType[] = [];
  const slotNames: string[] = [];
  const walk = (t: Type, name: string) => {
    if (isScalar(t)) {
      slotTypes.push(t);
      slotNames.push(name);
    } else if (t.kind === 'record') {
      for (const [f, ft] of Object.entries(t.fields)) walk(ft, `${name}.${f}`);
    } else {
      for (let i = 0; i < t.index.size; i++) walk(t.elem, `${name}[${i}]`);
    }
  };
  let base = 0;
  for (const v of vars) {
    const size = slotCount(v.type);
    out.push({ name: v.name, type: v.type, base, size });
    walk(v.type, v.name);
    base += size;
  }
  return { vars: out, nSlots: base, slotTypes, slotNames };
}

/** One computed index of a location: its value times `stride` is added to the location's first slot. */
export interface LocIndex {
  readonly e: Expr;
  readonly stride: number;
  readonly size: number;
}

/**
 * A location resolved against the layout: its first slot is `base` plus, for each computed index,
 * the index's value times its stride. A location of record or array type spans `slotCount(type)`
 * slots from there. This is the one place that turns field names and array indexes into offsets;
 * the interpreter evaluates the indexes, the compiler folds the constant ones, the SMT translation
 * makes a case split over the values an index can take.
 */
export interface LocShape {
  readonly base: number;
  readonly indexes: readonly LocIndex[];
  readonly type: Type;
}

const shapes = new WeakMap<Loc, LocShape>();

/** The shape of a location in `layout` (computed once per location). */
export function locShape(layout: Layout, loc: Loc): LocShape {
  const known = shapes.get(loc);
  if (known) return known;
  const v = layout.vars[loc.varIdx];
  if (!v) throw new Error(`no variable #${loc.varIdx} (${loc.varName}) in this layout`);
  let base = v.base;
  let t: Type = v.type;
  const indexes: LocIndex[] = [];
  for (const p of loc.path) {
    if (p.kind === 'field') {
      if (t.kind !== 'record') throw new Error(`${loc.varName}: field ${p.name} of a non-record`);
      let found: Type | null = null;
      for (const [f, ft] of Object.entries(t.fields)) {
        if (f === p.name) {
          found = ft;
          break;
        }
        base += slotCount(ft);
      }
      if (!found) throw new Error(`${loc.varName}: no field ${p.name}`);
      t = found;
    } else {
      if (t.kind !== 'array') throw new Error(`${loc.varName}: index of a non-array`);
      indexes.push({ e: p.e, stride: slotCount(t.elem), size: t.index.size });
      t = t.elem;
    }
  }
  const shape = { base, indexes, type: t };
  shapes.set(loc, shape);
  return shape;
}

/** The first slot of a location, given a function that evaluates its index expressions. */
export function locOffset(layout: Layout, loc: Loc, evalIndex: (e: Expr) => number): number {
  const shape = locShape(layout, loc);
  let off = shape.base;
  for (const ix of shape.indexes) off += evalIndex(ix.e) * ix.stride;
  return off;
}

/** A state with every slot at its type's default value. */
export function defaultState(layout: Layout): Int32Array {
  const s = new Int32Array(layout.nSlots);
  layout.slotTypes.forEach((t, i) => {
    s[i] = minValue(t);
  });
  return s;
}

function scalarValue(t: ScalarType, v: number): Value {
  switch (t.kind) {
    case 'bool':
      return v !== 0;
    case 'enum':
      return t.values[v] ?? `?${v}`;
    case 'option':
      return v < 0 ? null : scalarValue(t.inner, v);
    default:
      return v;
  }
}

function scalarNatural(t: ScalarType, x: Value): number | undefined {
  switch (t.kind) {
    case 'bool':
      return typeof x === 'boolean' ? (x ? 1 : 0) : undefined;
    case 'enum': {
      const i = typeof x === 'string' ? t.values.indexOf(x) : -1;
      return i >= 0 ? i : undefined;
    }
    case 'option':
      return x === null ? -1 : scalarNatural(t.inner, x);
    case 'range':
      return typeof x === 'number' && Number.isInteger(x) && x >= t.lo && x <= t.hi ? x : undefined;
    case 'index':
      return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < t.size ? x : undefined;
  }
}

/** Decodes the slots of one variable (or any typed region) into a structured value. */
export function decodeValue(t: Type, s: ArrayLike<number>, off: number): Value {
  if (isScalar(t)) return scalarValue(t, s[off] as number);
  if (t.kind === 'record') {
    const o: Record<string, Value> = {};
    let k = off;
    for (const [f, ft] of Object.entries(t.fields)) {
      o[f] = decodeValue(ft, s, k);
      k += slotCount(ft);
    }
    return o;
  }
  const n = slotCount(t.elem);
  return Array.from({ length: t.index.size }, (_, i) => decodeValue(t.elem, s, off + i * n));
}

/** Decodes a whole state into `{ varName: value }`. */
export function decodeState(layout: Layout, s: ArrayLike<number>): Record<string, Value> {
  const o: Record<string, Value> = {};
  for (const v of layout.vars) o[v.name] = decodeValue(v.type, s, v.base);
  return o;
}

/**
 * Encodes a structured value into slots; returns a description of the first mismatch, or null.
 * Used when reading traces: a stored state that does not fit the model is reported, not guessed.
 */
export function encodeValue(t: Type, x: Value, s: Int32Array, off: number, path: string): string | null {
  if (isScalar(t)) {
    const v = scalarNatural(t, x);
    if (v === undefined) return `${path}: ${JSON.stringify(x)} is not a value of this field`;
    s[off] = v;
    return null;
  }
  if (t.kind === 'record') {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return `${path}: expected a record`;
    let k = off;
    for (const [f, ft] of Object.entries(t.fields)) {
      const err = encodeValue(ft, (x as Record<string, Value>)[f] as Value, s, k, `${path}.${f}`);
      if (err) return err;
      k += slotCount(ft);
    }
    return null;
  }
  if (!Array.isArray(x) || x.length !== t.index.size) return `${path}: expected an array of ${t.index.size}`;
  const n = slotCount(t.elem);
  for (let i = 0; i < t.index.size; i++) {
    const err = encodeValue(t.elem, x[i] as Value, s, off + i * n, `${path}[${i}]`);
    if (err) return err;
  }
  return null;
}

/** Encodes `{ varName: value }` into a state; returns an error description or the state. */
export function encodeState(layout: Layout, o: Record<string, Value>): Int32Array | string {
  const s = new Int32Array(layout.nSlots);
  for (const v of layout.vars) {
    if (!(v.name in o)) return `missing variable ${v.name}`;
    const err = encodeValue(v.type, o[v.name] as Value, s, v.base, v.name);
    if (err) return err;
  }
  return s;
}

/** Whether two states are equal, slot by slot. */
export function sameState(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The slots where two states differ, each in words as `slot: <names[0]> a[i], <names[1]> b[i]`, in
 * slot order. The one comparison of states for everything that reports a mismatch (trace replay, the
 * SMT path check, the harness's conformance check and replay); each caller says what its two states
 * are (`stored`/`recomputed`, `trace`/`harness`, ...) and how many differences it shows.
 */
export function stateDiffs(layout: Layout, a: ArrayLike<number>, b: ArrayLike<number>, names: readonly [string, string]): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const t = layout.slotTypes[i];
    const show = (v: number | undefined) => (t === undefined || v === undefined ? String(v) : String(scalarValue(t, v) ?? 'none'));
    out.push(`${layout.slotNames[i]}: ${names[0]} ${show(a[i])}, ${names[1]} ${show(b[i])}`);
  }
  return out;
}
