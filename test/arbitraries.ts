/**
 * fast-check generators derived from a model's layout: any assignment of in-range values to the
 * slots (reachable or not), used for round-trip and compiler-versus-interpreter properties.
 */
import fc from 'fast-check';
import type { Layout } from '../model/lang/layout.js';
import { cardinality, minValue } from '../model/lang/types.js';

export function stateArb(layout: Layout): fc.Arbitrary<Int32Array> {
  return fc.tuple(...layout.slotTypes.map((t) => fc.integer({ min: minValue(t), max: minValue(t) + cardinality(t) - 1 }))).map((xs) => Int32Array.from(xs));
}
