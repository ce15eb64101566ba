/**
 * The model package: what `mirrorcheck check ./index.ts` and `mirrorcheck ci` load. Why this file
 * exists: it puts the protocol, its properties, its counterexample corpus and its named sizes together
 * as one value, the default export.
 */
import { definePackage } from 'mirrorcheck';
import { myDriverProperties } from './properties.js';

export default definePackage({
  properties: myDriverProperties,
  corpus: new URL('./corpus/', import.meta.url),
  sizes: {
    larger: { pages: 3, frames: 3 },
  },
});
