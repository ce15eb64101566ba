/**
 * The odp-mr reference driver: an mlx5-like driver managing one ODP memory region on the simulated
 * HCA (odpHca.ts), explicit (one MTT MR) or implicit (a KSM parent whose children, one per chunk, are
 * created by faults): the page-fault work and the prefetch work (find the mkey, find or create the
 * child, pagefault_real_mr with ib_umem_odp_map_dma_and_lock, the parent's KSM update), the
 * invalidate callback (mlx5_ib_invalidate_range, destroy_unused_implicit_child_mr), the deferred
 * child free (free_implicit_child_mr_work) and MR destruction (__mlx5_ib_dereg_mr,
 * mlx5r_handle_mkey_cleanup, ib_umem_odp_release, mlx5_ib_free_odp_mr). Why this module exists: the
 * odp-mr model says what a correct driver does; this is such a driver, written against kernel-shaped
 * calls (mmu_interval_notifier_insert / remove, read_begin / check_retry / read_retry / set_seq,
 * hmm_range_fault's walk and fault-in, UMR posts), each a scheduling point, so the conformance check
 * can run it under any interleaving.
 *
 * umem_mutex (per MR object) and the parent's umem_mutex are holder names: a step that needs one
 * waits until it is free (its ready condition); the invalidate callback and the revoke hold it across
 * their UMR wait, as the model records. Knobs: the five model variants.
 */
import {
  type ChoicePoint,
  type Flow,
  type IntervalSubscription,
  type NotifierCore,
  mmuIntervalCheckRetry,
  mmuIntervalReadBegin,
  mmuIntervalSetSeq,
  step,
  stepLabel,
} from 'mirrorcheck/harness';
import type { OdpHca } from './odpHca.js';

/** The knobs (the model's variants). */
export type MrKnob = 'prefetch-before-fence' | 'umr-on-revoked-mkey' | 'revoked-skips-unmap' | 'ksm-update-unlocked' | 'child-release-before-ksm-update';

/** A worker's progress: 0 = the page-fault work, 1 = the prefetch work. */
export interface Worker {
  pc: 'idle' | 'queued' | 'child' | 'begin' | 'walk' | 'commit' | 'ksm' | 'ksmPost';
  page: number;
  /** The MR object it works on (0 for an explicit MR). */
  mr: number;
  /** Holds a usecount on the top MR (the explicit MR, or the implicit parent). */
  top: boolean;
  /** Holds a usecount on the child (implicit). */
  ref: boolean;
  /** Created the child (implicit): the KSM update follows. */
  newChild: boolean;
  /** The KSM payload built without the lock (knob ksm-update-unlocked). */
  payload: number | null;
  /** The sequence read_begin returned, and the interval it read it from. */
  seq: number;
  sub: IntervalSubscription | null;
  /** hmm_range_fault's result for the page (kept across a retry, as the model keeps it). */
  snap: number;
  /** Back at read_begin because the sequence moved (the model's stale flag stays set until read_begin). */
  retried: boolean;
}

/** Destruction of an MR object. */
export type TeardownStage = 'none' | 'revoke' | 'revokeWait' | 'revokeDone' | 'release' | 'remove' | 'done';

/** The user's ibv_dereg_mr. */
export type DeregStage = 'idle' | 'wait' | 'check' | 'erase' | 'teardown' | 'revoke' | 'revokeWait' | 'children' | 'childTd' | 'done';

/** The child free work of an implicit child. */
export type FreeWorkStage = 'none' | 'wait' | 'ksm' | 'ksmPost' | 'teardown';

/** An MTT MR object: the explicit MR, or an implicit child. */
export interface MrObject {
  used: boolean;
  chunk: number;
  /** umem_odp->private points at the MR (cleared by the revoke). */
  priv: boolean;
  /** Its interval notifier, while in the mm's interval tree. */
  sub: IntervalSubscription | null;
  /** umem_mutex, when held across a UMR wait (or null). */
  lock: string | null;
  td: TeardownStage;
  /** umem_odp's pfn list: the DMA-mapped frame of each page, or null. */
  readonly shadow: (number | null)[];
  fw: FreeWorkStage;
  fwPayload: number | null;
}

