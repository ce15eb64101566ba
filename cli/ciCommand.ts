/**
 * `mirrorcheck ci`: runs every case of the project file (cli/projectFile.ts), prints one summary
 * table, writes a JUnit report and the counterexample traces. Why this module exists: a driver
 * author's CI needs one command whose exit status says whether the model still does what the project
 * file promises: the correct protocol holds (exhaustively, or proved), every listed variant is
 * violated (a variant that passes means the property set has a hole), every saved counterexample
 * still replays. Exit 0 when every expectation is met, 1 when one is not, 3 when a limit stopped a
 * case that needed to be complete, 2 for a bad project file (MC015) or a model error. The cases run
 * through the same engine entry points as `check` and `prove`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { CheckJob, CheckResult } from '../checker/engine.js';
import type { ProofResult } from '../checker/smt/index.js';
import { itfToTrace, parseItf } from '../counterexamples/itf.js';
import { checkLasso } from '../counterexamples/lasso.js';
import { replayTrace } from '../counterexamples/replay.js';
import type { Trace } from '../counterexamples/trace.js';
import { McError } from '../model/lang/errors.js';
import { type Model, buildModel } from '../model/lang/protocol.js';
import { DEADLOCK, type Property, safetyProperties } from '../properties/property.js';
import { combineExit } from './checkCommand.js';
import { loadEngine } from './engines.js';
import { exitStatusOf, printable } from './errors.js';
import { type JunitCase, type JunitOutcome, type JunitSuite, junitXml } from './junit.js';
import { type EngineSpec, type PlannedCase, type PlannedCorpusTrace, planProject } from './projectFile.js';
import { saveTrace } from './traceFiles.js';

/** Options of `mirrorcheck ci`. */
export interface CiOptions {
  /** The project file (default ./mirrorcheck.config.json). */
  readonly config: string;
  /** Folder for traces and the JUnit report, overriding the file's `out`. */
  readonly out?: string;
  /** The JUnit report (default OUT/junit.xml; an existing file is never overwritten). */
  readonly junit?: string;
  /** One line per finished case on stderr. */
  readonly progress: boolean;
  /** Typecheck TypeScript model files before loading them (default true). */
  readonly typecheck?: boolean;
}

/** The verdict of one case against its expectation. */
export type Verdict = 'ok' | 'failed' | 'incomplete' | 'error' | 'skipped';

/** One property's line of a case (a JUnit test case). */
export interface PropertyOutcome {
  readonly property: string;
  readonly requirement: string | null;
  readonly verdict: Verdict;
  readonly message?: string;
  readonly trace?: string;
}

/** What one case showed. */
export interface CaseOutcome {
  readonly verdict: Verdict;
  /** The result in a few words, for the table. */
  readonly result: string;
  /** Why the expectation is not met (for a verdict other than ok and skipped). */
  readonly why?: string;
  readonly exit: number;
  readonly elapsedMs: number;
  readonly properties: readonly PropertyOutcome[];
  readonly traces: readonly string[];
}

const EXIT: Record<Verdict, number> = { ok: 0, skipped: 0, failed: 1, incomplete: 3, error: 2 };

/** The engine as the table shows it, with the options that change its guarantee. */
export function engineLabel(e: EngineSpec): string {
  const opts: string[] = [];
  if (e.engine === 'explicit') {
    if (e.strategy === 'dfs') opts.push('dfs');
    if (e.depth !== undefined) opts.push(`depth=${e.depth}`);
    if (e.symmetry === false) opts.push('no-symmetry');
  }
  if (e.engine === 'random') {
    if (e.seed !== undefined) opts.push(`seed=${e.seed}`);
    if (e.runs !== undefined) opts.push(`runs=${e.runs}`);
    if (e.depth !== undefined) opts.push(`depth=${e.depth}`);
  }
  if (e.engine === 'smt' && e.depth !== undefined) opts.push(`depth=${e.depth}`);
  if (e.engine === 'prove') {
    if (e.unbounded) opts.push('unbounded');
    if (e.maxK !== undefined) opts.push(`max-k=${e.maxK}`);
  }
  return [e.engine, ...opts].join(' ');
}

