/**
 * The simulated hmm-migrate system: the process mm with its anonymous pages (anonMm.ts), the
 * dmirror-like driver and its device (dmirror.ts), the CPU threads, MADV_DONTNEED, reclaim, a GUP
 * user, and the one list of everything that can happen next; plus the monitor that turns protocol
 * bugs into damage in words. Why this module exists: conformance to the hmm-migrate model and the
 * replay of its counterexamples need every concurrency choice as an explicit `Action` labelled like
 * the model's rule instances; the hmm-tests scenarios need the same system driven by a program.
 *
 * Two ways to drive it: `spontaneous` (the model's environment: CPUs, the device, madvise, reclaim
 * and GUP act whenever they can, within the model's budgets, on page 0), or by a scenario, which
 * starts operations (`startMigration`, `cpuAccess`, `deviceAccess`, `startMadvise`, ...) and runs
 * the steps they take under a scheduler.
 */
import {
  type Action,
  type Damage,
  type Flow,
  NotifierCore,
  type Scheduler,
  type SimSystem,
  type StepPoint,
  type StepRecord,
  isChoicePoint,
  isInternal,
  labelOf,
  stepLabel,
} from 'mirrorcheck/harness';
import { AnonMm, type KernelKnobs } from './anonMm.js';
import { type DeviceAccessResult, Dmirror } from './dmirror.js';

/** The reference driver's bug knobs: each is an hmm-migrate model variant of the same name. */
export const HM_KNOBS = ['flush-after-ptl-unlock', 'device-private-fault-no-ref', 'dirty-bit-dropped', 'map-without-retry'] as const;
export type HmKnob = (typeof HM_KNOBS)[number];

/** Sizes, budgets and knob of a simulated hmm-migrate system. */
export interface HmSystemConfig {
  readonly pages: number;
  readonly cpus: number;
  readonly frames: number;
  readonly devframes: number;
  /** Budgets of the spontaneous environment (the model's parameters). */
  readonly migrations: number;
  readonly zaps: number;
  readonly writes: number;
  readonly pins: number;
  readonly reclaim: boolean;
  /**
   * Whether the driver's device-page allocation may fail while its pool has free pages (the backing
   * system page or a new chunk cannot be allocated), as the model allows; false where memory is
   * plentiful, as the hmm-tests selftests assume.
   */
  readonly allocMayFail: boolean;
  readonly dirty: KernelKnobs['dirtyMode'];
  readonly knob: HmKnob | null;
  /** The model's environment acts by itself (see the module header); false for scenarios. */
  readonly spontaneous: boolean;
  /** The model's start state: page 0 mapped clean in frame 0 and cached in its valid swap slot. */
  readonly start: 'model' | 'empty';
}

/** Kinds of concrete damage. */
export type HmDamageKind = 'freed-page-access' | 'stale-translation' | 'stale-read' | 'use-after-free' | 'hung';

interface Task<T = unknown> {
  readonly name: string;
  readonly flow: Flow<T>;
  pending: StepPoint | null;
  result?: T;
  readonly actor: Action['actor'];
}

/** The simulated system (see the module header). */
export class HmSystem implements SimSystem {
  readonly config: HmSystemConfig;
  readonly notifier = new NotifierCore();
  readonly mm: AnonMm;
  readonly driver: Dmirror;
  readonly damage: Damage[] = [];
  readonly history: string[] = [];
  /** Ghost: what a read of each page must return (the last write; zero after MADV_DONTNEED). */
  readonly latest: number[];
  /** Writes made (CPU and device); each writes the value written + 1. */
  written = 0;
  /** The migration to device memory (driver thread), the madvise thread, the device thread, CPU fault paths. */
  fwdTask: Task<number> | null = null;
  zapTask: (Task & { zapped: boolean }) | null = null;
  devTask: Task<DeviceAccessResult> | null = null;
  readonly cpuTasks = new Map<number, Task & { readonly page: number; readonly dev: number }>();
  /** HMM_DMIRROR_RELEASE's eviction, when a scenario started one. */
  evictTask: Task<number> | null = null;
  zapsStarted = 0;
  pinsTaken = 0;