/** The process's page table as the driver's walk sees it (the system owns it). */
export interface OdpMm {
  readonly ptes: (number | null)[];
  readonly notifier: NotifierCore;
  /** Frames no PTE maps. */
  freeFrames(): number[];
  /** The frame the scheduler picked for the next fault-in. */
  allocChoice: number | null;
}

/** Told of driver steps the monitor judges. */
export interface DriverMonitor {
  dmaUnmap(page: number, frame: number, who: string): void;
  workOnDestroyedMr(w: number, what: string): void;
}

const idleWorker = (): Worker => ({
  pc: 'idle',
  page: 0,
  mr: 0,
  top: false,
  ref: false,
  newChild: false,
  payload: null,
  seq: 0,
  sub: null,
  snap: 0,
  retried: false,
});

export class Mlx5Odp {
  readonly hca: OdpHca;
  readonly mm: OdpMm;
  readonly knob: MrKnob | null;
  readonly implicit: boolean;
  readonly chunkPages: number;
  readonly objects: MrObject[];
  /** implicit_children: chunk -> child object. */
  readonly xa: (number | null)[];
  /** The parent's umem_mutex is held (across its revoke wait). */
  pLock = false;
  /** The MR is in odp_mkeys: new faults and prefetches can find it. */
  findable = true;
  dereg: DeregStage = 'idle';
  /** The child mlx5_ib_free_odp_mr is destroying. */
  derChild = 0;
  readonly workers: [Worker, Worker];
  monitor: DriverMonitor | null = null;

  constructor(hca: OdpHca, mm: OdpMm, cfg: { pages: number; implicit: boolean; chunkPages: number; objects: number }, knob: MrKnob | null) {
    this.hca = hca;
    this.mm = mm;
    this.knob = knob;
    this.implicit = cfg.implicit;
    this.chunkPages = cfg.chunkPages;
    const object = (): MrObject => ({
      used: false,
      chunk: 0,
      priv: false,
      sub: null,
      lock: null,
      td: 'none',
      shadow: Array.from({ length: cfg.pages }, () => null),
      fw: 'none',
      fwPayload: null,
    });
    this.objects = Array.from({ length: cfg.objects }, object);
    this.xa = Array.from({ length: cfg.implicit ? cfg.pages / cfg.chunkPages : 0 }, () => null);
    this.workers = [idleWorker(), idleWorker()];
    if (!cfg.implicit) {
      // mlx5_ib_reg_user_mr: the MTT MR with its notifier over every page.
      const o = this.objects[0] as MrObject;
      Object.assign(o, { used: true, priv: true, sub: mm.notifier.insert(0, cfg.pages, { invalidate: noCallback }) });
      hca.mkey[0] = true;
    }
  }

  chunkOf(p: number): number {
    return this.implicit ? Math.floor(p / this.chunkPages) : 0;
  }

  obj(m: number): MrObject {
    return this.objects[m] as MrObject;
  }

  /** Whether object m's interval covers page p (and is in the tree). */
  covers(m: number, p: number): boolean {
    const o = this.obj(m);
    return o.sub !== null && (!this.implicit || o.chunk === this.chunkOf(p));
  }

  /** umem_odp->npages of object m. */
  npages(m: number): number {
    return this.obj(m).shadow.filter((f) => f !== null).length;
  }

  /** Whether worker w is stale: a callback called set_seq on its MR since its read_begin. */
  stale(w: Worker): boolean {
    if (w.pc === 'begin') return w.retried;
    return (w.pc === 'walk' || w.pc === 'commit') && w.sub !== null && w.sub.invalidateSeq !== w.seq;
  }

  /** Usecount holders of the top MR: workers, and child free works (they hold a parent usecount). */
  topHolders(): boolean {
    return this.workers.some((w) => w.top) || this.objects.some((o) => o.fw !== 'none');
  }

  private unmapDma(m: number, p: number, who: string): void {
    const o = this.obj(m);
    const f = o.shadow[p];
    if (f === null || f === undefined) return;
    this.monitor?.dmaUnmap(p, f, who);
    o.shadow[p] = null;
  }

