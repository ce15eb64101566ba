/**
 * The mmu_interval_notifier core of the simulated mm (mm/mmu_notifier.c: mn_itree_inv_start_range, mn_itree_inv_end, mmu_interval_read_begin, mmu_interval_notifier_insert/remove).
 * Why this module exists: the reference driver's collision-retry loop is only as good as the sequence
 * scheme it runs against, so the harness implements that scheme as the kernel does: one
 * `invalidate_seq` per mm, odd while an invalidation that hits some interval is open, returned to even
 * only when every open region has ended; one `invalidate_seq` per interval, set by the driver's
 * callback with `set_seq`; `read_begin` sleeps while an invalidation of its interval is in progress.
 *
 * Pages are numbered; a range is the half-open page interval [start, end).
 */
import type { Flow } from './scheduler.js';

/** Why an invalidation happens (enum mmu_notifier_event). */
export type NotifyEvent = 'migrate' | 'unmap' | 'protection' | 'exclusive' | 'release';

/** The range passed to invalidate callbacks (struct mmu_notifier_range). */
export interface NotifierRange {
  readonly start: number;
  readonly end: number;
  readonly event: NotifyEvent;
  /** For MIGRATE: the driver that started the migration (pgmap_owner), else null. */
  readonly owner: unknown;
}

/** The driver's callbacks (struct mmu_interval_notifier_ops). */
export interface IntervalNotifierOps {
  /**
   * Called when the range is being invalidated. The callback must call `setSeq(sub, curSeq)` under the
   * same lock its fault path holds around `readRetry`, and when it returns the device must no longer
   * use translations in the range. It is a flow: it may wait (yield) for the device.
   */
  invalidate(sub: IntervalSubscription, range: NotifierRange, curSeq: number): Flow<boolean>;
}

/** One interval notifier (struct mmu_interval_notifier). */
export class IntervalSubscription {
  readonly start: number;
  readonly end: number;
  readonly ops: IntervalNotifierOps;
  /** The interval's sequence, written by `setSeq` from the callback. */
  invalidateSeq = 0;
  /** Every value `setSeq` stored, in order (the model counts invalidations; see `invalidationsAt`). */
  readonly seqHistory: number[] = [];
  removed = false;
  constructor(start: number, end: number, ops: IntervalNotifierOps) {
    this.start = start;
    this.end = end;
    this.ops = ops;
  }
  overlaps(r: { start: number; end: number }): boolean {
    return this.start < r.end && r.start < this.end;
  }
}

/** An open invalidation region (between invalidate_range_start and _end). */
export interface OpenRegion {
  readonly id: number;
  readonly range: NotifierRange;
  /** The interval whose callback is running now (mn_itree_invalidate's cursor), or null. */
  calling: IntervalSubscription | null;
}

/** The per-mm notifier state (struct mmu_notifier_subscriptions) and its operations. */
export class NotifierCore {
  /** Even when no interval invalidation is in progress, odd while one is. Starts at 2, as in the kernel. */
  seq = 2;
  /** Start/end regions open now. */
  active = 0;
  private readonly intervals: IntervalSubscription[] = [];
  private readonly regions: OpenRegion[] = [];
  private nextRegion = 1;
  /** Callback invocations, for tests (interval start, event). */
  readonly callbackLog: { readonly start: number; readonly event: NotifyEvent }[] = [];

  /** mmu_interval_notifier_insert: the new interval's seq makes a reader retry if an invalidation is open. */
  insert(start: number, end: number, ops: IntervalNotifierOps): IntervalSubscription {
    const sub = new IntervalSubscription(start, end, ops);
    if (this.active === 0) {
      sub.invalidateSeq = this.seq - 1;
    } else {
      // Partially or fully excluded: assume the unknown in-flight range includes the new interval.
      this.seq |= 1;
      sub.invalidateSeq = this.seq;
    }
    this.intervals.push(sub);
    return sub;
  }

  /** mmu_interval_notifier_remove; the harness never removes while a callback of it is running. */
  remove(sub: IntervalSubscription): void {
    const i = this.intervals.indexOf(sub);
    if (i >= 0) this.intervals.splice(i, 1);
    sub.removed = true;
  }

  /**
   * mmu_notifier_invalidate_range_start: marks the region open (seq odd if it hits an interval), then
   * runs the callback of every interval it hits, in address order, stopping at the first that
   * returns false (mn_itree_invalidate). Returns the region, to be passed to `rangeEnd`, and whether
   * every callback returned true.
   */
  *rangeStart(range: NotifierRange): Flow<OpenRegion> {
    return (yield* this.rangeStartChecked(range)).region;
  }

  /** `rangeStart`, also saying whether every callback returned true (false: one returned false, and the rest were not called). */
  *rangeStartChecked(range: NotifierRange): Flow<{ readonly region: OpenRegion; readonly ok: boolean }> {
    this.active++;
    const hit = this.intervals.filter((s) => s.overlaps(range)).sort((a, b) => a.start - b.start);
    if (hit.length > 0) this.seq |= 1;
    const cur = this.seq;
    const region: OpenRegion = { id: this.nextRegion++, range, calling: null };
    this.regions.push(region);
    for (const sub of hit) {
      this.callbackLog.push({ start: sub.start, event: range.event });
      region.calling = sub;
      const ok = yield* sub.ops.invalidate(sub, range, cur);
      region.calling = null;
      if (!ok) return { region, ok: false };
    }
    return { region, ok: true };
  }

  /** mmu_notifier_invalidate_range_end: closes the region; the last one to close makes seq even. */
  rangeEnd(region: OpenRegion): void {
    const i = this.regions.indexOf(region);
    if (i < 0) throw new Error(`invalidation region ${region.id} is not open`);
    this.regions.splice(i, 1);
    this.active--;
    if (this.active === 0 && this.seq & 1) this.seq++;
  }

  /** The regions open now. */
  get openRegions(): readonly OpenRegion[] {
    return this.regions;
  }

  /** Whether an open region covers `page` (what the model calls an open invalidation). */
  invalidating(page: number): boolean {
    return this.regions.some((r) => r.range.start <= page && page < r.range.end);
  }

  /** True while `read_begin` on `sub` would sleep: an invalidation that reached it has not ended. */
  readBeginWouldSleep(sub: IntervalSubscription): boolean {
    return sub.invalidateSeq === this.seq;
  }

  /** mmu_interval_read_begin; the caller has waited (as a step readiness) until it would not sleep. */
  readBegin(sub: IntervalSubscription): number {
    if (this.readBeginWouldSleep(sub)) throw new Error('read_begin called while it would sleep (the flow did not wait)');
    return sub.invalidateSeq;
  }

  /** mmu_interval_read_retry: true when an invalidation hit the interval since `read_begin` returned `s`. */
  readRetry(sub: IntervalSubscription, s: number): boolean {
    return sub.invalidateSeq !== s;
  }

  /** mmu_interval_check_retry: the same test without the driver lock (a true result is reliable). */
  checkRetry(sub: IntervalSubscription, s: number): boolean {
    return sub.invalidateSeq !== s;
  }

  /** mmu_interval_set_seq: called by the invalidate callback, unconditionally, with the value it got. */
  setSeq(sub: IntervalSubscription, curSeq: number): void {
    sub.invalidateSeq = curSeq;
    sub.seqHistory.push(curSeq);
  }

  /** How many invalidations had reached `sub` when its sequence was `s` (0 for the value it was inserted with). */
  invalidationsAt(sub: IntervalSubscription, s: number): number {
    return sub.seqHistory.lastIndexOf(s) + 1;
  }
}
