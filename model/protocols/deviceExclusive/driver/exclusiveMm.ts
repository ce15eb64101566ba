/**
 * The simulated kernel side of device-exclusive: the PTEs of a few anonymous pages (present, or a
 * device-exclusive entry), the struct page of each frame (reference count, page lock), and the kernel
 * paths that touch them: `make_device_exclusive` (mm/rmap.c), a CPU fault on an exclusive entry
 * (do_swap_page -> remove_device_exclusive_entry, mm/memory.c), and page migration (migrate_pages:
 * isolate and lock, try_to_migrate, folio_migrate_mapping, free the old page).
 *
 * Why this module exists: the reference driver (nouveauSvm.ts) must get exclusive access the way
 * nouveau_atomic_range_fault does, through kernel calls that are scheduling points, against a kernel
 * whose every notifier region runs the driver's callback. The kernel bug of the model,
 * `exclusive-fault-no-ref` (7c7b962938dd), is a knob here. The revocation of an exclusive entry is
 * announced as MMU_NOTIFY_EXCLUSIVE with no owner, as v5.14..v6.14 kernels did (current kernels use
 * MMU_NOTIFY_CLEAR); a driver that filters by owner treats both alike.
 */
import type { NotifierCore, NotifyEvent } from 'mirrorcheck/harness';

/** A PTE: the frame it maps, and whether it is a device-exclusive entry for that frame. */
export interface XPte {
  excl: boolean;
  frame: number;
  /** mprotect(PROT_READ) (scenarios only; the model's pages stay writable). */
  readOnly: boolean;
  /** Shared with a forked child until the first write copies it (scenarios only). */
  cow: boolean;
}

/** struct page of a frame (ref 0: free). */
export interface XPage {
  ref: number;
  locked: boolean;
  /** The page's contents (scenarios only). */
  data: number;
}

/** Told when a kernel path uses a frame that has already been freed. */
export type FreedPageUse = (who: string, frame: number, what: string) => void;

/** The simulated mm of one process (see the module header). */
export class ExclusiveMm {
  readonly ptes: XPte[];
  readonly frames: XPage[];
  readonly notifier: NotifierCore;
  /** Knob exclusive-fault-no-ref: remove_device_exclusive_entry takes no reference. */
  readonly faultNoRef: boolean;
  onFreedPageUse: FreedPageUse | null = null;

  /** `shared`: the frames of the parent, for a forked child. */
  constructor(cfg: { pages: number; frames: number; notifier: NotifierCore; faultNoRef: boolean }, shared?: XPage[]) {
    this.ptes = Array.from({ length: cfg.pages }, (_, p) => ({ excl: false, frame: p, readOnly: false, cow: false }));
    this.frames = shared ?? Array.from({ length: cfg.frames }, (_, f) => ({ ref: f < cfg.pages ? 1 : 0, locked: false, data: 0 }));
    this.notifier = cfg.notifier;
    this.faultNoRef = cfg.faultNoRef;
  }

  pte(p: number): XPte {
    return this.ptes[p] as XPte;
  }
  page(f: number): XPage {
    return this.frames[f] as XPage;
  }
  getPage(f: number): void {
    this.page(f).ref++;
  }
  /** folio_put: the last reference frees the page. */
  putPage(f: number): void {
    const pg = this.page(f);
    pg.ref--;
    if (pg.ref <= 0) this.frames[f] = { ref: 0, locked: false, data: 0 };
  }
  freeFrames(): number[] {
    return this.frames.flatMap((pg, f) => (pg.ref === 0 ? [f] : []));
  }

  /**
   * A notifier region over page p whose callbacks run at once (they must not sleep: the reference
   * driver's take its lock and release it inside the step), around `body`.
   */
  notify(p: number, event: NotifyEvent, owner: unknown, body: () => void): void {
    const flow = this.notifier.rangeStart({ start: p, end: p + 1, event, owner });
    const r = flow.next();
    if (!r.done) throw new Error('an invalidate callback slept');
    body();
    this.notifier.rangeEnd(r.value);
  }

  /** Opens a region over page p (callbacks run at once) and returns it, for a path that ends it later. */
  openRegion(p: number, event: NotifyEvent, owner: unknown) {
    const flow = this.notifier.rangeStart({ start: p, end: p + 1, event, owner });
    const r = flow.next();
    if (!r.done) throw new Error('an invalidate callback slept');
    return r.value;
  }

  // --- a CPU fault on a device-exclusive entry (do_swap_page -> remove_device_exclusive_entry) ---

  /** C1: the fault finds the exclusive entry and takes a reference on its page (knob: none). Returns the frame. */
  faultTakeRef(p: number): number {
    const f = this.pte(p).frame;
    if (!this.faultNoRef) this.getPage(f);
    return f;
  }

