/**
 * The reference HCA mirror driver: how a driver keeps an RDMA HCA's translation table (the mkey's
 * MTT) coherent with a CPU page table. Why this module exists: it is the executable counterpart of
 * the fence-migrate model, written in the shape of the kernel API a driver author uses, so that the
 * structure can be copied and the model's steps can be seen in real code:
 *
 * - an interval notifier per mirrored page, with the driver lock (`umem_mutex`) that orders the
 *   invalidate callback's `set_seq` against the fault path's `read_retry` (kernel-protocols.md 1.4);
 * - the invalidate callback (`mmu_interval_notifier_ops.invalidate`);
 * - the page-fault handler with the collision-retry loop (read_begin, hmm_range_fault, lock,
 *   read_retry, program the HCA, resume the faulting DMA);
 * - the fence / update-table / unblock steps a migration needs (fence mode), or the zap and drain
 *   (zap-and-fault mode).
 *
 * Every `yield` is a point where other threads and the HCA may run. A step the model also has is
 * yielded with the model's rule-instance label, so the harness can check each step against the model.
 * Requirement IDs (FM-Rn) and rule numbers refer to spec/fence-migrate.md (sections 3 and 8).
 */
import {
  type CpuMm,
  type Flow,
  type Hca,
  type HmmResult,
  type IntervalNotifierOps,
  type IntervalSubscription,
  Mutex,
  type NotifierRange,
  type PageFaultEvent,
  type Workqueue,
  mmuIntervalCheckRetry,
  mmuIntervalReadBegin,
  mmuIntervalSetSeq,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import type { DriverOptions } from './driverOptions.js';

/** The decision the fault handler takes once it holds the lock (step F4-F6 of the loop). */
type CommitOutcome = 'retry' | 'fail' | 'done' | 'map';

/** Where a page's fault work is in its loop: the next step (F1, F2, F4) and what it has sampled. */
export interface FaultWork {
  stage: 'idle' | 'walk' | 'commit';
  /** The interval sequence read_begin returned (meaningful once `sampled`). */
  seq: number;
  sampled: boolean;
  /** The frame hmm_range_fault found (null before the first walk, or when it failed). */
  pfn: number | null;
  /** Whether the last hmm_range_fault found a frame (false before the first walk). */
  ok: boolean;
}

export class HcaMirrorDriver implements IntervalNotifierOps {
  /** The driver lock U: held by the invalidate callback around set_seq and by the fault path around read_retry and the MTT update. */
  readonly umemMutex = new Mutex('umem_mutex');
  /** One interval notifier per page (so an invalidation of one page does not stall faults on another). */
  readonly subs: IntervalSubscription[] = [];
  readonly opts: DriverOptions;
  /** The fault work queued per page, and where its loop is (the model's `fault[p]` with fault=retry). */
  readonly faultWork = new Map<number, FaultWork>();
  /** Page-fault events received, and faults resolved by installing a translation (hmm-tests count these). */
  faultEvents = 0;
  faultsMapped = 0;
  private readonly mm: CpuMm;
  private readonly hca: Hca;
  private readonly wq: Workqueue;

  constructor(mm: CpuMm, hca: Hca, wq: Workqueue, opts: DriverOptions) {
    this.mm = mm;
    this.hca = hca;
    this.wq = wq;
    this.opts = opts;
  }

  /**
   * Registers the mirror (ib_umem_odp_get + mlx5_ib_init_odp_mr): an interval notifier per page and
   * the page-fault interrupt. With `prefetch`, every page present now is mapped at once (SNAPSHOT
   * prefetch; nothing runs concurrently with registration).
   */
  register(prefetch: boolean): void {
    for (let p = 0; p < this.mm.pages; p++) this.subs.push(this.mm.notifier.insert(p, p + 1, this));
    this.hca.onPageFault = (ev) => this.pageFaultInterrupt(ev);
    if (prefetch) {
      this.umemMutex.lock();
      for (let p = 0; p < this.mm.pages; p++) {
        const pte = this.mm.pte(p);
        if (pte.pfn !== null && !pte.migration && pte.prot !== 'none') this.hca.updateTranslation(p, pte.pfn);
      }
      this.umemMutex.unlock();
    }
  }

  /** Tears the mirror down: no callback runs after this, and the HCA translates nothing. */
  unregister(): void {
    for (const sub of this.subs) this.mm.notifier.remove(sub);
    this.subs.length = 0;
    this.hca.onPageFault = null;
    for (let p = 0; p < this.mm.pages; p++) this.hca.updateTranslation(p, null);
  }

  private sub(p: number): IntervalSubscription {
    const s = this.subs[p];
    if (!s) throw new Error(`page ${p} is not mirrored`);
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // The invalidate callback (mmu_interval_notifier_ops.invalidate).

  /**
   * Called by the mm before it changes PTEs in `range`. For a migration this driver started itself
   * (fence mode: migrate_vma_setup's MMU_NOTIFY_MIGRATE range with the driver as owner) the callback
   * does not touch the interval sequence (the pattern of lib/test_hmm.c's dmirror_interval_invalidate,
   * which returns early for its own migrations) and fences and blocks DMA to the page
   * (`fenceForMigration`). For anything else it sets the interval's sequence under the driver lock,
   * so that a concurrent fault or a migration's device update retries, zaps the translation and
   * waits for the zap to drain before returning (FM-R1, FM-R2): a migration started by core mm
   * (compaction, NUMA balancing) as the model's DriverZapMkey / DriverFenceWait, a zap of the page
   * (madvise(MADV_DONTNEED), munmap; mprotect in scenarios) as DriverDiscardZap / DriverDiscardWait.
   */
  *invalidate(sub: IntervalSubscription, range: NotifierRange, curSeq: number): Flow<boolean> {
    const start = Math.max(sub.start, range.start);
    const end = Math.min(sub.end, range.end);
    if (range.event === 'migrate' && range.owner === this) {
      yield* this.fenceForMigration(start);
      return true;
    }
    this.umemMutex.lock();
    mmuIntervalSetSeq(sub, curSeq);
    this.umemMutex.unlock();
    const migrating = range.event === 'migrate';
    if (migrating) yield* this.earlyFreeStep(start);
    yield step(migrating ? 'DriverZapMkey' : 'DriverDiscardZap', { p: start });
    this.umemMutex.lock();
    const fence = this.hca.zap(start, end);
    this.umemMutex.unlock();
    // The HCA may still be finishing DMA it translated before the zap: wait for the ZAP's completion.
    // BUG (fence-without-drain): a migration's callback returns without waiting.
    if (migrating && this.opts.knob === 'fence-without-drain') yield step('DriverFenceWait', { p: start });
    else yield* this.hca.waitFence(fence, stepLabel(migrating ? 'DriverFenceWait' : 'DriverDiscardWait', { p: start }));
    this.hca.releaseFence(fence);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // The page-fault path.

  /**
   * The HCA's page-fault interrupt (the EQ handler): queue the work that resolves the fault. There is
   * one work item per page, as with a work_struct queued twice: a fault on a page whose work is
   * already queued is covered by it, since the work resumes every fault pending on the page.
   */
  private pageFaultInterrupt(ev: PageFaultEvent): void {
    this.faultEvents++;
    if (this.faultWork.has(ev.page)) return;
    const w: FaultWork = { stage: 'idle', seq: 0, sampled: false, pfn: null, ok: false };
    this.faultWork.set(ev.page, w);
    this.wq.queueWork({ kind: 'fault', page: ev.page }, this.pageFaultWork(ev.page, w));
  }

  /** What the locked part of the fault handler does (F5, F6), decided under the lock. */
  private commitOutcome(p: number, w: FaultWork, r: HmmResult): CommitOutcome {
    if (this.mm.notifier.readRetry(this.sub(p), w.seq)) return 'retry';
    if (!this.hca.faultPending(p)) return 'done';
    if (!r.ok) return 'fail';
    return this.hca.table[p] === null ? 'map' : 'done';
  }

  /** The label of a fault-loop step: the model's rule when the model has it (fault=retry), else none (the kernel call's own). */
  private faultLabel(name: 'DriverFaultBegin' | 'DriverFaultWalk', p: number): string | undefined {
    return this.opts.faultSteps === 'retry' ? stepLabel(name, { p }) : undefined;
  }

  /**
   * Resolves the page faults on page `p` with the collision-retry loop (kernel-protocols.md 1.4):
   * F1 read_begin (sleeps while an invalidation of the page is in progress), F2 hmm_range_fault
   * (waits on a migration entry), F4 lock, F5 read_retry, F6 program the MTT, unlock, and resume the
   * faulting DMA. The translation comes only from a snapshot no invalidation has overlapped (FM-R1;
   * rule 7). Knob `stale-seq-retry` goes back to F2 with the old sequence after a collision, which
   * can never succeed (a livelock).
   */
  *pageFaultWork(p: number, w: FaultWork): Flow {
    const sub = this.sub(p);
    const notifier = this.mm.notifier;
    let fresh = true;
    for (;;) {
      if (fresh) {
        // F1: mmu_interval_read_begin (sleeps while an invalidation of the page is open).
        // read_begin wakes when the mm sequence moves, possibly into a new invalidation of the page,
        // and then returns a sequence that is already stale; an early check_retry sends the handler
        // back at once. (The fence-migrate model's F1 waits for a page with no open invalidation,
        // which this check makes the driver do; the handler would otherwise retry at F5.)
        const begin = this.faultLabel('DriverFaultBegin', p);
        let s = yield* mmuIntervalReadBegin(notifier, sub, { begin, wake: begin });
        while (yield* mmuIntervalCheckRetry(sub, s, begin)) s = yield* mmuIntervalReadBegin(notifier, sub, { begin, wake: begin });
        w.seq = s;
        w.sampled = true;
        w.stage = 'walk';
      }
      // F2: hmm_range_fault, outside the driver lock (it may itself trigger invalidations; it waits
      // on a migration entry).
      const r = yield* this.mm.hmmRangeFaultPage(sub, w.seq, p, () => this.hca.faultingWrite(p), this.faultLabel('DriverFaultWalk', p));
      w.pfn = r.ok ? r.pfn : null;
      w.ok = r.ok;
      if (!r.ok && r.error === 'EBUSY') {
        // F3: an invalidation collided with the walk: start again with a fresh sequence.
        w.stage = 'idle';
        fresh = true;
        continue;
      }
      w.stage = 'commit';
      // F4-F6, one step under the lock (still coarse: the fence-migrate model has one step for it).
      yield step(this.opts.faultSteps === 'retry' ? 'DriverFaultCommit' : 'DriverFaultMirror', { p });
      this.umemMutex.lock();
      const o = this.commitOutcome(p, w, r);
      if (o === 'retry') {
        // F5: an invalidation ran since read_begin; the pfn from F2 may be stale.
        this.umemMutex.unlock();
        fresh = this.opts.knob !== 'stale-seq-retry';
        w.stage = fresh ? 'idle' : 'walk';
        continue;
      }
      if (o === 'map' && r.ok) {
        // F6: program the HCA from the snapshot.
        this.hca.updateTranslation(p, r.pfn);
        this.faultsMapped++;
      }
      this.faultWork.delete(p);
      this.umemMutex.unlock();
      // PAGE_FAULT_RESUME: with an error the faulting operations fail (-EFAULT / -EPERM reach the requester).
      this.hca.resumePageFaults(p, o === 'fail' && !r.ok ? r.error : null);
      return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The migration steps the driver owns (fence mode: a driver-initiated migration).

  /** The interval sequence each driver-initiated migration sampled with read_begin, by page (the last one). */
  readonly migrationSeq = new Map<number, number>();
  /** Knob free-before-fence only: the mm's early free of each page's old frame, run before the first callback step. */
  readonly earlyFree = new Map<number, () => void>();

  /**
   * The driver starts migrating page `p` (before migrate_vma_setup): mmu_interval_read_begin on the
   * page's interval. The caller starts a migration only when no other invalidation of the page is in
   * progress, so read_begin does not sleep.
   */
  beginMigration(p: number): void {
    this.migrationSeq.set(p, this.mm.notifier.readBegin(this.sub(p)));
  }

  private *earlyFreeStep(p: number): Flow {
    const free = this.earlyFree.get(p);
    if (free === undefined) return;
    this.earlyFree.delete(p);
    yield step('MmFreeFrame', { p });
    free();
  }

  /**
   * In the driver's callback for its own migration of page `p`: a fence that also blocks new DMA to
   * the page (DriverFenceDma), then a wait until DMA the HCA had already translated has drained
   * (DriverFenceWait; FM-R2). Knob `fence-without-drain` returns without waiting.
   */
  *fenceForMigration(p: number): Flow {
    yield* this.earlyFreeStep(p);
    yield step('DriverFenceDma', { p });
    this.umemMutex.lock();
    const fence = this.hca.postFence(p, p + 1, true);
    this.umemMutex.unlock();
    // BUG (fence-without-drain): returns without waiting for the fence's completion.
    if (this.opts.knob === 'fence-without-drain') yield step('DriverFenceWait', { p });
    else yield* this.hca.waitFence(fence, stepLabel('DriverFenceWait', { p }));
    this.hca.releaseFence(fence);
  }

  /**
   * After migrate_vma_pages (fence mode): under the driver lock, point the MTT at the new frame
   * (DriverUpdateMkey, a UMR XLT update that completes before the step ends) if the page was migrated
   * and mmu_interval_read_retry reports no other invalidation since the migration's read_begin, or
   * empty the entry if it reports one (the
   * migration's own window closed inside migrate_vma_setup, so a madvise(MADV_DONTNEED) may have
   * zapped the page since); then unblock DMA to the page (DriverUnblockDma). Stalled DMA translates
   * at unblock time (FM-R1, FM-R3). Knob `unblock-before-update` swaps the two; `never-unblock`
   * forgets the unblock; `update-without-retry` skips read_retry; `update-after-failure` maps the new
   * frame even when the page was not migrated. Zap mode has nothing to do: the next DMA faults and the
   * fault path mirrors the new PTE.
   */
  *mapMigratedPage(p: number, dst: number, progress: { readonly failed: boolean }): Flow {
    if (this.opts.mode !== 'fence') return;
    const knob = this.opts.knob;
    const update = () => {
      this.umemMutex.lock();
      const s = this.migrationSeq.get(p);
      const collided = knob === 'update-without-retry' ? false : s === undefined || this.mm.notifier.readRetry(this.sub(p), s);
      const migrated = knob === 'update-after-failure' || !progress.failed;
      // A collision: another invalidation hit the page (its callback may not have zapped yet); the
      // entry is emptied. A failed migration keeps the old frame, which finalize restores.
      if (collided) this.hca.updateTranslation(p, null);
      else if (migrated) this.hca.updateTranslation(p, dst);
      this.umemMutex.unlock();
    };
    if (knob === 'unblock-before-update') {
      yield step('DriverUnblockDma', { p });
      this.hca.unblock(p, p + 1);
      yield step('DriverUpdateMkey', { p });
      update();
      return;
    }
    yield step('DriverUpdateMkey', { p });
    update();
    // BUG (never-unblock): an error path returns here; DMA stalled on the page waits forever.
    if (knob === 'never-unblock') return;
    yield step('DriverUnblockDma', { p });
    this.hca.unblock(p, p + 1);
  }
}
