/**
 * The reference odp-mirror driver: the device-side half of RDMA ODP / an HMM mirror, written in the
 * shape a driver author writes it against the kernel API (mmu_interval_read_begin / read_retry /
 * check_retry / set_seq, hmm_range_fault, make_device_exclusive), running on the simulated hardware
 * of mirrorcheck/harness (MmuNotifier, ProcessMm, MirrorDevice, hmmRangeFault). Why this module exists: the model
 * (model/protocols/odpMirror/odpMirror.ts) says what a correct driver does step by step; this is such
 * a driver as code, so the conformance test can check that its every step is a model step, and a
 * model counterexample can be replayed on it to show concrete damage.
 *
 * Requirement IDs (ODP-Rn) and story steps (F*, I*) are those of spec/odp-mirror.md. Each bug knob
 * (driver/knobs.ts) changes the code where the model's variant of the same name changes
 * the model; `end-skipped-after-eagain` acts in the simulated core (harness/mmuNotifier.ts).
 *
 * Every `yield` is a scheduling point named by the model's rule instance; the code after a yield, up
 * to the next, is that step.
 */
import {
  type DevEntry,
  EBUSY,
  type Flow,
  type HmmRange,
  type IntervalSubscription,
  type MirrorDevice,
  type MmuNotifier,
  type NotifierRange,
  type ProcessMm,
  SleepingMutex,
  hmmRangeFault,
  makeDeviceExclusive,
  step,
} from 'mirrorcheck/harness';
import type { OdpKnob } from './knobs.js';

/** The hardware and kernel the driver runs on. */
export interface OdpDriverEnv {
  readonly notifier: MmuNotifier;
  readonly mm: ProcessMm;
  readonly device: MirrorDevice;
  /** Pages of the mirrored interval [0, pages). */
  readonly pages: number;
  /** Retries before the fault handler gives up (HMM_RANGE_DEFAULT_TIMEOUT, counted, spec F7). */
  readonly retries: number;
}

/** The fault being served, as the harness's model mapping reads it. */
export interface FaultWork {
  readonly slot: number;
  /** The hmm_range of the current attempt (its seq, walk position and snapshot). */
  readonly range: HmmRange;
  /** Back edges taken (spec F7). */
  tries: number;
}

/** Why the last fault of a slot failed, for the damage report. */
export interface FaultFailure {
  readonly slot: number;
  readonly page: number;
  readonly op: string;
  readonly tries: number;
}

export class OdpMirrorDriver {
  /** The driver lock U (umem_mutex / dmirror->mutex / svmm->mutex). */
  readonly umem = new SleepingMutex('umem_mutex');
  /** The DMA-mapped pfn list (the shadow, spec 4.1): what the driver intends the device to hold. */
  readonly shadow: (DevEntry | null)[];
  /** The fault being served (one work item at a time), or null. */
  fault: FaultWork | null = null;
  /** Faults the handler gave up on, in order. */
  readonly failures: FaultFailure[] = [];
  readonly knob: OdpKnob | null;
  private readonly env: OdpDriverEnv;
  private sub: IntervalSubscription | null = null;

  constructor(env: OdpDriverEnv, knob: OdpKnob | null) {
    this.env = env;
    this.knob = knob;
    this.shadow = Array.from({ length: env.pages }, () => null);
  }

  /** mmu_interval_notifier_insert over the whole mirrored range. */
  register(): void {
    this.sub = this.env.notifier.insert(0, this.env.pages, (sub, range, cur) => this.invalidate(sub, range, cur));
  }

  /** The registered interval notifier. */
  get interval(): IntervalSubscription {
    if (!this.sub) throw new Error('the driver is not registered');
    return this.sub;
  }

  // ----------------------------------------------------------------------------------------------
  // The invalidate callback (ops->invalidate), spec I2-I3.

