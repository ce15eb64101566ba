/**
 * Replays an odp-mirror model trace on the odp-mirror reference driver and the simulated hardware,
 * and says what concrete damage it does. Why this module exists: "no-stale-translation fails at step
 * 14" is abstract; "the device read of page 0 read frame 0 after it was freed and reused by page 1"
 * or "the device write of page 0 never completed: the handler gave up after 2 retries" is what
 * convinces a driver author. The trace's variant selects the knob of the same name.
 *
 * How: every step of the trace is taken on the system by its rule-instance label, and the mapped
 * system state (driver/stateMapping.ts) must equal the trace's state after every step. Model
 * counterexamples are shortest, so they often stop at the first broken property, before any damage;
 * then the fewest further model steps after which damage is expected are searched on the model
 * (a device access completing into a frame its page no longer maps, a failed fault, an access that
 * faults through a stale TLB entry, a deadlock), and confirmed on the harness. The report says which
 * steps came from the trace and which were added.
 *
 * It returns data and never prints; `odpHarnessReplayLines` formats a report for people.
 */
import type { Model, Trace } from 'mirrorcheck';
import { type DamageGuide, continuationsToDamage, firstDiff, sameState } from 'mirrorcheck/conformance';
import { compileModel } from '../../../lang/compile.js';
import { odpModelStateOf, odpModelValueOf, odpSystemConfigFor } from './stateMapping.js';
import { type OdpDamage, OdpSystem } from './system.js';

/** One step taken on the harness. */
export interface OdpHarnessStep {
  /** The trace step it replays (1-based), or null for an added step. */
  readonly traceStep: number | null;
  readonly added: boolean;
  readonly label: string;
  /** What changed in the mapped state, in words (`dev[0]: ... -> ...`). */
  readonly changes: readonly string[];
  readonly damage: readonly OdpDamage[];
}

export interface OdpHarnessReplayReport {
  readonly protocol: string;
  readonly variant: string | null;
  readonly steps: readonly OdpHarnessStep[];
  readonly damage: readonly OdpDamage[];
  /** Whether damage happened within the trace's own steps (or at its end, for a hang). */
  readonly damageInTrace: boolean;
  readonly added: readonly string[];
  readonly mismatch: { readonly step: number; readonly message: string } | null;
  readonly summary: string;
}

export interface OdpHarnessReplayOptions {
  /** Search for a continuation when the trace itself does no damage (default true). */
  readonly extend?: boolean;
  /** Longest continuation searched (default 16 steps). */
  readonly maxAdded?: number;
}

