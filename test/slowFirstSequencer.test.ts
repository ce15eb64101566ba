/**
 * The start order of test files on a fresh clone (test/slowFirstSequencer.ts): the listed slow
 * files first, slowest first, within each project; vitest's own order where it knows durations.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BaseSequencer, type TestSpecification, type Vitest } from 'vitest/node';
import { describe, expect, it } from 'vitest';
import { SLOW_FILES, SlowFirstSequencer, slowFirst } from './slowFirstSequencer.js';

const root = join(import.meta.dirname, '..');

/** A test file as the sequencer sees it: its project, its path, its size on disk. */
function spec(project: string, file: string): TestSpecification {
  return {
    moduleId: join(root, file),
    project: { name: project, config: { sequence: { groupOrder: 0 }, isolate: true } },
  } as unknown as TestSpecification;
}

/**
 * A vitest context whose cache knows the durations of `timed` (keys `project:path`) and a size for
 * every file: the listed slow files are the smallest, so vitest's own order starts them last.
 */
function context(timed: ReadonlyMap<string, number>): Vitest {
  return {
    config: { root },
    cache: {
      getFileTestResults: (key: string) => (timed.has(key) ? { duration: timed.get(key), failed: false } : undefined),
      getFileStats: (key: string) => ({ size: SLOW_FILES.some(([f]) => key.endsWith(`:${f}`)) ? 1 : key.length }),
    },
  } as unknown as Vitest;
}

const paths = (fs: readonly TestSpecification[]) => fs.map((f) => `${f.project.name}:${f.moduleId.slice(root.length + 1)}`);

describe('slow files first', () => {
  it('every listed file exists, is listed once, and the list is slowest first', () => {
    const files = SLOW_FILES.map(([f]) => f);
    expect(files.filter((f) => !existsSync(join(root, f)))).toEqual([]);
    expect(new Set(files).size).toBe(files.length);
    const seconds = SLOW_FILES.map(([, s]) => s);
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
  });

  it('slowFirst puts the listed files first in the list order and keeps the others in their order', () => {
    const [a, b] = [SLOW_FILES[0]?.[0], SLOW_FILES[1]?.[0]] as [string, string];
    expect(slowFirst(['x.test.ts', b, 'y.test.ts', a, 'z.test.ts'], (f) => f)).toEqual([a, b, 'x.test.ts', 'y.test.ts', 'z.test.ts']);
  });

  it('with no durations known (a fresh clone), the slowest listed file starts first, within each project', async () => {
    const slowest = SLOW_FILES[0]?.[0] as string;
    const files = [spec('', 'a.test.ts'), spec('', 'bb.test.ts'), spec('', slowest)];
    // vitest's own order: the largest files first, the small slow one last.
    expect(paths(await new BaseSequencer(context(new Map())).sort(files))).toEqual([':bb.test.ts', ':a.test.ts', `:${slowest}`]);
    expect(paths(await new SlowFirstSequencer(context(new Map())).sort(files))).toEqual([`:${slowest}`, ':bb.test.ts', ':a.test.ts']);
    const two = [spec('one', 'a.test.ts'), spec('one', slowest), spec('two', 'b.test.ts'), spec('two', slowest)];
    expect(paths(await new SlowFirstSequencer(context(new Map())).sort(two))).toEqual([`one:${slowest}`, 'one:a.test.ts', `two:${slowest}`, 'two:b.test.ts']);
  });

  it('where vitest knows most durations, its own order (longest first) is kept', async () => {
    const slowest = SLOW_FILES[0]?.[0] as string;
    const files = [spec('', slowest), spec('', 'a.test.ts'), spec('', 'b.test.ts')];
    // Here the listed file ran in a second (vitest's record wins over the list).
    const timed = new Map([
      [':a.test.ts', 900],
      [':b.test.ts', 5],
      [`:${slowest}`, 1],
    ]);
    expect(paths(await new SlowFirstSequencer(context(timed)).sort(files))).toEqual([':a.test.ts', ':b.test.ts', `:${slowest}`]);
  });
});
