/**
 * Counterexample traces: the type, ITF files, replay and renderers. Why this module exists: it is the
 * public surface of counterexamples/ (re-exported by the package root `mirrorcheck`), for tools that
 * read, replay or show traces.
 */
export { itfToTrace, parseItf, traceToItf } from './itf.js';
export type { ItfHeader } from './itf.js';
export { checkLasso } from './lasso.js';
export type { LassoCheck } from './lasso.js';
export { renderHtml } from './html.js';
export { renderMermaid } from './mermaid.js';
export { renderText } from './render.js';
export type { RenderInput } from './render.js';
export { replayTrace } from './replay.js';
export type { ReplayMismatch, ReplayReport, ReplayViolation } from './replay.js';
export type { Trace, TraceStep } from './trace.js';
