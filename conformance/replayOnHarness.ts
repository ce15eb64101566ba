/**
 * Replays a model trace on a protocol package's reference driver and simulated hardware, and says
 * what concrete damage it does. Why this module exists: a counterexample to "fence-complete" is an
 * abstract statement; "the DMA write of value 2 landed in frame 0 after it was freed and reused by
 * page 1" is what convinces a driver author. The package's harness binding builds the system for the
 * trace's model, whose variant selects the reference driver's knob of the same name.
 *
 * How: every step of the trace is taken on the system by its rule-instance label (the reference
 * driver's own internal steps, such as a fault handler's read_begin, are inserted where a label needs
 * them), and the mapped system state must equal the trace's state after every step. Model
 * counterexamples are shortest, so they often stop at the first broken property, before anything has
 * been damaged; then a short continuation is searched on the model (the fewest extra steps after
 * which the binding's damage guide expects damage) and confirmed on the harness. A lasso whose
 * binding names outstanding work is judged by the work its loop never completes instead. The report
 * says which steps came from the trace and which were added.
 *
 * It returns data and never prints; `harnessReplayLines` formats a report for people.
 */
import type { HarnessBinding, ReplayWords } from '../harness/binding.js';
import type { Action } from '../harness/scheduler.js';
import type { Damage, SimSystem, StepRecord } from '../harness/simSystem.js';
import type { Trace } from '../counterexamples/trace.js';
import { compileModel } from '../model/lang/compile.js';
import { type Value, sameState, stateDiffs } from '../model/lang/layout.js';
import type { Model } from '../model/lang/protocol.js';
import { continuationsToDamage } from './damageSearch.js';

/** One step taken on the harness. */
export interface HarnessStep {
  /** The trace step it replays (1-based), or null for a driver-internal step or an added step. */
  readonly traceStep: number | null;
  /** True for a step appended after the trace to let its hazard do damage. */
  readonly added: boolean;
  /** The step as the system recorded it; its changes are the mapped model variables when the binding maps values. */
  readonly record: StepRecord;
}

/** What replaying a trace on a reference driver did: the steps taken, the damage seen, and whether the harness could follow the trace. */
export interface HarnessReplayReport {
  readonly protocol: string;
  readonly variant: string | null;
  /** Settings named besides the knob (the binding's `setting`), or null. */
  readonly setting: string | null;
  readonly steps: readonly HarnessStep[];
  /** Concrete damage, in the order seen. */
  readonly damage: readonly Damage[];
  /** Whether damage happened within the trace's own steps or at its end (not only after added ones). */
  readonly damageInTrace: boolean;
  /** Labels of the steps added after the trace (empty when none were needed or none was found). */
  readonly added: readonly string[];
  /** Set when the harness could not follow the trace. */
  readonly mismatch: { readonly step: number; readonly message: string } | null;
  /** One sentence: what happened. */
  readonly summary: string;
  /** How the closing lines word the damage (the binding's words). */
  readonly words: ReplayWords;
}

/** Options for `replayOnHarness`. */
export interface HarnessReplayOptions {
  /** Search for a continuation when the trace itself does no damage (default true). */
  readonly extend?: boolean;
  /** Longest continuation searched (default: the binding's bound). */
  readonly maxAdded?: number;
}

/** The first field where the trace's state and the harness's mapped state differ, in words. */
const firstDiff = (model: Model, want: Int32Array, got: Int32Array): string => stateDiffs(model.layout, want, got, ['trace', 'harness'])[0] ?? '';

const paramOf = (label: string, name: string): string | null => new RegExp(`[(, ]${name}=(\\d+)`).exec(label)?.[1] ?? null;

/**
 * Takes the action labelled `label`, first taking driver-internal steps if it is not enabled yet
 * (preferring those about the same page, the argument `p` of both labels). Returns null on success,
 * else why it could not.
 */
