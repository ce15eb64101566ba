/**
 * The simulated kernel side of hmm-migrate: an anonymous mapping's page table (present, migration,
 * device-private, device migration and swap entries, with the PTE dirty bit), the struct page of
 * every system frame and device-private page (reference count, lock, dirty flag, contents), the swap
 * slot and swap cache, each CPU's TLB, and the kernel calls a dmirror-like driver makes:
 * `migrate_vma_setup`, `migrate_vma_pages`, `migrate_vma_finalize`, plus what the rest of the kernel
 * does to the same pages (do_anonymous_page, do_swap_page, MADV_DONTNEED, reclaim, GUP).
 *
 * Why this module exists: the reference driver (dmirror.ts) must drive migration the way
 * lib/test_hmm.c does, through kernel calls whose every step is a scheduling point; the kernel code
 * it calls (mm/migrate_device.c, mm/memory.c, mm/vmscan.c) is simulated here, in the order the
 * kernel takes its steps, with the three kernel bugs of the model as knobs (they are kernel bugs,
 * not driver bugs): B11 `flush-after-ptl-unlock` (60bae7370896), B13 `device-private-fault-no-ref`
 * (16ce101db85d) and `dirty-bit-dropped` (fd35ca3d12cc).
 *
 * Pages are numbered 0..pages-1 (one PTE and one swap slot each); frames and device pages are
 * shared pools. The model has one page; the hmm-tests scenarios use several.
 */
import { type ChoicePoint, type Flow, type NotifierCore, type NotifyEvent, internalStep, stepLabel } from 'mirrorcheck/harness';

/** What a page-table entry holds. */
export type PteKind = 'none' | 'present' | 'migration' | 'devpriv' | 'devmigration' | 'swap';

/** A page-table entry: a frame (present, migration) or a device page (devpriv, devmigration), and the dirty bit. */
export interface AnonPte {
  kind: PteKind;
  frame: number;
  dev: number;
  dirty: boolean;
}

/** struct page of a system frame (ref 0: free). */
export interface FramePage {
  ref: number;
  locked: boolean;
  dirty: boolean;
  data: number;
}

/** struct page of a device-private page (ref 0: free, returned to the driver by page_free). */
export interface DevicePage {
  ref: number;
  locked: boolean;
  data: number;
}

/** A page's swap slot and the frame in the swap cache for it. */
export interface SwapSlot {
  valid: boolean;
  data: number;
  cached: number | null;
}

/** A CPU's TLB entry for a page: the frame and the dirty bit cached from the PTE. */
export interface TlbEntry {
  frame: number | null;
  dirty: boolean;
}

/** The kernel bugs the simulated kernel can have (each a model variant of the same name). */
export interface KernelKnobs {
  /** B11: migrate_vma_collect_pmd flushes the TLB after dropping the PTL. */
  readonly flushAfterPtlUnlock: boolean;
  /** B13: do_swap_page calls migrate_to_ram without a reference on the device-private page. */
  readonly faultNoRef: boolean;
  /** collect drops the PTE dirty bit instead of moving it to the page or the migration entry. */
  readonly dirtyDropped: boolean;
  /** Where collect keeps the dirty bit (the model's `dirty` parameter). */
  readonly dirtyMode: 'both' | 'page' | 'entry';
}

/** What a page does during one migration (struct migrate_vma's src/dst entries). */
export interface MigrateEntry {
  readonly page: number;
  /** Collected: the migration holds the page (MIGRATE_PFN_MIGRATE). */
  collected: boolean;
  /** The source: a frame (forward) or a device page (back to RAM). */
  src: number;
  /** The destination the driver allocated and filled, or null. */
  dst: number | null;
  /** migrate_vma_pages committed the move. */
  committed: boolean;
  /** The driver found no free destination page (it leaves dst empty; the page stays where it is). */
  noMemory: boolean;
}

/** struct migrate_vma: a migration of pages [start, end) by `owner`, to the device or back. */
export interface MigrateArgs {
  readonly start: number;
  readonly end: number;
  readonly owner: unknown;
  /** Towards device memory (system pages selected) or back (device-private pages selected). */
  readonly toDevice: boolean;
  /** The locked, referenced device page of the faulting CPU (migrate_to_ram), or null. */
  readonly faultPage: number | null;
  readonly entries: MigrateEntry[];
  /** Steps done: collect, (the late flush), unmap, pages, finalize. */
  collectDone: boolean;
  flushed: boolean;
  unmapped: boolean;
  pagesDone: boolean;
  finalized: boolean;
}

