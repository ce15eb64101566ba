/**
 * StrykerJS configuration for `npm run mutation` (issue "Tests that kill bugs"). Why this file
 * exists: the mutation score measures whether the tests catch small, realistic faults in the
 * language, the engines, the counterexample code, the properties and the harness conformance
 * check; `mutation/run.mjs` runs Stryker with this file and prints the score per folder.
 *
 * Versions: @stryker-mutator/core and @stryker-mutator/vitest-runner 9.6.1. Stryker 10 requires
 * Node >= 22 and this project supports Node >= 20.19; 9.6.1 is the last release for Node 20 and
 * its vitest runner accepts vitest >= 2 (we run 4.1.x). No type checker plugin: the
 * `@stryker-mutator/typescript-checker` needs the classic TypeScript compiler API, which the
 * `typescript` 7 package (the native Go compiler) does not have. Without it, a mutant that would not
 * type-check simply runs (vitest strips types) and is killed or survives by the tests alone;
 * Stryker's instrumenter parses TypeScript itself (Babel), so it does not need `typescript`.
 *
 * Cost on a 2-core machine: per-test coverage (each mutant runs only the tests that reach it),
 * two workers, and a vitest config of its own (vitest.mutation.config.ts) that leaves out the tests
 * that cannot kill a mutant or cost minutes for no extra kills (see that file).
 */
export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // Stryker rewrites the tsconfig.json of the sandbox through the classic TypeScript API (to fix
  // `extends` and `references` that point outside it), which TypeScript 7 does not have. Our
  // tsconfig files point at nothing outside the project, so naming a file that does not exist skips
  // that rewrite; vitest does not read tsconfig.json for its transforms.
  tsconfigFile: 'tsconfig.stryker-skips-rewrite.json',
  concurrency: 2,
  // A mutant that makes a search loop forever is a timeout (counted as killed).
  timeoutMS: 10_000,
  timeoutFactor: 1.5,
  // Static mutants (module-level constants) run every test of the suite each; their number is
  // small and each would cost minutes, so they are not run (reported as ignored, outside the score).
  ignoreStatic: true,
  // The initial run executes the whole mutation suite in one worker (several minutes here).
  dryRunTimeoutMinutes: 40,
  // No string-literal mutants: in this code they are the wording of messages, which the tests
  // deliberately do not pin (errors carry stable codes; model/lang/errors.ts), or tags of union
  // types, whose mutants a TypeScript checker would reject as compile errors (not run here, see
  // above). They were a quarter of all mutants.
  mutator: { excludedMutations: ['StringLiteral'] },
  mutate: [
    'model/lang/**/*.ts',
    'checker/**/*.ts',
    'counterexamples/**/*.ts',
    'properties/**/*.ts',
    // The conformance check (moved from harness/ by the restructuring).
    'conformance/**/*.ts',
    // Tests and the kits only tests import are not the product.
    '!**/*.test.ts',
    '!**/*.testkit.ts',
  ],
  // Only what the tests read goes into the sandbox. bench/ stays: checker/explicit/canonical.test.ts
  // imports bench/models/symmetricMutex.ts, and without it in the sandbox that model was loaded
  // with the project's own (not instrumented) language modules, whose `Ref` the sandbox's did not
  // recognise: the initial run of a full run failed ("not an expression").
  ignorePatterns: ['dist', 'reports', 'counterexamples-out', '.ci', 'spec', 'mutation/incremental'],
  reporters: ['html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
