/**
 * docs/api.md is the list of what mirrorcheck makes public; it is generated from the barrels by
 * scripts/apiDoc.ts. These tests fail when the page is out of date, when an export has no TSDoc,
 * and when the barrels as read by the generator differ from what the package root really exports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../index.js';
import { apiMarkdown, apiSections } from '../scripts/apiDoc.js';

const root = join(import.meta.dirname, '..');

describe('docs/api.md', () => {
  it('is the page generated from the barrels (regenerate: npx tsx scripts/apiDoc.ts --write)', () => {
    expect(readFileSync(join(root, 'docs/api.md'), 'utf8')).toBe(apiMarkdown());
  });

  it('every public export has a TSDoc summary and a declaration the generator found', () => {
    const entries = apiSections().flatMap((s) => s.groups.flatMap((g) => g.entries));
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.filter((e) => e.kind === '?' || e.summary === '').map((e) => e.name)).toEqual([]);
  });

  it('lists exactly the values the package root exports at run time, and nothing twice', () => {
    const root = apiSections().find((s) => s.importPath === 'mirrorcheck');
    const listed = (root?.groups ?? []).flatMap((g) => g.entries);
    const values = listed.filter((e) => !e.typeOnly).map((e) => e.name);
    expect(new Set(values)).toEqual(new Set(Object.keys(api)));
    expect(new Set(listed.map((e) => e.name)).size).toBe(listed.length);
  });

  it('names the modelling language, the property kinds, packages and the engines a model file needs', () => {
    const page = readFileSync(join(root, 'docs/api.md'), 'utf8');
    for (const name of [
      'defineProtocol',
      'intParam',
      'enumParam',
      'arrayOf',
      'option',
      'assign',
      'when',
      'forall',
      'invariant',
      'stepProperty',
      'leadsTo',
      'cover',
      'definePropertySet',
      'definePackage',
      'explicitCheck',
      'prove',
      'replayTrace',
      'Fairness',
    ]) {
      expect(page).toContain(`[\`${name}\`]`);
    }
  });
});