const isReal = (v: { kind: string }) => v.kind !== 'cover';
const complete = (g: string) => g === 'exhaustive' || g === 'proved';

/** The properties a case checks, and those its engine leaves out (liveness outside explicit). */
function propertiesOf(c: PlannedCase, all: readonly Property[]): { checked: Property[]; unchecked: Property[]; deadlock: boolean } {
  const e = c.engine;
  const engineChecks = (p: Property) =>
    e.engine === 'explicit' ? true : e.engine === 'prove' ? p.kind === 'invariant' || p.kind === 'step' : p.kind !== 'liveness';
  const deadlockOn = e.engine === 'explicit' || e.engine === 'random' ? (e.deadlock ?? true) : false;
  if (c.expect.kind === 'violated') {
    const want = c.expect.property;
    if (want === DEADLOCK) return { checked: [], unchecked: [], deadlock: true };
    if (want !== null) return { checked: all.filter((p) => p.name === want), unchecked: [], deadlock: false };
    // Any property but covers: a variant is caught by a broken property, not by a state it never reaches.
    const candidates = all.filter((p) => p.kind !== 'cover');
    return { checked: candidates.filter(engineChecks), unchecked: candidates.filter((p) => !engineChecks(p)), deadlock: deadlockOn };
  }
  const checked = e.engine === 'prove' ? safetyProperties(all) : all.filter(engineChecks);
  return { checked, unchecked: all.filter((p) => !checked.includes(p)), deadlock: deadlockOn };
}

/** Runs one case and judges it against its expectation. */
async function runCase(c: PlannedCase, outDir: string, smt: () => Promise<typeof import('../checker/smt/index.js')>): Promise<CaseOutcome> {
  const start = Date.now();
  const done = (o: Omit<CaseOutcome, 'elapsedMs' | 'exit'> & { exit?: number }): CaseOutcome => ({
    ...o,
    exit: o.exit ?? EXIT[o.verdict],
    elapsedMs: Date.now() - start,
  });
  if (c.skip) return done({ verdict: 'skipped', result: `skipped: ${c.skip}`, properties: [], traces: [] });
  if (c.unmet) {
    return done({
      verdict: 'failed',
      result: 'never checked: applies to no size',
      why: c.unmet,
      properties: [
        { property: c.expect.kind === 'violated' ? (c.expect.property ?? 'any property') : 'all', requirement: null, verdict: 'failed', message: c.unmet },
      ],
      traces: [],
    });
  }
  let model: Model;
  let all: readonly Property[];
  try {
    // A variant's own params apply beneath the values the size gave (its defaults are not given).
    model = buildModel(c.entry.pkg.protocol, { variant: c.variant, params: c.variant === null ? c.size.params : c.size.given });
    all = c.entry.pkg.properties.build(model);
  } catch (e) {
    if (!(e instanceof McError)) throw e;
    return modelError(done, e.code, e.message);
  }
  const { checked, unchecked, deadlock } = propertiesOf(c, all);
  const spec = c.entry.pkg.protocol.variants.find((v) => v.name === c.variant);
  const note = spec ? `variant ${spec.name}: ${spec.summary} (${spec.cites})` : undefined;
  const traces: string[] = [];
  const save = (t: Trace | null): string | undefined => {
    if (!t) return undefined;
    const p = saveTrace(outDir, model, { ...t, ...(note && !t.note ? { note } : {}), ...(c.entry.file ? { modelFile: c.entry.file } : {}) });
    traces.push(p);
    return p;
  };
  const e = c.engine;
  if (e.engine === 'prove') {
    const z = await smt();
    const hints = c.entry.pkg.properties.proofHints?.(model);
    const common = {
      ...(hints ? { strengthening: hints.strengthening } : {}),
      ...(e.timeLimit !== undefined ? { timeLimitSec: e.timeLimit } : {}),
      ...(e.solver !== undefined ? { solver: e.solver } : {}),
    };
    // As `prove`: a protocol without proof hints gets an inferred invariant unless maxK asks for k-induction.
    const r: ProofResult = e.unbounded
      ? await z.proveUnbounded(model, checked, {
          ...common,
          ...(hints?.initCondition ? { initCondition: hints.initCondition } : {}),
          ...(hints?.fixedIndexes ? { fixedIndexes: hints.fixedIndexes } : {}),
        })
      : !hints && e.maxK === undefined
        ? await z.proveInfer(model, checked, common)
        : await z.prove(model, checked, { ...common, ...(e.maxK !== undefined ? { maxK: e.maxK } : {}) });
    return judgeProof(c, r, checked, done, save, traces);
  }
  const engine = await loadEngine(e.engine);
  const job: CheckJob = {
    model,
    properties: checked,
    deadlock,
    ...(e.strategy !== undefined ? { strategy: e.strategy } : {}),
    symmetry: e.symmetry ?? true,
    limits: {
      ...(e.maxStates !== undefined ? { maxStates: e.maxStates } : {}),
      ...(e.timeLimit !== undefined ? { timeLimitSec: e.timeLimit } : {}),
      ...(e.depth !== undefined ? { depth: e.depth } : {}),
    },
    ...(e.seed !== undefined ? { seed: e.seed } : {}),
    ...(e.runs !== undefined ? { runs: e.runs } : {}),
    ...(e.solver !== undefined ? { solver: e.solver } : {}),
  };
  const r = await engine.run(job);
  return judgeCheck(c, r, checked, unchecked, done, save, traces);
}

