/**
 * The vitest configuration of mutation runs (stryker.config.mjs). Why this file exists: a mutant is
 * tested by every test that reaches the mutated code, so a test that takes seconds and kills
 * nothing the others do not kill multiplies the run's time by the number of mutants it reaches. The
 * mutation run keeps every test except these, each left out for a stated reason:
 *
 * - `cli/cli.test.ts`: runs the built binary (`node dist/cli/main.js`), which Stryker does not
 *   mutate (it mutates the sources in its sandbox), so it cannot kill a mutant;
 * - `test/apiDoc.test.ts`: compares docs/api.md with the page generated from the source text of
 *   the barrels and the declarations they re-export; in the sandbox that text is Stryker's
 *   instrumented code, so the page comes out different and the initial run fails (a full run
 *   stopped there, 2026-12-06). It reads text and mutates nothing, so it cannot kill a mutant;
 * - `model/protocols/odpMirror/odpMirror.large.test.ts`: the benchmark-size golden run (2.3 million
 *   states, tens of seconds per variant); the same engine code is pinned by the golden counts of
 *   the smaller sizes in odpMirror.test.ts and the other protocol tests;
 * - the odp-mirror SMT and conformance golden runs (model/protocols/odpMirror/odpMirror.bmc.test.ts,
 *   checker/smt/proveOdpMirror.test.ts, model/protocols/odpMirror/driver/conformance.test.ts:
 *   about four minutes together, most of the suite's time): they run the same BMC, k-induction and
 *   conformance code on the larger protocol that bmc.test.ts, prove.test.ts,
 *   smtDifferential.test.ts and conformance/*.test.ts run on small models with exact answers;
 * - the golden and fuzz runs that take tens of seconds each (model/protocols/odpMirror/
 *   odpMirror.seq.test.ts, odpMirror.liveness.test.ts: odp-mirror's other encoding and its lassos,
 *   about 55 s; model/protocols/fenceMigrate/driver/conformance.test.ts: thousands of random
 *   fence-migrate schedules, about 30 s). A surviving mutant runs every test that reaches it, so
 *   these alone would cost minutes per survivor of the language and the engines; the code they run
 *   is reached by the exact small-model tests (fence-migrate's pinned counts, lang, operators,
 *   limits, liveness, fairCycles, symmetry, conformance.negative; odpMirror.test.ts stays: it is
 *   what checks odp-mirror's properties, variant by variant). They do add kills of their own
 *   (a fault that shows only on a big model): the score is a lower bound on the full suite's;
 * - the peer-checker runs (SPIN, Rumur) in exporters/*.test.ts and the symmetry tests: each
 *   compiles a C verifier (seconds). What they check of our code is our state counts and verdicts,
 *   which the tests pin as numbers (the peer runs are how those numbers were cross-checked). They
 *   are switched off by MIRRORCHECK_PEERS=off (test/peers.ts); the exporter tests that do not run
 *   a peer stay.
 *
 * MUTATION_TESTS=fast keeps only the unit-level tests (FAST below, each file under about two
 * seconds, except the BMC files: a few z3 queries on tiny models, 3 to 12 s under load, and the
 * brute-force oracles of the engines, which are what kills their mutants: fairCycles.test.ts,
 * about 10 s under load, unrollStep.test.ts, 5 to 9 s under load, and the explicit search's walk
 * (search.test.ts, graph.test.ts, about 7 s each; searchRounds.test.ts, the round code with test
 * pools in this thread, about 3 s; searchResume.test.ts, 13 s with worker threads, is left out): a
 * quick lower bound of the score (fewer tests can only kill fewer mutants), for a run on a few
 * files or a sample, where the full mutation suite costs minutes per surviving mutant.
 *
 * Test files run fastest first (vitest's default runs the slowest first), so that a mutant is
 * usually killed by a quick test before a slow one starts, and without isolation: every mutant
 * run starts the test files that reach it, and re-importing every module for each file cost more
 * than the tests themselves (16 s against 7 s for eight small files, measured under load). The
 * tests leave no state behind that another file reads (they restore mocks, environment variables
 * and z3 sessions). The few files that replace a module (`vi.mock`) cannot share modules with the
 * others, so they run in a second, isolated project (`MOCKING` below).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { globSync } from 'tinyglobby';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** Runs the test files with the shortest last duration first (unknown ones: the smallest first). */
class FastFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const cost = (f: TestSpecification) => {
      const key = `${f.project.name}:${relative(this.ctx.config.root, f.moduleId)}`;
      return cache.getFileTestResults(key)?.duration ?? 1e6 + (cache.getFileStats(key)?.size ?? 0);
    };
    return [...files].sort((a, b) => cost(a) - cost(b));
  }
}

/** The unit-level tests of MUTATION_TESTS=fast. */
export const FAST = [
  'model/lang/*.test.ts',
  'counterexamples/*.test.ts',
  'properties/*.test.ts',
  'conformance/*.test.ts',
  'checker/explicit/{compile,liveness,livenessInits,livenessResult,livenessSymmetry,fairCycles,fairComponents,stateStore,symmetry,symmetryChecks,symmetryBrute,symmetrySearch,partialOrderSets,partialOrderSound,partialOrderWords,livenessSymmetryChoice,compactSets,levelSpill,traces,limits,progress,search,searchRounds,expander,graph}.test.ts',
  'checker/smt/{replayGuard,replayDiff,nativeZ3,nativeZ3Process,z3HostNative,bmc,bmcResult,bmcSession,unrollStep,sortedStep,proveDifferential,proveUnboundedDifferential}.test.ts',
  'checker/random/{engineOptions,randomTrace,randomShrink,randomClock,runChoices}.test.ts',
  'checker/*.test.ts',
];

// The root's include and exclude would be added to each project's (a project that extends the root
// merges lists by appending), so they are taken out here; each project has its own, and what the
// root leaves out (dependencies, the build, Stryker's sandbox) is never a test file of this run.
const { include: _include, exclude: NOT_TESTS = [], ...baseTest } = base.test ?? {};

/**
 * The test files that replace a module with `vi.mock` or `vi.doMock`. Without isolation a module is
 * imported once for every file a worker runs, so a file that replaces a module which an earlier file
 * already imported (directly or through another) gets the real one and fails: the initial run of
 * `npm run mutation` failed on checker/explicit/livenessCollect.test.ts that way (2026-12-07), and
 * fileWrites, traceFiles, proveInferUnit and proveHintDeeper failed the same way when run after a
 * file that imports what they replace. These files run in a project of their own, isolated.
 */
export const MOCKING = globSync('**/*.test.ts', { ignore: NOT_TESTS })
  .filter((f) => /\bvi\.(?:mock|doMock)\(/.test(readFileSync(f, 'utf8')))
  .sort();

/** The test files of the run: all of them, the fast set (MUTATION_TESTS=fast) or those named (MUTATION_TEST_FILES). */
const include = process.env.MUTATION_TEST_FILES ? process.env.MUTATION_TEST_FILES.split(',') : process.env.MUTATION_TESTS === 'fast' ? FAST : ['**/*.test.ts'];

/** Left out of every mutation run, each for the reason given at the top of this file. */
export const LEFT_OUT = [
  'cli/cli.test.ts',
  'test/apiDoc.test.ts',
  'model/protocols/odpMirror/odpMirror.large.test.ts',
  'model/protocols/odpMirror/odpMirror.bmc.test.ts',
  'checker/smt/proveOdpMirror.test.ts',
  'model/protocols/odpMirror/driver/conformance.test.ts',
  'model/protocols/odpMirror/odpMirror.seq.test.ts',
  'model/protocols/odpMirror/odpMirror.liveness.test.ts',
  'model/protocols/fenceMigrate/driver/conformance.test.ts',
];

const included = new Set(globSync(include, { ignore: NOT_TESTS }));

const exclude = [...NOT_TESTS, ...LEFT_OUT];

const config = defineConfig({
  ...base,
  test: {
    ...baseTest,
    env: { MIRRORCHECK_PEERS: 'off' },
    sequence: { sequencer: FastFirst },
    // Stryker's instrumented code (a switch per mutant, a coverage counter per statement in the
    // initial run) runs the engines' inner loops many times slower: checkpoint.test.ts takes
    // 14.8 s in CI, and its three-store test alone went past 120 s in the initial run of a full
    // run (2026-12-06). A mutant's run is timed by Stryker itself (timeoutMS, timeoutFactor).
    testTimeout: 900_000,
    projects: [
      // Every other test file, without isolation (see the top of this file).
      { extends: true, test: { name: 'shared', include, exclude: [...exclude, ...MOCKING], isolate: false } },
      // The files that replace modules, each with modules of its own.
      { extends: true, test: { name: 'isolated', include: MOCKING.filter((f) => included.has(f)), exclude, isolate: true } },
    ],
  },
});

export default config;