  constructor(config: HmSystemConfig) {
    this.config = config;
    const knob = config.knob;
    this.mm = new AnonMm({
      pages: config.pages,
      frames: config.frames,
      devframes: config.devframes,
      cpus: config.cpus,
      notifier: this.notifier,
      knobs: {
        flushAfterPtlUnlock: knob === 'flush-after-ptl-unlock',
        faultNoRef: knob === 'device-private-fault-no-ref',
        dirtyDropped: knob === 'dirty-bit-dropped',
        dirtyMode: config.dirty,
      },
    });
    this.driver = new Dmirror(this.mm, config.pages, { mapRetry: knob !== 'map-without-retry', allocMayFail: config.allocMayFail });
    this.latest = Array.from({ length: config.pages }, () => 0);
    if (config.start === 'model') {
      this.mm.populate(0, 0);
      (this.mm.frames[0] as { ref: number }).ref = 2;
      this.mm.swap[0] = { valid: true, data: 0, cached: 0 };
    }
    this.mm.monitor = {
      cpuAccess: (c, p, f, op, v) => this.judgeCpuAccess(c, p, f, op, v),
      freedDevicePageUse: (c, d, what) =>
        this.report(
          'use-after-free',
          `${c >= 0 ? `CPU ${c}'s fault` : 'the fault path'} used device page ${d} in ${what} after its last reference was dropped: the page was freed (pgmap page_free ran) under the fault`,
        ),
    };
    this.driver.deviceMonitor = (p, d, op, v) => this.judgeDeviceAccess(p, d, op, v);
  }

  private report(kind: HmDamageKind, message: string): void {
    if (this.damage.some((x) => x.message === message)) return;
    this.damage.push({ kind, step: this.history.length + 1, message });
  }

  /** Where page p's data lives now, as the model's `content` says (what a read must eventually return). */
  content(p: number): number {
    const e = this.mm.ptes[p];
    if (!e) return 0;
    const fwd = this.driver.forward?.args.entries.find((x) => x.page === p);
    switch (e.kind) {
      case 'present':
        return this.mm.frames[e.frame]?.data ?? 0;
      case 'migration':
        if (fwd?.committed && fwd.dst !== null && !this.driver.forward?.args.finalized) return this.mm.devPages[fwd.dst]?.data ?? 0;
        return this.mm.frames[e.frame]?.data ?? 0;
      case 'devpriv':
      case 'devmigration':
        return this.mm.devPages[e.dev]?.data ?? 0;
      case 'swap':
        return this.mm.swap[p]?.data ?? 0;
      default:
        return 0;
    }
  }

  private judgeCpuAccess(c: number, p: number, f: number, op: 'read' | 'write', v: number): void {
    const pg = this.mm.frames[f];
    const e = this.mm.ptes[p];
    const mapsIt = e && (e.kind === 'present' || e.kind === 'migration') && e.frame === f;
    const what = op === 'read' ? `CPU ${c}'s load of page ${p} read frame ${f}` : `CPU ${c}'s store of value ${v} to page ${p} landed in frame ${f}`;
    if (!pg || pg.ref === 0) {
      this.report('freed-page-access', `${what} after the frame was freed${op === 'write' ? ': the write is lost' : ''}`);
      return;
    }
    if (!mapsIt) {
      this.report(
        'stale-translation',
        `${what} through a stale TLB entry: page ${p}'s PTE is ${e?.kind ?? 'gone'}${e?.kind === 'none' ? ' (MADV_DONTNEED zapped it)' : ''}, so the ${op === 'write' ? 'write is lost' : 'value read is not the page'}`,
      );
      return;
    }
    if (op === 'read' && v !== this.latest[p]) {
      // A frame in the swap cache holding the slot's data was read in from swap: the newer data was
      // dropped without being written back (reclaim found the page clean).
      const s = this.mm.swap[p];
      const fromSwap =
        s?.cached === f && s.data === v
          ? `; frame ${f} was read in from the swap slot, whose copy is older: the page was dropped without being written back`
          : '';
      this.report('stale-read', `${what} and got ${v}, but the last value written to page ${p} is ${this.latest[p]}: a write was lost${fromSwap}`);
    }
  }

