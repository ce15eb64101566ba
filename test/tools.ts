/**
 * The optional tools some tests need (peer checkers, a native z3, a browser, an XML validator).
 * Why this module exists: on a developer's machine a missing tool skips the tests that need it, with
 * the reason in the test's title; in CI it must not, because those tests are the only independent
 * checks. `.ci/run` installs the tools and sets MIRRORCHECK_REQUIRE_TOOLS=1, and test/tools.test.ts
 * then fails for any tool that is missing.
 */
import { spawnSync } from 'node:child_process';

/** Set by .ci/run: a missing optional tool is a failure, not a skip. */
export const REQUIRE_TOOLS = process.env.MIRRORCHECK_REQUIRE_TOOLS === '1';

/** An optional tool: the commands it needs, how to install it (Debian), and the tests it enables. */
export interface OptionalTool {
  readonly name: string;
  readonly commands: readonly string[];
  readonly install: string;
  readonly enables: string;
}

export const OPTIONAL_TOOLS: readonly OptionalTool[] = [
  {
    name: 'spin',
    commands: ['spin', 'gcc'],
    install: 'apt-get install -y spin gcc',
    enables: 'exporters/promela.test.ts: SPIN agrees with the explicit engine',
  },
  {
    name: 'rumur',
    commands: ['rumur', 'cc'],
    install: 'apt-get install -y rumur gcc',
    enables: 'exporters/murphi.test.ts: Rumur agrees with the explicit engine',
  },
  { name: 'z3', commands: ['z3'], install: 'apt-get install -y z3', enables: 'the --solver native tests (cli/cli.test.ts, checker/smt)' },
  {
    name: 'chromium',
    commands: ['chromium'],
    install: 'apt-get install -y chromium',
    enables: 'counterexamples/html.browser.test.ts: the HTML trace page in a headless browser',
  },
  {
    name: 'xmllint',
    commands: ['xmllint'],
    install: 'apt-get install -y libxml2-utils',
    enables: 'cli/junit.test.ts: JUnit output validated against the JUnit schema',
  },
];

/** Whether a command is on the PATH. */
export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', command], { encoding: 'utf8' }).status === 0;
}

/** Whether every command of the named optional tool is on the PATH. */
export function haveTool(name: string): boolean {
  const t = OPTIONAL_TOOLS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown optional tool ${name}`);
  return t.commands.every(onPath);
}

/** A test-title suffix saying what a skipped test needs. */
export function needs(name: string): string {
  const t = OPTIONAL_TOOLS.find((x) => x.name === name);
  return t ? `needs ${t.commands.join(' and ')}: ${t.install}` : `needs ${name}`;
}
