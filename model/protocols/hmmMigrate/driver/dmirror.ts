/**
 * The hmm-migrate reference driver: a dmirror-like device driver (lib/test_hmm.c) that migrates a
 * process's anonymous pages into its device-private memory and back, mirrors them in its device page
 * table (an xarray of device pages, guarded by the driver mutex), and serves CPU faults on
 * device-private entries. Why this module exists: the hmm-migrate model says what a correct driver
 * does; this is such a driver written against kernel-shaped calls only (mmu_interval_read_begin /
 * read_retry / set_seq, migrate_vma_setup / pages / finalize, mutex_lock / unlock, page allocation),
 * each a scheduling point, so the conformance check can run it under any interleaving.
 *
 * Functions and their kernel counterparts:
 * - `migrateToDevice` = dmirror_migrate_to_device: read_begin (the correct protocol of the model;
 *   mainline dmirror takes no sequence, knob `map-without-retry`), migrate_vma_setup,
 *   dmirror_migrate_alloc_and_copy, migrate_vma_pages, dmirror_migrate_finalize_and_map (under the
 *   mutex, with read_retry), migrate_vma_finalize;
 * - `migrateToRam` = dmirror_devmem_fault (pgmap->ops->migrate_to_ram): migrate_vma_setup with the
 *   fault page, dmirror_devmem_fault_alloc_and_copy (allocate and lock a page, xa_erase, copy),
 *   migrate_vma_pages, migrate_vma_finalize;
 * - `invalidate` = dmirror_interval_invalidate: skip the driver's own MIGRATE events, else under
 *   the mutex set_seq and erase the range from the device page table;
 * - `deviceRead` / `deviceWrite` = dmirror_do_read / dmirror_do_write on a mirrored device page.
 */
