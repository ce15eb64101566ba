/**
 * The reference odp-mirror driver: the device-side half of RDMA ODP / an HMM mirror, written the way
 * a driver author writes it against the kernel API, on the simulated hardware of mirrorcheck/harness.
 * Why this module exists: the model (model/protocols/odpMirror/odpMirror.ts) says what a correct
 * driver does step by step; this is such a driver as code, so the conformance check can compare its
 * every step with the model's, and a model counterexample can be replayed on it to show damage.
 *
 * It uses only what a real driver can use, each call a scheduling point of the harness: the driver
 * lock (`SleepingMutex` lock / trylock / unlock), `mmu_interval_read_begin` / `read_retry` /
 * `set_seq`, `hmm_range_fault` and `make_device_exclusive`, `mmget_not_zero` / `mmput`, DMA map and
 * unmap with `set_page_dirty`, the UMR queue (post, wait for the completion) and page-fault resume.
 * It never reads the notifier's sequence numbers or the device's accesses: whether a zap has
 * drained is what the zap's completion says; whether a non-blockable callback can finish without
 * sleeping it judges from its own DMA-mapped pfn list. So its atomic sections are only the code
 * between two such calls, and a knob that moves one call across another changes what the scheduler
 * can interleave.
 *
 * Step labels are the model's rule instances (hints for the conformance check and for the replay);
 * a wait that the model does not see (for a UMR completion) carries the label of the step it leads
 * to. Requirement IDs (ODP-Rn) and story steps (F*, I*) are those of spec/odp-mirror.md.
 */
import {
  DmaMap,
  EBUSY,
  type Flow,
  type HmmRange,
  type HmmStepNames,
  type IntervalSubscription,
  type MirrorDevice,
  type MmuNotifier,
  type NotifierRange,
  type ProcessMm,
  SleepingMutex,
  type StepPoint,
  type Unmapped,
  hmmRangeFault,
  hmmRangeValid,
  hmmRangeWaitUntilValid,
  makeDeviceExclusive,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuIntervalSetSeq,
  stepLabel,
} from 'mirrorcheck/harness';
import type { OdpKnob } from './knobs.js';

/** The hardware and kernel the driver runs on. */
export interface OdpDriverEnv {
  readonly notifier: MmuNotifier;
  readonly mm: ProcessMm;
  readonly device: MirrorDevice;
  /** Pages of the mirrored range [0, pages). */
  readonly pages: number;
  /** Interval notifiers the range is split into (contiguous blocks of pages). */
  readonly intervals: number;
  /** Retries before a work item gives up (HMM_RANGE_DEFAULT_TIMEOUT, counted, spec F10). */
  readonly retries: number;
  /** How a callback treats a non-blockable range: trylock, or give up at once (mlx5). */
  readonly nonblock: 'trylock' | 'eagain';
  /** How a callback treats a write-protect event: zap, or drop write permission only. */
  readonly protect: 'zap' | 'downgrade';
}

/** What a work item (the fault handler, 0, or the prefetch work, 1) is doing, as the state mapping reads it. */
export interface DriverWork {
  readonly handler: number;
  /** The device slot whose fault it serves (the fault handler), else null. */
  readonly slot: number | null;
  /** The interval it maps. */
  readonly iv: number;
  /** The hmm_range of the current attempt (walk position and snapshot). */
  readonly range: HmmRange;
  /** The sequence its read_begin read (kept while it sleeps there), or null. */
  seq: number | null;
  /** Back edges taken (spec F10). */
  tries: number;
  /** Past a successful read_retry: the sequence and the walk are done with. */
  committed: boolean;
  /** Its last read_retry saw a collision: the unlock it waits at goes back to F1. */
  collided: boolean;
  /** It gave up (the 1 s timeout, or a dead mm): it resumes its fault with an error. */
  failed: boolean;
}

/** Why a fault failed, for the damage report. */
export interface FaultFailure {
  readonly slot: number;
  readonly page: number;
  readonly op: string;
  readonly tries: number;
  readonly mmDead: boolean;
}

