/**
 * Formatting check results for people (text), scripts (JSON lines) and CI (JUnit XML). Why this
 * module exists: the engines return data; this is the one place that turns it into output, so the
 * JSON fields stay stable for CI users.
 */
import type { CheckResult, SearchFigures, Stats } from '../checker/engine.js';
import type { ParamValues } from '../model/lang/protocol.js';

/** What every check record has, whatever the engine. */
export interface RecordBase {
  readonly protocol: string;
  readonly variant: string | null;
  readonly params: ParamValues;
  readonly strategy?: string;
  /** The z3 the smt engine used. */
  readonly solver?: string;
  readonly status: CheckResult['status'];
  readonly guarantee: string | null;
  /** The depth the guarantee covers (`bounded`), or the longest run allowed (`sampled`). */
  readonly bound?: number;
  readonly violations: readonly {
    readonly property: string;
    readonly requirement: string;
    readonly kind: string;
    readonly length: number | null;
    readonly trace: string | null;
    readonly message: string;
    readonly loop?: number;
  }[];
  readonly covers: readonly { readonly name: string; readonly requirement: string; readonly reached: boolean; readonly depth: number | null }[];
  readonly reason?: string;
  /** Selected properties this engine does not check (liveness outside the explicit engine): not part of the verdict. */
  readonly unchecked?: readonly string[];
  readonly error?: { readonly code: string; readonly message: string; readonly trace: string | null };
}

/**
 * One checked protocol/variant, as printed with `--format json` (one object per line): the common
 * fields and the engine's own statistics under their own names (`engine` tells which).
 */
export type CheckRecord = RecordBase & Stats;

const fmtNum = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n));

export function paramsText(p: ParamValues): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function searchLine(f: SearchFigures): string {
  return `${fmtNum(f.states)} distinct states, ${fmtNum(f.transitions)} transitions, depth ${f.depth}, ${secs(f.elapsedMs)}, ${fmtNum(f.statesPerSec)} states/s, ${f.bytesPerState} bytes/state`;
}

/** What a compact store (hash compaction, bitstate) leaves unproved, and its frontier; null for the exact store. */
function storeLine(f: SearchFigures): string | null {
  const frontier = f.queueBytes !== undefined ? `; the two breadth-first levels in memory took up to ${(f.queueBytes / 2 ** 20).toFixed(1)} MiB` : '';
  if (f.store === 'hash-compaction')
    return `  hash compaction (${f.bytesPerState} bytes/state): every state explored unless two shared a 64-bit fingerprint, probability ${(f.omissionProbability ?? 1).toExponential(1)}${frontier}`;
  if (f.store === 'bitstate')
    return `  bitstate (${fmtNum(f.storeBytes)} bytes of bits): about ${((f.coverage ?? 0) * 100).toFixed(4)}% of the reachable states explored (coverage estimate)${frontier}`;
  return null;
}

/** The engine's figures in words, under their own names. */
function statsLines(r: CheckRecord): string[] {
  switch (r.engine) {
    case 'explicit': {
      const lines = [`  ${r.liveness ? 'safety search: ' : ''}${searchLine(r)}${r.symmetry ? ' (symmetry reduction)' : ''}`];
      const store = storeLine(r);
      if (store) lines.push(store);
      if (r.shard) lines.push(`  shard ${r.shard}: this part of the state space only (mirrorcheck merge combines the shards' --format json results)`);
      if (r.liveness) lines.push(`  liveness graph: ${searchLine(r.liveness)}${r.liveness.symmetry ? ' (symmetry reduction)' : ' (no symmetry reduction)'}`);
      return lines;
    }
    case 'random':
      return [
        `  ${r.runs} runs of up to ${r.bound ?? '?'} steps (seed ${r.seed}): ${fmtNum(r.steps)} steps taken, ${fmtNum(r.states)} distinct states visited, longest run ${r.depth}, ${secs(r.elapsedMs)}` +
          (r.shrinkRuns ? `; shrinking: ${r.shrinkRuns} runs, ${fmtNum(r.shrinkSteps)} steps` : ''),
      ];
    case 'smt':
      return [
        `  bounded model checking: ${r.status === 'violated' ? `the counterexample is a shortest one (depth ${r.depth})` : `no violation within ${r.bound ?? r.depth} steps`}, ${fmtNum(r.queries)} solver queries, ${secs(r.solverMs)} in the solver, ${secs(r.elapsedMs)} in all`,
      ];
  }
}

