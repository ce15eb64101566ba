/**
 * The README stays true: every command in its code blocks that starts with `npx mirrorcheck` is run
 * through the built CLI, and the output shown under a `$ npx mirrorcheck ...` line is compared with
 * what the tool prints. New examples are picked up as they are written.
 *
 * What a block may say:
 * - `$ npx mirrorcheck ARGS` followed by output lines: the command is run and its standard output
 *   must match them. A line `...` stands for any number of lines, `...` inside a line for any text;
 *   timing figures (`0.84 s`, `33.5k states/s`) are masked.
 * - a line `npx mirrorcheck ARGS   # comment`: the command is run and must not fail (exit 0, 1 or 3:
 *   a verdict, not bad usage or an internal error).
 * - `<!-- readme-test: first: ARGS -->` before a block: a command run first (in the same folder), e.g.
 *   the check that writes the trace a replay example reads.
 * - `<!-- readme-test: not run: REASON -->` before a block: the block is not run; a reason is required.
 *
 * Each block runs in a fresh folder, so `counterexamples-out/...` paths are those of a first run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist/cli/main.js');

/** One fenced code block of the README, with the directives in the HTML comments just before it. */
interface Block {
  readonly line: number;
  readonly text: string;
  readonly first: readonly string[];
  readonly notRun: string | null;
}

/** The README's fenced code blocks. */
function readmeBlocks(md: string): Block[] {
  const lines = md.split('\n');
  const blocks: Block[] = [];
  let pending: { first: string[]; notRun: string | null } = { first: [], notRun: null };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    const d = /^<!--\s*readme-test:\s*(first|not run):\s*(.*?)\s*-->\s*$/.exec(l);
    if (d) {
      if (d[1] === 'first') pending.first.push(d[2] as string);
      else pending.notRun = d[2] as string;
      continue;
    }
    if (/^```/.test(l)) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
      blocks.push({ line: start + 1, text: body.join('\n'), ...pending });
      pending = { first: [], notRun: null };
      continue;
    }
    if (l.trim() !== '') pending = { first: [], notRun: null };
  }
  return blocks;
}

/** Splits a command line into arguments (single and double quotes; no shell features). */
function argv(cmd: string): string[] {
  const out: string[] = [];
  for (const m of cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? (m[3] as string));
  return out;
}

/** What a block asks: commands to run, each with the output it shows (null: none shown). */
function examples(b: Block): { cmd: string; shown: string[] | null }[] {
  const out: { cmd: string; shown: string[] | null }[] = [];
  for (const l of b.text.split('\n')) {
    const prompt = /^\$ npx mirrorcheck(.*)$/.exec(l);
    if (prompt) {
      out.push({ cmd: (prompt[1] as string).trim(), shown: [] });
      continue;
    }
    const bare = /^npx mirrorcheck(.*)$/.exec(l);
    if (bare) {
      out.push({ cmd: (bare[1] as string).replace(/\s#.*$/, '').trim(), shown: null });
      continue;
    }
    const last = out[out.length - 1];
    if (last?.shown) last.shown.push(l);
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regular expression for shown output: `...` lines and `...` in a line are gaps, timing figures masked. */
function shownPattern(shown: readonly string[]): RegExp {
  const lines = [...shown];
  while (lines.length && (lines[lines.length - 1] as string).trim() === '') lines.pop();
  const parts = lines.map((l) => {
    if (l.trim() === '...') return '(?:[^\\n]*\\n)*?';
    const masked = escapeRe(l)
      .split(escapeRe('...'))
      .join('.*?')
      .replace(/\d+(?:\\\.\d+)? s\b/g, '\\d+(?:\\.\\d+)? s')
      .replace(/\d+(?:\\\.\d+)?[kM]? states\/s/g, '[\\d.]+[kM]? states/s');
    return `${masked}\\n`;
  });
  return new RegExp(`^${parts.join('')}$`);
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = readmeBlocks(readme).filter((b) => /^(\$ )?npx mirrorcheck/m.test(b.text));

describe('README examples', () => {
  it('has examples to run, and every block left out says why', () => {
    expect(blocks.length).toBeGreaterThan(3);
    for (const b of blocks.filter((x) => x.notRun !== null)) expect((b.notRun as string).length, `README line ${b.line}`).toBeGreaterThan(10);
  });

  for (const b of blocks) {
    const title = `README line ${b.line}: ${examples(b)
      .map((e) => `mirrorcheck ${e.cmd}`)
      .join('; ')}`;
    if (b.notRun !== null) {
      it.skip(`${title} (not run: ${b.notRun})`, () => {});
      continue;
    }
    it(title, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'mc-readme-'));
      const run = (cmd: string) => spawnSync(process.execPath, [bin, ...argv(cmd)], { cwd, encoding: 'utf8', env: { ...process.env, SHELL: '/bin/bash' } });
      for (const f of b.first) run(f);
      for (const e of examples(b)) {
        const r = run(e.cmd);
        expect([0, 1, 3], `mirrorcheck ${e.cmd} exited ${r.status}: ${r.stderr.trim()}`).toContain(r.status);
        if (e.shown?.some((l) => l.trim() !== '')) {
          expect(r.stdout, `mirrorcheck ${e.cmd}: the README shows other output`).toMatch(shownPattern(e.shown));
        }
      }
    }, 600_000);
  }
});

describe('the README test itself', () => {
  it('matches shown output with gaps and masked timings, and rejects a changed figure', () => {
    const p = shownPattern(['head', '  OK: x (bounded to depth 8)', '...', '  3 solver queries, 0.84 s, 33.5k states/s', '']);
    expect('head\n  OK: x (bounded to depth 8)\nmore\nlines\n  3 solver queries, 12.30 s, 1.2M states/s\n').toMatch(p);
    expect('head\n  OK: x (bounded to depth 9)\n  3 solver queries, 0.84 s, 33.5k states/s\n').not.toMatch(p);
    expect('head\n  OK: x (bounded to depth 8)\n  4 solver queries, 0.84 s, 33.5k states/s\n').not.toMatch(p);
    expect(shownPattern(['VIOLATED a after 7 steps: ...']).test('VIOLATED a after 7 steps: anything here\n')).toBe(true);
  });

  it('reads the directives before a block', () => {
    const bs = readmeBlocks(
      '<!-- readme-test: not run: needs a GPU -->\n```\n$ npx mirrorcheck x\n```\n\n<!-- readme-test: first: check y -->\n```sh\nnpx mirrorcheck z\n```\n',
    );
    expect(bs.map((x) => [x.notRun, x.first])).toEqual([
      ['needs a GPU', []],
      [null, ['check y']],
    ]);
  });
});
