/**
 * End-to-end tests of `prove --infer` and of how `prove` names and words what happened (built
 * binary, as cli.test.ts: test/buildOnce.ts builds dist/ from the current sources before any test
 * runs): exit codes, the printed invariant, the hints module, trace file names and step numbers
 * that replay agrees with.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-infer-'));
});

describe('prove --infer (CLI)', () => {
  it('proves fence-migrate without hints, prints the invariant one conjunct a line, writes a hints module and never overwrites it (exit 0)', () => {
    const hints = join(tmp, 'fenceHints.ts');
    const r = run('prove', 'fence-migrate', '--infer', '--save-hints', hints, '--out', join(tmp, 'o1'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^fence-migrate \[.*\] inferred-invariant\n\s+PROVED at these sizes: .*no-lost-write/);
    expect(r.out).toMatch(/note: soundness guard: the printed conjuncts hold initially and, with the properties, are 1-inductive/);
    const m = /inferred invariant \((\d+) conjuncts/.exec(r.out);
    expect(Number(m?.[1])).toBeGreaterThan(10);
    // One conjunct a line, each a model-language expression.
    const lines = r.out.split('\n').filter((l) => /^ {4}(forall|implies|not|eq|ne|or|and)\(/.test(l));
    expect(lines.length).toBe(Number(m?.[1]));
    expect(r.out).toContain(`hints module: ${hints}`);
    expect(readFileSync(hints, 'utf8')).toMatch(/export function inferredHints\(model: Model\): ProofHints/);
    expect(r.err).toMatch(/prove fence-migrate: \d+ reachable states/);
    expect(r.err).toMatch(/prove fence-migrate: re-proving the printed invariant \(\d+ conjuncts\) by 1-induction/);
    const j = run('prove', 'fence-migrate', '--infer', '--save-hints', hints, '--format', 'json', '--no-progress', '--out', join(tmp, 'o1'));
    expect(j.code).toBe(0);
    const rec = JSON.parse(j.out);
    expect(rec).toMatchObject({ method: 'inferred-invariant', status: 'proved', guarantee: 'proved' });
    expect(rec.invariant.length).toBeGreaterThan(10);
    expect(basename(rec.hints)).toBe('fenceHints.1.ts');
    expect(j.err).toBe('');
  });

  it('a bug variant: the shortest trace, saved; prove and replay name the same step (exit 1)', () => {
    const out = join(tmp, 'o2');
    const r = run('prove', 'fence-migrate', '--infer', '--variant', 'unblock-before-copy', '--out', out, '--format', 'json', '--no-progress');
    expect(r.code).toBe(1);
    const rec = JSON.parse(r.out);
    expect(rec.violations[0]).toMatchObject({ property: 'mirror-coherent', length: 6 });
    const t = run('prove', 'fence-migrate', '--infer', '--variant', 'unblock-before-copy', '--out', out, '--no-progress');
    expect(t.out).toMatch(/VIOLATED mirror-coherent \[FM-R1\]: 6 steps from the start lead to a state where it fails/);
    const rep = run('replay', rec.violations[0].trace);
    expect(rep.code).toBe(1);
    expect(rep.out).toMatch(/Reproduced: mirror-coherent \(FM-R1\) is violated at step 6\./);
  });

  it('--infer with --unbounded is bad usage (exit 2)', () => {
    const r = run('prove', 'fence-migrate', '--infer', '--unbounded');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mirrorcheck: error MC030: --infer proves at the sizes built/);
  });

  it("--infer with --max-k is bad usage (exit 2): the depth is k-induction's", () => {
    const r = run('prove', 'fence-migrate', '--infer', '--max-k', '3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mirrorcheck: error MC030: --max-k sets the depth of k-induction; --infer does not use it/);
  });
});

describe('what prove prints is what happened (CLI)', () => {
  it('a hint that fails alone is reported as hints that do not fit, exit 3, trace named .hint, never as a violation', () => {
    const out = join(tmp, 'o3');
    const r = run('prove', 'fence-migrate', '--variant', 'never-unblock', '--out', out);
    expect(r.code).toBe(3);
    expect(r.out).not.toMatch(/VIOLATED/);
    expect(r.out).toMatch(/NOT PROVED: the hints do not fit this variant: 2 steps from the start lead to a state where the hint blocked-while-fenced fails/);
    expect(r.out).toMatch(/fence-migrate\.never-unblock\.blocked-while-fenced\.hint\.itf\.json/);
  });

  it('a counterexample to induction is saved as <protocol>.<variant>.<property>.cti.itf.json and replay names the step prove names', () => {
    const out = join(tmp, 'o4');
    const r = run('prove', 'odp-mirror', '--variant', 'zap-without-drain', '--max-k', '2', '--out', out, '--format', 'json');
    expect(r.code).toBe(3);
    const rec = JSON.parse(r.out);
    expect(basename(rec.trace)).toBe(`odp-mirror.zap-without-drain.${rec.property}.cti.itf.json`);
    expect(rec.message).toMatch(/^\S+ is not 2-inductive: 2 steps from a state/);
    const rep = run('replay', rec.trace);
    expect(rep.code).toBe(3);
    expect(rep.out).toMatch(/fails at step 2 from a start state that need not be reachable/);
  });
});
