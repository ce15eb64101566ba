/**
 * `mirrorcheck prove PROTOCOL`: k-induction at the given sizes with the protocol's proof hints, with
 * `--infer` (the default for a protocol without hints) an inferred invariant at the given sizes,
 * or with `--unbounded` an inductive-invariant proof for every number of pages, frames and slots
 * (index types as uninterpreted sorts). Exit 0 proved, 1 a real violation (trace written), 3 not
 * proved (a counterexample to induction, hints that do not fit, or a limit), 2 bad input or a model
 * error, 4 the encodings disagree.
 */
import type { InferProgress, InferResult, ProofResult } from '../checker/smt/index.js';
import { McError } from '../model/lang/errors.js';
import { exitStatusOf } from './errors.js';
import type { Value } from '../model/lang/layout.js';
import { type Model, buildModel } from '../model/lang/protocol.js';
import { safetyProperties } from '../properties/property.js';
import { checkNumber, combineExit, parseParams } from './checkCommand.js';
import { type SolverName, checkSolver } from './engines.js';
import { type ResolvedPackage, resolvePackages } from './packages.js';
import { type JunitSuite, junitXml } from './junit.js';
import { checkOutputDir } from './outputPaths.js';
import { proveSuite } from './proveSuite.js';
import { JSON_SCHEMA_VERSION, paramsText } from './report.js';
import { saveTrace } from './traceFiles.js';
import type { Trace } from '../counterexamples/trace.js';

export interface ProveOptions {
  /** The protocol; every built-in protocol at its default size when absent. */
  readonly protocol?: string;
  readonly variant?: string;
  readonly params: readonly string[];
  readonly maxK?: number;
  readonly unbounded: boolean;
  readonly timeLimit?: number;
  readonly out: string;
  readonly format: 'text' | 'json' | 'json-array' | 'junit';
  /** Which z3 answers the queries (default wasm). */
  readonly solver?: SolverName;
  /** Infer the invariant instead of using the protocol's hints (the default when it has none). */
  readonly infer?: boolean;
  /** With an inferred proof: write the invariant as a hints module here (never overwritten). */
  readonly saveHints?: string;
  /** Progress lines on stderr (default true). */
  readonly progress?: boolean;
}

function exitOf(r: ProofResult): number {
  switch (r.status) {
    case 'proved':
      return 0;
    case 'violated':
      return 1;
    case 'cti':
    case 'incomplete':
      return 3;
    case 'error':
      return exitStatusOf(r.code);
  }
}

const show = (v: Value): string => JSON.stringify(v);

/** How a proof for every size reads: which index types it generalises. */
function everySize(fixed: readonly string[]): string {
  return fixed.length ? ` for every number of each index type except ${fixed.join(', ')} (kept at its built size)` : ' for every number of each index type';
}

/** One progress line of `prove --infer`. */
function inferProgressLine(p: InferProgress): string {
  const t = `${(p.elapsedMs / 1000).toFixed(1)} s`;
  switch (p.phase) {
    case 'reach':
      return p.states === 0 ? 'enumerating the reachable states' : `${p.states} reachable states (${t})`;
    case 'learn':
      return `learning: ${p.lemmas} lemmas, ${p.ctis} counterexamples to induction blocked, ${p.queries} z3 queries (${t})`;
    case 'minimize':
      return `keeping the lemmas the induction needs: ${p.queries} z3 queries (${t})`;
    case 'guard':
      return `re-proving the printed invariant (${p.conjuncts} conjuncts) by 1-induction (${t})`;
    case 'spacer':
      return `running z3's Spacer on the Horn clauses of the model (${p.reason}) (${t})`;
  }
}

/**
 * Runs `prove` and returns the exit code. Without a protocol it proves every built-in protocol at
 * its default size, one report each, and combines the exit codes as `check` does (a CI proof run).
 */
