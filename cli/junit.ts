/**
 * JUnit XML, written from plain data. Why this module exists: CI servers read test results as JUnit
 * XML, and text from models (property messages, trace paths, variant summaries) must reach them
 * escaped and free of the characters XML 1.0 forbids; this is the one writer for that, so every
 * command that reports JUnit (`ci` today) shares the same escaping and the same element layout.
 */

/** One test case: passed when it has no failure, error or skipped. */
export interface JUnitCase {
  readonly classname: string;
  readonly name: string;
  /** Seconds. */
  readonly time?: number;
  /** An expectation that was not met. */
  readonly failure?: { readonly message: string; readonly type?: string; readonly text?: string };
  /** The case could not be run to a verdict (a model error, an internal error). */
  readonly error?: { readonly message: string; readonly type?: string; readonly text?: string };
  /** The case was not run. */
  readonly skipped?: { readonly message: string };
  /** Extra lines a CI server shows with the case (trace paths, replay commands). */
  readonly systemOut?: string;
}

/** A suite: a group of cases with name/value properties. */
export interface JUnitSuite {
  readonly name: string;
  /** Seconds; the sum of the cases' times when absent. */
  readonly time?: number;
  readonly properties?: readonly (readonly [string, string])[];
  readonly cases: readonly JUnitCase[];
}

// XML 1.0 allows tab, newline, carriage return and the ranges below; anything else (other control
// characters, lone surrogates, U+FFFE/U+FFFF) is replaced so that the document stays well formed.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content, escaped. */
export function xmlText(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value (inside double quotes), escaped; line breaks are kept as character references. */
export function xmlAttr(s: string): string {
  return xmlText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const attrs = (o: Readonly<Record<string, string | number | undefined>>): string =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');

const secs = (t: number): string => (Math.round(t * 1000) / 1000).toFixed(3);

function caseXml(c: JUnitCase): string {
  const head = `    <testcase${attrs({ classname: c.classname, name: c.name, time: c.time === undefined ? undefined : secs(c.time) })}`;
  const body: string[] = [];
  for (const [tag, v] of [
    ['failure', c.failure],
    ['error', c.error],
  ] as const) {
    if (!v) continue;
    body.push(
      v.text === undefined
        ? `      <${tag}${attrs({ message: v.message, type: v.type })}/>`
        : `      <${tag}${attrs({ message: v.message, type: v.type })}>${xmlText(v.text)}</${tag}>`,
    );
  }
  if (c.skipped) body.push(`      <skipped${attrs({ message: c.skipped.message })}/>`);
  if (c.systemOut !== undefined) body.push(`      <system-out>${xmlText(c.systemOut)}</system-out>`);
  return body.length ? `${head}>\n${body.join('\n')}\n    </testcase>` : `${head}/>`;
}

/** The JUnit XML document for some suites (`<testsuites>` with totals). */
export function junitXml(suites: readonly JUnitSuite[]): string {
  const count = (cs: readonly JUnitCase[], f: (c: JUnitCase) => unknown) => cs.filter(f).length;
  const timeOf = (s: JUnitSuite) => s.time ?? s.cases.reduce((a, c) => a + (c.time ?? 0), 0);
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({
      name: 'mirrorcheck',
      tests: all.length,
      failures: count(all, (c) => c.failure),
      errors: count(all, (c) => c.error),
      skipped: count(all, (c) => c.skipped),
      time: secs(suites.reduce((a, s) => a + timeOf(s), 0)),
    })}>`,
  ];
  for (const s of suites) {
    lines.push(
      `  <testsuite${attrs({
        name: s.name,
        tests: s.cases.length,
        failures: count(s.cases, (c) => c.failure),
        errors: count(s.cases, (c) => c.error),
        skipped: count(s.cases, (c) => c.skipped),
        time: secs(timeOf(s)),
      })}>`,
    );
    if (s.properties?.length) {
      lines.push('    <properties>');
      for (const [k, v] of s.properties) lines.push(`      <property${attrs({ name: k, value: v })}/>`);
      lines.push('    </properties>');
    }
    for (const c of s.cases) lines.push(caseXml(c));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