type Done = (o: Omit<CaseOutcome, 'elapsedMs' | 'exit'> & { exit?: number }) => CaseOutcome;

function modelError(done: Done, code: string, message: string, trace?: string): CaseOutcome {
  return done({
    verdict: 'error',
    result: `error ${code}: ${printable(message)}`,
    why: `model error ${code}: ${printable(message)}`,
    exit: exitStatusOf(code),
    properties: [{ property: 'model', requirement: null, verdict: 'error', message: `${code}: ${message}`, ...(trace ? { trace } : {}) }],
    traces: trace ? [trace] : [],
  });
}

const guaranteeText = (r: { guarantee: string; bound?: number; stats: CheckResult['stats'] }): string => {
  const s = r.stats;
  const figures = s.engine === 'explicit' ? `${s.states} states` : s.engine === 'random' ? `${s.runs} runs, seed ${s.seed}` : `${s.queries} solver queries`;
  return `${r.guarantee}${r.bound !== undefined ? ` to depth ${r.bound}` : ''}, ${figures}`;
};

/** Judges an engine result (explicit, random, smt). */
function judgeCheck(
  c: PlannedCase,
  r: CheckResult,
  checked: readonly Property[],
  unchecked: readonly Property[],
  done: Done,
  save: (t: Trace | null) => string | undefined,
  traces: string[],
): CaseOutcome {
  const skippedByEngine = unchecked.map((p) => ({
    property: p.name,
    requirement: p.requirement,
    verdict: 'skipped' as const,
    message: `the ${c.engine.engine} engine does not check ${p.kind} properties`,
  }));
  if (r.status === 'error') {
    const t = save(r.trace);
    return modelError(done, r.code, r.message, t);
  }
  if (r.status === 'incomplete') {
    const why = `incomplete: ${r.reason}`;
    const props = c.expect.kind === 'holds' ? checked : [{ name: c.expect.property ?? 'any property', requirement: null }];
    return done({
      verdict: 'incomplete',
      result: why,
      why: `${why}; the case needs a complete search (raise the limit)`,
      properties: [...props.map((p) => ({ property: p.name, requirement: p.requirement, verdict: 'incomplete' as const, message: why })), ...skippedByEngine],
      traces,
    });
  }
  const real = r.status === 'violated' ? r.violations.filter(isReal) : [];
  const unreached = r.status === 'violated' ? r.violations.filter((v) => !isReal(v)) : [];
  if (c.expect.kind === 'holds') {
    if (real.length) {
      const outs = real.map((v) => ({ v, trace: save(v.trace) }));
      const first = outs[0] as (typeof outs)[number];
      return done({
        verdict: 'failed',
        result: `violated ${first.v.property}${first.v.trace ? ` after ${first.v.trace.steps.length - 1} steps` : ''}`,
        why: `the correct protocol violates ${first.v.property} [${first.v.requirement}]: ${first.v.message}${first.trace ? ` (trace ${first.trace})` : ''}`,
        properties: [
          ...outs.map(({ v, trace }) => ({
            property: v.property,
            requirement: v.requirement,
            verdict: 'failed' as const,
            message: v.message,
            ...(trace ? { trace } : {}),
          })),
          ...checked
            .filter((p) => !real.some((v) => v.property === p.name))
            .map((p) => ({
              property: p.name,
              requirement: p.requirement,
              verdict: 'skipped' as const,
              message: 'not decided: the search stopped at the first violation',
            })),
          ...skippedByEngine,
        ],
        traces,
      });
    }
    const holds = `holds (${guaranteeText(r)})`;
    return done({
      verdict: unreached.length ? 'failed' : 'ok',
      result: unreached.length ? `cover never reached: ${unreached.map((v) => v.property).join(', ')}` : holds,
      ...(unreached.length ? { why: `${unreached[0]?.message}` } : {}),
      properties: [
        ...checked.map((p) => {
          const u = unreached.find((v) => v.property === p.name);
          return u
            ? { property: p.name, requirement: p.requirement, verdict: 'failed' as const, message: u.message }
            : { property: p.name, requirement: p.requirement, verdict: 'ok' as const, message: holds };
        }),
        ...skippedByEngine,
      ],
      traces,
    });
  }
  // A variant: it must be violated (by the property named, if one is).
  if (real.length) {
    const v = real[0] as (typeof real)[number];
    const trace = save(v.trace);
    return done({
      verdict: 'ok',
      result: `violated ${v.property}${v.trace ? ` after ${v.trace.steps.length - 1} steps` : ''}`,
      properties: [{ property: v.property, requirement: v.requirement, verdict: 'ok', message: v.message, ...(trace ? { trace } : {}) }],
      traces,
    });
  }
  const g = r.status === 'ok' || r.status === 'violated' ? r.guarantee : 'sampled';
  const what = c.expect.property ?? 'any property';
  if (complete(g)) {
    const why = `the variant passes (${guaranteeText(r as { guarantee: string; stats: CheckResult['stats'] })}): no violation of ${what}; the property set has a hole, or the variant does not break what it claims`;
    return done({
      verdict: 'failed',
      result: `not violated (${g})`,
      why,
      properties: [{ property: what, requirement: null, verdict: 'failed', message: why }, ...skippedByEngine],
      traces,
    });
  }
  const why = `no violation of ${what} found (${guaranteeText(r as { guarantee: string; stats: CheckResult['stats'] })}), which does not show the variant passes: raise the depth or runs, or use the explicit engine`;
  return done({
    verdict: 'incomplete',
    result: `not found (${g})`,
    why,
    properties: [{ property: what, requirement: null, verdict: 'incomplete', message: why }, ...skippedByEngine],
    traces,
  });
}

