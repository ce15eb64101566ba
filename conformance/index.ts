/**
 * Conformance of a reference driver to its model, and replay of model traces on the simulated
 * hardware, for any protocol package with a harness binding. Why this module exists: it is the public
 * subpath `mirrorcheck/conformance`, which a package's tests (and a driver author's CI) use.
 */
export { runConformance } from './conformance.js';
export type { ConformanceFailure, ConformanceOptions, ConformanceReport, ConformanceRun, MappedViolation } from './conformance.js';
export { continuationsToDamage } from './damageSearch.js';
export { harnessReplayLines, replayOnHarness } from './replayOnHarness.js';
export type { HarnessReplayOptions, HarnessReplayReport, HarnessStep } from './replayOnHarness.js';
export { swarmScheduler } from './swarmScheduler.js';
export { conformanceKit } from './testkit.js';
export type { ConformanceKit, KitParams, StopAt, Survey, SurveyOptions } from './testkit.js';