  private checkAlive(w: number, m: number, what: string): void {
    const dead = this.implicit
      ? !this.findable && this.dereg !== 'wait' && this.dereg !== 'check' && this.dereg !== 'erase'
      : this.obj(m).td !== 'none' || !this.obj(m).used;
    if (dead) this.monitor?.workOnDestroyedMr(w, what);
  }

  /** The end of a worker's run: drop the usecount; the fault work resumes the faulting queue. */
  private finish(wi: number): void {
    if (wi === 0) this.hca.acc.state = 'pending';
    Object.assign(this.workers[wi] as Worker, idleWorker());
  }

  /**
   * pagefault_implicit_mr's child lookup (implicit_get_child_mr): the child for the page's chunk
   * from implicit_children (a usecount), or a new one: the lowest free object gets a umem with its
   * interval notifier, a new mkey, and goes into implicit_children.
   */
  private *getChild(wi: number): Flow<void> {
    const w = this.workers[wi] as Worker;
    const k = this.chunkOf(w.page);
    const label = () => stepLabel('DriverGetChild', { w: wi, c: this.xa[k] ?? this.objects.findIndex((o) => !o.used) });
    yield { label, ready: () => this.xa[k] !== null || this.objects.some((o) => !o.used), internal: false };
    const found = this.xa[k] ?? null;
    if (found !== null) {
      Object.assign(w, { mr: found, ref: true, pc: 'begin' });
      return;
    }
    const c = this.objects.findIndex((o) => !o.used);
    const o = this.obj(c);
    Object.assign(o, { used: true, chunk: k, priv: true, lock: null, td: 'none' });
    o.sub = this.mm.notifier.insert(k * this.chunkPages, (k + 1) * this.chunkPages, { invalidate: noCallback });
    this.hca.freeKey(c);
    this.hca.mkey[c] = true;
    this.xa[k] = c;
    Object.assign(w, { mr: c, ref: true, newChild: true, pc: 'begin' });
  }

  /**
   * pagefault_real_mr for worker w on its page and MR object: read_begin and check_retry,
   * hmm_range_fault (walk, fault-in), then under umem_mutex read_retry, DMA map and the MTT UMR.
   */
  private *pagefaultMr(wi: number): Flow<void> {
    const w = this.workers[wi] as Worker;
    const p = w.page;
    const retry = () => {
      w.retried = true;
      w.pc = 'begin';
    };
    for (;;) {
      const sub = this.obj(w.mr).sub;
      let seq = 0;
      if (sub) {
        seq = yield* mmuIntervalReadBegin(this.mm.notifier, sub);
        if (yield* mmuIntervalCheckRetry(sub, seq, stepLabel('DriverReadBegin', { w: wi }))) continue;
      } else yield step('DriverReadBegin', { w: wi }); // the interval is gone: the MR was destroyed under the work
      this.checkAlive(wi, w.mr, 'read_begin');
      w.seq = seq;
      w.sub = sub;
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
      if (this.mm.ptes[p] === null) this.mm.ptes[p] = this.mm.allocChoice as number;
      w.snap = this.mm.ptes[p] as number;
      w.pc = 'commit';
      yield step('DriverCommit', { w: wi }, () => this.obj(w.mr).lock === null);
      if (this.stale(w)) {
        retry();
        continue;
      }
      this.checkAlive(wi, w.mr, 'the DMA map and MTT UMR of pagefault_real_mr');
      this.obj(w.mr).shadow[p] = w.snap;
      this.hca.postUmr({ op: 'mtt', mkey: w.mr, page: p, frame: w.snap });
      if (!this.implicit) return this.finish(wi);
      w.ref = false;
      if (!w.newChild) return this.finish(wi);
      w.pc = 'ksm';
      yield* this.ksmUpdate(wi);
      return;
    }
  }

