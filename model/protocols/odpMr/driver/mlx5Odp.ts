/**
 * The odp-mr reference driver: an mlx5-like driver managing one explicit ODP memory region on the
 * simulated HCA (odpHca.ts): the page-fault work and the prefetch work (pagefault_real_mr with
 * ib_umem_odp_map_dma_and_lock), the invalidate callback (mlx5_ib_invalidate_range), and MR
 * destruction (__mlx5_ib_dereg_mr, mlx5r_handle_mkey_cleanup, ib_umem_odp_release). Why this module
 * exists: the odp-mr model says what a correct driver does; this is such a driver written against
 * kernel-shaped calls (mmu_interval_read_begin / check_retry / read_retry / set_seq, hmm_range_fault's
 * walk and fault-in, UMR posts, mmu_interval_notifier_remove), each a scheduling point, so the
 * conformance check can run it under any interleaving.
 *
 * umem_mutex is a holder name: a step that needs it waits until it is free (its ready condition) and
 * takes it; the invalidate callback and the revoke hold it across the UMR wait, as the model records.
 * Knobs (the model variants of an explicit MR): `prefetch-before-fence` (B9),
 * `umr-on-revoked-mkey` (B10), `revoked-skips-unmap`.
 */
import {
  type ChoicePoint,
  type Flow,
  type IntervalSubscription,
  type NotifierCore,
  type NotifierRange,
  mmuIntervalCheckRetry,
  mmuIntervalReadBegin,
  mmuIntervalSetSeq,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import type { OdpHca } from './odpHca.js';

/** The knobs of the explicit-MR driver. */
export type MrKnob = 'prefetch-before-fence' | 'umr-on-revoked-mkey' | 'revoked-skips-unmap';

/** A worker's progress: 0 = the page-fault work, 1 = the prefetch work. */
export interface Worker {
  pc: 'idle' | 'queued' | 'begin' | 'walk' | 'commit';
  page: number;
  /** Holds a usecount on the MR. */
  top: boolean;
  /** The sequence read_begin returned. */
  seq: number;
  /** hmm_range_fault's result for the page (kept across a retry, as the model keeps it). */
  snap: number;
  /** Back at read_begin because the sequence moved (the model's stale flag stays set until read_begin). */
  retried: boolean;
}

/** Destruction of the MR object. */
export type TeardownStage = 'none' | 'revoke' | 'revokeWait' | 'revokeDone' | 'release' | 'remove' | 'done';

/** The user's ibv_dereg_mr. */
export type DeregStage = 'idle' | 'wait' | 'check' | 'erase' | 'teardown' | 'done';

/** The process's page table as the driver's walk sees it (the system owns it). */
export interface OdpMm {
  readonly ptes: (number | null)[];
  readonly notifier: NotifierCore;
  /** Frames no PTE maps. */
  freeFrames(): number[];
  /** The frame the scheduler picked for the next fault-in. */
  allocChoice: number | null;
}

/** Told of driver steps the monitor judges: a DMA unmap, and work done on a destroyed MR. */
export interface DriverMonitor {
  dmaUnmap(page: number, frame: number, who: string): void;
  workOnDestroyedMr(w: number, what: string): void;
}

const idleWorker = (): Worker => ({ pc: 'idle', page: 0, top: false, seq: 0, snap: 0, retried: false });

export class Mlx5Odp {
  readonly hca: OdpHca;
  readonly mm: OdpMm;
  readonly knob: MrKnob | null;
  readonly sub: IntervalSubscription;
  /** umem_mutex: its holder, or null. */
  umemLock: string | null = null;
  /** umem_odp's pfn list: the DMA-mapped frame of each page, or null. */
  readonly shadow: (number | null)[];
  /** umem_odp->private points at the MR (cleared by the revoke). */
  priv = true;
  /** The interval notifier is in the mm's interval tree. */
  inTree = true;
  /** The MR is in odp_mkeys: new faults and prefetches can find it. */
  findable = true;
  /** The MR object is allocated (freed at the end of destruction). */
  used = true;
  td: TeardownStage = 'none';
  dereg: DeregStage = 'idle';
  readonly workers: [Worker, Worker];
  monitor: DriverMonitor | null = null;
  /** The invalidator whose notifier region is being started (its callback reads it when it begins). */
  startingInvalidator = 0;

  constructor(hca: OdpHca, mm: OdpMm, pages: number, knob: MrKnob | null) {
    this.hca = hca;
    this.mm = mm;
    this.knob = knob;
    this.shadow = Array.from({ length: pages }, () => null);
    this.workers = [idleWorker(), idleWorker()];
    this.sub = mm.notifier.insert(0, pages, { invalidate: (s, r, cur) => this.invalidate(s, r, cur) });
  }

  /** umem_odp->npages. */
  get npages(): number {
    return this.shadow.filter((f) => f !== null).length;
  }

  /** Whether worker w is stale: a callback called set_seq since its read_begin. */
  stale(w: Worker): boolean {
    if (w.pc === 'begin') return w.retried;
    return (w.pc === 'walk' || w.pc === 'commit') && this.sub.invalidateSeq !== w.seq;
  }

  private unmapDma(p: number, who: string): void {
    const f = this.shadow[p];
    if (f === null || f === undefined) return;
    this.monitor?.dmaUnmap(p, f, who);
    this.shadow[p] = null;
  }

  private checkAlive(w: number, what: string): void {
    if (!this.used || this.td !== 'none') this.monitor?.workOnDestroyedMr(w, what);
  }

  /**
   * pagefault_real_mr for worker w on its page: read_begin and check_retry, hmm_range_fault (walk,
   * fault-in), then under umem_mutex read_retry, DMA map and the MTT UMR; `finish` ends the work
   * (drops the usecount, resumes the faulting queue) in the same step.
   */
  *pagefaultMr(wi: number, finish: () => void): Flow<void> {
    const w = this.workers[wi] as Worker;
    const p = w.page;
    const retry = () => {
      w.retried = true;
      w.pc = 'begin';
    };
    w.pc = 'begin';
    for (;;) {
      const seq = yield* mmuIntervalReadBegin(this.mm.notifier, this.sub);
      if (yield* mmuIntervalCheckRetry(this.sub, seq, stepLabel('DriverReadBegin', { w: wi }))) continue;
      this.checkAlive(wi, 'read_begin');
      w.seq = seq;
      w.retried = false;
      w.pc = 'walk';
      // hmm_range_fault: -EBUSY when the sequence moved, else the PTE's frame, faulting it in if none.
      const walk: ChoicePoint = {
        label: () => stepLabel('DriverWalk', { w: wi }),
        ready: () => this.stale(w) || this.mm.ptes[p] !== null || this.mm.freeFrames().length > 0,
        internal: false,
        alternatives: () =>
          this.stale(w) || this.mm.ptes[p] !== null
            ? [{ label: stepLabel('DriverWalk', { w: wi }), frame: null }]
            : this.mm.freeFrames().map((f) => ({ label: stepLabel('DriverWalkFaultIn', { w: wi, f }), frame: f })),
      };
      yield walk;
      if (this.stale(w)) {
        retry();
        continue;
      }
      if (this.mm.ptes[p] === null) {
        const f = this.mm.allocChoice as number;
        this.mm.ptes[p] = f;
      }
      w.snap = this.mm.ptes[p] as number;
      w.pc = 'commit';
      yield step('DriverCommit', { w: wi }, () => this.umemLock === null);
      if (this.stale(w)) {
        retry();
        continue;
      }
      this.checkAlive(wi, 'the DMA map and MTT UMR of pagefault_real_mr');
      this.shadow[p] = w.snap;
      this.hca.postUmr({ op: 'mtt', page: p, frame: w.snap });
      finish();
      return;
    }
  }

  /** The page-fault work for the access that faulted: find the mkey (a usecount), or fail the access. */
  *faultWork(): Flow<void> {
    yield step('DriverTakeFault', {});
    if (!this.findable) {
      this.hca.acc.state = 'failed';
      return;
    }
    const w = this.workers[0];
    Object.assign(w, { ...idleWorker(), top: true, page: this.hca.acc.page, pc: 'begin' });
    yield* this.pagefaultMr(0, () => {
      this.hca.acc.state = 'pending';
      Object.assign(w, idleWorker());
    });
  }

  /** ibv_advise_mr(PREFETCH) of page p: init_prefetch_work takes a usecount and queues the work; false: -ENOENT. */
  advise(p: number): boolean {
    if (!this.findable) return false;
    Object.assign(this.workers[1], { ...idleWorker(), top: true, page: p, pc: 'queued' });
    return true;
  }

  /** mlx5_ib_prefetch_mr_work. */
  *prefetchWork(): Flow<void> {
    yield step('DriverPrefetchWork', {});
    const w = this.workers[1];
    yield* this.pagefaultMr(1, () => Object.assign(w, idleWorker()));
  }

  /** mlx5_ib_invalidate_range for invalidator i on its page. */
  *invalidate(sub: IntervalSubscription, range: NotifierRange, cur: number): Flow<boolean> {
    const i = this.startingInvalidator;
    const p = range.start;
    yield step('DriverInvalidateBegin', { i }, () => this.umemLock === null);
    mmuIntervalSetSeq(sub, cur);
    if (this.npages === 0 || this.shadow[p] === null) return true;
    if (!this.priv) {
      // The mkey is revoked: nothing to zap, but the page is still DMA mapped.
      if (this.knob !== 'revoked-skips-unmap') this.unmapDma(p, `invalidator ${i}`);
      return true;
    }
    this.umemLock = `inv${i}`;
    this.hca.postUmr({ op: 'zap', page: p });
    yield step('DevCompleteZap', { i }, () => !this.hca.inflight(p));
    yield step('DriverInvalidateFinish', { i });
    this.unmapDma(p, `invalidator ${i}`);
    this.umemLock = null;
    return true;
  }

  /** ibv_dereg_mr: stop new users, wait for the usecount, revoke, release the umem, remove the notifier, free. */
  *deregister(): Flow<void> {
    yield step('UserDeregMr', {});
    const noHolders = () => !this.workers.some((w) => w.top);
    if (this.knob === 'prefetch-before-fence') {
      // B9: the holders are counted before new holders are fenced off.
      this.dereg = 'check';
      yield step('DriverDeregWait', {}, noHolders);
      this.dereg = 'erase';
      yield step('DriverDeregErase', {});
      this.findable = false;
    } else {
      this.findable = false; // xa_erase from odp_mkeys
      this.dereg = 'wait';
      yield step('DriverDeregWait', {}, noHolders);
    }
    this.dereg = 'teardown';
    this.td = 'revoke';
    const locked = this.knob !== 'umr-on-revoked-mkey';
    yield step('DriverRevokeMkey', { m: 0 }, () => !locked || this.umemLock === null);
    if (locked) this.umemLock = 'teardown';
    this.hca.postUmr({ op: 'revoke' });
    this.td = 'revokeWait';
    yield step('DevCompleteRevoke', { m: 0 }, () => !this.hca.inflight());
    this.td = 'revokeDone';
    yield step('DriverRevokeDone', { m: 0 });
    if (locked) {
      this.priv = false;
      this.umemLock = null;
    }
    this.td = 'release';
    yield step('DriverReleaseUmem', { m: 0 }, () => this.umemLock === null);
    for (let p = 0; p < this.shadow.length; p++) this.unmapDma(p, 'ib_umem_odp_release');
    this.td = 'remove';
    // mmu_interval_notifier_remove waits while the mm is invalidating.
    yield step('DriverRemoveNotifier', { m: 0 }, () => this.mm.notifier.seq % 2 === 0);
    this.mm.notifier.remove(this.sub);
    this.inTree = false;
    this.td = 'done';
    yield step('DriverDeregDone', {});
    this.used = false;
    this.priv = false;
    this.td = 'none';
    this.hca.mkey = false;
    this.hca.mtt.fill(null);
    this.dereg = 'done';
  }
}
