/**
 * `mirrorcheck replay TRACE`: re-executes a saved counterexample on the current model and prints
 * it. Exit 1 when the violation reproduces, 0 when the trace replays with no violation, 4 when it no
 * longer replays on the model, 2 for a file that is missing, truncated or not a trace. A
 * counterexample to induction from `prove` (it starts in a state that need not be reachable) gives
 * 3 when it reproduces, as `prove` does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { harnessReplayLines, replayOnHarness } from '../conformance/replayOnHarness.js';
import { type ItfHeader, itfToTrace, parseItf } from '../counterexamples/itf.js';
import { renderHtml } from '../counterexamples/html.js';
import { renderMermaid } from '../counterexamples/mermaid.js';
import { renderText } from '../counterexamples/render.js';
import { checkLasso } from '../counterexamples/lasso.js';
import { replayTrace } from '../counterexamples/replay.js';
import type { HarnessBinding } from '../harness/binding.js';
import { McError } from '../model/lang/errors.js';
import { type Model, buildModel } from '../model/lang/protocol.js';
import type { ProtocolPackage } from '../properties/package.js';
import { escapeControls, printable } from './errors.js';
import { fileSha256, loadModelFile } from './modelFiles.js';
import { registry } from './registry.js';
import { paramsText } from './report.js';

export interface ReplayOptions {
  readonly file: string;
  /** The model file to replay against, when the one the trace records has moved. */
  readonly model?: string;
  readonly on: 'model' | 'harness';
  readonly render: 'text' | 'mermaid' | 'html';
  readonly full: boolean;
}

/**
 * The harness binding that runs `model` (of package `pkg`) on its reference driver, checked before
 * anything runs: MC030 when the package has no reference driver, or the driver has no knob for the
 * model's variant.
 */
export function harnessFor(pkg: ProtocolPackage, model: Model): HarnessBinding {
  const name = pkg.protocol.name;
  const harness = pkg.harness;
  if (!harness)
    throw new McError('MC030', `no reference driver for protocol ${name}: its package supplies no harness binding, so replay --on harness cannot run`);
  if (model.variant !== null && !harness.knobs.includes(model.variant))
    throw new McError('MC030', `no reference-driver knob for variant ${model.variant} of ${name} (knobs: ${harness.knobs.join(', ') || 'none'})`);
  return harness;
}

/**
 * The package a trace belongs to: its model file (recorded relative to the trace's folder, or given
 * with --model), whose content must still be what it was when the trace was made; or a built-in
 * protocol. A missing, changed or different model is MC023 naming the file.
 */
async function packageOfTrace(header: ItfHeader, opts: ReplayOptions): Promise<ProtocolPackage> {
  const recorded = header.modelFile;
  if (recorded === undefined && opts.model === undefined) {
    const entry = registry.find((x) => x.protocol.name === header.protocol);
    if (entry) return entry;
    throw new McError(
      'MC023',
      `trace is of protocol '${header.protocol}', which is not built in (built-in: ${registry.map((x) => x.protocol.name).join(', ')}) and the trace names no model file; give it with --model FILE`,
    );
  }
  const path = opts.model ?? resolve(dirname(opts.file), recorded?.file ?? '');
  if (!existsSync(path)) {
    throw new McError('MC023', `the trace's model file ${path} is missing${opts.model === undefined ? '; if it has moved, give it with --model FILE' : ''}`);
  }
  if (recorded !== undefined && fileSha256(path) !== recorded.sha256) {
    throw new McError(
      'MC023',
      `the model file ${path} has changed since the trace was made (its SHA-256 differs); the trace replays only on the model it was made with`,
    );
  }
  const loaded = await loadModelFile(path);
  if (loaded.pkg.protocol.name !== header.protocol) {
    throw new McError('MC023', `${path} defines protocol '${loaded.pkg.protocol.name}', but the trace is of '${header.protocol}'`);
  }
  return loaded.pkg;
}