function follow(sys: SimSystem, label: string, perform: (a: Action) => void, maxInternal = 16): string | null {
  const page = paramOf(label, 'p');
  for (let i = 0; i <= maxInternal; i++) {
    const acts = sys.enabled();
    const a = acts.find((x) => x.label === label);
    if (a) {
      perform(a);
      return null;
    }
    const internal = acts.filter((x) => x.internal);
    const pick = internal.find((x) => page !== null && paramOf(x.label, 'p') === page) ?? internal[0];
    if (!pick) return `${label} is not enabled on the harness (enabled: ${acts.map((x) => x.label).join(', ') || 'nothing'})`;
    perform(pick);
  }
  return `${label} did not become enabled after ${maxInternal} driver-internal steps`;
}

const show = (v: unknown) => JSON.stringify(v).replace(/"/g, '');

/** The mapped variables whose value changed, in words (`dev[0]: ... -> ...`). */
function changesOf(before: Record<string, Value> | string, after: Record<string, Value> | string): string[] {
  if (typeof before === 'string' || typeof after === 'string') return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    const b = before[k];
    if (Array.isArray(v) && Array.isArray(b)) {
      v.forEach((x, i) => {
        if (show(x) !== show(b[i])) out.push(`${k}[${i}]: ${show(b[i])} -> ${show(x)}`);
      });
    } else if (show(v) !== show(b)) out.push(`${k}: ${show(b)} -> ${show(v)}`);
  }
  return out;
}

