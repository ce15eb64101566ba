/**
 * The simulated odp-mirror system: the mm with its notifier core, PTEs, frames and user count, the
 * mirroring device with its UMR queue, the reference driver (driver/mirrorDriver.ts), the
 * invalidating threads, and the one list of everything that can happen next. Why this module exists:
 * conformance to the odp-mirror model, and replay of its counterexamples, need a system whose every
 * concurrency choice is an explicit `Action`, plus a monitor that turns protocol bugs into concrete
 * damage in words (a device access to a freed or reused frame, a device write that writeback lost, a
 * fault that never completed, a device that faults through a stale TLB entry, a callback that may
 * sleep where it must not, a hang).
 *
 * Actors (model labels): invalidating threads (`MmMadviseStart`, `MmMkcleanStart`, `MmOomReapStart`,
 * `MmInvalidateElsewhere`, `MmExitRelease`, then the driver's callback steps, `MmUpdatePte`,
 * `MmInvalidateEnd`); the CPU user (`CpuTouchPage`, `CpuUpgradePte`); the device (`DevIssue*`,
 * `DevTranslate`, `DevCompleteAccess`, `DevReportError`, `DevUmrComplete`); the driver's work items
 * (`DriverTakeFault`, `AppPrefetch`, and their steps).
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
  type OpenRegion,
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

/** Sizes, driver knob and settings of a simulated odp-mirror system (the model's parameters). */
export interface OdpSystemConfig {
  readonly pages: number;
  readonly frames: number;
  readonly invalidators: number;
  readonly invalidations: number;
  readonly slots: number;
  /** Whether the device issues atomic accesses. */
  readonly atomics: boolean;
  readonly retries: number;
  /** Pages one invalidation range may cover. */
  readonly span: number;
  readonly intervals: number;
  /** Whether a prefetch work item runs beside the fault handler. */
  readonly prefetch: boolean;
  /** Whether the mm may exit (MMU_NOTIFY_RELEASE). */
  readonly release: boolean;
  readonly protect: 'zap' | 'downgrade';
  readonly nonblock: 'trylock' | 'eagain';
  readonly knob: OdpKnob | null;
}

/** Kinds of concrete damage. */
export type OdpDamageKind = 'freed-frame-access' | 'lost-write' | 'failed-fault' | 'stale-tlb-fault' | 'sleep-in-nonblocking-callback' | 'hung';

/** Concrete damage, in plain words. */
export interface OdpDamage extends Damage {
  readonly kind: OdpDamageKind;
}

/** What an invalidating thread is doing. */
export interface Invalidator {
  readonly kind: 'clear' | 'protect' | 'elsewhere' | 'release';
  readonly lo: number;
  readonly hi: number;
  readonly blockable: boolean;
  readonly flow: Flow;
  pending: StepPoint | null;
}

