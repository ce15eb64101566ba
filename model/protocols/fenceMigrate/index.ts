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
    // 667,143 states in fence mode: the large golden count.
    large: { pages: 3, frames: 4, slots: 1, migrations: 2, writes: 2 },
    // 3,806,010 states: the size of the benchmarks, run side by side with Rumur and SPIN.
    bench: { pages: 3, frames: 4, slots: 2, migrations: 2, writes: 2 },
  },
});
