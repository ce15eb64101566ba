/**
 * The `dmirror` package: the model, its properties and proof hints, its counterexample corpus and its
 * named sizes. Why this module exists: it is what `mirrorcheck check ./dmirror/index.ts` and the
 * project file load; the default export is the package.
 */
import { definePackage } from 'mirrorcheck';
import { dmirrorProperties } from './dmirrorProperties.js';

export default definePackage({
  properties: dmirrorProperties,
  corpus: new URL('./corpus/', import.meta.url),
  sizes: {
    // Three pages and three invalidations: every fault can collide with every invalidation.
    large: { pages: 3, frames: 4, invalidations: 3 },
  },
});