/** Replays `trace` (of `model`) on the reference driver and simulated hardware that `binding` builds. */
export function replayOnHarness<S extends SimSystem>(
  binding: HarnessBinding<S>,
  model: Model,
  trace: Trace,
  opts: HarnessReplayOptions = {},
): HarnessReplayReport {
  const labelsOfTrace = trace.steps.slice(1).map((s) => model.instances[s.choice]?.label ?? s.label);
  const outstanding = binding.outstanding?.bind(binding);
  const valuesOf = binding.valuesOf?.bind(binding);

  /** Runs the trace (and optional added labels) on a fresh system. */
  const run = (added: readonly string[]) => {
    const sys = binding.system(model);
    const steps: HarnessStep[] = [];
    let mismatch: HarnessReplayReport['mismatch'] = null;
    let addedFailed: string | null = null;
    const perform = (a: Action, traceStep: number | null, isAdded: boolean) => {
      const before = valuesOf ? valuesOf(model, sys) : null;
      const rec = sys.perform(a);
      const record = valuesOf && before !== null ? { ...rec, changes: changesOf(before, valuesOf(model, sys)) } : rec;
      steps.push({ traceStep, added: isAdded, record });
    };
    const start = binding.stateOf(model, sys);
    const first = trace.steps[0];
    if (typeof start === 'string' || !first || !sameState(start, first.state)) {
      const message = typeof start === 'string' ? start : first ? `start state differs: ${firstDiff(model, first.state, start)}` : 'the trace is empty';
      return { sys, steps, mismatch: { step: 0, message }, addedFailed };
    }
    // A lasso (liveness counterexample) repeats its steps from `loop` on forever: work outstanding at
    // the loop's start and still outstanding at its end never completes.
    const loop = trace.loop;
    let atLoop: ReadonlySet<number> | null = loop === 0 && outstanding ? outstanding(sys) : null;
    for (let i = 0; i < labelsOfTrace.length && !mismatch; i++) {
      const label = labelsOfTrace[i] as string;
      const err = follow(sys, label, (a) => perform(a, a.label === label ? i + 1 : null, false));
      if (err) {
        mismatch = { step: i + 1, message: err };
        break;
      }
      const m = binding.stateOf(model, sys);
      const want = (trace.steps[i + 1] as Trace['steps'][number]).state;
      if (typeof m === 'string') mismatch = { step: i + 1, message: m };
      else if (!sameState(m, want)) mismatch = { step: i + 1, message: `after ${label} the harness differs from the trace: ${firstDiff(model, want, m)}` };
      if (loop === i + 1 && outstanding) atLoop = outstanding(sys);
    }
    for (const label of added) {
      if (mismatch || addedFailed) break;
      addedFailed = follow(sys, label, (a) => perform(a, null, true));
    }
    if (!mismatch && !addedFailed) {
      const now = outstanding ? outstanding(sys) : new Set<number>();
      const stillThere = new Set([...(atLoop ?? [])].filter((id) => now.has(id)));
      const last = trace.steps.length - 1;
      if (loop !== undefined && loop < last && stillThere.size > 0) sys.reportHung(stillThere, `steps ${loop + 1}..${last} repeat forever without it`);
      else if (sys.enabled().length === 0) sys.reportHung();
    }
    return { sys, steps, mismatch, addedFailed };
  };

  const finish = (r: ReturnType<typeof run>, added: readonly string[]): HarnessReplayReport => {
    const damage = r.sys.damage;
    const traced = r.steps.filter((s) => !s.added).length;
    // Without added steps, a hang reported when the trace ends is the trace's own damage.
    const inTrace = added.length === 0 ? damage.length > 0 : damage.some((d) => d.step <= traced);
    let summary: string;
    if (r.mismatch) summary = `the harness could not follow the trace at step ${r.mismatch.step}: ${r.mismatch.message}`;
    else if (damage.length === 0)
      summary = `no damage: the reference driver${model.variant ? ` with knob ${model.variant}` : ''} ran the ${labelsOfTrace.length} steps${binding.words.intact}`;
    else {
      const first = damage[0] as Damage;
      summary = inTrace
        ? `damage reproduced ${first.step > traced ? 'at the end of the trace' : `at step ${first.step}`}: ${first.message}`
        : `damage reproduced ${added.length} step${added.length === 1 ? '' : 's'} after the trace ends (${added.join(', ')}): ${first.message}`;
    }
    return {
      protocol: model.protocol,
      variant: model.variant,
      setting: binding.setting?.(model) ?? null,
      steps: r.steps,
      damage,
      damageInTrace: inTrace,
      added: r.mismatch ? [] : added,
      mismatch: r.mismatch,
      summary,
      words: binding.words,
    };
  };

  const plain = run([]);
  const judgedByOutstanding = trace.loop !== undefined && outstanding !== undefined;
  if (plain.mismatch || plain.sys.damage.length > 0 || opts.extend === false || judgedByOutstanding) return finish(plain, []);
  const end = binding.stateOf(model, plain.sys);
  if (typeof end === 'string') return finish(plain, []);
  const cm = compileModel(model, []);
  const { maxAdded, maxSeen, deadlocks } = binding.continuation;
  for (const path of continuationsToDamage(cm, end, binding.damageGuide(model), { maxDepth: opts.maxAdded ?? maxAdded, limit: 8, maxSeen, deadlocks })) {
    const added = path.map((k) => model.instances[k]?.label ?? `#${k}`);
    const r = run(added);
    if (!r.mismatch && !r.addedFailed && r.sys.damage.length > 0) return finish(r, added);
  }
  return finish(plain, []);
}

/** The report as lines of text: numbered steps with what changed, then the damage and a summary. */
export function harnessReplayLines(r: HarnessReplayReport): string[] {
  const out: string[] = [
    `Replay on the reference driver and simulated hardware: ${r.protocol}${r.variant ? `, driver knob ${r.variant}` : ', correct driver'}${r.setting ? `, ${r.setting}` : ''}`,
  ];
  r.steps.forEach((s, n) => {
    const tag = s.added ? ' (added)' : s.traceStep === null ? ' (driver-internal)' : '';
    out.push(`${String(n + 1).padStart(3)}. ${s.record.label}${tag}`);
    for (const c of s.record.changes) out.push(`       ${c}`);
    for (const d of s.record.damage) out.push(`       DAMAGE (${d.kind}): ${d.message}`);
  });
  for (const d of r.damage) if (d.step > r.steps.length) out.push(`     DAMAGE (${d.kind}): ${d.message}`);
  const n = r.added.length;
  if (n > 0) out.push(`The trace ends before ${r.words.before}; ${n} added step${n === 1 ? ' shows' : 's show'} ${r.words.shown}.`);
  out.push(r.summary.charAt(0).toUpperCase() + r.summary.slice(1));
  return out;
}