/** Labels for the steps of a migrate_vma_* call (hints for the conformance check). */
export interface MigrateLabels {
  readonly collect: string;
  readonly pages: string | (() => string);
  readonly finalize: string;
}

/** Told of every access, so the system's monitor can judge it. */
export interface MmMonitor {
  /** A CPU access through a TLB entry or a fresh walk: the frame it used and the value read or written. */
  cpuAccess(c: number, p: number, frame: number, op: 'read' | 'write', value: number): void;
  /** The fault path used a device page (`what` in words) whose reference count was then 0. */
  freedDevicePageUse(c: number, d: number, what: string): void;
}

const page0 = (): FramePage => ({ ref: 0, locked: false, dirty: false, data: 0 });
const dev0 = (): DevicePage => ({ ref: 0, locked: false, data: 0 });
const pte0 = (): AnonPte => ({ kind: 'none', frame: 0, dev: 0, dirty: false });

/** The simulated mm of one process with an anonymous mapping, and the kernel calls on it. */
export class AnonMm {
  readonly ptes: AnonPte[];
  readonly frames: FramePage[];
  readonly devPages: DevicePage[];
  readonly swap: SwapSlot[];
  /** tlb[c][p]: CPU c's translation of page p. */
  readonly tlb: TlbEntry[][];
  /** GUP references held (the frame pinned), in order. */
  readonly pins: number[] = [];
  readonly notifier: NotifierCore;
  readonly knobs: KernelKnobs;
  monitor: MmMonitor | null = null;
  /** The frame or device page the scheduler picked for the next allocation (a choice point's outcome). */
  allocChoice: number | null = null;

  constructor(cfg: { pages: number; frames: number; devframes: number; cpus: number; notifier: NotifierCore; knobs: KernelKnobs }) {
    this.ptes = Array.from({ length: cfg.pages }, pte0);
    this.frames = Array.from({ length: cfg.frames }, page0);
    this.devPages = Array.from({ length: cfg.devframes }, dev0);
    this.swap = Array.from({ length: cfg.pages }, () => ({ valid: false, data: 0, cached: null }));
    this.tlb = Array.from({ length: cfg.cpus }, () => Array.from({ length: cfg.pages }, () => ({ frame: null, dirty: false })));
    this.notifier = cfg.notifier;
    this.knobs = cfg.knobs;
  }

  // --- small helpers (struct page reference counting, TLB) -------------------------------------

  /** folio_get. */
  getPage(f: number): void {
    (this.frames[f] as FramePage).ref++;
  }
  /** folio_put: the last reference frees the frame (its contents scrubbed, its flags cleared). */
  putPage(f: number): void {
    const pg = this.frames[f] as FramePage;
    pg.ref--;
    if (pg.ref <= 0) this.frames[f] = page0();
  }
  /** get_page on a device-private page. */
  getDev(d: number): void {
    (this.devPages[d] as DevicePage).ref++;
  }
  /** put_page on a device-private page: the last reference calls pgmap->ops->page_free. */
  putDev(d: number): void {
    const pg = this.devPages[d] as DevicePage;
    pg.ref--;
    if (pg.ref <= 0) this.devPages[d] = dev0();
  }
  /** Whether frame f is in the swap cache for page p. */
  private cachedFor(p: number, f: number): boolean {
    return (this.swap[p] as SwapSlot).cached === f;
  }
  /** Drops page p's swap slot, and the swap cache's reference on its frame. */
  private freeSwap(p: number): void {
    const s = this.swap[p] as SwapSlot;
    const f = s.cached;
    this.swap[p] = { valid: false, data: 0, cached: null };
    if (f !== null) this.putPage(f);
  }
  /** flush_tlb_range: every CPU drops its translation to frame f for page p. */
  flushTlb(p: number, f: number): void {
    for (const t of this.tlb) if ((t[p] as TlbEntry).frame === f) t[p] = { frame: null, dirty: false };
  }
  /** The first free frame, or null. */
  freeFrames(): number[] {
    return this.frames.flatMap((pg, f) => (pg.ref === 0 ? [f] : []));
  }
  freeDevPages(): number[] {
    return this.devPages.flatMap((pg, d) => (pg.ref === 0 ? [d] : []));
  }
  /** The allocation the scheduler picked (or the first free one, when nothing was picked). */
  private take(free: number[], what: string): number {
    const f = this.allocChoice ?? free[0];
    this.allocChoice = null;
    if (f === undefined || !free.includes(f)) throw new Error(`no free ${what} to allocate (picked ${f})`);
    return f;
  }
  allocFrame(): number {
    return this.take(this.freeFrames(), 'frame');
  }
  allocDevPage(): number {
    return this.take(this.freeDevPages(), 'device page');
  }

