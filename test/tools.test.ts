/**
 * The optional tools are installed where they are required. On a developer's machine a missing tool
 * is a visible skip (and the tests that need it skip too, naming it); with MIRRORCHECK_REQUIRE_TOOLS=1,
 * as .ci/run sets, it is a failure, so that CI never passes with the independent checks skipped.
 */
import { describe, expect, it } from 'vitest';
import { OPTIONAL_TOOLS, REQUIRE_TOOLS, onPath } from './tools.js';

describe('optional tools', () => {
  for (const t of OPTIONAL_TOOLS) {
    const missing = t.commands.filter((c) => !onPath(c));
    it.skipIf(missing.length > 0 && !REQUIRE_TOOLS)(`${t.name} is installed (enables ${t.enables}; ${t.install})`, () => {
      expect(missing, `${missing.join(', ')} not on the PATH, and MIRRORCHECK_REQUIRE_TOOLS=1 requires ${t.name}: ${t.install}`).toEqual([]);
    });
  }
});
