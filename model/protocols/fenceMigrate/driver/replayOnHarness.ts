/**
 * Replays a fence-migrate model trace on the reference driver and the simulated hardware, and says
 * what concrete damage it does. Why this module exists: a counterexample to "fence-complete" is an
 * abstract statement; "the DMA write of value 2 landed in frame 0 after it was freed and reused by
 * page 1" is what convinces a driver author. The model's variant selects the same knob in the
 * reference driver (driver/driverOptions.ts).
 *
 * How: every step of the trace is taken on the system by its rule-instance label (the reference
 * driver's own internal steps, such as the fault handler's read_begin, are inserted where a label
 * needs them), and the mapped system state must equal the trace's state after every step. Model
 * counterexamples are shortest, so they often stop at the first broken property, before anything
 * has been corrupted; then a short continuation is searched on the model (the fewest extra steps
 * after which memory would show damage) and confirmed on the hardware. The report says which steps
 * came from the trace and which were added.
 *
 * It returns data and never prints; `harnessReplayLines` formats a report for people.
 */
import type { Model, Trace } from 'mirrorcheck';
import { type DamageGuide, continuationsToDamage, firstDiff, sameState } from 'mirrorcheck/conformance';
import type { Action } from 'mirrorcheck/harness';
import { compileModel } from '../../../lang/compile.js';
import { modelStateOf, systemConfigFor } from './stateMapping.js';
import { type Damage, MirrorSystem, type StepRecord } from './system.js';

/** One step taken on the harness. */
export interface HarnessStep {
  /** The trace step it replays (1-based), or null for a driver-internal step or an added step. */
  readonly traceStep: number | null;
  /** True for a step appended after the trace to let its hazard do damage. */
  readonly added: boolean;
  readonly record: StepRecord;
}

export interface HarnessReplayReport {
  readonly protocol: string;
  readonly variant: string | null;
  readonly mode: string;
  readonly steps: readonly HarnessStep[];
  /** Concrete damage, in the order seen. */
  readonly damage: readonly Damage[];
  /** Whether damage happened within the trace's own steps (not only in added ones). */
  readonly damageInTrace: boolean;
  /** Labels of the steps added after the trace (empty when none were needed or none was found). */
  readonly added: readonly string[];
  /** Set when the harness could not follow the trace. */
  readonly mismatch: { readonly step: number; readonly message: string } | null;
  /** One sentence: what happened. */
  readonly summary: string;
}

/** Options for `replayOnHarness`. */
export interface HarnessReplayOptions {
  /** Search for a continuation when the trace itself does no damage (default true). */
  readonly extend?: boolean;
  /** Longest continuation searched (default 10 steps). */
  readonly maxAdded?: number;
}

/** Ids of the DMA operations outstanding now. */
const outstanding = (sys: MirrorSystem) => new Set(sys.hca.slots.flatMap((op) => (op ? [op.id] : [])));

const paramOf = (label: string, name: string): string | null => new RegExp(`[(, ]${name}=(\\d+)`).exec(label)?.[1] ?? null;

/**
 * Takes the action labelled `label`, first taking driver-internal steps if it is not enabled yet
 * (preferring those about the same page). Returns null on success, else why it could not.
 */
function follow(sys: MirrorSystem, label: string, onStep: (a: Action, rec: StepRecord) => void, maxInternal = 16): string | null {
  const page = paramOf(label, 'p');
  for (let i = 0; i <= maxInternal; i++) {
    const acts = sys.enabled();
    const a = acts.find((x) => x.label === label);
    if (a) {
      onStep(a, sys.perform(a));
      return null;
    }
    const internal = acts.filter((x) => x.internal);
    const pick = internal.find((x) => page !== null && paramOf(x.label, 'p') === page) ?? internal[0];
    if (!pick) return `${label} is not enabled on the harness (enabled: ${acts.map((x) => x.label).join(', ') || 'nothing'})`;
    onStep(pick, sys.perform(pick));
  }
  return `${label} did not become enabled after ${maxInternal} driver-internal steps`;
}