export async function runProve(opts: ProveOptions, out: (s: string) => void, err: (s: string) => void = () => {}): Promise<number> {
  checkSolver(opts.solver ?? 'wasm', 'prove');
  if (opts.infer && opts.unbounded) throw new McError('MC030', '--infer proves at the sizes built; it cannot be combined with --unbounded');
  if (opts.saveHints !== undefined && opts.unbounded)
    throw new McError('MC030', '--save-hints writes an inferred invariant; it cannot be combined with --unbounded');
  if (opts.saveHints !== undefined && opts.protocol === undefined)
    throw new McError('MC030', '--save-hints needs a protocol name (prove PROTOCOL --infer --save-hints FILE)');
  checkNumber('max-k', opts.maxK, 1);
  checkNumber('time-limit', opts.timeLimit, 0, false);
  checkOutputDir('out', opts.out);
  const params = parseParams(opts.params);
  if (opts.protocol === undefined && (opts.variant || Object.keys(params).length)) {
    throw new McError('MC030', '--variant and --param need a protocol name (prove PROTOCOL ...)');
  }
  const entries = await resolvePackages(opts.protocol);
  // Build every model first, so bad input is reported before any proof runs.
  const models = entries.map((entry) => ({ entry, model: buildModel(entry.pkg.protocol, { variant: opts.variant ?? null, params }) }));
  const smt = await import('../checker/smt/index.js');
  const codes: number[] = [];
  // With --format junit the suites are gathered and printed as one document at the end.
  const suites: JunitSuite[] | null = opts.format === 'junit' ? [] : null;
  // With --format json-array the records are gathered and printed as one array at the end.
  const records: unknown[] | null = opts.format === 'json-array' ? [] : null;
  const each: ProveOptions = records ? { ...opts, format: 'json' } : opts;
  const print = records ? (s: string) => records.push(JSON.parse(s)) : out;
  try {
    for (const { entry, model } of models) {
      try {
        codes.push(await proveOne(each, entry, model, smt, print, err, suites));
      } catch (e) {
        // One protocol's error does not hide the others' results when all are proved.
        if (!(e instanceof McError) || models.length === 1) throw e;
        if (suites) suites.push(errorSuite(model, e));
        else if (each.format === 'json') print(JSON.stringify(errorRecord(opts, model, e)));
        else out(`  ERROR ${e.code}: ${e.message}`);
        codes.push(exitStatusOf(e.code));
      }
    }
  } finally {
    await smt.shutdownSmt();
  }
  if (suites) out(junitXml(suites));
  if (records) out(JSON.stringify(records));
  return combineExit(codes);
}

