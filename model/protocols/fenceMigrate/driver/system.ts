/**
 * The simulated fence-migrate system: CPU page tables and notifier core, physical memory, the HCA, the reference
 * driver running on them, the application that uses the memory, and the one scheduler-facing list of
 * everything that can happen next. Why this module exists: conformance, replay of model traces and
 * the hmm-tests scenarios all need the same thing, a system whose every concurrency choice is an
 * explicit `Action`, and a monitor that turns protocol bugs into concrete damage in plain words
 * (a DMA into a freed frame, a lost write, a stale read).
 *
 * Actors and their steps (model labels where the model has the step):
 * - CPU user: `CpuWrite(p)`;
 * - mm: `MmMigrateStart(p, f)` starts the reference migration sequence (driver/migratePage.ts),
 *   whose later steps are the driver's and the mm's; scenario flows (munmap, mprotect) run as tasks.
 *   `MmDiscardStart(p)` starts a madvise(MADV_DONTNEED) of the page (`discardPage` below), whose
 *   callback steps are the driver's; `MmMigrateFail(p)` makes a migration's migrate_vma_pages fail;
 * - remote peer + HCA: `HcaIssueDmaRead/Write(d, p)`, `HcaResumeDma(d)`, `HcaCompleteDma(d)`;
 * - driver work: the page-fault handler (`DriverFaultMirror(p)` and internal steps).
 */
import {
  type Action,
  CpuMm,
  type Flow,
  Hca,
  NotifierCore,
  PageAllocator,
  type Scheduler,
  type SimSystem,
  type Damage as SimDamage,
  type StepPoint,
  type StepRecord as SimStepRecord,
  type WorkTag,
  Workload,
  isInternal,
  labelOf,
  step as stepLabelPoint,
  stepLabel,
} from 'mirrorcheck/harness';
import type { DriverKnob, MigrationMode } from './driverOptions.js';
import { HcaMirrorDriver } from './hcaMirrorDriver.js';
import { type MigrationProgress, migratePage } from './migratePage.js';

/** Sizes and driver settings of a simulated system. */
export interface SystemConfig {
  readonly pages: number;
  readonly frames: number;
  /** DMA operations the HCA can have outstanding. */
  readonly slots: number;
  /** Writes (CPU or DMA) the application may issue. */
  readonly writes: number;
  /** Migrations the mm may start. */
  readonly migrations: number;
  /** Zaps of a page (madvise(MADV_DONTNEED)) the application may issue (default 0). */
  readonly discards?: number;
  /** Migrations whose migrate_vma_pages may fail (default 0). */
  readonly failures?: number;
  readonly mode: MigrationMode;
  readonly knob: DriverKnob | null;
  /** How the driver names its fault-handler steps (driver/driverOptions.ts); default `atomic`. */
  readonly faultSteps?: 'atomic' | 'retry';
  /**
   * `mapped` (default): page i lives in frame i and the HCA already translates it (the model's start
   * state). `unmirrored`: pages are present but the HCA translates nothing until it faults.
   */
  readonly start?: 'mapped' | 'unmirrored';
  /** Whether the remote peer posts DMA on its own (default true; scenarios post their own). */
  readonly peerDma?: boolean;
  /** Whether the CPU user writes on its own (default true). */
  readonly cpuWrites?: boolean;
  /** Whether each step record lists the hardware changes in words (default true; off for speed). */
  readonly describeSteps?: boolean;
}

/** What kind of concrete damage happened. */
export type DamageKind = 'freed-frame-access' | 'lost-write' | 'stale-read' | 'hung-dma';

/** Concrete damage seen in memory, in plain words. */
export interface Damage extends SimDamage {
  readonly kind: DamageKind;
}

/** A thread of control: a migration, a queued work item, or a scenario flow. */
export type TaskTag =
  | WorkTag
  | { readonly kind: 'migrate'; readonly page: number; readonly from: number; readonly to: number; readonly progress: MigrationProgress }
  | { readonly kind: 'discard'; readonly page: number };

export interface Task {
  readonly id: number;
  readonly tag: TaskTag;
  readonly flow: Flow;
  /** The step the task will take next (null once it has finished). */
  pending: StepPoint | null;
}

/** One executed step: its label, who took it, what changed in the hardware (in words), the damage. */
export interface StepRecord extends SimStepRecord {
  readonly damage: readonly Damage[];
}

interface Snapshot {
  readonly ptes: readonly { pfn: number | null; migration: boolean }[];
  readonly table: readonly (number | null)[];
  readonly blocked: readonly boolean[];
  readonly owner: readonly (number | null)[];
  readonly data: readonly number[];
  readonly slots: readonly ({ state: string; write: boolean; page: number; frame: number | null; val: number } | null)[];
  readonly inv: readonly boolean[];
}

