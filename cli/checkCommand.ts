/**
 * `mirrorcheck check`: builds each requested protocol/variant, runs an engine, saves the
 * counterexamples and prints the results. Why this module exists: it is where protocols, properties
 * and engines meet; it owns exit codes (0 ok, 1 violated, 2 bad input, 3 incomplete, 4 internal).
 */
import type { Trace } from '../counterexamples/trace.js';
import type { CheckJob, CheckResult, Progress } from '../checker/engine.js';
import { McError } from '../model/lang/errors.js';
import { exitStatusOf, printable } from './errors.js';
import { checkOutputDir } from './outputPaths.js';
import { buildModel } from '../model/lang/protocol.js';
import type { Model } from '../model/lang/protocol.js';
import { type EngineName, type SolverName, checkSolver, loadEngine } from './engines.js';
import { resolvePackages } from './packages.js';
import { junitXml } from './junit.js';
import { type CheckRecord, JSON_SCHEMA_VERSION, checkSuite, textRecord } from './report.js';
import { saveTrace } from './traceFiles.js';

export interface CheckOptions {
  readonly protocol?: string;
  readonly variant?: string;
  readonly params: readonly string[];
  readonly engine: EngineName;
  readonly strategy: 'bfs' | 'dfs';
  readonly depth?: number;
  readonly maxStates?: number;
  readonly timeLimit?: number;
  readonly seed?: number;
  readonly runs?: number;
  readonly out: string;
  /** json: one object per line (JSON Lines); json-array: one array of them, printed at the end. */
  readonly format: 'text' | 'json' | 'json-array' | 'junit';
  readonly progress: boolean;
  /** Symmetry reduction over symmetric index types (explicit engine). */
  readonly symmetry: boolean;
  /** Check only these properties (by name); all when empty. */
  readonly only: readonly string[];
  /** Report states with no enabled rule (that are not legal end states) as deadlocks. */
  readonly deadlock: boolean;
  /** After a violation, run again without the violated properties, until none is violated (default: stop at the first). */
  readonly continue?: boolean;
  /** Which z3 the smt engine uses (default wasm). */
  readonly solver?: SolverName;
  /** Typecheck a TypeScript model file before loading it (default true). */
  readonly typecheck?: boolean;
}

/**
 * Rejects a numeric option that is not a number, not an integer where one is needed, or below
 * `min` (MC030), so that no engine ever sees a nonsensical limit.
 */
export function checkNumber(flag: string, v: number | undefined, min: number, integer = true): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    throw new McError('MC030', `--${flag} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${Number.isNaN(v) ? 'a non-number' : v}`);
  }
}

/** Parses `k=v` parameter arguments (MC030 on a malformed one or a name given twice). */
export function parseParams(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    for (const part of a.split(',')) {
      const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(part.trim());
      if (!m) throw new McError('MC030', `bad --param '${part}': expected name=value`);
      const [, name, value] = m as unknown as [string, string, string];
      if (Object.hasOwn(out, name)) throw new McError('MC030', `--param ${name} given more than once (${name}=${out[name]} and ${name}=${value})`);
      out[name] = value;
    }
  }
  return out;
}

/** Exit code of one result: 0 ok, 1 violated, 2 model error, 3 incomplete, 4 internal error. */
export function exitCodeOf(r: CheckResult): number {
  switch (r.status) {
    case 'ok':
      return 0;
    case 'violated':
      return 1;
    case 'incomplete':
      return 3;
    case 'error':
      return exitStatusOf(r.code);
  }
}

/** Combines exit codes: internal error beats bad input beats violation beats incomplete beats ok. */
export function combineExit(codes: readonly number[]): number {
  for (const c of [4, 2, 1, 3]) if (codes.includes(c)) return c;
  return 0;
}

function toRecord(
  model: Model,
  opts: CheckOptions,
  r: CheckResult,
  checked: CheckRecord['properties'],
  save: (t: NonNullable<CheckResult & { status: 'error' }>['trace']) => string | null,
): CheckRecord {
  const base = {
    schemaVersion: JSON_SCHEMA_VERSION,
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    properties: checked,
    selected: opts.only.length > 0,
    deadlock: opts.deadlock,
    ...(r.stats.engine === 'explicit' ? { strategy: opts.strategy } : {}),
    ...(r.stats.engine === 'smt' ? { solver: opts.solver ?? 'wasm' } : {}),
    ...r.stats,
    status: r.status,
    covers: 'covers' in r ? r.covers : [],
  };
  switch (r.status) {
    case 'ok':
      return { ...base, guarantee: r.guarantee, ...(r.bound !== undefined ? { bound: r.bound } : {}), violations: [] };
    case 'violated':
      return {
        ...base,
        guarantee: r.guarantee,
        ...(r.bound !== undefined ? { bound: r.bound } : {}),
        violations: r.violations.map((v) => ({
          property: v.property,
          requirement: v.requirement,
          kind: v.kind,
          message: v.message,
          length: v.trace ? v.trace.steps.length - 1 : null,
          trace: v.trace ? save(v.trace) : null,
          ...(v.trace?.loop !== undefined ? { loop: v.trace.loop } : {}),
        })),
      };
    case 'incomplete':
      return { ...base, guarantee: null, violations: [], reason: r.reason };
    case 'error':
      return { ...base, guarantee: null, violations: [], error: { code: r.code, message: r.message, trace: r.trace ? save(r.trace) : null } };
  }
}