/**
 * A model-level guess of where memory damage shows: a DMA completing into a frame its page does not
 * own, a DMA read of a value other than the page's latest write, or a CPU-accessible page whose frame
 * does not hold its latest write. Used only to guide the search; the harness decides.
 */
function damageGuide(model: Model): DamageGuide {
  const slot = new Map(model.layout.slotNames.map((n, i) => [n, i]));
  const at = (n: string) => {
    const i = slot.get(n);
    if (i === undefined) throw new Error(`no slot ${n}`);
    return i;
  };
  const pages = model.params.pages as number;
  const stateType = model.layout.slotTypes[at('dma[0].state')];
  const inflight = stateType?.kind === 'enum' ? stateType.values.indexOf('inflight') : -1;
  const complete = new Map<number, number>();
  for (const i of model.instances) if (i.rule.name === 'HcaCompleteDma') complete.set(i.id, i.args[0] as number);
  return (s, inst, t) => {
    const d = complete.get(inst);
    if (d !== undefined && s[at(`dma[${d}].state`)] === inflight) {
      const f = s[at(`dma[${d}].frame`)] as number;
      const p = s[at(`dma[${d}].page`)] as number;
      if (s[at(`owner[${f}]`)] !== p) return true;
      if (!s[at(`dma[${d}].write`)] && s[at(`data[${f}]`)] !== s[at(`latest[${p}]`)]) return true;
    }
    for (let p = 0; p < pages; p++) {
      if (t[at(`pte[${p}].migration`)]) continue;
      if (t[at(`data[${t[at(`pte[${p}].frame`)]}]`)] !== t[at(`latest[${p}]`)]) return true;
    }
    return false;
  };
}

