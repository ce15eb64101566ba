/**
 * Property kinds, property sets and protocol packages, as a model author uses them. Why this module
 * exists: it is the public surface of properties/ (re-exported by the package root `mirrorcheck`).
 */
export { definePackage, sizeOf } from './package.js';
export type { ParamSize, ProtocolPackage } from './package.js';
export {
  DEADLOCK,
  alwaysEventually,
  cover,
  definePropertySet,
  eventually,
  invariant,
  leadsTo,
  leadsToEach,
  safetyProperties,
  stepProperty,
} from './property.js';
export type { Cover, Invariant, Liveness, ProofHints, Property, PropertySet, StepProperty } from './property.js';