  /** Maps page p to a fresh zeroed frame (setup of a scenario, or the model's start state). */
  populate(p: number, f: number, data = 0): void {
    this.ptes[p] = { kind: 'present', frame: f, dev: 0, dirty: false };
    this.frames[f] = { ref: 1, locked: false, dirty: false, data };
  }

  // --- CPU accesses --------------------------------------------------------------------------

  /** Whether CPU c's access to page p needs a page walk (no TLB entry, or a clean one and the access may write). */
  walks(c: number, p: number): boolean {
    const t = (this.tlb[c] as TlbEntry[])[p] as TlbEntry;
    return t.frame === null || !t.dirty;
  }
  /** A load hits the TLB or walks a present PTE (filling the TLB with its dirty bit). */
  canLoad(c: number, p: number): boolean {
    return ((this.tlb[c] as TlbEntry[])[p] as TlbEntry).frame !== null || (this.ptes[p] as AnonPte).kind === 'present';
  }
  /** A store goes through a dirty TLB entry (even a stale one) or walks a present PTE. */
  canStore(c: number, p: number): boolean {
    const t = (this.tlb[c] as TlbEntry[])[p] as TlbEntry;
    return (t.frame !== null && t.dirty) || (this.ptes[p] as AnonPte).kind === 'present';
  }
  load(c: number, p: number): number {
    const row = this.tlb[c] as TlbEntry[];
    if ((row[p] as TlbEntry).frame === null) {
      const e = this.ptes[p] as AnonPte;
      row[p] = { frame: e.frame, dirty: e.dirty };
    }
    const f = (row[p] as TlbEntry).frame as number;
    const v = (this.frames[f] as FramePage).data;
    this.monitor?.cpuAccess(c, p, f, 'read', v);
    return v;
  }
  store(c: number, p: number, value: number): void {
    const row = this.tlb[c] as TlbEntry[];
    const t = row[p] as TlbEntry;
    if (!(t.frame !== null && t.dirty)) {
      const e = this.ptes[p] as AnonPte;
      e.dirty = true;
      row[p] = { frame: e.frame, dirty: true };
    }
    const f = (row[p] as TlbEntry).frame as number;
    (this.frames[f] as FramePage).data = value;
    this.monitor?.cpuAccess(c, p, f, 'write', value);
  }

  /** do_anonymous_page: an empty PTE gets the fresh zeroed frame f. */
  doAnonymousPage(c: number, p: number, f: number): void {
    (this.tlb[c] as TlbEntry[])[p] = { frame: null, dirty: false };
    this.ptes[p] = { kind: 'present', frame: f, dev: 0, dirty: false };
    this.frames[f] = { ref: 1, locked: false, dirty: false, data: 0 };
  }
  /** do_swap_page on a swap entry: read the slot into frame f, which stays in the swap cache, clean. */
  swapIn(c: number, p: number, f: number): void {
    (this.tlb[c] as TlbEntry[])[p] = { frame: null, dirty: false };
    const s = this.swap[p] as SwapSlot;
    this.ptes[p] = { kind: 'present', frame: f, dev: 0, dirty: false };
    this.frames[f] = { ref: 2, locked: false, dirty: false, data: s.data };
    s.cached = f;
  }