async function proveOne(
  opts: ProveOptions,
  { pkg: entry, file }: ResolvedPackage,
  model: Model,
  smt: typeof import('../checker/smt/index.js'),
  out: (s: string) => void,
  err: (s: string) => void,
  suites: JunitSuite[] | null,
): Promise<number> {
  const properties = safetyProperties(entry.properties.build(model));
  const hints = entry.properties.proofHints?.(model);
  const infer = !opts.unbounded && (opts.infer === true || hints === undefined);
  if (opts.saveHints !== undefined && !infer) throw new McError('MC030', '--save-hints needs an inferred proof (--infer)');
  const tag = `prove ${model.protocol}${model.variant ? ` --variant ${model.variant}` : ''}`;
  const progress = (line: string) => {
    if (opts.progress ?? true) err(`${tag}: ${line}`);
  };
  const r: InferResult = infer
    ? await smt.proveInfer(model, properties, {
        ...(opts.timeLimit !== undefined ? { timeLimitSec: opts.timeLimit } : {}),
        ...(opts.solver !== undefined ? { solver: opts.solver } : {}),
        onProgress: (p) => progress(inferProgressLine(p)),
      })
    : opts.unbounded
      ? await smt.proveUnbounded(model, properties, {
          ...(hints ? { strengthening: hints.strengthening } : {}),
          ...(hints?.initCondition ? { initCondition: hints.initCondition } : {}),
          ...(hints?.fixedIndexes ? { fixedIndexes: hints.fixedIndexes } : {}),
          ...(opts.timeLimit !== undefined ? { timeLimitSec: opts.timeLimit } : {}),
          ...(opts.solver !== undefined ? { solver: opts.solver } : {}),
        })
      : await smt.prove(model, properties, {
          ...(opts.maxK !== undefined ? { maxK: opts.maxK } : {}),
          ...(hints ? { strengthening: hints.strengthening } : {}),
          ...(opts.timeLimit !== undefined ? { timeLimitSec: opts.timeLimit } : {}),
          ...(opts.solver !== undefined ? { solver: opts.solver } : {}),
        });
  const hintsFile =
    r.status === 'proved' && r.invariant && opts.saveHints !== undefined ? smt.saveHintsModule(opts.saveHints, model, r.invariant.conjuncts) : null;
  const withFile = (t: Trace): Trace => (file ? { ...t, modelFile: file } : t);
  const traceOf = (): string | null => {
    if (r.status === 'violated' && r.violation.trace) return saveTrace(opts.out, model, withFile(r.violation.trace));
    if (r.status === 'cti' && r.trace) return saveTrace(opts.out, model, withFile(r.trace), r.hintFailed ? 'hint' : 'cti');
    if (r.status === 'error' && r.trace) return saveTrace(opts.out, model, withFile(r.trace));
    return null;
  };
  // A trace that cannot be saved does not hide the verdict: the report is printed, then the error.
  let unsaved: McError | null = null;
  let trace: string | null = null;
  try {
    trace = traceOf();
  } catch (e) {
    if (!(e instanceof McError)) throw e;
    unsaved = e;
  }
  if (suites) suites.push(proveSuite(model, r, properties, trace));
  const code = suites ? exitOf(r) : report(opts, model, r, { trace, hintsFile, fixedIndexes: hints?.fixedIndexes ?? [] }, out);
  if (unsaved) throw unsaved;
  return code;
}

/** The JSON record of a protocol whose proof could not be run (an error the proof itself raised). */
function errorRecord(opts: ProveOptions, model: Model, e: McError) {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    protocol: model.protocol,
    variant: model.variant,
    params: model.params,
    engine: 'smt',
    solver: opts.solver ?? 'wasm',
    method: opts.unbounded ? 'inductive-invariant' : 'k-induction',
    status: 'error',
    guarantee: null,
    error: { code: e.code, message: e.message, trace: null },
  };
}

/** A JUnit suite for a protocol whose proof could not be run (an error the proof itself raised). */
function errorSuite(model: Model, e: McError): JunitSuite {
  const classname = `${model.protocol}${model.variant ? `.${model.variant}` : ''}`;
  return {
    name: `${classname} [${paramsText(model.params)}]`,
    timeSec: 0,
    properties: [],
    cases: [{ name: 'proof', classname, timeSec: 0, outcome: { kind: 'error', type: e.code, message: e.message } }],
  };
}

/** What a proof produced beside its result: the trace file, the hints module, the index types kept fixed. */
interface ProofFiles {
  readonly trace: string | null;
  readonly hintsFile: string | null;
  readonly fixedIndexes: readonly string[];
}