/** A work item of the driver (the fault handler's, or the prefetch's). */
export interface Task {
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
  /** The driver's work items in progress: the fault handler (0) and the prefetch work (1). */
  readonly tasks: (Task | null)[] = [null, null];
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
    this.driver = new OdpMirrorDriver(
      {
        notifier: this.notifier,
        mm: this.mm,
        device: this.device,
        pages: config.pages,
        intervals: config.intervals,
        retries: config.retries,
        nonblock: config.nonblock,
        protect: config.protect,
      },
      config.knob,
    );
    this.driver.register();
    this.invs = Array.from({ length: config.invalidators }, () => null);
    this.invsLeft = config.invalidations;
    this.device.monitor = {
      onAccess: (a, frame) => this.judgeAccess(a, frame),
      onStaleTlbFault: (a, cached, table) => this.report('stale-tlb-fault', staleTlbWords(a, cached, table)),
    };
    this.mm.onLostWrite = (frame, value) =>
      this.report(
        'lost-write',
        `device write of value ${value} to frame ${frame} (page ${this.mm.memory.owner[frame]}) is lost: page_mkclean wrote the page back without it, because the page was never marked dirty (set_page_dirty when the device's writable mapping went)`,
      );
    this.driver.umem.mightSleep = (who) =>
      this.report(
        'sleep-in-nonblocking-callback',
        `the invalidate callback of ${who.replace(/^inv/, 'invalidator ')} runs for a non-blockable range (the OOM reaper's) and calls mutex_lock(umem_mutex), which may sleep there: it must trylock and return false (-EAGAIN) instead`,
      );
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
    if (owner === a.page) {
      if (a.op !== 'read') this.mm.deviceWrote(frame, a.val);
      return;
    }
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
    const label = labelOf(p);
    return [{ label, actor: label.startsWith('Mm') ? 'mm' : 'driver', internal: isInternal(p), run }];
  }

  /** Starts a flow as a thread: its code up to its first scheduling point runs now. */
  private start<T extends { flow: Flow; pending: StepPoint | null }>(t: T, set: (t: T | null) => void): void {
    set(t);
    this.advance(t);
    if (t.pending === null) set(null);
  }

  /** Every action that can be taken now, in a fixed order. */
  enabled(): Action[] {
    const out: Action[] = [];
    const { pages, frames, slots, span } = this.config;
    // Invalidating threads: start a region, or take the next step of the one they run.
    this.invs.forEach((t, i) => {
      if (t) {
        out.push(...this.flowActions(t, () => (this.invs[i] = null)));
        return;
      }
      if (!this.mm.live) return;
      if (this.invsLeft > 0) {
        for (let p = 0; p < pages; p++) {
          for (let q = p; q < Math.min(pages, p + span); q++) {
            out.push(this.startAction(stepLabel('MmMadviseStart', { i, p, q }), i, 'clear', p, q, true));
            out.push(this.startAction(stepLabel('MmMkcleanStart', { i, p, q }), i, 'protect', p, q, true));
            out.push(this.startAction(stepLabel('MmOomReapStart', { i, p, q }), i, 'clear', p, q, false));
          }
        }
        out.push(this.startAction(stepLabel('MmInvalidateElsewhere', { i }), i, 'elsewhere', 0, 0, true));
      }
      // exit_mmap, once no work item holds a reference on the mm.
      if (this.config.release && this.mm.users === 0) out.push(this.startAction(stepLabel('MmExitRelease', { i }), i, 'release', 0, pages - 1, true));
    });
    // The CPU user.
    if (this.mm.live) {
      for (let p = 0; p < pages; p++) {
        const pte = this.mm.pte(p);
        if (pte.pfn === null) {
          for (let f = 0; f < frames; f++)
            if (this.mm.memory.isFree(f))
              out.push({ label: stepLabel('CpuTouchPage', { p, f }), actor: 'cpu', internal: false, run: () => this.mm.faultIn(p, f, true) });
        } else if (!pte.write) out.push({ label: stepLabel('CpuUpgradePte', { p }), actor: 'cpu', internal: false, run: () => this.mm.upgrade(p) });
      }
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
      else if (a.state === 'failed')
        out.push({ label: stepLabel('DevReportError', { d }), actor: 'hca', internal: false, run: () => void this.device.reportError(d) });
    }
    if (this.device.umrCanComplete())
      out.push({ label: stepLabel('DevUmrComplete'), actor: 'hca', internal: false, run: () => void this.device.umrComplete() });
    // The driver's work items: take a queued fault, start a prefetch, or their next steps.
    const fault = this.tasks[0];
    if (fault) out.push(...this.flowActions(fault, () => (this.tasks[0] = null)));
    else {
      for (let d = 0; d < slots; d++) {
        if (this.device.slots[d]?.state !== 'faulted') continue;
        out.push({
          label: stepLabel('DriverTakeFault', { d }),
          actor: 'driver',
          internal: false,
          run: () => this.start({ flow: this.driver.pageFault(d), pending: null }, (t) => (this.tasks[0] = t)),
        });
      }
    }
    if (this.config.prefetch) {
      const pf = this.tasks[1];
      if (pf) out.push(...this.flowActions(pf, () => (this.tasks[1] = null)));
      else if (this.mm.live) {
        for (let v = 0; v < this.config.intervals; v++)
          out.push({
            label: stepLabel('AppPrefetch', { v }),
            actor: 'cpu',
            internal: false,
            run: () => this.start({ flow: this.driver.prefetch(v), pending: null }, (t) => (this.tasks[1] = t)),
          });
      }
    }
    return out;
  }

  private startAction(label: string, i: number, kind: Invalidator['kind'], lo: number, hi: number, blockable: boolean): Action {
    return {
      label,
      actor: 'mm',
      internal: false,
      run: () => {
        if (kind === 'release') this.mm.exit();
        else this.invsLeft--;
        this.start({ kind, lo, hi, blockable, flow: this.invalidator(i, kind, lo, hi, blockable), pending: null } as Invalidator, (t) => (this.invs[i] = t));
      },
    };
  }

  /** One invalidation by thread `i` (spec I1-I8): start (the callbacks run), PTE change, end. */
  private *invalidator(i: number, kind: Invalidator['kind'], lo: number, hi: number, blockable: boolean): Flow<void> {
    if (kind === 'elsewhere') {
      const region = yield* this.notifier.rangeStart(ELSEWHERE, ELSEWHERE + 1, { event: 'unmap', owner: null, blockable: true, thread: i });
      yield step('MmInvalidateEnd', { i });
      if (region) this.notifier.rangeEnd(region);
      return;
    }
    const event = kind === 'protect' ? 'protection' : kind === 'release' ? 'release' : 'unmap';
    const region = yield* this.notifier.rangeStart(lo, hi + 1, { event, owner: null, blockable, thread: i });
    if (region === null) return; // -EAGAIN: the PTEs are left alone
    yield step('MmUpdatePte', { i });
    for (let p = lo; p <= hi; p++) {
      if (kind === 'protect') this.mm.protect(p);
      else this.mm.clear(p);
    }
    yield step('MmInvalidateEnd', { i });
    this.notifier.rangeEnd(region);
  }

  /** The open region of invalidating thread `i` (null for a thread outside its region). */
  regionOf(i: number): OpenRegion | null {
    return this.notifier.regionOfThread(i);
  }

  /** A fault the handler has just given up on (not for a dead mm): the access will complete with an error. */
  private judgeFailures(): void {
    for (const a of this.device.slots) {
      if (a?.state !== 'failed' || this.failedSeen.has(a.id)) continue;
      this.failedSeen.add(a.id);
      const f = this.driver.failures.at(-1);
      if (f?.mmDead) continue;
      this.report(
        'failed-fault',
        `device ${a.op} of page ${a.page} (access #${a.id}) never completed: the fault handler gave up after ${f?.tries ?? this.config.retries} retries (the 1 s timeout) and the access fails with an error`,
      );
    }
  }

  /**
   * A thread that now waits for U while U is held by an invalidator whose callback is no longer
   * running (it returned): nothing will ever release U, so the waiter blocks forever (an madvise that
   * never returns, a device fault that never completes).
   */
  private judgeLockWaits(): void {
    const holder = this.driver.umem.holder;
    if (holder === null || !holder.startsWith('inv')) return;
    const i = Number(holder.slice(3));
    const owner = this.invs[i];
    if (owner?.pending && labelOf(owner.pending).startsWith('DriverInvalidate')) return;
    const leak = `U is still held by an earlier invalidate callback of invalidator ${i}, which has already returned (it never unlocked)`;
    const waiters: string[] = [];
    this.invs.forEach((t, j) => {
      if (t?.pending && labelOf(t.pending).startsWith('DriverInvalidateLock') && !t.pending.ready())
        waiters.push(
          `invalidator ${j} (${t.kind === 'clear' ? 'madvise' : t.kind === 'protect' ? 'page_mkclean' : 'exit_mmap'} of pages ${t.lo}..${t.hi}) blocks forever in its invalidate callback and never returns`,
        );
    });
    this.tasks.forEach((t, h) => {
      const fp = t?.pending;
      if (!fp || !/^DriverLock(Early)?\(/.test(labelOf(fp)) || fp.ready()) return;
      const w = this.driver.work[h];
      const a = w?.slot !== null && w?.slot !== undefined ? this.device.slots[w.slot] : null;
      waiters.push(
        h === 0
          ? `the fault handler blocks forever taking U, so the device ${a?.op ?? 'access'} of page ${a?.page ?? '?'} never completes`
          : 'the prefetch work blocks forever taking U',
      );
    });
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
    this.tasks.forEach((t, h) => {
      if (t?.pending) waiting.push(`the ${h === 0 ? 'fault handler' : 'prefetch work'}, at ${labelOf(t.pending)}`);
    });
    this.invs.forEach((t, i) => {
      if (t?.pending) waiting.push(`invalidator ${i}, at ${labelOf(t.pending)}`);
    });
    const lock = holder === null ? 'U is free' : `U is held by ${holder}`;
    const { seq: mmSeq, active } = this.notifier.core;
    const running = this.invs.filter((t) => t !== null).length + (this.notifier.core.openRegions.some((r) => r.range.owner === this.driver) ? 1 : 0);
    const leaked = active > running ? `, though only ${running} invalidation(s) are running: a region was never closed, so read_begin sleeps forever` : '';
    const seq = `the mm sequence is ${mmSeq} (${mmSeq % 2 ? 'odd' : 'even'}) with ${active} region(s) counted open${leaked}`;
    this.report('hung', `deadlock: nothing can move; waiting forever: ${waiting.join('; ') || 'nothing'}; ${lock}; ${seq}`);
    return this.damage.slice(-1);
  }
}

function staleTlbWords(a: DeviceAccess, cached: DevEntry, table: DevEntry): string {
  return `device ${a.op} of page ${a.page} (access #${a.id}) faulted through a stale read-only TLB entry for frame ${cached.frame} although the device table maps it writable (frame ${table.frame}): the device TLB was not invalidated on the upgrade, so the access faults again every time it is resumed`;
}