  /**
   * do_swap_page on a device-private entry (mm/memory.c): under the PTL, trylock the page and take a
   * reference (B13 knob: none), drop the PTL and call the owner's `migrate_to_ram`; then unlock and
   * put the page. The caller offers this only when the page is unlocked (a failed trylock returns
   * and the access is retried, changing nothing).
   */
  *doSwapPageDevicePrivate(c: number, p: number, migrateToRam: (c: number, p: number, d: number) => Flow<void>): Flow<void> {
    yield { label: stepLabel('CpuFaultDevicePrivate', { c }), ready: () => true, internal: false };
    const d = (this.ptes[p] as AnonPte).dev;
    const dp = this.devPages[d] as DevicePage;
    dp.locked = true;
    if (!this.knobs.faultNoRef) this.getDev(d);
    (this.tlb[c] as TlbEntry[])[p] = { frame: null, dirty: false };
    yield* migrateToRam(c, p, d);
    yield { label: stepLabel('CpuFaultReturn', { c }), ready: () => true, internal: false };
    if ((this.devPages[d] as DevicePage).ref === 0) this.monitor?.freedDevicePageUse(c, d, 'unlock_page in do_swap_page');
    (this.devPages[d] as DevicePage).locked = false;
    if (!this.knobs.faultNoRef) this.putDev(d);
  }

  // --- migrate_vma_* (mm/migrate_device.c) ----------------------------------------------------

  /** A migration of pages [start, end) by `owner` (the driver's pgmap owner). */
  migrateArgs(start: number, end: number, owner: unknown, toDevice: boolean, faultPage: number | null): MigrateArgs {
    return {
      start,
      end,
      owner,
      toDevice,
      faultPage,
      entries: Array.from({ length: end - start }, (_, i) => ({ page: start + i, collected: false, src: 0, dst: null, committed: false, noMemory: false })),
      collectDone: false,
      flushed: false,
      unmapped: false,
      pagesDone: false,
      finalized: false,
    };
  }

  /** Runs a notifier flow that must not sleep to its end (the MIGRATE region of collect, whose callbacks skip their own owner). */
  private notifyNow(start: number, end: number, event: NotifyEvent, owner: unknown): void {
    const flow = this.notifier.rangeStart({ start, end, event, owner });
    const r = flow.next();
    if (!r.done) throw new Error('an invalidate callback slept on a MIGRATE region it should have skipped');
    this.notifier.rangeEnd(r.value);
  }

  /**
   * migrate_vma_setup: collect (migrate_vma_collect_pmd, under the PTL) then unmap
   * (migrate_device_unmap, with migrate_vma_check_page). Each is a step.
   */
  *migrateVmaSetup(args: MigrateArgs, labels: MigrateLabels): Flow<void> {
    yield { label: labels.collect, ready: () => true, internal: false };
    this.notifyNow(args.start, args.end, 'migrate', args.owner);
    for (const e of args.entries) args.toDevice ? this.collectSystem(e) : this.collectDevice(args, e);
    args.collectDone = true;
    if (args.toDevice && this.knobs.flushAfterPtlUnlock && args.entries.some((e) => e.collected)) {
      // B11: the flush after pte_unmap_unlock, still in migrate_vma_collect_pmd.
      yield { label: stepLabel('MmMigrateFlushTlb'), ready: () => true, internal: false };
      for (const e of args.entries) if (e.collected) this.flushTlb(e.page, e.src);
    }
    args.flushed = true;
    if (!args.toDevice) {
      // Device-private pages cannot be pinned; unmap has nothing more to do.
      args.unmapped = true;
      return;
    }
    yield internalStep('migrate_device_unmap', {});
    for (const e of args.entries) {
      if (!e.collected) continue;
      // migrate_vma_check_page: more references than the migration's own and the swap cache's.
      const extra = (this.frames[e.src] as FramePage).ref - 1 - (this.cachedFor(e.page, e.src) ? 1 : 0);
      if (extra > 0) {
        this.restoreSource(e);
        e.collected = false;
      }
    }
    args.unmapped = true;
  }

  /** Collect of a present system page: lock, migration entry, dirty bit to the page, TLB flush. */
  private collectSystem(e: MigrateEntry): void {
    const pte = this.ptes[e.page] as AnonPte;
    if (pte.kind !== 'present') return;
    const f = pte.frame;
    const pg = this.frames[f] as FramePage;
    if (pg.locked) return;
    e.src = f;
    e.collected = true;
    pg.locked = true;
    const dropped = this.knobs.dirtyDropped;
    if (!dropped && this.knobs.dirtyMode !== 'entry' && pte.dirty) pg.dirty = true;
    // folio_get for the migration, folio_put of the mapping: the count is unchanged.
    if (!this.knobs.flushAfterPtlUnlock) this.flushTlb(e.page, f);
    pte.kind = 'migration';
    if (dropped || this.knobs.dirtyMode === 'page') pte.dirty = false;
  }

