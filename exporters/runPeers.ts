/**
 * Runs an exported model on Rumur or SPIN and reads back what the peer found. Why this module
 * exists: the exporter tests and the peer benchmark both need to generate, compile and run a peer
 * and parse its summary (states, transitions, the property it reports broken), with generation and
 * compilation timed apart from the search. It never prints; it returns data.
 *
 * Peers come from Debian (`apt-get install -y spin rumur`); `toolAvailable` says whether they are here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROMELA_DEPTH_PER_STEP } from './promela.js';

/** What a peer reported as broken. */
export interface PeerViolation {
  /** invariant / step property / deadlock / model error (unwrap of none, value out of range) / unreached cover. */
  readonly kind: 'invariant' | 'step' | 'deadlock' | 'model-error' | 'cover';
  /** Our property name when the peer named one we know, else null. */
  readonly property: string | null;
  /** The peer's own words. */
  readonly message: string;
}

/** One peer run. Times are wall-clock milliseconds. */
export interface PeerRun {
  readonly tool: 'rumur' | 'spin';
  /** `incomplete`: the peer stopped early (SPIN's depth limit, for example). */
  readonly status: 'ok' | 'violated' | 'incomplete' | 'error';
  /** States the peer reports (Rumur: explored; SPIN: stored). */
  readonly states: number | null;
  /** Rumur: rules fired; SPIN: transitions (stored + matched). */
  readonly transitions: number | null;
  readonly violation: PeerViolation | null;
  /**
   * Steps of the counterexample, in our counting (start state = step 0): the trace Rumur prints, or
   * for SPIN the depth of the error (the shortest one when run with `shortest`) converted to steps.
   * A model error counts the failing step itself.
   */
  readonly steps: number | null;
  /** Time to turn the model into C (rumur, spin -a). */
  readonly generateMs: number;
  /** Time to compile the C verifier. */
  readonly compileMs: number;
  /** Time of the search itself (the verifier's process). */
  readonly searchMs: number;
  /** Peak resident memory of the verifier process, KiB (null when /usr/bin/time is missing). */
  readonly peakRssKiB: number | null;
  /** The verifier's output (and compiler errors when status is `error`). */
  readonly output: string;
}