  private judgeDeviceAccess(p: number, d: number, op: 'read' | 'write', v: number): void {
    const pg = this.mm.devPages[d];
    const e = this.mm.ptes[p];
    const fwd = this.driver.forward?.args.entries.find((x) => x.page === p && x.committed && x.dst === d);
    const named = e && (e.kind === 'devpriv' || e.kind === 'devmigration') && e.dev === d;
    const what =
      op === 'read' ? `the device's read of page ${p} read device page ${d}` : `the device's write of value ${v} to page ${p} landed in device page ${d}`;
    if (!pg || pg.ref === 0) {
      this.report(
        'freed-page-access',
        `${what} after that page was freed (its last reference dropped, page_free ran)${op === 'write' ? ': the write is lost' : ''}`,
      );
      return;
    }
    if (!named && !fwd) {
      this.report(
        'stale-translation',
        `${what}, which page ${p} no longer uses (its PTE is ${e?.kind ?? 'gone'}): the device mirrors a page the process no longer has`,
      );
      return;
    }
    if (op === 'read' && v !== this.latest[p])
      this.report('stale-read', `${what} and got ${v}, but the last value written to page ${p} is ${this.latest[p]}: a write was lost`);
  }

  // --- tasks ----------------------------------------------------------------------------------

  private advance(t: Task): void {
    const r = t.flow.next();
    if (r.done) {
      t.pending = null;
      t.result = r.value;
    } else t.pending = r.value;
  }

  private task<T>(name: string, flow: Flow<T>, actor: Action['actor']): Task<T> {
    const t: Task<T> = { name, flow, pending: null, actor };
    this.advance(t as Task);
    return t;
  }

  /** Actions for a task's pending point (several for an allocation), or none when it must wait. */
  private taskActions(t: Task, done: () => void): Action[] {
    const p = t.pending;
    if (!p?.ready()) return [];
    const run = (choice: number | null) => () => {
      this.mm.allocChoice = choice;
      this.advance(t);
      if (t.pending === null) done();
    };
    if (isChoicePoint(p))
      return p.alternatives().map((alt) => ({ label: alt.label, actor: t.actor, internal: alt.internal ?? isInternal(p), run: run(alt.frame) }));
    return [{ label: labelOf(p), actor: t.actor, internal: isInternal(p), run: run(null) }];
  }

  /** A write of page p by a scenario or the environment: the next value, and the ghost follows. */
  private writeValue(p: number): { can(): boolean; take(): number } {
    return {
      can: () => this.written < this.config.writes,
      take: () => {
        this.written++;
        this.latest[p] = this.written;
        return this.written;
      },
    };
  }

  // --- operations a scenario starts ------------------------------------------------------------

  /** HMM_DMIRROR_MIGRATE_TO_DEV of pages [start, end): a driver thread; `firstStep` also takes its first step (read_begin). */
  startMigration(start: number, end: number, firstStep = false): void {
    if (this.fwdTask) throw new Error('a migration to device memory is already running');
    const t = this.task('migrate', this.driver.migrateToDevice(start, end), 'driver');
    this.fwdTask = t.pending ? t : null;
    if (firstStep && this.fwdTask) this.taskActions(this.fwdTask, () => (this.fwdTask = null))[0]?.run();
  }

  /** MADV_DONTNEED of pages [start, end). */
  startMadvise(start: number, end: number): void {
    if (this.zapTask) throw new Error('a MADV_DONTNEED is already running');
    this.zapsStarted++;
    const hooks = {
      zapped: () => {
        if (this.zapTask) this.zapTask.zapped = true;
        for (let p = start; p < end; p++) this.latest[p] = 0;
      },
      ended: () => {
        for (let p = start; p < end; p++) this.latest[p] = this.content(p);
      },
    };
    const t = Object.assign(this.task('madvise', this.mm.madviseDontneed(start, end, hooks), 'mm'), { zapped: false });
    this.zapTask = t.pending ? t : null;
  }

  /** HMM_DMIRROR_RELEASE: the driver evicts every device page back to system memory. */
  startEvict(): Task<number> {
    if (this.evictTask) throw new Error('an eviction is already running');
    const t = this.task('evict', this.driver.evictAll(), 'driver');
    this.evictTask = t.pending ? t : null;
    return t;
  }

  /** Whether any operation is still running. */
  get busy(): boolean {
    return this.fwdTask !== null || this.zapTask !== null || this.devTask !== null || this.evictTask !== null || this.cpuTasks.size > 0;
  }