  /**
   * migrate_device_range (HMM_DMIRROR_RELEASE's eviction): collects device pages by pfn, whoever
   * maps them: each page in use and not locked is referenced and locked, and the entry that maps it
   * becomes a device migration entry (the mapping's reference passes to the migration). One step.
   */
  *migrateDeviceRange(devPages: readonly number[], owner: unknown): Flow<MigrateArgs> {
    yield internalStep('migrate_device_range', {});
    const args = this.migrateArgs(0, 0, owner, false, null);
    args.collectDone = args.flushed = args.unmapped = true;
    for (const d of devPages) {
      const dp = this.devPages[d] as DevicePage;
      const p = this.ptes.findIndex((e) => e.kind === 'devpriv' && e.dev === d);
      if (dp.ref === 0 || dp.locked || p < 0) continue;
      dp.locked = true;
      (this.ptes[p] as AnonPte).kind = 'devmigration';
      args.entries.push({ page: p, collected: true, src: d, dst: null, committed: false, noMemory: false });
    }
    return args;
  }

  /** Collect of the fault page (device-private) of migrate_to_ram: the entry becomes a device migration entry. */
  private collectDevice(args: MigrateArgs, e: MigrateEntry): void {
    const pte = this.ptes[e.page] as AnonPte;
    if (pte.kind !== 'devpriv' || pte.dev !== args.faultPage) return;
    e.src = pte.dev;
    e.collected = true;
    pte.kind = 'devmigration';
  }

  /** remove_migration_ptes + unlock + put: the original PTE is back (its dirty bit from the entry). */
  private restoreSource(e: MigrateEntry): void {
    const pte = this.ptes[e.page] as AnonPte;
    if (pte.kind === 'migration' && pte.frame === e.src) {
      pte.kind = 'present';
      this.getPage(e.src);
    }
    (this.frames[e.src] as FramePage).locked = false;
    this.putPage(e.src);
  }

  /**
   * migrate_vma_pages (and migrate_device_pages): commits every collected page that has a
   * destination. Towards the device the page's swap copy is released (folio_free_swap); back to RAM,
   * folio_migrate_mapping expects the migration's reference on the device page, and the faulting
   * thread's (extra_cnt) when a CPU fault is migrating it.
   */
  *migrateVmaPages(args: MigrateArgs, labels: MigrateLabels): Flow<void> {
    yield { label: labels.pages, ready: () => true, internal: () => !args.toDevice || !args.entries.some((e) => e.collected && e.dst !== null) };
    for (const e of args.entries) {
      if (!e.collected || e.dst === null) continue;
      if (args.toDevice) {
        if (this.cachedFor(e.page, e.src)) this.freeSwap(e.page);
        e.committed = true;
      } else e.committed = (this.devPages[e.src] as DevicePage).ref === (args.faultPage === null ? 1 : 2);
    }
    args.pagesDone = true;
  }

  /**
   * migrate_vma_finalize: a migration entry still in place becomes an entry for the new page
   * (committed) or the old one again; new pages are unlocked and put, the old ones too (except the
   * fault page, which do_swap_page unlocks).
   */
  *migrateVmaFinalize(args: MigrateArgs, labels: MigrateLabels): Flow<void> {
    yield { label: labels.finalize, ready: () => true, internal: false };
    for (const e of args.entries) {
      if (!e.collected) continue;
      const pte = this.ptes[e.page] as AnonPte;
      if (args.toDevice) {
        if (e.committed && e.dst !== null) {
          if (pte.kind === 'migration' && pte.frame === e.src) {
            this.ptes[e.page] = { kind: 'devpriv', frame: 0, dev: e.dst, dirty: false };
            this.getDev(e.dst);
          }
          (this.devPages[e.dst] as DevicePage).locked = false;
          this.putDev(e.dst);
          (this.frames[e.src] as FramePage).locked = false;
          this.putPage(e.src);
        } else {
          if (e.dst !== null) {
            (this.devPages[e.dst] as DevicePage).locked = false;
            this.putDev(e.dst);
          }
          this.restoreSource(e);
        }
      } else {
        const d = e.src;
        const there = pte.kind === 'devmigration' && pte.dev === d;
        if (e.dst !== null) {
          if (e.committed) {
            if (there) {
              this.ptes[e.page] = { kind: 'present', frame: e.dst, dev: 0, dirty: false };
              this.getPage(e.dst);
            }
          } else if (there) {
            pte.kind = 'devpriv';
            this.getDev(d);
          }
          (this.frames[e.dst] as FramePage).locked = false;
          this.putPage(e.dst);
        } else if (there) {
          pte.kind = 'devpriv';
          this.getDev(d);
        }
        const dp = this.devPages[d] as DevicePage;
        if (dp.ref === 0) this.monitor?.freedDevicePageUse(-1, d, 'migrate_vma_finalize');
        else {
          // The fault page stays locked for do_swap_page; an evicted page is unlocked here.
          if (d !== args.faultPage) dp.locked = false;
          this.putDev(d);
        }
      }
    }
    args.finalized = true;
  }

