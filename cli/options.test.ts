/**
 * Tests of the command line's option checks: bad choices name the option, the value and the
 * allowed values; flags that do not apply, repeated flags and switches with values are bad usage
 * (exit 2, one MC030 line) instead of being accepted silently; every command's help gives every
 * option's default, the exit statuses and two examples. The end-to-end cases run the built CLI (see
 * test/buildOnce.ts).
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../test/errorCode.js';
import { DEFAULT_BMC_DEPTH, DEFAULT_DEPTH, DEFAULT_RUNS, checkEngineOptions, checkSwitches, flagsWritten, writtenValue } from './options.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('option checks (unit)', () => {
  it('flagsWritten reads --x, --x=v and --no-x (as x=false), kebab-cases camelCase, and stops at --', () => {
    expect(flagsWritten(['check', '--engine', 'smt', '--maxStates=3', '--no-symmetry', '--', '--seed'])).toEqual([
      { name: 'engine', value: undefined, text: '--engine' },
      { name: 'max-states', value: '3', text: '--maxStates=3' },
      { name: 'symmetry', value: 'false', text: '--no-symmetry' },
    ]);
  });

  it('writtenValue finds --x=v and --x v', () => {
    expect(writtenValue(['--depth=abc'], 'depth')).toBe('abc');
    expect(writtenValue(['--depth', 'x'], 'depth')).toBe('x');
    expect(writtenValue(['--', '--depth', 'x'], 'depth')).toBeUndefined();
  });

  it('a switch given twice or with a value other than true/false is MC030; once is fine', () => {
    expect(codeOf(() => checkSwitches(['--symmetry', '--no-symmetry'], ['symmetry']))).toBe(
      'MC030 --symmetry given more than once (--symmetry and --no-symmetry)',
    );
    expect(codeOf(() => checkSwitches(['--progress=maybe'], ['progress']))).toBe(
      "MC030 --progress is a switch: write --progress or --no-progress, not '--progress=maybe'",
    );
    expect(codeOf(() => checkSwitches(['--progress=false', '--symmetry'], ['progress', 'symmetry']))).toBe('no error');
  });

  it('an engine option given to another engine is MC030 naming the engines it applies to', () => {
    expect(codeOf(() => checkEngineOptions(['--runs', '5'], 'explicit'))).toBe('MC030 --runs does not apply to the explicit engine (only to --engine random)');
    expect(codeOf(() => checkEngineOptions(['--strategy=dfs'], 'smt'))).toBe(
      'MC030 --strategy=dfs does not apply to the smt engine (only to --engine explicit)',
    );
    expect(codeOf(() => checkEngineOptions(['--runs', '5', '--seed', '1', '--depth', '3'], 'random'))).toBe('no error');
  });
});

describe('bad usage on the built CLI is one MC030 line and exit 2', () => {
  it.each([
    [['check', '--engine', 'foo'], "--engine: 'foo' is not allowed (choose explicit, random or smt)"],
    [['check', '--strategy', 'foo'], "--strategy: 'foo' is not allowed (choose bfs or dfs)"],
    [['check', '--format', 'xml'], "--format: 'xml' is not allowed (choose text, json, json-array or junit)"],
    [['replay', 'x.itf.json', '--on', 'gpu'], "--on: 'gpu' is not allowed (choose model or harness)"],
    [['export', 'fence-migrate', '--to', 'foo'], "--to: 'foo' is not allowed (choose murphi or promela)"],
    [['prove', '--format', 'xml'], "--format: 'xml' is not allowed (choose text, json, json-array or junit)"],
    [['check', '--engine', 'random', '--strategy', 'dfs'], '--strategy does not apply to the random engine (only to --engine explicit)'],
    [['check', '--engine', 'smt', '--seed', '3'], '--seed does not apply to the smt engine (only to --engine random)'],
    [['check', '--runs', '5'], '--runs does not apply to the explicit engine (only to --engine random)'],
    [['check', '--engine', 'random', '--workers', '2'], '--workers does not apply to the random engine (only to --engine explicit)'],
    [['check', '--engine', 'smt', '--store', 'bitstate'], '--store does not apply to the smt engine (only to --engine explicit)'],
    [['check', '--engine', 'random', '--no-por'], '--no-por does not apply to the random engine (only to --engine explicit)'],
    [['check', '--store', 'disk'], "--store: 'disk' is not allowed (choose exact, hash-compaction or bitstate)"],
    [['check', '--symmetry', '--no-symmetry'], '--symmetry given more than once (--symmetry and --no-symmetry)'],
    [['check', '--progress=maybe'], "--progress is a switch: write --progress or --no-progress, not '--progress=maybe'"],
    [
      ['replay', 'x.itf.json', '--on', 'harness', '--render', 'html'],
      '--render does not apply to replay --on harness (it prints what the hardware did, as text)',
    ],
    [['check', 'fence-migrate', '--param', 'pages=3', '--param', 'pages=1'], '--param pages given more than once (pages=3 and pages=1)'],
    [['check', '--engine', 'random', '--seed', '1', '--seed', '2'], '--seed given more than once (1, 2)'],
    [['check', 'fence-migrate', '--depth', 'abc'], "--depth must be a number, got 'abc'"],
  ])('%j', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`mirrorcheck: error MC030: ${message}\n`);
    expect(r.out).toBe('');
  });
});

describe('help', () => {
  it.each(['list', 'check', 'replay', 'prove', 'export', 'ci', 'init'])(
    '%s --help gives a default or a description for every option, the exit statuses and two examples',
    (cmd) => {
      const r = run(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain('Exit status: 0');
      const examples = r.out.split('Examples:')[1]?.split('Exit status')[0] ?? '';
      expect(examples.match(/^ {2}mirrorcheck /gm)?.length).toBe(2);
      // Every option line (`  --name`) has a description after its name.
      for (const line of r.out.split('\n').filter((l) => /^ {2}--[a-z-]+/.test(l)))
        expect(line.replace(/^ {2}--[a-z-]+\s*/, '').length, line).toBeGreaterThan(0);
    },
  );

  it("check --help gives each engine's own default (depth for random and smt, runs, seed)", () => {
    const h = run('check', '--help').out.replace(/\s+/g, ' ');
    expect(h).toContain(`[default: explicit: none; random: ${DEFAULT_DEPTH}; smt: ${DEFAULT_BMC_DEPTH}]`);
    expect(h).toContain(`--runs random engine: how many runs [number] [default: ${DEFAULT_RUNS}]`);
    expect(h).toContain('[default: a fresh one each run]');
  });

  it('the top-level help lists every error code', () => {
    const h = run('--help').out;
    for (const code of ['MC001', 'MC010', 'MC022', 'MC030', 'MC031', 'MC040']) expect(h).toMatch(new RegExp(`^ {2}${code} {2}\\S`, 'm'));
  });
});