export class MirrorSystem implements SimSystem {
  readonly config: SystemConfig;
  readonly notifier = new NotifierCore();
  readonly memory: PageAllocator;
  readonly mm: CpuMm;
  readonly hca: Hca;
  readonly driver: HcaMirrorDriver;
  readonly workload: Workload;
  readonly tasks: Task[] = [];
  readonly damage: Damage[] = [];
  readonly history: StepRecord[] = [];
  /** Zaps and migration failures still allowed (the model's discardsLeft and failsLeft). */
  discardsLeft: number;
  failsLeft: number;
  private nextTask = 1;
  private stepDamage: Damage[] = [];
  private readonly seenDamage = new Set<string>();

  constructor(config: SystemConfig) {
    if (config.frames < config.pages) throw new Error('need at least as many frames as pages');
    this.config = config;
    this.memory = new PageAllocator(config.frames);
    this.mm = new CpuMm(config.pages, this.notifier, this.memory);
    this.hca = new Hca(config.pages, config.slots, this.memory);
    this.workload = new Workload(config.pages, config.writes, config.migrations);
    this.discardsLeft = config.discards ?? 0;
    this.failsLeft = config.failures ?? 0;
    this.driver = new HcaMirrorDriver(
      this.mm,
      this.hca,
      { queueWork: (tag, flow) => this.spawn(tag, flow) },
      { mode: config.mode, knob: config.knob, faultSteps: config.faultSteps ?? 'atomic' },
    );
    // Fence mode (the model's) has no device page faults: its mirror only ever replaces translations,
    // so an access with none fails. Scenarios that start unmirrored use the fault path.
    this.hca.faultOnMiss = config.mode !== 'fence' || config.start === 'unmirrored';
    for (let p = 0; p < config.pages; p++) this.mm.populate(p, p);
    this.driver.register((config.start ?? 'mapped') === 'mapped');
    this.hca.onAccess = (op, frame) => {
      const owner = this.memory.owner[frame] ?? null;
      if (owner === op.page) return;
      const where = owner === null ? 'after it was freed' : `after it was freed and reused by page ${owner}`;
      this.report(
        'freed-frame-access',
        op.write
          ? `DMA write of value ${op.val} for page ${op.page} landed in frame ${frame} ${where}`
          : `DMA read of page ${op.page} read frame ${frame} ${where} (it returned ${this.memory.data[frame]})`,
      );
    };
  }

  /** Steps executed so far. */
  get steps(): number {
    return this.history.length;
  }

  /** Starts a thread of control; its code up to the first scheduling point runs now. */
  spawn(tag: TaskTag, flow: Flow): Task {
    const task: Task = { id: this.nextTask++, tag, flow, pending: null };
    this.tasks.push(task);
    this.advance(task);
    return task;
  }

  private advance(task: Task): void {
    const r = task.flow.next();
    if (r.done) {
      task.pending = null;
      const i = this.tasks.indexOf(task);
      if (i >= 0) this.tasks.splice(i, 1);
    } else {
      task.pending = r.value;
    }
  }

  /** The migration task of page `p`, if one is running. */
  migrationOf(p: number): (Task & { tag: Extract<TaskTag, { kind: 'migrate' }> }) | undefined {
    return this.tasks.find((t) => t.tag.kind === 'migrate' && t.tag.page === p) as (Task & { tag: Extract<TaskTag, { kind: 'migrate' }> }) | undefined;
  }

  /** Starts migrating page `p` to frame `f` (the action `MmMigrateStart(p, f)`). */
  startMigration(p: number, f: number): Task {
    const from = this.mm.pte(p).pfn;
    if (from === null) throw new Error(`page ${p} is not mapped`);
    this.workload.migrationsLeft--;
    const progress: MigrationProgress = { open: false, held: false, copied: false, failed: false };
    return this.spawn({ kind: 'migrate', page: p, from, to: f, progress }, migratePage(this.mm, this.driver, p, f, progress));
  }

  /** The zap task of page `p`, if one is running. */
  discardOf(p: number): Task | undefined {
    return this.tasks.find((t) => t.tag.kind === 'discard' && t.tag.page === p);
  }