import {
  type ChoicePoint,
  type Flow,
  type IntervalSubscription,
  type NotifierRange,
  SleepingMutex,
  mmuIntervalCheckRetry,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuIntervalSetSeq,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import { type AnonMm, type MigrateArgs, allocPoint } from './anonMm.js';

/** Result of a device access: the value read (or written), or why there was none. */
export type DeviceAccessResult = { readonly ok: true; readonly value: number; readonly dev: number } | { readonly ok: false; readonly error: 'EFAULT' };

/** What the driver's forward migration is doing, for the state mapping. */
export interface ForwardMigration {
  /** The sequence read_begin returned. */
  readonly seq: number;
  readonly args: MigrateArgs;
  /** dmirror_migrate_finalize_and_map has run (mapped or not). */
  mapDone: boolean;
}

/** A dmirror-like driver bound to one process mm. */
export class Dmirror {
  readonly mm: AnonMm;
  /** dmirror->mutex: guards the device page table and the interval sequence. */
  readonly mutex = new SleepingMutex('dmirror');
  /** dmirror->pt: device page table, page -> device page. */
  readonly pt = new Map<number, number>();
  readonly sub: IntervalSubscription;
  /** Whether the driver checks read_retry before mapping a migrated page (false: knob map-without-retry). */
  readonly mapRetry: boolean;
  /** Whether dmirror_devmem_alloc_page may fail while the pool has free pages (see `migrateToDevice`). */
  readonly allocMayFail: boolean;
  /** The migration to device memory in progress, if any. */
  forward: ForwardMigration | null = null;
  /** Migrations to device memory begun (read_begin returned). */
  migrationsBegun = 0;
  /** migrate_to_ram calls in progress, by CPU. */
  readonly faults = new Map<number, MigrateArgs>();
  /** Told of every device access to a device page (the system's monitor judges it). */
  deviceMonitor: ((p: number, d: number, op: 'read' | 'write', value: number) => void) | null = null;
  /** The pages a migration last moved (cpages of HMM_DMIRROR_MIGRATE_TO_DEV), for the selftests. */
  lastMigrated = 0;

  constructor(mm: AnonMm, pages: number, opts: { mapRetry: boolean; allocMayFail: boolean }) {
    this.mm = mm;
    this.mapRetry = opts.mapRetry;
    this.allocMayFail = opts.allocMayFail;
    this.sub = mm.notifier.insert(0, pages, { invalidate: (sub, range, cur) => this.invalidate(sub, range, cur) });
  }

  /** dmirror_interval_invalidate. */
  *invalidate(sub: IntervalSubscription, range: NotifierRange, curSeq: number): Flow<boolean> {
    // The driver's own migrations (forward, and back through migrate_to_ram) need no invalidation.
    if (range.event === 'migrate' && range.owner === this) return true;
    yield* this.mutex.lock('inv');
    yield step('MmZapStart', {});
    mmuIntervalSetSeq(sub, curSeq);
    for (let p = range.start; p < range.end; p++) this.pt.delete(p);
    yield* this.mutex.unlock();
    return true;
  }

  /** dmirror_migrate_to_device on pages [start, end). */
  *migrateToDevice(start: number, end: number): Flow<number> {
    // read_begin, then check_retry: read_begin returns the sequence it read before sleeping, which
    // is already stale when another MADV_DONTNEED has reached the interval while it slept; the driver
    // then begins again. So a migration begins (the model's DriverMigrateBegin) with a sequence that
    // was current while no MADV_DONTNEED was in progress. The knob map-without-retry keeps this and
    // drops only the read_retry before mapping.
    let seq: number;
    for (;;) {
      seq = yield* mmuIntervalReadBegin(this.mm.notifier, this.sub);
      const stale = yield* mmuIntervalCheckRetry(this.sub, seq, 'DriverMigrateBegin()');
      if (!stale) break;
    }
    this.migrationsBegun++;
    const args = this.mm.migrateArgs(start, end, this, true, null);
    const fwd: ForwardMigration = { seq, args, mapDone: false };
    this.forward = fwd;
    const pagesLabel = () => {
      const e = args.entries.find((x) => x.collected && x.dst !== null);
      return e && e.dst !== null ? stepLabel('DriverMigrateCopy', { d: e.dst }) : 'migrate_vma_pages()';
    };
    yield* this.mm.migrateVmaSetup(args, { collect: 'MmMigrateCollect()', pages: pagesLabel, finalize: 'MmMigrateFinalize()' });
    // dmirror_migrate_alloc_and_copy: a device page for every collected page, if one is free.
    for (const e of args.entries) {
      if (!e.collected) continue;
      // One step, dmirror_devmem_alloc_page: a free device page is allocated, or none is, because
      // the pool is empty or because the system page backing the simulated device page
      // (alloc_page(GFP_HIGHUSER) for `rpage`) or a new chunk (dmirror_allocate_chunk) cannot be
      // allocated. Then dst stays empty, migrate_vma_pages skips the page and finalize restores it.
      const noMemory = { label: 'DriverMigrateCopyNoMemory()', frame: null, internal: false };
      const alloc: ChoicePoint = {
        label: () => (this.mm.freeDevPages().length > 0 ? 'dmirror_devmem_alloc_page()' : noMemory.label),
        ready: () => true,
        internal: () => this.mm.freeDevPages().length > 0,
        alternatives: () => {
          const free = this.mm.freeDevPages();
          const got = free.map((d) => ({ label: stepLabel('dmirror_devmem_alloc_page', { d }), frame: d, internal: true }));
          return free.length === 0 || this.allocMayFail ? [...got, noMemory] : got;
        },
      };
      yield alloc;
      if (this.mm.allocChoice === null) {
        e.noMemory = true;
        continue;
      }
      const d = this.mm.allocDevPage();
      const src = this.mm.frames[e.src];
      this.mm.devPages[d] = { ref: 1, locked: true, data: src ? src.data : 0 };
      e.dst = d;
    }
    yield* this.mm.migrateVmaPages(args, { collect: '', pages: pagesLabel, finalize: '' });
    // dmirror_migrate_finalize_and_map, under the mutex.
    if (args.entries.some((e) => e.committed)) {
      yield* this.mutex.lock('fwd');
      if (this.mapRetry) {
        const stale = yield* mmuIntervalReadRetry(this.sub, seq, 'DriverMigrateMap()');
        if (!stale) this.mapCommitted(args);
      } else {
        yield step('DriverMigrateMap', {});
        this.mapCommitted(args);
      }
      fwd.mapDone = true;
      yield* this.mutex.unlock();
    }
    fwd.mapDone = true;
    yield* this.mm.migrateVmaFinalize(args, { collect: '', pages: '', finalize: 'MmMigrateFinalize()' });
    this.forward = null;
    this.lastMigrated = args.entries.filter((e) => e.committed).length;
    return this.lastMigrated;
  }

  private mapCommitted(args: MigrateArgs): void {
    for (const e of args.entries) if (e.committed && e.dst !== null) this.pt.set(e.page, e.dst);
  }

  /** dmirror_devmem_fault: migrate_to_ram of the faulting CPU `c` on page `p`, device page `d`. */
  *migrateToRam(c: number, p: number, d: number): Flow<void> {
    const args = this.mm.migrateArgs(p, p + 1, this, false, d);
    this.faults.set(c, args);
    yield* this.mm.migrateVmaSetup(args, { collect: stepLabel('DriverFaultCollect', { c }), pages: '', finalize: '' });
    // dmirror_devmem_fault_alloc_and_copy: allocate and lock a system page, erase the device's
    // mapping, copy the data from device memory.
    for (const e of args.entries) {
      if (!e.collected) continue;
      yield allocPoint(
        () => this.mm.freeFrames(),
        (f) => stepLabel('DriverFaultCopy', { c, f }),
        false,
      );
      const f = this.mm.allocFrame();
      const dp = this.mm.devPages[e.src];
      if (!dp || dp.ref === 0) this.mm.monitor?.freedDevicePageUse(c, e.src, 'the copy of dmirror_devmem_fault_alloc_and_copy');
      this.mm.frames[f] = { ref: 1, locked: true, dirty: false, data: dp ? dp.data : 0 };
      if (this.pt.get(e.page) === e.src) this.pt.delete(e.page);
      e.dst = f;
    }
    yield* this.mm.migrateVmaPages(args, { collect: '', pages: 'migrate_vma_pages()', finalize: '' });
    yield* this.mm.migrateVmaFinalize(args, { collect: '', pages: '', finalize: stepLabel('DriverFaultFinalize', { c }) });
    this.faults.delete(c);
  }

  /**
   * dmirror_device_evict_chunk (HMM_DMIRROR_RELEASE): every device page in use migrates back to a
   * fresh system page: migrate_device_range, allocate and copy each (erasing the device's own
   * mapping), migrate_device_pages, migrate_device_finalize. Returns the pages moved.
   */
  *evictAll(): Flow<number> {
    const inUse = this.mm.devPages.flatMap((pg, d) => (pg.ref > 0 ? [d] : []));
    const args = yield* this.mm.migrateDeviceRange(inUse, this);
    for (const e of args.entries) {
      yield allocPoint(
        () => this.mm.freeFrames(),
        (f) => stepLabel('dmirror_evict_alloc_page', { f }),
        true,
      );
      const f = this.mm.allocFrame();
      this.mm.frames[f] = { ref: 1, locked: true, dirty: false, data: this.mm.devPages[e.src]?.data ?? 0 };
      if (this.pt.get(e.page) === e.src) this.pt.delete(e.page);
      e.dst = f;
    }
    yield* this.mm.migrateVmaPages(args, { collect: '', pages: 'migrate_device_pages()', finalize: '' });
    yield* this.mm.migrateVmaFinalize(args, { collect: '', pages: '', finalize: 'migrate_device_finalize()' });
    return args.entries.filter((e) => e.committed).length;
  }

  /** dmirror_do_read of page p (under the mutex): the device reads its device page, if it mirrors one. */
  *deviceRead(p: number, label = 'DevRead()'): Flow<DeviceAccessResult> {
    yield* this.mutex.lock('dev');
    let r: DeviceAccessResult = { ok: false, error: 'EFAULT' };
    yield { label: () => (this.pt.has(p) ? label : 'dmirror_do_read:not-mirrored()'), ready: () => true, internal: () => !this.pt.has(p) };
    const d = this.pt.get(p);
    if (d !== undefined) {
      const v = (this.mm.devPages[d] as { data: number }).data;
      this.deviceMonitor?.(p, d, 'read', v);
      r = { ok: true, value: v, dev: d };
    }
    yield* this.mutex.unlock();
    return r;
  }

  /**
   * dmirror_do_write to page p (under the mutex): `value.take()` gives the value to write; when
   * `value.can()` is false at the write the device has nothing more to write (the step writes nothing).
   */
  *deviceWrite(p: number, value: { can(): boolean; take(): number }, label = 'DevWrite()'): Flow<DeviceAccessResult> {
    yield* this.mutex.lock('dev');
    let r: DeviceAccessResult = { ok: false, error: 'EFAULT' };
    const writes = () => this.pt.has(p) && value.can();
    yield { label: () => (writes() ? label : 'dmirror_do_write:nothing()'), ready: () => true, internal: () => !writes() };
    const d = this.pt.get(p);
    if (d !== undefined && value.can()) {
      const v = value.take();
      (this.mm.devPages[d] as { data: number }).data = v;
      this.deviceMonitor?.(p, d, 'write', v);
      r = { ok: true, value: v, dev: d };
    }
    yield* this.mutex.unlock();
    return r;
  }
}
