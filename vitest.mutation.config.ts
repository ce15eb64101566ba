/**
 * The vitest configuration of mutation runs (stryker.config.mjs). Why this file exists: a mutant is
 * tested by every test that reaches the mutated code, so a test that takes seconds and kills
 * nothing the others do not kill multiplies the run's time by the number of mutants it reaches. The
 * mutation run keeps every test except these, each left out for a stated reason:
 *
 * - `cli/cli.test.ts`: runs the built binary (`node dist/cli/main.js`), which Stryker does not
 *   mutate (it mutates the sources in its sandbox), so it cannot kill a mutant;
 * - `model/protocols/odpMirror/odpMirror.large.test.ts`: the benchmark-size golden run (2.3 million
 *   states, tens of seconds per variant); the same engine code is pinned by the golden counts of
 *   the smaller sizes in odpMirror.test.ts and the other protocol tests;
 * - the peer-checker runs (SPIN, Rumur) in exporters/*.test.ts and the symmetry tests: each
 *   compiles a C verifier (seconds). What they check of our code is our state counts and verdicts,
 *   which the tests pin as numbers (the peer runs are how those numbers were cross-checked). They
 *   are switched off by MIRRORCHECK_PEERS=off (test/peers.ts); the
 *   exporter tests that do not run a peer stay.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['node_modules/**', 'dist/**', 'cli/cli.test.ts', 'model/protocols/odpMirror/odpMirror.large.test.ts'],
      env: { MIRRORCHECK_PEERS: 'off' },
    },
  }),
);