  /**
   * madvise(MADV_DONTNEED) of page `p` (zap_page_range_single): the invalidation and the driver's
   * callback (DriverDiscardZap, DriverDiscardWait), then the PTE is cleared (a migration entry too)
   * and a mapped frame freed; a frame under migration is the migration's to free (MmDiscardEnd).
   */
  *discardPage(p: number): Flow {
    const region = yield* this.notifier.rangeStart({ start: p, end: p + 1, event: 'unmap', owner: null });
    yield stepLabelPoint('MmDiscardEnd', { p });
    const e = this.mm.pte(p);
    if (e.pfn !== null && !e.migration && this.memory.owner[e.pfn] === p) this.memory.free(e.pfn);
    e.pfn = null;
    e.migration = false;
    this.workload.latest[p] = 0;
    this.notifier.rangeEnd(region);
  }

  /** Every action enabled now, in a fixed order (CPU, mm, HCA, then tasks by age). */
  enabled(): Action[] {
    const out: Action[] = [];
    const { pages } = this.config;
    if (this.config.cpuWrites ?? true) {
      for (let p = 0; p < pages; p++) {
        if (this.workload.writesLeft > 0 && this.mm.cpuCanAccess(p, true)) {
          out.push({ label: stepLabel('CpuWrite', { p }), actor: 'cpu', internal: false, run: () => this.cpuWrite(p) });
        }
      }
    }
    if (this.workload.migrationsLeft > 0) {
      const free = this.memory.freeFrames();
      for (let p = 0; p < pages; p++) {
        if (this.migrationOf(p) || this.mm.pte(p).pfn === null) continue;
        // A driver-initiated migration starts with mmu_interval_read_begin, which sleeps while an
        // invalidation that reached the page is in progress.
        const sub = this.driver.subs[p];
        if (this.config.mode === 'fence' && (this.discardOf(p) || (sub && this.notifier.readBeginWouldSleep(sub)))) continue;
        for (const f of free)
          out.push({ label: stepLabel('MmMigrateStart', { p, f }), actor: 'mm', internal: false, run: () => void this.startMigration(p, f) });
      }
    }
    if (this.discardsLeft > 0) {
      for (let p = 0; p < pages; p++) {
        if (this.discardOf(p) || this.mm.pte(p).pfn === null) continue;
        out.push({ label: stepLabel('MmDiscardStart', { p }), actor: 'cpu', internal: false, run: () => this.startDiscard(p) });
      }
    }
    if (this.config.peerDma ?? true) {
      // Without page faults an access to an unblocked page with no translation fails at once: the
      // peer's operation never occupies the slot, as if it had not been posted.
      const reachable = (p: number) => this.hca.faultOnMiss || this.hca.blocked[p] || this.hca.table[p] !== null;
      for (let d = 0; d < this.config.slots; d++) {
        if (!this.hca.slotIdle(d)) continue;
        for (let p = 0; p < pages; p++)
          if (reachable(p))
            out.push({ label: stepLabel('HcaIssueDmaRead', { d, p }), actor: 'hca', internal: false, run: () => void this.hca.issue(d, p, false, 0) });
        if (this.workload.writesLeft > 0) {
          for (let p = 0; p < pages; p++)
            if (reachable(p)) out.push({ label: stepLabel('HcaIssueDmaWrite', { d, p }), actor: 'hca', internal: false, run: () => this.issueWrite(d, p) });
        }
      }
    }
    for (let d = 0; d < this.config.slots; d++) {
      if (this.hca.canRetry(d)) {
        const o = this.hca.retryOutcome(d);
        out.push({
          label: stepLabel(o === 'inflight' ? 'HcaResumeDma' : o === 'fail' ? 'HcaFailDma' : 'HcaRetryDma', { d }),
          actor: 'hca',
          internal: o !== 'inflight',
          run: () => this.hca.retry(d),
        });
      }
      const op = this.hca.slots[d];
      if (op && op.state === 'inflight') out.push({ label: stepLabel('HcaCompleteDma', { d }), actor: 'hca', internal: false, run: () => this.completeDma(d) });
    }
    for (const t of this.tasks) {
      const pt = t.pending;
      if (pt?.ready()) {
        out.push({
          label: labelOf(pt),
          actor: t.tag.kind === 'migrate' || t.tag.kind === 'discard' ? (labelOf(pt).startsWith('Mm') ? 'mm' : 'driver') : 'driver',
          internal: isInternal(pt),
          run: () => this.advance(t),
        });
        // migrate_vma_pages may fail for a collected page instead (an extra reference, a failed copy).
        const tag = t.tag;
        if (
          tag.kind === 'migrate' &&
          this.failsLeft > 0 &&
          labelOf(pt) === stepLabel('MmMigratePages', { p: tag.page }) &&
          tag.progress.held &&
          !tag.progress.failed
        ) {
          out.push({
            label: stepLabel('MmMigrateFail', { p: tag.page }),
            actor: 'mm',
            internal: false,
            run: () => {
              this.failsLeft--;
              tag.progress.failed = true;
              this.advance(t);
            },
          });
        }
      }
    }
    return out;
  }

