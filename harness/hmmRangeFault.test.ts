import { describe, expect, it } from 'vitest';
import { isChoicePoint } from './choicePoint.js';
import { EBUSY, HMM_STEP_NAMES, type HmmEnv, type HmmRange, type HmmStepNames, hmmRangeFault, hmmRangeStale, makeDeviceExclusive } from './hmmRangeFault.js';
import type { IntervalSubscription } from './notifierCore.js';
import { ProcessMm } from './processMm.js';
import { type InvalidateFlow, MmuNotifier, type RangeInfo } from './mmuNotifier.js';
import { type Flow, labelOf, type StepPoint } from './scheduler.js';

/** The caller's names for the steps (the odp-mirror model's rule labels). */
const NAMES: HmmStepNames = {
  check: 'DriverCheckRetry()',
  snapshot: (q) => `DriverWalkSnapshot(q=${q})`,
  faultIn: (q, f) => `DriverWalkFaultIn(q=${q}, f=${f})`,
  upgrade: (q) => `DriverWalkUpgrade(q=${q})`,
};

const unmap: RangeInfo = { event: 'unmap', owner: null, blockable: true, thread: 0 };

/** Two pages, four frames, one interval over both whose callback only sets the sequence. */
function setup(): { env: HmmEnv; mm: ProcessMm; notifier: MmuNotifier; sub: IntervalSubscription; calls: RangeInfo[] } {
  const mm = new ProcessMm(2, 4);
  const notifier = new MmuNotifier({ endSkippedAfterEagain: false });
  const calls: RangeInfo[] = [];
  const cb: InvalidateFlow = function* (s, range, cur) {
    calls.push(notifier.rangeInfo(range));
    notifier.core.setSeq(s, cur);
    return true;
    // biome-ignore lint/correctness/noUnreachable: keeps this a generator
    yield undefined as unknown as StepPoint;
  };
  const sub = notifier.insert(0, 2, cb);
  return { env: { mm, notifier }, mm, notifier, sub, calls };
}

function newRange(env: HmmEnv, sub: IntervalSubscription, write: boolean): HmmRange {
  return { notifier: sub, notifierSeq: env.notifier.core.readBegin(sub), last: 0, end: 2, write, pfns: [null, null] };
}

/** Drives a flow step by step, recording labels; at a choice point with several alternatives it picks `pick` (setting the frame). */
function drive<T>(flow: Flow<T>, mm: ProcessMm, before?: (label: string, n: number) => void, pick = 0): { value: T; labels: string[] } {
  const labels: string[] = [];
  let r = flow.next();
  while (!r.done) {
    const p = r.value;
    expect(p.ready()).toBe(true);
    let label = labelOf(p);
    if (isChoicePoint(p)) {
      const alts = p.alternatives();
      const alt = alts[alts.length > 1 ? pick : 0];
      if (!alt) throw new Error(`no alternative ${pick} at ${label}`);
      label = alt.label;
      mm.allocChoice = alt.frame;
    }
    before?.(label, labels.length);
    labels.push(label);
    r = flow.next();
  }
  return { value: r.value, labels };
}

describe('process mm (CPU PTEs and frames)', () => {
  it('page p starts mapped writable to frame p; faultIn/upgrade/protect/clear act on PTEs and frames', () => {
    const mm = new ProcessMm(2, 3);
    expect(mm.ptes).toEqual([
      { pfn: 0, write: true },
      { pfn: 1, write: true },
    ]);
    expect(mm.memory.freeFrames()).toEqual([2]);
    mm.memory.data[0] = 9;
    mm.dirty[0] = true;
    mm.clear(0);
    expect(mm.pte(0)).toEqual({ pfn: null, write: false });
    expect(mm.memory.isFree(0)).toBe(true);
    expect(mm.memory.data[0]).toBe(0);
    expect(mm.dirty[0]).toBe(false);
    mm.clear(0); // clearing an empty PTE is a no-op
    expect(mm.memory.freeFrames()).toEqual([0, 2]);
    mm.faultIn(0, 2, false);
    expect(mm.pte(0)).toEqual({ pfn: 2, write: false });
    expect(mm.memory.owner[2]).toBe(0);
    expect(() => mm.faultIn(0, 0, false)).toThrow(/already mapped/);
    mm.upgrade(0);
    expect(mm.pte(0).write).toBe(true);
    expect(() => mm.upgrade(0)).toThrow(/no read-only PTE/);
    mm.protect(1);
    expect(mm.pte(1)).toEqual({ pfn: 1, write: false });
    expect(() => mm.pte(2)).toThrow(/no page 2/);
    expect(() => new ProcessMm(3, 2)).toThrow();
  });

  it('faultIn refuses a frame that is not free', () => {
    const mm = new ProcessMm(2, 2);
    mm.clear(0);
    expect(() => mm.faultIn(0, 1, true)).toThrow(/not free/);
  });

  it('takeAllocChoice consumes the scheduler-picked frame once', () => {
    const mm = new ProcessMm(1, 2);
    expect(() => mm.takeAllocChoice()).toThrow(/without a frame chosen/);
    mm.allocChoice = 1;
    expect(mm.takeAllocChoice()).toBe(1);
    expect(mm.allocChoice).toBeNull();
    expect(() => mm.takeAllocChoice()).toThrow();
  });
});

