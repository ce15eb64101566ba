/**
 * The device-exclusive reference driver: a nouveau-like SVM driver that serves a device's atomic
 * faults with make_device_exclusive (nouveau_atomic_range_fault) and zaps its atomic mappings from
 * its notifier callbacks (nouveau_svmm_invalidate_range_start for the device mappings,
 * nouveau_svm_range_invalidate for the fault's own interval). Why this module exists: the
 * device-exclusive model says what a correct driver does; this is such a driver, written against
 * kernel-shaped calls (mmu_interval_notifier_insert / read_begin / check_retry / read_retry /
 * set_seq, GUP, folio_lock, make_device_exclusive), each a scheduling point, so the conformance
 * check can run it under any interleaving.
 *
 * The callbacks take the driver mutex and release it inside their step, as does the map under
 * read_retry (harness/kernel.ts Mutex: a lock held across a scheduling point would throw).
 */
import { type Flow, type IntervalSubscription, Mutex, type NotifierRange, mmuIntervalCheckRetry, mmuIntervalReadBegin, step } from 'mirrorcheck/harness';
import type { ExclusiveMm } from './exclusiveMm.js';

const EPERM = 1;

/** How the callbacks treat MMU_NOTIFY_EXCLUSIVE events: by owner (correct), never skipped, or always skipped. */
export type OwnerFilter = 'owner' | 'none' | 'any-exclusive';

/** The atomic fault the driver is serving, for the state mapping. */
export interface AtomicFault {
  readonly page: number;
  stage: 'begin' | 'gup' | 'lock' | 'excl' | 'map';
  frame: number;
  seq: number;
  readonly sub: IntervalSubscription;
}

export class NouveauSvm {
  readonly mm: ExclusiveMm;
  readonly mutex = new Mutex('svmm');
  /** The device's atomic mapping of each page (a frame), or null. */
  readonly atomic: (number | null)[];
  readonly filter: OwnerFilter;
  fault: AtomicFault | null = null;
  /** Atomic faults begun. */
  faultsBegun = 0;
  /** Retries of the fault loop after a failed read_retry (a livelock shows as an ever-growing count). */
  retries = 0;

  constructor(mm: ExclusiveMm, pages: number, filter: OwnerFilter) {
    this.mm = mm;
    this.filter = filter;
    this.atomic = Array.from({ length: pages }, () => null);
    // The svmm's notifier over the whole address space: zaps device mappings.
    mm.notifier.insert(0, pages, { invalidate: (_s, r) => this.svmmInvalidate(r) });
  }

  /** Whether a callback skips this event. */
  private skips(r: NotifierRange): boolean {
    if (r.event !== 'exclusive') return false;
    if (this.filter === 'none') return false;
    if (this.filter === 'any-exclusive') return true;
    return r.owner === this;
  }

  /** nouveau_svmm_invalidate_range_start: zap the device's mappings in the range, under the mutex. */
  // biome-ignore lint/correctness/useYield: a callback that never sleeps
  private *svmmInvalidate(r: NotifierRange): Flow<boolean> {
    if (this.skips(r)) return true;
    this.mutex.lock();
    for (let p = r.start; p < r.end; p++) this.atomic[p] = null;
    this.mutex.unlock();
    return true;
  }

  /** nouveau_svm_range_invalidate: the fault's interval; set_seq under the mutex. */
  // biome-ignore lint/correctness/useYield: a callback that never sleeps
  private *rangeInvalidate(sub: IntervalSubscription, r: NotifierRange, cur: number): Flow<boolean> {
    if (this.skips(r)) return true;
    this.mutex.lock();
    this.mm.notifier.setSeq(sub, cur);
    this.mutex.unlock();
    return true;
  }

  /**
   * nouveau_atomic_range_fault for page p; the step DevAtomicFault(p) that raises it is taken by the
   * caller. Returns 0, or -EPERM when GUP for write finds the page read-only (mprotect).
   */
  *atomicFault(p: number): Flow<number> {
    yield step('DevAtomicFault', { p });
    this.faultsBegun++;
    const sub = this.mm.notifier.insert(p, p + 1, { invalidate: (s, r, cur) => this.rangeInvalidate(s, r, cur) });
    const f: AtomicFault = { page: p, stage: 'begin', frame: 0, seq: 0, sub };
    this.fault = f;
    for (;;) {
      // read_begin, then check_retry: a sequence that went stale while read_begin slept is not used.
      f.seq = yield* mmuIntervalReadBegin(this.mm.notifier, sub);
      if (yield* mmuIntervalCheckRetry(sub, f.seq, 'DriverReadBegin()')) continue;
      f.stage = 'gup';
      for (;;) {
        // make_device_exclusive: GUP (faulting an exclusive entry back first), folio_lock, the
        // EXCLUSIVE region and the exclusive entry.
        yield step('DriverGetPage', {}, () => !this.mm.pte(p).excl || !this.mm.page(this.mm.pte(p).frame).locked);
        if (this.mm.pte(p).readOnly) {
          this.mm.notifier.remove(sub);
          this.fault = null;
          return -EPERM;
        }
        if (this.mm.pte(p).excl) this.mm.revokeNow('the GUP fault of make_device_exclusive', p);
        f.frame = this.mm.pte(p).frame;
        this.mm.getPage(f.frame);
        f.stage = 'lock';
        yield step('DriverLockPage', {}, () => !this.mm.page(f.frame).locked);
        this.mm.page(f.frame).locked = true;
        f.stage = 'excl';
        yield step('DriverMakeExclusive', {});
        if (this.mm.makeExclusive(p, f.frame, this)) break;
        this.mm.page(f.frame).locked = false;
        this.mm.putPage(f.frame);
        f.frame = 0;
        f.stage = 'gup';
      }
      f.stage = 'map';
      // Under the mutex: read_retry, and the atomic mapping if nothing invalidated the page; then
      // folio_unlock and folio_put.
      yield step('DriverMapAtomic', {});
      this.mutex.lock();
      const stale = this.mm.notifier.readRetry(sub, f.seq);
      if (!stale) this.atomic[p] = f.frame;
      this.mutex.unlock();
      this.mm.page(f.frame).locked = false;
      this.mm.putPage(f.frame);
      f.frame = 0;
      if (!stale) break;
      this.retries++;
      f.stage = 'begin';
    }
    this.mm.notifier.remove(sub);
    this.fault = null;
    return 0;
  }

  /** The device reads page p through its atomic mapping (dmirror_do_read after HMM_DMIRROR_EXCLUSIVE), or null without one. */
  readAtomic(p: number): number | null {
    const f = this.atomic[p];
    return f === null || f === undefined ? null : this.mm.page(f).data;
  }
}