/** Judges a proof result (k-induction or the unbounded proof). */
function judgeProof(
  c: PlannedCase,
  r: ProofResult,
  checked: readonly Property[],
  done: Done,
  save: (t: Trace | null) => string | undefined,
  traces: string[],
): CaseOutcome {
  const holds = c.expect.kind === 'holds';
  const what = c.expect.kind === 'violated' ? (c.expect.property ?? 'any property') : null;
  const each = (verdict: Verdict, message: string, trace?: string): PropertyOutcome[] =>
    holds
      ? checked.map((p) => ({ property: p.name, requirement: p.requirement, verdict, message, ...(trace ? { trace } : {}) }))
      : [{ property: what as string, requirement: null, verdict, message, ...(trace ? { trace } : {}) }];
  switch (r.status) {
    case 'proved': {
      const text = `proved${r.k !== undefined ? ` (k=${r.k})` : ''}${r.method === 'inductive-invariant' ? ' for every size' : ''}`;
      if (holds) return done({ verdict: 'ok', result: text, properties: each('ok', text), traces });
      const why = `the variant is ${text}: no violation of ${what}; the property set has a hole, or the variant does not break what it claims`;
      return done({ verdict: 'failed', result: `not violated (${text})`, why, properties: each('failed', why), traces });
    }
    case 'violated': {
      const v = r.violation;
      const trace = save(v.trace);
      const result = `violated ${v.property}${v.trace ? ` after ${v.trace.steps.length - 1} steps` : ''}`;
      if (!holds) {
        return done({
          verdict: 'ok',
          result,
          properties: [{ property: v.property, requirement: v.requirement, verdict: 'ok', message: v.message, ...(trace ? { trace } : {}) }],
          traces,
        });
      }
      return done({
        verdict: 'failed',
        result,
        why: `the correct protocol violates ${v.property} [${v.requirement}]: ${v.message}${trace ? ` (trace ${trace})` : ''}`,
        properties: checked.map((p) =>
          p.name === v.property
            ? { property: p.name, requirement: p.requirement, verdict: 'failed' as const, message: v.message, ...(trace ? { trace } : {}) }
            : { property: p.name, requirement: p.requirement, verdict: 'skipped' as const, message: 'not decided: the proof stopped at the first violation' },
        ),
        traces,
      });
    }
    case 'cti': {
      const trace = save(r.trace ?? null);
      const why = holds
        ? `not proved: ${r.property} [${r.requirement}] is not inductive${r.k !== undefined ? ` up to k=${r.k}` : ''} (a counterexample to induction${trace ? `, ${trace}` : ''}; its states need not be reachable); a larger maxK or proof hints (strengthening invariants) may prove it`
        : `neither a violation within k${r.k !== undefined ? `=${r.k}` : ''} steps nor a proof: raise maxK, or use the explicit engine for variants`;
      return done({ verdict: 'incomplete', result: `not proved (${r.property} not inductive)`, why, properties: each('incomplete', why, trace), traces });
    }
    case 'incomplete': {
      const why = `incomplete: ${r.reason}`;
      return done({ verdict: 'incomplete', result: why, why, properties: each('incomplete', why), traces });
    }
    case 'error':
      return modelError(done, r.code, r.message, save(r.trace));
  }
}