  private *invalidate(sub: IntervalSubscription, range: NotifierRange, curSeq: number): Flow<boolean> {
    const { notifier, device } = this.env;
    const info = notifier.rangeInfo(range);
    const page = range.start;
    if (info.event === 'exclusive' && info.owner === this) {
      // Our own make_device_exclusive inside the fault loop. Rule 7 / ODP-R9: recognise it and return
      // at once, or every attempt collides with itself (H1).
      const filter = this.knob !== 'no-owner-filter';
      yield step('DriverExclusiveInvalidate', {}, () => filter || (this.umem.free && !device.inflightOn(page)));
      if (filter) return true;
      // no-owner-filter: treated as any event (lock, set_seq, zap, wait, unmap, unlock); nothing to wait for.
      this.umem.lockNow('fault');
      this.setSeq(sub, curSeq);
      this.zap(page);
      this.unmapDma(page);
      this.umem.unlockNow();
      return true;
    }
    const i = info.thread ?? 0;
    const me = `inv${i}`;
    // I2: blockable: mutex_lock; non-blockable: mutex_trylock (the step is ready at once).
    yield step('DriverInvalidateBegin', { i }, () => !info.blockable || this.umem.free);
    if (info.blockable) this.umem.lockNow(me);
    else if (!this.umem.tryLockNow(me))
      return false; // -EAGAIN, U not taken
    else if (device.inflightOn(page)) {
      // The zap would have to sleep for an in-flight access: give up. Rule 6 / ODP-R8: release U.
      if (this.knob !== 'missed-unlock-nonblocking') this.umem.unlockNow();
      return false;
    }
    // Rule 1 / ODP-R2: set_seq under U, before dropping it, so read_retry sees the collision. (The
    // valid-flag knob is the API before sequences: the core's start clears range->valid instead.)
    if (this.knob !== 'no-set-seq' && this.knob !== 'valid-flag') this.setSeq(sub, curSeq);
    this.zap(page);
    // I3, rule 5 / ODP-R1: the zap completes only when the accesses through the old entry have drained.
    yield step('DriverInvalidateFinish', { i }, () => this.knob === 'zap-without-drain' || !device.inflightOn(page));
    this.unmapDma(page);
    this.umem.unlockNow();
    return true;
  }

  private setSeq(sub: IntervalSubscription, curSeq: number): void {
    this.env.notifier.core.setSeq(sub, curSeq);
  }

  /** Post the device zap: clear the table entry and the TLB entry caching it (UMR ZAP / xa_erase). */
  private zap(page: number): void {
    this.env.device.table[page] = null;
    this.env.device.tlb[page] = null;
  }

  /** ib_umem_odp_unmap_dma_pages: DMA unmap; a page the device could write is marked dirty. */
  private unmapDma(page: number): void {
    const e = this.shadow[page];
    if (e?.write) this.env.mm.dirty[e.frame] = true;
    this.shadow[page] = null;
  }

  // ----------------------------------------------------------------------------------------------
  // The fault handler (a work item serving device page faults), spec F0-F7.

  /** Serves the fault queued by device slot `slot` (F0 is the step that starts this flow). */
  *pageFault(slot: number): Flow<void> {
    const { device, pages } = this.env;
    const acc = device.slot(slot);
    const range: HmmRange = {
      notifier: this.interval,
      notifierSeq: null,
      last: 0,
      end: this.knob === 'seq-per-chunk' ? 1 : pages,
      write: acc.op !== 'read',
      pfns: Array.from({ length: pages }, () => null),
    };
    const work: FaultWork = { slot, range, tries: 0 };
    this.fault = work;
    const lockEarly = this.knob === 'lock-across-read-begin';
    if (lockEarly) {
      // H3 knob: U taken before read_begin and held through the walk (rule 4 broken).
      yield step('DriverLockEarly', {}, () => this.umem.free);
      this.umem.lockNow('fault');
    }
    let fresh = true; // false: retry hmm_range_fault with the old sequence (retry-stale-seq)
    for (;;) {
      if (fresh) {
        range.notifierSeq = yield* this.readBegin(range);
        // Atomic access: make the page device-exclusive (our own event, F1a).
        if (acc.op === 'atomic' && range.last === 0)
          yield* makeDeviceExclusive(this.env, acc.page, this, { start: 'DriverExclusiveStart()', end: 'DriverExclusiveEnd()' });
      }
      const r = yield* hmmRangeFault(this.env, range, {
        check: 'DriverCheckRetry()',
        snapshot: (q) => `DriverWalkSnapshot(q=${q})`,
        faultIn: (q, f) => `DriverWalkFaultIn(q=${q}, f=${f})`,
        upgrade: (q) => `DriverWalkUpgrade(q=${q})`,
      });
      if (r === EBUSY) {
        // F3, rule 2: back to read_begin for a fresh sequence (B6 knob: keep the stale one).
        if (!this.backEdge(work, this.knob === 'retry-stale-seq')) return;
        fresh = this.knob !== 'retry-stale-seq';
        continue;
      }
      if (this.knob === 'seq-per-chunk' && range.end < pages) {
        // B5 knob: a fresh read_begin for the next chunk, keeping the earlier chunks' pfns.
        range.last = range.end;
        range.end++;
        fresh = true;
        continue;
      }
      // F4: take U (already held with the lock-across-read-begin knob).
      if (!lockEarly) {
        yield step('DriverLock', {}, () => this.umem.free);
        this.umem.lockNow('fault');
      }
      // F5, rule 3 / ODP-R2: read_retry under U; program the device only if it returns false.
      yield step('DriverReadRetry', {});
      if (this.knob !== 'no-read-retry' && this.readRetry(range)) {
        if (!lockEarly) this.umem.unlockNow();
        if (!this.backEdge(work, false)) return;
        fresh = true;
        continue;
      }
      this.commit(range);
      this.umem.unlockNow();
      device.slot(slot).state = 'pending'; // resume the faulting access
      this.fault = null;
      return;
    }
  }

