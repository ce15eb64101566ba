/**
 * The simulated odp-mirror system: the mm with its notifier core, PTEs and frames, the mirroring
 * device, the reference driver (driver/mirrorDriver.ts), the invalidating threads, and the one
 * list of everything that can happen next. Why this module exists: conformance to the odp-mirror
 * model, and replay of its counterexamples, need a system whose every concurrency choice is an
 * explicit `Action` labelled like the model's rule instances, plus a monitor that turns protocol
 * bugs into concrete damage in words (a device access to a freed or reused frame, a fault that never
 * completed, a device that faults through a stale TLB entry, a hang).
 *
 * Actors (model labels): invalidating threads (`MmMadviseStart`, `MmMkcleanStart`, `MmOomReapStart`,
 * `MmInvalidateElsewhere`, then the driver's callback steps, `MmUpdatePte`, `MmInvalidateEnd`); the
 * CPU user (`CpuTouchPage`, `CpuUpgradePte`); the device (`DevIssue*`, `DevTranslate`,
 * `DevCompleteAccess`, `DevReportError`); the driver's fault work (`DriverTakeFault` and the
 * handler's steps).
 */
import {
  type AccessOp,
  type Action,
  type Damage,
  type DevEntry,
  type DeviceAccess,
  type Flow,
  MirrorDevice,
  MmuNotifier,
  ProcessMm,
  type SimSystem,
  type StepPoint,
  type StepRecord,
  isChoicePoint,
  isInternal,
  labelOf,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import type { OdpKnob } from './knobs.js';
import { OdpMirrorDriver } from './mirrorDriver.js';

/** Sizes and driver knob of a simulated odp-mirror system (the model's parameters). */
export interface OdpSystemConfig {
  readonly pages: number;
  readonly frames: number;
  readonly invalidators: number;
  readonly invalidations: number;
  readonly slots: number;
  /** Whether the device issues atomic accesses. */
  readonly atomics: boolean;
  readonly retries: number;
  readonly knob: OdpKnob | null;
}

/** Kinds of concrete damage. */
export type OdpDamageKind = 'freed-frame-access' | 'failed-fault' | 'stale-tlb-fault' | 'hung';

/** Concrete damage, in plain words. */
export interface OdpDamage extends Damage {
  readonly kind: OdpDamageKind;
}

/** What an invalidating thread is doing. */
export interface Invalidator {
  readonly kind: 'clear' | 'protect' | 'elsewhere';
  readonly page: number;
  readonly blockable: boolean;
  readonly flow: Flow;
  pending: StepPoint | null;
}

interface Task {
  readonly flow: Flow;
  pending: StepPoint | null;
}

/** A page outside the mirrored interval, for `MmInvalidateElsewhere`. */
const ELSEWHERE = 1000;

export class OdpSystem implements SimSystem {
  readonly config: OdpSystemConfig;
  readonly notifier: MmuNotifier;
  readonly mm: ProcessMm;
  readonly device: MirrorDevice;
  readonly driver: OdpMirrorDriver;
  readonly invs: (Invalidator | null)[];
  invsLeft: number;
  /** The driver's fault work item while it serves a fault. */
  faultTask: Task | null = null;
  readonly damage: OdpDamage[] = [];
  /** Labels of the steps taken. */
  readonly history: string[] = [];
  private nextVal = 1;
  private readonly failedSeen = new Set<number>();
  private readonly lockWaitsSeen = new Set<string>();

  constructor(config: OdpSystemConfig) {
    this.config = config;
    this.notifier = new MmuNotifier({ endSkippedAfterEagain: config.knob === 'end-skipped-after-eagain' });
    this.mm = new ProcessMm(config.pages, config.frames);
    this.device = new MirrorDevice(config.pages, config.slots, this.mm.memory);
    this.driver = new OdpMirrorDriver({ notifier: this.notifier, mm: this.mm, device: this.device, pages: config.pages, retries: config.retries }, config.knob);
    this.driver.register();
    this.invs = Array.from({ length: config.invalidators }, () => null);
    this.invsLeft = config.invalidations;
    this.device.monitor = {
      onAccess: (a, frame) => this.judgeAccess(a, frame),
      onStaleTlbFault: (a, cached, table) => this.report('stale-tlb-fault', staleTlbWords(a, cached, table)),
    };
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.history.length;
  }

  private report(kind: OdpDamageKind, message: string): void {
    this.damage.push({ kind, step: this.history.length + 1, message });
  }

  private judgeAccess(a: DeviceAccess, frame: number): void {
    const owner = this.mm.memory.owner[frame] ?? null;
    if (owner === a.page) return;
    const where = owner === null ? 'after it was freed' : `after it was freed and reused by page ${owner}`;
    const what =
      a.op === 'read'
        ? `device read of page ${a.page} (access #${a.id}) read frame ${frame} ${where} (it returned ${this.mm.memory.data[frame]}, not page ${a.page}'s data)`
        : `device ${a.op} of value ${a.val} for page ${a.page} (access #${a.id}) landed in frame ${frame} ${where}: the write is lost for page ${a.page}${owner === null ? '' : ` and page ${owner}'s data is overwritten`}`;
    this.report('freed-frame-access', what);
  }

  private advance(t: { flow: Flow; pending: StepPoint | null }): void {
    const r = t.flow.next();
    t.pending = r.done ? null : r.value;
  }

  /** Actions for a flow's pending point (several for a choice point), or none when it must wait. */
  private flowActions(t: { flow: Flow; pending: StepPoint | null }, done: () => void): Action[] {
    const p = t.pending;
    if (!p?.ready()) return [];
    const run = () => {
      this.advance(t);
      if (t.pending === null) done();
    };
    if (isChoicePoint(p)) {
      return p.alternatives().map((alt) => ({
        label: alt.label,
        actor: 'driver' as const,
        internal: isInternal(p),
        run: () => {
          this.mm.allocChoice = alt.frame;
          run();
        },
      }));
    }
    return [{ label: labelOf(p), actor: 'driver', internal: isInternal(p), run }];
  }

  /** Every action that can be taken now, in a fixed order. */
  enabled(): Action[] {
    const out: Action[] = [];
    const { pages, frames, slots } = this.config;
    // Invalidating threads: start a region, or take the next step of the one they run.
    this.invs.forEach((t, i) => {
      if (t) {
        for (const a of this.flowActions(t, () => (this.invs[i] = null))) out.push({ ...a, actor: a.label.startsWith('Mm') ? 'mm' : 'driver' });
      } else if (this.invsLeft > 0) {
        for (let p = 0; p < pages; p++) {
          out.push(this.startAction(stepLabel('MmMadviseStart', { i, p }), i, 'clear', p, true));
          out.push(this.startAction(stepLabel('MmMkcleanStart', { i, p }), i, 'protect', p, true));
          out.push(this.startAction(stepLabel('MmOomReapStart', { i, p }), i, 'clear', p, false));
        }
        out.push(this.startAction(stepLabel('MmInvalidateElsewhere', { i }), i, 'elsewhere', 0, true));
      }
    });
    // The CPU user.
    for (let p = 0; p < pages; p++) {
      const pte = this.mm.pte(p);
      if (pte.pfn === null) {
        for (let f = 0; f < frames; f++)
          if (this.mm.memory.isFree(f))
            out.push({ label: stepLabel('CpuTouchPage', { p, f }), actor: 'cpu', internal: false, run: () => this.mm.faultIn(p, f, true) });
      } else if (!pte.write) out.push({ label: stepLabel('CpuUpgradePte', { p }), actor: 'cpu', internal: false, run: () => this.mm.upgrade(p) });
    }
    // The device.
    const ops: [string, AccessOp][] = [
      ['DevIssueRead', 'read'],
      ['DevIssueWrite', 'write'],
    ];
    if (this.config.atomics) ops.push(['DevIssueAtomic', 'atomic']);
    for (let d = 0; d < slots; d++) {
      const a = this.device.slots[d] ?? null;
      if (a === null) {
        for (const [name, op] of ops)
          for (let p = 0; p < pages; p++)
            out.push({
              label: stepLabel(name, { d, p }),
              actor: 'hca',
              internal: false,
              run: () => this.device.issue(d, op, p, op === 'read' ? 0 : this.nextVal++),
            });
      } else if (a.state === 'pending')
        out.push({ label: stepLabel('DevTranslate', { d }), actor: 'hca', internal: false, run: () => this.device.translate(d) });
      else if (a.state === 'inflight')
        out.push({ label: stepLabel('DevCompleteAccess', { d }), actor: 'hca', internal: false, run: () => this.device.complete(d) });
      else if (a.state === 'failed') out.push({ label: stepLabel('DevReportError', { d }), actor: 'hca', internal: false, run: () => this.reportError(d) });
    }
    // The driver's fault work: take a queued fault, or the handler's next step.
    if (this.faultTask) out.push(...this.flowActions(this.faultTask, () => (this.faultTask = null)));
    else {
      for (let d = 0; d < slots; d++) {
        if (this.device.slots[d]?.state !== 'faulted') continue;
        out.push({
          label: stepLabel('DriverTakeFault', { d }),
          actor: 'driver',
          internal: false,
          run: () => {
            const t: Task = { flow: this.driver.pageFault(d), pending: null };
            this.faultTask = t;
            this.advance(t);
            if (t.pending === null) this.faultTask = null;
          },
        });
      }
    }
    return out;
  }

  private startAction(label: string, i: number, kind: Invalidator['kind'], page: number, blockable: boolean): Action {
    return {
      label,
      actor: 'mm',
      internal: false,
      run: () => {
        this.invsLeft--;
        const t: Invalidator = { kind, page, blockable, flow: this.invalidator(i, kind, page, blockable), pending: null };
        this.invs[i] = t;
        this.advance(t);
        if (t.pending === null) this.invs[i] = null;
      },
    };
  }

  /** One invalidation by thread `i` (spec I1-I5): start (callbacks run), PTE change, end. */
  private *invalidator(i: number, kind: Invalidator['kind'], page: number, blockable: boolean): Flow<void> {
    if (kind === 'elsewhere') {
      const region = yield* this.notifier.rangeStart(ELSEWHERE, ELSEWHERE + 1, { event: 'unmap', owner: null, blockable: true, thread: i });
      yield step('MmInvalidateEnd', { i });
      if (region) this.notifier.rangeEnd(region);
      return;
    }
    const event = kind === 'clear' ? 'unmap' : 'protection';
    const region = yield* this.notifier.rangeStart(page, page + 1, { event, owner: null, blockable, thread: i });
    if (region === null) return; // -EAGAIN: the PTE is left alone
    yield step('MmUpdatePte', { i });
    if (kind === 'clear') this.mm.clear(page);
    else this.mm.protect(page);
    yield step('MmInvalidateEnd', { i });
    this.notifier.rangeEnd(region);
  }

  private reportError(d: number): void {
    this.device.reportError(d);
  }

  /** A fault the handler has just given up on: the access will complete with an error. */
  private judgeFailures(): void {
    for (const a of this.device.slots) {
      if (a?.state !== 'failed' || this.failedSeen.has(a.id)) continue;
      this.failedSeen.add(a.id);
      const f = this.driver.failures.at(-1);
      this.report(
        'failed-fault',
        `device ${a.op} of page ${a.page} (access #${a.id}) never completed: the fault handler gave up after ${f?.tries ?? this.config.retries} retries (the 1 s timeout) and the access fails with an error`,
      );
    }
  }

  /**
   * A thread that now waits for U while U is held by an invalidator whose callback is no longer
   * running (it returned, or has not started again): nothing will ever release U, so the waiter
   * blocks forever (an madvise that never returns, a device fault that never completes).
   */
  private judgeLockWaits(): void {
    const holder = this.driver.umem.holder;
    if (holder === null || !holder.startsWith('inv')) return;
    const i = Number(holder.slice(3));
    const owner = this.invs[i];
    if (owner?.pending && labelOf(owner.pending).startsWith('DriverInvalidateFinish')) return;
    const leak = `U is still held by an earlier invalidate callback of invalidator ${i}, which has already returned (it never unlocked)`;
    const waiters: string[] = [];
    this.invs.forEach((t, j) => {
      if (t?.pending && t.blockable && labelOf(t.pending).startsWith('DriverInvalidateBegin') && !t.pending.ready())
        waiters.push(
          `invalidator ${j} (${t.kind === 'clear' ? 'madvise' : 'page_mkclean'} of page ${t.page}) blocks forever in its invalidate callback and never returns`,
        );
    });
    const fp = this.faultTask?.pending;
    if (fp && /^DriverLock(Early)?\(/.test(labelOf(fp)) && !fp.ready()) {
      const a = this.driver.fault ? this.device.slots[this.driver.fault.slot] : null;
      waiters.push(`the fault handler blocks forever taking U, so the device ${a?.op ?? 'access'} of page ${a?.page ?? '?'} never completes`);
    }
    for (const w of waiters) {
      if (this.lockWaitsSeen.has(w)) continue;
      this.lockWaitsSeen.add(w);
      this.report('hung', `${w}: ${leak}`);
    }
  }

  /**
   * Takes one action (from `enabled()`). The record lists no hardware changes: a replay shows the
   * mapped model variables that changed instead (the harness binding's `valuesOf`).
   */
  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    this.judgeFailures();
    this.judgeLockWaits();
    this.history.push(a.label);
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: this.damage.slice(seen) };
  }

  /** Called when nothing can move: reports the hang in words (and returns it). */
  reportHung(): OdpDamage[] {
    const waiting: string[] = [];
    const holder = this.driver.umem.holder;
    this.device.slots.forEach((a, d) => {
      if (a && a.state !== 'inflight') waiting.push(`device ${a.op} of page ${a.page} in slot ${d} (${a.state})`);
    });
    if (this.faultTask?.pending) waiting.push(`the fault handler, at ${labelOf(this.faultTask.pending)}`);
    this.invs.forEach((t, i) => {
      if (t?.pending) waiting.push(`invalidator ${i}, at ${labelOf(t.pending)}`);
    });
    const lock = holder === null ? 'U is free' : `U is held by ${holder}`;
    const { seq: mmSeq, active } = this.notifier.core;
    const running = this.invs.filter((t) => t !== null).length;
    const leaked = active > running ? `, though only ${running} invalidation(s) are running: a region was never closed, so read_begin sleeps forever` : '';
    const seq = `the mm sequence is ${mmSeq} (${mmSeq % 2 ? 'odd' : 'even'}) with ${active} region(s) counted open${leaked}`;
    this.report('hung', `deadlock: nothing can move; waiting forever: ${waiting.join('; ') || 'nothing'}; ${lock}; ${seq}`);
    return this.damage.slice(-1);
  }
}

function staleTlbWords(a: DeviceAccess, cached: DevEntry, table: DevEntry): string {
  return `device ${a.op} of page ${a.page} (access #${a.id}) faulted through a stale read-only TLB entry for frame ${cached.frame} although the device table maps it writable (frame ${table.frame}): the device TLB was not invalidated on the upgrade, so the access faults again every time it is resumed`;
}
