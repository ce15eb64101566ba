/**
 * JUnit XML for CI. Why this module exists: CI servers (Jenkins, GitLab, GitHub test reporters)
 * read JUnit XML, and every command that reports to CI (`check`, `prove`, and others to come) must
 * write the same, valid, document. Callers describe suites of test cases; this module counts them
 * and builds the XML with xmlbuilder2 (escaping, and characters XML cannot hold, are its business).
 * The output validates against the Jenkins JUnit schema (test: cli/junit.test.ts).
 */
import { create } from 'xmlbuilder2';

/** How one test case ended. */
export type JunitOutcome =
  | { readonly kind: 'passed' }
  /** The thing tested is wrong: a property is violated. */
  | { readonly kind: 'failed'; readonly type: string; readonly message: string; readonly detail?: string }
  /** The test could not decide: a limit was reached, a model error, a proof that did not go through. */
  | { readonly kind: 'error'; readonly type: string; readonly message: string; readonly detail?: string }
  /** Not tested, and why. */
  | { readonly kind: 'skipped'; readonly message: string };

export interface JunitCase {
  readonly name: string;
  readonly classname: string;
  /** Seconds spent on the work that decided this case (0 for a skipped one). */
  readonly timeSec: number;
  readonly outcome: JunitOutcome;
  /** Free text shown with the case (the guarantee, a trace path). */
  readonly output?: string;
}

export interface JunitSuite {
  readonly name: string;
  readonly timeSec: number;
  /** Name/value pairs about the run (engine, figures, parameters). */
  readonly properties: readonly (readonly [string, string])[];
  readonly cases: readonly JunitCase[];
}

/** Seconds as JUnit writes them: a plain decimal number (no exponent). */
const seconds = (s: number) => (Number.isFinite(s) && s > 0 ? s.toFixed(3) : '0');

/** Characters XML 1.0 cannot hold are written as `\xNN` instead of failing the whole report. */
const replaceInvalid = (ch: string) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** The counts of a list of cases. */
function counts(cases: readonly JunitCase[]) {
  const n = (k: JunitOutcome['kind']) => cases.filter((c) => c.outcome.kind === k).length;
  return { tests: cases.length, failures: n('failed'), errors: n('error'), skipped: n('skipped') };
}

/** A JUnit XML document: `<testsuites>` with one `<testsuite>` per suite and one `<testcase>` per case. */
export function junitXml(suites: readonly JunitSuite[], name = 'mirrorcheck'): string {
  const all = suites.flatMap((s) => s.cases);
  const total = counts(all);
  const doc = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: replaceInvalid });
  const root = doc.ele('testsuites', {
    name,
    tests: String(total.tests),
    failures: String(total.failures),
    errors: String(total.errors),
    time: seconds(suites.reduce((t, s) => t + s.timeSec, 0)),
  });
  for (const s of suites) {
    const c = counts(s.cases);
    const suite = root.ele('testsuite', {
      name: s.name,
      tests: String(c.tests),
      failures: String(c.failures),
      errors: String(c.errors),
      skipped: String(c.skipped),
      time: seconds(s.timeSec),
    });
    if (s.properties.length) {
      const props = suite.ele('properties');
      for (const [k, v] of s.properties) props.ele('property', { name: k, value: v });
    }
    for (const tc of s.cases) {
      const el = suite.ele('testcase', { classname: tc.classname, name: tc.name, time: seconds(tc.outcome.kind === 'skipped' ? 0 : tc.timeSec) });
      const o = tc.outcome;
      // The reason is the element's text: the Jenkins schema gives <skipped> no attributes.
      if (o.kind === 'skipped') el.ele('skipped').txt(o.message);
      else if (o.kind === 'failed' || o.kind === 'error') {
        const e = el.ele(o.kind === 'failed' ? 'failure' : 'error', { type: o.type, message: o.message });
        if (o.detail) e.txt(o.detail);
      }
      if (tc.output) el.ele('system-out').txt(tc.output);
    }
  }
  return doc.end({ prettyPrint: true });
}