/** Whether a program is on the PATH. */
export function toolAvailable(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

const TIME = '/usr/bin/time';

/** Runs a command, timing it; returns output, status and the peak RSS when /usr/bin/time exists. */
function timed(cmd: string, args: readonly string[], cwd: string, measure: boolean) {
  const wrap = measure && existsSync(TIME);
  const t0 = performance.now();
  const r = wrap
    ? spawnSync(TIME, ['-f', 'MIRRORCHECK_PEAK_RSS_KIB=%M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(cmd, [...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t0;
  let stderr = r.stderr ?? '';
  let rss: number | null = null;
  const m = /MIRRORCHECK_PEAK_RSS_KIB=(\d+)/.exec(stderr);
  if (m) {
    rss = Number(m[1]);
    stderr = stderr.replace(m[0], '');
  }
  return { ms, status: r.status, out: `${r.stdout ?? ''}${stderr}`, rss, error: r.error };
}

const snake = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

/** Options of a Rumur run. */
export interface RumurOptions {
  /** Verifier threads (Rumur's default is one per core). */
  readonly threads?: number;
  /** Extra rumur flags (toMurphi's `rumurFlags(model)` gives the deadlock mode). */
  readonly flags?: readonly string[];
  /** C optimisation flags (default `-O3`, as Rumur recommends; tests of small models use `-O0`). */
  readonly cflags?: readonly string[];
  /** Keep the working directory (its path is in `output`) instead of deleting it. */
  readonly keep?: boolean;
}

/** Generates, compiles and runs a Murphi model with Rumur. */
export function runRumur(murphi: string, opts: RumurOptions = {}): PeerRun {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorcheck-rumur-'));
  try {
    writeFileSync(join(dir, 'model.m'), murphi);
    const threads = opts.threads !== undefined ? ['--threads', String(opts.threads)] : [];
    const gen = timed('rumur', ['--quiet', ...threads, ...(opts.flags ?? []), 'model.m', '--output', 'model.c'], dir, false);
    const fail = (ms: { gen: number; cc: number }, out: string): PeerRun => ({
      tool: 'rumur',
      status: 'error',
      states: null,
      transitions: null,
      violation: null,
      steps: null,
      generateMs: ms.gen,
      compileMs: ms.cc,
      searchMs: 0,
      peakRssKiB: null,
      output: out,
    });
    if (gen.status !== 0) return fail({ gen: gen.ms, cc: 0 }, gen.out || String(gen.error));
    const cc = timed('cc', ['-std=c11', '-march=native', ...(opts.cflags ?? ['-O3']), '-o', 'model', 'model.c', '-lpthread'], dir, false);
    if (cc.status !== 0) return fail({ gen: gen.ms, cc: cc.ms }, cc.out);
    const run = timed('./model', [], dir, true);
    const out = run.out;
    const sum = /(\d+) states, (\d+) rules fired/.exec(out);
    const first = /The following is the error trace for the error:\s*\n\s*([^\n]+)/.exec(out)?.[1]?.trim() ?? null;
    const unhit = /cover "([^"]+)" not hit/.exec(out);
    let violation: PeerViolation | null = null;
    if (first !== null) {
      const inv = /^invariant "([^"]+)" failed/.exec(first);
      const asr = /^Assertion failed: \S+: (.+)$/.exec(first);
      // toMurphi prints the deadlock check of a model with legal end states as an invariant.
      violation = inv
        ? { kind: inv[1] === 'deadlock' ? 'deadlock' : 'invariant', property: inv[1] as string, message: first }
        : asr
          ? { kind: 'step', property: asr[1] as string, message: first }
          : first === 'deadlock'
            ? { kind: 'deadlock', property: 'deadlock', message: first }
            : { kind: 'model-error', property: null, message: first };
    } else if (unhit) violation = { kind: 'cover', property: unhit[1] as string, message: unhit[0] };
    const steps = first !== null ? (out.match(/^(Startstate|Rule) .* fired\.$/gm)?.length ?? 1) - 1 : null;
    return {
      tool: 'rumur',
      status: sum === null ? 'error' : violation ? 'violated' : run.status === 0 ? 'ok' : 'error',
      states: sum ? Number(sum[1]) : null,
      transitions: sum ? Number(sum[2]) : null,
      violation,
      steps,
      generateMs: gen.ms,
      compileMs: cc.ms,
      searchMs: run.ms,
      peakRssKiB: run.rss,
      output: opts.keep ? `${out}\n(kept in ${dir})` : out,
    };
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Options of a SPIN run. */
export interface SpinOptions {
  /** Search for the shortest counterexample (`-DREACH`, `./pan -i`): slower, for tests. */
  readonly shortest?: boolean;
  /** Our property names, to read them back from pan's "assertion violated inv_<name>". */
  readonly properties?: readonly string[];
  /** Maximum search depth (`./pan -m`), default 10,000,000. */
  readonly maxDepth?: number;
  /** C optimisation flags (default `-O2`; tests of small models use `-O0`). */
  readonly cflags?: readonly string[];
  /** Hash table of 2^N slots (`./pan -wN`; pan's default 24 allocates 128 MB up front). */
  readonly hashBits?: number;
  /** More compile-time options of pan, e.g. `-DBFS` (breadth-first, shortest traces) or `-DHC4` (hash compaction). */
  readonly defines?: readonly string[];
  readonly keep?: boolean;
}

/** Generates (`spin -o2 -a`), compiles (`gcc -O2 -DSAFETY`) and runs a Promela model. */
export function runSpin(promela: string, opts: SpinOptions = {}): PeerRun {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorcheck-spin-'));
  try {
    writeFileSync(join(dir, 'model.pml'), promela);
    // -o2: no dead-variable elimination, which would merge states that differ only in a variable
    // nothing exported reads (one read only by a cover, say): then SPIN's states are ours plus one.
    const gen = timed('spin', ['-o2', '-a', 'model.pml'], dir, false);
    const fail = (ms: { gen: number; cc: number }, out: string): PeerRun => ({
      tool: 'spin',
      status: 'error',
      states: null,
      transitions: null,
      violation: null,
      steps: null,
      generateMs: ms.gen,
      compileMs: ms.cc,
      searchMs: 0,
      peakRssKiB: null,
      output: out,
    });
    if (gen.status !== 0 || !existsSync(join(dir, 'pan.c'))) return fail({ gen: gen.ms, cc: 0 }, gen.out || String(gen.error));
    const defs = ['-DSAFETY', '-DMEMLIM=8000', ...(opts.shortest ? ['-DREACH'] : []), ...(opts.defines ?? [])];
    const cc = timed('gcc', [...(opts.cflags ?? ['-O2']), ...defs, '-o', 'pan', 'pan.c'], dir, false);
    if (cc.status !== 0) return fail({ gen: gen.ms, cc: cc.ms }, cc.out);
    const panArgs = [`-m${opts.maxDepth ?? 10_000_000}`, ...(opts.hashBits ? [`-w${opts.hashBits}`] : []), ...(opts.shortest ? ['-i'] : [])];
    const run = timed('./pan', panArgs, dir, true);
    const out = run.out;
    // Breadth-first pan also stores the states inside atomic sequences; its "nominal" count is the model's.
    // pan prints large counts in scientific notation (1.48337e+06): read the whole number.
    const stored = /([\d.]+(?:e[+-]?\d+)?) nominal states/.exec(out) ?? /([\d.]+(?:e[+-]?\d+)?) states, stored/.exec(out);
    const trans = /([\d.]+(?:e[+-]?\d+)?) transitions \(= stored\+matched\)/.exec(out);
    const err = /pan:1: (.+?) \(at depth (\d+)\)/.exec(out);
    let violation: PeerViolation | null = null;
    if (err) {
      const msg = err[1] as string;
      const flag = /^assertion violated (\w+)$/.exec(msg)?.[1];
      const byFlag = (prefix: string) => (opts.properties ?? []).find((p) => flag === `${prefix}_${snake(p)}`) ?? null;
      violation =
        /invalid end state/.test(msg) || flag === 'no_deadlock'
          ? { kind: 'deadlock', property: 'deadlock', message: msg }
          : flag?.startsWith('inv_')
            ? { kind: 'invariant', property: byFlag('inv') ?? flag.slice(4), message: msg }
            : flag?.startsWith('step_')
              ? { kind: 'step', property: byFlag('step') ?? flag.slice(5), message: msg }
              : { kind: 'model-error', property: null, message: msg };
    }
    // With -i, pan lowers its depth bound to each shorter error found: the last bound is the
    // shortest error depth plus one.
    const bounds = [...out.matchAll(/reducing search depth to (\d+)/g)].map((x) => Number(x[1]));
    const depth = err ? (opts.shortest && bounds.length ? (bounds[bounds.length - 1] as number) - 1 : Number(err[2])) : null;
    const steps = depth === null ? null : Math.ceil(depth / PROMELA_DEPTH_PER_STEP);
    const incomplete = /max search depth too small/.test(out);
    return {
      tool: 'spin',
      status: stored === null ? 'error' : violation ? 'violated' : incomplete ? 'incomplete' : 'ok',
      states: stored ? Number(stored[1]) : null,
      transitions: trans ? Number(trans[1]) : null,
      violation,
      steps,
      generateMs: gen.ms,
      compileMs: cc.ms,
      searchMs: run.ms,
      peakRssKiB: run.rss,
      output: opts.keep ? `${out}\n(kept in ${dir})` : out,
    };
  } finally {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }
}
