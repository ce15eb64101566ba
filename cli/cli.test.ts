/**
 * End-to-end tests of the built binary: exit codes 0, 1, 2, 3 and 4, JSON fields, trace files and
 * replay. They run `node dist/cli/main.js`, so `npm run build` (done by `npm ci`) must have run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let tmp = '';

beforeAll(() => {
  if (!existsSync(bin)) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  tmp = mkdtempSync(join(tmpdir(), 'mc-cli-'));
});

describe('mirrorcheck CLI', () => {
  it('list shows the protocol, its variants and properties', () => {
    const r = run('list');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/fence-migrate/);
    for (const v of ['unblock-before-update', 'fence-without-drain', 'unblock-before-copy', 'free-before-fence', 'no-invalidate']) expect(r.out).toContain(v);
  });

  it('exit 0: check with no arguments checks every built-in protocol', () => {
    const r = run('check', '--out', join(tmp, 'o0'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/OK: every property holds \(exhaustive\)/);
  });

  it('exit 1: a variant is violated, its trace is saved, replay reproduces it (exit 1), and files are never overwritten', () => {
    const out = join(tmp, 'o1');
    const r = run('check', 'fence-migrate', '--variant', 'unblock-before-copy', '--format', 'json', '--out', out);
    expect(r.code).toBe(1);
    const rec = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(rec).toMatchObject({ protocol: 'fence-migrate', variant: 'unblock-before-copy', engine: 'explicit', status: 'violated', guarantee: 'exhaustive' });
    expect(rec.violations[0]).toMatchObject({ property: 'no-lost-write', requirement: 'FM-R4', length: 7 });
    expect(typeof rec.states).toBe('number');
    const trace = rec.violations[0].trace as string;
    expect(existsSync(trace)).toBe(true);
    const rep = run('replay', trace);
    expect(rep.code).toBe(1);
    expect(rep.out).toMatch(/Step 7: HcaCompleteDma\(d=0\)\s+<-- VIOLATION no-lost-write \(FM-R4\)/);
    const mer = run('replay', trace, '--render', 'mermaid');
    expect(mer.out).toMatch(/sequenceDiagram/);
    // Same run again: a second file, the first one untouched.
    const before = readFileSync(trace, 'utf8');
    expect(run('check', 'fence-migrate', '--variant', 'unblock-before-copy', '--out', out).code).toBe(1);
    expect(readdirSync(out).length).toBe(2);
    expect(readFileSync(trace, 'utf8')).toBe(before);
  });

  it('exit 2: bad input gets one line with a stable code', () => {
    const cases: [string[], string][] = [
      [['check', 'no-such-protocol'], 'MC001'],
      [['check', 'fence-migrate', '--variant', 'nope'], 'MC002'],
      [['check', 'fence-migrate', '--param', 'nope=1'], 'MC003'],
      [['check', 'fence-migrate', '--param', 'pages=99'], 'MC004'],
      [['check', 'fence-migrate', '--param', 'frames=2'], 'MC004'],
      [['check', 'fence-migrate', '--variant', 'unblock-before-update', '--param', 'mode=zap-and-fault'], 'MC005'],
      [['replay', join(tmp, 'missing.itf.json')], 'MC020'],
      [['check', 'fence-migrate', '--no-such-flag'], 'MC030'],
    ];
    for (const [args, code] of cases) {
      const r = run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`error ${code}:`);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const truncated = join(tmp, 'trunc.itf.json');
    writeFileSync(truncated, '{"vars": [');
    expect(run('replay', truncated).err).toContain('MC021');
    const notTrace = join(tmp, 'other.itf.json');
    writeFileSync(notTrace, '{"vars": ["x"], "states": [{"x": true}]}');
    expect(run('replay', notTrace).err).toContain('MC022');
    const other = join(tmp, 'proto.itf.json');
    writeFileSync(other, JSON.stringify({ '#meta': { protocol: 'tlb-shootdown', params: {}, choices: [0] }, vars: ['x'], states: [{ x: true }] }));
    const r = run('replay', other);
    expect(r.code).toBe(2);
    expect(r.err).toContain('MC023');
  });

  it('exit 3: a limit stops the run with the statistics so far', () => {
    for (const args of [['--max-states', '50'], ['--depth', '3'], ['--time-limit', '0']]) {
      const r = run('check', 'fence-migrate', ...args, '--format', 'json', '--out', join(tmp, 'o3'));
      expect(r.code, args.join(' ')).toBe(3);
      const rec = JSON.parse(r.out);
      expect(rec.status).toBe('incomplete');
      expect(rec.states).toBeGreaterThan(0);
    }
  });

  it('exit 4: a trace that no longer replays on the model', () => {
    const out = join(tmp, 'o4');
    const r = run('check', 'fence-migrate', '--variant', 'fence-without-drain', '--format', 'json', '--out', out);
    const trace = JSON.parse(r.out).violations[0].trace as string;
    const doc = JSON.parse(readFileSync(trace, 'utf8'));
    doc.states[2].written = { '#bigint': '1' }; // a state the choices do not produce
    const bad = join(tmp, 'tampered.itf.json');
    writeFileSync(bad, JSON.stringify(doc));
    const rep = run('replay', bad);
    expect(rep.code).toBe(4);
    expect(rep.out).toMatch(/REPLAY FAILED at step 2/);
    doc.states[2].written = { '#bigint': '0' };
    doc['#meta'].choices[2] = 0; // a choice that is not enabled there
    writeFileSync(bad, JSON.stringify(doc));
    expect(run('replay', bad).code).toBe(4);
  });

  it('exit 0 on replay: a trace without a violation replays clean', () => {
    const out = join(tmp, 'o5');
    const r = run('check', 'fence-migrate', '--variant', 'fence-without-drain', '--format', 'json', '--out', out);
    const trace = JSON.parse(r.out).violations[0].trace as string;
    const doc = JSON.parse(readFileSync(trace, 'utf8'));
    doc.states = doc.states.slice(0, 2);
    doc['#meta'].choices = doc['#meta'].choices.slice(0, 2);
    const clean = join(tmp, 'clean.itf.json');
    writeFileSync(clean, JSON.stringify(doc));
    const rep = run('replay', clean);
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/no property is violated/);
  });

  it('export prints the model for peers and never overwrites a file', () => {
    const m = run('export', 'fence-migrate', '--to', 'murphi');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/ruleset p : Page do|ruleset p: Page do/);
    const p = run('export', 'fence-migrate', '--to', 'promela', '--variant', 'no-invalidate');
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/proctype/);
    const file = join(tmp, 'fm.m');
    expect(run('export', 'fence-migrate', '--to', 'murphi', '--output', file).code).toBe(0);
    const again = run('export', 'fence-migrate', '--to', 'murphi', '--output', file);
    expect(again.code).toBe(2);
    expect(again.err).toContain('MC031');
  });

  it('replay renders a standalone HTML page and keeps the exit code', () => {
    const r = run('replay', join(root, 'counterexamples/corpus/fence-migrate/unblock-before-copy.itf.json'), '--render', 'html');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^<!doctype html>/);
    expect(r.out).toMatch(/<tr class="bad">.*no-lost-write \[FM-R4\]/s);
  });

  it('junit output', () => {
    const r = run('check', 'fence-migrate', '--variant', 'no-invalidate', '--format', 'junit', '--out', join(tmp, 'o6'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/<testsuite name="fence-migrate.no-invalidate" tests="1" failures="1"/);
  });
});
