/**
 * Conformance of a reference driver to its model, and replay of model traces on the simulated
 * hardware, for any protocol package. Why this module exists: it is the public subpath
 * `mirrorcheck/conformance`, which a package's tests (and a driver author's CI) use.
 */
export { runConformance, stateDiff } from './conformance.js';
export type { ConformanceFailure, ConformanceRun, ConformanceSystem, MappedViolation } from './conformance.js';
export { continuationsToDamage, firstDiff, sameState } from './damageSearch.js';
export type { DamageGuide } from './damageSearch.js';
export { swarmScheduler } from './swarmScheduler.js';
