/**
 * Traces as a standalone HTML page. Why this module exists: a counterexample is often shared as a
 * file (a CI artifact, a bug report); the page needs no script and no network, says what it is a
 * trace of (protocol, variant, parameters, engine), puts the violation first so that it is seen
 * without scrolling, and keeps each step short: the fields a step changed are shown, the others
 * collapsed. It is tested in a headless Chromium (counterexamples/html.browser.test.ts).
 */
import { stepActors } from './actors.js';
import { type RenderInput, changedFields, formatSlot, loopSentence } from './render.js';

/** Text escaped for HTML and XML content and attribute values. */
export const escapeMarkup = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const html = escapeMarkup;

/** Every field of state `s`, as `name = value`. */
function allFields(r: RenderInput, s: Int32Array): string[] {
  return r.model.layout.slotTypes.map((t, i) => `${r.model.layout.slotNames[i]} = ${formatSlot(t, s[i] as number)}`);
}

/** A collapsed list of fields with a one-line summary. */
function collapsed(summary: string, fields: readonly string[], open = false): string {
  if (fields.length === 0) return '';
  return `<details${open ? ' open' : ''}><summary>${html(summary)}</summary>${fields.map((f) => `<code>${html(f)}</code>`).join(' ')}</details>`;
}

/** The fields of step `i`: those it changed in full, the unchanged ones (and the whole start state) collapsed. */
function fieldsCell(r: RenderInput, i: number): string {
  const s = r.states[i] as Int32Array;
  if (i === 0) return collapsed(`start state: ${r.model.layout.slotNames.length} fields`, allFields(r, s), r.full);
  const prev = r.states[i - 1] as Int32Array;
  const changed = changedFields(r.model, prev, s);
  const same = allFields(r, s).filter((_, k) => prev[k] === s[k]);
  const shown = changed.length ? changed.map((f) => `<code>${html(f)}</code>`).join(' ') : '<span class="none">no field changed</span>';
  return `${shown}${collapsed(`${same.length} unchanged fields`, same, r.full)}`;
}

/** The box at the top: what is wrong and where, so that it is visible without scrolling. */
function verdictBox(r: RenderInput): string {
  const parts: string[] = [];
  const v = r.violation;
  if (v) {
    const label = v.step === 0 ? 'the start state' : `step ${v.step}: ${r.labels[v.step] as string}`;
    const changes = v.step > 0 ? changedFields(r.model, r.states[v.step - 1] as Int32Array, r.states[v.step] as Int32Array) : [];
    parts.push(
      `<p><strong>${html(`${v.kind} ${v.property} [${v.requirement}] is violated at ${label}`)}</strong> (<a href="#step-${v.step}">the step in the table</a>)</p>`,
      `<p>${html(v.doc)}</p>`,
      changes.length ? `<p>That step changed: ${changes.map((c) => `<code>${html(c)}</code>`).join(', ')}</p>` : '',
    );
  }
  if (r.liveness) {
    parts.push(
      `<p><strong>${html(`liveness ${r.liveness.property} [${r.liveness.requirement}] never holds on this run`)}</strong></p>`,
      `<p>${html(r.liveness.doc)}</p>`,
    );
  }
  const loop = loopSentence(r);
  if (loop) parts.push(`<p class="loopnote">${html(loop)} (shaded below)</p>`);
  if (r.verdict) parts.push(`<p>${html(r.verdict)}</p>`);
  if (!parts.length) return '';
  return `<section id="verdict"${v || r.liveness ? ' class="bad"' : ''}>${parts.join('')}</section>`;
}

/**
 * A standalone HTML page (no scripts, no external resources): what the trace is of, the violation
 * first, then one table row per step with the actors, the rule instance and the fields it changed;
 * the violating step and a lasso's loop are marked.
 */
export function renderHtml(r: RenderInput & { readonly title: string }): string {
  const rows = r.states.map((_, i) => {
    const label = r.labels[i] as string;
    const bad = r.violation?.step === i;
    const inLoop = r.loop !== undefined && (i > r.loop || (r.loop === r.states.length - 1 && i === r.loop));
    const cls = [bad ? 'bad' : '', inLoop ? 'loop' : ''].filter(Boolean).join(' ');
    const who = i === 0 ? '' : stepActors(r.actors, label);
    const actors = who === '' ? '' : who.from === who.to ? who.from : `${who.from} → ${who.to}`;
    const why = bad ? `<div class="why">${html(`${r.violation?.kind} ${r.violation?.property} [${r.violation?.requirement}] violated here`)}</div>` : '';
    const loopStart = r.loop === i ? '<div class="loopstart">the loop goes back to this state</div>' : '';
    return `<tr id="step-${i}"${cls ? ` class="${cls}"` : ''}><td>${i}</td><td class="who">${html(actors)}</td><td class="step"><code>${html(label)}</code>${why}${loopStart}</td><td class="fields">${fieldsCell(r, i)}</td></tr>`;
  });
  const m = r.model;
  const about = [
    ['protocol', html(m.protocol)],
    ['variant', m.variant ? html(m.variant) : 'none (the protocol as specified)'],
    [
      'parameters',
      Object.entries(m.params)
        .map(([k, v]) => `<code>${html(`${k}=${v}`)}</code>`)
        .join(' '),
    ],
    ...(r.engine ? [['engine', html(r.engine)]] : []),
    ...(r.note ? [['note', html(r.note)]] : []),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em 2em;color:#222;font-size:15px}h1{font-size:1.3em;margin:.2em 0}
dl.about{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:.4em 0}dl.about dt{font-weight:600}dl.about dd{margin:0}
#verdict{border:1px solid #bbb;padding:2px 12px;margin:.6em 0}#verdict.bad{border-color:#c33;background:#fdecec}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:2px 8px;vertical-align:top;text-align:left}th{background:#f3f3f3}
td.who,td.step>code{white-space:nowrap}td.fields code{display:inline-block;margin-right:1.2em}details{display:inline}details[open]{display:block}
summary{display:inline;cursor:pointer;color:#666;list-style:none}summary::before{content:"\\25b8 "}details[open]>summary::before{content:"\\25be "}
tr.bad td{background:#fde2e2}tr.loop td{background:#eef3ff}.why{color:#a00;font-weight:600;margin-top:4px}
.loopstart{color:#235;font-style:italic}.none{color:#777}code{font-size:90%}.loopnote{color:#235}
</style></head><body>
<header>
<h1>${html(r.title)}</h1>
<dl class="about">${about.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
${verdictBox(r)}
</header>
<table><thead><tr><th>#</th><th>actors</th><th>step</th><th>fields it changed (the others collapsed)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</body></html>`;
}
