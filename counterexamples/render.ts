/**
 * Renderers for traces: a numbered text listing showing only changed fields, and a Mermaid sequence
 * diagram. Why this module exists: a counterexample must be readable by the driver author who has
 * to fix the bug, so printing lives in one place and every command renders traces the same way.
 */
import type { Model } from '../model/lang/protocol.js';
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
  readonly loop?: number;
  /** Show every field of every state, not only changes. */
  readonly full?: boolean;
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
  if (r.loop !== undefined) {
    const last = r.states.length - 1;
    lines.push(
      r.loop >= last
        ? `State ${last}: no rule is enabled; the run stays here forever.`
        : `Steps ${r.loop + 1}..${last} lead back to state ${r.loop}: these steps repeat forever.`,
    );
  }
  return lines.join('\n');
}

function actorOf(label: string): string {
  const m = /^([A-Z][a-z]+)/.exec(label);
  const p = m?.[1] ?? 'Model';
  return ({ Mm: 'MM', Cpu: 'CPU', Driver: 'Driver', Hca: 'HCA', Dev: 'Device', Device: 'Device', Inv: 'MM' } as Record<string, string>)[p] ?? p;
}

/** A Mermaid `sequenceDiagram`: one message per step from its actor, with the changed fields as a note. */
export function renderMermaid(r: RenderInput): string {
  const actors = ['CPU', 'MM', 'Driver', 'HCA'];
  for (const l of r.labels.slice(1)) {
    const a = actorOf(l);
    if (!actors.includes(a)) actors.push(a);
  }
  const lines = ['sequenceDiagram'];
  for (const a of actors) lines.push(`    participant ${a}`);
  const esc = (x: string) => x.replace(/[;#]/g, ' ');
  r.states.forEach((s, i) => {
    if (i === 0) return;
    const a = actorOf(r.labels[i] as string);
    if (r.loop !== undefined && i === r.loop + 1) lines.push('    loop repeats forever');
    lines.push(`    ${a}->>${a}: ${i}. ${esc(r.labels[i] as string)}`);
    const ch = changedFields(r.model, r.states[i - 1] as Int32Array, s);
    if (ch.length) lines.push(`    Note right of ${a}: ${esc(ch.join(', ')).replace(/->/g, '→')}`);
    if (r.violation && r.violation.step === i)
      lines.push(`    Note over ${actors[0]},${actors[actors.length - 1]}: VIOLATION ${r.violation.property} (${r.violation.requirement})`);
  });
  if (r.loop !== undefined) lines.push('    end');
  return lines.join('\n');
}

const html = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A standalone HTML page (no scripts, no external resources): one row per step with its actor, the
 * rule instance and the fields it changed; the violating step and the loop are marked.
 */
export function renderHtml(r: RenderInput & { readonly title: string }): string {
  const rows = r.states.map((s, i) => {
    const label = i === 0 ? (r.labels[0] as string) : (r.labels[i] as string);
    const fields = changedFields(r.model, i === 0 || r.full ? null : (r.states[i - 1] as Int32Array), s);
    const bad = r.violation && r.violation.step === i;
    const inLoop = r.loop !== undefined && i > r.loop;
    const cls = [bad ? 'bad' : '', inLoop ? 'loop' : ''].filter(Boolean).join(' ');
    const note = bad
      ? `<div class="why">${html(`${r.violation?.kind} ${r.violation?.property} [${r.violation?.requirement}]: ${r.violation?.doc}`)}</div>`
      : '';
    return `<tr${cls ? ` class="${cls}"` : ''}><td>${i}</td><td>${i === 0 ? '' : html(actorOf(label))}</td><td><code>${html(label)}</code>${note}</td><td>${fields.map((f) => `<code>${html(f)}</code>`).join('<br>')}</td></tr>`;
  });
  const loopNote =
    r.loop !== undefined
      ? `<p class="loopnote">${r.loop >= r.states.length - 1 ? `State ${r.loop}: no rule is enabled; the run stays here forever.` : `Steps ${r.loop + 1}..${r.states.length - 1} lead back to state ${r.loop} and repeat forever (shaded).`}</p>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}th{background:#f3f3f3}
tr.bad td{background:#fde2e2}tr.loop td{background:#eef3ff}.why{color:#a00;font-weight:600;margin-top:4px}
code{font-size:90%}.loopnote{color:#235}
</style></head><body>
<h1>${html(r.title)}</h1>
<table><thead><tr><th>#</th><th>actor</th><th>step</th><th>changed fields</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
${loopNote}
</body></html>`;
}