  /** C3: under the PTL, restore the original PTE if the exclusive entry is still there; folio_unlock and folio_put. */
  faultRestore(who: string, p: number, f: number): void {
    const e = this.pte(p);
    if (this.page(f).ref === 0) this.onFreedPageUse?.(who, f, 'folio_unlock in remove_device_exclusive_entry');
    if (e.excl && e.frame === f) e.excl = false;
    this.page(f).locked = false;
    if (!this.faultNoRef) this.putPage(f);
  }

  /**
   * remove_device_exclusive_entry run to its end in one step (the GUP fault of make_device_exclusive
   * on an exclusive entry): lock, revocation region, restore, unlock.
   */
  revokeNow(who: string, p: number): void {
    const f = this.faultTakeRef(p);
    this.page(f).locked = true;
    this.notify(p, 'exclusive', null, () => this.faultRestore(who, p, f));
  }

  /**
   * make_device_exclusive's second half, after GUP and the page lock: the MMU_NOTIFY_EXCLUSIVE region
   * with the caller as owner; if the PTE still maps the page, it becomes a device-exclusive entry.
   * Returns whether it did.
   */
  makeExclusive(p: number, f: number, owner: unknown): boolean {
    let ok = false;
    this.notify(p, 'exclusive', owner, () => {
      const e = this.pte(p);
      if (!e.excl && e.frame === f) {
        e.excl = true;
        ok = true;
      }
    });
    return ok;
  }

  // --- page migration (migrate_pages) --------------------------------------------------------

  /** P1: isolate (a reference) and lock the page mapped at p. Returns its frame. */
  migrateLock(p: number): number {
    const f = this.pte(p).frame;
    this.getPage(f);
    this.page(f).locked = true;
    return f;
  }

  /**
   * P2: try_to_migrate (a CLEAR region over p: the callbacks zap), then folio_migrate_mapping: only
   * the mapping's and the isolation's references may remain; the data moves to the free frame t,
   * the PTE points at it and the old page is unlocked and put (freed).
   */
  migrateMove(p: number, from: number, t: number): boolean {
    let moved = false;
    this.notify(p, 'unmap', null, () => {
      const old = this.page(from);
      if (old.ref === 2) {
        this.pte(p).frame = t;
        this.frames[t] = { ref: 1, locked: false, data: old.data };
        this.putPage(from);
        moved = true;
      }
      this.page(from).locked = false;
      this.putPage(from);
    });
    return moved;
  }

  // --- what the hmm-tests scenarios do besides the model (mprotect, fork, CPU loads and stores) ---

  /** mprotect(PROT_READ) of page p (change_protection): a PROTECTION region (callbacks zap), the PTE read-only. */
  mprotectReadOnly(p: number): void {
    this.notify(p, 'protection', null, () => {
      this.pte(p).readOnly = true;
    });
  }

  /**
   * fork (dup_mmap, copy_page_range) into `child`, which shares the frames: under a PROTECTION region
   * over each page of the parent (callbacks zap), a device-exclusive entry is first restored to the
   * original PTE (copy_nonpresent_pte), then parent and child map the page copy-on-write.
   */
  forkInto(child: ExclusiveMm): void {
    this.ptes.forEach((e, p) => {
      this.notify(p, 'protection', null, () => {
        e.excl = false;
        e.cow = true;
        child.ptes[p] = { ...e };
        this.getPage(e.frame);
      });
    });
  }

  /** A CPU load of page p, which must map a frame (not an exclusive entry). */
  load(p: number): number {
    const e = this.pte(p);
    if (e.excl) throw new Error(`page ${p} is device-exclusive: the load faults first`);
    return this.page(e.frame).data;
  }

  /**
   * A CPU store to page p (not an exclusive entry): a copy-on-write page is copied first when it is
   * still shared (do_wp_page -> wp_page_copy, under a CLEAR region), else reused.
   */
  store(p: number, value: number): void {
    const e = this.pte(p);
    if (e.excl) throw new Error(`page ${p} is device-exclusive: the store faults first`);
    if (e.readOnly) throw new Error(`page ${p} is read-only: SIGSEGV`);
    if (e.cow) {
      this.notify(p, 'unmap', null, () => {
        if (this.page(e.frame).ref > 1) {
          const t = this.freeFrames()[0];
          if (t === undefined) throw new Error('no free frame for the copy');
          this.frames[t] = { ref: 1, locked: false, data: this.page(e.frame).data };
          this.putPage(e.frame);
          e.frame = t;
        }
        e.cow = false;
      });
    }
    this.page(e.frame).data = value;
  }
}
