/**
 * `mirrorcheck ci` and its project file, end to end through the built binary (`npm run build` must
 * have run, as for cli.test.ts): a bad file is exit 2 with MC015, the file and the JSON path; the
 * expected outcomes decide the exit status (0 all met, 1 a variant passes, 3 a limit stopped a case);
 * the JUnit report has one test case per model, size, variant and property. The built-in protocols
 * are used at small sizes; the variants named come from the registry.
 */
import { XMLLINT, junitSchemaErrors } from '../test/junitSchema.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonPath } from './projectFile.js';
import { registry } from './registry.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-ci-'));
});

/** Writes a project file into a fresh folder and runs `ci` there. */
function ci(config: unknown, ...args: string[]) {
  const dir = mkdtempSync(join(tmp, 'p-'));
  writeFileSync(join(dir, 'mirrorcheck.config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [bin, 'ci', '--progress', 'false', ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr, dir };
}

const fence = registry.find((p) => p.protocol.name === 'fence-migrate')!;

describe('the project file schema', () => {
  it('is a valid JSON schema that Ajv compiles, and accepts the example and the init template', () => {
    const schema = JSON.parse(readFileSync(join(root, 'schemas/mirrorcheck.config.schema.json'), 'utf8'));
    const validate = new Ajv({ strictTypes: false }).compile(schema);
    for (const f of ['examples/driver-model/mirrorcheck.config.json', 'templates/model-package/mirrorcheck.config.json']) {
      expect(validate(JSON.parse(readFileSync(join(root, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('JSON pointers become JSON paths', () => {
    expect(jsonPath('/models/0/engines/1', 'seed')).toBe('$.models[0].engines[1].seed');
    expect(jsonPath('/models/2/variants/no-zap')).toBe('$.models[2].variants["no-zap"]');
    expect(jsonPath('')).toBe('$');
  });
});

describe('mirrorcheck ci: a bad project file is exit 2, MC015, one line naming the file and the JSON path', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '{\n  "models": [1 2]\n}', /mirrorcheck\.config\.json:2: not valid JSON/],
    ['no models', {}, /mirrorcheck\.config\.json: \$: missing the key 'models'/],
    ['an unknown key', { models: [{ model: 'fence-migrate', engine: 'explicit' }] }, /\$\.models\[0\]\.engine: unknown key/],
    [
      'an unknown engine',
      { models: [{ model: 'fence-migrate', engines: ['bfs'] }] },
      /\$\.models\[0\]\.engines\[0\]: must be one of "explicit", "random", "smt", "prove"/,
    ],
    [
      "an option another engine's",
      { models: [{ model: 'fence-migrate', engines: [{ engine: 'explicit', seed: 3 }] }] },
      /\$\.models\[0\]\.engines\[0\]\.seed: this key is not allowed here/,
    ],
    [
      'a wrong type',
      { models: [{ model: 'fence-migrate', engines: [{ engine: 'random', runs: 'ten' }] }] },
      /\$\.models\[0\]\.engines\[0\]\.runs: must be integer/,
    ],
    ['an unknown protocol', { models: [{ model: 'no-such-protocol' }] }, /\$\.models\[0\]\.model: 'no-such-protocol' is neither a built-in protocol/],
    ['a missing model file', { models: [{ model: './missing.ts' }] }, /\$\.models\[0\]\.model: .*missing\.ts: no such model file/],
    [
      'an unknown variant',
      { models: [{ model: 'fence-migrate', variants: ['nope'] }] },
      /\$\.models\[0\]\.variants\[0\]: unknown variant 'nope' of fence-migrate/,
    ],
    [
      'an unknown property',
      { models: [{ model: 'fence-migrate', variants: { 'no-invalidate': { property: 'nope' } } }] },
      /\$\.models\[0\]\.variants\["no-invalidate"\]\.property: fence-migrate has no property 'nope'/,
    ],
    [
      'a liveness property asked of the random engine',
      { models: [{ model: 'fence-migrate', engines: [{ engine: 'random' }], variants: { 'never-unblock': { property: 'held-dma-completes' } } }] },
      /only the explicit engine checks/,
    ],
    ['an unknown size name', { models: [{ model: 'fence-migrate', sizes: ['huge'] }] }, /\$\.models\[0\]\.sizes\[0\]: fence-migrate has no size 'huge'/],
    [
      'a parameter out of range',
      { models: [{ model: 'fence-migrate', sizes: [{ pages: 99 }] }] },
      /\$\.models\[0\]\.sizes\[0\]: parameter pages=99 is out of range/,
    ],
    [
      'an unknown matrix parameter',
      { models: [{ model: 'fence-migrate', sizes: { matrix: { nope: [1] } } }] },
      /\$\.models\[0\]\.sizes\.matrix\.nope: unknown parameter/,
    ],
  ];
  it.each(cases)('%s', (_, config, message) => {
    const r = ci(config);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('error MC015:');
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  it('a missing project file is MC015 naming it, and --config names another', () => {
    const dir = mkdtempSync(join(tmp, 'none-'));
    const r = spawnSync(process.execPath, [bin, 'ci'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/error MC015: mirrorcheck\.config\.json: cannot read the project file \(ENOENT\)/);
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ models: [{ model: 'fence-migrate', variants: 'none', sizes: [{ pages: 1, frames: 2 }] }] }));
    const r2 = spawnSync(process.execPath, [bin, 'ci', '--config', other, '--progress', 'false'], { cwd: dir, encoding: 'utf8' });
    expect(r2.status).toBe(0);
  });
});

describe('mirrorcheck ci: expectations decide the exit status', () => {
  // Every variant of fence-migrate that applies at the default size and that the explicit engine
  // catches there, from the registry (the liveness-only and retry-mode variants need other settings).
  const defaults = Object.fromEntries(Object.entries(fence.protocol.params).map(([k, p]) => [k, p.default]));
  const applicable = fence.protocol.variants.filter((v) => !v.appliesTo?.(defaults)).map((v) => v.name);

  it('exit 0: the correct protocol holds and every listed variant is violated; the table, the JUnit report and the traces', () => {
    const r = ci({ models: [{ model: 'fence-migrate', engines: ['explicit'], variants: applicable, corpus: false }] });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^model\s+size\s+engine\s+case\s+expected\s+result\s+time\s+verdict$/);
    expect(lines[1]).toMatch(/^fence-migrate\s+default\s+explicit\s+correct\s+holds\s+holds \(exhaustive, \d+ states\).*\sok$/);
    for (const v of applicable)
      expect(r.out).toMatch(new RegExp(`fence-migrate\\s+default\\s+explicit\\s+${v}\\s+violated\\s+violated \\S+ after \\d+ steps.*\\sok`));
    expect(lines.at(-1)).toBe(
      `${applicable.length + 1} cases: ${applicable.length + 1} ok, 0 failed, 0 incomplete, 0 errors, 0 skipped. JUnit: mirrorcheck-out/junit.xml; ${applicable.length} traces in mirrorcheck-out`,
    );
    const xml = readFileSync(join(r.dir, 'mirrorcheck-out/junit.xml'), 'utf8');
    // One test case per property of the correct protocol, and one per variant.
    const cases = xml.match(/<testcase /g) ?? [];
    const correct = xml.match(/classname="fence-migrate\.correct"/g) ?? [];
    expect(cases.length).toBe(correct.length + applicable.length);
    expect(correct.length).toBeGreaterThan(3);
    expect(xml).toMatch(/<testsuites name="mirrorcheck" tests="\d+" failures="0" errors="0"/);
    expect(xml).not.toMatch(/<skipped/);
    if (XMLLINT) expect(junitSchemaErrors(xml)).toBe('');
    expect(readdirSync(join(r.dir, 'mirrorcheck-out')).filter((f) => f.endsWith('.itf.json'))).toHaveLength(applicable.length);
    // A second run never overwrites: a second report beside the first.
    const again = spawnSync(process.execPath, [bin, 'ci', '--progress', 'false'], { cwd: r.dir, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(existsSync(join(r.dir, 'mirrorcheck-out/junit.1.xml'))).toBe(true);
  });

  it('exit 1: a variant that passes is a hole in the property set (here: checked only against a property it does not break)', () => {
    // no-invalidate never blocks DMA, so held-dma-completes (stalled DMA completes) holds for it.
    const r = ci({ models: [{ model: 'fence-migrate', correct: 'skip', variants: { 'no-invalidate': { property: 'held-dma-completes' } }, corpus: false }] });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no-invalidate\s+violated \(held-dma-completes\)\s+not violated \(exhaustive\).*FAILED/);
    expect(r.out).toMatch(/FAILED fence-migrate \[default\] explicit no-invalidate: the variant passes .*the property set has a hole/);
    const xml = readFileSync(join(r.dir, 'mirrorcheck-out/junit.xml'), 'utf8');
    expect(xml).toMatch(
      /<testcase classname="fence-migrate\.no-invalidate" name="held-dma-completes \[default\] explicit"[^>]*>\s*<failure type="expectation" message="the variant passes/,
    );
  });

  it('exit 1: a variant that applies to none of the sizes is never checked, which is a failure, not a skip', () => {
    const r = ci({ models: [{ model: 'fence-migrate', correct: 'skip', variants: ['stale-seq-retry'], corpus: false }] });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED .*stale-seq-retry: \$\.models\[0\]\.variants\[0\]: the variant applies to none of the sizes/);
  });

  it("a variant's own params apply beneath a size's values: at the default size it is built at them; a size that overrides them leaves it unchecked", () => {
    // remove-unlocked-seq declares lifecycle=1; the default size gives no lifecycle, a size of lifecycle=0 does.
    const spec = (sizes: unknown[]) => ({
      models: [{ model: 'odp-mirror', sizes, correct: 'skip', variants: { 'remove-unlocked-seq': { property: 'interval-lifetime' } }, corpus: false }],
    });
    const ok = ci(spec(['default']));
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/remove-unlocked-seq\s+violated \(interval-lifetime\)\s+violated interval-lifetime after 6 steps.*ok/);
    const unmet = ci(spec([{ lifecycle: 0 }]));
    expect(unmet.code).toBe(1);
    expect(unmet.out).toMatch(/FAILED .*remove-unlocked-seq: .*the variant applies to none of the sizes/);
  });

  it('exit 3: a limit that stops a case that had to be complete', () => {
    const r = ci({ models: [{ model: 'fence-migrate', engines: [{ engine: 'explicit', maxStates: 50 }], variants: 'none', corpus: false }] });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/correct\s+holds\s+incomplete: state limit of 50 reached.*INCOMPLETE/);
    const xml = readFileSync(join(r.dir, 'mirrorcheck-out/junit.xml'), 'utf8');
    // A limit leaves the case undecided: an error, not a failed expectation.
    expect(xml).toMatch(/<error type="incomplete" message="incomplete: state limit of 50 reached"\/>/);
    if (XMLLINT) expect(junitSchemaErrors(xml)).toBe('');
  });

  it('exit 3: a sampled search that finds no violation of a variant does not show it passes', () => {
    // One run of one step cannot reach any fence-migrate violation.
    const r = ci({
      models: [
        { model: 'fence-migrate', engines: [{ engine: 'random', seed: 1, runs: 1, depth: 1 }], correct: 'skip', variants: ['no-invalidate'], corpus: false },
      ],
    });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/no-invalidate\s+violated\s+not found \(sampled\).*INCOMPLETE/);
  });

  it('the corpus of a package is replayed: every saved trace still violates its property', () => {
    const r = ci({ models: [{ model: 'fence-migrate', correct: 'skip', variants: 'none' }] });
    expect(r.code).toBe(0);
    const corpus = readdirSync(join(root, 'model/protocols/fenceMigrate/corpus')).filter((f) => f.endsWith('.itf.json'));
    expect(corpus.length).toBeGreaterThan(0);
    for (const f of corpus)
      expect(r.out).toMatch(new RegExp(`fence-migrate\\s+-\\s+replay\\s+corpus/${f.replace(/\./g, '\\.')}\\s+violated\\s+violates .*\\sok`));
  });
});
