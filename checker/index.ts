/**
 * The engines' entry points. Why this module exists: it is the public surface of checker/
 * (re-exported by the package root `mirrorcheck`); importing it does not load z3, which the SMT
 * engines load on their first query.
 */
export type {
  CheckJob,
  CheckResult,
  CoverReport,
  Engine,
  ExplicitOptions,
  ExplicitStats,
  Guarantee,
  Hooks,
  Limits,
  MemoryLimit,
  Progress,
  RandomStats,
  SearchFigures,
  SmtStats,
  Stats,
  StoreKind,
  Violation,
} from './engine.js';
export { explicitCheck, explicitRun } from './explicit/explicit.js';
export { explicitCheckWithLiveness, explicitRunWithLiveness, livenessCheck } from './explicit/liveness.js';
export { randomCheck } from './random/random.js';
export { bmcCheck, prove, proveInfer, proveUnbounded, saveHintsModule, shutdownSmt } from './smt/index.js';
export type { BmcOptions, InferOptions, InferProgress, InferResult, InferredInvariant, ProofResult, ProveOptions, UnboundedOptions } from './smt/index.js';
