/**
 * The `odp-mirror` package: the model, its properties and proof hints, its counterexample corpus, its
 * named sizes and its reference driver on the simulated hardware (driver/). Why this module exists:
 * it is what the registry (and `mirrorcheck check model/protocols/odpMirror/index.ts`) loads; a
 * driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { odpMirrorHarness } from './driver/harness.js';
import { ODP_ACTORS_PARAMS, ODP_LARGE_PARAMS } from './odpMirror.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';

export default definePackage({
  properties: odpMirrorProperties,
  corpus: new URL('./corpus/', import.meta.url),
  harness: odpMirrorHarness,
  sizes: {
    // Three invalidations that can nest or overlap with the fault.
    large: ODP_LARGE_PARAMS,
    bench: ODP_LARGE_PARAMS,
    // Every actor the default leaves out: a prefetch work item, ranges over two pages, two
    // intervals, the mm's exit (MMU_NOTIFY_RELEASE).
    actors: ODP_ACTORS_PARAMS,
  },
});
