/**
 * Replays a model trace on a protocol package's reference driver and simulated hardware, and says
 * what concrete damage it does. Why this module exists: a counterexample to "fence-complete" is an
 * abstract statement; "the DMA write of value 2 landed in frame 0 after it was freed and reused by
 * page 1" is what convinces a driver author. The package's harness binding builds the system for the
 * trace's model, whose variant selects the reference driver's knob of the same name.
 *
 * How: for every step of the trace the driver steps that lead from the trace's state to its next
 * state are searched for and taken: any number of steps the model does not see (a lock the model has
 * no variable for, a wake-up, a driver-internal check), then the one step that makes the model's
 * change; step labels only guide the search (the action labelled like the trace step is tried
 * first). One model step may so be several driver steps, and the mapped system state equals the
 * trace's state after every trace step. Model
 * counterexamples are shortest, so they often stop at the first broken property, before anything has
 * been damaged; then a short continuation is searched on the model (the fewest extra steps after
 * which the binding's damage guide expects damage) and confirmed on the harness. A lasso whose
 * binding names outstanding work is judged by the work its loop never completes instead. The report
 * says which steps came from the trace and which were added.
 *
 * It returns data and never prints; `harnessReplayLines` formats a report for people.
 */
import type { HarnessBinding, ReplayWords } from '../harness/binding.js';
import { type Action, ruleName } from '../harness/scheduler.js';
import type { Damage, SimSystem, StepRecord } from '../harness/simSystem.js';
import type { Trace } from '../counterexamples/trace.js';
import { compileModel } from '../model/lang/compile.js';
import { type Value, sameState, stateDiffs } from '../model/lang/layout.js';
import { applyRule } from '../model/lang/interp.js';
import type { Model, RuleInstance } from '../model/lang/protocol.js';
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

/** How far the search for the driver steps of one model step goes. */
const MAX_STUTTERS = 12;
const MAX_TRIES = 400;

/**
 * A system driven from its start by a list of chosen actions, which can be cut back to a prefix (by
 * building a fresh system and taking the prefix again: a system's threads are generators, which
 * cannot be copied). Why: the driver steps of one model step are found by a search that must undo
 * the steps it tried.
 */
class Runner<S extends SimSystem> {
  sys: S;
  /** The index (in `enabled()`) of every action taken, and its record. */
  private readonly taken: number[] = [];
  readonly steps: HarnessStep[] = [];
  private readonly make: () => S;
  private readonly valuesOf: ((sys: S) => Record<string, Value> | string) | null;

  constructor(make: () => S, valuesOf: ((sys: S) => Record<string, Value> | string) | null) {
    this.make = make;
    this.valuesOf = valuesOf;
    this.sys = make();
  }

  get length(): number {
    return this.taken.length;
  }

  /** Takes action `k` of `enabled()`, recording it. */
  take(k: number, traceStep: number | null, added: boolean): void {
    const a = this.sys.enabled()[k] as Action;
    const before = this.valuesOf ? this.valuesOf(this.sys) : null;
    const rec = this.sys.perform(a);
    const record = this.valuesOf && before !== null ? { ...rec, changes: changesOf(before, this.valuesOf(this.sys)) } : rec;
    this.taken.push(k);
    this.steps.push({ traceStep, added, record });
  }

  /** Cuts the run back to its first `n` actions. */
  cut(n: number): void {
    if (n === this.taken.length) return;
    this.taken.length = n;
    this.steps.length = n;
    this.sys = this.make();
    for (const k of this.taken) this.sys.perform(this.sys.enabled()[k] as Action);
  }

  /** Marks step `i` (0-based) as the one that completed trace step `traceStep`. */
  mark(i: number, traceStep: number): void {
    const s = this.steps[i] as HarnessStep;
    this.steps[i] = { ...s, traceStep };
  }
}

/**
 * The order in which driver actions are tried for a model step labelled `label`: the action of that
 * label first, then actions of the same rule, then implementation-only steps (about the same page
 * first), then the rest.
 */
function candidates(acts: readonly Action[], label: string): number[] {
  const rule = ruleName(label);
  const page = paramOf(label, 'p');
  const rank = (a: Action): number => {
    if (a.label === label) return 0;
    if (ruleName(a.label) === rule) return 1;
    if (a.internal && page !== null && paramOf(a.label, 'p') === page) return 2;
    if (a.internal) return 3;
    return 4;
  };
  return acts
    .map((a, k) => ({ k, r: rank(a) }))
    .sort((x, y) => x.r - y.r || x.k - y.k)
    .map((x) => x.k);
}

/**
 * Takes driver steps until the mapped state is `want` (the state after the model step `label` of the
 * trace, taken from `cur`): any number of steps that leave the mapped state at `cur` (stutters),
 * then one that reaches `want`. Returns null on success, else why it could not (the run is then cut
 * back to where it was, plus the steps that show the mismatch).
 */
