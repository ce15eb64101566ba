/**
 * End-to-end tests of the built binary: exit codes 0, 1, 2, 3 and 4, JSON fields, trace files and
 * replay. They run `node dist/cli/main.js`, which test/buildOnce.ts builds from the current sources
 * before any test runs (never a stale build). Each test stands alone: none uses another's output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model/lang/protocol.js';
import { registry } from './registry.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mc-cli-'));
});

describe('mirrorcheck CLI', () => {
  it('the bin is executable, so `npx mirrorcheck` can run it directly', () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
  });

  it('list shows every built-in protocol, its variants and properties (from the registry)', () => {
    const r = run('list');
    expect(r.code).toBe(0);
    for (const pkg of registry) {
      expect(r.out).toContain(`${pkg.protocol.name}: ${pkg.protocol.summary}`);
      const lines = r.out.split('\n').map((l) => l.trim());
      for (const v of pkg.protocol.variants) {
        // A variant built at its own params says which.
        const own = v.params
          ? ` [at ${Object.entries(v.params)
              .map(([k, x]) => `${k}=${x}`)
              .join(' ')}]`
          : '';
        expect(
          lines.some((l) => l.startsWith(`${v.name} `) && l.endsWith(`${v.summary}${own}`)),
          v.name,
        ).toBe(true);
      }
      for (const p of pkg.properties.build(buildModel(pkg.protocol))) expect(r.out).toContain(` ${p.name}: ${p.doc}`);
    }
  });

  it("list shows a variant's own params: in the text, and in the JSON", () => {
    expect(run('list', 'odp-mirror').out).toMatch(/remove-unlocked-seq .* \[at lifecycle=1\]\n/);
    const json = JSON.parse(run('list', 'odp-mirror', '--format', 'json').out);
    const variants = json[0].variants as { name: string; params?: Record<string, unknown> }[];
    expect(variants.find((v) => v.name === 'remove-unlocked-seq')?.params).toEqual({ lifecycle: 1 });
    expect(variants.find((v) => v.name === 'valid-flag')?.params).toBeUndefined();
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
    expect(rec.violations[0]).toMatchObject({ property: 'mirror-coherent', requirement: 'FM-R1', length: 6 });
    expect(typeof rec.states).toBe('number');
    const trace = rec.violations[0].trace as string;
    expect(existsSync(trace)).toBe(true);
    const rep = run('replay', trace);
    expect(rep.code).toBe(1);
    // Which page z3 migrates is its choice (both pages give a 6-step trace).
    expect(rep.out).toMatch(/Step 6: DriverUnblockDma\(p=[01]\)\s+<-- VIOLATION mirror-coherent \(FM-R1\)/);
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
      // The process itself uses more than 1 MiB: not even the first table fits (a refusal, not an internal error).
      [['check', 'fence-migrate', '--max-memory', '1MiB'], 'MC030'],
      [['check', 'fence-migrate', '--engine', 'smt', '--max-memory', '1GiB'], 'MC030'],
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
    for (const args of [
      ['--max-states', '50'],
      ['--depth', '3'],
      ['--time-limit', '0'],
    ]) {
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
    const r = run('replay', join(root, 'model/protocols/fenceMigrate/corpus/unblock-before-copy.itf.json'), '--render', 'html');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^<!doctype html>/);
    expect(r.out).toMatch(/<tr id="step-6" class="bad">.*mirror-coherent \[FM-R1\]/s);
  });

  it('junit output', () => {
    const r = run('check', 'fence-migrate', '--variant', 'no-invalidate', '--format', 'junit', '--out', join(tmp, 'o6'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/<testsuite name="fence-migrate.no-invalidate \[pages=2 [^"]*\]" tests="15" failures="1" errors="0" skipped="10"/);
  });
});

describe('mirrorcheck CLI, SMT commands (z3)', () => {
  const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!);

  it('check --engine smt: no violation within the depth is exit 0 with a bounded guarantee', () => {
    const out = join(tmp, 's0');
    const r = run('check', 'fence-migrate', '--engine', 'smt', '--depth', '8', '--out', out);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/engine smt\n\s+OK: every checked property holds \(bounded to depth 8\)/);
    // BMC checks no liveness: it says so instead of counting them as holding.
    expect(r.out).toMatch(/not checked by the smt engine \(liveness; use --engine explicit\): held-dma-completes, every-migration-ends/);
    expect(r.out).toMatch(/bounded model checking: no violation within 8 steps, \d+ solver queries,/);
    const j = run('check', 'fence-migrate', '--engine', 'smt', '--depth', '8', '--format', 'json', '--out', out);
    expect(j.code).toBe(0);
    const rec = lastJson(j.out);
    expect(rec).toMatchObject({
      protocol: 'fence-migrate',
      variant: null,
      engine: 'smt',
      solver: 'wasm',
      status: 'ok',
      guarantee: 'bounded',
      bound: 8,
      depth: 8,
      violations: [],
    });
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('check --engine smt: a variant is exit 1 at the BFS length, its trace is saved and replay reproduces it', () => {
    const out = join(tmp, 's1');
    const r = run('check', 'fence-migrate', '--variant', 'unblock-before-copy', '--engine', 'smt', '--depth', '10', '--out', out, '--format', 'json');
    expect(r.code).toBe(1);
    const rec = lastJson(r.out);
    expect(rec).toMatchObject({ protocol: 'fence-migrate', variant: 'unblock-before-copy', engine: 'smt', status: 'violated', guarantee: 'bounded' });
    expect(rec.violations).toHaveLength(1);
    expect(rec.violations[0]).toMatchObject({ property: 'mirror-coherent', requirement: 'FM-R1', kind: 'invariant', length: 6 });
    const trace = rec.violations[0].trace as string;
    expect(existsSync(trace)).toBe(true);
    expect(JSON.parse(readFileSync(trace, 'utf8'))['#meta']).toMatchObject({ engine: 'smt', property: 'mirror-coherent', variant: 'unblock-before-copy' });
    const rep = run('replay', trace);
    expect(rep.code).toBe(1);
    expect(rep.out).toMatch(/engine smt, 6 steps, recorded violation: mirror-coherent \(FM-R1\)/);
    // Which page z3 migrates is its choice (both pages give a 6-step trace).
    expect(rep.out).toMatch(/Step 6: DriverUnblockDma\(p=[01]\)\s+<-- VIOLATION mirror-coherent \(FM-R1\)/);
    expect(rep.out).toMatch(/Reproduced: mirror-coherent \(FM-R1\) is violated at step 6\./);
  });

  it('prove: k-induction proves fence-migrate at its sizes with k=1 (exit 0)', () => {
    const r = run('prove', 'fence-migrate');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^fence-migrate \[pages=2 frames=3 slots=1 migrations=2 writes=2 discards=1 failures=1 mode=fence order=remap-first fault=atomic\] k-induction\n/,
    );
    expect(r.out).toMatch(/PROVED with k=1 at these sizes: .*no-lost-write/);
    expect(r.out).toMatch(
      /note: proved: every invariant listed, every step property, and that no enabled rule raises a model error; deadlock freedom is not part of the proof/,
    );
    const j = run('prove', 'fence-migrate', '--format', 'json');
    expect(j.code).toBe(0);
    const rec = lastJson(j.out);
    expect(rec).toMatchObject({ protocol: 'fence-migrate', variant: null, engine: 'smt', method: 'k-induction', status: 'proved', guarantee: 'proved', k: 1 });
    for (const p of ['mirror-coherent', 'fence-complete', 'no-dma-to-freed-frame', 'no-translation-to-freed-frame', 'no-lost-write', 'no-stale-dma-read']) {
      expect(rec.properties).toContain(p);
    }
    expect(rec.notes.join('\n')).toMatch(/holds in every reachable state at these parameter values only/);
  });

  it('prove --unbounded: an inductive invariant for every number of pages, frames and slots (exit 0)', () => {
    const r = run('prove', 'fence-migrate', '--unbounded');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\] inductive-invariant \(every size\)\n/);
    expect(r.out).toMatch(/PROVED for every number of each index type: .*no-lost-write/);
    expect(r.out).toMatch(/note: for every size of Page \(>= 1\), Frame \(>= 1\), Slot \(>= 1\)/);
    const j = run('prove', 'fence-migrate', '--unbounded', '--format', 'json');
    expect(j.code).toBe(0);
    const rec = lastJson(j.out);
    expect(rec).toMatchObject({ engine: 'smt', method: 'inductive-invariant', status: 'proved', guarantee: 'proved', k: null });
    expect(rec.properties).toContain('no-lost-write');
    const obligations = rec.obligations as { name: string; status: string }[];
    expect(obligations.length).toBeGreaterThan(0);
    expect(obligations.filter((o) => o.status !== 'proved')).toEqual([]);
    expect(obligations.map((o) => o.name)).toContain('start condition implies no-lost-write');
    expect(obligations.map((o) => o.name)).toContain('HcaCompleteDma preserves no-lost-write');
  });

  // prove reports the requirement (mirror-coherent, FM-R1, at 6 steps), which the base case looks
  // for before the strengthening invariants; replay reproduces it.
  it('prove on a bug variant: the base case finds a real counterexample (exit 1), saves its trace, and replay reproduces it (exit 1)', () => {
    const out = join(tmp, 's2');
    const r = run('prove', 'fence-migrate', '--variant', 'unblock-before-copy', '--out', out, '--format', 'json');
    expect(r.code).toBe(1);
    const rec = lastJson(r.out);
    expect(rec).toMatchObject({ variant: 'unblock-before-copy', engine: 'smt', method: 'k-induction', status: 'violated', guarantee: null });
    expect(rec.violations).toHaveLength(1);
    const proveTrace = rec.violations[0].trace as string;
    expect(existsSync(proveTrace)).toBe(true);
    const t = run('prove', 'fence-migrate', '--variant', 'unblock-before-copy', '--out', out);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/\n\s+VIOLATED \S+ \[FM-\w+\]: /);
    expect(run('replay', proveTrace).code).toBe(1);
  });

  it('prove with bad input: exit 2 and one line with a stable code', () => {
    const r = run('prove', 'no-such-protocol');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^mirrorcheck: error MC001: unknown protocol 'no-such-protocol'/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('check --engine smt: a time limit that runs out is exit 3 (incomplete, no guarantee)', () => {
    const out = join(tmp, 's3');
    const r = run('check', 'fence-migrate', '--engine', 'smt', '--depth', '30', '--time-limit', '1', '--out', out);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(
      /INCOMPLETE: time limit of 1s reached (at|while searching cover witnesses at) depth \d+ \(no violation within \d+ steps\) \(no guarantee\)/,
    );
    const j = run('check', 'fence-migrate', '--engine', 'smt', '--depth', '30', '--time-limit', '1', '--out', out, '--format', 'json');
    expect(j.code).toBe(3);
    const rec = lastJson(j.out);
    expect(rec).toMatchObject({ engine: 'smt', status: 'incomplete', guarantee: null, violations: [] });
    expect(rec.reason).toMatch(/^time limit of 1s reached/);
    expect(rec.depth).toBeLessThan(30);
  });

  it('nonsensical numbers are bad input (exit 2, MC030), not internal errors', () => {
    for (const args of [
      ['check', 'fence-migrate', '--engine', 'smt', '--depth', '-1'],
      ['check', 'fence-migrate', '--depth', 'abc'],
      ['check', 'fence-migrate', '--max-states', '0'],
      ['check', 'fence-migrate', '--engine', 'random', '--runs', '0'],
      ['prove', 'fence-migrate', '--max-k', '0'],
      ['prove', 'fence-migrate', '--time-limit', '-1'],
    ]) {
      const r = run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^mirrorcheck: error MC030: --[a-z-]+ must be /);
    }
  });

  it('a counterexample to induction replays from its arbitrary first state and gives exit 3, as prove does', () => {
    const out = join(tmp, 's4');
    // The zap-without-drain variant breaks the strengthening: invalidation-complete is not 2-inductive.
    const withoutHints = run('prove', 'odp-mirror', '--variant', 'zap-without-drain', '--max-k', '2', '--out', out, '--format', 'json');
    expect(withoutHints.code).toBe(3);
    const rec = JSON.parse(withoutHints.out);
    expect(rec.status).toBe('cti');
    const r = run('replay', rec.trace);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/start in an arbitrary state \(need not be reachable\)/);
    expect(r.out).toMatch(/Reproduced a counterexample to induction: /);
  });

  const nativeZ3 = (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, 'z3')));
  it.skipIf(!nativeZ3)('--solver native (z3 on the PATH) finds the same shortest counterexample, and replay reproduces it', () => {
    const out = join(tmp, 's5');
    const r = run(
      'check',
      'fence-migrate',
      '--variant',
      'unblock-before-copy',
      '--engine',
      'smt',
      '--depth',
      '8',
      '--solver',
      'native',
      '--format',
      'json',
      '--out',
      out,
    );
    expect(r.code).toBe(1);
    const rec = lastJson(r.out);
    expect(rec).toMatchObject({ engine: 'smt', solver: 'native', status: 'violated', guarantee: 'bounded' });
    expect(rec.violations[0]).toMatchObject({ property: 'mirror-coherent', length: 6 });
    expect(JSON.parse(readFileSync(rec.violations[0].trace, 'utf8'))['#meta'].extra.solver).toBe('z3-native');
    expect(run('replay', rec.violations[0].trace).code).toBe(1);
    const p = run('prove', 'fence-migrate', '--solver', 'native', '--format', 'json');
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out)).toMatchObject({ status: 'proved', k: 1, solver: 'native' });
  });

  it('--solver native is refused where it does not apply, or without a z3 binary (exit 2)', () => {
    const r = run('check', 'fence-migrate', '--solver', 'native');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mirrorcheck: error MC030: --solver does not apply to the explicit engine \(only to --engine smt\)/);
    const noZ3 = spawnSync(process.execPath, [bin, 'prove', 'fence-migrate', '--solver', 'native'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PATH: '/nonexistent', MIRRORCHECK_Z3: '' },
    });
    expect(noZ3.status).toBe(2);
    expect(noZ3.stderr).toMatch(/^mirrorcheck: error MC030: --solver native: no z3 binary on the PATH/);
  });

  it('a liveness property asked of an engine that does not check liveness is bad usage, not a pass', () => {
    const r = run('check', 'fence-migrate', '--engine', 'smt', '--property', 'held-dma-completes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^mirrorcheck: error MC030: the smt engine does not check liveness properties \(held-dma-completes\)/);
    const j = run('check', 'fence-migrate', '--engine', 'random', '--format', 'json', '--out', join(tmp, 's6'));
    expect(j.code).toBe(0);
    expect(lastJson(j.out).unchecked).toEqual(['held-dma-completes', 'every-migration-ends']);
  });

  it('prove with no protocol proves every built-in protocol (a CI proof run); exit codes combine', () => {
    const r = run('prove', '--format', 'json');
    expect(r.code).toBe(0);
    const recs = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs.map((x) => [x.protocol, x.status, x.k])).toEqual([
      ['fence-migrate', 'proved', 1],
      ['odp-mirror', 'proved', 1],
      ['hmm-migrate', 'proved', 1],
      ['device-exclusive', 'proved', 1],
      ['odp-mr', 'proved', 1],
      ['dax-revoke', 'proved', 1],
    ]);
    // fence-migrate and odp-mirror are proved for every size (odp-mirror keeps its invalidators,
    // intervals and work items at their built number); a protocol whose properties count over an open index type is reported
    // (MC010) and fails the run (exit 2) rather than passing unproved.
    const u = run('prove', '--unbounded');
    expect(u.code).toBe(2);
    expect(u.out).toMatch(/hmm-migrate .*\n\s+ERROR MC010: the unbounded translation cannot express this model/);
    expect(u.out).toMatch(/fence-migrate .*\n\s+PROVED for every number of each index type:/);
    expect(u.out).toMatch(/odp-mirror .*\n\s+PROVED for every number of each index type except Inv, Interval, Handler \(kept at its built size\)/);
    expect(u.out).toMatch(/note: for every size of Page \(>= 1\), Frame \(>= 1\), Slot \(>= 1\); Inv kept at its built size 2/);
  });
});
