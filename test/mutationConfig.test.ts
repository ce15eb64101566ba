/**
 * The mutation run's configuration against the files it names. Why this file exists: files move
 * (the conformance check and its tests went from harness/ to conformance/), and a glob or path that
 * no longer matches anything fails silently: the fast mutation set lost the conformance tests that
 * way, so mutants of conformance/ were scored without the tests written to kill them. Here every
 * test glob of the fast set, every test the mutation run leaves out and every file pattern Stryker
 * mutates must name something that exists, and no test or test kit is mutated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { globSync } from 'tinyglobby';
import { describe, expect, it } from 'vitest';
import mutationConfig, { FAST, LEFT_OUT } from '../vitest.mutation.config.js';

/** stryker.config.mjs is plain JavaScript: only its list of mutated files is read here. */
const stryker = (await import('../stryker.config.mjs' as string)).default as { mutate: string[] };
const ignore = ['node_modules/**', 'dist/**', '.stryker-tmp/**', 'reports/**'];
const files = (pattern: string) => globSync(pattern, { ignore });

/** The two projects of the mutation run's configuration: name, include, exclude, isolate. */
function projects(): { name?: string; include?: string[]; exclude?: string[]; isolate?: boolean }[] {
  const list = (mutationConfig.test?.projects ?? []) as { test?: { name?: string; include?: string[]; exclude?: string[]; isolate?: boolean } }[];
  return list.map((p) => ({ name: p.test?.name, include: p.test?.include, exclude: p.test?.exclude, isolate: p.test?.isolate }));
}

describe('the mutation configuration names files that exist', () => {
  it('every glob of the fast test set matches at least one test file', () => {
    const empty = FAST.filter((g) => files(g).filter((f) => f.endsWith('.test.ts')).length === 0);
    expect(empty).toEqual([]);
  });

  it('every test file the mutation run leaves out exists, and both projects leave it out', () => {
    expect(LEFT_OUT.length).toBeGreaterThanOrEqual(6);
    expect(LEFT_OUT.filter((p) => !existsSync(p))).toEqual([]);
    for (const p of projects()) expect(p.exclude).toEqual(expect.arrayContaining(LEFT_OUT));
  });

  it('the test files that replace a module run isolated, and every other file shares its modules', () => {
    // Found here by reading every test file for the call, apart from the configuration's own search.
    const mocking = files('**/*.test.ts').filter((f) => /vi\.(mock|doMock)\(/.test(readFileSync(f, 'utf8')));
    expect(mocking).toContain('checker/explicit/livenessCollect.test.ts');
    const [shared, isolated] = projects();
    expect([shared?.name, shared?.isolate, isolated?.name, isolated?.isolate]).toEqual(['shared', false, 'isolated', true]);
    expect(shared?.exclude).toEqual(expect.arrayContaining(mocking));
    expect([...(isolated?.include ?? [])].sort()).toEqual([...mocking].sort());
  });

  it('every file pattern Stryker mutates matches source files, and no test or test kit is among them', () => {
    const patterns = stryker.mutate;
    const positive = patterns.filter((p) => !p.startsWith('!'));
    expect(positive.filter((p) => files(p).length === 0)).toEqual([]);
    const mutated = globSync(patterns, { ignore });
    expect(mutated.filter((f) => f.endsWith('.test.ts') || f.endsWith('.testkit.ts'))).toEqual([]);
    expect(mutated).toContain('conformance/conformance.ts');
    expect(mutated).toContain('checker/explicit/search.ts');
  });
});
