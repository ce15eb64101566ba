/**
 * The `odp-mr` package: the model, its properties and proof hints, its counterexample corpus and its
 * named sizes. Why this module exists: it is what the registry (and `mirrorcheck check
 * model/protocols/odpMr/index.ts`) loads; a driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { MR_LARGE_PARAMS } from './odpMr.js';
import { odpMrProperties } from './odpMrProperties.js';

export default definePackage({
  properties: odpMrProperties,
  corpus: new URL('./corpus/', import.meta.url),
  sizes: {
    // 2,503,790 states: two invalidations (implicit MR, two pages).
    large: MR_LARGE_PARAMS,
  },
});
