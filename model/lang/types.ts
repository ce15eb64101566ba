/**
 * The finite types of the modelling language. Why this module exists: every engine derives its
 * state representation from these declarations (bit widths for packing, sorts for SMT, value
 * generators for property tests), so a type is plain data that any engine can read.
 *
 * Scalar values are held as small integers ("natural values"): bool 0/1, enum ordinal, range value,
 * index ordinal, option -1 for none or the inner natural value.
 */
import { ModelBuildError } from './errors.js';

/** The boolean type. */
export interface BoolType {
  readonly kind: 'bool';
}
/** A named enumeration: one of a list of names. */
export interface EnumType {
  readonly kind: 'enum';
  readonly name: string;
  readonly values: readonly string[];
}
/** The integers from `lo` to `hi` inclusive. */
export interface RangeType {
  readonly kind: 'range';
  readonly lo: number;
  readonly hi: number;
}
/** An index type (a Murphi scalarset when `symmetric`): the values 0..size-1, used to index arrays. */
export interface IndexType {
  readonly kind: 'index';
  readonly name: string;
  readonly size: number;
  readonly symmetric: boolean;
}
/** A record of named fields. */
export interface RecordType {
  readonly kind: 'record';
  readonly fields: Readonly<Record<string, Type>>;
}
/** An array with one element per value of an index type. */
export interface ArrayType {
  readonly kind: 'array';
  readonly index: IndexType;
  readonly elem: Type;
}
/** An optional scalar: none, or some value of the inner scalar type. */
export interface OptionType {
  readonly kind: 'option';
  readonly inner: BaseScalarType;
}

/** A scalar type that can be wrapped in an option. */
export type BaseScalarType = BoolType | EnumType | RangeType | IndexType;
/** A type whose value is one number in a state (booleans, enums, ranges, index values, options of those). */
export type ScalarType = BaseScalarType | OptionType;
/** The type of a state variable: a scalar, a record or an array. */
export type Type = ScalarType | RecordType | ArrayType;

/** The type of an arithmetic expression: an integer that must fit a range when stored. */
export interface IntType {
  readonly kind: 'int';
}
/** Types an expression can have: a scalar or an unbounded integer. */
export type ExprType = ScalarType | IntType;

/** The boolean type. */
export const bool: BoolType = { kind: 'bool' };
/** Unbounded integers: the type of arithmetic results before they are stored in a range. */
export const int: IntType = { kind: 'int' };

/** An enumeration, e.g. `enumOf('DmaState', ['idle', 'stalled', 'inflight'])`. */
export function enumOf(name: string, values: readonly string[]): EnumType {
  if (values.length === 0) throw new ModelBuildError(`enum ${name}`, 'has no values');
  if (new Set(values).size !== values.length) throw new ModelBuildError(`enum ${name}`, 'has duplicate values');
  return { kind: 'enum', name, values: [...values] };
}

/** The integers lo..hi inclusive. */
export function range(lo: number, hi: number): RangeType {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new ModelBuildError(`range ${lo}..${hi}`, 'bounds must be integers with lo <= hi');
  return { kind: 'range', lo, hi };
}

/** An index type of `size` values; `symmetric` marks it as a scalarset (values interchangeable). */
export function index(name: string, size: number, opts: { symmetric?: boolean } = {}): IndexType {
  if (!Number.isInteger(size) || size < 1) throw new ModelBuildError(`index ${name}`, `must have a size >= 1, got ${size}`);
  return { kind: 'index', name, size, symmetric: opts.symmetric ?? false };
}

/** A record type with the given fields. */
export function record(fields: Record<string, Type>): RecordType {
  return { kind: 'record', fields: { ...fields } };
}

/** An array type: one `elem` per value of the index type `idx` (a page table, per-slot state). */
export function arrayOf(idx: IndexType, elem: Type): ArrayType {
  return { kind: 'array', index: idx, elem };
}

/** An option type: a value of `inner`, or `none` (an unmapped PTE, an empty translation). */
export function option(inner: BaseScalarType): OptionType {
  // None is held as -1, so an option of a range needs values that cannot be -1 and whose code is
  // the value itself plus one: ranges starting at 0.
  if (inner.kind === 'range' && inner.lo !== 0) throw new ModelBuildError(`option of range ${inner.lo}..${inner.hi}`, 'an option of a range must start at 0');
  return { kind: 'option', inner };
}

/** Whether a type is a scalar (bool, enum, range, index or option), as opposed to a record, an array or `int`. */
export function isScalar(t: Type | IntType): t is ScalarType {
  return t.kind !== 'record' && t.kind !== 'array' && t.kind !== 'int';
}

/** Number of distinct values of a scalar type. */
export function cardinality(t: ScalarType): number {
  switch (t.kind) {
    case 'bool':
      return 2;
    case 'enum':
      return t.values.length;
    case 'range':
      return t.hi - t.lo + 1;
    case 'index':
      return t.size;
    case 'option':
      return cardinality(t.inner) + 1;
  }
}

/** The smallest natural value of a scalar type (its default). */
export function minValue(t: ScalarType): number {
  switch (t.kind) {
    case 'range':
      return t.lo;
    case 'option':
      return -1;
    default:
      return 0;
  }
}

/** Maps a natural value to its code 0..card-1 (used for packing and SMT encodings). */
export function toCode(t: ScalarType, v: number): number {
  return t.kind === 'range' ? v - t.lo : t.kind === 'option' ? v + 1 : v;
}

/** Inverse of `toCode`. */
export function fromCode(t: ScalarType, c: number): number {
  return t.kind === 'range' ? c + t.lo : t.kind === 'option' ? c - 1 : c;
}

/** True when `v` is a natural value of scalar type `t`. */
export function inType(t: ScalarType, v: number): boolean {
  const c = toCode(t, v);
  return Number.isInteger(c) && c >= 0 && c < cardinality(t);
}

/** A short human-readable name of a type, for messages. */
export function typeName(t: Type | IntType): string {
  switch (t.kind) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'enum':
      return `enum ${t.name}`;
    case 'range':
      return `${t.lo}..${t.hi}`;
    case 'index':
      return t.name;
    case 'option':
      return `option(${typeName(t.inner)})`;
    case 'record':
      return `record{${Object.keys(t.fields).join(',')}}`;
    case 'array':
      return `array[${t.index.name}] of ${typeName(t.elem)}`;
  }
}

/** Whether two scalar (or int) types may be compared or assigned to each other. */
export function compatible(a: ExprType, b: ExprType): boolean {
  if (a.kind === 'int' || b.kind === 'int') {
    const num = (t: ExprType) => t.kind === 'int' || t.kind === 'range';
    return num(a) && num(b);
  }
  if (a.kind === 'range' && b.kind === 'range') return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'bool':
      return true;
    case 'enum':
      return a === b || (a.name === (b as EnumType).name && a.values.join() === (b as EnumType).values.join());
    case 'index':
      return a.name === (b as IndexType).name;
    case 'option':
      return compatible(a.inner, (b as OptionType).inner);
    default:
      return false;
  }
}
