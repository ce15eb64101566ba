/**
 * The read side of the interval notifier as a driver calls it (include/linux/mmu_notifier.h,
 * mm/mmu_notifier.c): `mmu_interval_read_begin`, `mmu_interval_read_retry`,
 * `mmu_interval_check_retry` and `mmu_interval_set_seq`, and the pre-interval-notifier
 * `range->valid` test that the old hmm_mirror API offered. Why this module exists: a reference
 * driver must use exactly what a real driver can use. It never reads the notifier's sequence numbers
 * or asks whether `read_begin` would sleep; it calls `read_begin`, which sleeps (a step that is not
 * ready) until the invalidation it met has ended, and it learns of a collision only from
 * `read_retry` or `check_retry`. Each call that reads or waits on the notifier is a scheduling point.
 */
import type { MmuNotifier } from './mmuNotifier.js';
import type { IntervalSubscription, NotifierCore } from './notifierCore.js';
import { type Flow, type StepPoint, stepLabel } from './scheduler.js';

/** Labels (hints for the conformance check) of the steps of a notifier call. */
export interface ReadBeginLabels {
  /** The call itself; default `mmu_interval_read_begin()`. */
  readonly begin?: string;
  /** The wake-up after sleeping; default `mmu_interval_read_begin:wake()`. */
  readonly wake?: string;
}

const point = (label: string | undefined, fallback: string, ready: () => boolean = () => true): StepPoint => ({
  label: label ?? stepLabel(fallback),
  ready,
  internal: label === undefined,
});

/**
 * mmu_interval_read_begin: reads the interval's sequence; if an invalidation that has reached the
 * interval is still open (its value equals the mm's odd sequence), sleeps until the last open
 * region has ended, then returns the value read (which may already be stale, as in the kernel).
 * `seen` is told the value when it is read, before any sleep (the sleeping thread holds it).
 */
export function* mmuIntervalReadBegin(core: NotifierCore, sub: IntervalSubscription, labels: ReadBeginLabels = {}, seen?: (s: number) => void): Flow<number> {
  yield point(labels.begin, 'mmu_interval_read_begin');
  const s = sub.invalidateSeq;
  const sleeps = s === core.seq;
  seen?.(s);
  if (sleeps) yield point(labels.wake, 'mmu_interval_read_begin:wake', () => core.seq !== s);
  return s;
}

/** mmu_interval_read_retry: called under the driver lock; true when an invalidation hit the interval since `read_begin` returned `s`. */
export function* mmuIntervalReadRetry(sub: IntervalSubscription, s: number, label?: string): Flow<boolean> {
  yield point(label, 'mmu_interval_read_retry');
  return sub.invalidateSeq !== s;
}

/** mmu_interval_check_retry: the same test without the lock (a true result is reliable, a false one a hint). */
export function* mmuIntervalCheckRetry(sub: IntervalSubscription, s: number, label?: string): Flow<boolean> {
  yield point(label, 'mmu_interval_check_retry');
  return sub.invalidateSeq !== s;
}

/**
 * mmu_interval_set_seq: called by the invalidate callback, under the driver lock, with the sequence
 * the callback was given. A plain store (WRITE_ONCE), not a scheduling point: it is made inside the
 * step that holds the lock.
 */
export function mmuIntervalSetSeq(sub: IntervalSubscription, curSeq: number): void {
  sub.invalidateSeq = curSeq;
  sub.seqHistory.push(curSeq);
}

/**
 * The old hmm_mirror API (before the interval notifier, B1): `hmm_range_wait_until_valid` sleeps
 * while any invalidation of the mm is open (`range->valid` false).
 */
export function* hmmRangeWaitUntilValid(notifier: MmuNotifier, labels: ReadBeginLabels = {}): Flow<void> {
  yield point(labels.begin, 'hmm_range_wait_until_valid');
  if (!notifier.rangeValid()) yield point(labels.wake, 'hmm_range_wait_until_valid:wake', () => notifier.rangeValid());
}

/** The old `hmm_range_valid(range)` under the driver lock: no invalidation is open. */
export function* hmmRangeValid(notifier: MmuNotifier, label?: string): Flow<boolean> {
  yield point(label, 'hmm_range_valid');
  return notifier.rangeValid();
}
