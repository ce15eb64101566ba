/**
 * The conversation with a native z3 process, against a scripted stand-in. Why this file exists: the
 * tests that run the real z3 (z3Host.test.ts, nativeSolver.test.ts) only see a z3 that behaves; what
 * `NativeZ3Process` must do when the solver says something else (an error on stderr, an answer it
 * does not know, a reason without quotes, an exit in the middle of a query, a binary that cannot be
 * run) and exactly what it sends (the options, the logic, each declaration once) need a solver whose
 * every word the test chooses. The stand-in is a small Node script written per test: it logs what it
 * reads and answers each `(check-sat)`, `(get-model)` and `(get-info :reason-unknown)` from a script.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, fakeZ3, pidOf, removeFakes, scratchDir, sentLines, within } from './fakeZ3.testkit.js';
import { findNativeZ3, NativeZ3Process } from './nativeZ3.js';

afterEach(removeFakes);

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
    const sent = sentLines(log);
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
    const sent = sentLines(log);
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
    const pid = pidOf(log);
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
    const empty = scratchDir();
    process.env.PATH = [empty, join(bin, '..'), '/usr/bin'].join(':');
    expect(findNativeZ3()).toBe(bin);
    process.env.PATH = empty;
    expect(findNativeZ3()).toBeNull();
  });

  // process.chdir() exists only in a process's main thread: `npm test` runs test files in child
  // processes (vitest's forks pool) and runs this test; Stryker's vitest runner runs them in worker
  // threads, where it cannot change the working folder.
  it.runIf(isMainThread)('does not read an empty PATH entry as the working folder: a z3 there is not run', () => {
    const { bin } = fakeZ3({ answers: [] });
    delete process.env.MIRRORCHECK_Z3;
    const cwd = process.cwd();
    process.chdir(join(bin, '..'));
    try {
      expect(existsSync('z3')).toBe(true);
      process.env.PATH = ['', scratchDir(), ''].join(':');
      expect(findNativeZ3()).toBeNull();
    } finally {
      process.chdir(cwd);
    }
  });
});