const show = (v: unknown) => JSON.stringify(v).replace(/"/g, '');

/** The variables whose mapped value changed, in words. */
function changesOf(before: Record<string, unknown> | string, after: Record<string, unknown> | string): string[] {
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

/**
 * A model-level guess of the step at which the harness will see damage; used only to guide the
 * search, the harness decides. True for: a completion of an access whose frame its page no longer
 * maps, a failed fault, a translation that hits a read-only TLB entry under a writable table entry,
 * a thread starting to wait for U while U is held by an invalidator outside its callback.
 */
function damageGuide(model: Model): DamageGuide {
  const slot = new Map(model.layout.slotNames.map((n, i) => [n, i]));
  const at = (n: string) => {
    const i = slot.get(n);
    if (i === undefined) throw new Error(`no slot ${n}`);
    return i;
  };
  const enumVal = (n: string, v: string) => {
    const t = model.layout.slotTypes[at(n)];
    return t?.kind === 'enum' ? t.values.indexOf(v) : -2;
  };
  const inflight = enumVal('acc[0].state', 'inflight');
  const pending = enumVal('acc[0].state', 'pending');
  const failed = enumVal('acc[0].state', 'failed');
  const read = enumVal('acc[0].op', 'read');
  const byRule = new Map<number, { rule: string; d: number }>();
  for (const i of model.instances) {
    if (i.rule.name === 'DevCompleteAccess' || i.rule.name === 'DevTranslate') byRule.set(i.id, { rule: i.rule.name, d: i.args[0] as number });
  }
  const slots = model.params.slots as number;
  const invs = model.params.invalidators as number;
  const drain = enumVal('inv[0].pc', 'drain');
  const callback = enumVal('inv[0].pc', 'callback');
  const fhWaits = [enumVal('fh.pc', 'lock'), enumVal('fh.pc', 'lockEarly')];
  const holderType = model.layout.slotTypes[at('ulock')];
  const holderInv = (v: number) => (holderType?.kind === 'enum' ? /^inv(\d+)$/.exec(holderType.values[v] ?? '')?.[1] : undefined);
  // U held by an invalidator that is not in its callback, and someone waits for it.
  const lockLeakWait = (t: Int32Array) => {
    const i = holderInv(t[at('ulock')] as number);
    if (i === undefined || t[at(`inv[${i}].pc`)] === drain) return false;
    if (fhWaits.includes(t[at('fh.pc')] as number)) return true;
    for (let j = 0; j < invs; j++) if (t[at(`inv[${j}].pc`)] === callback && t[at(`inv[${j}].blockable`)]) return true;
    return false;
  };
  return (s, inst, t) => {
    for (let d = 0; d < slots; d++) if (t[at(`acc[${d}].state`)] === failed && s[at(`acc[${d}].state`)] !== failed) return true;
    if (lockLeakWait(t) && !lockLeakWait(s)) return true;
    const r = byRule.get(inst);
    if (!r) return false;
    const p = s[at(`acc[${r.d}].page`)] as number;
    if (r.rule === 'DevCompleteAccess' && s[at(`acc[${r.d}].state`)] === inflight) return s[at(`pte[${p}].frame`)] !== s[at(`acc[${r.d}].frame`)];
    if (r.rule === 'DevTranslate' && s[at(`acc[${r.d}].state`)] === pending && s[at(`acc[${r.d}].op`)] !== read) {
      const tf = s[at(`tlb[${p}].frame`)] as number;
      return tf >= 0 && !s[at(`tlb[${p}].write`)] && s[at(`dev[${p}].frame`)] === tf && s[at(`dev[${p}].write`)] === 1;
    }
    return false;
  };
}

/** Replays `trace` (of the odp-mirror `model`) on the reference driver and simulated hardware. */
export function replayOdpOnHarness(model: Model, trace: Trace, opts: OdpHarnessReplayOptions = {}): OdpHarnessReplayReport {
  const labelsOfTrace = trace.steps.slice(1).map((s) => model.instances[s.choice]?.label ?? s.label);

  const run = (added: readonly string[]) => {
    const sys = new OdpSystem(odpSystemConfigFor(model));
    const steps: OdpHarnessStep[] = [];
    let mismatch: OdpHarnessReplayReport['mismatch'] = null;
    let addedFailed: string | null = null;
    const take = (label: string, traceStep: number | null): string | null => {
      const a = sys.enabled().find((x) => x.label === label);
      if (!a)
        return `${label} is not enabled on the harness (enabled: ${
          sys
            .enabled()
            .map((x) => x.label)
            .join(', ') || 'nothing'
        })`;
      const before = odpModelValueOf(model, sys);
      const seen = sys.damage.length;
      sys.perform(a);
      steps.push({ traceStep, added: traceStep === null, label, changes: changesOf(before, odpModelValueOf(model, sys)), damage: sys.damage.slice(seen) });
      return null;
    };
    const start = odpModelStateOf(model, sys);
    const first = trace.steps[0];
    if (typeof start === 'string' || !first || !sameState(start, first.state)) {
      const message = typeof start === 'string' ? start : first ? `start state differs: ${firstDiff(model, first.state, start)}` : 'the trace is empty';
      return { sys, steps, mismatch: { step: 0, message }, addedFailed };
    }
    for (let i = 0; i < labelsOfTrace.length && !mismatch; i++) {
      const label = labelsOfTrace[i] as string;
      const err = take(label, i + 1);
      if (err) {
        mismatch = { step: i + 1, message: err };
        break;
      }
      const m = odpModelStateOf(model, sys);
      const want = (trace.steps[i + 1] as Trace['steps'][number]).state;
      if (typeof m === 'string') mismatch = { step: i + 1, message: m };
      else if (!sameState(m, want)) mismatch = { step: i + 1, message: `after ${label} the harness differs from the trace: ${firstDiff(model, want, m)}` };
    }
    for (const label of added) {
      if (mismatch || addedFailed) break;
      addedFailed = take(label, null);
    }
    if (!mismatch && !addedFailed && sys.enabled().length === 0) sys.reportHung();
    return { sys, steps, mismatch, addedFailed };
  };

  const finish = (r: ReturnType<typeof run>, added: readonly string[]): OdpHarnessReplayReport => {
    const damage = r.sys.damage;
    const tracedSteps = r.steps.filter((s) => !s.added).length;
    const inTrace = damage.some((d) => d.step <= tracedSteps || (added.length === 0 && d.kind === 'hung'));
    let summary: string;
    if (r.mismatch) summary = `the harness could not follow the trace at step ${r.mismatch.step}: ${r.mismatch.message}`;
    else if (damage.length === 0)
      summary = `no damage: the reference driver${model.variant ? ` with knob ${model.variant}` : ''} ran the ${labelsOfTrace.length} steps, every access used a frame its page maps, every fault completed, nothing hung`;
    else {
      const d = damage[0] as OdpDamage;
      summary = inTrace
        ? `damage reproduced ${d.step > tracedSteps ? 'at the end of the trace' : `at step ${d.step}`}: ${d.message}`
        : `damage reproduced ${added.length} step${added.length === 1 ? '' : 's'} after the trace ends (${added.join(', ')}): ${d.message}`;
    }
    return {
      protocol: model.protocol,
      variant: model.variant,
      steps: r.steps,
      damage,
      damageInTrace: inTrace,
      added: r.mismatch ? [] : added,
      mismatch: r.mismatch,
      summary,
    };
  };

  const plain = run([]);
  if (plain.mismatch || plain.sys.damage.length > 0 || opts.extend === false) return finish(plain, []);
  const end = odpModelStateOf(model, plain.sys);
  if (typeof end === 'string') return finish(plain, []);
  const cm = compileModel(model, []);
  for (const path of continuationsToDamage(cm, end, damageGuide(model), { maxDepth: opts.maxAdded ?? 16, limit: 8, maxSeen: 400_000, deadlocks: true })) {
    const added = path.map((k) => model.instances[k]?.label ?? `#${k}`);
    const r = run(added);
    if (!r.mismatch && !r.addedFailed && r.sys.damage.length > 0) return finish(r, added);
  }
  return finish(plain, []);
}

/** The report as lines of text: numbered steps with what changed, then the damage and a summary. */
export function odpHarnessReplayLines(r: OdpHarnessReplayReport): string[] {
  const out: string[] = [
    `Replay on the reference driver and simulated hardware: ${r.protocol}${r.variant ? `, driver knob ${r.variant}` : ', correct driver'}`,
  ];
  r.steps.forEach((s, n) => {
    out.push(`${String(n + 1).padStart(3)}. ${s.label}${s.added ? ' (added)' : ''}`);
    for (const c of s.changes) out.push(`       ${c}`);
    for (const d of s.damage) out.push(`       DAMAGE (${d.kind}): ${d.message}`);
  });
  for (const d of r.damage) if (d.step > r.steps.length) out.push(`     DAMAGE (${d.kind}): ${d.message}`);
  if (r.added.length > 0) out.push(`The trace ends before the damage; ${r.added.length} added step${r.added.length === 1 ? ' shows' : 's show'} it.`);
  out.push(r.summary.charAt(0).toUpperCase() + r.summary.slice(1));
  return out;
}