  /** The parent's KSM UMR for the new child's chunk, built from implicit_children under the parent's umem_mutex (knob: built unlocked, posted later). */
  private *ksmUpdate(wi: number): Flow<void> {
    const w = this.workers[wi] as Worker;
    const k = this.chunkOf(w.page);
    if (this.knob === 'ksm-update-unlocked') {
      yield step('DriverKsmBuild', { w: wi });
      w.payload = this.xa[k] ?? null;
      w.pc = 'ksmPost';
      yield step('DriverKsmPost', { w: wi });
      this.hca.postUmr({ op: 'ksm', chunk: k, child: w.payload });
    } else {
      yield step('DriverKsmUpdate', { w: wi }, () => !this.pLock);
      this.hca.postUmr({ op: 'ksm', chunk: k, child: this.xa[k] ?? null });
    }
    this.finish(wi);
  }

  /** The page-fault work for the access that faulted: find the mkey (a usecount), or fail the access. */
  *faultWork(): Flow<void> {
    yield step('DriverTakeFault', {});
    if (!this.findable) {
      this.hca.acc.state = 'failed';
      return;
    }
    Object.assign(this.workers[0], { ...idleWorker(), top: true, page: this.hca.acc.page, pc: this.implicit ? 'child' : 'begin' });
    if (this.implicit) yield* this.getChild(0);
    yield* this.pagefaultMr(0);
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
    w.pc = this.implicit ? 'child' : 'begin';
    if (this.implicit) yield* this.getChild(1);
    yield* this.pagefaultMr(1);
  }

  /**
   * mlx5_ib_invalidate_range of invalidator i on page p for MR object m, whose interval the mm's
   * notifier core found covering p; `cur` is the region's sequence. Its first step is the callback's
   * entry (the caller has yielded it).
   */
  *invalidate(i: number, m: number, p: number, cur: number): Flow<void> {
    const o = this.obj(m);
    mmuIntervalSetSeq(o.sub as IntervalSubscription, cur);
    if (this.npages(m) === 0 || o.shadow[p] === null) return;
    if (!o.priv) {
      // The mkey is revoked: nothing to zap, but the page is still DMA mapped.
      if (this.knob !== 'revoked-skips-unmap') this.unmapDma(m, p, `invalidator ${i}`);
      return;
    }
    o.lock = `inv${i}`;
    this.hca.postUmr({ op: 'zap', mkey: m, page: p });
    yield step('DevCompleteZap', { i }, () => !this.hca.inflight(m, p));
    yield step('DriverInvalidateFinish', { i });
    this.unmapDma(m, p, `invalidator ${i}`);
    // destroy_unused_implicit_child_mr: a child left with nothing mapped leaves implicit_children,
    // and its free is queued (with a parent usecount, refused once the parent is unused).
    if (this.implicit && this.npages(m) === 0 && !this.topUnused() && this.xa[o.chunk] === m) {
      this.xa[o.chunk] = null;
      o.fw = 'wait';
    }
    o.lock = null;
  }

  /** The top MR is unused: out of odp_mkeys and no holder left. */
  topUnused(): boolean {
    return !this.findable && !this.topHolders();
  }

  /** Destruction of MTT object m (mlx5r_handle_mkey_cleanup then ib_umem_odp_release). */
  *teardown(m: number): Flow<void> {
    const o = this.obj(m);
    o.td = 'revoke';
    const locked = this.knob !== 'umr-on-revoked-mkey';
    yield step('DriverRevokeMkey', { m }, () => !locked || o.lock === null);
    if (locked) o.lock = 'teardown';
    this.hca.postUmr({ op: 'revoke', mkey: m });
    o.td = 'revokeWait';
    yield step('DevCompleteRevoke', { m }, () => !this.hca.inflight(m));
    o.td = 'revokeDone';
    yield step('DriverRevokeDone', { m });
    if (locked) {
      o.priv = false;
      o.lock = null;
    }
    o.td = 'release';
    yield step('DriverReleaseUmem', { m }, () => o.lock === null);
    for (let p = 0; p < o.shadow.length; p++) this.unmapDma(m, p, 'ib_umem_odp_release');
    o.td = 'remove';
    // mmu_interval_notifier_remove waits while the mm is invalidating.
    yield step('DriverRemoveNotifier', { m }, () => this.mm.notifier.seq % 2 === 0);
    this.mm.notifier.remove(o.sub as IntervalSubscription);
    o.sub = null;
    o.td = 'done';
  }