/** Human-readable summary of one record. */
export function textRecord(r: CheckRecord): string {
  const lines: string[] = [];
  const reduced = r.engine === 'explicit' && r.symmetry ? ' symmetry' : '';
  lines.push(
    `${r.protocol}${r.variant ? ` (variant ${r.variant})` : ''} [${paramsText(r.params)}] engine ${r.engine}${r.strategy ? ` ${r.strategy}` : ''}${reduced}`,
  );
  switch (r.status) {
    case 'ok':
      lines.push(
        `  OK: every ${r.unchecked?.length ? 'checked ' : ''}property holds (${r.guarantee}${r.bound !== undefined ? ` to depth ${r.bound}` : ''}${r.engine === 'random' ? `, ${r.runs} runs, seed ${r.seed}` : ''})`,
      );
      break;
    case 'violated':
      for (const v of r.violations) {
        lines.push(`  VIOLATED ${v.property} [${v.requirement}]${v.length !== null ? ` after ${v.length} steps` : ''}: ${v.message}`);
        if (v.trace) lines.push(`    trace: ${v.trace}   (mirrorcheck replay ${v.trace})`);
      }
      break;
    case 'incomplete':
      lines.push(`  INCOMPLETE: ${r.reason} (no guarantee)`);
      break;
    case 'error':
      lines.push(`  ERROR ${r.error?.code}: ${r.error?.message}`);
      if (r.error?.trace) lines.push(`    trace: ${r.error.trace}`);
      break;
  }
  if (r.unchecked?.length)
    lines.push(
      r.engine === 'explicit'
        ? `  not checked by a shard (liveness: check it in one run): ${r.unchecked.join(', ')}`
        : `  not checked by the ${r.engine} engine (liveness; use --engine explicit): ${r.unchecked.join(', ')}`,
    );
  const unreached = r.covers.filter((c) => !c.reached).map((c) => c.name);
  if (r.covers.length)
    lines.push(
      `  covers reached: ${r.covers.length - unreached.length}/${r.covers.length}${unreached.length ? ` (not reached: ${unreached.join(', ')})` : ''}`,
    );
  lines.push(...statsLines(r));
  return lines.join('\n');
}

/** The engine's figures as name/value pairs (JUnit properties). */
export function statsPairs(r: CheckRecord): [string, string][] {
  const flat = (prefix: string, o: object): [string, string][] =>
    Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' ? flat(`${prefix}${k}.`, v) : [[`${prefix}${k}`, String(v)] as [string, string]],
    );
  const { engine, ...figures } = pickStats(r);
  return [['engine', engine], ...flat('', figures)];
}

/** The statistics part of a record. */
function pickStats(r: CheckRecord): Stats {
  switch (r.engine) {
    case 'explicit': {
      const { engine, states, transitions, depth, elapsedMs, statesPerSec, storeBytes, bytesPerState, symmetry, liveness } = r;
      const { store, queueBytes, omissionProbability, coverage, workers, workerShare, por, shard, shardCheck } = r;
      const optional = { store, queueBytes, omissionProbability, coverage, workers, workerShare, por, shard, shardCheck };
      const present = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined));
      return {
        engine,
        states,
        transitions,
        depth,
        elapsedMs,
        statesPerSec,
        storeBytes,
        bytesPerState,
        symmetry,
        ...present,
        ...(liveness ? { liveness } : {}),
      };
    }
    case 'random': {
      const { engine, runs, steps, states, depth, shrinkRuns, shrinkSteps, seed, elapsedMs } = r;
      return { engine, runs, steps, states, depth, shrinkRuns, shrinkSteps, seed, elapsedMs };
    }
    case 'smt': {
      const { engine, depth, queries, solverMs, elapsedMs } = r;
      return { engine, depth, queries, solverMs, elapsedMs };
    }
  }
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML: one test suite per record, one test case per violation (or one passing case). */
export function junit(records: readonly CheckRecord[]): string {
  const suites = records.map((r) => {
    const name = `${r.protocol}${r.variant ? `.${r.variant}` : ''}`;
    const cases: string[] = [];
    if (r.status === 'ok') cases.push(`    <testcase classname="${xml(name)}" name="all properties (${r.guarantee})" time="${r.elapsedMs / 1000}"/>`);
    for (const v of r.violations) {
      cases.push(
        `    <testcase classname="${xml(name)}" name="${xml(`${v.property} [${v.requirement}]`)}"><failure message="${xml(v.message)}">${xml(v.trace ?? '')}</failure></testcase>`,
      );
    }
    if (r.status === 'incomplete')
      cases.push(`    <testcase classname="${xml(name)}" name="completeness"><failure message="${xml(r.reason ?? 'incomplete')}"/></testcase>`);
    if (r.status === 'error') cases.push(`    <testcase classname="${xml(name)}" name="model"><error message="${xml(r.error?.message ?? '')}"/></testcase>`);
    const failures = cases.filter((c) => c.includes('<failure')).length;
    const errors = cases.filter((c) => c.includes('<error')).length;
    const props = statsPairs(r).map(([k, v]) => `      <property name="${xml(k)}" value="${xml(v)}"/>`);
    return `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${r.elapsedMs / 1000}">\n    <properties>\n${props.join('\n')}\n    </properties>\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>`;
}
