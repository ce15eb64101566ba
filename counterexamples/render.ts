/**
 * The text rendering of traces (a numbered listing showing only changed fields) and what every
 * rendering shares: the input, value formatting and field differences. Why this module exists: a
 * counterexample must be readable by the driver author who has to fix the bug, so every command
 * renders traces the same way (mermaid.ts and html.ts draw the same input).
 */
import type { Model, ProtocolActors } from '../model/lang/protocol.js';
import type { ScalarType } from '../model/lang/types.js';
import type { ReplayViolation } from './replay.js';

/** Formats one slot's natural value for people. */
export function formatSlot(t: ScalarType, v: number): string {
  switch (t.kind) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'enum':
      return t.values[v] ?? `?${v}`;
    case 'option':
      return v < 0 ? 'none' : formatSlot(t.inner, v);
    default:
      return String(v);
  }
}

/** The fields that differ between two states, as `name: old -> new`. */
export function changedFields(model: Model, a: Int32Array | null, b: Int32Array): string[] {
  const out: string[] = [];
  model.layout.slotTypes.forEach((t, i) => {
    const nb = b[i] as number;
    if (a === null) out.push(`${model.layout.slotNames[i]} = ${formatSlot(t, nb)}`);
    else if (a[i] !== nb) out.push(`${model.layout.slotNames[i]}: ${formatSlot(t, a[i] as number)} -> ${formatSlot(t, nb)}`);
  });
  return out;
}

/** What the renderers draw: a model, the replayed states and labels, the violation and the loop. */
export interface RenderInput {
  readonly model: Model;
  readonly states: readonly Int32Array[];
  readonly labels: readonly string[];
  readonly violation: ReplayViolation | null;
  /** For a lasso: the state the loop goes back to (the steps after it repeat forever). */
  readonly loop?: number;
  /** For a lasso: the liveness property it breaks. */
  readonly liveness?: { readonly property: string; readonly requirement: string; readonly doc: string };
  /** Show every field of every state, not only changes. */
  readonly full?: boolean;
  /** The protocol's actors, for the diagram and the actor column (derived from rule names when absent). */
  readonly actors?: ProtocolActors;
  /** The engine that found the trace and the trace's note (the bug a variant reproduces), for the page's header. */
  readonly engine?: string;
  readonly note?: string;
  /** What replay concluded, in one sentence (shown on the HTML page). */
  readonly verdict?: string;
}

/** `name=value` pairs of a model's parameters, space-separated. */
export function paramsLine(model: Model): string {
  return Object.entries(model.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** What a trace is of, in one line: protocol, variant and parameters. */
export function traceSubject(model: Model): string {
  return `${model.protocol}${model.variant ? ` (variant ${model.variant})` : ''} [${paramsLine(model)}]`;
}

/** One line saying how a lasso's loop repeats, or null for a trace that is not a lasso. */
export function loopSentence(r: RenderInput): string | null {
  if (r.loop === undefined) return null;
  const last = r.states.length - 1;
  return r.loop >= last
    ? `State ${last}: no rule is enabled; the run stays here forever.`
    : `Steps ${r.loop + 1}..${last} lead back to state ${r.loop}: these steps repeat forever.`;
}

/** The numbered text listing. */
export function renderText(r: RenderInput): string {
  const lines: string[] = [];
  r.states.forEach((s, i) => {
    const head = i === 0 ? `State 0 (${r.labels[0]})` : `Step ${i}: ${r.labels[i]}`;
    const loopMark = r.loop !== undefined && i === r.loop ? '   <-- loop starts here' : '';
    const v = r.violation && r.violation.step === i ? `   <-- VIOLATION ${r.violation.property} (${r.violation.requirement})` : '';
    lines.push(`${head}${loopMark}${v}`);
    const fields = changedFields(r.model, i === 0 || r.full ? null : (r.states[i - 1] as Int32Array), s);
    for (const f of fields) lines.push(`    ${f}`);
    if (i > 0 && fields.length === 0) lines.push('    (no field changed)');
    if (r.violation && r.violation.step === i) lines.push(`    ${r.violation.kind} ${r.violation.property} [${r.violation.requirement}]: ${r.violation.doc}`);
  });
  const loop = loopSentence(r);
  if (loop) lines.push(loop);
  return lines.join('\n');
}
