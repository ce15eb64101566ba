/**
 * The `odp-mirror` package: the model, its properties and proof hints, its counterexample corpus, its
 * named sizes and its reference driver on the simulated hardware (driver/). Why this module exists:
 * it is what the registry (and `mirrorcheck check model/protocols/odpMirror/index.ts`) loads; a
 * driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { odpMirrorHarness } from './driver/harness.js';
import { ODP_ACTORS_PARAMS, ODP_LARGE_PARAMS, ODP_LEGACY_PARAMS, ODP_LIFECYCLE_PARAMS } from './odpMirror.js';
import { odpMirrorProperties } from './odpMirrorProperties.js';

export default definePackage({
  properties: odpMirrorProperties,
  corpus: new URL('./corpus/', import.meta.url),
  harness: odpMirrorHarness,
  sizes: {
    // The proof ladder of bench/smt.ts: sizes of growing size, smallest first (the largest proved by prove --infer in time).
    'ladder-1': { pages: 1, frames: 1, invalidators: 1, invalidations: 1, retries: 1 },
    'ladder-2': { pages: 1, frames: 2, invalidators: 1, invalidations: 1, retries: 1 },
    'ladder-3': { pages: 1, frames: 2, invalidators: 2, invalidations: 2 },
    'ladder-4': { pages: 2, frames: 2, invalidators: 1, invalidations: 1, retries: 1 },
    'ladder-5': { pages: 2, frames: 3, invalidators: 1, invalidations: 2 },
    'ladder-6': { pages: 2, frames: 3 },
    // Three invalidations that can nest or overlap with the fault.
    large: ODP_LARGE_PARAMS,
    bench: ODP_LARGE_PARAMS,
    // Every actor the default leaves out: a prefetch work item, ranges over two pages, two
    // intervals, the mm's exit (MMU_NOTIFY_RELEASE).
    actors: ODP_ACTORS_PARAMS,
    // The interval inserted (MR registration) and removed (deregistration) while invalidations run.
    lifecycle: ODP_LIFECYCLE_PARAMS,
    // The v4.x umem counters (notifiers_count, notifiers_seq) instead of the interval notifier.
    legacy: ODP_LEGACY_PARAMS,
  },
});