  /** The object is freed (its mkey and translations gone; a child object can be reused). */
  freeObject(m: number): void {
    Object.assign(this.obj(m), { used: false, chunk: 0, priv: false, sub: null, lock: null, td: 'none' });
    this.hca.freeKey(m);
  }

  /** ibv_dereg_mr. */
  *deregister(): Flow<void> {
    yield step('UserDeregMr', {});
    const noHolders = () => !this.topHolders();
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
    if (!this.implicit) {
      this.dereg = 'teardown';
      yield* this.teardown(0);
      yield step('DriverDeregDone', {});
      this.freeObject(0);
      this.dereg = 'done';
      return;
    }
    // The parent's KSM mkey: revoke under the parent's umem_mutex, wait for every access, unlock.
    this.dereg = 'revoke';
    yield step('DriverRevokeParent', {}, () => !this.pLock);
    this.pLock = true;
    this.hca.postUmr({ op: 'revoke-parent' });
    this.dereg = 'revokeWait';
    yield step('DevCompleteParentRevoke', {}, () => !this.hca.inflight());
    this.pLock = false;
    this.hca.parent?.ksm.fill(null);
    this.dereg = 'children';
    // mlx5_ib_free_odp_mr: every child still in implicit_children is erased and destroyed, lowest
    // chunk first (an invalidation may unlink one meanwhile: which is decided when the step runs).
    const lowest = () => this.xa.findIndex((x) => x !== null);
    for (;;) {
      yield { label: () => (lowest() >= 0 ? stepLabel('DriverFreeChild', { k: lowest() }) : 'DriverDeregDone()'), ready: () => true, internal: false };
      const k = lowest();
      if (k < 0) break;
      const c = this.xa[k] as number;
      this.derChild = c;
      this.xa[k] = null;
      this.dereg = 'childTd';
      yield* this.teardown(c);
      yield step('DriverFreeChildDone', {});
      this.freeObject(c);
      this.derChild = 0;
      this.dereg = 'children';
    }
    this.dereg = 'done';
  }

  /** free_implicit_child_mr_work for child m: wait for its users, point the KSM away, destroy it (knob: destroy first). */
  *childFreeWork(m: number): Flow<void> {
    const o = this.obj(m);
    yield step('DriverChildFreeWait', { m }, () => !this.workers.some((w) => w.ref && w.mr === m));
    const ksm = function* (this: Mlx5Odp): Flow<void> {
      if (this.knob === 'ksm-update-unlocked') {
        yield step('DriverChildKsmBuild', { m });
        o.fwPayload = this.xa[o.chunk] ?? null;
        o.fw = 'ksmPost';
        yield step('DriverChildKsmPost', { m });
        this.hca.postUmr({ op: 'ksm', chunk: o.chunk, child: o.fwPayload });
        o.fwPayload = null;
      } else {
        yield step('DriverChildKsmUpdate', { m }, () => !this.pLock);
        this.hca.postUmr({ op: 'ksm', chunk: o.chunk, child: this.xa[o.chunk] ?? null });
      }
    };
    if (this.knob === 'child-release-before-ksm-update') {
      o.fw = 'teardown';
      yield* this.teardown(m);
      yield step('DriverChildFreeDone', { m });
      o.fw = 'ksm';
      yield* ksm.call(this);
      this.freeObject(m);
      o.fw = 'none';
      return;
    }
    o.fw = 'ksm';
    yield* ksm.call(this);
    o.fw = 'teardown';
    yield* this.teardown(m);
    yield step('DriverChildFreeDone', { m });
    this.freeObject(m);
    o.fw = 'none';
  }
}

/** The interval callbacks are dispatched by the system's notifier loop in index order (see system.ts); the core's own call does nothing. */
// biome-ignore lint/correctness/useYield: a callback that never sleeps
function* noCallback(): Flow<boolean> {
  return true;
}
