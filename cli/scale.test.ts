/**
 * End-to-end tests of the explicit engine's scale options on the built binary (`node
 * dist/cli/main.js`, as cli.test.ts): a run killed with SIGKILL between checkpoints, or stopped with
 * SIGINT, resumes to the counts of a run that was never stopped; worker threads give one thread's
 * counts; shards run as separate processes merge into the verdict of one run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
// Half a million states: fence-migrate without its zap and failure actors, as a workload.
const LARGE = [
  'fence-migrate',
  ...['--param', 'pages=3', '--param', 'frames=4', '--param', 'slots=2', '--param', 'migrations=2', '--param', 'writes=3'],
  ...['--param', 'discards=0', '--param', 'failures=0'],
];
const SAFETY = ['--property', 'no-lost-write', '--property', 'mirror-coherent', '--no-progress'];
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const statesOf = (out: string) => (JSON.parse(out.trim().split('\n').pop() as string) as { states: number; transitions: number }).states;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the checkpoint folder holds a checkpoint of at least `generation`. */
async function checkpointed(dir: string, generation: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const meta = join(dir, 'checkpoint.json');
    if (existsSync(meta) && (JSON.parse(readFileSync(meta, 'utf8')) as { generation: number }).generation >= generation) return;
    if (child.exitCode !== null) throw new Error(`the run ended (exit ${child.exitCode}) before checkpoint ${generation}`);
    await sleep(50);
  }
  throw new Error(`no checkpoint ${generation} in ${dir}`);
}

let whole = 0;
beforeAll(() => {
  if (!existsSync(bin)) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  const r = run('check', ...LARGE, ...SAFETY, '--workers', '1', '--format', 'json');
  expect(r.code).toBe(0);
  whole = statesOf(r.out);
});

describe('check: worker threads, interrupts and checkpoints (built binary)', () => {
  it('depth-first search runs on one thread by default (worker threads are for breadth-first levels)', () => {
    const r = run('check', 'fence-migrate', '--strategy', 'dfs', '--format', 'json', '--no-progress');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { workers: number }).workers).toBe(1);
    expect(run('check', 'fence-migrate', '--strategy', 'dfs', '--workers', '2').code).toBe(2);
  });

  it('--workers 2 stores exactly the states of --workers 1', () => {
    const r = run('check', ...LARGE, ...SAFETY, '--workers', '2', '--format', 'json');
    expect(r.code).toBe(0);
    expect(statesOf(r.out)).toBe(whole);
  });

  it('a run killed with SIGKILL between checkpoints resumes (--resume) to the counts of a run never stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-kill-'));
    const child = spawn(process.execPath, [bin, 'check', ...LARGE, ...SAFETY, '--checkpoint', dir, '--checkpoint-minutes', '0.002'], {
      cwd: root,
      stdio: 'ignore',
    });
    await checkpointed(dir, 3, child);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const r = run('check', ...LARGE, ...SAFETY, '--resume', dir, '--format', 'json');
    expect(r.code).toBe(0);
    expect(statesOf(r.out)).toBe(whole);
  });

  it('SIGINT ends the run cleanly: the figures so far, incomplete, exit 3, a last checkpoint that resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-int-'));
    const child = spawn(process.execPath, [bin, 'check', ...LARGE, ...SAFETY, '--checkpoint', dir, '--checkpoint-minutes', '0.002'], { cwd: root });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
    });
    await checkpointed(dir, 1, child);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(3);
    expect(out).toMatch(/INCOMPLETE: interrupted \(SIGINT\); the search is saved in/);
    expect(out).toMatch(/distinct states/);
    const r = run('check', ...LARGE, ...SAFETY, '--resume', dir, '--format', 'json');
    expect(r.code).toBe(0);
    expect(statesOf(r.out)).toBe(whole);
  });

  it('shards run as N processes merge into one verdict: exhaustive when all complete, the shortest violation, incomplete when one is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-shards-'));
    const shardRuns = (variant: string[], n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) => {
          const file = join(dir, `${variant.join('') || 'correct'}-${i + 1}.json`);
          const args = [
            bin,
            'check',
            'fence-migrate',
            ...variant,
            '--shard',
            `${i + 1}/${n}`,
            '--format',
            'json',
            '--no-progress',
            '--out',
            join(dir, 'traces'),
          ];
          return new Promise<string>((resolve) => {
            const child = spawn(process.execPath, args, { cwd: root });
            let out = '';
            child.stdout?.on('data', (d) => {
              out += String(d);
            });
            child.once('exit', () => {
              writeFileSync(file, out);
              resolve(file);
            });
          });
        }),
      );
    const ok = await shardRuns([], 3);
    const merged = run('merge', ...ok, '--format', 'json');
    expect(merged.code).toBe(0);
    const m = JSON.parse(merged.out) as { guarantee: string; statesSum: number };
    expect(m.guarantee).toBe('exhaustive');
    const whole = JSON.parse(run('check', 'fence-migrate', '--format', 'json', '--no-progress').out) as { states: number };
    expect(m.statesSum).toBeGreaterThanOrEqual(whole.states);
    expect(run('merge', ...ok.slice(0, 2)).code).toBe(3);
    const bad = await shardRuns(['--variant', 'unblock-before-update'], 2);
    const v = run('merge', ...bad, '--format', 'json');
    expect(v.code).toBe(1);
    const one = JSON.parse(
      run('check', 'fence-migrate', '--variant', 'unblock-before-update', '--format', 'json', '--no-progress', '--out', join(dir, 't1')).out,
    ) as {
      violations: { length: number }[];
    };
    expect((JSON.parse(v.out) as { violations: { length: number }[] }).violations[0]?.length).toBe(one.violations[0]?.length);
    const mixed = run('merge', ok[0] as string, bad[1] as string);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/MC032/);
  });
});