  /** Starts a madvise(MADV_DONTNEED) of page `p` (the action `MmDiscardStart(p)`). */
  startDiscard(p: number): Task {
    this.discardsLeft--;
    return this.spawn({ kind: 'discard', page: p }, this.discardPage(p));
  }

  /** The CPU user stores a fresh value to page `p` (the store completes at once). */
  cpuWrite(p: number): void {
    const v = this.workload.nextValue(p);
    this.mm.cpuWrite(p, v);
    this.workload.completed(p, v);
  }

  /** The remote peer posts an RDMA write of a fresh value to page `p` on slot `d`. */
  issueWrite(d: number, p: number): void {
    this.hca.issue(d, p, true, this.workload.nextValue(p));
  }

  /** The HCA completes the operation on slot `d`: the memory access happens now. */
  completeDma(d: number): void {
    const c = this.hca.complete(d);
    if (c.write) {
      this.workload.completed(c.page, c.value as number);
      return;
    }
    const want = this.workload.latest[c.page] as number;
    if (c.value !== want && this.memory.owner[c.frame as number] === c.page) {
      const now = this.mm.pte(c.page).pfn;
      const where = now !== null && now !== c.frame ? `its old frame ${c.frame} (the CPU PTE names frame ${now})` : `frame ${c.frame}`;
      this.report(
        'stale-read',
        `DMA read of page ${c.page} returned ${this.valueText(c.value as number)} from ${where}, but the latest write to page ${c.page} was ${this.valueText(want)}`,
      );
    }
  }

  private valueText(v: number): string {
    if (v === 0) return 'value 0 (never written)';
    const p = this.workload.writtenFor(v);
    return `value ${v}${p === null ? '' : ` (written for page ${p})`}`;
  }

  private report(kind: DamageKind, message: string): void {
    const key = `${kind}:${message}`;
    if (this.seenDamage.has(key)) return;
    this.seenDamage.add(key);
    const d = { kind, step: this.history.length + 1, message };
    this.damage.push(d);
    this.stepDamage.push(d);
  }

  /** Checks what the CPU would read now: every accessible page must hold its latest write. */
  private checkCpuView(): void {
    for (let p = 0; p < this.config.pages; p++) {
      if (!this.mm.cpuCanAccess(p, false)) continue;
      const f = this.mm.pte(p).pfn as number;
      const v = this.memory.data[f] as number;
      const want = this.workload.latest[p] as number;
      if (v === want) continue;
      const msg =
        want !== 0
          ? `page ${p} lost the write of value ${want}: the CPU reads ${this.valueText(v)} from frame ${f}`
          : `page ${p} was corrupted: the CPU reads ${this.valueText(v)} from frame ${f}, but page ${p} was never written`;
      this.report('lost-write', msg);
    }
  }

  /**
   * Reports DMA that will never complete (a hung queue pair): by default every outstanding operation,
   * when nothing can run; with `only`, those operations, for the reason `because` (a loop that repeats
   * forever without them). Returns the damage reported.
   */
  reportHung(only?: ReadonlySet<number>, because = 'nothing else can run'): Damage[] {
    const before = this.damage.length;
    for (const op of this.hca.slots) {
      if (!op || (only && !only.has(op.id))) continue;
      const why =
        op.state === 'stalled'
          ? `page ${op.page} stays blocked`
          : op.state === 'faulting'
            ? `its page fault on page ${op.page} is never resolved`
            : 'it never completes';
      this.report('hung-dma', `DMA ${op.write ? `write of value ${op.val}` : 'read'} for page ${op.page} on slot ${op.slot} hangs: ${why}, and ${because}`);
    }
    return this.damage.slice(before);
  }

  /** Performs one action and records it with the hardware changes and any damage it caused. */
  perform(a: Action): StepRecord {
    const describe = this.config.describeSteps ?? true;
    const before = describe ? this.snapshot() : null;
    this.stepDamage = [];
    a.run();
    this.checkCpuView();
    const changes = before ? describeChanges(before, this.snapshot()) : [];
    const rec: StepRecord = { label: a.label, actor: a.actor, internal: a.internal, changes, damage: this.stepDamage };
    this.history.push(rec);
    // Damage reported after the step (a hang found when nothing can run) belongs to no step.
    this.stepDamage = [];
    return rec;
  }

