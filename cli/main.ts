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

/** How every command describes its protocol argument. */
const PROTOCOL_ARG = 'a built-in protocol (see list) or a model file (.ts, .mts, .js, .mjs)';

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
  await yargs(hideBin(process.argv))
    .scriptName('mirrorcheck')
    .usage('$0 <command> [options]\n\nModel checker for device page-table mirroring and DMA invalidation protocols.')
    .command(
      'list [protocol]',
      'list the built-in protocols (or the one named, or a model file), their parameters, variants and properties',
      (y) =>
        y.positional('protocol', { type: 'string', describe: PROTOCOL_ARG }).option('format', { choices: ['text', 'json'] as const, default: 'text' as const }),
      (a) => guarded(() => runList(a.protocol, a.format, out)),
    )
    .command(
      'check [protocol]',
      'check a protocol (all built-in protocols when none is named)',
      (y) =>
        y
          .positional('protocol', { type: 'string', describe: PROTOCOL_ARG })
          .option('variant', { type: 'string', describe: 'a named bug variant' })
          .option('param', { type: 'string', array: true, default: [] as string[], describe: 'parameter name=value (repeatable)' })
          .option('engine', { choices: ENGINE_NAMES, default: 'explicit' as EngineName })
          .option('strategy', { choices: ['bfs', 'dfs'] as const, default: 'bfs' as const })
          .option('depth', { type: 'number', describe: 'explore at most this many steps' })
          .option('max-states', { type: 'number', describe: 'stop after this many distinct states (exit 3)' })
          .option('time-limit', { type: 'number', describe: 'stop after this many seconds (exit 3)' })
          .option('seed', { type: 'number', describe: 'seed of the random engine' })
          .option('runs', { type: 'number', describe: 'runs of the random engine' })
          .option('out', { type: 'string', default: './counterexamples-out', describe: 'directory for counterexample traces' })
          .option('format', { choices: ['text', 'json', 'json-array', 'junit'] as const, default: 'text' as const })
          .option('progress', { type: 'boolean', default: true, describe: 'progress lines on stderr' })
          .option('property', { type: 'string', array: true, default: [] as string[], describe: 'check only this property (repeatable)' })
          .option('deadlock', { type: 'boolean', default: true, describe: 'report deadlocks (--no-deadlock to disable)' })
          .option('symmetry', { type: 'boolean', default: true, describe: 'symmetry reduction over symmetric index types (--no-symmetry to disable)' })
          .option('solver', {
            choices: SOLVER_NAMES,
            default: 'wasm' as SolverName,
            describe: 'z3 of the smt engine: the wasm build, or a native z3 on the PATH',
          })
          .option('typecheck', { type: 'boolean', default: true, describe: 'typecheck a TypeScript model file before loading it (--no-typecheck to skip)' }),
      (a) =>
        guarded(() =>
          runCheck(
            {
              ...(a.protocol !== undefined ? { protocol: a.protocol } : {}),
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              engine: a.engine,
              strategy: a.strategy,
              ...(a.depth !== undefined ? { depth: a.depth } : {}),
              ...(a['max-states'] !== undefined ? { maxStates: a['max-states'] } : {}),
              ...(a['time-limit'] !== undefined ? { timeLimit: a['time-limit'] } : {}),
              ...(a.seed !== undefined ? { seed: a.seed } : {}),
              ...(a.runs !== undefined ? { runs: a.runs } : {}),
              out: a.out,
              format: a.format,
              progress: a.progress,
              symmetry: a.symmetry,
              only: a.property.map(String),
              deadlock: a.deadlock,
              solver: a.solver,
              typecheck: a.typecheck,
            },
            out,
            err,
          ),
        ),
    )
    .command(
      'replay <trace>',
      're-execute a saved trace on the current model and print it',
      (y) =>
        y
          .positional('trace', { type: 'string', demandOption: true, describe: 'a trace file (ITF JSON), or - to read one from standard input' })
          .option('on', { choices: ['model', 'harness'] as const, default: 'model' as const })
          .option('render', { choices: ['text', 'mermaid', 'html'] as const, default: 'text' as const })
          .option('full', { type: 'boolean', default: false, describe: 'print every field of every state' })
          .option('model', { type: 'string', describe: 'the model file to replay against, when the one the trace names has moved' }),
      // yargs hands a lone `-` (standard input) to a string positional as ''.
      (a) =>
        guarded(() =>
          runReplay(
            {
              file: a.trace === '' && hideBin(process.argv).includes('-') ? '-' : a.trace,
              on: a.on,
              render: a.render,
              full: a.full,
              ...(a.model !== undefined ? { model: a.model } : {}),
            },
            out,
          ),
        ),
    )
    .command(
      'prove [protocol]',
      'prove the safety properties: k-induction at the given sizes, or --unbounded for every size (z3); every built-in protocol when none is named',
      (y) =>
        y
          .positional('protocol', { type: 'string', describe: PROTOCOL_ARG })
          .option('variant', { type: 'string' })
          .option('param', { type: 'string', array: true, default: [] as string[] })
          .option('max-k', { type: 'number', describe: 'largest k tried by k-induction' })
          .option('unbounded', { type: 'boolean', default: false, describe: 'inductive invariants with index types as uninterpreted sorts' })
          .option('time-limit', { type: 'number', describe: 'seconds (exit 3 when reached)' })
          .option('out', { type: 'string', default: './counterexamples-out' })
          .option('format', { choices: ['text', 'json', 'json-array', 'junit'] as const, default: 'text' as const })
          .option('solver', { choices: SOLVER_NAMES, default: 'wasm' as SolverName, describe: 'the wasm z3, or a native z3 on the PATH' }),
      (a) =>
        guarded(() =>
          runProve(
            {
              ...(a.protocol !== undefined ? { protocol: a.protocol } : {}),
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              ...(a['max-k'] !== undefined ? { maxK: a['max-k'] } : {}),
              unbounded: a.unbounded,
              ...(a['time-limit'] !== undefined ? { timeLimit: a['time-limit'] } : {}),
              out: a.out,
              format: a.format,
              solver: a.solver,
            },
            out,
          ),
        ),
    )
    .command(
      'export <protocol>',
      "print a protocol in a peer checker's language (Murphi for Rumur, Promela for SPIN)",
      (y) =>
        y
          .positional('protocol', { type: 'string', demandOption: true, describe: PROTOCOL_ARG })
          .option('to', { choices: ['murphi', 'promela'] as const, demandOption: true })
          .option('variant', { type: 'string' })
          .option('param', { type: 'string', array: true, default: [] as string[] })
          .option('output', { type: 'string', describe: 'write to this file (never overwritten) instead of stdout' })
          .option('symmetry', { type: 'boolean', default: false, describe: 'print symmetric index types as scalarsets (Murphi)' }),
      (a) =>
        guarded(() =>
          runExport(
            {
              protocol: a.protocol,
              to: a.to,
              ...(a.variant !== undefined ? { variant: a.variant } : {}),
              params: a.param.map(String),
              ...(a.output !== undefined ? { output: a.output } : {}),
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
          .option('config', { type: 'string', default: 'mirrorcheck.config.json', describe: 'the project file' })
          .option('out', {
            type: 'string',
            describe: "folder for traces and the JUnit report (default: the project file's out, else mirrorcheck-out beside it)",
          })
          .option('junit', { type: 'string', describe: 'the JUnit report (default OUT/junit.xml; an existing file is never overwritten)' })
          .option('progress', { type: 'boolean', default: true, describe: 'one line per finished case on stderr' })
          .option('typecheck', { type: 'boolean', default: true, describe: 'typecheck TypeScript model files before loading them (--no-typecheck to skip)' }),
      (a) =>
        guarded(() =>
          runCi(
            {
              config: a.config,
              ...(a.out !== undefined ? { out: a.out } : {}),
              ...(a.junit !== undefined ? { junit: a.junit } : {}),
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
          .positional('dir', { type: 'string', demandOption: true })
          .option('mirrorcheck-spec', { type: 'string', describe: "what the new package.json depends on for mirrorcheck (default: this tool's version)" }),
      (a) => guarded(() => runInit({ dir: a.dir, ...(a['mirrorcheck-spec'] !== undefined ? { mirrorcheckSpec: a['mirrorcheck-spec'] } : {}) }, out)),
    )
    // `mirrorcheck completion >> ~/.bashrc` (or ~/.zshrc): yargs' completion script for bash and zsh.
    .completion('completion', 'print a shell completion script for bash or zsh (source it from ~/.bashrc or ~/.zshrc)')
    .demandCommand(1, 'name a command: list, check, prove, replay, export, ci, init or completion')
    .strict()
    .fail((msg, e) => {
      throw e ?? new McError('MC030', msg ?? 'bad usage');
    })
    .help()
    .parseAsync();
} catch (e) {
  if (e instanceof McError) fail(e.code, e.message, 2);
  else fail('MC030', (e as Error)?.message ?? String(e), 2);
}
