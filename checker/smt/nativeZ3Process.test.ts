/**
 * The conversation with a native z3 process, against a scripted stand-in. Why this file exists: the
 * tests that run the real z3 (z3Host.test.ts, nativeSolver.test.ts) only see a z3 that behaves; what
 * `NativeZ3Process` must do when the solver says something else (an error on stderr, an answer it
 * does not know, a reason without quotes, an exit in the middle of a query, a binary that cannot be
 * run) and exactly what it sends (the options, the logic, each declaration once) need a solver whose
 * every word the test chooses. The stand-in is a small Node script written per test: it logs what it
 * reads and answers each `(check-sat)`, `(get-model)` and `(get-info :reason-unknown)` from a script.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findNativeZ3, NativeZ3Process } from './nativeZ3.js';

/** What the stand-in does: printed at start (stdout and stderr), then one step per `(check-sat)`. */
interface Script {
  readonly banner?: string;
  readonly bannerErr?: string;
  /** Per check: the answer line, or `exit:N` (exit with status N), or `stderr:TEXT` (TEXT on stderr). */
  readonly answers: readonly string[];
  /** Printed for each `(get-model)` and `(get-info :reason-unknown)`, in turn. */
  readonly replies?: readonly string[];
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes the stand-in; returns its path and the path of the log of everything it read. */
function fakeZ3(script: Script): { bin: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mc-fakez3-'));
  dirs.push(dir);
  const bin = join(dir, 'z3');
  const log = join(dir, 'log');
  const source = `#!/usr/bin/env node
const fs = require('node:fs');
const script = ${JSON.stringify(script)};
const log = ${JSON.stringify(log)};
if (process.argv.slice(2).join(' ') !== '-in -smt2') { fs.writeFileSync(log, 'bad arguments: ' + process.argv.slice(2).join(' ')); process.exit(9); }
fs.writeFileSync(log, 'pid ' + process.pid + '\\n');
if (script.banner) process.stdout.write(script.banner);
if (script.bannerErr) process.stderr.write(script.bannerErr);
let answers = [...script.answers], replies = [...(script.replies || [])], buf = '';
process.stdin.setEncoding('utf8').on('data', (d) => {
  fs.appendFileSync(log, d);
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (line === '(check-sat)') {
      const a = answers.shift();
      if (a.startsWith('exit:')) process.exit(Number(a.slice(5)));
      else if (a.startsWith('stderr:')) process.stderr.write(a.slice(7) + '\\n');
      else process.stdout.write(a + '\\n');
    } else if (line === '(get-model)' || line === '(get-info :reason-unknown)') {
      process.stdout.write(replies.shift() + '\\n');
    } else if (line === '(exit)') {
      fs.appendFileSync(log, 'bye\\n');
      process.exit(0);
    }
  }
});
`;
  writeFileSync(bin, source);
  chmodSync(bin, 0o755);
  return { bin, log };
}

/** Settles `p` or fails after `ms` (a process that is never read again would hang the test). */
async function within<T>(p: Promise<T>, ms = 4000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('NativeZ3Process against a scripted solver', () => {
  it('starts z3 reading SMT-LIB 2 from stdin, sends its options and logic first, each declaration once, then the query', async () => {
    const { bin, log } = fakeZ3({ answers: ['unsat', 'unsat'] });
    const z3 = new NativeZ3Process(bin, 'QF_BV');
    const bench = (x: string) =>
      `; benchmark\n(set-info :status unknown)\n(declare-fun ${x} () Bool)\n(declare-sort Page 0)\n(declare-datatypes ((T 0)) (((t0) (t1))))\n(assert ${x})\n(check-sat)\n`;
    z3.assertBenchmark(bench('a'));
    z3.push();
    z3.assertBenchmark(bench('b'));
    expect(await within(z3.check(1500.7))).toEqual({ answer: 'unsat', model: null, reason: '' });
    z3.pop();
    z3.assertBenchmark(bench('a'));
    expect((await within(z3.check(0))).answer).toBe('unsat');
    const sent = readFileSync(log, 'utf8').split('\n').slice(1, -1);
    z3.close();
    expect(sent.slice(0, 4)).toEqual([
      '(set-option :print-success false)',
      '(set-option :global-declarations true)',
      '(set-option :produce-models true)',
      '(set-logic QF_BV)',
    ]);
    expect(sent.slice(4)).toEqual([
      '(declare-fun a () Bool)',
      '(declare-sort Page 0)',
      '(declare-datatypes ((T 0)) (((t0) (t1))))',
      '(assert a)',
      '(push 1)',
      '(declare-fun b () Bool)',
      '(assert b)',
      '(set-option :timeout 1500)',
      '(check-sat)',
      '(pop 1)',
      '(assert a)',
      '(set-option :timeout 1)',
      '(check-sat)',
    ]);
  });

  it('sends no logic when none is asked for, tells a sort from a constant of the same name, and names a declaration by its whole symbol', async () => {
    const { bin, log } = fakeZ3({ answers: ['unsat'] });
    const z3 = new NativeZ3Process(bin, null);
    z3.assertBenchmark(
      '(declare-sort P 0)\n(declare-fun P () Bool)\n(define-sort Q () P)\n(declare-const Q Bool)\n(declare-fun  spaced () Bool)\n(declare-fun  spaced  () Bool)\n(declare-fun pa () Bool)\n(declare-fun pb () Bool)\n(declare-fun |a b| () Bool)\n(declare-fun |a c| () Bool)',
    );
    await within(z3.check(10));
    const sent = readFileSync(log, 'utf8').split('\n').slice(1);
    z3.close();
    expect(sent.some((l) => l.startsWith('(set-logic'))).toBe(false);
    expect(sent.slice(3, 13)).toEqual([
      '(declare-sort P 0)',
      '(declare-fun P () Bool)',
      '(define-sort Q () P)',
      '(declare-const Q Bool)',
      '(declare-fun  spaced () Bool)',
      '(declare-fun pa () Bool)',
      '(declare-fun pb () Bool)',
      '(declare-fun |a b| () Bool)',
      '(declare-fun |a c| () Bool)',
      '(set-option :timeout 10)',
    ]);
  });

  it('returns the model after sat, and the reason after unknown (the quoted words, else the answer itself)', async () => {
    const model = '(model\n  (define-fun a () Bool\n    true)\n)';
    const { bin } = fakeZ3({ answers: ['sat', 'unknown', 'timeout'], replies: [model, '(:reason-unknown "canceled by user")', '(:reason-unknown none)'] });
    const z3 = new NativeZ3Process(bin, null);
    expect(await within(z3.check(100))).toEqual({ answer: 'sat', model, reason: '' });
    expect(await within(z3.check(100))).toEqual({ answer: 'unknown', model: null, reason: 'canceled by user' });
    expect(await within(z3.check(100))).toEqual({ answer: 'unknown', model: null, reason: 'timeout' });
    z3.close();
  });

  it('skips what the solver prints before it is asked (a comment on stdout, a note on stderr)', async () => {
    const { bin } = fakeZ3({ banner: '; ready\n', bannerErr: '; note\n', answers: ['unsat'] });
    const z3 = new NativeZ3Process(bin, null);
    await new Promise((r) => setTimeout(r, 300));
    expect((await within(z3.check(100))).answer).toBe('unsat');
    z3.close();
  });

  it('fails a query on an error form (stdout or stderr) or an answer it does not know, quoting at most 300 characters of it', async () => {
    const long = 'y'.repeat(400);
    const { bin } = fakeZ3({ answers: ['(error "line 3: unknown constant x")', 'stderr:(error "out of memory")', 'maybe', long, `(error "${long}")`] });
    const z3 = new NativeZ3Process(bin, null);
    await expect(within(z3.check(100))).rejects.toThrow(/^native z3: \(error "line 3: unknown constant x"\)$/);
    await expect(within(z3.check(100))).rejects.toThrow(/^native z3: \(error "out of memory"\)$/);
    await expect(within(z3.check(100))).rejects.toThrow(/^native z3 answered maybe$/);
    // Long answers are cut to their first 300 characters in the message.
    await expect(within(z3.check(100))).rejects.toThrow(new RegExp(`^native z3 answered ${long.slice(0, 300)}$`));
    await expect(within(z3.check(100))).rejects.toThrow(new RegExp(`^native z3: \\(error "${long.slice(0, 292)}$`));
    z3.close();
  });

  it('fails the query in progress and every later one when the solver exits, and closing it then does nothing', async () => {
    const { bin } = fakeZ3({ answers: ['exit:3'] });
    const z3 = new NativeZ3Process(bin, null);
    await expect(within(z3.check(100))).rejects.toThrow(/^native z3 \(.*\) exited with status 3$/);
    await expect(within(z3.check(100))).rejects.toThrow(/exited with status 3/);
    z3.close();
    await expect(within(z3.check(100))).rejects.toThrow(/exited with status 3/);
  });

  it('fails with "could not run" when the binary cannot be started', async () => {
    const z3 = new NativeZ3Process('/nonexistent/mirrorcheck/z3', null);
    await expect(within(z3.check(100))).rejects.toThrow(/^native z3 \(\/nonexistent\/mirrorcheck\/z3\) could not run: .*ENOENT/);
  });

  it('close() ends the process', async () => {
    const { bin, log } = fakeZ3({ answers: ['unsat'] });
    const z3 = new NativeZ3Process(bin, null);
    await within(z3.check(100));
    const pid = Number(/^pid (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
    expect(alive(pid)).toBe(true);
    z3.close();
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });
});

describe('findNativeZ3', () => {
  const saved = { forced: process.env.MIRRORCHECK_Z3, path: process.env.PATH };
  afterEach(() => {
    if (saved.forced === undefined) delete process.env.MIRRORCHECK_Z3;
    else process.env.MIRRORCHECK_Z3 = saved.forced;
    process.env.PATH = saved.path;
  });

  it('takes MIRRORCHECK_Z3 when it names an executable, and then looks nowhere else', () => {
    const { bin } = fakeZ3({ answers: [] });
    process.env.MIRRORCHECK_Z3 = bin;
    expect(findNativeZ3()).toBe(bin);
    writeFileSync(`${bin}-plain`, '');
    process.env.MIRRORCHECK_Z3 = `${bin}-plain`;
    process.env.PATH = join(bin, '..');
    expect(findNativeZ3()).toBeNull();
  });

  it('finds the first executable z3 along PATH, skipping folders without one', () => {
    const { bin } = fakeZ3({ answers: [] });
    delete process.env.MIRRORCHECK_Z3;
    const empty = mkdtempSync(join(tmpdir(), 'mc-nozsh-'));
    dirs.push(empty);
    process.env.PATH = [empty, join(bin, '..'), '/usr/bin'].join(':');
    expect(findNativeZ3()).toBe(bin);
    process.env.PATH = empty;
    expect(findNativeZ3()).toBeNull();
  });
});