  /** Runs steps chosen by `scheduler` until it stops, nothing is enabled, or `maxSteps` were taken. */
  run(scheduler: Scheduler, maxSteps = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < maxSteps) {
      const acts = this.enabled();
      if (acts.length === 0) {
        this.reportHung();
        break;
      }
      const k = scheduler.choose(acts);
      if (k === null) break;
      this.perform(acts[k] as Action);
      n++;
    }
    return n;
  }

  /** Performs the enabled action labelled `label`; throws when it is not enabled. */
  performLabel(label: string): StepRecord {
    const a = this.enabled().find((x) => x.label === label);
    if (!a)
      throw new Error(
        `${label} is not enabled (enabled: ${this.enabled()
          .map((x) => x.label)
          .join(', ')})`,
      );
    return this.perform(a);
  }

  /** Whether page `p` has an open invalidation region. */
  invalidating(p: number): boolean {
    return this.notifier.invalidating(p);
  }

  private snapshot(): Snapshot {
    return {
      ptes: this.mm.ptes.map((e) => ({ pfn: e.pfn, migration: e.migration })),
      table: [...this.hca.table],
      blocked: [...this.hca.blocked],
      owner: [...this.memory.owner],
      data: [...this.memory.data],
      slots: this.hca.slots.map((op) => (op ? { state: op.state, write: op.write, page: op.page, frame: op.frame, val: op.val } : null)),
      inv: Array.from({ length: this.config.pages }, (_, p) => this.notifier.invalidating(p)),
    };
  }

  /**
   * A key that identifies the system's observable state (memory, tables, DMA, tasks' next steps,
   * budgets), for searches that must not revisit a state. Sequence numbers are left out.
   */
  signature(): string {
    return JSON.stringify([
      this.snapshot(),
      this.mm.ptes.map((e) => e.prot),
      this.tasks.map((t) => (t.pending ? labelOf(t.pending) : '')),
      this.workload.latest,
      this.workload.writesLeft,
      this.workload.migrationsLeft,
      this.discardsLeft,
      this.failsLeft,
      this.hca.slots.map((op) => (op ? [op.resumed, op.error] : null)),
      this.driver.subs.map((s) => this.notifier.readBeginWouldSleep(s)),
    ]);
  }
}

const frameText = (f: number | null) => (f === null ? 'none' : `frame ${f}`);

/** The hardware changes between two snapshots, in plain words. */
function describeChanges(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  b.inv.forEach((x, p) => {
    if (x !== a.inv[p]) out.push(x ? `mm opens an invalidation of page ${p}` : `mm closes the invalidation of page ${p}`);
  });
  b.ptes.forEach((e, p) => {
    const o = a.ptes[p] as Snapshot['ptes'][number];
    if (o.pfn === e.pfn && o.migration === e.migration) return;
    const txt = (x: typeof e) => (x.pfn === null ? 'unmapped' : x.migration ? `migration entry (was frame ${x.pfn})` : `frame ${x.pfn}`);
    out.push(`CPU PTE of page ${p}: ${txt(o)} -> ${txt(e)}`);
  });
  b.owner.forEach((o, f) => {
    const was = a.owner[f] ?? null;
    if (o === was) return;
    out.push(
      o === null
        ? `frame ${f} freed (it held page ${was})`
        : was === null
          ? `frame ${f} allocated to page ${o}`
          : `frame ${f} moves from page ${was} to page ${o}`,
    );
  });
  b.data.forEach((v, f) => {
    if (v !== a.data[f]) out.push(`frame ${f} now holds ${v} (was ${a.data[f]})`);
  });
  b.table.forEach((t, p) => {
    if (t !== (a.table[p] ?? null)) out.push(`HCA MTT entry of page ${p}: ${frameText(a.table[p] ?? null)} -> ${frameText(t)}`);
  });
  b.blocked.forEach((x, p) => {
    if (x !== a.blocked[p]) out.push(x ? `HCA blocks DMA to page ${p}` : `HCA unblocks DMA to page ${p}`);
  });
  b.slots.forEach((op, d) => {
    const o = a.slots[d] ?? null;
    if (JSON.stringify(o) === JSON.stringify(op)) return;
    if (op === null) {
      out.push(`DMA slot ${d}: ${o?.write ? `write of ${o.val}` : 'read'} for page ${o?.page} finished`);
      return;
    }
    const what = op.write ? `write of ${op.val} for page ${op.page}` : `read of page ${op.page}`;
    const where = op.state === 'inflight' ? `in flight to frame ${op.frame}` : op.state === 'stalled' ? 'stalled (page blocked)' : 'faulting (no translation)';
    out.push(`DMA slot ${d}: ${what} ${where}`);
  });
  return out;
}
