/**
 * The `fence-migrate` package: the model, its properties and proof hints, its counterexample corpus,
 * its named sizes and its reference driver on the simulated hardware (driver/). Why this module
 * exists: it is what the registry (and `mirrorcheck check model/protocols/fenceMigrate/index.ts`)
 * loads; a driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { fenceMigrateHarness } from './driver/harness.js';
import { fenceMigrateProperties } from './fenceMigrateProperties.js';

export default definePackage({
  properties: fenceMigrateProperties,
  corpus: new URL('./corpus/', import.meta.url),
  harness: fenceMigrateHarness,
  sizes: {
    // The proof ladder of bench/smt.ts: sizes of growing size, smallest first (the largest proved by prove --infer in time).
    'ladder-1': { pages: 1, frames: 2 },
    'ladder-2': { pages: 2, frames: 3 },
    'ladder-3': { pages: 2, frames: 4 },
    'ladder-4': { pages: 2, frames: 3, migrations: 3, writes: 3 },
    'ladder-5': { pages: 3, frames: 4 },
    'ladder-6': { pages: 2, frames: 3, slots: 2 },
    'ladder-7': { pages: 3, frames: 4, migrations: 3, writes: 3 },
    'ladder-8': { pages: 3, frames: 5 },
    'ladder-9': { pages: 3, frames: 4, slots: 2 },
    'ladder-10': { pages: 4, frames: 5 },
    // 667,143 states in fence mode: the large golden count.
    large: { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 },
    // 3,806,010 states: the size of the benchmarks, run side by side with Rumur and SPIN.
    bench: { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 2 },
    // The zap-and-fault mode with the collision-retry fault handler (where stale-seq-retry applies).
    'zap-retry': { mode: 'zap-and-fault', fault: 'retry' },
  },
});