/** Replays `trace` (of the fence-migrate `model`) on the reference driver and simulated hardware. */
export function replayOnHarness(model: Model, trace: Trace, opts: HarnessReplayOptions = {}): HarnessReplayReport {
  const mode = String(model.params.mode);
  const base = { protocol: model.protocol, variant: model.variant, mode };
  const labelsOfTrace = trace.steps.slice(1).map((s) => model.instances[s.choice]?.label ?? s.label);

  /** Runs the trace (and optional added labels) on a fresh system. */
  const run = (added: readonly string[]) => {
    const sys = new MirrorSystem(systemConfigFor(model));
    const steps: HarnessStep[] = [];
    let mismatch: HarnessReplayReport['mismatch'] = null;
    const start = modelStateOf(model, sys);
    const first = trace.steps[0];
    if (typeof start === 'string' || !first || !sameState(start, first.state)) {
      mismatch = {
        step: 0,
        message: typeof start === 'string' ? start : first ? `start state differs: ${firstDiff(model, first.state, start)}` : 'the trace is empty',
      };
      return { sys, steps, mismatch };
    }
    // A lasso (liveness counterexample) repeats its steps from `loop` on forever: DMA outstanding at
    // the loop's start and still outstanding at its end never completes.
    const loop = trace.loop;
    let atLoop: Set<number> | null = loop === 0 ? outstanding(sys) : null;
    for (let i = 0; i < labelsOfTrace.length && !mismatch; i++) {
      const label = labelsOfTrace[i] as string;
      const err = follow(sys, label, (a, rec) => steps.push({ traceStep: a.label === label ? i + 1 : null, added: false, record: rec }));
      if (err) {
        mismatch = { step: i + 1, message: err };
        break;
      }
      const m = modelStateOf(model, sys);
      const want = (trace.steps[i + 1] as Trace['steps'][number]).state;
      if (typeof m === 'string') mismatch = { step: i + 1, message: m };
      else if (!sameState(m, want)) mismatch = { step: i + 1, message: `after ${label} the harness differs from the trace: ${firstDiff(model, want, m)}` };
      if (loop === i + 1) atLoop = outstanding(sys);
    }
    if (!mismatch) {
      const stillThere = new Set([...(atLoop ?? [])].filter((id) => outstanding(sys).has(id)));
      const last = trace.steps.length - 1;
      if (loop !== undefined && loop < last && stillThere.size > 0) sys.reportHung(stillThere, `steps ${loop + 1}..${last} repeat forever without it`);
      else if (sys.enabled().length === 0) sys.reportHung();
    }
    for (const label of added) {
      if (mismatch) break;
      const err = follow(sys, label, (_a, rec) => steps.push({ traceStep: null, added: true, record: rec }));
      if (err) return { sys, steps, mismatch, addedFailed: err };
    }
    return { sys, steps, mismatch };
  };

  const finish = (r: ReturnType<typeof run>, added: readonly string[]): HarnessReplayReport => {
    const damage = r.sys.damage;
    const inTrace = damage.some((d) => d.kind === 'hung-dma') || r.steps.some((s) => !s.added && s.record.damage.length > 0);
    let summary: string;
    if (r.mismatch) summary = `the harness could not follow the trace at step ${r.mismatch.step}: ${r.mismatch.message}`;
    else if (damage.length === 0)
      summary = `no damage: the reference driver${model.variant ? ` with knob ${model.variant}` : ''} ran the ${labelsOfTrace.length} steps and memory is intact`;
    else {
      const first = damage[0] as Damage;
      summary = inTrace
        ? `damage reproduced ${first.step > r.steps.length ? 'at the end of the trace' : `at step ${first.step}`}: ${first.message}`
        : `damage reproduced ${added.length} step${added.length === 1 ? '' : 's'} after the trace ends (${added.join(', ')}): ${first.message}`;
    }
    return { ...base, steps: r.steps, damage, damageInTrace: inTrace, added: r.mismatch ? [] : added, mismatch: r.mismatch, summary };
  };

  const plain = run([]);
  if (plain.mismatch || plain.sys.damage.length > 0 || opts.extend === false || trace.loop !== undefined) return finish(plain, []);
  const end = modelStateOf(model, plain.sys);
  if (typeof end === 'string') return finish(plain, []);
  const cm = compileModel(model, []);
  for (const path of continuationsToDamage(cm, end, damageGuide(model), { maxDepth: opts.maxAdded ?? 10, limit: 8, maxSeen: 200_000, deadlocks: false })) {
    const added = path.map((k) => model.instances[k]?.label ?? `#${k}`);
    const r = run(added);
    if (!r.mismatch && !('addedFailed' in r) && r.steps.some((s) => s.added && s.record.damage.length > 0)) return finish(r, added);
  }
  return finish(plain, []);
}

/** The report as lines of text: numbered steps with what changed in the hardware, then the damage. */
export function harnessReplayLines(r: HarnessReplayReport): string[] {
  const out: string[] = [];
  out.push(
    `Replay on the reference driver and simulated hardware: ${r.protocol}${r.variant ? `, driver knob ${r.variant}` : ', correct driver'}, mode ${r.mode}`,
  );
  let n = 0;
  for (const s of r.steps) {
    n++;
    const tag = s.added ? ' (added)' : s.traceStep === null ? ' (driver-internal)' : '';
    out.push(`${String(n).padStart(3)}. ${s.record.label}${tag}`);
    for (const c of s.record.changes) out.push(`       ${c}`);
    for (const d of s.record.damage) out.push(`       DAMAGE (${d.kind}): ${d.message}`);
  }
  const last = r.steps.length;
  for (const d of r.damage) if (d.step > last) out.push(`     DAMAGE (${d.kind}): ${d.message}`);
  if (r.added.length > 0) out.push(`The trace ends before memory is damaged; ${r.added.length} added step${r.added.length === 1 ? '' : 's'} show the damage.`);
  out.push(r.summary.charAt(0).toUpperCase() + r.summary.slice(1));
  return out;
}
