/**
 * hmm_range_fault (mm/hmm.c) and make_device_exclusive (mm/rmap.c) as the simulated kernel runs
 * them for the odp-mirror reference driver. Why this module exists: the driver's collision-retry
 * loop is written against these two kernel calls, and the hazards of spec F2 are in how they work:
 * the walk reads one PTE per step while PTEs change under it, faults in or upgrades a page and then
 * restarts at its loop head (`mmu_interval_check_retry`, the internal -EBUSY), and
 * make_device_exclusive raises an invalidation owned by its caller.
 *
 * The steps run in the caller's thread; the caller names them (`HmmStepNames`), so that a reference
 * driver's steps carry the labels of its model's rules as hints for the conformance check.
 */
import type { Alternative, ChoicePoint } from './choicePoint.js';
import type { DevEntry } from './mirrorDevice.js';
import type { IntervalSubscription } from './notifierCore.js';
import type { ProcessMm } from './processMm.js';
import type { MmuNotifier } from './mmuNotifier.js';
import { type Flow, type StepPoint, stepLabel } from './scheduler.js';

/** The error `hmm_range_fault` returns when an invalidation moved the interval's sequence during the walk. */
export const EBUSY = -16;

/** struct hmm_range: what to walk and where the result goes. */
export interface HmmRange {
  readonly notifier: IntervalSubscription;
  /** The sequence from mmu_interval_read_begin; null with the pre-interval API, where `range->valid` is tested (B1). */
  notifierSeq: number | null;
  /** Pages [last, end) are still to walk; `last` is where the walk is (hmm_vma_walk->last). */
  last: number;
  end: number;
  /** HMM_PFN_REQ_WRITE: the fault needs write permission. */
  readonly write: boolean;
  /** hmm_pfns, indexed by page: the snapshot. */
  readonly pfns: (DevEntry | null)[];
}

/** What hmm_range_fault needs from the simulated mm. */
export interface HmmEnv {
  readonly mm: ProcessMm;
  readonly notifier: MmuNotifier;
}

/** What the caller calls each step of hmm_range_fault and make_device_exclusive (labels are hints only). */
export interface HmmStepNames {
  /** The loop head's mmu_interval_check_retry. */
  readonly check: string;
  /** Copying page `q`'s PTE into the snapshot. */
  readonly snapshot: (q: number) => string;
  /** handle_mm_fault on page `q`'s empty PTE with frame `f`. */
  readonly faultIn: (q: number, f: number) => string;
  /** handle_mm_fault(FAULT_FLAG_WRITE) on page `q`'s read-only PTE. */
  readonly upgrade: (q: number) => string;
}

/** The kernel's own names, for callers that give none. */
export const HMM_STEP_NAMES: HmmStepNames = {
  check: stepLabel('hmm_range_fault:check_retry'),
  snapshot: (q) => stepLabel('hmm_range_fault:walk', { q }),
  faultIn: (q, f) => stepLabel('hmm_range_fault:fault_in', { q, f }),
  upgrade: (q) => stepLabel('hmm_range_fault:upgrade', { q }),
};

/** What the caller calls the steps of make_device_exclusive. */
export interface ExclusiveStepNames {
  /** Opening the MMU_NOTIFY_EXCLUSIVE region (the callbacks run from there). */
  readonly start: string;
  /** Closing it. */
  readonly end: string;
}

const plain = (label: string): StepPoint => ({ label, ready: () => true, internal: false });

/** Whether the range's snapshot is stale: check_retry, or the old `!range->valid`. */
export function hmmRangeStale(env: HmmEnv, range: HmmRange): boolean {
  return range.notifierSeq === null ? !env.notifier.rangeValid() : env.notifier.core.checkRetry(range.notifier, range.notifierSeq);
}

/** The walk's next step at page `q`: copy the PTE, fault it in (one alternative per free frame), or upgrade it. */
function walkPoint(env: HmmEnv, range: HmmRange, names: HmmStepNames): ChoicePoint {
  const alternatives = (): Alternative[] => {
    const q = range.last;
    const pte = env.mm.pte(q);
    if (pte.pfn !== null && (!range.write || pte.write)) return [{ label: names.snapshot(q), frame: null }];
    if (pte.pfn !== null) return [{ label: names.upgrade(q), frame: null }];
    return env.mm.memory.freeFrames().map((f) => ({ label: names.faultIn(q, f), frame: f }));
  };
  return { label: () => alternatives()[0]?.label ?? 'hmm_range_fault(no free frame)', ready: () => alternatives().length > 0, internal: false, alternatives };
}

/**
 * hmm_range_fault: returns 0 with `range.pfns` filled for pages up to `range.end`, or -EBUSY when
 * the loop-head check finds the snapshot stale. `last` stays on the final page when it returns 0.
 */
export function* hmmRangeFault(env: HmmEnv, range: HmmRange, names: HmmStepNames = HMM_STEP_NAMES): Flow<number> {
  for (;;) {
    // Loop head: mmu_interval_check_retry.
    yield plain(names.check);
    if (hmmRangeStale(env, range)) return EBUSY;
    let restart = false;
    while (!restart) {
      yield walkPoint(env, range, names);
      const q = range.last;
      const pte = env.mm.pte(q);
      if (pte.pfn !== null && (!range.write || pte.write)) {
        range.pfns[q] = { frame: pte.pfn, write: pte.write };
        if (q + 1 >= range.end) return 0;
        range.last = q + 1;
      } else if (pte.pfn === null) {
        // handle_mm_fault: a free frame, read-only for a read fault; then -EBUSY inside the walk.
        env.mm.faultIn(q, env.mm.takeAllocChoice(), range.write);
        restart = true;
      } else {
        // handle_mm_fault(FAULT_FLAG_WRITE): upgraded in place, no notifier; restart at this page.
        env.mm.upgrade(q);
        restart = true;
      }
    }
  }
}

/**
 * make_device_exclusive on `page`, owner `owner`: raises an MMU_NOTIFY_EXCLUSIVE invalidation whose
 * callbacks (the caller's own included) run, then ends it. The conversion of the PTE to a
 * device-exclusive entry is not simulated: the page keeps its frame (as in the model, spec 4.4).
 */
export function* makeDeviceExclusive(env: HmmEnv, page: number, owner: unknown, names: ExclusiveStepNames): Flow<void> {
  yield plain(names.start);
  const region = yield* env.notifier.rangeStart(page, page + 1, { event: 'exclusive', owner, blockable: true, thread: null });
  yield plain(names.end);
  if (region) env.notifier.rangeEnd(region);
}
