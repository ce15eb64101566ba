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
    // 429,809 states in fence mode: the large golden count.
    large: { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 3 },
    // 1,483,370 states: the size of the benchmarks, run side by side with Rumur and SPIN.
    bench: { pages: 3, frames: 4, slots: 2, migrations: 3, writes: 3 },
    // The zap-and-fault mode with the collision-retry fault handler (where stale-seq-retry applies).
    'zap-retry': { mode: 'zap-and-fault', fault: 'retry' },
  },
});
