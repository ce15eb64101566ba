/**
 * The `dax-revoke` package: the model, its properties and proof hints, its counterexample corpus and its
 * named sizes. Why this module exists: it is what the registry (and `mirrorcheck check
 * model/protocols/daxRevoke/index.ts`) loads; a driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { DAX_LARGE_PARAMS } from './daxRevoke.js';
import { daxRevokeProperties } from './daxRevokeProperties.js';

export default definePackage({
  properties: daxRevokeProperties,
  corpus: new URL('./corpus/', import.meta.url),
  sizes: {
    // 1,316,316 states: three pages, four blocks, two GUP users and two hole punches.
    large: DAX_LARGE_PARAMS,
  },
});