/** Runs `check` and returns the process exit code. */
export async function runCheck(opts: CheckOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const params = parseParams(opts.params);
  if (opts.protocol === undefined && (opts.variant || Object.keys(params).length)) {
    throw new McError('MC030', '--variant and --param need a protocol name (check PROTOCOL ...)');
  }
  checkSolver(opts.solver ?? 'wasm', opts.engine);
  // A depth of 0 would check the start states only, which no engine treats as a search: refused alike by all.
  checkNumber('depth', opts.depth, 1);
  checkNumber('max-states', opts.maxStates, 1);
  checkNumber('time-limit', opts.timeLimit, 0, false);
  checkOutputDir('out', opts.out);
  const packages = await resolvePackages(opts.protocol, { typecheck: opts.typecheck ?? true });
  // Build every model first, so bad input is reported before any work is done.
  const jobs = packages.map(({ pkg: e, file }) => {
    const model = buildModel(e.protocol, { variant: opts.variant ?? null, params });
    const all = e.properties.build(model);
    const unknown = opts.only.filter((n) => !all.some((p) => p.name === n));
    if (unknown.length) throw new McError('MC003', `unknown property '${unknown[0]}' of ${model.protocol} (properties: ${all.map((p) => p.name).join(', ')})`);
    const chosen = opts.only.length ? all.filter((p) => opts.only.includes(p.name)) : all;
    // Only the explicit engine checks liveness; another engine must not report them as holding.
    const unchecked = opts.engine === 'explicit' ? [] : chosen.filter((p) => p.kind === 'liveness').map((p) => p.name);
    if (unchecked.length && unchecked.length === chosen.length) {
      throw new McError('MC030', `the ${opts.engine} engine does not check liveness properties (${unchecked.join(', ')}); use --engine explicit`);
    }
    return { model, properties: chosen.filter((p) => !unchecked.includes(p.name)), unchecked, pkg: e, file };
  });
  const engine = await loadEngine(opts.engine);
  const records: CheckRecord[] = [];
  const codes: number[] = [];
  for (const { model, properties, unchecked, pkg, file } of jobs) {
    const job: CheckJob = {
      model,
      properties,
      strategy: opts.strategy,
      symmetry: opts.symmetry,
      deadlock: opts.deadlock,
      limits: {
        ...(opts.maxStates !== undefined ? { maxStates: opts.maxStates } : {}),
        ...(opts.timeLimit !== undefined ? { timeLimitSec: opts.timeLimit } : {}),
        ...(opts.depth !== undefined ? { depth: opts.depth } : {}),
      },
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
      ...(opts.solver !== undefined ? { solver: opts.solver } : {}),
    };
    const tag = `[${model.protocol}${model.variant ? `/${model.variant}` : ''}]`;
    const onProgress = opts.progress
      ? (p: Progress) =>
          err(
            opts.engine === 'smt'
              ? `${tag} no violation within ${p.depth} steps, ${p.generated} solver queries, ${(p.elapsedMs / 1000).toFixed(0)} s`
              : `${tag} ${p.generated} states generated, ${p.distinct} distinct, queue ${p.queue}, depth ${p.depth}, ${p.statesPerSec} states/s`,
          )
      : undefined;
    const variantSpec = pkg.protocol.variants.find((v) => v.name === model.variant);
    const note = variantSpec ? `variant ${variantSpec.name}: ${variantSpec.summary} (${variantSpec.cites})` : undefined;
    const keep = (t: Trace): Trace => ({ ...t, ...(note && !t.note ? { note } : {}), ...(file ? { modelFile: file } : {}) });
    // A trace that cannot be saved (the folder vanished or filled up during the run) is said on
    // stderr and makes the exit 2; the report itself is still printed.
    const save = (t: Trace | null): string | null => {
      if (!t) return null;
      try {
        return saveTrace(opts.out, model, keep(t));
      } catch (e) {
        if (!(e instanceof McError)) throw e;
        err(`mirrorcheck: error ${e.code}: ${printable(e.message)}`);
        codes.push(exitStatusOf(e.code));
        return null;
      }
    };
    // One engine run; with --continue, after a violation the run is repeated without the properties
    // already violated (and without the deadlock check once a deadlock is found), until no property
    // is left or a run finds none: the first violation of every property, each run with its own figures.
    let remaining = properties;
    let deadlock = opts.deadlock;
    const setAside: string[] = [];
    for (;;) {
      const r = await engine.run({ ...job, properties: remaining, deadlock }, onProgress ? { onProgress } : {});
      const checked = remaining.map((p) => ({ name: p.name, requirement: p.requirement, kind: p.kind }));
      const rec = { ...toRecord(model, { ...opts, deadlock }, r, checked, save), unchecked, ...(setAside.length ? { setAside: [...setAside] } : {}) };
      records.push(rec);
      codes.push(exitCodeOf(r));
      if (opts.format === 'json') out(JSON.stringify(rec));
      else if (opts.format === 'text') out(textRecord(rec));
      if (!opts.continue || r.status !== 'violated') break;
      const violated = new Set(r.violations.map((v) => v.property));
      if (r.violations.some((v) => v.kind === 'deadlock')) deadlock = false;
      setAside.push(...r.violations.map((v) => v.property));
      remaining = remaining.filter((p) => !violated.has(p.name));
      if (remaining.length === 0 && !deadlock) break;
    }
  }
  if (opts.format === 'junit') out(junitXml(records.map(checkSuite)));
  if (opts.format === 'json-array') out(JSON.stringify(records));
  return combineExit(codes);
}