  /** The device reads (or writes the next value to) page p, through the driver. */
  startDeviceAccess(p: number, op: 'read' | 'write'): Task<DeviceAccessResult> {
    if (this.devTask) throw new Error('the device is busy');
    const flow =
      op === 'read' ? this.driver.deviceRead(p, p === 0 ? 'DevRead()' : stepLabel('DevRead', { p })) : this.driver.deviceWrite(p, this.writeValue(p));
    const t = this.task(`device ${op}`, flow, 'hca');
    this.devTask = t.pending ? t : null;
    return t;
  }

  /** The kind of access CPU c can make to page p now, or null when it has to wait (its fault page is locked). */
  cpuAccessKind(c: number, p: number, op: 'read' | 'write'): 'hit' | 'anon' | 'swapin' | 'devpriv' | null {
    const { mm } = this;
    if (op === 'read' ? mm.canLoad(c, p) : mm.canStore(c, p)) return 'hit';
    const e = mm.ptes[p];
    if (!e || !mm.walks(c, p)) return null;
    if (e.kind === 'none') return 'anon';
    if (e.kind === 'swap') return 'swapin';
    if (e.kind === 'devpriv' && !mm.devPages[e.dev]?.locked) return 'devpriv';
    return null;
  }

  /** CPU c faults on the device-private entry of page p: do_swap_page, then the driver's migrate_to_ram. */
  startDevicePrivateFault(c: number, p: number): void {
    const d = this.mm.ptes[p]?.dev ?? 0;
    const t = this.task(
      `cpu ${c} fault`,
      this.mm.doSwapPageDevicePrivate(c, p, (cc, pp, dd) => this.driver.migrateToRam(cc, pp, dd)),
      'cpu',
    );
    // The task's first point is do_swap_page's own step; take it now (the fault starts here).
    const first = this.taskActions(t, () => undefined);
    first[0]?.run();
    if (t.pending) this.cpuTasks.set(c, Object.assign(t, { page: p, dev: d }));
  }

  /** A CPU load or store that hits, or resolves a fault that needs no driver (anon, swap-in); returns the value read. */
  cpuHitOrSimpleFault(c: number, p: number, op: 'read' | 'write', frame?: number): number {
    const kind = this.cpuAccessKind(c, p, op);
    if (kind === 'anon' || kind === 'swapin') {
      const f = frame ?? this.mm.freeFrames()[0];
      if (f === undefined) throw new Error('no free frame');
      if (kind === 'anon') this.mm.doAnonymousPage(c, p, f);
      else this.mm.swapIn(c, p, f);
      return -1;
    }
    if (kind !== 'hit') throw new Error(`CPU ${c} cannot access page ${p} now (${kind})`);
    if (op === 'read') return this.mm.load(c, p);
    const v = this.writeValue(p);
    if (!v.can()) throw new Error('the write budget is spent');
    const x = v.take();
    this.mm.store(c, p, x);
    return x;
  }

  // --- the system's actions --------------------------------------------------------------------

  /** Every action that can be taken now, in a fixed order. */
  enabled(): Action[] {
    const out: Action[] = [];
    const cfg = this.config;
    if (this.fwdTask) out.push(...this.taskActions(this.fwdTask, () => (this.fwdTask = null)));
    else if (cfg.spontaneous && this.driver.migrationsBegun < cfg.migrations)
      out.push({ label: 'dmirror_migrate_to_device()', actor: 'driver', internal: true, run: () => this.startMigration(0, cfg.pages) });
    if (this.zapTask) out.push(...this.taskActions(this.zapTask, () => (this.zapTask = null)));
    else if (cfg.spontaneous && this.zapsStarted < cfg.zaps)
      out.push({ label: 'madvise(MADV_DONTNEED)', actor: 'mm', internal: true, run: () => this.startMadvise(0, 1) });
    for (let c = 0; c < cfg.cpus; c++) {
      const t = this.cpuTasks.get(c);
      if (t) {
        out.push(...this.taskActions(t, () => this.cpuTasks.delete(c)));
        continue;
      }
      if (cfg.spontaneous) out.push(...this.cpuActions(c, 0));
    }
    if (cfg.spontaneous) {
      const { mm } = this;
      if (cfg.reclaim && mm.reclaimable(0)) out.push({ label: 'MmReclaimPage()', actor: 'mm', internal: false, run: () => mm.reclaim(0) });
      if (mm.pins.length === 0 && this.pinsTaken < cfg.pins && mm.ptes[0]?.kind === 'present')
        out.push({
          label: 'GupPin()',
          actor: 'cpu',
          internal: false,
          run: () => {
            this.pinsTaken++;
            mm.gupPin(0);
          },
        });
      if (mm.pins.length > 0) out.push({ label: 'GupUnpin()', actor: 'cpu', internal: false, run: () => mm.gupUnpin() });
    }
    if (this.evictTask) out.push(...this.taskActions(this.evictTask, () => (this.evictTask = null)));
    if (this.devTask) out.push(...this.taskActions(this.devTask, () => (this.devTask = null)));
    else if (cfg.spontaneous && this.driver.pt.has(0)) {
      if (this.written < cfg.writes) out.push({ label: 'dmirror_do_write()', actor: 'hca', internal: true, run: () => this.startDeviceAccess(0, 'write') });
      out.push({ label: 'dmirror_do_read()', actor: 'hca', internal: true, run: () => this.startDeviceAccess(0, 'read') });
    }
    return out;
  }

