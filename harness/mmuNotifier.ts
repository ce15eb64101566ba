/**
 * The mm's notifier as mm/mmu_notifier.c runs it for interval notifiers with range flags. Why this
 * module exists: a mirror driver of the collision-retry kind (the odp-mirror reference driver is one)
 * needs three things of mm/mmu_notifier.c that the shared core (harness/notifierCore.ts, reused here for all the
 * sequence arithmetic: seq, active, set_seq, read_retry, check_retry, read_begin's sleep test) does
 * not carry: the range flags a callback reads (blockable, the event including
 * `MMU_NOTIFY_EXCLUSIVE`, its owner), non-blocking starts whose failed callback makes the core close
 * the region itself (`mn_itree_invalidate` runs `mn_itree_inv_end` on failure, spec I6), and the
 * pre-interval-notifier `range->valid` flag that the `valid-flag` knob reads (B1).
 *
 * The `end-skipped-after-eagain` knob lives here because B3 was a core bug: a failed non-blocking
 * start is then never closed.
 */
import { type IntervalSubscription, NotifierCore, type NotifierRange, type OpenRegion } from './notifierCore.js';
import type { Flow } from './scheduler.js';

/** Events a range carries (enum mmu_notifier_event): unmap/clear, write-protect, device-exclusive. */
export type RangeEvent = 'unmap' | 'protection' | 'exclusive' | 'release';

/** What a callback may read about a range besides its pages (mmu_notifier_range's event, owner, flags). */
export interface RangeInfo {
  readonly event: RangeEvent;
  /** The driver that raised an exclusive event (make_device_exclusive's owner), else null. */
  readonly owner: unknown;
  /** False for mmu_notifier_invalidate_range_start_nonblock (the OOM reaper). */
  readonly blockable: boolean;
  /** The invalidating thread that raised it (harness bookkeeping, used only to name steps), or null. */
  readonly thread: number | null;
}

/** The driver's callback: a flow that returns false for -EAGAIN (non-blockable ranges only). */
export type InvalidateFlow = (sub: IntervalSubscription, range: NotifierRange, curSeq: number) => Flow<boolean>;

/** The per-mm notifier state with range flags, built on the shared core. */
export class MmuNotifier {
  readonly core = new NotifierCore();
  private readonly info = new WeakMap<NotifierRange, RangeInfo>();
  /** B3 knob: a failed non-blocking start is not closed by the core. */
  readonly endSkippedAfterEagain: boolean;

  constructor(opts: { endSkippedAfterEagain: boolean }) {
    this.endSkippedAfterEagain = opts.endSkippedAfterEagain;
  }

  /** mmu_interval_notifier_insert over pages [start, end). */
  insert(start: number, end: number, invalidate: InvalidateFlow): IntervalSubscription {
    return this.core.insert(start, end, { invalidate });
  }

  /** The event, owner and blockable flag of a range passed to a callback. */
  rangeInfo(range: NotifierRange): RangeInfo {
    const i = this.info.get(range);
    if (!i) throw new Error(`range [${range.start}, ${range.end}) was not started through MmuNotifier`);
    return i;
  }

  /**
   * mmu_notifier_invalidate_range_start (or _nonblock when `info.blockable` is false) over pages
   * [start, end): opens the region and runs the callbacks of the intervals it hits. Returns the
   * region to close with `rangeEnd`, or null for -EAGAIN: a callback failed and the core has
   * already closed the region (unless the B3 knob is set); the caller must leave the PTEs alone.
   */
  *rangeStart(start: number, end: number, info: RangeInfo): Flow<OpenRegion | null> {
    // The shared core's event type predates MMU_NOTIFY_EXCLUSIVE; it only logs the event, and the
    // driver reads the real one through rangeInfo.
    const range: NotifierRange = { start, end, event: info.event === 'exclusive' ? 'protection' : info.event, owner: info.owner };
    this.info.set(range, info);
    const { region, ok } = yield* this.core.rangeStartChecked(range);
    if (ok) return region;
    if (!this.endSkippedAfterEagain) this.core.rangeEnd(region);
    return null;
  }

  /** The open region raised by invalidating thread `thread` (for a view of the system: which interval's callback runs now). */
  regionOfThread(thread: number): OpenRegion | null {
    return this.core.openRegions.find((r) => this.info.get(r.range)?.thread === thread) ?? null;
  }

  /** mmu_notifier_invalidate_range_end. */
  rangeEnd(region: OpenRegion): void {
    this.core.rangeEnd(region);
  }

  /**
   * The old hmm `range->valid` (B1): cleared by every start, set again when the last open region
   * ends (hmm->notifiers == 0). Only the `valid-flag` knob reads it.
   */
  rangeValid(): boolean {
    return this.core.active === 0;
  }
}
