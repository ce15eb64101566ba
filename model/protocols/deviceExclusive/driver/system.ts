/**
 * The simulated device-exclusive system: the process mm (exclusiveMm.ts), the nouveau-like driver and
 * its device (nouveauSvm.ts), CPU threads faulting on exclusive entries, page migration, and the one
 * list of everything that can happen next; plus the monitor that turns protocol bugs into damage in
 * words. Why this module exists: conformance to the device-exclusive model and the replay of its
 * counterexamples need every concurrency choice as an explicit `Action` labelled like the model's
 * rule instances; the hmm-tests exclusive scenarios need the same system driven by a program.
 */
import {
  type Action,
  type Damage,
  type Flow,
  NotifierCore,
  type OpenRegion,
  type Scheduler,
  type SimSystem,
  type StepPoint,
  type StepRecord,
  isInternal,
  labelOf,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import { ExclusiveMm } from './exclusiveMm.js';
import { NouveauSvm, type OwnerFilter } from './nouveauSvm.js';

/** The reference driver's bug knobs: each is a device-exclusive model variant of the same name. */
export const DX_KNOBS = ['no-owner-filter', 'exclusive-fault-no-ref', 'filter-ignores-owner'] as const;
export type DxKnob = (typeof DX_KNOBS)[number];

/** Sizes, budgets and knob of a simulated device-exclusive system. */
export interface DxSystemConfig {
  readonly pages: number;
  readonly frames: number;
  readonly cpus: number;
  readonly accesses: number;
  readonly migrations: number;
  readonly devfaults: number;
  readonly knob: DxKnob | null;
  /** The model's environment acts by itself; false for scenarios. */
  readonly spontaneous: boolean;
}

/** Kinds of concrete damage. */
export type DxDamageKind = 'use-after-free' | 'stale-atomic-mapping' | 'hung';

interface Task {
  readonly flow: Flow<unknown>;
  pending: StepPoint | null;
  readonly actor: Action['actor'];
  result?: unknown;
}

/** A CPU thread's fault on an exclusive entry. */
export interface CpuFault extends Task {
  readonly page: number;
  readonly frame: number;
  stage: 'lock' | 'restore' | 'end';
}

/** A migration of the page mapped at `page`, from frame `from`. */
export interface Migration extends Task {
  readonly page: number;
  readonly from: number;
}

export class DxSystem implements SimSystem {
  readonly config: DxSystemConfig;
  readonly notifier = new NotifierCore();
  readonly mm: ExclusiveMm;
  readonly driver: NouveauSvm;
  readonly damage: Damage[] = [];
  readonly history: string[] = [];
  readonly cpuFaults = new Map<number, CpuFault>();
  devTask: Task | null = null;
  migration: Migration | null = null;
  accessesTaken = 0;
  migrationsTaken = 0;

  constructor(config: DxSystemConfig) {
    this.config = config;
    this.mm = new ExclusiveMm({ pages: config.pages, frames: config.frames, notifier: this.notifier, faultNoRef: config.knob === 'exclusive-fault-no-ref' });
    const filter: OwnerFilter = config.knob === 'no-owner-filter' ? 'none' : config.knob === 'filter-ignores-owner' ? 'any-exclusive' : 'owner';
    this.driver = new NouveauSvm(this.mm, config.pages, filter);
    this.mm.onFreedPageUse = (who, f, what) =>
      this.report('use-after-free', `${who} used frame ${f} (${what}) after its last reference was dropped: a migration freed the page under the fault`);
  }

  private report(kind: DxDamageKind, message: string): void {
    if (this.damage.some((d) => d.message === message)) return;
    this.damage.push({ kind, step: this.history.length + 1, message });
  }

  /**
   * After every step: a device atomic mapping the CPU page table no longer backs with an exclusive
   * entry; a CPU fault holding (or waiting to lock) a page that has been freed.
   */
  private judge(): void {
    for (const [c, t] of this.cpuFaults)
      if (t.stage !== 'end' && this.mm.page(t.frame).ref === 0)
        this.report(
          'use-after-free',
          `CPU ${c}'s fault on page ${t.page} ${t.stage === 'lock' ? 'waits to lock' : 'holds the lock of'} frame ${t.frame}, which has been freed (its last reference dropped): remove_device_exclusive_entry uses a page it holds no reference on`,
        );
    this.driver.atomic.forEach((f, p) => {
      if (f === null) return;
      const e = this.mm.pte(p);
      if (this.mm.page(f).ref === 0)
        this.report(
          'stale-atomic-mapping',
          `the device keeps an atomic mapping of page ${p} to frame ${f}, which has been freed: its atomics land in a free page`,
        );
      else if (!e.excl || e.frame !== f)
        this.report(
          'stale-atomic-mapping',
          `the device keeps its atomic mapping of page ${p} (frame ${f}) after ${e.frame === f ? 'the CPU got the page back (the PTE is no longer device-exclusive)' : `the page moved to frame ${e.frame}`}: device atomics and CPU accesses to the page are no longer exclusive`,
        );
    });
  }

  private advance(t: Task): void {
    const r = t.flow.next();
    if (r.done) {
      t.pending = null;
      t.result = r.value;
    } else t.pending = r.value;
  }

  private actionsOf(t: Task, done: () => void, label?: (p: StepPoint) => string): Action[] {
    const p = t.pending;
    if (!p?.ready()) return [];
    return [
      {
        label: label ? label(p) : labelOf(p),
        actor: t.actor,
        internal: isInternal(p),
        run: () => {
          this.advance(t);
          if (t.pending === null) done();
        },
      },
    ];
  }

  /** A CPU fault of thread c on the exclusive entry of page p (do_swap_page -> remove_device_exclusive_entry). */
  private *cpuFaultFlow(c: number, p: number, self: { t: CpuFault | null }): Flow<void> {
    yield step('CpuFaultExclusive', { c, p });
    const f = this.mm.faultTakeRef(p);
    const t = self.t as CpuFault;
    Object.assign(t, { frame: f });
    yield step('CpuFaultLockPage', { c }, () => !this.mm.page(f).locked);
    if (this.mm.page(f).ref === 0) this.mm.onFreedPageUse?.(`CPU ${c}'s fault`, f, 'folio_lock in remove_device_exclusive_entry');
    this.mm.page(f).locked = true;
    const region: OpenRegion = this.mm.openRegion(p, 'exclusive', null);
    t.stage = 'restore';
    yield step('CpuFaultRestorePte', { c });
    this.mm.faultRestore(`CPU ${c}'s fault`, p, f);
    t.stage = 'end';
    yield step('CpuFaultEnd', { c });
    this.notifier.rangeEnd(region);
  }

  /** CPU c faults on the exclusive entry of page p: the fault's first step is taken now. */
  startCpuFault(c: number, p: number): void {
    if (this.cpuFaults.has(c)) throw new Error(`CPU ${c} is already faulting`);
    this.accessesTaken++;
    const self: { t: CpuFault | null } = { t: null };
    const t: CpuFault = { flow: this.cpuFaultFlow(c, p, self), pending: null, actor: 'cpu', page: p, frame: this.mm.pte(p).frame, stage: 'lock' };
    self.t = t;
    this.advance(t);
    this.advance(t);
    if (t.pending) this.cpuFaults.set(c, t);
  }

  /** The device raises an atomic fault on page p; the driver serves it (its first step is taken now). Returns the task (its result: 0 or -EPERM). */
  startAtomicFault(p: number): { readonly result?: unknown } {
    if (this.devTask) throw new Error('the driver is already serving an atomic fault');
    const t: Task = { flow: this.driver.atomicFault(p), pending: null, actor: 'driver' };
    this.advance(t);
    this.advance(t);
    this.devTask = t.pending ? t : null;
    return t;
  }

  private *migrationFlow(p: number): Flow<void> {
    yield step('MmMigrateLock', { p });
    const m = this.migration as Migration;
    Object.assign(m, { from: this.mm.migrateLock(p) });
    yield {
      label: () => stepLabel('MmMigrateMove', { t: this.mm.freeFrames()[0] ?? -1 }),
      ready: () => this.mm.freeFrames().length > 0,
      internal: false,
    };
  }

  /** Migration of the page mapped at p (isolate and lock now). */
  startMigration(p: number): void {
    if (this.migration) throw new Error('a migration is already running');
    this.migrationsTaken++;
    const m: Migration = { flow: this.migrationFlow(p), pending: null, actor: 'mm', page: p, from: this.mm.pte(p).frame };
    this.migration = m;
    this.advance(m);
    this.advance(m);
  }

  /** Whether any operation is still running. */
  get busy(): boolean {
    return this.devTask !== null || this.migration !== null || this.cpuFaults.size > 0;
  }

  enabled(): Action[] {
    const out: Action[] = [];
    const cfg = this.config;
    const { mm, driver } = this;
    for (let c = 0; c < cfg.cpus; c++) {
      const t = this.cpuFaults.get(c);
      if (t) out.push(...this.actionsOf(t, () => this.cpuFaults.delete(c)));
      else if (cfg.spontaneous && this.accessesTaken < cfg.accesses)
        for (let p = 0; p < cfg.pages; p++)
          if (mm.pte(p).excl) out.push({ label: stepLabel('CpuFaultExclusive', { c, p }), actor: 'cpu', internal: false, run: () => this.startCpuFault(c, p) });
    }
    if (this.devTask) out.push(...this.actionsOf(this.devTask, () => (this.devTask = null)));
    else if (cfg.spontaneous && driver.faultsBegun < cfg.devfaults)
      for (let p = 0; p < cfg.pages; p++)
        if (driver.atomic[p] === null)
          out.push({ label: stepLabel('DevAtomicFault', { p }), actor: 'hca', internal: false, run: () => this.startAtomicFault(p) });
    const m = this.migration;
    if (m) {
      // One action per free destination frame.
      if (m.pending?.ready())
        for (const t of mm.freeFrames())
          out.push({
            label: stepLabel('MmMigrateMove', { t }),
            actor: 'mm',
            internal: false,
            run: () => {
              mm.migrateMove(m.page, m.from, t);
              this.migration = null;
            },
          });
    } else if (cfg.spontaneous && this.migrationsTaken < cfg.migrations)
      for (let p = 0; p < cfg.pages; p++)
        if (!mm.pte(p).excl && !mm.page(mm.pte(p).frame).locked)
          out.push({ label: stepLabel('MmMigrateLock', { p }), actor: 'mm', internal: false, run: () => this.startMigration(p) });
    return out;
  }

  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    this.history.push(a.label);
    this.judge();
    return { label: a.label, actor: a.actor, internal: a.internal, changes: [], damage: this.damage.slice(seen) };
  }

  /** Runs the system under `scheduler` until it stops or `max` steps; returns the steps taken. */
  run(scheduler: Scheduler, max = 10_000): number {
    let n = 0;
    while (n < max) {
      const acts = this.enabled();
      if (acts.length === 0) break;
      const k = scheduler.choose(acts);
      if (k === null) break;
      this.perform(acts[k] as Action);
      n++;
    }
    return n;
  }

  /** Work outstanding now, by id: the driver's atomic fault 1, the migration 2, CPU c's fault 10 + c. */
  outstanding(): ReadonlySet<number> {
    const s = new Set<number>();
    if (this.devTask) s.add(1);
    if (this.migration) s.add(2);
    for (const c of this.cpuFaults.keys()) s.add(10 + c);
    return s;
  }

  reportHung(only?: ReadonlySet<number>, because?: string): readonly Damage[] {
    const want = (id: number) => !only || only.has(id);
    const names: string[] = [];
    if (this.devTask?.pending && want(1))
      names.push(
        `the device's atomic fault on page ${this.driver.fault?.page ?? '?'} (the driver has retried make_device_exclusive ${this.driver.retries} time${this.driver.retries === 1 ? '' : 's'}, at ${labelOf(this.devTask.pending)})`,
      );
    if (this.migration && want(2)) names.push(`the migration of page ${this.migration.page}`);
    for (const [c, t] of this.cpuFaults) if (t.pending && want(10 + c)) names.push(`CPU ${c}'s fault on page ${t.page}, at ${labelOf(t.pending)}`);
    if (names.length === 0) return [];
    const seen = this.damage.length;
    this.report('hung', `${because ? `never completes (${because})` : 'deadlock: nothing can move'}; waiting forever: ${names.join('; ')}`);
    return this.damage.slice(seen);
  }
}