/** Replays one saved counterexample of a corpus: it must still replay and violate its property. */
function replayCorpusTrace(t: PlannedCorpusTrace): CaseOutcome {
  const start = Date.now();
  const out = (verdict: Verdict, result: string, property: string, requirement: string | null, why?: string, exit?: number): CaseOutcome => ({
    verdict,
    result,
    ...(why ? { why } : {}),
    exit: exit ?? EXIT[verdict],
    elapsedMs: Date.now() - start,
    properties: [{ property, requirement, verdict, message: why ?? result }],
    traces: [],
  });
  const pkg = t.entry.pkg;
  let header: ReturnType<typeof parseItf>['header'];
  let doc: ReturnType<typeof parseItf>['doc'];
  try {
    ({ header, doc } = parseItf(readFileSync(t.file, 'utf8')));
  } catch (e) {
    if (!(e instanceof McError)) throw e;
    return out('error', `error ${e.code}`, 'trace', null, `${e.code}: ${e.message}`, exitStatusOf(e.code));
  }
  const property = header.property ?? 'any property';
  if (header.protocol !== pkg.protocol.name) {
    return out('failed', 'another protocol', property, header.requirement, `the trace is of ${header.protocol}, not ${pkg.protocol.name}`);
  }
  let model: Model;
  let trace: Trace;
  let props: Property[];
  try {
    model = buildModel(pkg.protocol, { variant: header.variant, params: header.params });
    const hint = pkg.properties.proofHints?.(model).strengthening.find((p) => p.name === header.property);
    props = [...pkg.properties.build(model), ...(hint ? [hint] : [])];
    trace = itfToTrace(header, doc, model);
  } catch (e) {
    if (!(e instanceof McError)) throw e;
    return out('failed', 'no longer fits the model', property, header.requirement, `the trace no longer fits the model: ${e.message}`);
  }
  const live = props.find((p) => p.kind === 'liveness' && p.name === header.property);
  if (trace.loop !== undefined && live?.kind === 'liveness') {
    const lasso = checkLasso(model, trace, live);
    return lasso.ok
      ? out('ok', `violates ${live.name} (lasso)`, live.name, live.requirement)
      : out('failed', 'lasso no longer holds', live.name, live.requirement, `the lasso no longer replays: ${lasso.message}`);
  }
  const rep = replayTrace(model, props, trace);
  if (rep.mismatch) return out('failed', 'no longer replays', property, header.requirement, `step ${rep.mismatch.step}: ${rep.mismatch.message}`);
  if (rep.modelError) return out('failed', 'model error on replay', property, header.requirement, `step ${rep.modelError.step}: ${rep.modelError.message}`);
  if (!rep.violation) return out('failed', 'no longer violates', property, header.requirement, `the trace replays but no longer violates ${property}`);
  if (header.property !== null && rep.violation.property !== header.property) {
    return out(
      'failed',
      `violates ${rep.violation.property} instead`,
      property,
      header.requirement,
      `the trace recorded ${header.property}; on replay ${rep.violation.property} is violated first (step ${rep.violation.step})`,
    );
  }
  return out('ok', `violates ${rep.violation.property} at step ${rep.violation.step}`, rep.violation.property, rep.violation.requirement);
}