function follow<S extends SimSystem>(
  r: Runner<S>,
  stateOf: (sys: S) => Int32Array | string,
  model: Model,
  cur: Int32Array,
  want: Int32Array,
  label: string,
  traceStep: number | null,
  added: boolean,
): string | null {
  const start = r.length;
  let tries = 0;
  const search = (depth: number): boolean => {
    const base = r.length;
    const acts = r.sys.enabled();
    for (const k of candidates(acts, label)) {
      if (++tries > MAX_TRIES) return false;
      r.take(k, null, added);
      const m = stateOf(r.sys);
      if (typeof m !== 'string') {
        if (sameState(m, want)) return true;
        if (sameState(m, cur) && depth < MAX_STUTTERS && search(depth + 1)) return true;
      }
      r.cut(base);
    }
    return false;
  };
  if (search(0)) {
    if (traceStep !== null) r.mark(r.length - 1, traceStep);
    return null;
  }
  // Not found: say why, the way a driver author reads it. Take the stutters that lead to the labelled
  // action, if there is one, and show how its state differs from the trace's.
  r.cut(start);
  for (let i = 0; i <= MAX_STUTTERS; i++) {
    const acts = r.sys.enabled();
    const k = acts.findIndex((a) => a.label === label);
    if (k >= 0) {
      r.take(k, traceStep, added);
      const m = stateOf(r.sys);
      if (typeof m === 'string') return m;
      return `after ${label} the harness differs from the trace: ${firstDiff(model, want, m)}`;
    }
    const stutter = candidates(acts, label).find((j) => (acts[j] as Action).internal);
    if (stutter === undefined) return `${label} is not enabled on the harness (enabled: ${acts.map((x) => x.label).join(', ') || 'nothing'})`;
    r.take(stutter, null, added);
  }
  return `${label} did not become enabled after ${MAX_STUTTERS} driver-internal steps`;
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
  const valuesOf = binding.valuesOf ? (sys: S) => (binding.valuesOf as NonNullable<typeof binding.valuesOf>).call(binding, model, sys) : null;
  const stateOf = (sys: S) => binding.stateOf(model, sys);

  /** Runs the trace (and optional added steps, with the model states they lead to) on a fresh system. */
  const run = (added: readonly { readonly label: string; readonly state: Int32Array }[]) => {
    const r = new Runner(() => binding.system(model), valuesOf);
    let mismatch: HarnessReplayReport['mismatch'] = null;
    let addedFailed: string | null = null;
    const start = stateOf(r.sys);
    const first = trace.steps[0];
    if (typeof start === 'string' || !first || !sameState(start, first.state)) {
      const message = typeof start === 'string' ? start : first ? `start state differs: ${firstDiff(model, first.state, start)}` : 'the trace is empty';
      return { r, mismatch: { step: 0, message }, addedFailed };
    }
    // A lasso (liveness counterexample) repeats its steps from `loop` on forever: work outstanding at
    // the loop's start and still outstanding at its end never completes.
    const loop = trace.loop;
    let atLoop: ReadonlySet<number> | null = loop === 0 && outstanding ? outstanding(r.sys) : null;
    for (let i = 0; i < labelsOfTrace.length && !mismatch; i++) {
      const label = labelsOfTrace[i] as string;
      const cur = (trace.steps[i] as Trace['steps'][number]).state;
      const want = (trace.steps[i + 1] as Trace['steps'][number]).state;
      const err = follow(r, stateOf, model, cur, want, label, i + 1, false);
      if (err) {
        mismatch = { step: i + 1, message: err };
        break;
      }
      if (loop === i + 1 && outstanding) atLoop = outstanding(r.sys);
    }
    let cur = (trace.steps[trace.steps.length - 1] as Trace['steps'][number]).state;
    for (const step of added) {
      if (mismatch || addedFailed) break;
      addedFailed = follow(r, stateOf, model, cur, step.state, step.label, null, true);
      cur = step.state;
    }
    if (!mismatch && !addedFailed) {
      const now = outstanding ? outstanding(r.sys) : new Set<number>();
      const stillThere = new Set([...(atLoop ?? [])].filter((id) => now.has(id)));
      const last = trace.steps.length - 1;
      if (loop !== undefined && loop < last && stillThere.size > 0) r.sys.reportHung(stillThere, `steps ${loop + 1}..${last} repeat forever without it`);
      else if (r.sys.enabled().length === 0) r.sys.reportHung();
    }
    return { r, mismatch, addedFailed };
  };

  const finish = (x: ReturnType<typeof run>, added: readonly string[]): HarnessReplayReport => {
    const damage = x.r.sys.damage;
    const steps = x.r.steps;
    const traced = steps.filter((s) => !s.added).length;
    // Without added steps, a hang reported when the trace ends is the trace's own damage.
    const inTrace = added.length === 0 ? damage.length > 0 : damage.some((d) => d.step <= traced);
    let summary: string;
    if (x.mismatch) summary = `the harness could not follow the trace at step ${x.mismatch.step}: ${x.mismatch.message}`;
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
      steps,
      damage,
      damageInTrace: inTrace,
      added: x.mismatch ? [] : added,
      mismatch: x.mismatch,
      summary,
      words: binding.words,
    };
  };

  const plain = run([]);
  const judgedByOutstanding = trace.loop !== undefined && outstanding !== undefined;
  if (plain.mismatch || plain.r.sys.damage.length > 0 || opts.extend === false || judgedByOutstanding) return finish(plain, []);
  const end = (trace.steps[trace.steps.length - 1] as Trace['steps'][number]).state;
  const cm = compileModel(model, []);
  const { maxAdded, maxSeen, deadlocks } = binding.continuation;
  for (const path of continuationsToDamage(cm, end, binding.damageGuide(model), { maxDepth: opts.maxAdded ?? maxAdded, limit: 8, maxSeen, deadlocks })) {
    let s = end;
    const added = path.map((k) => {
      const inst = model.instances[k] as RuleInstance;
      s = applyRule(model, inst, s);
      return { label: inst.label, state: s };
    });
    const x = run(added);
    if (!x.mismatch && !x.addedFailed && x.r.sys.damage.length > 0)
      return finish(
        x,
        added.map((a) => a.label),
      );
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
