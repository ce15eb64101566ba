/**
 * Formatting check results for people (text), scripts (JSON lines) and CI (JUnit XML). Why this
 * module exists: the engines return data; this is the one place that turns it into output, so the
 * JSON fields stay stable for CI users.
 */
import type { CheckResult, SearchFigures, Stats } from '../checker/engine.js';
import type { ParamValues } from '../model/lang/protocol.js';
import { DEADLOCK } from '../properties/property.js';
import type { JunitCase, JunitSuite } from './junit.js';

/**
 * The version of the JSON that `check` and `prove` print (schemas/check.schema.json,
 * schemas/prove.schema.json). Fields may be added within a version; removing, renaming or changing
 * the meaning of one increments it.
 */
export const JSON_SCHEMA_VERSION = 1;

/** What every check record has, whatever the engine. */
export interface RecordBase {
  readonly schemaVersion: number;
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
  /** The properties the engine checked (those selected with --property, else all it checks). */
  readonly properties: readonly { readonly name: string; readonly requirement: string; readonly kind: string }[];
  /** Whether the properties were chosen with --property (only those were checked). */
  readonly selected: boolean;
  /** Whether states with no enabled rule were checked for deadlock. */
  readonly deadlock: boolean;
  /** Selected properties this engine does not check (liveness outside the explicit engine): not part of the verdict. */
  readonly unchecked?: readonly string[];
  /** With --continue: the properties (and `deadlock`) violated in an earlier run of the same check, not checked again in this one. */
  readonly setAside?: readonly string[];
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
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function searchLine(f: SearchFigures): string {
  return `${fmtNum(f.states)} distinct states, ${fmtNum(f.transitions)} transitions, depth ${f.depth}, ${secs(f.elapsedMs)}, ${fmtNum(f.statesPerSec)} states/s, store ${mib(f.storeBytes)}${f.bytesPerState !== null ? `, ${f.bytesPerState} bytes/state` : ''}`;
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

/** What the safety search used: symmetry reduction, store, threads, partial-order reduction. */
function safetyUsed(f: SearchFigures): string {
  // Worker threads count only when they expanded states (they start only once the levels grow).
  const threads = (f.workers ?? 1) > 1 && (f.workerShare ?? 0) > 0 ? `${f.workers} threads` : 'one thread';
  return [
    f.symmetry ? 'symmetry reduction' : 'no symmetry reduction',
    `${f.store ?? 'exact'} store${f.collapse ? ' (collapsed)' : ''}`,
    threads,
    ...(f.por ? ['partial-order reduction'] : []),
  ].join(', ');
}

/** What the liveness phase used: the graph is kept whole (exact store, one thread, no partial-order reduction), reduced by symmetry where that is exact. */
function livenessUsed(f: SearchFigures): string {
  const sym = f.symmetry ? 'symmetry reduction' : f.symmetryRefused ? `no symmetry reduction: ${f.symmetryRefused}` : 'no symmetry reduction';
  return `${sym}; exact store, one thread, no partial-order reduction`;
}

/** The engine's figures in words, under their own names. */
function statsLines(r: CheckRecord): string[] {
  switch (r.engine) {
    case 'explicit': {
      const lines = [`  ${r.liveness ? 'safety search: ' : ''}${searchLine(r)} (${safetyUsed(r)})`];
      const store = storeLine(r);
      if (store) lines.push(store);
      if (r.shard) lines.push(`  shard ${r.shard}: this part of the state space only (mirrorcheck merge combines the shards' --format json results)`);
      if (r.liveness) lines.push(`  liveness graph: ${searchLine(r.liveness)} (${livenessUsed(r.liveness)})`);
      return lines;
    }
    case 'random':
      return [
        `  ${r.runs} runs${r.bound !== undefined ? ` of up to ${r.bound} steps` : ''} (seed ${r.seed}): ${fmtNum(r.steps)} steps taken, ${fmtNum(r.states)} distinct states visited, longest run ${r.depth}, ${secs(r.elapsedMs)}` +
          (r.shrinkRuns ? `; shrinking: ${r.shrinkRuns} runs, ${fmtNum(r.shrinkSteps)} steps` : ''),
      ];
    case 'smt':
      return [
        `  bounded model checking: ${r.status === 'violated' ? `the counterexample is a shortest one (depth ${r.depth})` : `no violation within ${r.bound ?? r.depth} steps`}, ${fmtNum(r.queries)} solver queries, ${secs(r.solverMs)} in the solver, ${secs(r.elapsedMs)} in all`,
      ];
  }
}

/**
 * What an `ok` verdict covers, in words: every property, or (after `--property`) the ones named,
 * so that a run restricted to one property never reads as if all were checked.
 */
function holdsText(r: CheckRecord): string {
  if (r.setAside?.length) return `every property not violated above holds${r.deadlock ? '' : ' (deadlocks not checked)'}`;
  if (!r.selected) return `every ${r.unchecked?.length ? 'checked ' : ''}property holds${r.deadlock ? '' : ' (deadlocks not checked)'}`;
  return `${r.properties.map((p) => p.name).join(', ')} ${r.properties.length === 1 ? 'holds' : 'hold'}${r.deadlock ? ', and no deadlock' : ''}`;
}

/** Human-readable summary of one record. */
export function textRecord(r: CheckRecord): string {
  const lines: string[] = [];
  const reduced = r.engine === 'explicit' && r.symmetry ? ' symmetry' : '';
  lines.push(
    `${r.protocol}${r.variant ? ` (variant ${r.variant})` : ''} [${paramsText(r.params)}] engine ${r.engine}${r.strategy ? ` ${r.strategy}` : ''}${reduced}`,
  );
  if (r.setAside?.length) lines.push(`  continued (--continue) without what was violated before: ${r.setAside.join(', ')}`);
  switch (r.status) {
    case 'ok':
      lines.push(
        `  OK: ${holdsText(r)} (${r.guarantee}${r.bound !== undefined ? ` to depth ${r.bound}` : ''}${r.engine === 'random' ? `, ${r.runs} runs, seed ${r.seed}` : ''}${r.selected ? '; only the selected properties were checked' : ''})`,
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
      const { store, collapse, queueBytes, omissionProbability, coverage, workers, workerShare, por, shard, shardCheck } = r;
      const optional = { store, collapse, queueBytes, omissionProbability, coverage, workers, workerShare, por, shard, shardCheck };
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

/** The JUnit class name of a record's test cases: the protocol, and the variant when there is one. */
const classOf = (r: CheckRecord) => `${r.protocol}${r.variant ? `.${r.variant}` : ''}`;

/** Seconds the search that decides a property of `kind` took (the liveness phase apart). */
function decidingSeconds(r: CheckRecord, kind: string): number {
  if (r.engine === 'explicit' && kind === 'liveness' && r.liveness) return r.liveness.elapsedMs / 1000;
  return r.elapsedMs / 1000;
}

/**
 * One JUnit suite for one checked protocol/variant: a test case per property (and one for deadlock
 * freedom when it was checked), passing ones too. A violated property is a failure (its trace path
 * in the text); a run stopped by a limit or a model error is an error on every case it leaves
 * undecided; a property the engine does not check, or that the search did not decide because it
 * stopped at an earlier violation, is skipped with the reason.
 */
export function checkSuite(r: CheckRecord): JunitSuite {
  const classname = classOf(r);
  const all = [...r.properties, ...(r.deadlock ? [{ name: DEADLOCK, requirement: 'deadlock', kind: 'deadlock' }] : [])];
  const violated = new Map(r.violations.map((v) => [v.property, v]));
  const first = r.violations[0];
  const cases: JunitCase[] = all.map((p) => {
    const name = `${p.name} [${p.requirement}]`;
    const timeSec = decidingSeconds(r, p.kind);
    const v = violated.get(p.name);
    const base = { name, classname, timeSec };
    if (v) {
      const where = v.trace ? `trace: ${v.trace} (mirrorcheck replay ${v.trace})` : undefined;
      return { ...base, outcome: { kind: 'failed', type: v.kind, message: v.message, ...(where ? { detail: where } : {}) } };
    }
    if (r.status === 'incomplete')
      return { ...base, outcome: { kind: 'error', type: 'incomplete', message: `${r.reason ?? 'a limit was reached'}: not decided (no guarantee)` } };
    if (r.status === 'error') return { ...base, outcome: { kind: 'error', type: r.error?.code ?? 'error', message: r.error?.message ?? 'error' } };
    const reached = p.kind === 'cover' && r.covers.some((c) => c.name === p.name && c.reached);
    const livenessDone = p.kind === 'liveness' && r.engine === 'explicit' && r.liveness !== undefined;
    if (r.status === 'violated' && !reached && !livenessDone) {
      return {
        ...base,
        timeSec: 0,
        outcome: { kind: 'skipped', message: `not decided: the search stopped at the violation of ${first?.property ?? 'another property'}` },
      };
    }
    return { ...base, outcome: { kind: 'passed' }, output: `holds (${r.guarantee}${r.bound !== undefined ? ` to depth ${r.bound}` : ''})` };
  });
  for (const u of r.unchecked ?? []) {
    cases.push({
      name: u,
      classname,
      timeSec: 0,
      outcome: { kind: 'skipped', message: `not checked by the ${r.engine} engine (liveness; use --engine explicit)` },
    });
  }
  const timeSec = (r.elapsedMs + (r.engine === 'explicit' && r.liveness ? r.liveness.elapsedMs : 0)) / 1000;
  return { name: `${classname} [${paramsText(r.params)}]`, timeSec, properties: statsPairs(r), cases };
}