describe('hmm_range_fault', () => {
  it('walks present PTEs into the snapshot and returns 0 with last on the final page', () => {
    const { env, mm, sub } = setup();
    const range = newRange(env, sub, true);
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm);
    expect(value).toBe(0);
    expect(labels).toEqual(['DriverCheckRetry()', 'DriverWalkSnapshot(q=0)', 'DriverWalkSnapshot(q=1)']);
    expect(range.pfns).toEqual([
      { frame: 0, write: true },
      { frame: 1, write: true },
    ]);
    expect(range.last).toBe(1);
  });

  it('returns -EBUSY at the loop head when the sequence moved since read_begin', () => {
    const { env, mm, notifier, sub } = setup();
    const range = newRange(env, sub, false);
    const region = drive(notifier.rangeStart(1, 2, unmap), mm).value;
    if (!region) throw new Error('no region');
    notifier.rangeEnd(region);
    expect(hmmRangeStale(env, range)).toBe(true);
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm);
    expect(value).toBe(EBUSY);
    expect(EBUSY).toBe(-16);
    expect(labels).toEqual(['DriverCheckRetry()']);
    expect(range.pfns).toEqual([null, null]);
  });

  it('an empty PTE is faulted in (one alternative per free frame), then the walk restarts at its loop head', () => {
    const { env, mm, sub } = setup();
    mm.clear(0);
    const range = newRange(env, sub, false);
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm, undefined, 1);
    expect(value).toBe(0);
    // Free frames are [0, 2, 3]; alternative 1 is frame 2. A read fault maps it read-only.
    expect(labels).toEqual(['DriverCheckRetry()', 'DriverWalkFaultIn(q=0, f=2)', 'DriverCheckRetry()', 'DriverWalkSnapshot(q=0)', 'DriverWalkSnapshot(q=1)']);
    expect(mm.pte(0)).toEqual({ pfn: 2, write: false });
    expect(range.pfns[0]).toEqual({ frame: 2, write: false });
  });

  it('the walk point offers every free frame for a fault-in', () => {
    const { env, mm, sub } = setup();
    mm.clear(1);
    const range = newRange(env, sub, true);
    range.last = 1;
    const flow = hmmRangeFault(env, range, NAMES);
    flow.next(); // DriverCheckRetry
    const p = flow.next().value as StepPoint;
    expect(isChoicePoint(p)).toBe(true);
    if (!isChoicePoint(p)) return;
    expect(p.alternatives()).toEqual([
      { label: 'DriverWalkFaultIn(q=1, f=1)', frame: 1 },
      { label: 'DriverWalkFaultIn(q=1, f=2)', frame: 2 },
      { label: 'DriverWalkFaultIn(q=1, f=3)', frame: 3 },
    ]);
    expect(labelOf(p)).toBe('DriverWalkFaultIn(q=1, f=1)');
    expect(p.ready()).toBe(true);
    mm.memory.alloc(1, 5);
    mm.memory.alloc(2, 5);
    mm.memory.alloc(3, 5);
    // No free frame: the step is not ready.
    expect(p.ready()).toBe(false);
    expect(labelOf(p)).toBe('hmm_range_fault(no free frame)');
  });

  it('a write walk upgrades a read-only PTE in place (no notifier) and restarts', () => {
    const { env, mm, notifier, sub } = setup();
    mm.protect(1);
    const range = newRange(env, sub, true);
    const seq = notifier.core.seq;
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm);
    expect(value).toBe(0);
    expect(labels).toEqual(['DriverCheckRetry()', 'DriverWalkSnapshot(q=0)', 'DriverWalkUpgrade(q=1)', 'DriverCheckRetry()', 'DriverWalkSnapshot(q=1)']);
    expect(mm.pte(1).write).toBe(true);
    expect(notifier.core.seq).toBe(seq);
    expect(range.pfns[1]).toEqual({ frame: 1, write: true });
  });

  it('a read walk copies a read-only PTE as read-only', () => {
    const { env, mm, sub } = setup();
    mm.protect(0);
    const range = newRange(env, sub, false);
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm);
    expect(value).toBe(0);
    expect(labels).toEqual(['DriverCheckRetry()', 'DriverWalkSnapshot(q=0)', 'DriverWalkSnapshot(q=1)']);
    expect(range.pfns[0]).toEqual({ frame: 0, write: false });
  });

  it('an invalidation during the walk is caught at the next loop head (after a fault-in restart) with -EBUSY', () => {
    const { env, mm, notifier, sub } = setup();
    mm.clear(1);
    const range = newRange(env, sub, false);
    const { value, labels } = drive(hmmRangeFault(env, range, NAMES), mm, (label) => {
      if (label === 'DriverWalkSnapshot(q=0)') {
        const r = drive(notifier.rangeStart(0, 1, unmap), mm).value;
        if (r) notifier.rangeEnd(r);
      }
    });
    expect(value).toBe(EBUSY);
    expect(labels).toEqual(['DriverCheckRetry()', 'DriverWalkSnapshot(q=0)', 'DriverWalkFaultIn(q=1, f=1)', 'DriverCheckRetry()']);
  });

  it('without a restart the walk returns 0 even if the sequence moved mid-walk: the driver must read_retry', () => {
    const { env, mm, notifier, sub } = setup();
    const range = newRange(env, sub, false);
    const s = range.notifierSeq as number;
    const { value } = drive(hmmRangeFault(env, range, NAMES), mm, (label) => {
      if (label === 'DriverWalkSnapshot(q=1)') {
        const r = drive(notifier.rangeStart(0, 1, unmap), mm).value;
        if (r) notifier.rangeEnd(r);
      }
    });
    expect(value).toBe(0);
    expect(notifier.core.readRetry(sub, s)).toBe(true);
  });

  it('the pre-interval API (notifierSeq null) tests range->valid: stale while any region is open, even one outside the interval', () => {
    const { env, mm, notifier, sub } = setup();
    const range: HmmRange = { notifier: sub, notifierSeq: null, last: 0, end: 2, write: false, pfns: [null, null] };
    expect(hmmRangeStale(env, range)).toBe(false);
    const region = drive(notifier.rangeStart(5, 6, unmap), mm).value;
    if (!region) throw new Error('no region');
    expect(hmmRangeStale(env, range)).toBe(true);
    expect(drive(hmmRangeFault(env, range, NAMES), mm).value).toBe(EBUSY);
    notifier.rangeEnd(region);
    expect(hmmRangeStale(env, range)).toBe(false);
    expect(drive(hmmRangeFault(env, range, NAMES), mm).value).toBe(0);
  });
});

