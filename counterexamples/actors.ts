/**
 * The actors of each trace step. Why this module exists: a sequence diagram of a trace draws every
 * step as a message from the actor that takes it to the one it acts on; which actors those are is
 * declared by the protocol (`ProtocolDef.actors`), or derived from the rule's Actor-Verb-Object name
 * when the protocol declares nothing for it. Nothing here knows a particular protocol.
 */
import type { ProtocolActors } from '../model/lang/protocol.js';

/** The actors one step involves: `from` takes the step, acting on `to` (the same actor for a local step). */
export interface StepActors {
  readonly from: string;
  readonly to: string;
}

/** The rule name of a step label: `DriverFenceDma(p=0)` gives `DriverFenceDma`. */
export function ruleOfLabel(label: string): string {
  const i = label.indexOf('(');
  return i < 0 ? label.trim() : label.slice(0, i).trim();
}

/** The leading capitalised word of a rule name (`Driver` of `DriverFenceDma`), or the whole name. */
function leadingWord(rule: string): string {
  return /^[A-Z][a-z0-9]*/.exec(rule)?.[0] ?? rule;
}

/**
 * The actors of the step labelled `label`: as the protocol declares for its rule, else the declared
 * participant whose name starts with the rule name's first word (case-insensitive), else that word.
 */
export function stepActors(actors: ProtocolActors | undefined, label: string): StepActors {
  const rule = ruleOfLabel(label);
  const declared = actors?.rules?.[rule];
  if (typeof declared === 'string') return { from: declared, to: declared };
  if (declared) return { from: declared[0], to: declared[1] };
  const word = leadingWord(rule);
  const names = Object.keys(actors?.participants ?? {});
  const lower = word.toLowerCase();
  const who = names.find((n) => n.toLowerCase() === lower) ?? names.find((n) => n.toLowerCase().startsWith(lower)) ?? word;
  return { from: who, to: who };
}

/**
 * The participants that the steps labelled `labels` involve, in the protocol's declared order
 * (actors derived from rule names that the protocol does not declare come after, in order of use).
 */
export function participantsOf(actors: ProtocolActors | undefined, labels: readonly string[]): string[] {
  const used: string[] = [];
  for (const l of labels) {
    const a = stepActors(actors, l);
    for (const n of [a.from, a.to]) if (!used.includes(n)) used.push(n);
  }
  const declared = Object.keys(actors?.participants ?? {});
  return [...declared.filter((n) => used.includes(n)), ...used.filter((n) => !declared.includes(n))];
}
