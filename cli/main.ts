#!/usr/bin/env node
/**
 * The mirrorcheck command line. Why this module exists: it parses arguments (yargs) and maps every
 * outcome to an exit code: 0 ok, 1 violation, 2 bad usage or input (one line with an error code,
 * never a stack trace), 3 incomplete, 4 internal error.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { McError } from '../model/lang/errors.js';
import { exitStatusOf, printable } from './errors.js';
import { runCheck } from './checkCommand.js';
import { runExport } from './exportCommand.js';
import { runProve } from './proveCommand.js';
import { ENGINE_NAMES, type EngineName, SOLVER_NAMES, type SolverName } from './engines.js';
import { runList } from './listCommand.js';
import { runReplay } from './replayCommand.js';
import { runCi } from './ciCommand.js';
import { runInit } from './initCommand.js';
import {
  DEFAULT_BMC_DEPTH,
  DEFAULT_DEPTH,
  DEFAULT_MAX_K,
  DEFAULT_RUNS,
  EXIT_STATUSES,
  checkEngineOptions,
  checkSwitches,
  choiceOption,
  errorCodeList,
  flagsWritten,
  numberOption,
  stringOption,
} from './options.js';

/** How every command describes its protocol argument. */
const PROTOCOL_ARG = 'a built-in protocol (see list) or a model file (.ts, .mts, .js, .mjs)';

/** The arguments as written, for the checks the parser cannot make (repeated switches, flags given). */
const RAW = hideBin(process.argv);

/** The switches of every command: each may be written once, as --x or --no-x. */
const SWITCHES = ['progress', 'deadlock', 'continue', 'symmetry', 'typecheck', 'unbounded', 'infer', 'full'] as const;

const PARAM_OPTION = {
  type: 'string',
  array: true,
  default: [] as string[],
  describe: 'set a parameter, name=value (repeatable; each name once; see list)',
} as const;
const VARIANT_OPTION = { type: 'string', describe: 'check a named bug variant instead of the correct protocol (see list)' } as const;

const out = (s: string) => process.stdout.write(`${s}\n`);
// A reader that stops early (`| head`) closes the pipe: that is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const err = (s: string) => process.stderr.write(`${s}\n`);

function fail(code: string, message: string, exit: number): void {
  err(`mirrorcheck: error ${code}: ${printable(message.split('\n')[0] ?? '')}`);
  process.exitCode = exit;
}

async function guarded(fn: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (e) {
    if (e instanceof McError) fail(e.code, e.message, exitStatusOf(e.code));
    else fail('MC040', `internal error: ${(e as Error)?.message ?? String(e)}`, 4);
  }
}