/** Prints one protocol's proof result and returns its exit code. */
function report(opts: ProveOptions, model: Model, r: InferResult, { trace, hintsFile, fixedIndexes }: ProofFiles, out: (s: string) => void): number {
  if (opts.format === 'json') {
    out(
      JSON.stringify({
        schemaVersion: JSON_SCHEMA_VERSION,
        protocol: model.protocol,
        variant: model.variant,
        params: model.params,
        engine: 'smt',
        solver: opts.solver ?? 'wasm',
        method: r.method,
        status: r.status,
        guarantee: r.status === 'proved' ? 'proved' : null,
        elapsedMs: r.elapsedMs,
        ...(r.status === 'proved'
          ? {
              k: r.k ?? null,
              properties: r.properties,
              notes: r.notes,
              obligations: r.obligations ?? [],
              ...(r.invariant ? { invariant: r.invariant.conjuncts.map((c) => c.source), hints: hintsFile } : {}),
            }
          : {}),
        ...(r.status === 'violated'
          ? {
              violations: [
                {
                  property: r.violation.property,
                  requirement: r.violation.requirement,
                  length: r.violation.trace ? r.violation.trace.steps.length - 1 : null,
                  trace,
                },
              ],
            }
          : {}),
        ...(r.status === 'cti'
          ? {
              property: r.property,
              requirement: r.requirement,
              message: r.message,
              k: r.k ?? null,
              hintFailed: r.hintFailed ?? false,
              trace,
              cti: r.cti ?? null,
            }
          : {}),
        ...(r.status === 'incomplete' ? { reason: r.reason } : {}),
        ...(r.status === 'error' ? { error: { code: r.code, message: r.message, trace } } : {}),
      }),
    );
    return exitOf(r);
  }
  out(
    `${model.protocol}${model.variant ? ` (variant ${model.variant})` : ''} [${paramsText(model.params)}] ${r.method}${opts.unbounded ? ' (every size)' : ''}`,
  );
  switch (r.status) {
    case 'proved':
      out(`  PROVED${r.k !== undefined ? ` with k=${r.k}` : ''}${opts.unbounded ? everySize(fixedIndexes) : ' at these sizes'}: ${r.properties.join(', ')}`);
      for (const n of r.notes) out(`  note: ${n}`);
      if (r.invariant) {
        out(`  inferred invariant (${r.invariant.conjuncts.length} conjuncts, each true in every reachable state; re-proved by 1-induction):`);
        for (const c of r.invariant.conjuncts) out(`    ${c.source}`);
      }
      if (hintsFile) out(`  hints module: ${hintsFile}   (import inferredHints from it as the protocol's proofHints)`);
      break;
    case 'violated': {
      const n = r.violation.trace ? r.violation.trace.steps.length - 1 : null;
      out(
        `  VIOLATED ${r.violation.property} [${r.violation.requirement}]${n !== null ? `: ${n} steps from the start lead to a state where it fails` : ''}: ${r.violation.message}`,
      );
      if (trace) out(`    trace: ${trace}   (mirrorcheck replay ${trace})`);
      break;
    }
    case 'cti':
      if (r.hintFailed) {
        out(`  NOT PROVED: ${r.message}`);
        if (trace) out(`    trace in which the hint ${r.property} fails (a real run; no requirement fails in it): ${trace}`);
        break;
      }
      out(`  NOT PROVED: ${r.property} [${r.requirement}] is not inductive${r.k !== undefined ? ` up to k=${r.k}` : ''}: ${r.message}`);
      if (trace) out(`    counterexample to induction (states need not be reachable): ${trace}`);
      if (r.cti) {
        out(
          `    rule ${r.cti.rule}(${Object.entries(r.cti.args)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}) with sizes ${Object.entries(r.cti.sizes)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
        for (const k of Object.keys(r.cti.before)) {
          const a = show(r.cti.before[k] as Value);
          const b = show(r.cti.after[k] as Value);
          out(a === b ? `      ${k} = ${a}` : `      ${k}: ${a} -> ${b}`);
        }
      }
      out(
        `    (a strengthening invariant that rules out the pre-state is missing: add it to the package's proof hints${opts.unbounded ? '' : ', or try a larger --max-k'})`,
      );
      break;
    case 'incomplete':
      out(`  INCOMPLETE: ${r.reason}`);
      break;
    case 'error':
      throw new McError(r.code as 'MC040', r.message);
  }
  out(`  ${(r.elapsedMs / 1000).toFixed(2)} s`);
  return exitOf(r);
}