/** The trace file's text: the file named, or standard input for `-`. */
function readTraceText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new McError(
      'MC020',
      `cannot read trace ${file === '-' ? 'from standard input' : `'${printable(file)}'`}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

/**
 * Runs `replay` and returns the exit code. Text output is the listing and the verdict; with
 * `--render mermaid|html` the output is the diagram or the page alone (a file that renders as it
 * is), and the verdict goes to `err`. Every line is printed with control characters escaped: a
 * trace file is input, and its strings must not drive the terminal.
 */
export async function runReplay(
  opts: ReplayOptions,
  print: (s: string) => void,
  printErr: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
): Promise<number> {
  const out = (s: string) => print(s.split('\n').map(escapeControls).join('\n'));
  const text = readTraceText(opts.file);
  const { header, doc } = parseItf(text);
  const entry = await packageOfTrace(header, opts);
  const model = buildModel(entry.protocol, { variant: header.variant, params: header.params });
  const harness = opts.on === 'harness' ? harnessFor(entry, model) : null;
  // `prove` also reports a reachable state that breaks a strengthening invariant of the proof hints
  // (a claim about every reachable state too); replay then checks that invariant with the properties.
  const hint = entry.properties.proofHints?.(model).strengthening.find((p) => p.name === header.property);
  const properties = [...entry.properties.build(model), ...(hint ? [hint] : [])];
  let trace: ReturnType<typeof itfToTrace>;
  try {
    trace = itfToTrace(header, doc, model);
  } catch (e) {
    if (e instanceof McError) {
      out(`trace no longer replays: its states do not fit the current model (${e.message})`);
      return 4;
    }
    throw e;
  }
  if (harness) {
    const rep = replayOnHarness(harness, model, trace);
    for (const line of harnessReplayLines(rep)) out(line);
    if (rep.mismatch) {
      out(`HARNESS REPLAY FAILED at step ${rep.mismatch.step}: ${rep.mismatch.message}`);
      return 4;
    }
    return rep.damage.length > 0 ? 1 : 0;
  }
  // The listing's verdict lines: after the listing in text, on stderr beside a diagram or a page.
  const say = opts.render === 'text' ? out : (s: string) => printErr(escapeControls(s));
  const shared = {
    model,
    full: opts.full,
    actors: entry.protocol.actors,
    engine: header.engine,
    ...(header.note ? { note: header.note } : {}),
    ...(trace.loop !== undefined ? { loop: trace.loop } : {}),
  };
  const liveProp = properties.find((p) => p.kind === 'liveness' && p.name === header.property);
  if (trace.loop !== undefined && liveProp?.kind === 'liveness') {
    // A lasso: replay it, check the loop closes, the goal never holds on it and the loop is fair.
    const lasso = checkLasso(model, trace, liveProp);
    const rep = replayTrace(model, [], trace, { checkDeadlock: false });
    const verdict = !lasso.ok
      ? `LASSO CHECK FAILED${lasso.step !== null ? ` at step ${lasso.step}` : ''}: ${lasso.message}. The trace no longer replays on this model.`
      : lasso.kind === 'cycle'
        ? `Reproduced: ${liveProp.name} (${liveProp.requirement}) fails: steps ${lasso.loop + 1}..${trace.steps.length - 1} repeat forever${lasso.each !== null ? ` (for index value ${lasso.each})` : ''}, every fairness requirement (${lasso.fairness}) is met on the loop, and the goal never holds.`
        : `Reproduced: ${liveProp.name} (${liveProp.requirement}) fails: the run stops in state ${lasso.loop} (no rule enabled) and stays there forever without reaching the goal${lasso.each !== null ? ` (for index value ${lasso.each})` : ''}.`;
    const input = {
      ...shared,
      states: rep.states,
      labels: rep.labels,
      violation: null,
      liveness: { property: liveProp.name, requirement: liveProp.requirement, doc: liveProp.doc },
      verdict,
    };
    if (opts.render === 'text') {
      out(
        `Trace of ${header.protocol}${header.variant ? ` (variant ${header.variant})` : ''} [${paramsText(model.params)}], engine ${header.engine}, lasso of ${trace.steps.length - 1} steps, property ${liveProp.name} (${liveProp.requirement}): ${liveProp.doc}`,
      );
      if (header.note) out(`Note: ${header.note}`);
      out(renderText(input));
    } else if (opts.render === 'mermaid') out(renderMermaid(input));
    else
      out(
        renderHtml({
          ...input,
          title: `${header.protocol}${header.variant ? ` (variant ${header.variant})` : ''}: ${liveProp.name} [${liveProp.requirement}], a lasso`,
        }),
      );
    say(verdict);
    return lasso.ok ? 1 : 4;
  }
  const rep = replayTrace(model, properties, trace);
  const arbitraryStart = trace.steps[0]?.choice === -1;
  const verdict = rep.mismatch
    ? `REPLAY FAILED at step ${rep.mismatch.step}: ${rep.mismatch.message}. The trace no longer replays on this model.`
    : rep.modelError && arbitraryStart
      ? `Reproduced a counterexample to induction: a model error at step ${rep.modelError.step} (${rep.modelError.message}) from a start state that need not be reachable. This is not a real violation; it shows that an invariant strengthening is missing.`
      : rep.modelError
        ? `MODEL ERROR at step ${rep.modelError.step}: ${rep.modelError.message}`
        : rep.violation && arbitraryStart
          ? `Reproduced a counterexample to induction: ${rep.violation.property} (${rep.violation.requirement}) fails at step ${rep.violation.step} from a start state that need not be reachable. This is not a real violation; it shows that an invariant strengthening is missing.`
          : rep.violation
            ? `Reproduced: ${rep.violation.property} (${rep.violation.requirement}) is violated at step ${rep.violation.step}.${header.property === null || header.property === rep.violation.property ? '' : ` (The trace recorded ${header.property}; the first violation on replay is another property.)`}`
            : `Replayed ${trace.steps.length - 1} steps: no property is violated${header.property ? ` (the recorded violation of ${header.property} no longer happens)` : ''}.`;
  const code = rep.mismatch ? 4 : rep.modelError ? (arbitraryStart ? 3 : 2) : rep.violation ? (arbitraryStart ? 3 : 1) : 0;
  const input = { ...shared, states: rep.states, labels: rep.labels, violation: rep.violation, verdict };
  if (opts.render === 'text') {
    out(
      `Trace of ${header.protocol}${header.variant ? ` (variant ${header.variant})` : ''} [${paramsText(model.params)}], engine ${header.engine}, ${trace.steps.length - 1} steps${header.property ? `, recorded violation: ${header.property} (${header.requirement})` : ''}`,
    );
    if (header.note) out(`Note: ${header.note}`);
    out(renderText(input));
  } else if (opts.render === 'mermaid') out(renderMermaid(input));
  else {
    const title = `${header.protocol}${header.variant ? ` (variant ${header.variant})` : ''}: ${rep.violation ? `${rep.violation.property} [${rep.violation.requirement}]` : 'trace'}`;
    out(renderHtml({ ...input, title }));
  }
  say(verdict);
  return code;
}
