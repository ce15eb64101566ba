/**
 * The SMT engines' public entry points. Why this module exists: the CLI imports from one place;
 * importing it does not load z3 (z3Host.ts loads it on the first check).
 */
export { DEFAULT_BMC_DEPTH, bmcCheck, smtEngine } from './bmc.js';
export type { BmcOptions } from './bmc.js';
export { DEFAULT_MAX_K, prove } from './prove.js';
export type { ProveOptions } from './prove.js';
export { proveUnbounded } from './proveUnbounded.js';
export type { UnboundedOptions } from './proveUnbounded.js';
export type { Obligation, ProofMethod, ProofResult, UnboundedCti } from './proofResult.js';
export { MAX_CHECK_MS, shutdownSmt } from './z3Host.js';
export type { SolverBackend } from './z3Host.js';
export { findNativeZ3 } from './nativeZ3.js';
export { proveInfer } from './proveInfer.js';
export type { InferOptions, InferProgress, InferResult, InferredInvariant } from './proveInfer.js';
export { saveHintsModule } from './hintsModule.js';
