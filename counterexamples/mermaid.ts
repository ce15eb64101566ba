/**
 * Traces as Mermaid sequence diagrams. Why this module exists: a driver author reads an interleaving
 * best as messages between the actors (the memory manager, the driver, the device); the output is a
 * Mermaid file and nothing else, so that it renders as it is (tested with Mermaid's own parser).
 * Which actors each step involves is declared by the protocol (see counterexamples/actors.ts).
 */
import { participantsOf, stepActors } from './actors.js';
import { type RenderInput, changedFields, loopSentence, traceSubject } from './render.js';

/**
 * Text safe inside a Mermaid message or note: the characters Mermaid's sequence grammar treats
 * specially (`;` ends a statement, `#` starts an entity code, `<` `>` would be read as markup) are
 * written as entity codes, and line breaks become spaces.
 */
export function mermaidText(s: string): string {
  let out = '';
  for (const ch of s.replace(/->/g, '→').replace(/\s+/g, ' ')) {
    out += ch === ';' || ch === '#' || ch === '<' || ch === '>' ? `#${ch.charCodeAt(0)};` : ch;
  }
  return out;
}

/** Participant identifiers are letters, digits and `_` (protocol-declared ones are checked when built). */
const ident = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * A Mermaid `sequenceDiagram`: the participants the steps involve (in the protocol's order), one
 * message per step from the actor that takes it to the one it acts on, the fields it changed as a
 * note, the violation as a note over every participant, and a lasso's repeating steps in a `loop`.
 */
export function renderMermaid(r: RenderInput): string {
  const labels = r.labels.slice(1);
  const people = participantsOf(r.actors, labels).map(ident);
  const lines = ['sequenceDiagram'];
  const what = r.violation
    ? `: ${r.violation.property} (${r.violation.requirement})`
    : r.liveness
      ? `: ${r.liveness.property} (${r.liveness.requirement})`
      : '';
  if (people.length === 0) people.push(ident(r.model.protocol));
  for (const p of people) lines.push(`    participant ${p}`);
  const span = people.length > 1 ? `${people[0]},${people[people.length - 1]}` : (people[0] as string);
  // What the trace is of, as the first note (a `title` line would need a DOM to parse).
  lines.push(`    Note over ${span}: ${mermaidText(`${traceSubject(r.model)}${what}`)}<br/>${mermaidText(`0. ${r.labels[0] ?? 'start'}`)}`);
  const last = r.states.length - 1;
  r.states.forEach((s, i) => {
    if (i === 0) return;
    const label = r.labels[i] as string;
    const a = stepActors(r.actors, label);
    const from = ident(a.from);
    const to = ident(a.to);
    if (r.loop !== undefined && r.loop < last && i === r.loop + 1) {
      lines.push(`    loop ${mermaidText(`steps ${r.loop + 1}..${last} repeat forever${r.liveness ? `: ${r.liveness.property} never holds` : ''}`)}`);
    }
    lines.push(`    ${from}->>${to}: ${mermaidText(`${i}. ${label}`)}`);
    const ch = changedFields(r.model, r.states[i - 1] as Int32Array, s);
    if (ch.length) lines.push(`    Note over ${from === to ? from : `${from},${to}`}: ${ch.map(mermaidText).join('<br/>')}`);
    if (r.violation && r.violation.step === i) {
      lines.push(`    Note over ${span}: ${mermaidText(`VIOLATION ${r.violation.property} (${r.violation.requirement}): ${r.violation.doc}`)}`);
    }
  });
  if (r.loop !== undefined && r.loop < last) lines.push('    end');
  if (r.violation && r.violation.step === 0) {
    lines.push(`    Note over ${span}: ${mermaidText(`VIOLATION in the start state: ${r.violation.property} (${r.violation.requirement})`)}`);
  }
  const loop = loopSentence(r);
  if (loop && r.loop !== undefined && r.loop >= last) lines.push(`    Note over ${span}: ${mermaidText(loop)}`);
  return lines.join('\n');
}
