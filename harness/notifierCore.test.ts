import { describe, expect, it } from 'vitest';
import { type IntervalNotifierOps, NotifierCore } from './notifierCore.js';
import type { Flow } from './scheduler.js';

/** Callbacks that only set the sequence (what every correct callback does first). */
const setSeqOnly = (core: NotifierCore): IntervalNotifierOps => ({
  // biome-ignore lint/correctness/useYield: a callback that never waits for the device
  *invalidate(sub, _range, cur): Flow<boolean> {
    core.setSeq(sub, cur);
    return true;
  },
});

/** Runs a flow that must not wait. */
function runNow<T>(flow: Flow<T>): T {
  const r = flow.next();
  if (!r.done) throw new Error('the flow waited');
  return r.value;
}

describe('mmu_interval_notifier core', () => {
  it('read_begin / read_retry detect an invalidation of the interval, and only of it', () => {
    const core = new NotifierCore();
    const a = core.insert(0, 1, setSeqOnly(core));
    const b = core.insert(1, 2, setSeqOnly(core));
    expect(core.seq).toBe(2);
    expect(a.invalidateSeq).toBe(1);
    const s = core.readBegin(a);
    const region = runNow(core.rangeStart({ start: 1, end: 2, event: 'unmap', owner: null }));
    expect(core.seq % 2).toBe(1);
    expect(core.readRetry(a, s)).toBe(false);
    expect(core.readBeginWouldSleep(b)).toBe(true);
    expect(core.readBeginWouldSleep(a)).toBe(false);
    core.rangeEnd(region);
    expect(core.seq % 2).toBe(0);
    expect(core.readBeginWouldSleep(b)).toBe(false);
    const s2 = core.readBegin(a);
    runNow(core.rangeStart({ start: 0, end: 2, event: 'unmap', owner: null }));
    expect(core.readRetry(a, s2)).toBe(true);
    expect(core.invalidationsAt(a, a.invalidateSeq)).toBe(1);
    expect(core.invalidationsAt(b, b.invalidateSeq)).toBe(2);
  });

  it('the sequence returns to even only when every open region has ended', () => {
    const core = new NotifierCore();
    const a = core.insert(0, 2, setSeqOnly(core));
    const r1 = runNow(core.rangeStart({ start: 0, end: 1, event: 'migrate', owner: null }));
    const r2 = runNow(core.rangeStart({ start: 1, end: 2, event: 'migrate', owner: null }));
    const odd = core.seq;
    core.rangeEnd(r1);
    expect(core.seq).toBe(odd);
    expect(core.readBeginWouldSleep(a)).toBe(true);
    expect(core.invalidating(0)).toBe(false);
    expect(core.invalidating(1)).toBe(true);
    core.rangeEnd(r2);
    expect(core.seq).toBe(odd + 1);
    expect(() => core.rangeEnd(r2)).toThrow();
  });

  it('an interval inserted during an invalidation makes its readers retry', () => {
    const core = new NotifierCore();
    core.insert(0, 1, setSeqOnly(core));
    const r = runNow(core.rangeStart({ start: 0, end: 1, event: 'unmap', owner: null }));
    const late = core.insert(5, 6, setSeqOnly(core));
    expect(core.readBeginWouldSleep(late)).toBe(true);
    core.rangeEnd(r);
    expect(core.readBeginWouldSleep(late)).toBe(false);
  });
});
