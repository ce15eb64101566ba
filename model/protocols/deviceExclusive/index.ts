/**
 * The `device-exclusive` package: the model, its properties and proof hints, its counterexample
 * corpus and its named sizes. Why this module exists: it is what the registry (and `mirrorcheck
 * check model/protocols/deviceExclusive/index.ts`) loads; a driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { DX_LARGE_PARAMS } from './deviceExclusive.js';
import { deviceExclusiveProperties } from './deviceExclusiveProperties.js';

export default definePackage({
  properties: deviceExclusiveProperties,
  corpus: new URL('./corpus/', import.meta.url),
  sizes: {
    // 1,497,568 states: two pages, four frames, three CPU threads.
    large: DX_LARGE_PARAMS,
  },
});