  /**
   * mmu_interval_read_begin (F1): reads the interval's sequence; sleeps while an invalidation that
   * has already called back is open, until the mm sequence moves. With the valid-flag knob (B1),
   * hmm_range_wait_until_valid: sleep while any invalidation is open, and no sequence.
   */
  private *readBegin(range: HmmRange): Flow<number | null> {
    const { notifier } = this.env;
    yield step('DriverReadBegin', {});
    if (this.knob === 'valid-flag') {
      if (!notifier.rangeValid()) yield step('DriverReadBeginWake', {}, () => notifier.rangeValid());
      return null;
    }
    const sleeps = notifier.core.readBeginWouldSleep(range.notifier);
    const seq = range.notifier.invalidateSeq;
    range.notifierSeq = seq; // the value read (the model shows it while asleep)
    if (sleeps) yield step('DriverReadBeginWake', {}, () => notifier.core.seq !== seq);
    return seq;
  }

  /**
   * mmu_interval_read_retry under U (F5): has a callback called set_seq since read_begin? With the
   * valid-flag knob (B1): is the range marked invalid, i.e. is any invalidation open?
   */
  private readRetry(range: HmmRange): boolean {
    const { notifier } = this.env;
    if (range.notifierSeq === null) return !notifier.rangeValid();
    return notifier.core.readRetry(range.notifier, range.notifierSeq);
  }

  /**
   * A back edge of the retry loop (F3, F5, F7): counts a retry and restarts the walk, keeping the
   * sequence when `keepSeq`; after `retries` retries fails the fault instead (the 1 s timeout) and
   * returns false.
   */
  private backEdge(work: FaultWork, keepSeq: boolean): boolean {
    const { range } = work;
    if (work.tries === this.env.retries) {
      const acc = this.env.device.slot(work.slot);
      acc.state = 'failed';
      if (this.umem.holder === 'fault') this.umem.unlockNow();
      this.failures.push({ slot: work.slot, page: acc.page, op: acc.op, tries: work.tries });
      this.fault = null;
      return false;
    }
    work.tries++;
    range.last = 0;
    if (this.knob === 'seq-per-chunk') range.end = 1;
    range.pfns.fill(null);
    if (!keepSeq) range.notifierSeq = null;
    return true;
  }

  /**
   * F6, under U: program the device table and the shadow from the snapshot, invalidating the device
   * TLB for each page (rule 8 / ODP-R5: upgrades included; the B15 knob skips the invalidation when
   * the frame is unchanged).
   */
  private commit(range: HmmRange): void {
    const { device } = this.env;
    for (let q = 0; q < this.env.pages; q++) {
      const next = range.pfns[q] ?? null;
      const cur = device.table[q] ?? null;
      const keepsFrame = cur !== null && next !== null && cur.frame === next.frame;
      if (!(this.knob === 'no-secondary-tlb-flush' && keepsFrame)) device.tlb[q] = null;
      this.shadow[q] = next;
      device.table[q] = next;
    }
    range.pfns.fill(null);
  }
}