  /** The environment's CPU c on page p: a load, a store, or the fault either needs. */
  private cpuActions(c: number, p: number): Action[] {
    const out: Action[] = [];
    const { mm } = this;
    if (mm.canLoad(c, p)) out.push({ label: stepLabel('CpuRead', { c }), actor: 'cpu', internal: false, run: () => mm.load(c, p) });
    if (this.written < this.config.writes && mm.canStore(c, p))
      out.push({ label: stepLabel('CpuWrite', { c }), actor: 'cpu', internal: false, run: () => mm.store(c, p, this.writeValue(p).take()) });
    const e = mm.ptes[p];
    if (!e || !mm.walks(c, p)) return out;
    if (e.kind === 'none' || e.kind === 'swap') {
      const name = e.kind === 'none' ? 'CpuFaultAnon' : 'CpuSwapIn';
      for (const f of mm.freeFrames())
        out.push({
          label: stepLabel(name, { c, f }),
          actor: 'cpu',
          internal: false,
          run: () => (e.kind === 'none' ? mm.doAnonymousPage(c, p, f) : mm.swapIn(c, p, f)),
        });
    }
    if (e.kind === 'devpriv' && !mm.devPages[e.dev]?.locked)
      out.push({ label: stepLabel('CpuFaultDevicePrivate', { c }), actor: 'cpu', internal: false, run: () => this.startDevicePrivateFault(c, p) });
    return out;
  }

  perform(a: Action): StepRecord {
    const seen = this.damage.length;
    a.run();
    this.history.push(a.label);
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

  /** Work outstanding now, by id (the migration 1, madvise 2, the device 3, the eviction 4, CPU c's fault 10 + c). */
  outstanding(): ReadonlySet<number> {
    const s = new Set<number>();
    if (this.fwdTask) s.add(1);
    if (this.zapTask) s.add(2);
    if (this.devTask) s.add(3);
    if (this.evictTask) s.add(4);
    for (const c of this.cpuTasks.keys()) s.add(10 + c);
    return s;
  }

  reportHung(only?: ReadonlySet<number>, because?: string): readonly Damage[] {
    const names: string[] = [];
    const want = (id: number) => !only || only.has(id);
    if (this.fwdTask?.pending && want(1)) names.push(`the migration to device memory, at ${labelOf(this.fwdTask.pending)}`);
    if (this.zapTask?.pending && want(2)) names.push(`MADV_DONTNEED, at ${labelOf(this.zapTask.pending)}`);
    if (this.evictTask?.pending && want(4)) names.push(`the eviction of device memory, at ${labelOf(this.evictTask.pending)}`);
    if (this.devTask?.pending && want(3)) names.push(`the device access, at ${labelOf(this.devTask.pending)}`);
    for (const [c, t] of this.cpuTasks) if (t.pending && want(10 + c)) names.push(`CPU ${c}'s fault on page ${t.page}, at ${labelOf(t.pending)}`);
    if (names.length === 0) return [];
    const seen = this.damage.length;
    this.report('hung', `${because ? `never completes (${because})` : 'deadlock: nothing can move'}; waiting forever: ${names.join('; ')}`);
    return this.damage.slice(seen);
  }
}