  // --- the rest of the kernel on the same pages ----------------------------------------------

  /**
   * madvise(MADV_DONTNEED) on pages [start, end) (zap_page_range_single): invalidate_range_start
   * (the driver's callback runs), zap under the PTL, invalidate_range_end. `onZapped` and
   * `onEnded` let the system keep its ghost of the page's expected contents.
   */
  *madviseDontneed(start: number, end: number, hooks: { zapped(): void; ended(): void }): Flow<void> {
    const region = yield* this.notifier.rangeStart({ start, end, event: 'unmap', owner: null });
    yield { label: stepLabel('MmZapPte'), ready: () => true, internal: false };
    for (let p = start; p < end; p++) this.zapPte(p);
    hooks.zapped();
    yield { label: stepLabel('MmZapEnd'), ready: () => true, internal: false };
    this.notifier.rangeEnd(region);
    hooks.ended();
  }

  /** zap_pte_range on one PTE. */
  private zapPte(p: number): void {
    const pte = this.ptes[p] as AnonPte;
    const s = this.swap[p] as SwapSlot;
    if (pte.kind === 'present') {
      this.flushTlb(p, pte.frame);
      if (s.cached === pte.frame) this.freeSwap(p);
      this.putPage(pte.frame);
    } else if (pte.kind === 'migration') {
      // No entry left names the slot: it goes with the page's swap cache reference.
      if (s.cached === pte.frame) this.freeSwap(p);
    } else if (pte.kind === 'devpriv') this.putDev(pte.dev);
    else if (pte.kind === 'swap') this.swap[p] = { valid: false, data: 0, cached: null };
    this.ptes[p] = pte0();
  }

  /** Whether reclaim can take page p now (present, unlocked, no reference but the mapping's and the swap cache's). */
  reclaimable(p: number): boolean {
    const pte = this.ptes[p] as AnonPte;
    if (pte.kind !== 'present') return false;
    const pg = this.frames[pte.frame] as FramePage;
    return !pg.locked && pg.ref === 1 + (this.cachedFor(p, pte.frame) ? 1 : 0);
  }

  /** shrink_folio_list on page p: unmap (dirty bit to the page, TLB flush), page-out if needed, free. */
  reclaim(p: number): void {
    const pte = this.ptes[p] as AnonPte;
    const f = pte.frame;
    const pg = this.frames[f] as FramePage;
    const s = this.swap[p] as SwapSlot;
    if (pte.dirty || pg.dirty || s.cached !== f) {
      s.data = pg.data;
      s.valid = true;
    }
    s.cached = null;
    this.flushTlb(p, f);
    this.frames[f] = page0();
    this.ptes[p] = { kind: 'swap', frame: 0, dev: 0, dirty: false };
  }

  /** get_user_pages on present page p: a transient reference. */
  gupPin(p: number): void {
    const f = (this.ptes[p] as AnonPte).frame;
    this.getPage(f);
    this.pins.push(f);
  }
  /** put_page of the oldest GUP reference. */
  gupUnpin(): void {
    const f = this.pins.shift();
    if (f !== undefined) this.putPage(f);
  }
}

/** A step point for an allocation: one alternative per free page, labelled by `label(k)`. */
export function allocPoint(free: () => number[], label: (k: number) => string, internal: boolean): ChoicePoint {
  return {
    label: () => label(free()[0] ?? -1),
    ready: () => free().length > 0,
    internal,
    alternatives: () => free().map((k) => ({ label: label(k), frame: k })),
  };
}
