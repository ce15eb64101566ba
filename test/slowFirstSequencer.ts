/**
 * The order in which `npm test` starts its test files. Why this module exists: vitest starts the
 * files that took longest last time first, but on a fresh clone (every CI run) it has no record of
 * that and starts the largest files first. A few small files run for minutes (SMT proofs, Rumur's
 * generated C compiled and run), and one of them started late: on 2026-12-07,
 * checker/smt/proveInfer.large.test.ts (348 s) started 1,139 s into a 1,487 s run, and for the
 * last 119 s one of the CI machine's two cores had nothing to do. So where vitest knows the
 * durations of fewer than half of the files, the files of `SLOW_FILES` start first, slowest first
 * (within each project); everything else keeps vitest's own order. The list only orders: a file
 * missing from it or listed in the wrong place still runs, only perhaps later
 * (test/slowFirstSequencer.test.ts checks that every listed file exists).
 */
import { relative, sep } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that took 30 s or more in `npm test` on the 2-core machine (seconds, measured
 * 2026-12-07 with `vitest run --reporter=json`, all tools installed), slowest first.
 */
export const SLOW_FILES: readonly (readonly [file: string, seconds: number])[] = [
  ['checker/smt/proveInfer.large.test.ts', 348],
  ['exporters/murphi.test.ts', 281],
  ['cli/cli.test.ts', 148],
  ['exporters/promela.test.ts', 133],
  ['test/schemas.test.ts', 99],
  ['model/protocols/odpMirror/driver/conformance.test.ts', 92],
  ['checker/smt/proveInfer.test.ts', 87],
  ['test/readme.test.ts', 87],
  ['checker/explicit/workers.test.ts', 85],
  ['model/protocols/odpMirror/odpMirror.large.test.ts', 83],
  ['checker/smt/proveOdpMirror.test.ts', 80],
  ['model/protocols/odpMirror/odpMirror.bmc.test.ts', 72],
  ['cli/proveInfer.cli.test.ts', 63],
  ['cli/options.test.ts', 56],
  ['model/protocols/odpMirror/odpMirror.liveness.test.ts', 52],
  ['cli/openModels.test.ts', 41],
  ['checker/smt/proveUnboundedOdpMirror.test.ts', 39],
  ['checker/explicit/memoryLimit.test.ts', 37],
  ['cli/ci.test.ts', 37],
  ['cli/outputs.test.ts', 35],
  ['model/protocols/odpMirror/odpMirror.test.ts', 32],
  ['checker/explicit/checkpoint.test.ts', 31],
  ['checker/explicit/fairCycles.test.ts', 30],
];

/** `files` (paths relative to the root, `/`-separated) reordered: the `SLOW_FILES` among them first, in that list's order, then the rest as they were. */
export function slowFirst<T>(files: readonly T[], pathOf: (f: T) => string): T[] {
  const rank = new Map(SLOW_FILES.map(([file], i) => [file, i]));
  const slow = files.filter((f) => rank.has(pathOf(f)));
  slow.sort((a, b) => (rank.get(pathOf(a)) as number) - (rank.get(pathOf(b)) as number));
  return [...slow, ...files.filter((f) => !rank.has(pathOf(f)))];
}

/** vitest's sequencer, with `SLOW_FILES` first where vitest has no durations of its own. */
export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rel = (f: TestSpecification) => relative(this.ctx.config.root, f.moduleId);
    const pathOf = (f: TestSpecification) => rel(f).split(sep).join('/');
    // The key vitest's own sort looks durations up by.
    const known = sorted.filter((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${rel(f)}`)).length;
    if (known * 2 >= sorted.length) return sorted;
    // vitest runs projects one after another (the mutation configuration has two): reorder within each.
    const projects = [...new Set(sorted.map((f) => f.project.name))];
    return projects.flatMap((name) =>
      slowFirst(
        sorted.filter((f) => f.project.name === name),
        pathOf,
      ),
    );
  }
}
