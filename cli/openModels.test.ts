/**
 * Driver authors' own models, as a driver author meets them: mirrorcheck packed (`npm pack`) and
 * installed from the tarball into a copy of examples/driver-model OUTSIDE the repository, then
 * `list`, `check`, a variant, `replay`, `prove`, `export` and `ci` through the installed bin;
 * `init` into an empty folder followed by `ci` there; model files that do not parse, do not
 * typecheck, export nothing or build an ill-formed model (exit 2 with file:line, never a stack
 * trace); `init` refusing a non-empty folder. The tarball is packed from the current build
 * (`--ignore-scripts`: rebuilding dist/ here would race the other test files that run it; `npm run
 * build`, which `npm ci` runs, must be current), and npm installs its dependencies from its cache.
 */
import { XMLLINT, junitSchemaErrors } from '../test/junitSchema.js';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
let tmp = '';
let project = '';
let mc = '';
let tarball = '';

const npm = (args: string[], cwd: string) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
/** Runs the installed bin in `cwd`. */
const run = (cwd: string, ...args: string[]) => {
  const r = spawnSync(mc, args, { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-open-models-'));
  const pack = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], root);
  expect(pack.status, pack.stderr).toBe(0);
  tarball = join(tmp, pack.stdout.trim().split('\n').at(-1) as string);
  expect(existsSync(tarball)).toBe(true);
  // A copy of the example, outside the repository, depending on the tarball instead of file:../..
  project = join(tmp, 'driver-model');
  cpSync(join(root, 'examples/driver-model'), project, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|mirrorcheck-out|counterexamples-out)$/.test(src) && !src.endsWith('package-lock.json'),
  });
  const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  pkg.devDependencies.mirrorcheck = `file:${tarball}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
  const install = npm(['install', '--prefer-offline', '--no-audit', '--no-fund'], project);
  expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
  mc = join(project, 'node_modules/.bin/mirrorcheck');
  expect(existsSync(mc)).toBe(true);
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed tool', () => {
  it('ships the compiled tool, the project file schema and the init template, and no sources or tests', () => {
    const r = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
    const files = r.stdout.split('\n');
    expect(files).toContain('package/dist/cli/main.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/schemas/mirrorcheck.config.schema.json');
    for (const f of ['package.json', 'mirrorcheck.config.json', 'index.ts', 'protocol.ts', 'properties.ts', 'spec.md', 'corpus/README.md', 'gitignore']) {
      expect(files, f).toContain(`package/templates/model-package/${f}`);
    }
    expect(files.some((f) => f.endsWith('.test.ts') || f.endsWith('.test.js'))).toBe(false);
    expect(files.some((f) => f.startsWith('package/cli/'))).toBe(false);
  });
});

describe('the example model package, installed outside the repository', () => {
  it('list shows the protocol loaded from the file, its variants and properties', () => {
    const r = run(project, 'list', './dmirror/index.ts');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dmirror: HMM test driver/);
    for (const v of ['no-read-retry', 'no-set-seq', 'invalidate-without-lock']) expect(r.out).toContain(v);
    expect(r.out).toMatch(/DM-R1\s+invariant\s+device-table-not-stale/);
  });

  it('check: the correct protocol holds exhaustively (exit 0)', () => {
    const r = run(project, 'check', './dmirror/index.ts', '--out', join(tmp, 'o-check'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/OK: every property holds \(exhaustive\)/);
    expect(r.out).toMatch(/covers reached: 2\/2/);
    expect(r.out).toMatch(/1748 distinct states/);
  });

  let trace = '';
  it('check --variant: the bug is caught, the trace is saved with the model file and its hash (exit 1)', () => {
    const out = join(project, 'traces');
    const r = run(project, 'check', './dmirror/index.ts', '--variant', 'no-read-retry', '--format', 'json', '--out', out, '--progress', 'false');
    expect(r.code).toBe(1);
    const rec = JSON.parse(r.out.trim().split('\n').at(-1) as string);
    expect(rec).toMatchObject({ protocol: 'dmirror', variant: 'no-read-retry', status: 'violated', guarantee: 'exhaustive' });
    expect(rec.violations[0]).toMatchObject({ property: 'device-table-not-stale', requirement: 'DM-R1', length: 7 });
    trace = rec.violations[0].trace;
    const meta = JSON.parse(readFileSync(trace, 'utf8'))['#meta'];
    expect(meta.model.file).toBe('../dmirror/index.ts');
    expect(meta.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replay: the trace reproduces its violation on the model file it names (exit 1)', () => {
    const r = run(project, 'replay', trace);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Step 7: FaultStore\(\)\s+<-- VIOLATION device-table-not-stale \(DM-R1\)/);
    expect(r.out).toMatch(/Reproduced: device-table-not-stale \(DM-R1\) is violated at step 7\./);
  });

  it('replay: a moved model is found with --model; a changed one is refused (exit 2, MC023 naming the file)', () => {
    const moved = join(tmp, 'moved');
    cpSync(join(project, 'dmirror'), moved, { recursive: true });
    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    const t = join(elsewhere, 'trace.itf.json');
    cpSync(trace, t);
    const missing = run(project, 'replay', t);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/error MC023: the trace's model file .*dmirror[/\\]index\.ts is missing; if it has moved, give it with --model FILE/);
    const found = run(project, 'replay', t, '--model', join(moved, 'index.ts'));
    expect(found.code).toBe(1);
    expect(found.out).toMatch(/Reproduced: device-table-not-stale/);
    writeFileSync(join(moved, 'index.ts'), `${readFileSync(join(moved, 'index.ts'), 'utf8')}\n// changed\n`);
    const changed = run(project, 'replay', t, '--model', join(moved, 'index.ts'));
    expect(changed.code).toBe(2);
    expect(changed.err).toMatch(/error MC023: the model file .*moved[/\\]index\.ts has changed since the trace was made/);
    expect(changed.err).not.toMatch(/\n\s+at /);
  });

  it("prove: k-induction with the package's proof hints proves the properties (exit 0)", () => {
    const r = run(project, 'prove', './dmirror/index.ts', '--out', join(tmp, 'o-prove'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/PROVED with k=1 at these sizes: device-table-not-stale, /);
    expect(r.out).toMatch(/device-reads-mapped-frame/);
  });

  it('export: Murphi and Promela for the peers (exit 0)', () => {
    const m = run(project, 'export', './dmirror/index.ts', '--to', 'murphi');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/ruleset p: Page do/);
    expect(m.out).toMatch(/invariant "device-table-not-stale"/);
    const p = run(project, 'export', './dmirror/index.ts', '--to', 'promela', '--variant', 'no-set-seq');
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/proctype/);
  });

  it('ci: every case of the project file meets its expectation (exit 0), with the JUnit report', () => {
    const r = run(project, 'ci', '--progress', 'false');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const last = r.out.trim().split('\n').at(-1) as string;
    const m = /^(\d+) cases: (\d+) ok, 0 failed, 0 incomplete, 0 errors, 0 skipped\. JUnit: mirrorcheck-out\/junit\.xml; \d+ traces in mirrorcheck-out$/.exec(
      last,
    );
    expect(m, last).not.toBeNull();
    expect(m?.[1]).toBe(m?.[2]);
    // The corpus is replayed, every engine of the file ran.
    for (const f of readdirSync(join(project, 'dmirror/corpus'))) expect(r.out).toContain(`corpus/${f}`);
    for (const e of ['explicit', 'prove', 'random seed=7', 'smt depth=8']) expect(r.out).toContain(e);
    const xml = readFileSync(join(project, 'mirrorcheck-out/junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="mirrorcheck" tests="\d+" failures="0" errors="0"/);
    expect(xml).not.toMatch(/<skipped/);
    if (XMLLINT) expect(junitSchemaErrors(xml)).toBe('');
    expect(xml).toContain('classname="dmirror.invalidate-without-lock" name="device-reads-mapped-frame [DM-R2] [default] explicit"');
  });
});