/** What an invalidate callback decided, as the state mapping reads it (per invalidating thread). */
export interface CallbackState {
  /** It will return false (-EAGAIN) after its unlock. */
  giveUp: boolean;
}

/** The lock holder names of the work items, as the model names them. */
const HANDLER_HOLDER = ['fault', 'prefetch'] as const;

export class OdpMirrorDriver {
  /** The driver lock U (umem_mutex / dmirror->mutex / svmm->mutex). */
  readonly umem = new SleepingMutex('umem_mutex');
  /** The DMA-mapped pfn list (the shadow of the device table, spec 4.1). */
  readonly dma: DmaMap;
  /** The work items in progress, by handler (0: the fault handler, 1: the prefetch work). */
  readonly work: (DriverWork | null)[] = [null, null];
  /** What each invalidating thread's current callback has decided. */
  readonly callbacks = new Map<number, CallbackState>();
  /** Faults the handler failed, in order. */
  readonly failures: FaultFailure[] = [];
  readonly knob: OdpKnob | null;
  private readonly env: OdpDriverEnv;
  private readonly subs: IntervalSubscription[] = [];

  constructor(env: OdpDriverEnv, knob: OdpKnob | null) {
    this.env = env;
    this.knob = knob;
    this.dma = new DmaMap(env.pages);
  }

  /** mmu_interval_notifier_insert for each interval (contiguous blocks of pages). */
  register(): void {
    for (let j = 0; j < this.env.intervals; j++) {
      const [lo, hi] = this.bounds(j);
      this.subs.push(this.env.notifier.insert(lo, hi + 1, (sub, range, cur) => this.invalidate(sub, range, cur)));
    }
  }

  /** The interval notifiers, in address order. */
  get intervals(): readonly IntervalSubscription[] {
    return this.subs;
  }

  /** First and last page of interval `j`. */
  bounds(j: number): [number, number] {
    const { pages, intervals } = this.env;
    const of = (p: number) => Math.floor((p * intervals) / pages);
    const all = Array.from({ length: pages }, (_, p) => p).filter((p) => of(p) === j);
    return [all[0] as number, all[all.length - 1] as number];
  }

  /** The interval of page `p`. */
  intervalOf(p: number): number {
    return Math.floor((p * this.env.intervals) / this.env.pages);
  }

  // ----------------------------------------------------------------------------------------------
  // The invalidate callback (ops->invalidate), spec I2-I6: once per interval the range hits.

