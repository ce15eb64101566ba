import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/slowFirstSequencer.js';

// Built-in protocols import the public API by the package's own name, as a driver author's model
// does; in tests that name resolves to the sources (tsconfig.json maps it the same way for tsc).
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^mirrorcheck$/, replacement: here('./index.ts') },
      { find: /^mirrorcheck\/harness$/, replacement: here('./harness/index.ts') },
      { find: /^mirrorcheck\/conformance$/, replacement: here('./conformance/index.ts') },
    ],
  },
  test: {
    // Build dist/ from the current sources once per run: the end-to-end tests run the built CLI.
    globalSetup: ['./test/buildOnce.ts'],
    include: ['**/*.test.ts'],
    // Nested node_modules too: examples/driver-model installs mirrorcheck as a link to this folder.
    exclude: ['**/node_modules/**', 'dist/**', '.stryker-tmp/**'],
    // One test file per core: the default leaves a core idle on a 2-core CI machine.
    maxWorkers: availableParallelism(),
    testTimeout: 120_000,
    // On a fresh clone (CI), the files known to take minutes start first (test/slowFirstSequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    hookTimeout: 60_000,
  },
});