describe('init: a new model package that passes ci at once', () => {
  let dir = '';
  it('writes the package into an empty folder, depending on this version of mirrorcheck', () => {
    const parent = mkdtempSync(join(tmp, 'init-'));
    dir = join(parent, 'my-model');
    mkdirSync(dir);
    const r = run(parent, 'init', 'my-model');
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([
      '.gitignore',
      'README.md',
      'corpus',
      'index.ts',
      'mirrorcheck.config.json',
      'package.json',
      'properties.ts',
      'protocol.ts',
      'spec.md',
      'tsconfig.json',
    ]);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'my-model', type: 'module', devDependencies: { mirrorcheck: version } });
    expect(readFileSync(join(dir, 'spec.md'), 'utf8')).toMatch(/TODO/);
    const spec = run(parent, 'init', 'other', '--mirrorcheck-spec', `file:${tarball}`);
    expect(spec.code).toBe(0);
    expect(JSON.parse(readFileSync(join(parent, 'other/package.json'), 'utf8')).devDependencies.mirrorcheck).toBe(`file:${tarball}`);
  });

  it('ci passes in it as written (exit 0)', () => {
    const r = run(dir, 'ci', '--progress', 'false');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/my-driver\s+default\s+explicit\s+no-zap\s+violated \(device-follows-pte\)\s+violated device-follows-pte after 3 steps.*\sok/);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/^8 cases: 8 ok, 0 failed/);
  });

  it('without proof hints, prove reports not proved (a counterexample to induction, exit 3) and says what may help', () => {
    const r = run(dir, 'prove', './index.ts', '--max-k', '2', '--out', join(tmp, 'o-init-prove'));
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/NOT PROVED: device-follows-pte \[R1\] is not inductive up to k=2/);
    expect(r.out).toMatch(/add it to the package's proof hints, or try a larger --max-k/);
  });

  it('refuses a non-empty folder (exit 2, MC031) and never overwrites a file', () => {
    const before = readdirSync(dir).sort();
    writeFileSync(join(dir, 'index.ts'), '// mine\n');
    const r = run(dir, 'init', '.');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/error MC031: \. is not empty; init writes only into a new or empty folder and never overwrites/);
    expect(readFileSync(join(dir, 'index.ts'), 'utf8')).toBe('// mine\n');
    expect(readdirSync(dir).sort()).toEqual(before);
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expect(run(tmp, 'init', file).code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('broken model files: exit 2, one line with file:line, never a stack trace', () => {
  let dir = '';
  beforeAll(() => {
    const parent = mkdtempSync(join(tmp, 'broken-'));
    dir = join(parent, 'm');
    expect(run(parent, 'init', 'm').code).toBe(0);
  });
  const broken = (name: string, text: string, args: string[] = []) => {
    writeFileSync(join(dir, name), text);
    return run(dir, 'check', `./${name}`, '--out', join(tmp, 'o-broken'), ...args);
  };
  const oneLine = (r: { code: number | null; err: string; out: string }) => {
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at |node:internal/);
    expect(r.out).toBe('');
  };

  it('a syntax error (MC013)', () => {
    const r = broken('syntax.ts', `${readFileSync(join(dir, 'index.ts'), 'utf8')}\nconst broken = ;\n`);
    oneLine(r);
    expect(r.err).toMatch(/error MC013: syntax\.ts:\d+: TS\d+/);
  });

  it('a type error (MC013)', () => {
    const r = broken('typed.ts', `${readFileSync(join(dir, 'index.ts'), 'utf8')}\nexport const pages: number = 'two';\n`);
    oneLine(r);
    expect(r.err).toMatch(/error MC013: typed\.ts:\d+: TS2322 Type 'string' is not assignable to type 'number'/);
  });

  it('a syntax error in a JavaScript model file, which is not typechecked (MC013)', () => {
    const r = broken('syntax.mjs', "import { definePackage } from 'mirrorcheck';\nexport default definePackage({ properties: ( });\n");
    oneLine(r);
    expect(r.err).toMatch(/error MC013: syntax\.mjs:2: SyntaxError: Unexpected token/);
  });

  it('no protocol package exported (MC014)', () => {
    const r = broken('empty.ts', 'export const answer = 42;\n');
    oneLine(r);
    expect(r.err).toMatch(/error MC014: empty\.ts:1: exports no protocol package .*it exports answer/);
  });

  it('an ill-formed model: the line in the protocol file where it is built wrong (MC010)', () => {
    const protocol = readFileSync(join(dir, 'protocol.ts'), 'utf8').replace(
      "const inv = b.v('inv', arrayOf(Page, bool));",
      "const inv = b.v('inv', arrayOf(Page, bool));\n    b.v('pte', bool);",
    );
    writeFileSync(join(dir, 'protocol.ts'), protocol);
    const line = protocol.split('\n').findIndex((l) => l.includes("b.v('pte', bool);")) + 1;
    const r = run(dir, 'check', './index.ts', '--out', join(tmp, 'o-broken'));
    oneLine(r);
    expect(r.err).toContain(`error MC010: protocol.ts:${line}: `);
    expect(r.err).toMatch(/variable pte declared twice/);
  });

  it('a JavaScript model file loads without a build step (.mjs)', () => {
    const js = [
      "import { assign, bool, definePackage, definePropertySet, defineProtocol, invariant, not } from 'mirrorcheck';",
      "const toggle = defineProtocol({ name: 'toggle', summary: 'a bit', spec: 'spec.md', params: {}, variants: [],",
      "  build(b) { const on = b.v('on', bool); b.init('off', () => []); b.rule('Flip', {}, () => ({ guard: true, body: [assign(on, not(on))] })); return { on }; } });",
      "export default definePackage({ properties: definePropertySet(toggle, () => [invariant('trivial', 'T1', 'true', true)]) });",
    ].join('\n');
    const r = broken('toggle.mjs', js);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^toggle \[\] engine explicit/);
    expect(r.out).toMatch(/2 distinct states/);
  });
});