  private *invalidate(sub: IntervalSubscription, range: NotifierRange, curSeq: number): Flow<boolean> {
    const { notifier, device, mm } = this.env;
    const info = notifier.rangeInfo(range);
    const own = info.event === 'exclusive' && info.owner === this;
    if (own && this.knob !== 'no-owner-filter') {
      // Our own make_device_exclusive inside the fault loop. Rule 7 / ODP-R9: recognise it and return
      // at once, or every attempt collides with itself (H1).
      yield point('DriverExclusiveInvalidate', {});
      return true;
    }
    const i = info.thread ?? 0;
    const L = own
      ? {
          lock: stepLabel('DriverExclusiveInvalidate'),
          zap: stepLabel('DriverExclusiveZap'),
          unmap: stepLabel('DriverExclusiveUnmap'),
          unlock: stepLabel('DriverExclusiveUnlock'),
        }
      : {
          lock: stepLabel('DriverInvalidateLock', { i }),
          zap: stepLabel('DriverInvalidateZap', { i }),
          unmap: stepLabel('DriverInvalidateUnmap', { i }),
          unlock: stepLabel('DriverInvalidateUnlock', { i }),
        };
    const me = own ? HANDLER_HOLDER[0] : `inv${i}`;
    const state: CallbackState = { giveUp: false };
    if (!own) this.callbacks.set(i, state);
    const lo = Math.max(range.start, sub.start);
    const hi = Math.min(range.end, sub.end) - 1;
    const downgrade = this.env.protect === 'downgrade' && info.event === 'protection';
    // I3: blockable: mutex_lock; non-blockable: mutex_trylock, or (nonblock=eagain, mlx5) give up at
    // once. The sleep-when-nonblockable knob sleeps for the lock where it must not.
    const sleeps = info.blockable || this.knob === 'sleep-when-nonblockable';
    if (sleeps) yield* this.umem.lock(me, { label: L.lock, mayBlock: info.blockable });
    else if (this.env.nonblock === 'eagain') {
      yield point('DriverInvalidateLock', { i });
      return false;
    } else if (!(yield* this.umem.trylock(me, { label: L.lock }))) return false; // -EAGAIN, U not taken
    // Rule 1 / ODP-R2: set_seq under U, before dropping it, so read_retry sees the collision. (The
    // valid-flag knob is the API before sequences: the core's start clears range->valid instead.)
    if (this.knob !== 'no-set-seq' && this.knob !== 'valid-flag') mmuIntervalSetSeq(sub, curSeq);
    // What must be revoked: the pages of this interval in the range that are DMA-mapped. Nothing:
    // nothing to zap, nothing to wait for. (A downgrade is posted for a read-only mapping too: a
    // write may still be in flight through an earlier writable entry, and only the downgrade's
    // completion waits for it.)
    const pages = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
    const mapped = pages.some((p) => this.dma.entry(p) !== null);
    if (mapped && !sleeps) {
      // Non-blockable: the zap's completion would have to be waited for. Rule 6 / ODP-R8: release U
      // and return false (B4: without the release).
      state.giveUp = true;
      if (this.knob === 'missed-unlock-nonblocking') yield point('DriverInvalidateUnlock', { i });
      else yield* this.umem.unlock({ label: L.unlock });
      return false;
    }
    if (mapped) {
      // I4-I5, rule 5 / ODP-R1: post the zap and wait for its completion, which comes only once the
      // accesses through the old entries have drained (zap-without-drain: no wait).
      const umr = yield* device.umrPost({ kind: downgrade ? 'downgrade' : 'zap', lo, hi }, L.zap);
      if (this.knob !== 'zap-without-drain') yield* device.umrWait(umr, L.unmap);
      // I5: DMA unmap (or downgrade), and set_page_dirty for every page the device could write.
      const gone: Unmapped[] = downgrade ? yield* this.dma.downgrade(lo, hi, L.unmap) : yield* this.dma.unmap(lo, hi, L.unmap);
      if (this.knob !== 'no-set-page-dirty') for (const g of gone) if (g.entry.write) mm.setPageDirty(g.entry.frame);
    }
    yield* this.umem.unlock({ label: L.unlock });
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // The work items (spec F0-F10): the fault handler serving a device fault, and the prefetch work.

  /** Serves the fault queued by device slot `slot` (F0 is the step that starts this flow). */
  *pageFault(slot: number): Flow<void> {
    const a = this.env.device.slot(slot);
    yield* this.resolve(0, slot, this.intervalOf(a.page), a.op !== 'read', a.op === 'atomic' ? a.page : null);
  }

  /** ibv_advise_mr(PREFETCH) on interval `iv`: maps it as a read fault would, with no access to resume. */
  *prefetch(iv: number): Flow<void> {
    yield* this.resolve(1, null, iv, false, null);
  }

  /** The collision-retry loop of work item `h` over interval `iv`. */
  private *resolve(h: number, slot: number | null, iv: number, write: boolean, atomicPage: number | null): Flow<void> {
    const { notifier, device, mm } = this.env;
    const [lo, hi] = this.bounds(iv);
    const sub = this.subs[iv] as IntervalSubscription;
    const perChunk = this.knob === 'seq-per-chunk';
    const range: HmmRange = {
      notifier: sub,
      notifierSeq: null,
      last: lo,
      end: perChunk ? lo + 1 : hi + 1,
      write,
      pfns: Array.from({ length: this.env.pages }, () => null),
    };
    const work: DriverWork = { handler: h, slot, iv, range, seq: null, tries: 0, committed: false, collided: false, failed: false };
    this.work[h] = work;
    const who = HANDLER_HOLDER[h] as string;
    const L = (name: string) => stepLabel(name, { h });
    const names: HmmStepNames = {
      check: L('DriverCheckRetry'),
      snapshot: (q) => stepLabel('DriverWalkSnapshot', { h, q }),
      faultIn: (q, f) => stepLabel('DriverWalkFaultIn', { h, q, f }),
      upgrade: (q) => stepLabel('DriverWalkUpgrade', { h, q }),
    };
    const lockEarly = this.knob === 'lock-across-read-begin';
    // The mm's reference, taken with mmget_not_zero and dropped after the successful read_retry (a
    // dead mm, whose exit has run, fails the fault: ib_umem_odp_map_dma_and_lock returns -EINVAL).
    if (!(yield* mm.mmgetNotZero(L('DriverMmget')))) {
      yield* this.giveUp(work, false);
      return;
    }
    if (lockEarly) yield* this.umem.lock(who, { label: L('DriverLockEarly') });
    let fresh = true; // false: retry hmm_range_fault with the old sequence (retry-stale-seq)
    for (;;) {
      if (fresh) {
        // F1 (valid-flag: hmm_range_wait_until_valid, and no sequence at all).
        if (this.knob === 'valid-flag') yield* hmmRangeWaitUntilValid(notifier, { begin: L('DriverReadBegin'), wake: L('DriverReadBeginWake') });
        else {
          const s = yield* mmuIntervalReadBegin(notifier.core, sub, { begin: L('DriverReadBegin'), wake: L('DriverReadBeginWake') }, (x) => {
            work.seq = x;
          });
          range.notifierSeq = s;
        }
        // F1a: an atomic access makes the page device-exclusive (our own event).
        if (atomicPage !== null && range.last === lo)
          yield* makeDeviceExclusive({ mm, notifier }, atomicPage, this, { start: stepLabel('DriverExclusiveStart'), end: stepLabel('DriverExclusiveEnd') });
      }
      // F2.
      const r = yield* hmmRangeFault({ mm, notifier }, range, names);
      if (r === EBUSY) {
        // F3, rule 2: back to read_begin for a fresh sequence (B6 knob: keep the stale one).
        if (!(yield* this.backEdge(work, this.knob === 'retry-stale-seq', lo))) return;
        fresh = this.knob !== 'retry-stale-seq';
        continue;
      }
      if (perChunk && range.end <= hi) {
        // B5 knob: a fresh read_begin for the next chunk, keeping the earlier chunks' pfns.
        range.last = range.end;
        range.end++;
        fresh = true;
        continue;
      }
      // F4 (lock-across-read-begin: held since the start; retry-before-lock: F5 first).
      let stale = false;
      if (this.knob === 'retry-before-lock') stale = yield* this.readRetry(work, L('DriverReadRetry'));
      if (!lockEarly) yield* this.umem.lock(who, { label: L('DriverLock') });
      // F5, rule 3 / ODP-R2: read_retry under U; program the device only if it returns false.
      if (this.knob !== 'no-read-retry' && this.knob !== 'retry-before-lock') stale = yield* this.readRetry(work, L('DriverReadRetry'));
      if (stale) {
        work.collided = true;
        if (!lockEarly) yield* this.umem.unlock({ label: L('DriverUnlock') });
        work.collided = false;
        if (!(yield* this.backEdge(work, false, lo))) return;
        fresh = true;
        continue;
      }
      mm.mmput();
      work.committed = true;
      work.seq = null;
      // F6 under U: DMA-map the snapshot (dirtying a writable mapping it replaces with a read-only
      // one), post the UMR that writes the table, wait for its completion, unlock, resume.
      const before = this.dma.entries.map((e) => e);
      yield* this.dma.map(lo, hi, range.pfns, L('DriverDmaMap'));
      for (let q = lo; q <= hi; q++) {
        const old = before[q] ?? null;
        const now = this.dma.entry(q);
        const keepsWrite = now !== null && old !== null && now.frame === old.frame && now.write;
        if (old?.write && !keepsWrite && this.knob !== 'no-set-page-dirty') mm.setPageDirty(old.frame);
      }
      range.pfns.fill(null);
      range.last = lo;
      // The translation update (the XLT buffer) is built from the pfn list now, under U. Rule 8 /
      // ODP-R5: it invalidates the device TLB for every page it writes (B15 knob: not for a page
      // whose frame stays, i.e. an upgrade).
      const entries = this.dma.entries.map((e) => e);
      const keepTlb = entries.map((e, q) => this.knob === 'no-secondary-tlb-flush' && q >= lo && q <= hi && e !== null && before[q]?.frame === e.frame);
      if (this.knob === 'unlock-before-device-write') yield* this.umem.unlock({ label: L('DriverUnlock') });
      const umr = yield* device.umrPost({ kind: 'update', lo, hi, entries, keepTlb }, L('DriverUmrPost'));
      if (this.knob === 'resume-before-umr-complete' && slot !== null) yield* device.resumeFault(slot, false, stepLabel('DriverResume'));
      yield* device.umrWait(umr, L('DriverUnlock'));
      if (this.knob !== 'unlock-before-device-write') yield* this.umem.unlock({ label: L('DriverUnlock') });
      if (slot !== null && this.knob !== 'resume-before-umr-complete') yield* device.resumeFault(slot, false, stepLabel('DriverResume'));
      this.work[h] = null;
      return;
    }
  }

  /** F5: read_retry (valid-flag: the old hmm_range_valid test). */
  private *readRetry(work: DriverWork, label: string): Flow<boolean> {
    if (this.knob === 'valid-flag') return !(yield* hmmRangeValid(this.env.notifier, label));
    return yield* mmuIntervalReadRetry(work.range.notifier, work.range.notifierSeq as number, label);
  }

  /**
   * A back edge of the retry loop (F3, F5, F10): counts a retry and restarts the walk, keeping the
   * sequence when `keepSeq`; after `retries` retries it gives up instead (the 1 s timeout) and
   * returns false.
   */
  private *backEdge(work: DriverWork, keepSeq: boolean, lo: number): Flow<boolean> {
    const { range } = work;
    if (work.tries === this.env.retries) {
      yield* this.giveUp(work, true);
      return false;
    }
    work.tries++;
    range.last = lo;
    if (this.knob === 'seq-per-chunk') range.end = lo + 1;
    range.pfns.fill(null);
    if (!keepSeq) {
      range.notifierSeq = null;
      work.seq = null;
    }
    return true;
  }

  /**
   * The work item gives up: the timeout (holding the mm's reference, which it drops) or a dead mm
   * (holding none); the lock-across-read-begin handler still holds U and drops it. The fault
   * handler then resumes its fault with an error; the prefetch work just ends.
   */
  private *giveUp(work: DriverWork, holdsMm: boolean): Flow<void> {
    if (holdsMm) this.env.mm.mmput();
    if (this.umem.holder === HANDLER_HOLDER[work.handler]) yield* this.umem.unlock({ label: stepLabel('DriverResume') });
    work.failed = true;
    work.seq = null;
    work.tries = 0;
    work.range.pfns.fill(null);
    if (work.slot !== null) {
      const a = this.env.device.slot(work.slot);
      this.failures.push({ slot: work.slot, page: a.page, op: a.op, tries: this.env.retries, mmDead: !this.env.mm.live });
      yield* this.env.device.resumeFault(work.slot, true, stepLabel('DriverResume'));
    }
    this.work[work.handler] = null;
  }
}

/** A plain step of the driver's own (returning from a callback): labelled like the model's rule. */
function point(name: string, args: Readonly<Record<string, number>>): StepPoint {
  return { label: stepLabel(name, args), ready: () => true, internal: false };
}
