/**
 * `prove --format junit`: a proof result as a JUnit suite. Why this module exists: a CI proof run
 * reports like a CI check run (cli/junit.ts), one test case per property, so that a property that
 * is no longer proved shows up by name.
 */
import type { ProofResult } from '../checker/smt/index.js';
import type { Model } from '../model/lang/protocol.js';
import type { JunitCase, JunitSuite } from './junit.js';
import { paramsText } from './report.js';

/**
 * One suite for one protocol's proof. A proved property passes; a real violation (the base case)
 * fails that property; a counterexample to induction, a limit or an error is an error (the proof
 * did not go through, which is not a bug found); the properties an early stop leaves undecided are
 * skipped with the reason.
 */
export function proveSuite(
  model: Model,
  r: ProofResult,
  properties: readonly { readonly name: string; readonly requirement: string }[],
  trace: string | null,
): JunitSuite {
  const classname = `${model.protocol}${model.variant ? `.${model.variant}` : ''}`;
  const timeSec = r.elapsedMs / 1000;
  const where = trace ? `trace: ${trace} (mirrorcheck replay ${trace})` : undefined;
  const caseOf = (p: { readonly name: string; readonly requirement: string }): JunitCase => {
    const base = { name: `${p.name} [${p.requirement}]`, classname, timeSec };
    switch (r.status) {
      case 'proved':
        return r.properties.includes(p.name)
          ? { ...base, outcome: { kind: 'passed' }, output: `proved (${r.method}${r.k !== undefined ? `, k=${r.k}` : ''})` }
          : { ...base, timeSec: 0, outcome: { kind: 'skipped', message: 'not part of the proof' } };
      case 'violated':
        return p.name === r.violation.property
          ? { ...base, outcome: { kind: 'failed', type: r.violation.kind, message: r.violation.message, ...(where ? { detail: where } : {}) } }
          : { ...base, timeSec: 0, outcome: { kind: 'skipped', message: `not decided: the proof stopped at the violation of ${r.violation.property}` } };
      case 'cti':
        return p.name === r.property
          ? {
              ...base,
              outcome: {
                kind: 'error',
                type: 'not-inductive',
                message: `not proved: ${r.message}`,
                ...(where ? { detail: `counterexample to induction (its states need not be reachable): ${where}` } : {}),
              },
            }
          : { ...base, timeSec: 0, outcome: { kind: 'skipped', message: `not decided: the proof stopped at ${r.property}, which is not inductive` } };
      case 'incomplete':
        return { ...base, outcome: { kind: 'error', type: 'incomplete', message: `${r.reason}: not proved` } };
      case 'error':
        return { ...base, outcome: { kind: 'error', type: r.code, message: r.message } };
    }
  };
  const cases = properties.map(caseOf);
  if (r.status === 'violated' && !properties.some((p) => p.name === r.violation.property)) {
    // A strengthening invariant of the proof hints: a real violation of a claim about reachable states.
    const v = r.violation;
    cases.push({
      name: `${v.property} [${v.requirement}]`,
      classname,
      timeSec,
      outcome: { kind: 'failed', type: v.kind, message: v.message, ...(where ? { detail: where } : {}) },
    });
  }
  if (r.status === 'cti' && !properties.some((p) => p.name === r.property)) {
    // A strengthening invariant of the proof hints, or freedom from model errors.
    cases.push({
      name: `${r.property} [${r.requirement}]`,
      classname,
      timeSec,
      outcome: { kind: 'error', type: 'not-inductive', message: `not proved: ${r.message}` },
    });
  }
  return {
    name: `${classname} [${paramsText(model.params)}]`,
    timeSec,
    properties: [
      ['method', r.method],
      ['status', r.status],
    ],
    cases,
  };
}
