import { describe, expect, it } from 'vitest';
import { mmuIntervalCheckRetry, mmuIntervalReadBegin, mmuIntervalReadRetry, mmuIntervalSetSeq } from './notifierApi.js';
import { type IntervalNotifierOps, NotifierCore } from './notifierCore.js';
import { type Flow, labelOf } from './scheduler.js';

/** Callbacks that only set the sequence, as every correct callback does. */
const setSeqOnly: IntervalNotifierOps = {
  // biome-ignore lint/correctness/useYield: a callback that never waits for the device
  *invalidate(sub, _range, cur): Flow<boolean> {
    mmuIntervalSetSeq(sub, cur);
    return true;
  },
};

/** Runs a flow that must not wait. */
function runNow<T>(flow: Flow<T>): T {
  for (;;) {
    const r = flow.next();
    if (r.done) return r.value;
    expect(r.value.ready()).toBe(true);
  }
}

describe('the interval notifier as a driver calls it', () => {
  it('read_begin is a step; it returns the interval sequence, and read_retry / check_retry see a later callback', () => {
    const core = new NotifierCore();
    const sub = core.insert(0, 2, setSeqOnly);
    const begin = mmuIntervalReadBegin(core, sub, { begin: 'DriverReadBegin(h=0)' });
    const p = begin.next();
    if (p.done) throw new Error('read_begin did not yield');
    expect(labelOf(p.value)).toBe('DriverReadBegin(h=0)');
    const r = begin.next();
    if (!r.done) throw new Error('read_begin slept with no invalidation open');
    const s = r.value;
    expect(s).toBe(1);
    expect(runNow(mmuIntervalReadRetry(sub, s))).toBe(false);
    const region = runNow(core.rangeStart({ start: 0, end: 1, event: 'unmap', owner: null }));
    expect(runNow(mmuIntervalCheckRetry(sub, s))).toBe(true);
    expect(runNow(mmuIntervalReadRetry(sub, s))).toBe(true);
    core.rangeEnd(region);
  });

  it('read_begin during an invalidation that has called back sleeps until the last region ends, and tells the value it read', () => {
    const core = new NotifierCore();
    const sub = core.insert(0, 2, setSeqOnly);
    const a = runNow(core.rangeStart({ start: 0, end: 1, event: 'unmap', owner: null }));
    const b = runNow(core.rangeStart({ start: 1, end: 2, event: 'unmap', owner: null }));
    const seen: number[] = [];
    const begin = mmuIntervalReadBegin(core, sub, { begin: 'B', wake: 'W' }, (s) => seen.push(s));
    expect(begin.next().done).toBe(false);
    const wake = begin.next();
    if (wake.done) throw new Error('read_begin did not sleep');
    expect(labelOf(wake.value)).toBe('W');
    expect(seen).toEqual([3]);
    expect(wake.value.ready()).toBe(false);
    core.rangeEnd(a);
    expect(wake.value.ready()).toBe(false);
    core.rangeEnd(b);
    expect(wake.value.ready()).toBe(true);
    const r = begin.next();
    expect(r).toEqual({ done: true, value: 3 });
  });

  it('an invalidation that has not called back yet does not make read_begin sleep (the value may already be stale)', () => {
    const core = new NotifierCore();
    const slow: IntervalNotifierOps = {
      *invalidate(sub, _range, cur): Flow<boolean> {
        yield { label: 'lock', ready: () => true, internal: true };
        mmuIntervalSetSeq(sub, cur);
        return true;
      },
    };
    const sub = core.insert(0, 1, slow);
    const start = core.rangeStart({ start: 0, end: 1, event: 'unmap', owner: null });
    start.next(); // the callback waits at its lock
    const s = runNow(mmuIntervalReadBegin(core, sub));
    expect(s).toBe(1);
    start.next();
    expect(runNow(mmuIntervalReadRetry(sub, s))).toBe(true);
  });
});
