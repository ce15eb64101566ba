/**
 * A scripted stand-in for a native z3 binary, for the tests of the native solver path
 * (nativeZ3Process.test.ts, z3HostNative.test.ts). Why this module exists: a real z3 only ever
 * behaves; what the code must do when the solver answers something else, takes too long, exits or
 * returns a model the wasm z3 rejects needs a solver whose every word the test chooses. The stand-in
 * is a small Node script written per call: it logs what it reads and answers each `(check-sat)`,
 * `(get-model)` and `(get-info :reason-unknown)` from its script.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the stand-in does: printed at start (stdout and stderr), then one step per `(check-sat)`. */
export interface Script {
  readonly banner?: string;
  readonly bannerErr?: string;
  /**
   * Per check: the answer line, or `exit:N` (exit with status N), or `stderr:TEXT` (TEXT on stderr),
   * or `sleep:MS:ANSWER` (ANSWER after MS milliseconds).
   */
  readonly answers: readonly string[];
  /** Printed for each `(get-model)` and `(get-info :reason-unknown)`, in turn. */
  readonly replies?: readonly string[];
}

const dirs: string[] = [];

/** Removes the folders of every stand-in written so far (call it after each test). */
export function removeFakes(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh empty folder, removed with the stand-ins. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-fakez3-'));
  dirs.push(dir);
  return dir;
}

/**
 * Writes the stand-in; returns its path and the path of the log of everything it read (its first
 * line `pid N`; each process started from it overwrites it, and appends its pid to `starts`).
 */
export function fakeZ3(script: Script): { bin: string; log: string; starts: string } {
  const dir = scratchDir();
  const bin = join(dir, 'z3');
  const log = join(dir, 'log');
  const starts = join(dir, 'starts');
  const source = `#!/usr/bin/env node
const fs = require('node:fs');
const script = ${JSON.stringify(script)};
const log = ${JSON.stringify(log)};
fs.appendFileSync(${JSON.stringify(starts)}, process.pid + '\\n');
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
      let a = answers.shift();
      let delay = 0;
      if (a.startsWith('sleep:')) { const [, ms, ...rest] = a.split(':'); delay = Number(ms); a = rest.join(':'); }
      const t = Date.now() + delay;
      while (Date.now() < t) {}
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
  return { bin, log, starts };
}

/** Settles `p` or fails after `ms` (a process that is never read again would hang the test). */
export async function within<T>(p: Promise<T>, ms = 4000): Promise<T> {
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

/** Whether the process `pid` is still running. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The lines the stand-in has read so far (its log after the `pid` line). */
export const sentLines = (log: string): string[] => readFileSync(log, 'utf8').split('\n').slice(1, -1);

/** The process id of the last stand-in started from this script (the first line of its log). */
export const pidOf = (log: string): number => Number(/^pid (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);

/** How many processes were started from this script. */
export const startsOf = (starts: string): number => readFileSync(starts, 'utf8').trim().split('\n').length;
