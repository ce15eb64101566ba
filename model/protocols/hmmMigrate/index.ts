/**
 * The `hmm-migrate` package: the model, its properties and proof hints, its counterexample corpus
 * its named sizes and its reference driver on the simulated hardware (driver/). Why this module exists: it is what the registry (and `mirrorcheck check
 * model/protocols/hmmMigrate/index.ts`) loads; a driver author's package has the same shape.
 */
import { definePackage } from 'mirrorcheck';
import { hmmMigrateHarness } from './driver/harness.js';
import { HM_LARGE_PARAMS } from './hmmMigrate.js';
import { hmmMigrateProperties } from './hmmMigrateProperties.js';

export default definePackage({
  properties: hmmMigrateProperties,
  corpus: new URL('./corpus/', import.meta.url),
  harness: hmmMigrateHarness,
  sizes: {
    // 1,451,268 states: two CPU threads, two device pages, three migrations.
    large: HM_LARGE_PARAMS,
  },
});