describe('--continue', () => {
  const records = (...args: string[]) => {
    const r = run(
      'check',
      'fence-migrate',
      '--variant',
      'free-before-fence',
      '--no-progress',
      '--format',
      'json-array',
      '--out',
      join(tmpdir(), `mc-continue-${process.pid}-${Math.random()}`),
      ...args,
    );
    return { code: r.code, recs: JSON.parse(r.out) as { status: string; violations: { property: string; length: number }[]; setAside?: string[] }[] };
  };

  it('by default a check stops at the first violation: one record, one violated property', () => {
    const { code, recs } = records();
    expect(code).toBe(1);
    expect(recs.map((r) => r.violations.length)).toEqual([1]);
  });

  it('reports the first violation of every property, each exactly as a check of that property alone finds it, then what holds', () => {
    const { code, recs } = records('--continue');
    expect(code).toBe(1);
    const found = recs.flatMap((r) => r.violations.map((v) => [v.property, v.length] as const));
    expect(recs.at(-1)?.status).toBe('ok');
    expect(recs.at(-1)?.setAside).toEqual(found.map(([p]) => p));
    // The oracle: each safety property checked on its own.
    const props = JSON.parse(run('list', 'fence-migrate', '--format', 'json').out)[0].properties as { name: string; kind: string }[];
    const alone = props
      .filter((p) => p.kind === 'invariant' || p.kind === 'step')
      .flatMap((p) => {
        const r = records('--property', p.name, '--no-deadlock').recs[0]!;
        return r.violations.map((v) => [v.property, v.length] as const);
      });
    expect(new Map(found)).toEqual(new Map(alone));
  }, 120_000);
});