try {
  await yargs(RAW)
    .scriptName('mirrorcheck')
    .usage('$0 <command> [options]\n\nModel checker for device page-table mirroring and DMA invalidation protocols.')
    .command(
      'list [protocol]',
      'list the built-in protocols (or the one named, or a model file), their parameters, variants and properties',
      (y) =>
        y
          .positional('protocol', { type: 'string', describe: PROTOCOL_ARG })
          .option('format', choiceOption('format', ['text', 'json'] as const, 'output format', 'text'))
          .example('$0 list', 'every built-in protocol with its parameters, variants and properties')
          .example('$0 list odp-mirror --format json', 'one protocol as JSON')
          .epilogue(EXIT_STATUSES),
      (a) => guarded(() => runList(a.protocol, a.format as 'text' | 'json', out)),
    )
    .command(
      'check [protocol]',
      'check a protocol (all built-in protocols when none is named)',
      (y) =>
        y
          .positional('protocol', { type: 'string', describe: PROTOCOL_ARG })
          .option('variant', VARIANT_OPTION)
          .option('param', PARAM_OPTION)
          .option(
            'engine',
            choiceOption('engine', ENGINE_NAMES, 'explicit: every reachable state; random: sampled runs; smt: bounded model checking with z3', 'explicit'),
          )
          .option(
            'strategy',
            choiceOption('strategy', ['bfs', 'dfs'] as const, 'explicit engine: breadth-first (shortest traces) or depth-first search', 'bfs'),
          )
          .option('depth', numberOption('depth', 'explore at most this many steps', `explicit: none; random: ${DEFAULT_DEPTH}; smt: ${DEFAULT_BMC_DEPTH}`))
          .option('max-states', numberOption('max-states', 'explicit engine: stop after this many distinct states (exit 3)', 'none'))
          .option('time-limit', numberOption('time-limit', 'stop after this many seconds (exit 3)', 'none'))
          .option('seed', numberOption('seed', 'random engine: the seed (printed with every result, so a run can be repeated)', 'a fresh one each run'))
          .option('runs', numberOption('runs', 'random engine: how many runs', String(DEFAULT_RUNS)))
          .option('out', stringOption('out', 'directory for counterexample traces (files in it are never overwritten)', './counterexamples-out'))
          .option(
            'format',
            choiceOption(
              'format',
              ['text', 'json', 'json-array', 'junit'] as const,
              'output format: text, one JSON object a line, a JSON array, or a JUnit report',
              'text',
            ),
          )
          .option('progress', { type: 'boolean', default: true, describe: 'progress lines on stderr (--no-progress to disable)' })
          .option('property', { type: 'string', array: true, default: [] as string[], describe: 'check only this property (repeatable; see list)' })
          .option('deadlock', { type: 'boolean', default: true, describe: 'report deadlocks (--no-deadlock to disable)' })
          .option('continue', {
            type: 'boolean',
            default: false,
            describe:
              'after a violation, check again without the violated properties, until none is violated (the first violation of every property; by default the check stops at the first)',
          })
          .option('symmetry', {
            type: 'boolean',
            default: true,
            describe: 'explicit engine: symmetry reduction over symmetric index types (--no-symmetry to disable)',
          })
          .option('solver', choiceOption('solver', SOLVER_NAMES, 'smt engine: the wasm build of z3, or a native z3 on the PATH', 'wasm'))
          .option('typecheck', { type: 'boolean', default: true, describe: 'typecheck a TypeScript model file before loading it (--no-typecheck to skip)' })
          .check((a) => {
            checkSwitches(RAW, SWITCHES);
            checkEngineOptions(RAW, a.engine as string);
            return true;
          })
          .example('$0 check', 'every built-in protocol at its default size (the main CI job)')
          .example('$0 check fence-migrate --variant fence-without-drain --param pages=3', 'a bug variant at a larger size; the trace is saved for replay')
          .epilogue(EXIT_STATUSES),
      (a) =>
        guarded(() =>
          runCheck(
            {
              ...(a.protocol !== undefined ? { protocol: a.protocol } : {}),
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              engine: a.engine as EngineName,
              strategy: a.strategy as 'bfs' | 'dfs',
              ...(a.depth !== undefined ? { depth: a.depth as number } : {}),
              ...(a['max-states'] !== undefined ? { maxStates: a['max-states'] as number } : {}),
              ...(a['time-limit'] !== undefined ? { timeLimit: a['time-limit'] as number } : {}),
              ...(a.seed !== undefined ? { seed: a.seed as number } : {}),
              ...(a.runs !== undefined ? { runs: a.runs as number } : {}),
              out: a.out as string,
              format: a.format as 'text' | 'json' | 'json-array' | 'junit',
              progress: a.progress,
              symmetry: a.symmetry,
              only: a.property.map(String),
              deadlock: a.deadlock,
              continue: a.continue,
              solver: a.solver as SolverName,
              typecheck: a.typecheck,
            },
            out,
            err,
          ),
        ),
    )
    .command(
      'replay <trace>',
      're-execute a saved trace on the current model (or on the simulated hardware) and print it',
      (y) =>
        y
          .positional('trace', { type: 'string', demandOption: true, describe: 'a trace file (ITF JSON), or - to read one from standard input' })
          .option(
            'on',
            choiceOption('on', ['model', 'harness'] as const, "model: the protocol's rules; harness: the reference driver on the simulated hardware", 'model'),
          )
          .option(
            'render',
            choiceOption('render', ['text', 'mermaid', 'html'] as const, 'replay on the model: text, a Mermaid sequence diagram, or an HTML page', 'text'),
          )
          .option('full', { type: 'boolean', default: false, describe: 'print every field of every state, not only what changed' })
          .option('model', stringOption('model', 'the model file to replay against, when the one the trace names has moved'))
          .check((a) => {
            checkSwitches(RAW, SWITCHES);
            const render = flagsWritten(RAW).find((f) => f.name === 'render');
            if (a.on === 'harness' && render)
              throw new McError('MC030', `${render.text} does not apply to replay --on harness (it prints what the hardware did, as text)`);
            return true;
          })
          .example('$0 replay counterexamples-out/fence-migrate.fence-without-drain.fence-complete.explicit.itf.json', 'the trace, step by step')
          .example('$0 replay trace.itf.json --on harness', 'the same steps on the reference driver: what goes wrong on the hardware')
          .epilogue(EXIT_STATUSES),
      // yargs hands a lone `-` (standard input) to a string positional as ''.
      (a) =>
        guarded(() =>
          runReplay(
            {
              file: a.trace === '' && RAW.includes('-') ? '-' : a.trace,
              on: a.on as 'model' | 'harness',
              render: a.render as 'text' | 'mermaid' | 'html',
              full: a.full,
              ...(a.model !== undefined ? { model: a.model as string } : {}),
            },
            out,
          ),
        ),
    )
    .command(
      'prove [protocol]',
      'prove the safety properties: k-induction with the proof hints, --infer (an inferred invariant) at the given sizes, or --unbounded for every size (z3); every built-in protocol when none is named',
      (y) =>
        y
          .positional('protocol', { type: 'string', describe: PROTOCOL_ARG })
          .option('variant', VARIANT_OPTION)
          .option('param', PARAM_OPTION)
          .option('max-k', numberOption('max-k', 'largest k tried by k-induction', String(DEFAULT_MAX_K)))
          .option('unbounded', {
            type: 'boolean',
            default: false,
            describe: 'inductive invariants with index types as uninterpreted sorts: a proof for every size',
          })
          .option('time-limit', numberOption('time-limit', 'stop after this many seconds (exit 3)', 'none'))
          .option('out', stringOption('out', 'directory for counterexample traces (files in it are never overwritten)', './counterexamples-out'))
          .option('format', choiceOption('format', ['text', 'json', 'json-array', 'junit'] as const, 'output format', 'text'))
          .option('solver', choiceOption('solver', SOLVER_NAMES, 'the wasm build of z3, or a native z3 on the PATH', 'wasm'))
          .option('infer', {
            type: 'boolean',
            default: false,
            describe: 'infer the invariant (no hints needed; the default for a protocol without proof hints)',
          })
          .option('save-hints', stringOption('save-hints', 'with --infer: write the inferred invariant as a hints module to this file (never overwritten)'))
          .option('progress', { type: 'boolean', default: true, describe: 'progress lines on stderr (--no-progress to disable)' })
          .check(() => {
            checkSwitches(RAW, SWITCHES);
            return true;
          })
          .example('$0 prove fence-migrate', 'k-induction at the default size')
          .example('$0 prove odp-mirror --unbounded', 'a proof for every number of pages, frames and slots')
          .epilogue(EXIT_STATUSES),
      (a) =>
        guarded(() =>
          runProve(
            {
              ...(a.protocol !== undefined ? { protocol: a.protocol } : {}),
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              ...(a['max-k'] !== undefined ? { maxK: a['max-k'] as number } : {}),
              unbounded: a.unbounded,
              ...(a['time-limit'] !== undefined ? { timeLimit: a['time-limit'] as number } : {}),
              out: a.out as string,
              format: a.format as 'text' | 'json' | 'json-array' | 'junit',
              solver: a.solver as SolverName,
              infer: a.infer,
              ...(a['save-hints'] !== undefined ? { saveHints: a['save-hints'] as string } : {}),
              progress: a.progress,
            },
            out,
            err,
          ),
        ),
    )
    .command(
      'export <protocol>',
      "print a protocol in a peer checker's language (Murphi for Rumur, Promela for SPIN)",
      (y) =>
        y
          .positional('protocol', { type: 'string', demandOption: true, describe: PROTOCOL_ARG })
          .option('to', { ...choiceOption('to', ['murphi', 'promela'] as const, 'murphi (for Rumur) or promela (for SPIN)'), demandOption: true })
          .option('variant', VARIANT_OPTION)
          .option('param', PARAM_OPTION)
          .option('output', stringOption('output', 'write to this file (never overwritten) instead of stdout'))
          .option('symmetry', { type: 'boolean', default: false, describe: 'print symmetric index types as scalarsets (Murphi)' })
          .check(() => {
            checkSwitches(RAW, SWITCHES);
            return true;
          })
          .example('$0 export fence-migrate --to murphi --output fm.m && rumur fm.m -o fm.c', 'the same model for Rumur')
          .example('$0 export odp-mirror --to promela --param pages=3', 'a larger size for SPIN')
          .epilogue(EXIT_STATUSES),
      (a) =>
        guarded(() =>
          runExport(
            {
              protocol: a.protocol,
              to: a.to as 'murphi' | 'promela',
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              ...(a.output !== undefined ? { output: a.output as string } : {}),
              symmetry: a.symmetry,
            },
            out,
          ),
        ),
    )
    .command(
      'ci',
      'run every case of the project file (mirrorcheck.config.json): a summary table, JUnit, traces; exit 0 only when every expectation is met',
      (y) =>
        y
          .option('config', stringOption('config', 'the project file', 'mirrorcheck.config.json'))
          .option('out', stringOption('out', "folder for traces and the JUnit report (default: the project file's out, else mirrorcheck-out beside it)"))
          .option('junit', stringOption('junit', 'the JUnit report (default OUT/junit.xml; an existing file is never overwritten)'))
          .option('progress', { type: 'boolean', default: true, describe: 'one line per finished case on stderr' })
          .option('typecheck', { type: 'boolean', default: true, describe: 'typecheck TypeScript model files before loading them (--no-typecheck to skip)' })
          .check(() => {
            checkSwitches(RAW, SWITCHES);
            return true;
          })
          .example('$0 ci', 'the cases of ./mirrorcheck.config.json')
          .example('$0 ci --config models/mirrorcheck.config.json --junit reports/mirrorcheck.xml', 'another project file, the JUnit report where CI reads it')
          .epilogue(EXIT_STATUSES),
      (a) =>
        guarded(() =>
          runCi(
            {
              config: a.config as string,
              ...(a.out !== undefined ? { out: a.out as string } : {}),
              ...(a.junit !== undefined ? { junit: a.junit as string } : {}),
              progress: a.progress,
              typecheck: a.typecheck,
            },
            out,
            err,
          ),
        ),
    )
    .command(
      'init <dir>',
      'write a small working model package, a mirrorcheck.config.json and a package.json into a new or empty folder',
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true, describe: 'a new or empty folder' })
          .option('mirrorcheck-spec', stringOption('mirrorcheck-spec', "what the new package.json depends on for mirrorcheck (default: this tool's version)"))
          .example('$0 init my-driver-model', 'a package to edit, then: cd my-driver-model && npm install && npx mirrorcheck ci')
          .example('$0 init my-driver-model --mirrorcheck-spec file:../mirrorcheck', 'depend on a local checkout')
          .epilogue(EXIT_STATUSES),
      (a) => guarded(() => runInit({ dir: a.dir, ...(a['mirrorcheck-spec'] !== undefined ? { mirrorcheckSpec: a['mirrorcheck-spec'] as string } : {}) }, out)),
    )
    // `mirrorcheck completion >> ~/.bashrc` (or ~/.zshrc): yargs' completion script for bash and zsh.
    .completion('completion', 'print a shell completion script for bash or zsh (source it from ~/.bashrc or ~/.zshrc)')
    .demandCommand(1, 'name a command: list, check, prove, replay, export, ci, init or completion')
    .strict()
    .fail((msg, e) => {
      throw e ?? new McError('MC030', msg ?? 'bad usage');
    })
    .epilogue(`${EXIT_STATUSES}\n\n${errorCodeList()}`)
    .help()
    .parseAsync();
} catch (e) {
  if (e instanceof McError) fail(e.code, e.message, 2);
  else fail('MC030', (e as Error)?.message ?? String(e), 2);
}