/** A path that does not exist yet: `junit.xml`, else `junit.1.xml`, ... */
function freshFile(path: string): string {
  const m = /^(.*?)(\.[^./]*)?$/.exec(path) as RegExpExecArray;
  let p = path;
  for (let i = 1; existsSync(p); i++) p = `${m[1]}.${i}${m[2] ?? ''}`;
  return p;
}

/** Pads a table's columns; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

const VERDICT_TEXT: Record<Verdict, string> = { ok: 'ok', failed: 'FAILED', incomplete: 'INCOMPLETE', error: 'ERROR', skipped: 'skipped' };

/** Runs `ci` and returns the exit status. */
export async function runCi(opts: CiOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const configPath = resolve(opts.config);
  const plan = await planProject(configPath, { typecheck: opts.typecheck ?? true, ...(opts.out !== undefined ? { out: opts.out } : {}) });
  let smtModule: typeof import('../checker/smt/index.js') | null = null;
  const smt = async () => {
    smtModule ??= await import('../checker/smt/index.js');
    return smtModule;
  };
  const total = plan.cases.length + plan.corpus.length;
  const shownPath = (p: string) => {
    const r = relative(process.cwd(), p);
    return r && !r.startsWith('..') ? r : p;
  };
  const results: { c: PlannedCase | PlannedCorpusTrace; o: CaseOutcome }[] = [];
  for (const n of plan.notes) err(`note: ${n}`);
  try {
    for (const c of plan.cases) {
      const o = await runCase(c, plan.out, smt);
      results.push({ c, o });
      if (opts.progress) {
        err(
          `[${results.length}/${total}] ${c.entry.pkg.protocol.name} [${c.size.label}] ${engineLabel(c.engine)} ${c.variant ?? 'correct'}: ${VERDICT_TEXT[o.verdict]} (${(o.elapsedMs / 1000).toFixed(2)} s)`,
        );
      }
    }
  } finally {
    if (smtModule) await (smtModule as typeof import('../checker/smt/index.js')).shutdownSmt();
  }
  for (const t of plan.corpus) {
    const o = replayCorpusTrace(t);
    results.push({ c: t, o });
    if (opts.progress) err(`[${results.length}/${total}] ${t.entry.pkg.protocol.name} corpus ${shownPath(t.file)}: ${VERDICT_TEXT[o.verdict]}`);
  }

  // The summary table.
  const rows: string[][] = [['model', 'size', 'engine', 'case', 'expected', 'result', 'time', 'verdict']];
  for (const { c, o } of results) {
    const time = `${(o.elapsedMs / 1000).toFixed(2)} s`;
    if ('file' in c) {
      rows.push([c.entry.pkg.protocol.name, '-', 'replay', `corpus/${basename(c.file)}`, 'violated', o.result, time, VERDICT_TEXT[o.verdict]]);
      continue;
    }
    const expected = c.expect.kind === 'holds' ? 'holds' : `violated${c.expect.property ? ` (${c.expect.property})` : ''}`;
    rows.push([c.entry.pkg.protocol.name, c.size.label, engineLabel(c.engine), c.variant ?? 'correct', expected, o.result, time, VERDICT_TEXT[o.verdict]]);
  }
  for (const line of table(rows)) out(line);
  const count = (v: Verdict) => results.filter((x) => x.o.verdict === v).length;
  out('');
  for (const { c, o } of results) {
    if (!o.why || o.verdict === 'ok' || o.verdict === 'skipped') continue;
    const name =
      'file' in c
        ? `${c.entry.pkg.protocol.name} corpus ${shownPath(c.file)}`
        : `${c.entry.pkg.protocol.name} [${c.size.label}] ${engineLabel(c.engine)} ${c.variant ?? 'correct'}`;
    out(`${VERDICT_TEXT[o.verdict]} ${name}: ${o.why}`);
  }

  // JUnit: one suite per (model entry, size, engine), one test case per (model, size, variant, property).
  const suites = new Map<string, { suite: JunitSuite; cases: JunitCase[]; timeSec: number }>();
  for (const { c, o } of results) {
    const proto = c.entry.pkg.protocol.name;
    const key = 'file' in c ? `${proto} corpus` : `${proto} [${c.size.label}] ${engineLabel(c.engine)}`;
    let s = suites.get(key);
    if (!s) {
      const props: [string, string][] = [['model', c.modelName]];
      if (!('file' in c)) {
        props.push(['engine', engineLabel(c.engine)]);
        for (const [k, v] of Object.entries(c.size.params)) props.push([`param.${k}`, String(v)]);
      }
      const cases: JunitCase[] = [];
      s = { suite: { name: key, properties: props, cases, timeSec: 0 }, cases, timeSec: 0 };
      suites.set(key, s);
    }
    const classname = 'file' in c ? `${proto}.corpus` : `${proto}.${c.variant ?? 'correct'}`;
    const where = 'file' in c ? basename(c.file) : `[${c.size.label}] ${engineLabel(c.engine)}`;
    const props: readonly PropertyOutcome[] = o.properties.length
      ? o.properties
      : [{ property: 'file' in c ? 'trace' : (c.variant ?? 'correct'), requirement: null, verdict: o.verdict, message: o.result }];
    for (const p of props) {
      const name = `${p.property}${p.requirement ? ` [${p.requirement}]` : ''} ${where}`;
      const message = p.message ?? o.result;
      // A limit that stopped a case is an error (undecided), not a failed expectation.
      const outcome: JunitOutcome =
        p.verdict === 'failed'
          ? { kind: 'failed', type: 'expectation', message }
          : p.verdict === 'incomplete'
            ? { kind: 'error', type: 'incomplete', message }
            : p.verdict === 'error'
              ? { kind: 'error', type: 'model-error', message }
              : p.verdict === 'skipped'
                ? { kind: 'skipped', message }
                : { kind: 'passed' };
      s.cases.push({
        classname,
        name,
        timeSec: o.elapsedMs / 1000 / props.length,
        outcome,
        ...(p.trace ? { output: `trace: ${p.trace}\nreplay: mirrorcheck replay ${p.trace}` } : {}),
      });
      s.timeSec += o.elapsedMs / 1000 / props.length;
    }
  }
  mkdirSync(plan.out, { recursive: true });
  const junitPath = freshFile(opts.junit !== undefined ? resolve(opts.junit) : join(plan.out, 'junit.xml'));
  mkdirSync(dirname(junitPath), { recursive: true });
  writeFileSync(junitPath, junitXml([...suites.values()].map((s) => ({ ...s.suite, timeSec: s.timeSec }))), { flag: 'wx' });

  const traces = results.reduce((a, r) => a + r.o.traces.length, 0);
  out(
    `${results.length} cases: ${count('ok')} ok, ${count('failed')} failed, ${count('incomplete')} incomplete, ${count('error')} errors, ${count('skipped')} skipped. JUnit: ${shownPath(junitPath)}; ${traces} traces in ${shownPath(plan.out)}`,
  );
  return combineExit(results.map((r) => r.o.exit));
}