describe('make_device_exclusive', () => {
  it('raises an exclusive invalidation owned by the caller, runs the callbacks, then ends it', () => {
    const { env, mm, notifier, sub, calls } = setup();
    const me = { name: 'dmirror' };
    const s = notifier.core.readBegin(sub);
    const flow = makeDeviceExclusive(env, 1, me, { start: 'DriverExclusiveStart()', end: 'DriverExclusiveEnd()' });
    const { labels } = drive(flow, mm, (label) => {
      if (label === 'DriverExclusiveEnd()') {
        // Between start and end: the region is open over the page and the sequence is odd.
        expect(notifier.core.invalidating(1)).toBe(true);
        expect(notifier.core.seq % 2).toBe(1);
      }
    });
    expect(labels).toEqual(['DriverExclusiveStart()', 'DriverExclusiveEnd()']);
    expect(calls).toEqual([{ event: 'exclusive', owner: me, blockable: true, thread: null }]);
    expect(notifier.core.active).toBe(0);
    expect(notifier.core.seq % 2).toBe(0);
    expect(notifier.core.readRetry(sub, s)).toBe(true);
    // The page keeps its frame (the device-exclusive PTE conversion is not simulated).
    expect(mm.pte(1)).toEqual({ pfn: 1, write: true });
  });
});

describe('hmm_range_fault step names', () => {
  it('without names from the caller, the steps carry the kernel call names', () => {
    const { env, mm, sub } = setup();
    const range = newRange(env, sub, false);
    const { value, labels } = drive(hmmRangeFault(env, range), mm);
    expect(value).toBe(0);
    expect(labels).toEqual([HMM_STEP_NAMES.check, HMM_STEP_NAMES.snapshot(0), HMM_STEP_NAMES.snapshot(1)]);
    expect(labels).toEqual(['hmm_range_fault:check_retry()', 'hmm_range_fault:walk(q=0)', 'hmm_range_fault:walk(q=1)']);
  });
});
