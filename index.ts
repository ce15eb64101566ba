/**
 * mirrorcheck's public API: the modelling language, the property kinds and protocol packages, the
 * engines' entry points and counterexample traces. Why this module exists: a driver author's model
 * (and every built-in protocol, which is written the same way) imports only from here, as
 * `import { ... } from 'mirrorcheck'`; the simulated hardware for reference drivers is the subpath
 * `mirrorcheck/harness`. docs/api.md lists what is public.
 */
export * from './checker/index.js';
export * from './counterexamples/index.js';
export * from './model/lang/index.js';
export * from './properties/index.js';
